/*
 * ww_bus_offsets.h - where a topic's partitions begin and end, for the
 * readers that work without a consumer group (replay, tail).
 *
 * Ends are asked with the isolation level of the handle's configuration, so
 * a read_committed handle gets the last stable offsets (an open transaction
 * holds the end before its first record), a read_uncommitted one the high
 * watermarks. One ListOffsets round trip for all partitions.
 *
 * Threads: any thread; each call blocks for at most timeout_ms.
 */
#ifndef WW_BUS_OFFSETS_H
#define WW_BUS_OFFSETS_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "ww_err.h"

/* Number of partitions of `topic` into *count.
 * Errors: NOT_FOUND (no such topic), UNAVAILABLE (no answer; retriable). */
ww_code_t ww_bus_offsets_partition_count(rd_kafka_t *rk, const char *topic,
                                         int timeout_ms, int *count,
                                         ww_err_t *err);

/* For partitions 0..count-1 of `topic`: out[p] = the offset of the first
 * record with a timestamp >= `when`, where `when` is a timestamp in ms, or
 * RD_KAFKA_OFFSET_END (-1) for the end, or RD_KAFKA_OFFSET_BEGINNING (-2)
 * for the log start. A partition with no record at or after a timestamp
 * gets its end offset. `out` is caller-owned (count entries).
 * Retriable errors (leaders not elected yet after the topic was created)
 * are retried within timeout_ms. Errors: UNAVAILABLE (retriable). */
ww_code_t ww_bus_offsets_lookup(rd_kafka_t *rk, const char *topic, int count,
                                int64_t when, int timeout_ms, int64_t *out,
                                ww_err_t *err);

#endif
