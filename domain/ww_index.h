/*
 * ww_index.h - an open-addressing hash index from keys to dense entry ids,
 * the lookup structure of the domain states (O(1) expected per operation).
 *
 * The index stores only ids (0 .. 2^32-2) and 32 bits of each key's hash;
 * the entries themselves live in the owner's array, and the owner tells
 * equality through a callback. Domain states only grow (hours, trainings
 * and users are kept forever); the one removal is undoing an insert when a
 * transaction's facts are rolled back (ww_index_remove).
 *
 * Not thread-safe: the owner serialises access. The struct is caller-owned
 * (usually embedded in the owner's state); ww_index_destroy frees only the
 * slot array.
 */
#ifndef WW_INDEX_H
#define WW_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"

typedef struct ww_index {
    uint64_t *slots; /* (hash32 << 32) | (id + 1); 0 = empty */
    size_t cap;      /* power of two, or 0 before the first insert */
    size_t count;
} ww_index_t;

/* True when entry `id` of the owner (ctx) has key `key`. */
typedef bool (*ww_index_eq_fn)(const void *ctx, uint32_t id, const void *key);

/* Hashes of the two key kinds the domain uses. */
uint64_t ww_index_hash_str(const char *s);
uint64_t ww_index_hash_i64(int64_t k);

/* An empty index (no allocation until the first insert). */
void ww_index_init(ww_index_t *ix);
void ww_index_destroy(ww_index_t *ix);

/* Deep copy into *dst (which is overwritten, not freed first). WW_OK or
 * WW_ERR_RESOURCE_EXHAUSTED with *dst left empty. */
ww_code_t ww_index_clone(ww_index_t *dst, const ww_index_t *src,
                         ww_err_t *err);

/* The id of the entry with `key`, or -1. */
int64_t ww_index_find(const ww_index_t *ix, uint64_t hash, const void *key,
                      ww_index_eq_fn eq, const void *ctx);

/* Adds `id` under `hash`; the caller has checked that the key is absent.
 * WW_OK, or WW_ERR_RESOURCE_EXHAUSTED (out of memory) with nothing added. */
ww_code_t ww_index_insert(ww_index_t *ix, uint64_t hash, uint32_t id,
                          ww_err_t *err);

/* Removes the entry `id` inserted under `hash` (backward-shift deletion, so
 * lookups stay as short as if it had never been there). Returns false when
 * no such entry exists. Never allocates. */
bool ww_index_remove(ww_index_t *ix, uint64_t hash, uint32_t id);

#endif
