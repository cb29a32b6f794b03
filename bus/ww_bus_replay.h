/*
 * ww_bus_replay.h - read a topic from a start point up to its end as of the
 * start of the replay, read_committed, at full speed: how a service rebuilds
 * its state from its event log.
 *
 * The end of each partition is captured before the first record is read (the
 * last stable offset, since the consumer reads read_committed): records
 * produced while the replay runs are not delivered, and a transaction still
 * open at the start holds the end before its first record. Records of
 * aborted transactions are never delivered. Because transaction markers
 * occupy offsets, a partition counts as done when the consumer's position
 * reaches the captured end (from records and partition-EOF events), not
 * after a number of records.
 *
 * No consumer group is joined and nothing is committed: partitions are
 * assigned directly (ww_bus_config_reader_conf).
 *
 * Threads: ww_bus_replay_run() blocks the calling thread and calls the
 * handler from it, in offset order within a partition (partitions
 * interleave).
 */
#ifndef WW_BUS_REPLAY_H
#define WW_BUS_REPLAY_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "ww_bus_config.h"
#include "ww_err.h"

typedef enum ww_bus_replay_from {
    WW_BUS_REPLAY_FROM_BEGINNING = 0,
    WW_BUS_REPLAY_FROM_OFFSET,    /* offset / offsets[] below */
    WW_BUS_REPLAY_FROM_TIMESTAMP, /* first record with timestamp >= ts */
} ww_bus_replay_from_t;

/* Handles one record (borrowed: valid during the call only). A non-OK
 * return stops the replay, which returns that code and err. */
typedef ww_code_t (*ww_bus_replay_handler_fn)(void *opaque,
                                              const rd_kafka_message_t *rec,
                                              ww_err_t *err);

typedef struct ww_bus_replay_config {
    const char *topic; /* required, full name (ww_bus_config_topic_name) */
    /* false: every partition; true: only `partition`. */
    bool one_partition;
    int32_t partition;
    ww_bus_replay_from_t from;
    /* FROM_OFFSET: the offset to start at in every replayed partition, or,
     * when `offsets` is non-NULL, offsets[p] for partition p (offsets_cnt
     * entries; partitions past it start at the beginning). An offset before
     * the log start begins at the log start. */
    int64_t offset;
    const int64_t *offsets;
    int offsets_cnt;
    int64_t timestamp_ms; /* FROM_TIMESTAMP: milliseconds since the epoch */
    /* false: the end is the last stable offset as of the start (a
     * transaction open then holds it before its first record). true: the
     * end is the high watermark as of the start, so the replay also waits
     * for the transactions open at the start to commit or abort, and
     * delivers what they committed: every record written before the start
     * is then settled (read-modify-write tools that must see their own
     * earlier commits behind someone else's open transaction). */
    bool settled;
    int timeout_ms;       /* whole replay bound; 0: no limit */
    ww_bus_replay_handler_fn handler; /* required */
    void *opaque;
} ww_bus_replay_config_t;

typedef struct ww_bus_replay_stats {
    uint64_t records;    /* records handed to the handler */
    uint64_t bytes;      /* their key + value bytes */
    int partitions;      /* partitions replayed */
    int64_t elapsed_ms;
} ww_bus_replay_stats_t;

/* Replays `cfg->topic` as described above with a reader built from `bus`;
 * `bus` and `cfg` (with its strings and offsets) are borrowed for the call
 * only. `stats` (caller-owned, may be NULL) is filled in every case.
 * Errors: INVALID_ARGUMENT (bad config), NOT_FOUND (no such topic or
 * partition), UNAVAILABLE (the broker did not answer, retriable),
 * DEADLINE_EXCEEDED (timeout_ms passed), or the handler's error. */
ww_code_t ww_bus_replay_run(const ww_bus_config_t *bus,
                            const ww_bus_replay_config_t *cfg,
                            ww_bus_replay_stats_t *stats, ww_err_t *err);

#endif
