/* ww_auth_jwt.c - JWS structure, signature and claim checks. */
#include "ww_auth_jwt.h"

#include "ww_auth_b64url.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define UNAUTH(err, ...) ww_err_set(err, WW_ERR_UNAUTHENTICATED, __VA_ARGS__)

typedef struct jws_parts {
    const char *seg[3];
    size_t len[3];
} jws_parts_t;

static const char *const segment_names[3] = {"header", "payload", "signature"};

static ww_code_t split(const char *token, size_t len, jws_parts_t *p,
                       ww_err_t *err) {
    size_t start = 0, n = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && token[i] != '.') continue;
        if (n == 3)
            return UNAUTH(err, "malformed token: more than three segments");
        p->seg[n] = token + start;
        p->len[n] = i - start;
        n++;
        start = i + 1;
    }
    if (n != 3)
        return UNAUTH(
            err,
            "malformed token: expected three dot-separated segments, got %zu",
            n);
    for (int i = 0; i < 3; i++)
        if (p->len[i] == 0)
            return UNAUTH(err, "malformed token: empty %s", segment_names[i]);
    return WW_OK;
}

/* Decodes one segment as a JSON object. */
static ww_code_t segment_json(const jws_parts_t *p, int i, json_t **out,
                              ww_err_t *err) {
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    ww_err_t derr;
    *out = NULL;
    if (ww_auth_b64url_decode(p->seg[i], p->len[i], segment_names[i], &raw,
                              &rawlen, &derr) != WW_OK)
        return UNAUTH(err, "malformed token: %s", derr.msg);
    json_error_t jerr;
    json_t *j =
        json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (!json_is_object(j)) {
        json_decref(j);
        return UNAUTH(err, "malformed token: %s is not a JSON object",
                      segment_names[i]);
    }
    *out = j;
    return WW_OK;
}

static ww_auth_alg_t alg_from_name(const char *s) {
    if (!strcmp(s, "RS256")) return WW_AUTH_ALG_RS256;
    if (!strcmp(s, "ES256")) return WW_AUTH_ALG_ES256;
    return WW_AUTH_ALG_NONE;
}

/* Half the order of P-256, rounded down: the largest low S. */
static const unsigned char p256_half_order[32] = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
    0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

/* Only low S (s <= n/2) is accepted: (r, s) and (r, n - s) both verify,
 * and a token with two valid spellings defeats the cache and any denylist.
 * Both are 32 big-endian bytes, so memcmp orders them as numbers. */
static int es256_high_s(const unsigned char *sig, size_t len) {
    return len == 64 && memcmp(sig + 32, p256_half_order, 32) > 0;
}

/* JWS carries ECDSA signatures as r||s (RFC 7518 §3.4); OpenSSL wants DER. */
static unsigned char *es256_to_der(const unsigned char *sig, size_t len,
                                   size_t *der_len) {
    if (len != 64) return NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        int n = i2d_ECDSA_SIG(es, &der);
        if (n <= 0)
            der = NULL;
        else
            *der_len = (size_t)n;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return der;
}

static int signature_ok(const ww_auth_key_t *key, const char *input,
                        size_t input_len, const unsigned char *sig,
                        size_t sig_len) {
    unsigned char *der = NULL;
    if (key->alg == WW_AUTH_ALG_ES256) {
        der = es256_to_der(sig, sig_len, &sig_len);
        if (!der) return 0;
        sig = der;
    } else if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
        return 0;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok =
        md &&
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
        EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input,
                         input_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return ok;
}

/* Signature check of the parsed header; fills nothing but err on failure. */
static ww_code_t check_signature(const jws_parts_t *p, json_t *header,
                                 ww_auth_jwt_keys_fn keys, void *keys_ctx,
                                 ww_err_t *err) {
    json_t *jalg = json_object_get(header, "alg");
    json_t *jkid = json_object_get(header, "kid");
    if (!json_is_string(jalg)) return UNAUTH(err, "token header has no alg");
    ww_auth_alg_t alg = alg_from_name(json_string_value(jalg));
    if (alg == WW_AUTH_ALG_NONE)
        return UNAUTH(
            err,
            "token algorithm \"%.32s\" is not accepted (RS256, ES256 only)",
            json_string_value(jalg));
    if (json_object_get(header, "crit"))
        return UNAUTH(err, "token header has unsupported crit");
    if (jkid && !json_is_string(jkid))
        return UNAUTH(err, "token kid is not a string");
    const char *kid = jkid ? json_string_value(jkid) : NULL;

    ww_auth_keyset_t *set = NULL;
    ww_code_t rc = keys(keys_ctx, kid, &set, err);
    if (rc != WW_OK) return rc;
    const ww_auth_key_t *key = ww_auth_keyset_find(set, kid);
    if (!key) {
        ww_auth_keyset_unref(set);
        return kid ? UNAUTH(err, "unknown signing key kid \"%.64s\"", kid)
                   : UNAUTH(err, "token has no kid and the key set does not "
                                 "hold exactly one key");
    }
    if (key->alg != alg) {
        ww_auth_keyset_unref(set);
        return UNAUTH(
            err, "token algorithm %s does not match key \"%.64s\" (%s)",
            ww_auth_alg_name(alg), key->kid, ww_auth_alg_name(key->alg));
    }
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    ww_err_t derr;
    if (ww_auth_b64url_decode(p->seg[2], p->len[2], "signature", &sig, &sig_len,
                              &derr) != WW_OK) {
        ww_auth_keyset_unref(set);
        return UNAUTH(err, "malformed token: %s", derr.msg);
    }
    if (key->alg == WW_AUTH_ALG_ES256 && es256_high_s(sig, sig_len)) {
        free(sig);
        ww_auth_keyset_unref(set);
        return UNAUTH(err, "token signature is not canonical (ES256 with "
                           "high S; only low S is accepted)");
    }
    /* The signed input is "header.payload". */
    size_t input_len = (size_t)(p->seg[2] - p->seg[0]) - 1;
    int ok = signature_ok(key, p->seg[0], input_len, sig, sig_len);
    free(sig);
    ww_auth_keyset_unref(set);
    return ok ? WW_OK : UNAUTH(err, "token signature is invalid");
}

static int numeric_claim(json_t *payload, const char *name, int64_t *out) {
    json_t *v = json_object_get(payload, name);
    if (!v) return 0;
    if (!json_is_number(v)) return -1;
    double d = json_number_value(v);
    if (!(d > -1e15 && d < 1e15)) return -1; /* also rejects NaN */
    *out = (int64_t)d;
    return 1;
}

static int printable(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) return 0;
    return 1;
}

static int audience_matches(json_t *aud, const char *want) {
    if (json_is_string(aud)) return !strcmp(json_string_value(aud), want);
    if (!json_is_array(aud)) return 0;
    size_t i;
    json_t *v;
    json_array_foreach(aud, i,
                       v) if (json_is_string(v) &&
                              !strcmp(json_string_value(v), want)) return 1;
    return 0;
}

static ww_code_t check_claims(json_t *payload,
                              const ww_auth_jwt_policy_t *policy, int64_t now,
                              ww_auth_jwt_claims_t *claims, ww_err_t *err) {
    static const char *const default_issuers[] = {WW_AUTH_JWT_DEFAULT_ISSUER,
                                                  NULL};
    const char *const *issuers =
        policy->issuers ? policy->issuers : default_issuers;
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    if (!iss) return UNAUTH(err, "token has no iss");
    int iss_ok = 0;
    for (const char *const *i = issuers; *i && !iss_ok; i++)
        iss_ok = !strcmp(*i, iss);
    if (!iss_ok)
        return UNAUTH(err, "token issuer \"%.80s\" is not trusted", iss);

    json_t *aud = json_object_get(payload, "aud");
    if (!aud) return UNAUTH(err, "token has no aud");
    if (!policy->audience || !audience_matches(aud, policy->audience))
        return UNAUTH(err, "token audience does not match \"%.100s\"",
                      policy->audience ? policy->audience : "");

    int64_t exp = 0, nbf = 0, iat = 0, leeway = policy->leeway_s;
    int has = numeric_claim(payload, "exp", &exp);
    if (has <= 0) return UNAUTH(err, "token has no numeric exp");
    if (exp + leeway <= now)
        return UNAUTH(err, "token expired %lld s ago", (long long)(now - exp));
    has = numeric_claim(payload, "nbf", &nbf);
    if (has < 0) return UNAUTH(err, "token nbf is not a number");
    if (has && nbf - leeway > now)
        return UNAUTH(err, "token not valid yet (nbf in %lld s)",
                      (long long)(nbf - now));
    has = numeric_claim(payload, "iat", &iat);
    if (has < 0) return UNAUTH(err, "token iat is not a number");
    if (has && iat - leeway > now)
        return UNAUTH(err, "token issued in the future (iat in %lld s)",
                      (long long)(iat - now));

    const char *sub = json_string_value(json_object_get(payload, "sub"));
    if (!sub || !*sub) return UNAUTH(err, "token has no sub");
    size_t il = strlen(iss), sl = strlen(sub);
    if (il + 1 + sl >= sizeof claims->identity || !printable(iss) ||
        !printable(sub) || strchr(iss, '|'))
        return UNAUTH(err, "token iss/sub is too long or not printable");
    memcpy(claims->identity, iss, il);
    claims->identity[il] = '|';
    memcpy(claims->identity + il + 1, sub, sl + 1);
    claims->issuer_len = il;
    /* An email counts only when its issuer vouches for it explicitly. */
    const char *email = json_string_value(json_object_get(payload, "email"));
    if (email && json_is_true(json_object_get(payload, "email_verified")) &&
        strlen(email) < sizeof claims->email && printable(email))
        strcpy(claims->email, email);
    const char *uid_claim =
        policy->user_id_claim ? policy->user_id_claim : "sub";
    const char *uid = json_string_value(json_object_get(payload, uid_claim));
    if (uid && strlen(uid) < sizeof claims->user_id && printable(uid))
        strcpy(claims->user_id, uid);
    claims->exp = exp;
    return WW_OK;
}

ww_code_t ww_auth_jwt_verify(const char *token, size_t len,
                             const ww_auth_jwt_policy_t *policy,
                             ww_auth_jwt_keys_fn keys, void *keys_ctx,
                             int64_t now, ww_auth_jwt_claims_t *claims,
                             ww_err_t *err) {
    size_t max = policy->max_token_bytes ? policy->max_token_bytes
                                         : WW_AUTH_JWT_DEFAULT_MAX_BYTES;
    memset(claims, 0, sizeof *claims);
    if (!token || len == 0) return UNAUTH(err, "empty token");
    if (len > max)
        return UNAUTH(err, "token of %zu bytes exceeds the limit of %zu", len,
                      max);
    jws_parts_t p;
    ww_code_t rc = split(token, len, &p, err);
    if (rc != WW_OK) return rc;
    json_t *header = NULL, *payload = NULL;
    rc = segment_json(&p, 0, &header, err);
    if (rc == WW_OK) rc = check_signature(&p, header, keys, keys_ctx, err);
    /* Claims are only read once the signature vouches for them. */
    if (rc == WW_OK) rc = segment_json(&p, 1, &payload, err);
    if (rc == WW_OK) rc = check_claims(payload, policy, now, claims, err);
    json_decref(header);
    json_decref(payload);
    if (rc != WW_OK) memset(claims, 0, sizeof *claims);
    return rc;
}

ww_code_t ww_auth_jwt_peek_exp(const char *token, size_t len, int64_t *exp,
                               ww_err_t *err) {
    jws_parts_t p;
    json_t *payload = NULL;
    ww_err_t why = {0};
    *exp = 0;
    if (!token || len == 0 || len > WW_AUTH_JWT_DEFAULT_MAX_BYTES * 4)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "token is empty or too large");
    if (split(token, len, &p, &why) != WW_OK ||
        segment_json(&p, 1, &payload, &why) != WW_OK)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "not a JWT: %s",
                          why.msg);
    int has = numeric_claim(payload, "exp", exp);
    json_decref(payload);
    if (has <= 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "not a JWT: no numeric exp");
    return WW_OK;
}
