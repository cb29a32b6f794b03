/*
 * ww_auth_verifier.h - the server side of per-call authentication: turns a
 * call's `authorization` metadata into a caller identity, or a refusal.
 *
 * It combines the JWKS (ww_auth_jwks), the token checks (ww_auth_jwt), a
 * cache of verified tokens (ww_auth_cache) and an optional allowlist of
 * caller identities. ww_auth_verifier_authenticate has the signature of the
 * gRPC runtime's authenticate hook: the runtime calls it before any handler
 * and answers the call with the returned status when it is not OK.
 *
 * Which methods need a token is the runtime's decision (it exempts the
 * health service unless told otherwise); this hook checks every call it is
 * given.
 *
 * Threads: after _new, _authenticate and _verify_token may run on any number
 * of threads at once (e.g. every completion-queue thread of a server). A
 * JWKS reload (unknown kid) runs on the calling thread, bounded by the JWKS
 * fetch timeout.
 */
#ifndef WW_AUTH_VERIFIER_H
#define WW_AUTH_VERIFIER_H

#include "ww_auth_jwks.h"
#include "ww_auth_jwt.h"
#include "ww_err.h"

#include <stddef.h>
#include <stdint.h>

#define WW_AUTH_VERIFIER_DEFAULT_CACHE 4096

typedef struct ww_auth_verifier_opts {
    ww_auth_jwt_policy_t policy; /* strings and list copied */
    const char *const
        *allowed_callers; /* NULL-terminated; NULL = any verified caller */
    size_t cache_entries; /* 0 = default; bounded memory */
    int64_t (*now)(void); /* clock in seconds; NULL = time(NULL) */
} ww_auth_verifier_opts_t;

typedef struct ww_auth_verifier ww_auth_verifier_t;

/* `jwks` is borrowed: it must outlive the verifier. On WW_OK *out belongs
 * to the caller (ww_auth_verifier_destroy). INVALID_ARGUMENT when the
 * policy has no audience. */
ww_code_t ww_auth_verifier_new(const ww_auth_verifier_opts_t *opts,
                               ww_auth_jwks_t *jwks, ww_auth_verifier_t **out,
                               ww_err_t *err);

/* Only after every call that may use it has finished. NULL is a no-op. */
void ww_auth_verifier_destroy(ww_auth_verifier_t *v);

/* The runtime's hook (ctx = the verifier). `authorization` is the
 * metadata value or NULL when absent; `method` the full method path.
 * WW_OK writes the caller identity (email or sub) into `identity`
 * (identity_size bytes, NUL-terminated). Otherwise UNAUTHENTICATED (no,
 * malformed or invalid bearer token), PERMISSION_DENIED (valid token of a
 * caller not on the allowlist) or UNAVAILABLE, always with err->msg set. */
ww_code_t ww_auth_verifier_authenticate(void *ctx, const char *method,
                                        const char *authorization,
                                        char *identity, size_t identity_size,
                                        ww_err_t *err);

/* Token check with the cache, without the allowlist (for tools and
 * benchmarks). `now` as for ww_auth_jwt_verify. */
ww_code_t ww_auth_verifier_verify_token(ww_auth_verifier_t *v,
                                        const char *token, size_t len,
                                        int64_t now,
                                        ww_auth_jwt_claims_t *claims,
                                        ww_err_t *err);

/* Tokens answered from the cache / with a signature check, so far. */
void ww_auth_verifier_stats(ww_auth_verifier_t *v, unsigned long *cache_hits,
                            unsigned long *verifications);

#endif
