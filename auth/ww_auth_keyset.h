/*
 * ww_auth_keyset.h - an immutable set of public verification keys parsed
 * from a JWKS document (RFC 7517): RSA keys (n, e) for RS256 and P-256 EC
 * keys (crv, x, y) for ES256.
 *
 * Each key is pinned to exactly one algorithm, derived from its type (and
 * its `alg` member when present, which must agree): a token is only ever
 * checked with the algorithm its key allows, never with the one the token
 * names. Keys of other types, other curves, `use` other than "sig", or
 * private members ("d") are skipped (the rest of the set stays usable).
 *
 * Ownership and threads: a keyset is reference-counted and never changes
 * after parsing, so any number of threads may look keys up and verify with
 * them concurrently (OpenSSL 3 allows concurrent use of one EVP_PKEY for
 * verification). ww_auth_keyset_ref/unref are atomic.
 */
#ifndef WW_AUTH_KEYSET_H
#define WW_AUTH_KEYSET_H

#include "ww_err.h"

#include <openssl/evp.h>
#include <stddef.h>

typedef enum ww_auth_alg {
    WW_AUTH_ALG_NONE = 0,
    WW_AUTH_ALG_RS256,
    WW_AUTH_ALG_ES256,
} ww_auth_alg_t;

typedef struct ww_auth_key {
    char kid[128];     /* "" when the JWK has none */
    ww_auth_alg_t alg; /* the only algorithm this key verifies */
    EVP_PKEY *pkey;    /* owned by the keyset */
} ww_auth_key_t;

typedef struct ww_auth_keyset ww_auth_keyset_t;

/* Parses a JWKS JSON document of `len` bytes. On WW_OK *out holds a new set
 * with one reference (possibly with zero usable keys; see
 * ww_auth_keyset_count). INVALID_ARGUMENT when the document is not JSON or
 * has no "keys" array. The input is not retained. */
ww_code_t ww_auth_keyset_parse(const char *json, size_t len,
                               ww_auth_keyset_t **out, ww_err_t *err);

/* Number of usable keys. */
size_t ww_auth_keyset_count(const ww_auth_keyset_t *set);

/* The key with this kid, or, when kid is NULL and the set holds exactly one
 * key, that key; NULL otherwise. The pointer lives as long as the caller's
 * reference on the set. */
const ww_auth_key_t *ww_auth_keyset_find(const ww_auth_keyset_t *set,
                                         const char *kid);

/* The i-th usable key (i < ww_auth_keyset_count), NULL past the end. */
const ww_auth_key_t *ww_auth_keyset_at(const ww_auth_keyset_t *set, size_t i);

/* 1 when every key of `old` is in `fresh` under the same kid, with the same
 * algorithm and public key (keys may have been added); 0 otherwise. */
int ww_auth_keyset_keeps(const ww_auth_keyset_t *old,
                         const ww_auth_keyset_t *fresh);

/* Adds a reference; returns set. */
ww_auth_keyset_t *ww_auth_keyset_ref(ww_auth_keyset_t *set);

/* Drops a reference; the last one frees the keys. NULL is a no-op. */
void ww_auth_keyset_unref(ww_auth_keyset_t *set);

/* "RS256" / "ES256" / "none". */
const char *ww_auth_alg_name(ww_auth_alg_t alg);

#endif
