/*
 * ww_shard.h - the state of one partition of a service, as its facts fold
 * it: the service's domain state for the keys of that partition, the
 * idempotency keys its facts carry (ww_dedup.h), and the position of the
 * last command those facts decided.
 *
 * The same shape serves the partition owner (the decision state: committed
 * facts plus the facts of its open transaction, with begin/commit/rollback)
 * and every instance's read model (committed facts only). The domain state
 * is reached through a small table of operations, so the trainer's roster
 * and the users' state share one implementation.
 *
 * Applying a fact is two steps, in one transaction: the caller folds the
 * fact into ww_shard_state() with its domain's apply, then
 * ww_shard_record() notes its command position and idempotency key.
 *
 * Memory: the shard owns its state and dedup table (_new takes the state
 * over). Threads: none; the owner serialises writers against readers.
 */
#ifndef WW_SHARD_H
#define WW_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "ww_dedup.h"
#include "ww_err.h"

/* What a shard needs of its domain state. */
typedef struct ww_shard_ops {
    const char *magic; /* 4 bytes naming the state in canonical bytes */
    void *(*clone)(const void *state); /* NULL when out of memory */
    void (*destroy)(void *state);
    void (*begin)(void *state);
    void (*commit)(void *state);
    void (*rollback)(void *state);
    ww_code_t (*serialize)(const void *state, uint8_t **out, size_t *len,
                           ww_err_t *err);
    /* The inverse of serialize: a new state from canonical bytes, or
     * INVALID_ARGUMENT / RESOURCE_EXHAUSTED with nothing allocated. */
    ww_code_t (*deserialize)(const uint8_t *buf, size_t len, void **state,
                             ww_err_t *err);
} ww_shard_ops_t;

typedef struct ww_shard ww_shard_t;

/* Who asked for a fact, as far as idempotency cares. */
typedef struct ww_shard_origin {
    const char *caller; /* "" in local mode */
    const char *key;    /* the caller's idempotency key; NULL/"": none */
    uint8_t digest[WW_DEDUP_DIGEST_LEN]; /* of the request */
} ww_shard_origin_t;

/* A shard over `state` (taken over, also on failure). `ops` is borrowed
 * and must outlive the shard. NULL when out of memory. */
ww_shard_t *ww_shard_new(const ww_shard_ops_t *ops, void *state);
void ww_shard_destroy(ww_shard_t *s);
ww_shard_t *ww_shard_clone(const ww_shard_t *s); /* NULL: out of memory */

/* The domain state (owned by the shard). */
void *ww_shard_state(ww_shard_t *s);
const void *ww_shard_state_const(const ww_shard_t *s);
const ww_dedup_t *ww_shard_dedup(const ww_shard_t *s);

/* The offset of the last command a fact of this shard recorded; -1 before
 * the first. Commands decided in order make it grow. */
int64_t ww_shard_last_command(const ww_shard_t *s);

/* Notes a fact just folded into the state: it decided the command at
 * `command_offset`, and with `origin` (may be NULL) carrying a key, that
 * key now stands for origin->digest with `result`. WW_OK or
 * RESOURCE_EXHAUSTED / INVALID_ARGUMENT from ww_dedup_put. */
ww_code_t ww_shard_record(ww_shard_t *s, int64_t command_offset,
                          const ww_shard_origin_t *origin, int64_t result,
                          ww_err_t *err);

/* Transactions over state, dedup and position together. */
void ww_shard_begin(ww_shard_t *s);
void ww_shard_commit(ww_shard_t *s);
void ww_shard_rollback(ww_shard_t *s);

/* Canonical bytes: ops->magic (4), u32 version 1, i64 last command,
 * u64 length + the state's canonical bytes, then the dedup table
 * (ww_dedup_serialize). *out malloc'd (caller frees). */
ww_code_t ww_shard_serialize(const ww_shard_t *s, uint8_t **out, size_t *len,
                             ww_err_t *err);

/* The inverse (restoring a snapshot): a new shard over `ops` (borrowed,
 * must outlive it) with the state, idempotency keys and last command
 * position buf[0..len) describes, and no transaction in progress: it
 * answers every lookup and applies later facts exactly as the shard that
 * wrote the bytes. Refused with INVALID_ARGUMENT and a message naming the
 * problem and its byte offset: a magic other than ops->magic, a version
 * other than 1, a last command below -1, a state ops->deserialize refuses
 * (its message is quoted; its offsets count from the state's first byte),
 * a dedup table ww_dedup_deserialize refuses, truncated or trailing
 * bytes. Canonical bytes only, so the restored shard serialises to exactly
 * buf. RESOURCE_EXHAUSTED when out of memory. On WW_OK *out is the new
 * shard (the caller destroys it); on failure nothing is allocated and
 * *out is untouched. */
ww_code_t ww_shard_deserialize(const ww_shard_ops_t *ops, const uint8_t *buf,
                               size_t len, ww_shard_t **out, ww_err_t *err);

#endif
