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

#include "ww_auth_jwt.h"
#include "ww_err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ww_auth_cache ww_auth_cache_t;

/* `entries` is rounded up to a multiple of 4 (minimum 4). NULL on
 * allocation failure. The caller owns the cache. */
ww_auth_cache_t *ww_auth_cache_new(size_t entries, long leeway_s);
void ww_auth_cache_destroy(ww_auth_cache_t *cache);

/* 1 and the verified claims copied into *claims when `token` was stored
 * and is still valid at `now`; 0 otherwise (*claims untouched). */
int ww_auth_cache_lookup(ww_auth_cache_t *cache, const char *token, size_t len,
                         int64_t now, ww_auth_jwt_claims_t *claims);

/* Remembers a verified token's claims (copied) until claims->exp. */
void ww_auth_cache_insert(ww_auth_cache_t *cache, const char *token, size_t len,
                          const ww_auth_jwt_claims_t *claims);

/* The same with a key-set generation (ww_auth_jwks_generation, read before
 * the token was verified): the entry is only found by a lookup of that
 * generation, so tokens verified with keys since removed miss, and are
 * checked again. The calls above use generation 0. */
int ww_auth_cache_lookup_at(ww_auth_cache_t *cache, const char *token,
                            size_t len, int64_t now, uint64_t generation,
                            ww_auth_jwt_claims_t *claims);
void ww_auth_cache_insert_at(ww_auth_cache_t *cache, const char *token,
                             size_t len, uint64_t generation,
                             const ww_auth_jwt_claims_t *claims);

/* Entries currently stored (expired ones included until replaced). */
size_t ww_auth_cache_size(ww_auth_cache_t *cache);

#endif
