/* auth_fixture.c - keys, tokens and fake servers generated at test time. */
#include "auth_fixture.h"

#include "ww_auth_b64url.h"
#include "ww_test.h"
#include "ww_test_proc.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef FX_SOURCE_DIR
#error "FX_SOURCE_DIR must name tests/auth"
#endif

static char fx_tmp[256];
static EVP_PKEY *rsa1, *rsa2, *ec1;

static void fx_cleanup(void) {
    EVP_PKEY_free(rsa1);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec1);
    if (fx_tmp[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", fx_tmp);
    }
}

const char *fx_dir(void) {
    if (!fx_tmp[0]) {
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(fx_tmp, sizeof fx_tmp, "%s/ww-auth-XXXXXX", base);
        WW_ASSERT_MSG(mkdtemp(fx_tmp), "mkdtemp %s", fx_tmp);
        atexit(fx_cleanup);
    }
    return fx_tmp;
}

const char *fx_path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", fx_dir(), name);
    return buf;
}

void fx_write(const char *path, const char *data) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    WW_ASSERT_MSG(f, "open %s", tmp);
    fputs(data, f);
    fclose(f);
    WW_ASSERT_MSG(rename(tmp, path) == 0, "rename %s", path);
}

EVP_PKEY *fx_rsa(void) {
    if (!rsa1) rsa1 = EVP_RSA_gen(2048);
    WW_ASSERT(rsa1);
    return rsa1;
}
EVP_PKEY *fx_rsa_other(void) {
    if (!rsa2) rsa2 = EVP_RSA_gen(2048);
    WW_ASSERT(rsa2);
    return rsa2;
}
EVP_PKEY *fx_ec(void) {
    if (!ec1) ec1 = EVP_EC_gen("P-256");
    WW_ASSERT(ec1);
    return ec1;
}

static json_t *b64_json(const unsigned char *b, size_t n) {
    char *s = ww_auth_b64url_encode(b, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *bn_json(EVP_PKEY *k, const char *name) {
    BIGNUM *bn = NULL;
    WW_ASSERT(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64_json(buf, (size_t)n);
}

json_t *fx_jwk(EVP_PKEY *key, const char *kid) {
    json_t *j = json_object();
    if (EVP_PKEY_is_a(key, "RSA")) {
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "alg", json_string("RS256"));
        json_object_set_new(j, "n", bn_json(key, OSSL_PKEY_PARAM_RSA_N));
        json_object_set_new(j, "e", bn_json(key, OSSL_PKEY_PARAM_RSA_E));
    } else {
        unsigned char pt[65];
        size_t n = 0;
        WW_ASSERT(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &n) == 1);
        WW_ASSERT_EQ_INT(n, 65);
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string("P-256"));
        json_object_set_new(j, "x", b64_json(pt + 1, 32));
        json_object_set_new(j, "y", b64_json(pt + 33, 32));
    }
    json_object_set_new(j, "use", json_string("sig"));
    json_object_set_new(j, "kid", json_string(kid));
    return j;
}

char *fx_jwks_json(int with_other) {
    json_t *keys = json_array();
    json_array_append_new(keys, fx_jwk(fx_rsa(), "rsa1"));
    json_array_append_new(keys, fx_jwk(fx_ec(), "ec1"));
    if (with_other) json_array_append_new(keys, fx_jwk(fx_rsa_other(), "rsa2"));
    json_t *root = json_pack("{s:o}", "keys", keys);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

char *fx_public_pem(EVP_PKEY *key) {
    BIO *b = BIO_new(BIO_s_mem());
    WW_ASSERT(PEM_write_bio_PUBKEY(b, key) == 1);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = strndup(data, (size_t)n);
    BIO_free(b);
    return s;
}

json_t *fx_claims(const char *aud, int64_t now, int64_t ttl) {
    static int serial; /* every token distinct, so cache tests see new ones */
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:I, s:i}", "iss",
                     FX_ISSUER, "aud", aud, "email", FX_EMAIL, "email_verified",
                     1, "sub", FX_SUB, "iat", (json_int_t)now, "exp",
                     (json_int_t)(now + ttl), "serial", ++serial);
}

static char *segment(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    char *b = ww_auth_b64url_encode((const unsigned char *)s, strlen(s));
    free(s);
    return b;
}

void fx_es256_negate_s(unsigned char *sig) {
    BIGNUM *order = BN_new(), *s = BN_bin2bn(sig + 32, 32, NULL);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    WW_ASSERT(order && s && g && EC_GROUP_get_order(g, order, NULL) == 1);
    WW_ASSERT(BN_sub(s, order, s) == 1);
    BN_bn2binpad(s, sig + 32, 32);
    BN_free(s);
    BN_free(order);
    EC_GROUP_free(g);
}

void fx_es256_low_s(unsigned char *sig) {
    BIGNUM *order = BN_new(), *s = BN_bin2bn(sig + 32, 32, NULL);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    WW_ASSERT(order && s && g && EC_GROUP_get_order(g, order, NULL) == 1);
    WW_ASSERT(BN_rshift1(order, order) == 1);
    int high = BN_cmp(s, order) > 0;
    BN_free(s);
    BN_free(order);
    EC_GROUP_free(g);
    if (high) fx_es256_negate_s(sig);
}

char *fx_mint(const char *alg, const char *kid, EVP_PKEY *key, const char *hmac_secret, json_t *payload) {
    json_t *hdr = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
    if (kid) json_object_set_new(hdr, "kid", json_string(kid));
    char *h = segment(hdr), *p = segment(payload);
    json_decref(hdr);
    json_decref(payload);
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *input = malloc(in_len + 1);
    snprintf(input, in_len + 1, "%s.%s", h, p);
    unsigned char sig[1024];
    size_t sig_len = 0;
    if (!strcmp(alg, "RS256") || !strcmp(alg, "ES256")) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char der[1024];
        size_t der_len = sizeof der;
        WW_ASSERT(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
        WW_ASSERT(EVP_DigestSign(md, der, &der_len, (unsigned char *)input, in_len) == 1);
        EVP_MD_CTX_free(md);
        if (!strcmp(alg, "RS256")) {
            memcpy(sig, der, der_len);
            sig_len = der_len;
        } else { /* DER -> r||s */
            const unsigned char *q = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
            WW_ASSERT(es);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
            ECDSA_SIG_free(es);
            fx_es256_low_s(sig);
            sig_len = 64;
        }
    } else if (!strcmp(alg, "HS256")) {
        unsigned int n = 0;
        HMAC(EVP_sha256(), hmac_secret, (int)strlen(hmac_secret), (unsigned char *)input, in_len, sig, &n);
        sig_len = n;
    }
    char *s = ww_auth_b64url_encode(sig, sig_len);
    size_t out_len = in_len + 1 + strlen(s) + 1;
    char *out = malloc(out_len);
    snprintf(out, out_len, "%s.%s", input, s);
    free(s);
    free(input);
    free(h);
    free(p);
    return out;
}

char *fx_token(const char *aud, int64_t ttl) {
    return fx_mint("RS256", "rsa1", fx_rsa(), NULL, fx_claims(aud, (int64_t)time(NULL), ttl));
}

const char *fx_pki(void) {
    static char pki[300];
    if (!pki[0]) {
        fx_path(pki, sizeof pki, "pki");
        char cmd[700];
        snprintf(cmd, sizeof cmd, "'%s/gen_certs.sh' '%s'", FX_SOURCE_DIR, pki);
        WW_ASSERT_MSG(system(cmd) == 0, "gen_certs.sh failed");
    }
    return pki;
}

const char *fx_pki_file(const char *name) {
    static char buf[8][512];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, 512, "%s/%s", fx_pki(), name);
    return b;
}

int fx_fake_server_start(const char *dir, const char *cert, const char *key,
                         pid_t *pid) {
    char script[512];
    snprintf(script, sizeof script, "%s/fake_metadata.py", FX_SOURCE_DIR);
    const char *tls[] = {"python3", script, dir, "--tls", cert, key, NULL};
    const char *plain[] = {"python3", script, dir, NULL};
    int out;
    pid_t p = ww_test_proc_spawn(cert ? tls : plain,
                                 &(ww_test_proc_opts_t){.stdout_fd = &out});
    /* The server prints its port once it listens. */
    FILE *f = fdopen(out, "r");
    int port = 0;
    int ok = f && fscanf(f, "%d", &port) == 1;
    if (f) fclose(f);
    if (!ok) {
        ww_test_proc_stop(p, SIGTERM, 10000);
        WW_ASSERT_MSG(0, "fake metadata server did not start");
    }
    *pid = p;
    return port;
}

void fx_fake_server_stop(pid_t pid) {
    ww_test_proc_stop(pid, SIGTERM, 10000);
}

long fx_read_count(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    long n = 0;
    if (f) {
        if (fscanf(f, "%ld", &n) != 1) n = 0;
        fclose(f);
    }
    return n;
}
