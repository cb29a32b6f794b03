/* Fetching over HTTP(S): identity tokens from a fake metadata server (happy
 * path, cache, and every way the server can fail, each fast and clear) and
 * a JWKS over https. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth_fixture.h"
#include "ww_auth_jwks.h"
#include "ww_auth_token_source.h"
#include "ww_test.h"

static pid_t meta_pid, jwks_pid;
static int meta_port, jwks_port;
static char meta_dir[512], jwks_dir[512];

static void meta_mode(const char *mode) {
    char p[600];
    snprintf(p, sizeof p, "%s/mode", meta_dir);
    fx_write(p, mode);
}

static void meta_token(const char *token) {
    char p[600];
    snprintf(p, sizeof p, "%s/token", meta_dir);
    fx_write(p, token);
}

static void start_meta(void) {
    if (meta_pid) return;
    fx_path(meta_dir, sizeof meta_dir, "meta");
    WW_ASSERT(mkdir(meta_dir, 0700) == 0);
    meta_port = fx_fake_server_start(meta_dir, NULL, NULL, &meta_pid);
}

static ww_auth_token_source_t *source(long timeout_ms, long retry_ms) {
    start_meta();
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", meta_port);
    ww_auth_token_source_opts_t o = {.target = "dns:///trainer.test:443",
                                     .metadata_host = host,
                                     .timeout_ms = timeout_ms,
                                     .retry_after_ms = retry_ms};
    ww_auth_token_source_t *ts = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_auth_token_source_new(&o, &ts, &err) == WW_OK, "%s", err.msg);
    return ts;
}

WW_TEST(fetches_token_for_target_audience_then_serves_from_cache) {
    ww_auth_token_source_t *ts = source(2000, 0);
    char *want = fx_token(FX_AUDIENCE, 3600);
    meta_token(want);
    meta_mode("ok");
    long before = fx_read_count(meta_dir, "count");
    char got[8192];
    ww_err_t err = {0};
    ww_code_t rc = ww_auth_token_source_token(ts, got, sizeof got, &err);
    for (int i = 0; i < 10 && rc == WW_OK; i++) rc = ww_auth_token_source_token(ts, got, sizeof got, &err);
    long after = fx_read_count(meta_dir, "count");
    unsigned long fetches = ww_auth_token_source_fetch_count(ts);
    ww_auth_token_source_release(ts);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_STR(got, want);
    free(want);
    WW_ASSERT_EQ_INT(after - before, 1);
    WW_ASSERT_EQ_INT(fetches, 1);
    char p[600], aud[256] = "";
    snprintf(p, sizeof p, "%s/last_audience", meta_dir);
    FILE *f = fopen(p, "r");
    WW_ASSERT(f && fgets(aud, sizeof aud, f));
    fclose(f);
    WW_ASSERT_EQ_STR(aud, "https://trainer.test");
}

/* Runs one failing fetch and checks code, message and elapsed time. */
static void expect_fast_failure(const char *mode, long timeout_ms, ww_code_t want, const char *why,
                                long max_ms) {
    ww_auth_token_source_t *ts = source(timeout_ms, 0);
    meta_mode(mode);
    char got[8192];
    ww_err_t err = {0};
    int64_t t0 = ww_test_now_ms();
    ww_code_t rc = ww_auth_token_source_token(ts, got, sizeof got, &err);
    int64_t took = ww_test_now_ms() - t0;
    ww_auth_token_source_release(ts);
    WW_ASSERT_MSG(rc == want, "mode %s: got %s (%s)", mode, ww_code_name(rc), err.msg);
    WW_ASSERT_CONTAINS(err.msg, why);
    WW_ASSERT_MSG(took <= max_ms, "mode %s took %lld ms", mode, (long long)took);
}

WW_TEST(http_500_fails_fast) { expect_fast_failure("500", 2000, WW_ERR_UNAVAILABLE, "HTTP 500", 1500); }
WW_TEST(garbage_fails_fast) {
    expect_fast_failure("garbage", 2000, WW_ERR_UNAUTHENTICATED, "no identity token", 1500);
}
WW_TEST(slow_server_fails_at_the_fetch_timeout) {
    expect_fast_failure("slow", 300, WW_ERR_DEADLINE_EXCEEDED, "no answer within 300 ms", 1500);
}
WW_TEST(nearly_expired_token_refused) {
    char *t = fx_token(FX_AUDIENCE, 5);
    meta_token(t);
    free(t);
    expect_fast_failure("ok", 2000, WW_ERR_UNAUTHENTICATED, "expired identity token", 1500);
}

WW_TEST(server_down_fails_fast) {
    ww_auth_token_source_opts_t o = {.target = "trainer.test:443", .metadata_host = "127.0.0.1:1"};
    ww_auth_token_source_t *ts = NULL;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_token_source_new(&o, &ts, &err), WW_OK);
    char got[64];
    int64_t t0 = ww_test_now_ms();
    ww_code_t rc = ww_auth_token_source_token(ts, got, sizeof got, &err);
    int64_t took = ww_test_now_ms() - t0;
    ww_auth_token_source_release(ts);
    WW_ASSERT_EQ_INT(rc, WW_ERR_UNAVAILABLE);
    WW_ASSERT_CONTAINS(err.msg, "metadata server unreachable");
    WW_ASSERT_MSG(took < 1000, "took %lld ms", (long long)took);
}

WW_TEST(failure_is_remembered_briefly_then_retried) {
    ww_auth_token_source_t *ts = source(2000, 300);
    meta_mode("500");
    char got[8192];
    ww_err_t err = {0};
    ww_code_t r1 = ww_auth_token_source_token(ts, got, sizeof got, &err);
    /* The server recovers, but within the retry window nobody asks it. */
    char *t = fx_token(FX_AUDIENCE, 3600);
    meta_token(t);
    meta_mode("ok");
    ww_code_t r2 = ww_auth_token_source_token(ts, got, sizeof got, &err);
    unsigned long f2 = ww_auth_token_source_fetch_count(ts);
    usleep(350 * 1000);
    ww_code_t r3 = ww_auth_token_source_token(ts, got, sizeof got, &err);
    unsigned long f3 = ww_auth_token_source_fetch_count(ts);
    ww_auth_token_source_release(ts);
    WW_ASSERT_EQ_INT(r1, WW_ERR_UNAVAILABLE);
    WW_ASSERT_EQ_INT(r2, WW_ERR_UNAVAILABLE);
    WW_ASSERT_EQ_INT(f2, 1);
    WW_ASSERT_EQ_INT(r3, WW_OK);
    WW_ASSERT_EQ_INT(f3, 2);
    WW_ASSERT_EQ_STR(got, t);
    free(t);
}

/* A token in its refresh window (past half its life, still valid) while
 * the metadata server fails: the background refresh fails, and calls keep
 * getting the cached token instead of the failure. Waits half a 30 s life. */
WW_TEST(failed_background_refresh_keeps_serving_valid_token) {
    ww_auth_token_source_t *ts = source(2000, 10000);
    char *t = fx_token(FX_AUDIENCE, 30);
    meta_token(t);
    meta_mode("ok");
    char got[8192];
    ww_err_t err = {0};
    ww_code_t r1 = ww_auth_token_source_token(ts, got, sizeof got, &err);
    WW_ASSERT_MSG(r1 == WW_OK, "%s", err.msg);
    /* Refresh at 15 s (half the life), still valid until 20 s. */
    usleep(15500 * 1000);
    meta_mode("500");
    ww_code_t r2 = ww_auth_token_source_token(ts, got, sizeof got,
                                              &err); /* starts the refresh */
    int idle = ww_auth_token_source_wait_idle(ts, 5000);
    unsigned long fetches = ww_auth_token_source_fetch_count(ts);
    memset(got, 0, sizeof got);
    ww_code_t r3 = ww_auth_token_source_token(
        ts, got, sizeof got, &err); /* within the retry window */
    unsigned long fetches_after = ww_auth_token_source_fetch_count(ts);
    ww_auth_token_source_release(ts);
    meta_mode("ok");
    WW_ASSERT_EQ_INT(r2, WW_OK);
    WW_ASSERT(idle);
    WW_ASSERT_EQ_INT(fetches, 2); /* the refresh ran, and failed */
    WW_ASSERT_MSG(r3 == WW_OK,
                  "valid token not served after a failed refresh: %s (%s)",
                  ww_code_name(r3), err.msg);
    WW_ASSERT_EQ_STR(got, t);
    WW_ASSERT_EQ_INT(fetches_after, 2); /* no new attempt inside the window */
    free(t);
}

static void start_jwks_server(void) {
    if (jwks_pid) return;
    fx_path(jwks_dir, sizeof jwks_dir, "jwks-host");
    WW_ASSERT(mkdir(jwks_dir, 0700) == 0);
    char p[600], cert[600], key[600];
    snprintf(p, sizeof p, "%s/jwks.json", jwks_dir);
    char *doc = fx_jwks_json(0);
    fx_write(p, doc);
    free(doc);
    snprintf(cert, sizeof cert, "%s/server.pem", fx_pki());
    snprintf(key, sizeof key, "%s/server.key", fx_pki());
    jwks_port = fx_fake_server_start(jwks_dir, cert, key, &jwks_pid);
}

WW_TEST(jwks_over_https_with_configured_ca) {
    start_jwks_server();
    char url[128], ca[600];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/jwks.json", jwks_port);
    snprintf(ca, sizeof ca, "%s/ca.pem", fx_pki());
    ww_auth_jwks_t *j = NULL;
    ww_err_t err = {0};
    ww_auth_jwks_opts_t o = {.source = url, .ca_file = ca, .timeout_ms = 2000};
    WW_ASSERT_MSG(ww_auth_jwks_new(&o, &j, &err) == WW_OK, "%s", err.msg);
    ww_auth_keyset_t *set = NULL;
    WW_ASSERT_EQ_INT(ww_auth_jwks_keys(j, "ec1", &set, &err), WW_OK);
    int found = ww_auth_keyset_find(set, "ec1") != NULL;
    ww_auth_keyset_unref(set);
    ww_auth_jwks_destroy(j);
    WW_ASSERT(found);
    WW_ASSERT_EQ_INT(fx_read_count(jwks_dir, "jwks_count"), 1);
}

WW_TEST(jwks_over_https_refuses_untrusted_certificate) {
    start_jwks_server();
    char url[128], ca[600];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/jwks.json", jwks_port);
    snprintf(ca, sizeof ca, "%s/other-ca.pem", fx_pki());
    ww_auth_jwks_t *j = NULL;
    ww_err_t err = {0};
    ww_auth_jwks_opts_t o = {.source = url, .ca_file = ca, .timeout_ms = 2000};
    WW_ASSERT_EQ_INT(ww_auth_jwks_new(&o, &j, &err), WW_ERR_UNAVAILABLE);
    WW_ASSERT(j == NULL);
    WW_ASSERT_CONTAINS(err.msg, url);
}

int main(int argc, char **argv) {
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(fetches_token_for_target_audience_then_serves_from_cache),
            WW_CASE(http_500_fails_fast),
            WW_CASE(garbage_fails_fast),
            WW_CASE(slow_server_fails_at_the_fetch_timeout),
            WW_CASE(nearly_expired_token_refused),
            WW_CASE(server_down_fails_fast),
            WW_CASE(failure_is_remembered_briefly_then_retried),
            WW_CASE(failed_background_refresh_keeps_serving_valid_token),
            WW_CASE(jwks_over_https_with_configured_ca),
            WW_CASE(jwks_over_https_refuses_untrusted_certificate),
            {0}});
    fx_fake_server_stop(meta_pid);
    fx_fake_server_stop(jwks_pid);
    return rc;
}
