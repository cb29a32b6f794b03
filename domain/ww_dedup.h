/*
 * ww_dedup.h - idempotency keys remembered in the facts: which request a
 * caller's key stands for and what it decided, so a retry returns the
 * original result and the same key with another request is refused.
 *
 * A key is scoped by its caller (the identity the edge authenticated): two
 * callers may use the same key. An entry is made when a fact carrying the
 * key is applied, so the table is part of the fold: a replay of the same
 * facts rebuilds it, on every instance. Commands that produce no fact (a
 * refusal, a no-op) leave no entry: deciding them again changes nothing
 * either.
 *
 * Transactions as in ww_trainer_domain.h: after ww_dedup_begin every put is
 * recorded; ww_dedup_rollback forgets them, ww_dedup_commit keeps them.
 *
 * Memory: the table owns copies of its keys; caller-owned (_new/_destroy).
 * Threads: none; the owner serialises writers against readers.
 */
#ifndef WW_DEDUP_H
#define WW_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"

/* Longest idempotency key and caller identity accepted. */
#define WW_DEDUP_KEY_MAX 128
#define WW_DEDUP_CALLER_MAX 255
#define WW_DEDUP_DIGEST_LEN 32 /* SHA-256 of the request */

typedef struct ww_dedup ww_dedup_t;

/* What a key decided. */
typedef struct ww_dedup_entry {
    uint8_t digest[WW_DEDUP_DIGEST_LEN]; /* of the request it stands for */
    int64_t command_offset; /* the deciding command's offset in its topic */
    int64_t result;         /* result value (CancelTraining: the refund) */
} ww_dedup_entry_t;

typedef enum ww_dedup_verdict {
    WW_DEDUP_NEW = 0,  /* never seen: decide it */
    WW_DEDUP_REPEAT,   /* same key, same request: the original result */
    WW_DEDUP_CONFLICT, /* same key, another request: refuse it */
} ww_dedup_verdict_t;

ww_dedup_t *ww_dedup_new(void); /* NULL when out of memory */
void ww_dedup_destroy(ww_dedup_t *d);
ww_dedup_t *ww_dedup_clone(const ww_dedup_t *d); /* NULL when out of memory */

/* The verdict for (caller, key) asking for `digest`; *entry (may be NULL)
 * points at the stored entry for REPEAT and CONFLICT, valid until the next
 * change. An empty key is always NEW (no idempotency asked). */
ww_dedup_verdict_t ww_dedup_check(const ww_dedup_t *d, const char *caller,
                                  const char *key,
                                  const uint8_t digest[WW_DEDUP_DIGEST_LEN],
                                  const ww_dedup_entry_t **entry);

/* Remembers (caller, key) -> *entry. WW_OK (also when the key is known: the
 * first entry stays); INVALID_ARGUMENT for an empty or too long key or
 * caller; RESOURCE_EXHAUSTED when out of memory (nothing changed). */
ww_code_t ww_dedup_put(ww_dedup_t *d, const char *caller, const char *key,
                       const ww_dedup_entry_t *entry, ww_err_t *err);

size_t ww_dedup_count(const ww_dedup_t *d);

void ww_dedup_begin(ww_dedup_t *d);
void ww_dedup_commit(ww_dedup_t *d);
void ww_dedup_rollback(ww_dedup_t *d);

/* Canonical bytes (appended to a ww_canon writer by the shard that owns
 * the table): u64 count, then per entry ascending by (caller, key)
 * bytewise: caller string | key string | digest 32 bytes |
 * command_offset i64 | result i64. */
struct ww_canon;
void ww_dedup_serialize(const ww_dedup_t *d, struct ww_canon *c);

/* The inverse, reading from the shard's reader: a table holding exactly
 * the entries read (none in a transaction). Canonical bytes only: keys
 * 1..WW_DEDUP_KEY_MAX bytes, callers at most WW_DEDUP_CALLER_MAX, entries
 * strictly ascending by (caller, key), none decided after `last_command`
 * (the shard's position, which every recorded key is at or before). WW_OK
 * and *out (the caller destroys it); else the reader has failed with
 * INVALID_ARGUMENT (its message names the problem and its byte offset) or
 * RESOURCE_EXHAUSTED, that failure is returned and copied to *err, and
 * nothing is allocated. */
struct ww_canon_reader;
ww_code_t ww_dedup_deserialize(struct ww_canon_reader *r, int64_t last_command,
                               ww_dedup_t **out, ww_err_t *err);

#endif
