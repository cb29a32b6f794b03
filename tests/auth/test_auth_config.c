/* Configuration that fails closed (the caller list included), the caller
 * list's grammar, TLS file checks, and the small pure functions
 * (base64url, comma lists, audience from a target). */
#include "auth_fixture.h"
#include "ww_auth_b64url.h"
#include "ww_auth_callers.h"
#include "ww_auth_config.h"
#include "ww_auth_strlist.h"
#include "ww_auth_tls.h"
#include "ww_auth_token_source.h"
#include "ww_test.h"

#include <grpc/grpc.h>
#include <stdlib.h>
#include <string.h>

static const char *const all_vars[] = {"GRPC_NO_TLS",
                                       "WW_TLS_CERT",
                                       "WW_TLS_KEY",
                                       "WW_TLS_CLIENT_CA",
                                       "WW_JWKS",
                                       "WW_JWT_AUDIENCE",
                                       "WW_JWT_ISSUERS",
                                       "WW_ALLOWED_CALLERS",
                                       "WW_TRAINER_CALLERS",
                                       "WW_CALLERS",
                                       "WW_CALLERS_FILE",
                                       "WW_USER_ID_CLAIM",
                                       "WW_TLS_CA",
                                       "WW_TLS_CLIENT_CERT",
                                       "WW_TLS_CLIENT_KEY",
                                       "GCE_METADATA_HOST",
                                       NULL};

static void clear_env(void) {
    for (const char *const *v = all_vars; *v; v++) unsetenv(*v);
}

WW_TEST(server_config_names_each_missing_variable) {
    clear_env();
    ww_auth_config_t cfg;
    ww_err_t err = {0};
    const char *order[][2] = {
        {"WW_TLS_CERT", "/c.pem"},
        {"WW_TLS_KEY", "/k.pem"},
        {"WW_JWKS", "/jwks.json"},
        {"WW_JWT_AUDIENCE", "https://trainer"},
        {"WW_CALLERS", "service=https://accounts.google.com|42"}};
    for (int i = 0; i < 5; i++) {
        WW_ASSERT_EQ_INT(ww_auth_config_load_server(&cfg, &err), WW_ERR_INVALID_ARGUMENT);
        WW_ASSERT_CONTAINS(err.msg, order[i][0]);
        WW_ASSERT(cfg.tls_cert == NULL); /* nothing leaks on failure */
        setenv(order[i][0], order[i][1], 1);
    }
    WW_ASSERT_MSG(ww_auth_config_load_server(&cfg, &err) == WW_OK, "%s", err.msg);
    WW_ASSERT(!cfg.no_tls);
    WW_ASSERT_EQ_STR(cfg.jwt_audience, "https://trainer");
    WW_ASSERT_EQ_STR(cfg.jwt_issuers[0], "https://accounts.google.com");
    WW_ASSERT(cfg.jwt_issuers[1] == NULL);
    WW_ASSERT_EQ_INT(ww_auth_callers_count(cfg.callers), 1);
    WW_ASSERT(cfg.user_id_claim == NULL);
    WW_ASSERT_EQ_STR(cfg.metadata_host, "metadata.google.internal");
    ww_auth_config_free(&cfg);
}

static void tls_env(void) {
    clear_env();
    setenv("WW_TLS_CERT", "/c.pem", 1);
    setenv("WW_TLS_KEY", "/k.pem", 1);
    setenv("WW_JWKS", "/jwks.json", 1);
    setenv("WW_JWT_AUDIENCE", "https://trainer", 1);
}

static ww_code_t load(ww_err_t *err) {
    ww_auth_config_t cfg;
    ww_code_t rc = ww_auth_config_load_server(&cfg, err);
    if (rc == WW_OK) ww_auth_config_free(&cfg);
    return rc;
}

WW_TEST(caller_settings_fail_closed) {
    ww_err_t err = {0};
    tls_env();
    WW_ASSERT_EQ_INT(load(&err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "WW_CALLERS is not set");
    /* blank is a valid list that refuses everyone, not "no list" */
    setenv("WW_CALLERS", "  ", 1);
    ww_auth_config_t cfg;
    WW_ASSERT_MSG(ww_auth_config_load_server(&cfg, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT_EQ_INT(ww_auth_callers_count(cfg.callers), 0);
    ww_auth_config_free(&cfg);
    /* the retired variables stop the start, naming themselves */
    const char *retired[] = {"WW_ALLOWED_CALLERS", "WW_TRAINER_CALLERS"};
    for (int i = 0; i < 2; i++) {
        setenv(retired[i], "a@x", 1);
        WW_ASSERT_EQ_INT(load(&err), WW_ERR_INVALID_ARGUMENT);
        WW_ASSERT_CONTAINS(err.msg, retired[i]);
        WW_ASSERT_CONTAINS(err.msg, "no longer read");
        unsetenv(retired[i]);
    }
    /* an issuer outside WW_JWT_ISSUERS could never match */
    setenv("WW_CALLERS", "service=https://evil.example|1", 1);
    WW_ASSERT_EQ_INT(load(&err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "WW_CALLERS entry 1");
    WW_ASSERT_CONTAINS(err.msg, "WW_JWT_ISSUERS");
    /* a file, with comments, one entry per line */
    char path[512];
    fx_path(path, sizeof path, "callers.txt");
    fx_write(
        path,
        "# who may call\nservice=https://accounts.google.com|1 # a comment\n\n"
        "user=https://accounts.google.com|*\n");
    setenv("WW_CALLERS_FILE", path, 1);
    WW_ASSERT_EQ_INT(load(&err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "both set");
    unsetenv("WW_CALLERS");
    setenv("WW_USER_ID_CLAIM", "user_id", 1);
    WW_ASSERT_MSG(ww_auth_config_load_server(&cfg, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT_EQ_INT(ww_auth_callers_count(cfg.callers), 2);
    WW_ASSERT_EQ_STR(cfg.callers_source, path);
    WW_ASSERT_EQ_STR(cfg.user_id_claim, "user_id");
    ww_auth_config_free(&cfg);
    setenv("WW_CALLERS_FILE", "/nonexistent/callers", 1);
    WW_ASSERT_EQ_INT(load(&err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "/nonexistent/callers");
    clear_env();
}

WW_TEST(caller_list_grammar_names_the_bad_entry) {
    const char *const issuers[] = {"https://a.test", NULL};
    const struct {
        const char *list, *why;
    } bad[] = {
        {"service", "expected ROLE=ISSUER|SUBJECT"},
        {"service=https://a.test", "expected ROLE=ISSUER|SUBJECT"},
        {"admin=https://a.test|1", "role \"admin\""},
        {"service=https://a.test|*", "user role only"},
        {"trainer=https://a.test|*", "user role only"},
        {"service=https://a.test|", "empty"},
        {"service=https://a.test|email:", "empty"},
        {"service=https://a.test|1, user=https://a.test|1", "entry 2"},
        {"service=https://a.test|email:A@x, user=https://a.test|email:a@X",
         "listed twice"},
        {"user=https://b.test|*", "not in WW_JWT_ISSUERS"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ww_auth_callers_t *c = (ww_auth_callers_t *)1;
        ww_err_t err = {0};
        WW_ASSERT_EQ_INT(
            ww_auth_callers_parse(bad[i].list, "WW_CALLERS", issuers, &c, &err),
            WW_ERR_INVALID_ARGUMENT);
        WW_ASSERT(c == NULL);
        WW_ASSERT_CONTAINS(err.msg, bad[i].why);
        WW_ASSERT_CONTAINS(err.msg, "WW_CALLERS");
    }
    ww_auth_callers_t *c;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(
        ww_auth_callers_parse(
            " service=https://a.test|system:serviceaccount:ns:sa ,"
            "trainer=https://a.test|email:t@x\nuser=https://a.test|*",
            "WW_CALLERS", issuers, &c, &err),
        WW_OK);
    WW_ASSERT_EQ_INT(ww_auth_callers_count(c), 3);
    ww_auth_jwt_claims_t k = {.identity =
                                  "https://a.test|system:serviceaccount:ns:sa",
                              .issuer_len = 14};
    WW_ASSERT_EQ_INT(ww_auth_callers_match(c, &k), WW_AUTH_ROLE_SERVICE);
    ww_auth_jwt_claims_t t = {
        .identity = "https://a.test|77", .issuer_len = 14, .email = "T@X"};
    WW_ASSERT_EQ_INT(ww_auth_callers_match(c, &t), WW_AUTH_ROLE_TRAINER);
    ww_auth_jwt_claims_t u = {.identity = "https://a.test|78",
                              .issuer_len = 14};
    WW_ASSERT_EQ_INT(ww_auth_callers_match(c, &u), WW_AUTH_ROLE_USER);
    ww_auth_jwt_claims_t other = {.identity = "https://a.test2|78",
                                  .issuer_len = 15};
    WW_ASSERT_EQ_INT(ww_auth_callers_match(c, &other), WW_AUTH_ROLE_NONE);
    ww_auth_callers_destroy(c);
}

WW_TEST(local_mode_needs_nothing) {
    clear_env();
    setenv("GRPC_NO_TLS", "true", 1);
    ww_auth_config_t cfg;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_config_load_server(&cfg, &err), WW_OK);
    WW_ASSERT(cfg.no_tls);
    grpc_server_credentials *sc = (grpc_server_credentials *)1;
    grpc_channel_credentials *cc = (grpc_channel_credentials *)1;
    WW_ASSERT_EQ_INT(ww_auth_tls_server_credentials_from_config(&cfg, &sc, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_auth_tls_channel_credentials_from_config(&cfg, &cc, &err), WW_OK);
    WW_ASSERT(sc == NULL && cc == NULL);
    ww_auth_config_free(&cfg);
    setenv("GRPC_NO_TLS", "false", 1);
    WW_ASSERT_EQ_INT(ww_auth_config_load_server(&cfg, &err), WW_ERR_INVALID_ARGUMENT);
    clear_env();
}

WW_TEST(lists_and_client_settings) {
    clear_env();
    setenv("GRPC_NO_TLS", "1", 1);
    setenv("WW_JWT_ISSUERS",
           " https://accounts.google.com, accounts.google.com ,", 1);
    setenv("GCE_METADATA_HOST", "127.0.0.1:8080", 1);
    ww_auth_config_t cfg;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_config_load_server(&cfg, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_auth_strlist_len((const char *const *)cfg.jwt_issuers), 2);
    WW_ASSERT_EQ_STR(cfg.jwt_issuers[1], "accounts.google.com");
    WW_ASSERT_EQ_STR(cfg.metadata_host, "127.0.0.1:8080");
    ww_auth_config_free(&cfg);
    setenv("WW_JWT_ISSUERS", " , ", 1);
    WW_ASSERT_EQ_INT(ww_auth_config_load_server(&cfg, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "WW_JWT_ISSUERS");
    unsetenv("WW_JWT_ISSUERS");
    setenv("WW_TLS_CLIENT_CERT", "/c.pem", 1);
    WW_ASSERT_EQ_INT(ww_auth_config_load_client(&cfg, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "WW_TLS_CLIENT_KEY");
    clear_env();
}

WW_TEST(tls_files_checked_at_creation) {
    grpc_server_credentials *sc = NULL;
    grpc_channel_credentials *cc = NULL;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_tls_server_credentials("/nonexistent/cert.pem",
                                                    fx_pki_file("server.key"),
                                                    NULL, &sc, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "/nonexistent/cert.pem");
    WW_ASSERT_EQ_INT(ww_auth_tls_server_credentials(fx_pki_file("server.pem"),
                                                    fx_pki_file("client.key"),
                                                    NULL, &sc, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "does not match");
    WW_ASSERT_EQ_INT(ww_auth_tls_server_credentials(fx_pki_file("server.key"),
                                                    fx_pki_file("server.key"),
                                                    NULL, &sc, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "no PEM certificate");
    WW_ASSERT_EQ_INT(ww_auth_tls_channel_credentials(fx_pki_file("server.key"),
                                                     NULL, NULL, &cc, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "CA");
    WW_ASSERT(sc == NULL && cc == NULL);
    WW_ASSERT_MSG(ww_auth_tls_server_credentials(
                      fx_pki_file("server.pem"), fx_pki_file("server.key"),
                      fx_pki_file("ca.pem"), &sc, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT_MSG(ww_auth_tls_channel_credentials(
                      fx_pki_file("ca.pem"), fx_pki_file("client.pem"),
                      fx_pki_file("client.key"), &cc, &err) == WW_OK,
                  "%s", err.msg);
    grpc_server_credentials_release(sc);
    grpc_channel_credentials_release(cc);
}

WW_TEST(b64url_strict) {
    unsigned char *out;
    size_t n;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_b64url_decode("YQ", 2, "x", &out, &n, &err), WW_OK);
    WW_ASSERT_EQ_INT(n, 1);
    WW_ASSERT_EQ_STR((char *)out, "a");
    free(out);
    WW_ASSERT_EQ_INT(ww_auth_b64url_decode("-_8", 3, "x", &out, &n, &err), WW_OK);
    WW_ASSERT_EQ_INT(n, 2);
    WW_ASSERT_EQ_INT(out[0], 0xfb);
    WW_ASSERT_EQ_INT(out[1], 0xff);
    free(out);
    WW_ASSERT_EQ_INT(ww_auth_b64url_decode("", 0, "x", &out, &n, &err), WW_OK);
    WW_ASSERT_EQ_INT(n, 0);
    free(out);
    const char *bad[] = {"YQ==", "Y Q", "+/8", "YQ=A", " YQ", "Y"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        WW_ASSERT_MSG(ww_auth_b64url_decode(bad[i], strlen(bad[i]), "x", &out, &n, &err) == WW_ERR_INVALID_ARGUMENT,
                      "accepted \"%s\"", bad[i]);
        WW_ASSERT(out == NULL);
    }
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    char *enc = ww_auth_b64url_encode(all, sizeof all);
    WW_ASSERT_EQ_INT(ww_auth_b64url_decode(enc, strlen(enc), "x", &out, &n, &err), WW_OK);
    free(enc);
    int same = n == sizeof all && !memcmp(out, all, n);
    free(out);
    WW_ASSERT(same);
}

WW_TEST(audience_from_target) {
    char aud[128];
    ww_err_t err = {0};
    struct { const char *target, *want; } cases[] = {
        {"trainer.internal:3000", "https://trainer.internal"},
        {"dns:///trainer-abc.a.run.app:443", "https://trainer-abc.a.run.app"},
        {"dns:users:3001", "https://users"},
        {"127.0.0.1:50051", "https://127.0.0.1"},
        {"[::1]:50051", "https://[::1]"},
        {"trainer", "https://trainer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        WW_ASSERT_EQ_INT(ww_auth_audience_for_target(cases[i].target, aud, sizeof aud, &err), WW_OK);
        WW_ASSERT_EQ_STR(aud, cases[i].want);
    }
    WW_ASSERT_EQ_INT(ww_auth_audience_for_target(":443", aud, sizeof aud, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_auth_audience_for_target(NULL, aud, sizeof aud, &err), WW_ERR_INVALID_ARGUMENT);
}

WW_TEST(token_source_rejects_odd_metadata_host) {
    ww_auth_token_source_t *ts = NULL;
    ww_err_t err = {0};
    ww_auth_token_source_opts_t o = {.target = "trainer:3000", .metadata_host = "evil.example/x?y="};
    WW_ASSERT_EQ_INT(ww_auth_token_source_new(&o, &ts, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT(ts == NULL);
}

int main(int argc, char **argv) {
    grpc_init();
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){WW_CASE(server_config_names_each_missing_variable),
                           WW_CASE(caller_settings_fail_closed),
                           WW_CASE(caller_list_grammar_names_the_bad_entry),
                           WW_CASE(local_mode_needs_nothing),
                           WW_CASE(lists_and_client_settings),
                           WW_CASE(tls_files_checked_at_creation),
                           WW_CASE(b64url_strict),
                           WW_CASE(audience_from_target),
                           WW_CASE(token_source_rejects_odd_metadata_host),
                           {0}});
    grpc_shutdown_blocking();
    return rc;
}
