/* libFuzzer target for the token parser/verifier and the JWKS parser.
 *
 * The first input byte picks what the rest becomes, so the fuzzer reaches
 * every stage, not only the structural checks in front:
 *   0  the raw bearer token
 *   1  a payload, base64url-encoded and *validly signed* (ES256) at run
 *      time, so claim parsing sees arbitrary JSON behind a good signature
 *   2  a header, followed by a valid payload and a garbage signature
 *   3  a JWKS document
 * Keys are generated at start-up; nothing secret is committed. */
#include "ww_auth_b64url.h"
#include "ww_auth_cache.h"
#include "ww_auth_jwt.h"
#include "ww_auth_keyset.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *ec;
static ww_auth_keyset_t *keys;
static ww_auth_cache_t *cache;
static const int64_t now = 1800000000;

static json_t *b64(const unsigned char *b, size_t n) {
    char *s = ww_auth_b64url_encode(b, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *rsa_jwk(EVP_PKEY *k) {
    BIGNUM *n = NULL, *e = NULL;
    unsigned char nb[512], eb[16];
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e);
    json_t *j = json_pack("{s:s,s:s,s:o,s:o}", "kty", "RSA", "kid", "rsa1", "n", b64(nb, (size_t)BN_bn2bin(n, nb)),
                          "e", b64(eb, (size_t)BN_bn2bin(e, eb)));
    BN_free(n);
    BN_free(e);
    return j;
}

static json_t *ec_jwk(EVP_PKEY *k) {
    unsigned char pt[65];
    size_t n = 0;
    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &n);
    return json_pack("{s:s,s:s,s:s,s:o,s:o}", "kty", "EC", "crv", "P-256", "kid", "ec1", "x", b64(pt + 1, 32), "y",
                     b64(pt + 33, 32));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    ec = EVP_EC_gen("P-256");
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    json_t *doc = json_pack("{s:[o,o]}", "keys", rsa_jwk(rsa), ec_jwk(ec));
    char *s = json_dumps(doc, 0);
    if (!ec || !rsa || !s || ww_auth_keyset_parse(s, strlen(s), &keys, NULL) != 0 || ww_auth_keyset_count(keys) != 2)
        abort(); /* the harness itself is broken */
    free(s);
    json_decref(doc);
    EVP_PKEY_free(rsa);
    cache = ww_auth_cache_new(64, 30);
    return 0;
}

static ww_code_t fixed_keys(void *ctx, const char *kid, ww_auth_keyset_t **set, ww_err_t *err) {
    (void)ctx;
    (void)kid;
    (void)err;
    *set = ww_auth_keyset_ref(keys);
    return WW_OK;
}

static char *join3(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *s = malloc(n);
    snprintf(s, n, "%s.%s.%s", a, b, c);
    return s;
}

static char *signed_token(const unsigned char *payload, size_t len) {
    static const char hdr[] = "{\"alg\":\"ES256\",\"kid\":\"ec1\"}";
    char *h = ww_auth_b64url_encode((const unsigned char *)hdr, sizeof hdr - 1);
    char *p = ww_auth_b64url_encode(payload, len);
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *input = malloc(in_len + 1);
    snprintf(input, in_len + 1, "%s.%s", h, p);
    unsigned char der[128], raw[64];
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec);
    EVP_DigestSign(md, der, &der_len, (unsigned char *)input, in_len);
    EVP_MD_CTX_free(md);
    const unsigned char *q = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
    /* Low S, the only form the verifier accepts. */
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *order = BN_new(), *half = BN_new(), *s_low = BN_new();
    EC_GROUP_get_order(g, order, NULL);
    BN_rshift1(half, order);
    if (BN_cmp(ECDSA_SIG_get0_s(es), half) > 0)
        BN_sub(s_low, order, ECDSA_SIG_get0_s(es));
    else
        BN_copy(s_low, ECDSA_SIG_get0_s(es));
    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
    BN_bn2binpad(s_low, raw + 32, 32);
    BN_free(order);
    BN_free(half);
    BN_free(s_low);
    EC_GROUP_free(g);
    ECDSA_SIG_free(es);
    char *s = ww_auth_b64url_encode(raw, 64);
    char *tok = join3(h, p, s);
    free(h);
    free(p);
    free(s);
    free(input);
    return tok;
}

static void verify(const char *tok, size_t len) {
    const char *issuers[] = {WW_AUTH_JWT_DEFAULT_ISSUER, "https://issuer.test", NULL};
    ww_auth_jwt_policy_t policy = {.audience = "https://trainer.test", .issuers = issuers, .leeway_s = 30};
    ww_auth_jwt_claims_t claims;
    ww_err_t err;
    ww_code_t rc = ww_auth_jwt_verify(tok, len, &policy, fixed_keys, NULL, now, &claims, &err);
    if (rc == WW_OK) {
        /* A token that passes must carry a bounded, printable identity. */
        if (!claims.identity[0] || strlen(claims.identity) >= sizeof claims.identity) abort();
        if (claims.identity[claims.issuer_len] != '|') abort(); /* iss | sub */
        ww_auth_cache_insert(cache, tok, len, &claims);
        ww_auth_jwt_claims_t back;
        if (!ww_auth_cache_lookup(cache, tok, len, now, &back) ||
            strcmp(back.identity, claims.identity))
            abort();
    } else if (rc != WW_ERR_UNAUTHENTICATED || !err.msg[0]) {
        abort(); /* every refusal is UNAUTHENTICATED with a message */
    }
    int64_t exp;
    ww_auth_jwt_peek_exp(tok, len, &exp, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int mode = data[0] % 4;
    data++;
    size--;
    if (mode == 0) {
        verify((const char *)data, size);
    } else if (mode == 1) {
        char *tok = signed_token(data, size);
        verify(tok, strlen(tok));
        free(tok);
    } else if (mode == 2) {
        char *h = ww_auth_b64url_encode(data, size);
        char *tok = join3(h, "eyJhdWQiOiJodHRwczovL3RyYWluZXIudGVzdCJ9", "AAAA");
        verify(tok, strlen(tok));
        free(tok);
        free(h);
    } else {
        ww_auth_keyset_t *set = NULL;
        if (ww_auth_keyset_parse((const char *)data, size, &set, NULL) == WW_OK) {
            ww_auth_keyset_find(set, "ec1");
            ww_auth_keyset_find(set, NULL);
            ww_auth_keyset_unref(set);
        }
    }
    return 0;
}
