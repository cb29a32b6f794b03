/* Server-side token verification: the negative corpus of issue 6 (every case
 * UNAUTHENTICATED with a message naming the failed check), accepted tokens,
 * the verified-token cache, caller roles (iss + sub, verified emails of
 * their own issuer only) and JWKS key rotation. */
#include "auth_fixture.h"
#include "ww_auth_b64url.h"
#include "ww_auth_cache.h"
#include "ww_auth_callers.h"
#include "ww_auth_jwks.h"
#include "ww_auth_verifier.h"
#include "ww_test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

WW_TEST(valid_rs256_token_yields_iss_sub_identity) {
    char id[256];
    ww_err_t err = {0};
    char *t = fx_token(FX_AUDIENCE, 600);
    ww_code_t rc = auth_token(the_verifier(), t, id, &err);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_STR(id, FX_IDENTITY);
    char h[4096];
    snprintf(h, sizeof h, "Bearer %s", t);
    free(t);
    ww_auth_caller_t c;
    WW_ASSERT_EQ_INT(ww_auth_verifier_check(the_verifier(), h, &c, &err),
                     WW_OK);
    WW_ASSERT_EQ_STR(c.claims.email, FX_EMAIL); /* email_verified: true */
    WW_ASSERT_EQ_STR(c.claims.user_id, FX_SUB); /* no claim configured */
    WW_ASSERT_EQ_INT(c.claims.issuer_len, strlen(FX_ISSUER));
    WW_ASSERT_EQ_INT(c.role, WW_AUTH_ROLE_NONE); /* no caller list */
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
    WW_ASSERT_EQ_STR(id, FX_IDENTITY); /* no email: the same identity */
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
static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static char b64url_char(unsigned v) {
    return b64url_alphabet[v & 63];
}
static unsigned b64url_val(char c) {
    return (unsigned)(strchr(b64url_alphabet, c) - b64url_alphabet);
}

/* A signature of 256 (RS256) or 64 (ES256) bytes ends in a character with
 * 4 unused bits: of its 16 spellings only the canonical one verifies. */
static void one_spelling_of_last_char(char *token) {
    size_t n = strlen(token);
    size_t sig_len = n - (size_t)(strrchr(token, '.') + 1 - token);
    WW_ASSERT_EQ_INT(sig_len % 4, 2);
    unsigned orig = b64url_val(token[n - 1]);
    WW_ASSERT_EQ_INT(orig & 0x0f, 0);
    int accepted = 0, refused = 0;
    for (unsigned k = 0; k < 16; k++) {
        token[n - 1] = b64url_char((orig & ~0x0fu) | k);
        char id[256];
        ww_err_t err = {0};
        ww_code_t rc = auth_token(the_verifier(), token, id, &err);
        if (k == 0) {
            WW_ASSERT_MSG(rc == WW_OK, "canonical spelling refused: %s",
                          err.msg);
            accepted++;
        } else {
            WW_ASSERT_MSG(rc == WW_ERR_UNAUTHENTICATED, "spelling %u accepted",
                          k);
            WW_ASSERT_CONTAINS(err.msg, "non-zero unused bits");
            refused++;
        }
    }
    WW_ASSERT_EQ_INT(accepted, 1);
    WW_ASSERT_EQ_INT(refused, 15);
    free(token);
}
WW_TEST(signature_last_char_has_one_spelling_rs256) {
    one_spelling_of_last_char(fx_token(FX_AUDIENCE, 600));
}
WW_TEST(signature_last_char_has_one_spelling_es256) {
    one_spelling_of_last_char(fx_mint("ES256", "ec1", fx_ec(), NULL,
                                      fx_claims(FX_AUDIENCE, now_s(), 600)));
}
WW_TEST(base64url_unused_bits_refused_in_header) {
    /* "e30" is {}; "e31" decodes to the same two bytes with a stray bit. */
    expect_refused_header("Bearer e31.e30.c2ln", "non-zero unused bits");
}

/* (r, s) verifies, so does (r, n - s) mathematically: only low S passes. */
WW_TEST(es256_high_s_refused) {
    char *t = fx_mint("ES256", "ec1", fx_ec(), NULL,
                      fx_claims(FX_AUDIENCE, now_s(), 600));
    char *dot = strrchr(t, '.');
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_b64url_decode(dot + 1, strlen(dot + 1), "sig",
                                           &sig, &sig_len, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(sig_len, 64);
    fx_es256_negate_s(sig);
    char *s2 = ww_auth_b64url_encode(sig, 64);
    free(sig);
    size_t n = (size_t)(dot - t) + 1 + strlen(s2) + 1;
    char *high = malloc(n);
    snprintf(high, n, "%.*s.%s", (int)(dot - t), t, s2);
    free(s2);
    char id[256];
    ww_code_t rc = auth_token(the_verifier(), t, id, &err);
    free(t);
    WW_ASSERT_MSG(rc == WW_OK, "low S refused: %s", err.msg);
    expect_refused(high, "high S");
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
/* Only the JSON value true verifies an email: false, "true", 1, absent do
 * not (the email is then dropped; the identity is iss + sub anyway). */
WW_TEST(only_email_verified_true_keeps_the_email) {
    json_t *values[] = {json_false(), json_string("true"), json_integer(1),
                        NULL};
    for (int i = 0; i < 4; i++) {
        json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
        if (values[i])
            json_object_set_new(c, "email_verified", values[i]);
        else
            json_object_del(c, "email_verified");
        char *t = fx_mint("RS256", "rsa1", fx_rsa(), NULL, c);
        char h[4096];
        snprintf(h, sizeof h, "Bearer %s", t);
        free(t);
        ww_auth_caller_t who;
        ww_err_t err = {0};
        WW_ASSERT_EQ_INT(ww_auth_verifier_check(the_verifier(), h, &who, &err),
                         WW_OK);
        WW_ASSERT_EQ_STR(who.claims.identity, FX_IDENTITY);
        WW_ASSERT_MSG(who.claims.email[0] == '\0', "case %d kept the email", i);
    }
}

WW_TEST(a_token_without_sub_is_refused) {
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    json_object_del(c, "sub");
    expect_refused(fx_mint("RS256", "rsa1", fx_rsa(), NULL, c), "no sub");
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
    WW_ASSERT_EQ_STR(id, FX_IDENTITY);
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
    char tok[32];
    ww_auth_jwt_claims_t in = {.identity = "iss|someone", .issuer_len = 3}, out;
    for (int i = 0; i < 100; i++) {
        snprintf(tok, sizeof tok, "token-%d", i);
        in.exp = 1000 + i;
        ww_auth_cache_insert(c, tok, strlen(tok), &in);
    }
    size_t size = ww_auth_cache_size(c);
    int hit_new = ww_auth_cache_lookup(c, "token-99", 8, 500, &out);
    ww_auth_jwt_claims_t spare;
    int hit_expired = ww_auth_cache_lookup(c, "token-99", 8, 1099, &spare);
    int hit_absent = ww_auth_cache_lookup(c, "never", 5, 500, &spare);
    ww_auth_cache_destroy(c);
    WW_ASSERT_MSG(size <= 8, "size %zu", size);
    WW_ASSERT_EQ_INT(hit_new, 1);
    WW_ASSERT_EQ_INT(out.exp, 1099);
    WW_ASSERT_EQ_STR(out.identity, "iss|someone");
    WW_ASSERT_EQ_INT(hit_expired, 0);
    WW_ASSERT_EQ_INT(hit_absent, 0);
}

#define OTHER_ISSUER "https://issuer.other.test"

/* A verifier trusting FX_ISSUER and OTHER_ISSUER with caller list `list`
 * and user id claim `claim` (NULL: sub); the list stays alive with it. */
static ww_auth_callers_t *roles_list;
static ww_auth_verifier_t *with_roles(const char *list, const char *claim) {
    the_verifier();
    static const char *const issuers[] = {FX_ISSUER, OTHER_ISSUER, NULL};
    ww_err_t err = {0};
    ww_auth_callers_destroy(roles_list);
    WW_ASSERT_MSG(ww_auth_callers_parse(list, "test", issuers, &roles_list,
                                        &err) == WW_OK,
                  "%s", err.msg);
    ww_auth_verifier_opts_t vo = {.policy = {.audience = FX_AUDIENCE,
                                             .issuers = issuers,
                                             .user_id_claim = claim},
                                  .callers = roles_list};
    ww_auth_verifier_t *v;
    WW_ASSERT_EQ_INT(ww_auth_verifier_new(&vo, jwks, &v, &err), WW_OK);
    return v;
}

/* The role of a token with these claims (NULL: leave fx_claims' value). */
static ww_code_t role_of(ww_auth_verifier_t *v, const char *iss,
                         const char *sub, json_t *verified,
                         ww_auth_caller_t *who, ww_err_t *err) {
    json_t *c = fx_claims(FX_AUDIENCE, now_s(), 600);
    if (iss) json_object_set_new(c, "iss", json_string(iss));
    if (sub) json_object_set_new(c, "sub", json_string(sub));
    if (verified) json_object_set_new(c, "email_verified", verified);
    json_object_set_new(c, "user_id", json_string("custom-user-7"));
    char *t = fx_mint("RS256", "rsa1", fx_rsa(), NULL, c);
    char h[4096];
    snprintf(h, sizeof h, "Bearer %s", t);
    free(t);
    return ww_auth_verifier_check(v, h, who, err);
}

WW_TEST(roles_come_from_iss_and_sub) {
    ww_auth_verifier_t *v = with_roles("service=" FX_ISSUER "|" FX_SUB
                                       ", trainer=" OTHER_ISSUER "|" FX_SUB,
                                       NULL);
    ww_auth_caller_t who;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(role_of(v, NULL, NULL, NULL, &who, &err), WW_OK);
    WW_ASSERT_EQ_INT(who.role, WW_AUTH_ROLE_SERVICE);
    /* the same sub from another issuer is another caller */
    WW_ASSERT_EQ_INT(role_of(v, OTHER_ISSUER, NULL, NULL, &who, &err), WW_OK);
    WW_ASSERT_EQ_INT(who.role, WW_AUTH_ROLE_TRAINER);
    WW_ASSERT_EQ_STR(who.claims.identity, OTHER_ISSUER "|" FX_SUB);
    /* a sub nobody listed has no role, also when answered from the cache */
    for (int i = 0; i < 2; i++) {
        ww_err_t e = {0};
        WW_ASSERT_EQ_INT(role_of(v, NULL, "someone-else", NULL, &who, &e),
                         WW_ERR_PERMISSION_DENIED);
        WW_ASSERT_CONTAINS(e.msg, FX_ISSUER "|someone-else");
        WW_ASSERT_CONTAINS(e.msg, "no role");
    }
    ww_auth_verifier_destroy(v);
}

/* An email entry matches a verified email (JSON true) of its own issuer
 * only: a second issuer's email never matches, verified or not. */
WW_TEST(an_email_matches_only_verified_and_from_its_own_issuer) {
    ww_auth_verifier_t *v =
        with_roles("service=" FX_ISSUER "|email:" FX_EMAIL, NULL);
    ww_auth_caller_t who;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(role_of(v, NULL, "s-1", NULL, &who, &err), WW_OK);
    WW_ASSERT_EQ_INT(who.role, WW_AUTH_ROLE_SERVICE);
    WW_ASSERT_EQ_INT(role_of(v, NULL, "s-2", json_false(), &who, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(role_of(v, NULL, "s-3", json_string("true"), &who, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(role_of(v, OTHER_ISSUER, "s-4", json_false(), &who, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(role_of(v, OTHER_ISSUER, "s-5", json_true(), &who, &err),
                     WW_ERR_PERMISSION_DENIED);
    ww_auth_verifier_destroy(v);
}

WW_TEST(users_act_as_sub_or_the_configured_claim) {
    ww_auth_verifier_t *v = with_roles("user=" FX_ISSUER "|*", NULL);
    ww_auth_caller_t who;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(role_of(v, NULL, "u-42", NULL, &who, &err), WW_OK);
    WW_ASSERT_EQ_INT(who.role, WW_AUTH_ROLE_USER);
    WW_ASSERT_EQ_STR(who.claims.user_id, "u-42");
    /* the wildcard is per issuer */
    WW_ASSERT_EQ_INT(role_of(v, OTHER_ISSUER, "u-42", NULL, &who, &err),
                     WW_ERR_PERMISSION_DENIED);
    ww_auth_verifier_destroy(v);
    v = with_roles("user=" FX_ISSUER "|*", "user_id");
    WW_ASSERT_EQ_INT(role_of(v, NULL, "u-43", NULL, &who, &err), WW_OK);
    WW_ASSERT_EQ_STR(who.claims.user_id, "custom-user-7");
    ww_auth_verifier_destroy(v);
    /* a user whose token lacks the claim acts as nobody: refused */
    v = with_roles("user=" FX_ISSUER "|*", "no_such_claim");
    WW_ASSERT_EQ_INT(role_of(v, NULL, "u-44", NULL, &who, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "no_such_claim");
    ww_auth_verifier_destroy(v);
}

WW_TEST(a_blank_caller_list_denies_everyone) {
    const char *blanks[] = {"", "   ", " , ,\t", "# only a comment\n"};
    for (size_t i = 0; i < 4; i++) {
        ww_auth_verifier_t *v = with_roles(blanks[i], NULL);
        WW_ASSERT_EQ_INT(ww_auth_callers_count(roles_list), 0);
        ww_auth_caller_t who;
        ww_err_t err = {0};
        WW_ASSERT_EQ_INT(role_of(v, NULL, NULL, NULL, &who, &err),
                         WW_ERR_PERMISSION_DENIED);
        ww_auth_verifier_destroy(v);
    }
}

/* An unknown kid fails at once and asks the refresh thread for a reload
 * (key rotation); the retry after it succeeds. At most one reload per
 * interval, whatever the number of forged kids. */
WW_TEST(unknown_kid_refreshes_in_background_at_most_once_per_interval) {
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
    usleep(100 * 1000);
    unsigned long loads1 = ww_auth_jwks_load_count(j);
    doc = fx_jwks_json(1); /* the issuer rotates rsa2 in */
    fx_write(path, doc);
    free(doc);
    usleep(450 * 1000);
    /* Fails now (nobody waits for the fetch), and asks for a reload. */
    ww_code_t r2 = auth_token(v, t, id, &err);
    int reloaded = ww_auth_jwks_wait_loads(j, 2, 10000);
    ww_code_t r3 = auth_token(v, t, id, &err);
    unsigned long loads2 = ww_auth_jwks_load_count(j);
    /* A burst of forged kids right after costs no further loads. */
    for (int i = 0; i < 20; i++) {
        char kid[16];
        snprintf(kid, sizeof kid, "forged%d", i);
        char *f = fx_mint("RS256", kid, fx_rsa(), NULL, fx_claims(FX_AUDIENCE, now_s(), 600));
        auth_token(v, f, id, &err);
        free(f);
    }
    usleep(100 * 1000);
    unsigned long loads3 = ww_auth_jwks_load_count(j);
    free(t);
    ww_auth_verifier_destroy(v);
    ww_auth_jwks_destroy(j);
    WW_ASSERT_EQ_INT(r1, WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_EQ_INT(loads1, 1);
    WW_ASSERT_EQ_INT(r2, WW_ERR_UNAUTHENTICATED);
    WW_ASSERT(reloaded);
    WW_ASSERT_MSG(r3 == WW_OK, "rotated key not trusted after the reload: %s",
                  err.msg);
    WW_ASSERT_EQ_INT(loads2, 2);
    WW_ASSERT_EQ_INT(loads3, 2);
}

/* No max-age from a file: the TTL alone refreshes, and a key removed from
 * the JWKS stops verifying after one TTL without any unknown kid, also for
 * a token the verified-token cache holds. */
WW_TEST(removed_key_untrusted_after_one_ttl) {
    char *doc = fx_jwks_json(1);
    char path[512];
    fx_path(path, sizeof path, "ttl-jwks.json");
    fx_write(path, doc);
    free(doc);
    ww_auth_jwks_t *j;
    ww_auth_verifier_t *v;
    ww_err_t err = {0};
    ww_auth_jwks_opts_t jo = {
        .source = path, .refresh_interval_ms = 100, .ttl_ms = 300};
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&jo, &j, &err), WW_OK);
    long ttl = ww_auth_jwks_ttl_ms(j);
    ww_auth_verifier_opts_t vo = {.policy = {.audience = FX_AUDIENCE}};
    WW_ASSERT_EQ_INT(ww_auth_verifier_new(&vo, j, &v, &err), WW_OK);
    char id[256];
    char *t1 = fx_mint("RS256", "rsa2", fx_rsa_other(), NULL,
                       fx_claims(FX_AUDIENCE, now_s(), 600));
    ww_code_t before = auth_token(v, t1, id, &err);
    ww_code_t cached = auth_token(v, t1, id, &err);
    unsigned long hits_before = 0, hits_after = 0;
    ww_auth_verifier_stats(v, &hits_before, NULL);
    uint64_t gen0 = ww_auth_jwks_generation(j);
    doc = fx_jwks_json(0); /* rsa2 revoked */
    fx_write(path, doc);
    free(doc);
    unsigned long n = ww_auth_jwks_load_count(j);
    int refreshed = ww_auth_jwks_wait_loads(j, n + 1, 30000);
    uint64_t gen1 = ww_auth_jwks_generation(j);
    /* The token the cache holds, and a fresh one, under the removed key. */
    ww_err_t err1 = {0}, err2 = {0};
    ww_code_t after_cached = auth_token(v, t1, id, &err1);
    char *t2 = fx_mint("RS256", "rsa2", fx_rsa_other(), NULL,
                       fx_claims(FX_AUDIENCE, now_s(), 600));
    ww_code_t after = auth_token(v, t2, id, &err2);
    ww_auth_verifier_stats(v, &hits_after, NULL);
    /* The kept keys still verify. */
    char *t3 = fx_token(FX_AUDIENCE, 600);
    ww_code_t kept = auth_token(v, t3, id, &err);
    free(t1);
    free(t2);
    free(t3);
    ww_auth_verifier_destroy(v);
    ww_auth_jwks_destroy(j);
    WW_ASSERT_EQ_INT(ttl, 300);
    WW_ASSERT_EQ_INT(before, WW_OK);
    WW_ASSERT_EQ_INT(cached, WW_OK);
    WW_ASSERT_EQ_INT(hits_before, 1);
    WW_ASSERT(refreshed);
    WW_ASSERT(gen1 > gen0);
    WW_ASSERT_EQ_INT(after_cached, WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_CONTAINS(err1.msg, "unknown signing key kid \"rsa2\"");
    WW_ASSERT_EQ_INT(after, WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_CONTAINS(err2.msg, "unknown signing key kid \"rsa2\"");
    WW_ASSERT_EQ_INT(hits_after, hits_before); /* no answer from the cache */
    WW_ASSERT_EQ_INT(kept, WW_OK);
}

/* Refreshes that only add keys (or change nothing) keep the cache. */
WW_TEST(refresh_without_removals_keeps_cached_tokens) {
    char *doc = fx_jwks_json(0);
    char path[512];
    fx_path(path, sizeof path, "grow-jwks.json");
    fx_write(path, doc);
    free(doc);
    ww_auth_jwks_t *j;
    ww_auth_verifier_t *v;
    ww_err_t err = {0};
    ww_auth_jwks_opts_t jo = {
        .source = path, .refresh_interval_ms = 100, .ttl_ms = 200};
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&jo, &j, &err), WW_OK);
    ww_auth_verifier_opts_t vo = {.policy = {.audience = FX_AUDIENCE}};
    WW_ASSERT_EQ_INT(ww_auth_verifier_new(&vo, j, &v, &err), WW_OK);
    char id[256];
    char *t = fx_token(FX_AUDIENCE, 600);
    ww_code_t first = auth_token(v, t, id, &err);
    uint64_t gen0 = ww_auth_jwks_generation(j);
    doc = fx_jwks_json(1); /* rsa2 added */
    fx_write(path, doc);
    free(doc);
    unsigned long n = ww_auth_jwks_load_count(j);
    int refreshed =
        ww_auth_jwks_wait_loads(j, n + 2, 30000); /* and once more, unchanged */
    ww_code_t again = auth_token(v, t, id, &err);
    unsigned long hits = 0;
    ww_auth_verifier_stats(v, &hits, NULL);
    uint64_t gen1 = ww_auth_jwks_generation(j);
    free(t);
    ww_auth_verifier_destroy(v);
    ww_auth_jwks_destroy(j);
    WW_ASSERT_EQ_INT(first, WW_OK);
    WW_ASSERT(refreshed);
    WW_ASSERT_EQ_INT(again, WW_OK);
    WW_ASSERT_EQ_INT(hits, 1);
    WW_ASSERT_EQ_INT(gen1, gen0);
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
        if (auth_token(verifier, a->token, id, &err) == WW_OK &&
            !strcmp(id, FX_IDENTITY))
            a->ok++;
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
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(valid_rs256_token_yields_iss_sub_identity),
            WW_CASE(valid_es256_token_and_audience_array_accepted),
            WW_CASE(scheme_is_case_insensitive),
            WW_CASE(no_header),
            WW_CASE(wrong_scheme),
            WW_CASE(empty_bearer),
            WW_CASE(garbage),
            WW_CASE(three_dots_and_empty_parts),
            WW_CASE(bad_base64url),
            WW_CASE(signature_last_char_has_one_spelling_rs256),
            WW_CASE(signature_last_char_has_one_spelling_es256),
            WW_CASE(base64url_unused_bits_refused_in_header),
            WW_CASE(es256_high_s_refused),
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
            WW_CASE(only_email_verified_true_keeps_the_email),
            WW_CASE(a_token_without_sub_is_refused),
            WW_CASE(every_method_is_checked_health_included),
            WW_CASE(repeated_token_is_a_cache_lookup),
            WW_CASE(cache_never_extends_a_token_life),
            WW_CASE(cache_is_bounded),
            WW_CASE(roles_come_from_iss_and_sub),
            WW_CASE(an_email_matches_only_verified_and_from_its_own_issuer),
            WW_CASE(users_act_as_sub_or_the_configured_claim),
            WW_CASE(a_blank_caller_list_denies_everyone),
            WW_CASE(
                unknown_kid_refreshes_in_background_at_most_once_per_interval),
            WW_CASE(removed_key_untrusted_after_one_ttl),
            WW_CASE(refresh_without_removals_keeps_cached_tokens),
            WW_CASE(jwks_rejects_unusable_sources),
            WW_CASE(keyset_skips_bad_keys_keeps_good_ones),
            WW_CASE(concurrent_verification_is_consistent),
            {0}});
    ww_auth_verifier_destroy(verifier);
    ww_auth_callers_destroy(roles_list);
    ww_auth_jwks_destroy(jwks);
    return rc;
}
