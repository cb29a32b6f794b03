/*
 * ww_auth_jwt.h - verification of one compact JWS identity token (RFC 7515 /
 * 7519): structure, signature, then claims. Pure apart from the OpenSSL
 * signature check and the key lookup the caller provides.
 *
 * What is accepted: three base64url segments; a JSON header whose `alg` is
 * RS256 or ES256 *and* equal to the algorithm the key with that `kid` is
 * pinned to (so `none`, HS256 and any key confusion fail); no `crit`; a valid
 * signature over "header.payload"; a JSON payload with `iss` in the
 * allowlist, `aud` equal to (or, as an array, containing) the audience,
 * `exp` in the future and `nbf`/`iat` not in the future (each with
 * `leeway_s`), and a `sub`. The identity is `iss` + `sub` ("<iss>|<sub>",
 * printable ASCII, an issuer without '|'); the `email` is kept only when
 * `email_verified` is the JSON value true; the user id is `sub`, or the
 * string claim the policy names (empty when the token lacks it).
 *
 * Every failure is UNAUTHENTICATED with a message that says which check
 * failed (the message never echoes the token). Thread-safe: no shared state.
 */
#ifndef WW_AUTH_JWT_H
#define WW_AUTH_JWT_H

#include "ww_auth_keyset.h"
#include "ww_err.h"

#include <stddef.h>
#include <stdint.h>

#define WW_AUTH_JWT_DEFAULT_ISSUER    "https://accounts.google.com"
#define WW_AUTH_JWT_DEFAULT_MAX_BYTES 8192
#define WW_AUTH_JWT_IDENTITY_MAX      256 /* "<iss>|<sub>", NUL included */
#define WW_AUTH_JWT_EMAIL_MAX         256
#define WW_AUTH_JWT_USER_ID_MAX       129 /* 128 characters and the NUL */

typedef struct ww_auth_jwt_policy {
    const char *audience;       /* required, compared exactly */
    const char *const *issuers; /* NULL-terminated; NULL = the Google issuer */
    long leeway_s;              /* allowed clock skew, seconds (e.g. 30) */
    size_t max_token_bytes;     /* 0 = WW_AUTH_JWT_DEFAULT_MAX_BYTES */
    const char *user_id_claim;  /* claim naming the user; NULL = "sub" */
} ww_auth_jwt_policy_t;

typedef struct ww_auth_jwt_claims {
    char identity[WW_AUTH_JWT_IDENTITY_MAX]; /* "<iss>|<sub>" */
    size_t issuer_len;                       /* identity[0..issuer_len) = iss */
    char email[WW_AUTH_JWT_EMAIL_MAX];       /* "" unless verified (true) */
    char user_id[WW_AUTH_JWT_USER_ID_MAX];   /* "" when the claim is absent */
    int64_t exp;                             /* seconds since the epoch */
} ww_auth_jwt_claims_t;

/* Supplies the key set that should hold `kid` (NULL when the token names
 * none): on WW_OK *set is a reference the verifier drops when done. It is
 * called on the verifying thread and should not block (ww_auth_jwks_keys
 * never does). */
typedef ww_code_t (*ww_auth_jwt_keys_fn)(void *ctx, const char *kid,
                                         ww_auth_keyset_t **set, ww_err_t *err);

/* Verifies `token` (`len` bytes, no NUL needed) at time `now` (seconds since
 * the epoch; an input so tests control the clock). WW_OK fills *claims;
 * anything else is UNAUTHENTICATED (or what the key lookup returned, e.g.
 * UNAVAILABLE when the JWKS cannot be fetched) with err set. */
ww_code_t ww_auth_jwt_verify(const char *token, size_t len,
                             const ww_auth_jwt_policy_t *policy,
                             ww_auth_jwt_keys_fn keys, void *keys_ctx,
                             int64_t now, ww_auth_jwt_claims_t *claims,
                             ww_err_t *err);

/* Reads `exp` from the payload WITHOUT verifying anything: only for a
 * client deciding when to refresh its own token. INVALID_ARGUMENT when the
 * token is not three segments with a JSON payload holding a numeric exp. */
ww_code_t ww_auth_jwt_peek_exp(const char *token, size_t len, int64_t *exp,
                               ww_err_t *err);

#endif
