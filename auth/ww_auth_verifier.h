/*
 * ww_auth_verifier.h - the server side of per-call authentication: turns a
 * call's `authorization` metadata into a caller identity, or a refusal.
 *
 * It combines the JWKS (ww_auth_jwks), the token checks (ww_auth_jwt), a
 * cache of verified tokens (ww_auth_cache) and the caller list
 * (ww_auth_callers) that gives each identity its role. ww_auth_verifier_check
 * is what a server's authenticate hook calls before any handler: a verified
 * caller with a role, or the status to answer the call with.
 *
 * Which methods need a token is the runtime's decision (it exempts the
 * health service unless told otherwise); this hook checks every call it is
 * given.
 *
 * Threads: after _new, _authenticate and _verify_token may run on any number
 * of threads at once (e.g. every completion-queue thread of a server). No
 * call waits for a JWKS fetch: the JWKS refreshes on its own thread.
 */
#ifndef WW_AUTH_VERIFIER_H
#define WW_AUTH_VERIFIER_H

#include "ww_auth_callers.h"
#include "ww_auth_jwks.h"
#include "ww_auth_jwt.h"
#include "ww_err.h"

#include <stddef.h>
#include <stdint.h>

#define WW_AUTH_VERIFIER_DEFAULT_CACHE 4096

typedef struct ww_auth_verifier_opts {
    ww_auth_jwt_policy_t policy; /* strings and list copied */
    /* Borrowed, must outlive the verifier; NULL: no roles (every verified
     * caller passes with ROLE_NONE: for tools and tests only). */
    const ww_auth_callers_t *callers;
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

/* A verified caller: its claims (identity "<iss>|<sub>", verified email,
 * user id) and the role the caller list gives it. */
typedef struct ww_auth_caller {
    ww_auth_jwt_claims_t claims;
    ww_auth_role_t role;
} ww_auth_caller_t;

/* Checks one call's `authorization` metadata value (NULL when absent).
 * WW_OK fills *out. Otherwise UNAUTHENTICATED (no, malformed or invalid
 * bearer token), PERMISSION_DENIED (a valid token of a caller the list
 * gives no role, or a `user` whose token lacks the user id claim) or
 * UNAVAILABLE, always with err->msg set. */
ww_code_t ww_auth_verifier_check(ww_auth_verifier_t *v,
                                 const char *authorization,
                                 ww_auth_caller_t *out, ww_err_t *err);

/* The same with the identity only, written into `identity` (identity_size
 * bytes, NUL-terminated): the shape of a simple authenticate hook (ctx =
 * the verifier; `method` unused), for tests and benchmarks. */
ww_code_t ww_auth_verifier_authenticate(void *ctx, const char *method,
                                        const char *authorization,
                                        char *identity, size_t identity_size,
                                        ww_err_t *err);

/* Token check with the cache, without the caller list (for tools and
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
