/*
 * ww_bus_publisher.h - typed publishing of events: an idempotent producer
 * (acks=all, no duplicates or reordering from its own retries) that wraps a
 * generated protobuf-c message in the CloudEvents envelope and reports each
 * record's delivery to the caller.
 *
 * Threads: the publisher owns one delivery thread that serves librdkafka's
 * delivery reports; every ww_bus_delivery_cb runs on that thread, one at a
 * time, and must not block for long nor call ww_bus_publisher_close.
 * publish/publish_sync/flush may be called from any number of threads at
 * once. close may be called from any thread, more than once.
 *
 * Topic names are used as given: apply WW_TOPIC_PREFIX with
 * ww_bus_config_topic_name first.
 */
#ifndef WW_BUS_PUBLISHER_H
#define WW_BUS_PUBLISHER_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_bus_config.h"
#include "ww_bus_envelope.h"
#include "ww_err.h"

typedef struct ww_bus_publisher ww_bus_publisher_t;

/* The outcome of one publish. Valid only during the callback; copy what
 * you keep. */
typedef struct ww_bus_delivery {
    ww_code_t code;       /* WW_OK: the broker has the record (acks=all) */
    const ww_err_t *err;  /* why it failed (code != WW_OK) */
    const char *topic;
    int32_t partition;    /* -1 when unknown */
    int64_t offset;       /* -1 when unknown */
    const char *event_id; /* ce_id */
} ww_bus_delivery_t;

typedef void (*ww_bus_delivery_cb)(void *opaque, const ww_bus_delivery_t *d);

/* Creates the producer from cfg (ww_bus_config_producer_conf; cfg is only
 * read during the call). NULL with err set when the conf is refused or the
 * client cannot be created. Caller owns the result. */
ww_bus_publisher_t *ww_bus_publisher_new(const ww_bus_config_t *cfg,
                                         ww_err_t *err);

/* Encodes msg (borrowed, only during the call) with meta into a record on
 * topic with key (key_len bytes, copied; NULL for none, which spreads
 * records over partitions) and queues it. When the local queue is full the
 * call blocks until there is room.
 *
 * WW_OK: the record is queued and cb (if not NULL) will be called exactly
 * once with its outcome, on the delivery thread, with `opaque` (WW_OK only
 * with the offset the broker gave it: a record librdkafka reports
 * delivered without one is UNAVAILABLE, retriable, see
 * ww_bus_err_from_delivery); event_id
 * (if not NULL, WW_BUS_ID_MAX + 1 bytes) receives its ce_id.
 * Otherwise cb is never called: INVALID_ARGUMENT (bad message/metadata),
 * CANCELLED (publisher closed), or the mapped librdkafka error (e.g.
 * FAILED_PRECONDITION once the idempotent producer hit a fatal error). */
ww_code_t ww_bus_publisher_publish(ww_bus_publisher_t *pub, const char *topic,
                                   const void *key, size_t key_len,
                                   const ProtobufCMessage *msg,
                                   const ww_bus_envelope_meta_t *meta,
                                   ww_bus_delivery_cb cb, void *opaque,
                                   char *event_id, ww_err_t *err);

/* The same without ever blocking: a full local queue is RESOURCE_EXHAUSTED
 * (retriable) at once, cb never runs then. For threads that must not wait
 * on Kafka (a gRPC completion queue's). */
ww_code_t ww_bus_publisher_publish_nowait(ww_bus_publisher_t *pub,
                                          const char *topic, const void *key,
                                          size_t key_len,
                                          const ProtobufCMessage *msg,
                                          const ww_bus_envelope_meta_t *meta,
                                          ww_bus_delivery_cb cb, void *opaque,
                                          char *event_id, ww_err_t *err);

/* Publishes and waits up to timeout_ms for the broker's acknowledgement.
 * WW_OK once the record is stored; partition/offset (if not NULL) receive
 * its position. DEADLINE_EXCEEDED (retriable) when the acknowledgement did
 * not arrive in time: the record may still be delivered later. */
ww_code_t ww_bus_publisher_publish_sync(ww_bus_publisher_t *pub,
                                        const char *topic, const void *key,
                                        size_t key_len,
                                        const ProtobufCMessage *msg,
                                        const ww_bus_envelope_meta_t *meta,
                                        int timeout_ms, int32_t *partition,
                                        int64_t *offset, char *event_id,
                                        ww_err_t *err);

/* publish_sync to partition `partition` (>= 0) of `topic` instead of the
 * key's: for records whose placement is their meaning (a snapshot of
 * events partition p goes to partition p). */
ww_code_t ww_bus_publisher_publish_sync_to(ww_bus_publisher_t *pub,
                                           const char *topic,
                                           int32_t partition, const void *key,
                                           size_t key_len,
                                           const ProtobufCMessage *msg,
                                           const ww_bus_envelope_meta_t *meta,
                                           int timeout_ms, int64_t *offset,
                                           char *event_id, ww_err_t *err);

/* Waits until every queued record was delivered or failed (their callbacks
 * have run). DEADLINE_EXCEEDED with the number still outstanding. */
ww_code_t ww_bus_publisher_flush(ww_bus_publisher_t *pub, int timeout_ms,
                                 ww_err_t *err);

/* Flushes (up to timeout_ms), then stops the delivery thread and releases
 * the client. Records still outstanding after the timeout are purged and
 * their callbacks called with CANCELLED, so no callback is ever lost; the
 * result is then DEADLINE_EXCEEDED. Later calls return WW_OK at once;
 * publish after close returns CANCELLED. */
ww_code_t ww_bus_publisher_close(ww_bus_publisher_t *pub, int timeout_ms,
                                 ww_err_t *err);

/* Closes (10 s flush) if needed and frees. NULL is ignored. */
void ww_bus_publisher_destroy(ww_bus_publisher_t *pub);

/* The underlying client, for tests and tools (e.g. raw records); owned by
 * the publisher, NULL after close. */
rd_kafka_t *ww_bus_publisher_handle(ww_bus_publisher_t *pub);

#endif
