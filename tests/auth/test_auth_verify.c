/* Server-side token verification: the negative corpus of issue 6 (every case
 * UNAUTHENTICATED with a message naming the failed check), accepted tokens,
 * the verified-token cache, the caller allowlist and JWKS key rotation. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_fixture.h"
#include "ww_auth_cache.h"
#include "ww_auth_jwks.h"
#include "ww_auth_verifier.h"
#include "ww_test.h"

static ww_auth_jwks_t *jwks;
static ww_auth_verifier_t *verifier;

static const char *jwks_file(void) {
    static char path[512];
    return fx_path(path, sizeof path, "jwks.json");
}

static ww_auth_verifier_t *the_verifier(void) {
    if (verifier) return verifier;
    char *doc = fx_jwks_json(0);
    fx_write(jwks_file(), doc);
    free(doc);
    ww_err_t err = {0};
    ww_auth_jwks_opts_t jo = {.source = jwks_file()};
    WW_ASSERT_MSG(ww_auth_jwks_new(&jo, &jwks, &err) == WW_OK, "jwks: %s", err.msg);
    ww_auth_verifier_opts_t vo = {.policy = {.audience = FX_AUDIENCE, .leeway_s = 30}};
    WW_ASSERT_MSG(ww_auth_verifier_new(&vo, jwks, &verifier, &err) == WW_OK, "verifier: %s", err.msg);
    return verifier;
}

/* authenticate() with "Bearer <token>" (token NULL = no header at all). */
static ww_code_t auth_raw(ww_auth_verifier_t *v, const char *header, char *identity, ww_err_t *err) {
    return ww_auth_verifier_authenticate(v, "/trainer.TrainerService/IsHourAvailable", header, identity, 256,
                                         err);
}

static ww_code_t auth_token(ww_auth_verifier_t *v, const char *token, char *identity, ww_err_t *err) {
    size_t n = strlen(token) + 8;
    char *h = malloc(n);
    snprintf(h, n, "Bearer %s", token);
    ww_code_t rc = auth_raw(v, h, identity, err);
    free(h);
    return rc;
}

/* Asserts UNAUTHENTICATED with `why` in the message; frees token. */
static void expect_refused(char *token, const char *why) {
    char id[256] = "untouched";
    ww_err_t err = {0};
    ww_code_t rc = auth_token(the_verifier(), token, id, &err);
    free(token);
    WW_ASSERT_MSG(rc == WW_ERR_UNAUTHENTICATED, "want UNAUTHENTICATED for \"%s\", got %s (%s)", why,
                  ww_code_name(rc), err.msg);
    WW_ASSERT_CONTAINS(err.msg, why);
    WW_ASSERT_EQ_STR(id, "");
}

static void expect_refused_header(const char *header, const char *why) {
    char id[256];
    ww_err_t err = {0};
    ww_code_t rc = auth_raw(the_verifier(), header, id, &err);
    WW_ASSERT_MSG(rc == WW_ERR_UNAUTHENTICATED, "header \"%.40s\": got %s (%s)", header ? header : "(none)",
                  ww_code_name(rc), err.msg);
    WW_ASSERT_CONTAINS(err.msg, why);
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

WW_TEST(valid_rs256_token_yields_email_identity) {
    char id[256];
    ww_err_t err = {0};
    char *t = fx_token(FX_AUDIENCE, 600);
    ww_code_t rc = auth_token(the_verifier(), t, id, &err);
    free(t);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_STR(id, FX_EMAIL);
}

WW_TEST(valid_es256_token_and_audience_array_accepted) {
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    json_object_set_new(c, "aud", json_pack("[s,s]", "https://other.test", FX_AUDIENCE));
    json_object_del(c, "email");
    char id[256];
    ww_err_t err = {0};
    char *t = fx_mint("ES256", "ec1", fx_ec(), NULL, c);
    ww_code_t rc = auth_token(the_verifier(), t, id, &err);
    free(t);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_STR(id, "1234567890"); /* no email: sub */
}

WW_TEST(scheme_is_case_insensitive) {
    char *t = fx_token(FX_AUDIENCE, 600);
    char h[4096], id[256];
    snprintf(h, sizeof h, "bearer  %s", t);
    free(t);
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(auth_raw(the_verifier(), h, id, &err), WW_OK);
}

WW_TEST(no_header) { expect_refused_header(NULL, "missing authorization"); }
WW_TEST(wrong_scheme) { expect_refused_header("Basic dXNlcjpwYXNz", "not Bearer"); }
WW_TEST(empty_bearer) { expect_refused_header("Bearer ", "empty bearer token"); }
WW_TEST(garbage) { expect_refused_header("Bearer garbage!", "three dot-separated segments"); }
WW_TEST(three_dots_and_empty_parts) {
    expect_refused_header("Bearer ...", "more than three segments");
    expect_refused_header("Bearer ..", "empty header");
    expect_refused_header("Bearer eyJhbGciOiJSUzI1NiJ9..c2ln", "empty payload");
    expect_refused_header("Bearer eyJhbGciOiJSUzI1NiJ9.e30.", "empty signature");
    expect_refused_header("Bearer a.b.c.d", "more than three segments");
}
WW_TEST(bad_base64url) {
    expect_refused_header("Bearer eyJhbGciOi+SUzI1NiJ9.e30.c2ln", "invalid base64url character");
    expect_refused_header("Bearer eyJhbGciOiJSUzI1NiJ9=.e30.c2ln", "invalid base64url character");
    expect_refused_header("Bearer eyJhb.e30.c2ln", "invalid base64url length");
}
WW_TEST(header_not_json) { expect_refused_header("Bearer bm90IGpzb24.e30.c2ln", "header is not a JSON object"); }

WW_TEST(expired) {
    expect_refused(fx_mint("RS256", "rsa1", fx_rsa(), NULL, fx_claims(FX_AUDIENCE, now_s() - 7200, 3600)),
                   "expired");
}
WW_TEST(expired_within_leeway_accepted) {
    char id[256];
    ww_err_t err = {0};
    char *t = fx_mint("RS256", "rsa1", fx_rsa(), NULL, fx_claims(FX_AUDIENCE, now_s() - 3610, 3600));
    ww_code_t rc = auth_token(the_verifier(), t, id, &err);
    free(t);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
}
WW_TEST(not_yet_valid) {
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    json_object_set_new(c, "nbf", json_integer(now_s() + 300));
    expect_refused(fx_mint("RS256", "rsa1", fx_rsa(), NULL, c), "not valid yet");
}
WW_TEST(issued_in_the_future) {
    expect_refused(fx_mint("RS256", "rsa1", fx_rsa(), NULL, fx_claims(FX_AUDIENCE, now_s() + 600, 600)),
                   "issued in the future");
}
WW_TEST(missing_exp) {
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    json_object_del(c, "exp");
    expect_refused(fx_mint("RS256", "rsa1", fx_rsa(), NULL, c), "no numeric exp");
}
WW_TEST(wrong_aud) { expect_refused(fx_token("https://trainer.test:443", 600), "audience does not match"); }
WW_TEST(token_for_another_service) { expect_refused(fx_token("https://users.test", 600), "audience"); }
WW_TEST(wrong_iss) {
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    json_object_set_new(c, "iss", json_string("https://evil.example"));
    expect_refused(fx_mint("RS256", "rsa1", fx_rsa(), NULL, c), "issuer");
}
WW_TEST(alg_none) {
    expect_refused(fx_mint("none", "rsa1", NULL, NULL, fx_claims(FX_AUDIENCE, now_s(), 600)), "empty signature");
    /* With a non-empty fake signature the algorithm itself is refused. */
    char *t = fx_mint("none", "rsa1", NULL, NULL, fx_claims(FX_AUDIENCE, now_s(), 600));
    char buf[4096];
    snprintf(buf, sizeof buf, "%sAAAA", t);
    free(t);
    expect_refused(strdup(buf), "\"none\" is not accepted");
}
WW_TEST(hs256_with_public_key_as_secret) {
    char *pem = fx_public_pem(fx_rsa());
    char *t = fx_mint("HS256", "rsa1", NULL, pem, fx_claims(FX_AUDIENCE, now_s(), 600));
    free(pem);
    expect_refused(t, "\"HS256\" is not accepted");
}
WW_TEST(alg_not_matching_key) {
    /* An ES256 signature presented under the RSA key's kid. */
    expect_refused(fx_mint("ES256", "rsa1", fx_ec(), NULL, fx_claims(FX_AUDIENCE, now_s(), 600)),
                   "does not match key");
}
WW_TEST(unknown_kid) {
    expect_refused(fx_mint("RS256", "nope", fx_rsa(), NULL, fx_claims(FX_AUDIENCE, now_s(), 600)),
                   "unknown signing key");
}
WW_TEST(signed_by_another_key) {
    expect_refused(fx_mint("RS256", "rsa1", fx_rsa_other(), NULL, fx_claims(FX_AUDIENCE, now_s(), 600)),
                   "signature is invalid");
}
WW_TEST(tampered_payload_with_original_signature) {
    char *good = fx_token(FX_AUDIENCE, 600);
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    json_object_set_new(c, "email", json_string("admin@project.iam.gserviceaccount.com"));
    char *forged = fx_mint("RS256", "rsa1", fx_rsa_other(), NULL, c);
    /* forged header.payload + good signature */
    char *sig = strrchr(good, '.');
    *strrchr(forged, '.') = '\0';
    size_t n = strlen(forged) + strlen(sig) + 1;
    char *t = malloc(n);
    snprintf(t, n, "%s%s", forged, sig);
    free(good);
    free(forged);
    expect_refused(t, "signature is invalid");
}
WW_TEST(one_mib_token) {
    size_t n = 1024 * 1024;
    char *t = malloc(n + 1);
    memset(t, 'A', n);
    t[100] = '.';
    t[200] = '.';
    t[n] = '\0';
    expect_refused(t, "exceeds the limit");
}
WW_TEST(unverified_email_falls_back_to_sub) {
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    json_object_set_new(c, "email_verified", json_false());
    char id[256];
    ww_err_t err = {0};
    char *t = fx_mint("RS256", "rsa1", fx_rsa(), NULL, c);
    WW_ASSERT_EQ_INT(auth_token(the_verifier(), t, id, &err), WW_OK);
    free(t);
    WW_ASSERT_EQ_STR(id, "1234567890");
}

WW_TEST(every_method_is_checked_health_included) {
    char id[256] = "x";
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_verifier_authenticate(the_verifier(), "/grpc.health.v1.Health/Check", NULL, id,
                                                   sizeof id, &err),
                     WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_EQ_STR(id, "");
}

WW_TEST(repeated_token_is_a_cache_lookup) {
    ww_auth_verifier_t *v = the_verifier();
    char *t = fx_token(FX_AUDIENCE, 600);
    unsigned long h0, v0, h1, v1;
    char id[256];
    ww_err_t err = {0};
    ww_auth_verifier_stats(v, &h0, &v0);
    for (int i = 0; i < 5; i++) WW_ASSERT_EQ_INT(auth_token(v, t, id, &err), WW_OK);
    ww_auth_verifier_stats(v, &h1, &v1);
    free(t);
    WW_ASSERT_EQ_INT(v1 - v0, 1);
    WW_ASSERT_EQ_INT(h1 - h0, 4);
    WW_ASSERT_EQ_STR(id, FX_EMAIL);
}

static int64_t fake_now;
static int64_t fake_clock(void) { return fake_now; }

WW_TEST(cache_never_extends_a_token_life) {
    the_verifier();
    ww_auth_verifier_t *v;
    ww_err_t err = {0};
    ww_auth_verifier_opts_t vo = {.policy = {.audience = FX_AUDIENCE, .leeway_s = 30}, .now = fake_clock};
    WW_ASSERT_EQ_INT(ww_auth_verifier_new(&vo, jwks, &v, &err), WW_OK);
    fake_now = now_s();
    char *t = fx_token(FX_AUDIENCE, 60);
    char id[256];
    WW_ASSERT_EQ_INT(auth_token(v, t, id, &err), WW_OK);
    WW_ASSERT_EQ_INT(auth_token(v, t, id, &err), WW_OK);
    fake_now += 60 + 31;
    ww_code_t rc = auth_token(v, t, id, &err);
    free(t);
    unsigned long hits, ver;
    ww_auth_verifier_stats(v, &hits, &ver);
    ww_auth_verifier_destroy(v);
    WW_ASSERT_EQ_INT(rc, WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_CONTAINS(err.msg, "expired");
    WW_ASSERT_EQ_INT(hits, 1);
    WW_ASSERT_EQ_INT(ver, 2);
}

WW_TEST(cache_is_bounded) {
    ww_auth_cache_t *c = ww_auth_cache_new(8, 0);
    char tok[32], id[64];
    for (int i = 0; i < 100; i++) {
        snprintf(tok, sizeof tok, "token-%d", i);
        ww_auth_cache_insert(c, tok, strlen(tok), 1000 + i, "someone");
    }
    size_t size = ww_auth_cache_size(c);
    int64_t exp = 0;
    int hit_new = ww_auth_cache_lookup(c, "token-99", 8, 500, id, sizeof id, &exp);
    int hit_expired = ww_auth_cache_lookup(c, "token-99", 8, 1099, id, sizeof id, NULL);
    int hit_absent = ww_auth_cache_lookup(c, "never", 5, 500, id, sizeof id, NULL);
    ww_auth_cache_destroy(c);
    WW_ASSERT_MSG(size <= 8, "size %zu", size);
    WW_ASSERT_EQ_INT(hit_new, 1);
    WW_ASSERT_EQ_INT(exp, 1099);
    WW_ASSERT_EQ_STR(id, "someone");
    WW_ASSERT_EQ_INT(hit_expired, 0);
    WW_ASSERT_EQ_INT(hit_absent, 0);
}

WW_TEST(caller_not_on_allowlist_is_permission_denied) {
    the_verifier();
    const char *others[] = {"trainer-svc@project.iam.gserviceaccount.com", NULL};
    const char *us[] = {"x", FX_EMAIL, NULL};
    ww_auth_verifier_t *deny, *allow;
    ww_err_t err = {0};
    ww_auth_verifier_opts_t vo = {.policy = {.audience = FX_AUDIENCE}, .allowed_callers = others};
    WW_ASSERT_EQ_INT(ww_auth_verifier_new(&vo, jwks, &deny, &err), WW_OK);
    vo.allowed_callers = us;
    WW_ASSERT_EQ_INT(ww_auth_verifier_new(&vo, jwks, &allow, &err), WW_OK);
    char *t = fx_token(FX_AUDIENCE, 600);
    char id[256];
    ww_err_t e1 = {0}, e2 = {0};
    ww_code_t r1 = auth_token(deny, t, id, &e1), r1b = auth_token(deny, t, id, &e1);
    ww_code_t r2 = auth_token(allow, t, id, &e2);
    free(t);
    ww_auth_verifier_destroy(deny);
    ww_auth_verifier_destroy(allow);
    WW_ASSERT_EQ_INT(r1, WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(r1b, WW_ERR_PERMISSION_DENIED); /* also when answered from the cache */
    WW_ASSERT_CONTAINS(e1.msg, FX_EMAIL);
    WW_ASSERT_EQ_INT(r2, WW_OK);
}

WW_TEST(unknown_kid_reloads_jwks_at_most_once_per_interval) {
    char *doc = fx_jwks_json(0);
    char path[512];
    fx_path(path, sizeof path, "rotating-jwks.json");
    fx_write(path, doc);
    free(doc);
    ww_auth_jwks_t *j;
    ww_auth_verifier_t *v;
    ww_err_t err = {0};
    ww_auth_jwks_opts_t jo = {.source = path, .refresh_interval_ms = 400};
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&jo, &j, &err), WW_OK);
    ww_auth_verifier_opts_t vo = {.policy = {.audience = FX_AUDIENCE}};
    WW_ASSERT_EQ_INT(ww_auth_verifier_new(&vo, j, &v, &err), WW_OK);
    char *t = fx_mint("RS256", "rsa2", fx_rsa_other(), NULL, fx_claims(FX_AUDIENCE, now_s(), 600));
    char id[256];
    /* Within the interval after the initial load: no reload, unknown kid. */
    ww_code_t r1 = auth_token(v, t, id, &err);
    unsigned long loads1 = ww_auth_jwks_load_count(j);
    doc = fx_jwks_json(1); /* the issuer rotates rsa2 in */
    fx_write(path, doc);
    free(doc);
    usleep(450 * 1000);
    ww_code_t r2 = auth_token(v, t, id, &err);
    unsigned long loads2 = ww_auth_jwks_load_count(j);
    /* A burst of forged kids right after costs no further loads. */
    for (int i = 0; i < 20; i++) {
        char kid[16];
        snprintf(kid, sizeof kid, "forged%d", i);
        char *f = fx_mint("RS256", kid, fx_rsa(), NULL, fx_claims(FX_AUDIENCE, now_s(), 600));
        auth_token(v, f, id, &err);
        free(f);
    }
    unsigned long loads3 = ww_auth_jwks_load_count(j);
    free(t);
    ww_auth_verifier_destroy(v);
    ww_auth_jwks_destroy(j);
    WW_ASSERT_EQ_INT(r1, WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_EQ_INT(loads1, 1);
    WW_ASSERT_EQ_INT(r2, WW_OK);
    WW_ASSERT_EQ_INT(loads2, 2);
    WW_ASSERT_EQ_INT(loads3, 2);
}

WW_TEST(jwks_rejects_unusable_sources) {
    char path[512];
    ww_auth_jwks_t *j = NULL;
    ww_err_t err = {0};
    ww_auth_jwks_opts_t jo = {.source = fx_path(path, sizeof path, "missing.json")};
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&jo, &j, &err), WW_ERR_UNAVAILABLE);
    WW_ASSERT_CONTAINS(err.msg, "missing.json");
    fx_write(path, "{\"keys\": [{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
                   "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"},{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&jo, &j, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "no usable key");
    fx_write(path, "not json");
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&jo, &j, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "not JSON");
    jo.source = "http://127.0.0.1:1/jwks.json";
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&jo, &j, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "plain http");
    WW_ASSERT(j == NULL);
}

WW_TEST(keyset_skips_bad_keys_keeps_good_ones) {
    json_t *ec = fx_jwk(fx_ec(), "ec-bad");
    json_object_set_new(ec, "y", json_object_get(ec, "x")); /* not on the curve */
    json_incref(json_object_get(ec, "x"));
    json_t *priv = fx_jwk(fx_rsa(), "with-d");
    json_object_set_new(priv, "d", json_string("AQAB"));
    json_t *enc = fx_jwk(fx_rsa(), "enc");
    json_object_set_new(enc, "use", json_string("enc"));
    json_t *wrongalg = fx_jwk(fx_rsa(), "ps");
    json_object_set_new(wrongalg, "alg", json_string("PS256"));
    json_t *doc = json_pack("{s:[o,o,o,o,o]}", "keys", ec, priv, enc, wrongalg, fx_jwk(fx_rsa(), "good"));
    char *s = json_dumps(doc, 0);
    json_decref(doc);
    ww_auth_keyset_t *set = NULL;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_keyset_parse(s, strlen(s), &set, &err), WW_OK);
    free(s);
    size_t n = ww_auth_keyset_count(set);
    const ww_auth_key_t *good = ww_auth_keyset_find(set, "good");
    int good_alg = good ? (int)good->alg : -1;
    const ww_auth_key_t *sole = ww_auth_keyset_find(set, NULL);
    ww_auth_keyset_unref(set);
    WW_ASSERT_EQ_INT(n, 1);
    WW_ASSERT_EQ_INT(good_alg, WW_AUTH_ALG_RS256);
    WW_ASSERT(sole == good);
}

typedef struct worker_arg {
    char *token;
    int ok;
} worker_arg_t;

static void *worker(void *p) {
    worker_arg_t *a = p;
    for (int i = 0; i < 200; i++) {
        char id[256];
        ww_err_t err;
        if (auth_token(verifier, a->token, id, &err) == WW_OK && !strcmp(id, FX_EMAIL)) a->ok++;
    }
    return NULL;
}

WW_TEST(concurrent_verification_is_consistent) {
    the_verifier();
    pthread_t th[4];
    worker_arg_t args[4];
    for (int i = 0; i < 4; i++) {
        args[i].token = fx_token(FX_AUDIENCE, 600 + i); /* two threads per distinct token */
        if (i % 2) {
            free(args[i].token);
            args[i].token = strdup(args[i - 1].token);
        }
        args[i].ok = 0;
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        free(args[i].token);
    }
    for (int i = 0; i < 4; i++) WW_ASSERT_EQ_INT(args[i].ok, 200);
}

int main(int argc, char **argv) {
    int rc = ww_test_main(argc, argv, (ww_test_case_t[]){
        WW_CASE(valid_rs256_token_yields_email_identity),
        WW_CASE(valid_es256_token_and_audience_array_accepted),
        WW_CASE(scheme_is_case_insensitive),
        WW_CASE(no_header),
        WW_CASE(wrong_scheme),
        WW_CASE(empty_bearer),
        WW_CASE(garbage),
        WW_CASE(three_dots_and_empty_parts),
        WW_CASE(bad_base64url),
        WW_CASE(header_not_json),
        WW_CASE(expired),
        WW_CASE(expired_within_leeway_accepted),
        WW_CASE(not_yet_valid),
        WW_CASE(issued_in_the_future),
        WW_CASE(missing_exp),
        WW_CASE(wrong_aud),
        WW_CASE(token_for_another_service),
        WW_CASE(wrong_iss),
        WW_CASE(alg_none),
        WW_CASE(hs256_with_public_key_as_secret),
        WW_CASE(alg_not_matching_key),
        WW_CASE(unknown_kid),
        WW_CASE(signed_by_another_key),
        WW_CASE(tampered_payload_with_original_signature),
        WW_CASE(one_mib_token),
        WW_CASE(unverified_email_falls_back_to_sub),
        WW_CASE(every_method_is_checked_health_included),
        WW_CASE(repeated_token_is_a_cache_lookup),
        WW_CASE(cache_never_extends_a_token_life),
        WW_CASE(cache_is_bounded),
        WW_CASE(caller_not_on_allowlist_is_permission_denied),
        WW_CASE(unknown_kid_reloads_jwks_at_most_once_per_interval),
        WW_CASE(jwks_rejects_unusable_sources),
        WW_CASE(keyset_skips_bad_keys_keeps_good_ones),
        WW_CASE(concurrent_verification_is_consistent),
        {0}});
    ww_auth_verifier_destroy(verifier);
    ww_auth_jwks_destroy(jwks);
    return rc;
}
