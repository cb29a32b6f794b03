/* ww_auth_keyset.c - JWKS parsing into OpenSSL 3 public keys. */
#include "ww_auth_keyset.h"

#include "ww_auth_b64url.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct ww_auth_keyset {
    atomic_int refs;
    size_t n;
    ww_auth_key_t *keys;
};

const char *ww_auth_alg_name(ww_auth_alg_t alg) {
    switch (alg) {
    case WW_AUTH_ALG_RS256:
        return "RS256";
    case WW_AUTH_ALG_ES256:
        return "ES256";
    default:
        return "none";
    }
}

/* Decodes a base64url string member; NULL when absent or invalid. */
static unsigned char *member_bytes(json_t *jwk, const char *name, size_t *len) {
    const char *s = json_string_value(json_object_get(jwk, name));
    unsigned char *out = NULL;
    if (!s) return NULL;
    if (ww_auth_b64url_decode(s, strlen(s), name, &out, len, NULL) != WW_OK)
        return NULL;
    if (*len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld) {
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
            pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (!pkey) return NULL;
    /* fromdata does not check that an EC point is on the curve. */
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = chk && EVP_PKEY_public_check(chk) == 1;
    EVP_PKEY_CTX_free(chk);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

static EVP_PKEY *rsa_key(json_t *jwk) {
    size_t nlen = 0, elen = 0;
    unsigned char *n = member_bytes(jwk, "n", &nlen);
    unsigned char *e = member_bytes(jwk, "e", &elen);
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = n ? BN_bin2bn(n, (int)nlen, NULL) : NULL;
    BIGNUM *be = e ? BN_bin2bn(e, (int)elen, NULL) : NULL;
    /* Below 2048 bits RS256 is not worth trusting; above 8192 is a DoS
     * lever. */
    if (bn && be && BN_num_bits(bn) >= 2048 && BN_num_bits(bn) <= 8192 &&
        elen <= 8) {
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
            pkey = pkey_from_params("RSA", bld);
        OSSL_PARAM_BLD_free(bld);
    }
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return pkey;
}

static EVP_PKEY *ec_key(json_t *jwk) {
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!crv || strcmp(crv, "P-256") != 0) return NULL;
    size_t xlen = 0, ylen = 0;
    unsigned char *x = member_bytes(jwk, "x", &xlen);
    unsigned char *y = member_bytes(jwk, "y", &ylen);
    EVP_PKEY *pkey = NULL;
    if (x && y && xlen == 32 && ylen == 32) {
        unsigned char point[65];
        point[0] = 0x04; /* uncompressed point: 04 || x || y */
        memcpy(point + 1, x, 32);
        memcpy(point + 33, y, 32);
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        if (bld &&
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            "prime256v1", 0) &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             point, sizeof point))
            pkey = pkey_from_params("EC", bld);
        OSSL_PARAM_BLD_free(bld);
    }
    free(x);
    free(y);
    return pkey;
}

/* Fills *key from one JWK; 0 when the JWK is not a usable signature key. */
static int parse_jwk(json_t *jwk, ww_auth_key_t *key) {
    if (!json_is_object(jwk)) return 0;
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    json_t *kid = json_object_get(jwk, "kid");
    if (!kty || (use && strcmp(use, "sig") != 0)) return 0;
    if (json_object_get(jwk, "d"))
        return 0; /* a private key does not belong here */
    if (kid &&
        (!json_is_string(kid) || json_string_length(kid) >= sizeof key->kid))
        return 0;
    memset(key, 0, sizeof *key);
    if (kid) memcpy(key->kid, json_string_value(kid), json_string_length(kid));
    if (!strcmp(kty, "RSA") && (!alg || !strcmp(alg, "RS256"))) {
        key->alg = WW_AUTH_ALG_RS256;
        key->pkey = rsa_key(jwk);
    } else if (!strcmp(kty, "EC") && (!alg || !strcmp(alg, "ES256"))) {
        key->alg = WW_AUTH_ALG_ES256;
        key->pkey = ec_key(jwk);
    }
    return key->pkey != NULL;
}

ww_code_t ww_auth_keyset_parse(const char *json, size_t len,
                               ww_auth_keyset_t **out, ww_err_t *err) {
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "JWKS is not JSON: %s (line %d)", jerr.text,
                          jerr.line);
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        json_decref(root);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "JWKS has no \"keys\" array");
    }
    ww_auth_keyset_t *set = calloc(1, sizeof *set);
    size_t total = json_array_size(keys);
    if (set && total) set->keys = calloc(total, sizeof *set->keys);
    if (!set || (total && !set->keys)) {
        free(set);
        json_decref(root);
        return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    }
    atomic_init(&set->refs, 1);
    for (size_t i = 0; i < total; i++)
        if (parse_jwk(json_array_get(keys, i), &set->keys[set->n])) set->n++;
    json_decref(root);
    *out = set;
    return WW_OK;
}

size_t ww_auth_keyset_count(const ww_auth_keyset_t *set) {
    return set ? set->n : 0;
}

const ww_auth_key_t *ww_auth_keyset_find(const ww_auth_keyset_t *set,
                                         const char *kid) {
    if (!set) return NULL;
    if (!kid) return set->n == 1 ? &set->keys[0] : NULL;
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->keys[i].kid, kid)) return &set->keys[i];
    return NULL;
}

const ww_auth_key_t *ww_auth_keyset_at(const ww_auth_keyset_t *set, size_t i) {
    return set && i < set->n ? &set->keys[i] : NULL;
}

int ww_auth_keyset_keeps(const ww_auth_keyset_t *old,
                         const ww_auth_keyset_t *fresh) {
    for (size_t i = 0; old && i < old->n; i++) {
        const ww_auth_key_t *k = &old->keys[i], *f = NULL;
        for (size_t j = 0; fresh && j < fresh->n && !f; j++)
            if (!strcmp(fresh->keys[j].kid, k->kid)) f = &fresh->keys[j];
        if (!f || f->alg != k->alg || EVP_PKEY_eq(f->pkey, k->pkey) != 1)
            return 0;
    }
    return 1;
}

ww_auth_keyset_t *ww_auth_keyset_ref(ww_auth_keyset_t *set) {
    atomic_fetch_add(&set->refs, 1);
    return set;
}

void ww_auth_keyset_unref(ww_auth_keyset_t *set) {
    if (!set || atomic_fetch_sub(&set->refs, 1) != 1) return;
    for (size_t i = 0; i < set->n; i++)
        EVP_PKEY_free(set->keys[i].pkey);
    free(set->keys);
    free(set);
}
