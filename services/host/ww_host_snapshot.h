/*
 * ww_host_snapshot.h - snapshots of a service's state in the compacted
 * <svc>.snapshots, so a start replays only the events after them.
 *
 * A snapshot is one StateSnapshot record (schemas/.../snapshots.proto) of
 * one events partition p: the partition's canonical bytes from the read
 * model, the events offset after the last record they fold in, their
 * SHA-256 (the partition's digest) and the model's counts. It goes to
 * partition p of <svc>.snapshots with key "p", so compaction keeps the
 * newest per partition and a start reads one record per partition.
 *
 * Writer: a thread of its own. Every interval it snapshots each partition
 * whose commands this instance's decider owns (one writer per partition)
 * and whose model moved by at least `min_records` records since its last
 * snapshot. The bytes are built under the partition's read lock: the
 * partition's applier waits for them (reads do not); the publishing
 * (zstd-compressed, acknowledged by the broker) happens outside it.
 *
 * Loader: for each partition the newest snapshot, checked (it decodes, it
 * is this service's and partition's, its SHA-256 matches, the canonical
 * bytes restore) and restored; a partition without a usable snapshot
 * starts empty at offset 0, with one WARN line when its snapshot was bad.
 *
 * Environment: WW_SNAPSHOT_INTERVAL_MS (default 60000; 0 turns snapshots
 * off), WW_SNAPSHOT_MIN_RECORDS (default 10000).
 *
 * Threads: the writer's own; _destroy from one thread. The loader blocks
 * its caller (a start, before the read model exists).
 */
#ifndef WW_HOST_SNAPSHOT_H
#define WW_HOST_SNAPSHOT_H

#include "ww_bus_config.h"
#include "ww_err.h"
#include "ww_host_decider.h"
#include "ww_host_model.h"
#include "ww_shard.h"

#include <stdint.h>

typedef struct ww_host_snapshot_config {
    const char *service;        /* "trainer" */
    const char *source;         /* ce_source of the records */
    const char *topic;          /* <svc>.snapshots, full name */
    ww_host_model_t *model;     /* borrowed */
    ww_host_decider_t *decider; /* borrowed: who owns which partition */
    int interval_ms;            /* <= 0: no thread (ww_host_snapshot_write) */
    int64_t min_records;
    /* Optional, per partition: the events offset of the snapshot the start
     * loaded (its partition is not written again before it moves on). */
    const int64_t *loaded;
} ww_host_snapshot_config_t;

typedef struct ww_host_snapshot_writer ww_host_snapshot_writer_t;

/* The config from the environment (WW_SNAPSHOT_*), other fields zeroed. */
void ww_host_snapshot_config_from_env(ww_host_snapshot_config_t *cfg);

/* Starts the writer (its thread when interval_ms > 0). `cfg` is copied;
 * model and decider must outlive it. */
ww_code_t ww_host_snapshot_writer_new(const ww_bus_config_t *bus,
                                      const ww_host_snapshot_config_t *cfg,
                                      ww_host_snapshot_writer_t **out,
                                      ww_err_t *err);

/* Writes a snapshot of partition p now, owned or not; *bytes (may be NULL)
 * receives the size of its state. Blocks until the broker has it. */
ww_code_t ww_host_snapshot_write(ww_host_snapshot_writer_t *w, int32_t p,
                                 size_t *bytes, ww_err_t *err);

typedef struct ww_host_snapshot_stats {
    uint64_t written, failed;
    uint64_t last_bytes; /* state bytes of the last one written */
    int64_t last_ms;     /* how long it took to build and publish */
} ww_host_snapshot_stats_t;

ww_host_snapshot_stats_t ww_host_snapshot_stats(ww_host_snapshot_writer_t *w);

/* Stops the thread (a snapshot being written finishes first). NULL is a
 * no-op. */
void ww_host_snapshot_writer_destroy(ww_host_snapshot_writer_t *w);

/* Loads the newest usable snapshot of each of `partitions` partitions of
 * `topic` into parts[p] (shard owned by the caller then; NULL and next 0
 * where none). `ops` restores the state. Errors: UNAVAILABLE (retriable)
 * when the broker does not answer, RESOURCE_EXHAUSTED; a bad snapshot is
 * not an error. */
ww_code_t ww_host_snapshot_load(const ww_bus_config_t *bus, const char *topic,
                                const char *service, const ww_shard_ops_t *ops,
                                int partitions,
                                ww_host_model_start_part_t *parts,
                                ww_err_t *err);

#endif
