/*
 * ww_auth_jwks.h - the server's JWKS: loaded from a file or an https:// URL,
 * kept in memory, and reloaded when a token names a kid the set does not
 * hold (key rotation), at most once per refresh interval so a stream of
 * forged kids cannot turn into a stream of fetches.
 *
 * Threads: every function except _new/_destroy may be called from any number
 * of threads at once. Lookups of known kids take one short mutex; a reload
 * happens on the calling thread (bounded by timeout_ms) while other threads
 * keep answering from the current set. Only one thread reloads at a time.
 */
#ifndef WW_AUTH_JWKS_H
#define WW_AUTH_JWKS_H

#include "ww_auth_keyset.h"
#include "ww_err.h"

#define WW_AUTH_JWKS_DEFAULT_REFRESH_MS 5000
#define WW_AUTH_JWKS_DEFAULT_TIMEOUT_MS 2000
#define WW_AUTH_JWKS_MAX_BYTES          (1024 * 1024)

typedef struct ww_auth_jwks_opts {
    const char *source;       /* file path or https:// URL; copied */
    long refresh_interval_ms; /* minimum time between reloads; 0 = default */
    long timeout_ms;          /* per fetch; 0 = default */
    const char *ca_file;      /* PEM roots for the https fetch; NULL = system
                                 roots; copied */
} ww_auth_jwks_opts_t;

typedef struct ww_auth_jwks ww_auth_jwks_t;

/* Loads the set once (fails closed: a source that cannot be read, parsed or
 * that holds no usable key is an error naming the source). On WW_OK *out is
 * owned by the caller until ww_auth_jwks_destroy. */
ww_code_t ww_auth_jwks_new(const ww_auth_jwks_opts_t *opts,
                           ww_auth_jwks_t **out, ww_err_t *err);

/* Frees the loader; key sets still referenced by callers stay valid until
 * they drop them. Must not race with other calls on the same loader. */
void ww_auth_jwks_destroy(ww_auth_jwks_t *jwks);

/* A ww_auth_jwt_keys_fn (ctx = the ww_auth_jwks_t *): hands out a reference
 * to the current set, reloading first when `kid` is not in it and the last
 * reload attempt is older than the refresh interval. A failed reload keeps
 * the current set (and logs why); the token then fails as "unknown kid". */
ww_code_t ww_auth_jwks_keys(void *jwks, const char *kid, ww_auth_keyset_t **set,
                            ww_err_t *err);

/* Load attempts so far, the initial one included (for tests and metrics). */
unsigned long ww_auth_jwks_load_count(ww_auth_jwks_t *jwks);

#endif
