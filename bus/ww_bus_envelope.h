/*
 * ww_bus_envelope.h - events on Kafka records per the CloudEvents Kafka
 * protocol binding, binary content mode:
 *
 *   key     the entity key (chosen by the publisher's caller)
 *   value   the protobuf payload, nothing around it
 *   headers ce_specversion   "1.0"
 *           ce_id            unique per event (ww_bus_uuid4 unless given)
 *           ce_type          the payload's full protobuf name
 *           ce_source        who decided it, e.g. "/wildworkouts/trainer"
 *           ce_time          RFC 3339 UTC with milliseconds (ww_rfc3339)
 *           content-type     "application/protobuf"
 *           ce_correlationid optional: the request this event belongs to
 *           ce_causationid   optional: the id of the event or command that
 *                            caused this one
 *           ce_traceparent   optional: W3C trace context of the work that
 *           ce_tracestate    wrote the event (CloudEvents distributed
 *                            tracing extension); see ww_trace.h
 *
 * A foreign consumer decodes a record with nothing but the schemas: read
 * ce_type, pick that message from schemas/, parse the value.
 *
 * Thread safety: all functions are reentrant; none keeps state.
 */
#ifndef WW_BUS_ENVELOPE_H
#define WW_BUS_ENVELOPE_H

#include "ww_bus_registry.h"
#include "ww_err.h"
#include "ww_trace.h"

#include <librdkafka/rdkafka.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define WW_BUS_SPECVERSION "1.0"
#define WW_BUS_CONTENT_TYPE "application/protobuf"

#define WW_BUS_H_SPECVERSION "ce_specversion"
#define WW_BUS_H_ID "ce_id"
#define WW_BUS_H_TYPE "ce_type"
#define WW_BUS_H_SOURCE "ce_source"
#define WW_BUS_H_TIME "ce_time"
#define WW_BUS_H_CONTENT_TYPE "content-type"
#define WW_BUS_H_CORRELATION_ID "ce_correlationid"
#define WW_BUS_H_CAUSATION_ID "ce_causationid"
#define WW_BUS_H_TRACEPARENT    "ce_traceparent"
#define WW_BUS_H_TRACESTATE     "ce_tracestate"

/* Longest accepted attribute values (bytes, without the terminating NUL);
 * longer ones are rejected on encode and decode. */
#define WW_BUS_ID_MAX 127
#define WW_BUS_TYPE_MAX 255
#define WW_BUS_SOURCE_MAX 255
#define WW_BUS_TIME_MAX 39

/* What the caller says about an event on encode. All strings are borrowed
 * for the duration of the call. */
typedef struct ww_bus_envelope_meta {
    const char *source;         /* required */
    const char *id;             /* NULL: a fresh UUIDv4 */
    const char *correlation_id; /* NULL: header left out */
    const char *causation_id;   /* NULL: header left out */
    int64_t time_ms;            /* Unix ms, years 0000..9999; 0: now */
    /* NULL: the calling thread's current context (ww_trace_current), so
     * that whatever a traced unit of work writes carries it; a context
     * that is not valid: no trace headers. */
    const ww_trace_t *trace;
} ww_bus_envelope_meta_t;

/* A decoded event: the attributes and the unpacked payload. */
typedef struct ww_bus_event {
    char id[WW_BUS_ID_MAX + 1];
    char type[WW_BUS_TYPE_MAX + 1];
    char source[WW_BUS_SOURCE_MAX + 1];
    char time[WW_BUS_TIME_MAX + 1];
    char correlation_id[WW_BUS_ID_MAX + 1]; /* "" when absent */
    char causation_id[WW_BUS_ID_MAX + 1];   /* "" when absent */
    int64_t time_ms;                        /* ce_time parsed */
    /* The trace headers as received, "" when absent or unusable (too
     * long, a NUL): they never make a record undecodable; ww_trace_parse
     * judges them. */
    char traceparent[WW_TRACE_PARENT_LEN + 8];
    char tracestate[WW_TRACE_STATE_MAX + 1];
    /* Owned by the event; freed by ww_bus_event_clear. Cast to the type
     * `descriptor` names (compare with &<type>__descriptor). */
    ProtobufCMessage *payload;
    const ProtobufCMessageDescriptor *descriptor;
} ww_bus_event_t;

/* Encodes `msg` (not modified, not taken) with `meta` into new headers and
 * a packed value. On success *headers (caller owns: rd_kafka_producev's
 * RD_KAFKA_V_HEADERS takes them over on success, else
 * rd_kafka_headers_destroy) and *value (malloc'ed, *len bytes; NULL when
 * the payload packs to 0 bytes; caller frees) are set, and id_out (if not
 * NULL, WW_BUS_ID_MAX + 1 bytes) receives ce_id. On failure nothing is
 * allocated: INVALID_ARGUMENT for a missing source, an attribute too long,
 * a time outside years 0000..9999, or a message that is not a protobuf-c
 * message; INTERNAL when the random source fails. */
ww_code_t ww_bus_envelope_encode(const ProtobufCMessage *msg,
                                 const ww_bus_envelope_meta_t *meta,
                                 rd_kafka_headers_t **headers, void **value,
                                 size_t *len, char *id_out, ww_err_t *err);

/* The same, for callers that keep per-record bookkeeping next to the value
 * (one allocation per record instead of two): *block (malloc'ed, caller
 * frees; never NULL on success) holds `reserve` bytes the caller may use
 * (uninitialised), then the *len packed bytes at (char *)*block + reserve.
 * `reserve` should be a multiple of alignof(max_align_t) when the caller
 * stores a struct there. Failures as for ww_bus_envelope_encode. */
ww_code_t ww_bus_envelope_encode_reserved(const ProtobufCMessage *msg,
                                          const ww_bus_envelope_meta_t *meta,
                                          size_t reserve,
                                          rd_kafka_headers_t **headers,
                                          void **block, size_t *len,
                                          char *id_out, ww_err_t *err);

/* Decodes a record given as headers and value (value may be NULL when len is
 * 0). Validates every required header, the spec version, the content type
 * and ce_time, looks ce_type up in `reg` and unpacks the value. On success
 * *out is filled (caller clears it with ww_bus_event_clear). On failure
 * *out holds no payload (clearing it is still safe) and err says exactly
 * what is wrong, fit for a DLQ reason header:
 *   INVALID_ARGUMENT  missing/empty/oversized header, wrong spec version or
 *                     content type, ce_time that ww_rfc3339_parse refuses
 *                     (an impossible date too), payload that does not parse
 *   NOT_FOUND         ce_type not in the registry */
ww_code_t ww_bus_envelope_decode(const rd_kafka_headers_t *headers,
                                 const void *value, size_t len,
                                 const ww_bus_registry_t *reg,
                                 ww_bus_event_t *out, ww_err_t *err);

/* Same, unpacking the payload with `allocator` (NULL: protobuf-c's
 * default, malloc). With an allocator the caller releases out->payload
 * itself (protobuf_c_message_free_unpacked with the same allocator, or by
 * discarding an arena) and sets it to NULL before ww_bus_event_clear,
 * which frees with the default allocator. */
ww_code_t ww_bus_envelope_decode_with(const rd_kafka_headers_t *headers,
                                      const void *value, size_t len,
                                      const ww_bus_registry_t *reg,
                                      ProtobufCAllocator *allocator,
                                      ww_bus_event_t *out, ww_err_t *err);

/* Same, from a consumed record (not taken). */
ww_code_t ww_bus_envelope_decode_message(const rd_kafka_message_t *rkm,
                                         const ww_bus_registry_t *reg,
                                         ww_bus_event_t *out, ww_err_t *err);

/* The context of work that handles record `rkm` (not taken): its
 * ce_traceparent/ce_tracestate continued with a new span (ww_trace_continue),
 * or a new trace when they are missing or malformed. */
void ww_bus_envelope_trace(const rd_kafka_message_t *rkm, ww_trace_t *out);

/* The same from a record's headers (NULL: none). */
void ww_bus_envelope_trace_headers(const rd_kafka_headers_t *headers,
                                   ww_trace_t *out);

/* Frees the payload and zeroes the event. Safe on a zeroed event. */
void ww_bus_event_clear(ww_bus_event_t *ev);

#endif
