/*
 * ww_host_record.h - small readers both services use on Kafka records and
 * on the generated command messages: the key as text, a header, the
 * registries of a worker's topics, a command's meta and string fields.
 *
 * Pure helpers; thread-safe.
 */
#ifndef WW_HOST_RECORD_H
#define WW_HOST_RECORD_H

#include "ww_bus_registry.h"
#include "ww_dedup.h"
#include "ww_err.h"
#include "ww_schemas.h"
#include "ww_shard.h"

#include <librdkafka/rdkafka.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The record's key as text into buf (keys are ids; cut to size - 1). */
void ww_host_record_key(const rd_kafka_message_t *rec, char *buf, size_t size);

/* The last value of header `name` as text into buf ("" when absent or
 * longer than size - 1). */
void ww_host_record_header(const rd_kafka_message_t *rec, const char *name,
                           char *buf, size_t size);

/* The types of one topic (ww_schemas_*). */
typedef const ProtobufCMessageDescriptor *const *(*ww_host_record_types_fn)(
    size_t *n);

/* What a service's worker decodes: its own commands and events, and the
 * events of its peer that its translator reads. */
typedef struct ww_host_record_vocab {
    ww_bus_registry_t *commands, *events, *peer;
} ww_host_record_vocab_t;

/* Fills *v with the three registries, all or none (err set, *v zeroed).
 * The caller owns them: ww_host_record_vocab_clear. */
ww_code_t ww_host_record_vocab_init(ww_host_record_vocab_t *v,
                                    ww_host_record_types_fn commands,
                                    ww_host_record_types_fn events,
                                    ww_host_record_types_fn peer,
                                    ww_err_t *err);
/* Destroys the registries of *v and zeroes it; a zeroed *v is a no-op. */
void ww_host_record_vocab_clear(ww_host_record_vocab_t *v);

/* The CommandMeta of a generated command (its field `meta`), or NULL. */
const Wildworkouts__Events__V1__CommandMeta *
ww_host_record_meta(const ProtobufCMessage *cmd);

/* The string field `name` of a message, or NULL when it has none. */
const char *ww_host_record_string(const ProtobufCMessage *msg,
                                  const char *name);

/* The CommandOrigin a fact carries, from the command's meta (may be NULL)
 * and its digest (WW_DEDUP_DIGEST_LEN bytes, or NULL): written into *out,
 * pointing at meta's strings and the digest. */
void ww_host_record_origin(const Wildworkouts__Events__V1__CommandMeta *meta,
                           const uint8_t *digest,
                           Wildworkouts__Events__V1__CommandOrigin *out);

/* A fact's origin read back (o may be NULL): caller and key copied into
 * the buffers, *origin pointing at them. INVALID_ARGUMENT when a string
 * does not fit or a keyed origin lacks its digest. */
ww_code_t
ww_host_record_read_origin(const Wildworkouts__Events__V1__CommandOrigin *o,
                           char caller[WW_DEDUP_CALLER_MAX + 1],
                           char key[WW_DEDUP_KEY_MAX + 1],
                           ww_shard_origin_t *origin, ww_err_t *err);

/* Copies `src` (NULL = "") into dst[size], or refuses what does not fit
 * with INVALID_ARGUMENT naming `field`. */
ww_code_t ww_host_record_copy(char *dst, size_t size, const char *src,
                              const char *field, ww_err_t *err);

#endif
