/*
 * ww_bus_dlq.h - what a dead letter looks like, shared by every group
 * consumer that moves a poison record aside (the subscriber, the processor):
 * the original record unchanged, on `<topic>.dlq`, with its original headers
 * plus
 *   ww_dlq_reason     why (the decode error or the handler's reason)
 *   ww_dlq_attempts   how many times the handler saw it (0: never)
 *   ww_dlq_topic, ww_dlq_partition, ww_dlq_offset   where it came from
 *   ww_dlq_group      the consumer group
 *   ww_dlq_time       when (RFC 3339)
 *
 * A record whose copy would not fit (the producer's message.max.bytes, or
 * the broker's limit) becomes a truncated dead letter instead: at most
 * WW_BUS_DLQ_TRUNCATED_VALUE bytes of its value and WW_BUS_DLQ_TRUNCATED_KEY
 * of its key, its original headers only when they are small, and
 *   ww_dlq_truncated        "true"
 *   ww_dlq_original_bytes   the value's full length
 *   ww_dlq_original_key_bytes, ww_dlq_original_headers (their count)
 * with the reason ending in "(dead letter truncated: ...)". A poison record
 * of any size therefore always has a dead letter that fits.
 * Pure formatting, safe from any thread.
 */
#ifndef WW_BUS_DLQ_H
#define WW_BUS_DLQ_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

/* The dead-letter topic of `<topic>` is `<topic>` + this. */
#define WW_BUS_DLQ_SUFFIX ".dlq"

#define WW_BUS_DLQ_H_REASON    "ww_dlq_reason"
#define WW_BUS_DLQ_H_ATTEMPTS  "ww_dlq_attempts"
#define WW_BUS_DLQ_H_TOPIC     "ww_dlq_topic"
#define WW_BUS_DLQ_H_PARTITION "ww_dlq_partition"
#define WW_BUS_DLQ_H_OFFSET    "ww_dlq_offset"
#define WW_BUS_DLQ_H_GROUP     "ww_dlq_group"
#define WW_BUS_DLQ_H_TIME      "ww_dlq_time"
/* Only on a truncated dead letter. */
#define WW_BUS_DLQ_H_TRUNCATED          "ww_dlq_truncated"
#define WW_BUS_DLQ_H_ORIGINAL_BYTES     "ww_dlq_original_bytes"
#define WW_BUS_DLQ_H_ORIGINAL_KEY_BYTES "ww_dlq_original_key_bytes"
#define WW_BUS_DLQ_H_ORIGINAL_HEADERS   "ww_dlq_original_headers"
/* What every ww_dlq_* header name starts with. */
#define WW_BUS_DLQ_H_PREFIX "ww_dlq_"

#define WW_BUS_DLQ_TRUNCATED_VALUE   65536
#define WW_BUS_DLQ_TRUNCATED_KEY     1024
#define WW_BUS_DLQ_TRUNCATED_HEADERS 16384 /* original headers kept up to */

/* Writes "<topic of rec>.dlq" into dlq_topic (size bytes) and returns a new
 * header list for the dead letter of `rec`. The caller owns the list
 * (rd_kafka_producev takes it over on success; otherwise
 * rd_kafka_headers_destroy). `reason` may be NULL. */
rd_kafka_headers_t *ww_bus_dlq_headers(const rd_kafka_message_t *rec,
                                       const char *group, const char *reason,
                                       int attempts, char *dlq_topic,
                                       size_t size);

/* A dead letter ready to produce. key and value point into the record
 * (valid as long as it is); headers belong to the caller as above. */
typedef struct ww_bus_dlq_letter {
    char topic[512];
    rd_kafka_headers_t *headers;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    bool truncated;
} ww_bus_dlq_letter_t;

/* Builds the dead letter of `rec`: the full copy when it fits in
 * `max_bytes` (key + value + serialized headers, as librdkafka counts
 * against message.max.bytes) and `truncate` is false, else the truncated
 * one. */
void ww_bus_dlq_letter(const rd_kafka_message_t *rec, const char *group,
                       const char *reason, int attempts, size_t max_bytes,
                       bool truncate, ww_bus_dlq_letter_t *out);

/* The message.max.bytes of a producer (librdkafka's default when it cannot
 * be read). */
size_t ww_bus_dlq_max_bytes(rd_kafka_t *producer);

#endif
