/*
 * ww_auth_cache.h - verified tokens, keyed by the SHA-256 of the token, so a
 * token seen before costs a hash and a lookup instead of a signature check.
 *
 * Bounded: a fixed number of entries in 4-way buckets; inserting into a
 * full bucket replaces the entry that expires first. An entry is only
 * returned while now < exp + leeway (the same rule the verifier applies), so
 * the cache never extends a token's life. Nothing but successfully verified
 * tokens goes in. Thread-safe: one mutex around each lookup/insert.
 */
#ifndef WW_AUTH_CACHE_H
#define WW_AUTH_CACHE_H

#include "ww_err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ww_auth_cache ww_auth_cache_t;

/* `entries` is rounded up to a multiple of 4 (minimum 4). NULL on
 * allocation failure. The caller owns the cache. */
ww_auth_cache_t *ww_auth_cache_new(size_t entries, long leeway_s);
void ww_auth_cache_destroy(ww_auth_cache_t *cache);

/* 1 and the identity copied into `identity` (identity_size bytes, always
 * NUL-terminated) and the token's exp into *exp (when not NULL) when
 * `token` was stored and is still valid at `now`; 0 otherwise. */
int ww_auth_cache_lookup(ww_auth_cache_t *cache, const char *token, size_t len,
                         int64_t now, char *identity, size_t identity_size,
                         int64_t *exp);

/* Remembers a verified token until `exp`. An identity longer than 255
 * bytes is not cached. */
void ww_auth_cache_insert(ww_auth_cache_t *cache, const char *token, size_t len,
                          int64_t exp, const char *identity);

/* Entries currently stored (expired ones included until replaced). */
size_t ww_auth_cache_size(ww_auth_cache_t *cache);

#endif
