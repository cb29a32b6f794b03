/*
 * ww_auth_jwks.h - the server's JWKS: loaded from a file or an https:// URL,
 * kept in memory, and refreshed by a background thread of its own, so no
 * caller ever waits for a fetch.
 *
 * Refresh: every TTL (opts.ttl_ms, or the response's Cache-Control max-age
 * when that is shorter; never more often than refresh_interval_ms), so a
 * key removed from the JWKS stops being trusted within one TTL. A token
 * naming a kid the set does not hold (key rotation, or a forged kid) asks
 * the thread for an early refresh, at most once per refresh interval, and
 * fails at once with the current set: callers never wait. A failed refresh
 * keeps the current set (and logs why) and is retried after the refresh
 * interval.
 *
 * Threads: every function except _new/_destroy may be called from any number
 * of threads at once; lookups take one short mutex. One refresh runs at a
 * time, on the loader's thread. _destroy stops it (an HTTP fetch in flight
 * is abandoned within about a second).
 */
#ifndef WW_AUTH_JWKS_H
#define WW_AUTH_JWKS_H

#include "ww_auth_keyset.h"
#include "ww_err.h"

#include <stdint.h>

#define WW_AUTH_JWKS_DEFAULT_REFRESH_MS 5000
#define WW_AUTH_JWKS_DEFAULT_TIMEOUT_MS 2000
#define WW_AUTH_JWKS_DEFAULT_TTL_MS     300000
#define WW_AUTH_JWKS_MAX_BYTES          (1024 * 1024)

typedef struct ww_auth_jwks_opts {
    const char *source;       /* file path or https:// URL; copied */
    long refresh_interval_ms; /* minimum time between reloads; 0 = default */
    long timeout_ms;          /* per fetch; 0 = default */
    long ttl_ms;              /* refresh period and the longest a set is
                                 kept; a shorter max-age wins; 0 = default */
    const char *ca_file;      /* PEM roots for the https fetch; NULL = system
                                 roots; copied */
} ww_auth_jwks_opts_t;

typedef struct ww_auth_jwks ww_auth_jwks_t;

/* Loads the set once, on the calling thread (fails closed: a source that
 * cannot be read, parsed or that holds no usable key is an error naming
 * the source), then starts the refresh thread. On WW_OK *out is owned by
 * the caller until ww_auth_jwks_destroy. */
ww_code_t ww_auth_jwks_new(const ww_auth_jwks_opts_t *opts,
                           ww_auth_jwks_t **out, ww_err_t *err);

/* Stops the refresh thread and frees the loader; key sets still referenced
 * by callers stay valid until they drop them. Must not race with other
 * calls on the same loader. NULL is a no-op. */
void ww_auth_jwks_destroy(ww_auth_jwks_t *jwks);

/* A ww_auth_jwt_keys_fn (ctx = the ww_auth_jwks_t *): hands out a reference
 * to the current set at once, never waiting. When `kid` is not in it, asks
 * for a refresh (unless one runs or the last attempt is younger than the
 * refresh interval); the token then fails as "unknown kid". */
ww_code_t ww_auth_jwks_keys(void *jwks, const char *kid, ww_auth_keyset_t **set,
                            ww_err_t *err);

/* Load attempts started so far, the initial one included (tests, metrics). */
unsigned long ww_auth_jwks_load_count(ww_auth_jwks_t *jwks);

/* Waits until at least `n` load attempts have finished (succeeded or
 * failed); 1 when they had within timeout_ms. For tests. */
int ww_auth_jwks_wait_loads(ww_auth_jwks_t *jwks, unsigned long n,
                            long timeout_ms);

/* Bumped each time a refresh removes or replaces a key (adding keys does
 * not): verified-token caches stamp entries with it, so a token verified
 * with a key since removed is not answered from a cache (ww_auth_cache
 * _lookup_at). Any thread. */
uint64_t ww_auth_jwks_generation(ww_auth_jwks_t *jwks);

/* The TTL of the current set in ms (opts.ttl_ms or a shorter max-age). */
long ww_auth_jwks_ttl_ms(ww_auth_jwks_t *jwks);

#endif
