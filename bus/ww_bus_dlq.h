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
 * Pure formatting, safe from any thread.
 */
#ifndef WW_BUS_DLQ_H
#define WW_BUS_DLQ_H

#include <librdkafka/rdkafka.h>
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
/* What every ww_dlq_* header name starts with. */
#define WW_BUS_DLQ_H_PREFIX "ww_dlq_"

/* Writes "<topic of rec>.dlq" into dlq_topic (size bytes) and returns a new
 * header list for the dead letter of `rec`. The caller owns the list
 * (rd_kafka_producev takes it over on success; otherwise
 * rd_kafka_headers_destroy). `reason` may be NULL. */
rd_kafka_headers_t *ww_bus_dlq_headers(const rd_kafka_message_t *rec,
                                       const char *group, const char *reason,
                                       int attempts, char *dlq_topic,
                                       size_t size);

#endif
