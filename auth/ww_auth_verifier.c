/* ww_auth_verifier.c - bearer token -> caller identity. */
#include "ww_auth_verifier.h"

#include "ww_auth_cache.h"
#include "ww_auth_strlist.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct ww_auth_verifier {
    ww_auth_jwt_policy_t policy; /* points into the copies below */
    char *audience;
    char **issuers;
    const ww_auth_callers_t *callers;
    char *user_id_claim;
    int64_t (*now)(void);
    ww_auth_jwks_t *jwks;
    ww_auth_cache_t *cache;
    atomic_ulong hits, verifications;
};

static int64_t wall_now(void) {
    return (int64_t)time(NULL);
}

ww_code_t ww_auth_verifier_new(const ww_auth_verifier_opts_t *opts,
                               ww_auth_jwks_t *jwks, ww_auth_verifier_t **out,
                               ww_err_t *err) {
    *out = NULL;
    if (!opts->policy.audience || !*opts->policy.audience)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "a JWT audience is required");
    if (!jwks)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "a JWKS is required");
    ww_auth_verifier_t *v = calloc(1, sizeof *v);
    if (!v) return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    int oom = 0;
    v->audience = strdup(opts->policy.audience);
    v->issuers = ww_auth_strlist_copy(opts->policy.issuers, &oom);
    v->callers = opts->callers;
    if (opts->policy.user_id_claim &&
        !(v->user_id_claim = strdup(opts->policy.user_id_claim)))
        oom = 1;
    v->cache =
        ww_auth_cache_new(opts->cache_entries ? opts->cache_entries
                                              : WW_AUTH_VERIFIER_DEFAULT_CACHE,
                          opts->policy.leeway_s);
    if (oom || !v->audience || !v->cache) {
        ww_auth_verifier_destroy(v);
        return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    }
    v->policy = opts->policy;
    v->policy.audience = v->audience;
    v->policy.issuers = (const char *const *)v->issuers;
    v->policy.user_id_claim = v->user_id_claim;
    v->now = opts->now ? opts->now : wall_now;
    v->jwks = jwks;
    atomic_init(&v->hits, 0);
    atomic_init(&v->verifications, 0);
    *out = v;
    return WW_OK;
}

void ww_auth_verifier_destroy(ww_auth_verifier_t *v) {
    if (!v) return;
    ww_auth_cache_destroy(v->cache);
    ww_auth_strlist_free(v->issuers);
    free(v->user_id_claim);
    free(v->audience);
    free(v);
}

ww_code_t ww_auth_verifier_verify_token(ww_auth_verifier_t *v,
                                        const char *token, size_t len,
                                        int64_t now,
                                        ww_auth_jwt_claims_t *claims,
                                        ww_err_t *err) {
    size_t max = v->policy.max_token_bytes ? v->policy.max_token_bytes
                                           : WW_AUTH_JWT_DEFAULT_MAX_BYTES;
    /* Refuse oversized input before hashing it for the cache. */
    if (len > max)
        return ww_err_set(err, WW_ERR_UNAUTHENTICATED,
                          "token of %zu bytes exceeds the limit of %zu", len,
                          max);
    /* Read before verifying: should a key be removed meanwhile, the entry
     * carries the older generation and is not found again. */
    uint64_t gen = ww_auth_jwks_generation(v->jwks);
    if (ww_auth_cache_lookup_at(v->cache, token, len, now, gen, claims)) {
        atomic_fetch_add(&v->hits, 1);
        return WW_OK;
    }
    atomic_fetch_add(&v->verifications, 1);
    ww_code_t rc = ww_auth_jwt_verify(token, len, &v->policy, ww_auth_jwks_keys,
                                      v->jwks, now, claims, err);
    if (rc == WW_OK) ww_auth_cache_insert_at(v->cache, token, len, gen, claims);
    return rc;
}

ww_code_t ww_auth_verifier_check(ww_auth_verifier_t *v,
                                 const char *authorization,
                                 ww_auth_caller_t *out, ww_err_t *err) {
    memset(out, 0, sizeof *out);
    if (!authorization)
        return ww_err_set(
            err, WW_ERR_UNAUTHENTICATED,
            "missing authorization metadata (expected \"Bearer <id token>\")");
    /* RFC 7235: the scheme is case-insensitive, then one or more spaces. */
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return ww_err_set(err, WW_ERR_UNAUTHENTICATED,
                          "authorization scheme is not Bearer");
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen(token);
    if (len == 0)
        return ww_err_set(err, WW_ERR_UNAUTHENTICATED, "empty bearer token");
    ww_code_t rc = ww_auth_verifier_verify_token(v, token, len, v->now(),
                                                 &out->claims, err);
    if (rc != WW_OK) return rc;
    if (!v->callers) return WW_OK;
    out->role = ww_auth_callers_match(v->callers, &out->claims);
    if (out->role == WW_AUTH_ROLE_NONE)
        return ww_err_set(err, WW_ERR_PERMISSION_DENIED,
                          "caller %s has no role on this service (not in "
                          "the caller list)",
                          out->claims.identity);
    if (out->role == WW_AUTH_ROLE_USER && !out->claims.user_id[0])
        return ww_err_set(err, WW_ERR_PERMISSION_DENIED,
                          "caller %s is a user, but its token has no "
                          "printable user id claim \"%s\" (at most 128 "
                          "characters)",
                          out->claims.identity,
                          v->user_id_claim ? v->user_id_claim : "sub");
    return WW_OK;
}

ww_code_t ww_auth_verifier_authenticate(void *ctx, const char *method,
                                        const char *authorization,
                                        char *identity, size_t identity_size,
                                        ww_err_t *err) {
    (void)method;
    if (identity_size) identity[0] = '\0';
    ww_auth_caller_t c;
    ww_code_t rc = ww_auth_verifier_check(ctx, authorization, &c, err);
    if (rc != WW_OK) return rc;
    if (identity_size <= strlen(c.claims.identity))
        return ww_err_set(err, WW_ERR_INTERNAL, "identity buffer too small");
    strcpy(identity, c.claims.identity);
    return WW_OK;
}

void ww_auth_verifier_stats(ww_auth_verifier_t *v, unsigned long *cache_hits,
                            unsigned long *verifications) {
    if (cache_hits) *cache_hits = atomic_load(&v->hits);
    if (verifications) *verifications = atomic_load(&v->verifications);
}
