/*
 * ww_host_model.h - a service's read model: every instance tails the whole
 * of <svc>.events (read_committed) into one shard per partition
 * (ww_shard.h), and answers reads from memory.
 *
 * Read-your-writes: a write's call completes only once this instance's
 * model holds the write's facts. Facts record the command position they
 * decided, and an owner decides its partition's commands in order, so
 * "partition p has applied the facts of command offset o" is the shard's
 * last recorded command reaching o: ww_host_model_when_applied.
 *
 * Unknown keys: a lookup that finds nothing may be early (the fact was
 * committed through another instance a moment ago), so it asks
 * ww_host_model_when_caught_up and looks again once the model reached the
 * end of the events as of the question.
 *
 * A record that does not decode, or a fact the state refuses, is skipped
 * and counted, the same way on every replica (ops.apply decides), so one
 * bad record never stalls the model.
 *
 * Threads: the tail's thread applies records, each under its partition's
 * write lock; readers take a partition's read lock with
 * ww_host_model_read / ww_host_model_read_end (writers are preferred, so
 * a flood of reads never starves the model). Callbacks of the waits run on
 * the model's threads (or in the registering call when already due) and
 * must not block for long.
 */
#ifndef WW_HOST_MODEL_H
#define WW_HOST_MODEL_H

#include "ww_bus_config.h"
#include "ww_err.h"
#include "ww_host_state.h"
#include "ww_shard.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ww_host_model ww_host_model_t;

typedef struct ww_host_model_ops {
    const ww_shard_ops_t *shard_ops; /* the service's domain state */
    void *(*new_state)(void);        /* an empty one; NULL: out of memory */
    /* Folds one record of the events topic into `shard` (its partition's
     * write lock is held): decode, apply to the domain state, then
     * ww_shard_record. A record to skip returns WW_OK with *skipped set
     * (and err saying why, for the log). Another error (out of memory)
     * stops the model. */
    ww_code_t (*apply)(void *ctx, ww_shard_t *shard,
                       const rd_kafka_message_t *rec, bool *skipped,
                       ww_err_t *err);
} ww_host_model_ops_t;

/* Builds one empty shard per partition of `events_topic` (`partitions`,
 * checked against the topic) and starts tailing it from the beginning.
 * `ops` and `ctx` are borrowed and must outlive the model. */
ww_code_t ww_host_model_new(const ww_bus_config_t *bus,
                            const char *events_topic, int partitions,
                            const ww_host_model_ops_t *ops, void *ctx,
                            ww_host_model_t **out, ww_err_t *err);

/* Where a partition starts instead of empty at the log start: a state
 * restored from a snapshot (taken over by the model, NULL: none), the
 * events offset after the records it folds in, and its counts. */
typedef struct ww_host_model_start_part {
    ww_shard_t *shard;
    int64_t next;
    uint64_t applied, skipped;
} ww_host_model_start_part_t;

typedef struct ww_host_model_start {
    ww_host_model_start_part_t *parts; /* `partitions` entries */
} ww_host_model_start_t;

/* ww_host_model_new with partitions starting from `start` (may be NULL):
 * each given shard is taken over (also on failure; its entry is set to
 * NULL) and its partition is tailed from `next`. */
ww_code_t ww_host_model_new_from(const ww_bus_config_t *bus,
                                 const char *events_topic, int partitions,
                                 const ww_host_model_ops_t *ops, void *ctx,
                                 ww_host_model_start_t *start,
                                 ww_host_model_t **out, ww_err_t *err);

int ww_host_model_partitions(const ww_host_model_t *m);

/* Read access to partition p's shard, valid until ww_host_model_read_end
 * (same p, same thread). NULL for a partition out of range. */
const ww_shard_t *ww_host_model_read(ww_host_model_t *m, int32_t p);
void ww_host_model_read_end(ww_host_model_t *m, int32_t p);

/* A copy of partition p's shard once the model has handled every record
 * before `end` (an owner's rebuild at assignment; see ww_host_decider.h).
 * UNAVAILABLE (retriable) while it has not; RESOURCE_EXHAUSTED. */
ww_code_t ww_host_model_clone_at(ww_host_model_t *m, int32_t p, int64_t end,
                                 ww_shard_t **out, ww_err_t *err);

/* What a partition's state is at a moment: its digest (ww_host_state.h),
 * the offset after the last events record folded in, and the records
 * folded in and skipped. */
typedef struct ww_host_model_digest {
    ww_host_state_digest_t digest;
    int64_t next;
    uint64_t applied, skipped;
} ww_host_model_digest_t;

/* Partition p's canonical bytes (ww_shard_serialize; `state` malloc'd,
 * the caller frees it) with the offset and counts they cover, taken under
 * the partition's read lock: what a snapshot stores. */
typedef struct ww_host_model_snapshot {
    uint8_t *state;
    size_t len;
    int64_t next;
    uint64_t applied, skipped;
} ww_host_model_snapshot_t;

ww_code_t ww_host_model_snapshot(ww_host_model_t *m, int32_t p,
                                 ww_host_model_snapshot_t *out,
                                 ww_err_t *err);

/* Partition p's digest, consistent with its `next` (taken under its read
 * lock: the partition's writer waits while the bytes are built, O(state)).
 * INVALID_ARGUMENT, RESOURCE_EXHAUSTED. */
ww_code_t ww_host_model_digest(ww_host_model_t *m, int32_t p,
                               ww_host_model_digest_t *out, ww_err_t *err);

/* The end of every partition now (last stable offsets) into ends[]; blocks
 * one round trip, up to timeout_ms (for an owner's or the start's thread,
 * never a gRPC one). UNAVAILABLE (retriable) when the broker does not
 * answer. */
ww_code_t ww_host_model_ends(ww_host_model_t *m, int64_t *ends, int timeout_ms,
                             ww_err_t *err);

/* Blocks until the model has handled every record before ends[p] in each
 * partition (ends from ww_host_model_ends), up to timeout_ms: the
 * start-up replay waits for the end as of the start in slices of this.
 * DEADLINE_EXCEEDED, CANCELLED, or why the model stopped. Not while the
 * model is being destroyed. */
ww_code_t ww_host_model_wait_reached(ww_host_model_t *m, const int64_t *ends,
                                     int timeout_ms, ww_err_t *err);

/* The next offset the model will handle in partition p. */
int64_t ww_host_model_position(ww_host_model_t *m, int32_t p);

/* Answer of a wait: WW_OK, DEADLINE_EXCEEDED, or why the model stopped. */
typedef void (*ww_host_model_fn)(void *opaque, ww_code_t code,
                                 const ww_err_t *err);

/* fn runs once partition p has applied the facts of the command at
 * `command_offset` of the partition's commands topic, or after timeout_ms
 * (DEADLINE_EXCEEDED), or at destroy (CANCELLED). It may run before this
 * returns (already applied). Errors (fn never runs): INVALID_ARGUMENT,
 * RESOURCE_EXHAUSTED. */
ww_code_t ww_host_model_when_applied(ww_host_model_t *m, int32_t p,
                                     int64_t command_offset, int timeout_ms,
                                     ww_host_model_fn fn, void *opaque,
                                     ww_err_t *err);

/* fn runs once the model has handled everything committed to the events
 * before this call (ww_bus_tail_when_caught_up). */
ww_code_t ww_host_model_when_caught_up(ww_host_model_t *m, int timeout_ms,
                                       ww_host_model_fn fn, void *opaque,
                                       ww_err_t *err);

/* Blocks until caught up with the events as of the call (tools and
 * benchmarks; the services' start waits in slices, see
 * ww_host_model_wait_reached). */
ww_code_t ww_host_model_wait_caught_up(ww_host_model_t *m, int timeout_ms,
                                       ww_err_t *err);

typedef struct ww_host_model_stats {
    uint64_t applied; /* records folded in */
    uint64_t skipped; /* records that did not decode or apply */
} ww_host_model_stats_t;

ww_host_model_stats_t ww_host_model_stats(ww_host_model_t *m);

/* Stops the tail, answers pending waits with CANCELLED, frees. */
void ww_host_model_destroy(ww_host_model_t *m);

#endif
