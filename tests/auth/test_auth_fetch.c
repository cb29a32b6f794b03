/* Fetching over HTTP(S): identity tokens from a fake metadata server (happy
 * path, cache, and every way the server can fail, each fast and clear) and
 * a JWKS over https. */
#include "auth_fixture.h"
#include "ww_auth_jwks.h"
#include "ww_auth_token_source.h"
#include "ww_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

static void jwks_file(const char *name, const char *value) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", jwks_dir, name);
    if (value)
        fx_write(p, value);
    else
        unlink(p);
}

static ww_auth_jwks_t *jwks_over_https(long refresh_ms, long ttl_ms) {
    start_jwks_server();
    char url[128], ca[600];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/jwks.json", jwks_port);
    snprintf(ca, sizeof ca, "%s/ca.pem", fx_pki());
    ww_auth_jwks_t *j = NULL;
    ww_err_t err = {0};
    ww_auth_jwks_opts_t o = {.source = url,
                             .ca_file = ca,
                             .timeout_ms = 20000,
                             .refresh_interval_ms = refresh_ms,
                             .ttl_ms = ttl_ms};
    WW_ASSERT_MSG(ww_auth_jwks_new(&o, &j, &err) == WW_OK, "%s", err.msg);
    return j;
}

static int has_kid(ww_auth_jwks_t *j, const char *kid) {
    ww_auth_keyset_t *set = NULL;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_auth_jwks_keys(j, kid, &set, &err), WW_OK);
    int found = ww_auth_keyset_find(set, kid) != NULL;
    ww_auth_keyset_unref(set);
    return found;
}

/* Cache-Control max-age shortens the TTL (never below the refresh
 * interval), never lengthens it. */
WW_TEST(jwks_ttl_follows_cache_control_max_age) {
    start_jwks_server();
    const struct {
        const char *cc;
        long want;
    } cases[] = {{NULL, 5000},
                 {"public, max-age=1, must-revalidate", 1000},
                 {"max-age=3600", 5000},
                 {"no-store", 200},
                 {"max-age=0", 200}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        jwks_file("jwks_cache_control", cases[i].cc);
        ww_auth_jwks_t *j = jwks_over_https(200, 5000);
        long ttl = ww_auth_jwks_ttl_ms(j);
        ww_auth_jwks_destroy(j);
        WW_ASSERT_MSG(ttl == cases[i].want,
                      "Cache-Control %s: ttl %ld, want %ld",
                      cases[i].cc ? cases[i].cc : "(none)", ttl, cases[i].want);
    }
    jwks_file("jwks_cache_control", NULL);
}

/* max-age=1 with a 5-minute TTL: a key the issuer removes is gone after
 * one max-age, with no unknown kid to trigger anything. */
WW_TEST(jwks_key_removed_upstream_is_dropped_within_max_age) {
    jwks_file("jwks_cache_control", "max-age=1");
    ww_auth_jwks_t *j = jwks_over_https(200, 300000);
    int before = has_kid(j, "ec1");
    json_t *keys = json_pack("{s:[o]}", "keys", fx_jwk(fx_rsa(), "rsa1"));
    char *doc = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);
    char p[600];
    snprintf(p, sizeof p, "%s/jwks.json", jwks_dir);
    fx_write(p, doc);
    free(doc);
    unsigned long n = ww_auth_jwks_load_count(j);
    int refreshed = ww_auth_jwks_wait_loads(j, n + 1, 30000);
    int after = has_kid(j, "ec1"), rsa = has_kid(j, "rsa1");
    ww_auth_jwks_destroy(j);
    doc = fx_jwks_json(0);
    fx_write(p, doc);
    free(doc);
    jwks_file("jwks_cache_control", NULL);
    WW_ASSERT(before);
    WW_ASSERT(refreshed);
    WW_ASSERT(!after);
    WW_ASSERT(rsa);
}

/* The trigger of issue 12: unknown kids while the JWKS host is slow. The
 * lookups answer while the one refresh they caused is still held by the
 * server, and they cause no second one. */
WW_TEST(unknown_kid_never_waits_for_a_slow_jwks) {
    ww_auth_jwks_t *j = jwks_over_https(100, 300000);
    long count0 = fx_read_count(jwks_dir, "jwks_count"),
         done0 = fx_read_count(jwks_dir, "jwks_done");
    jwks_file("jwks_delay", "6");
    usleep(150 * 1000); /* past the refresh interval after the first load */
    int first = has_kid(j, "zzz");
    /* Wait until the server holds the refresh request. */
    for (int i = 0; i < 400 && fx_read_count(jwks_dir, "jwks_count") == count0;
         i++)
        usleep(25 * 1000);
    long held = fx_read_count(jwks_dir, "jwks_count") - count0;
    int found = 0;
    for (int i = 0; i < 200; i++)
        found += has_kid(j, "zzz") + !has_kid(j, "ec1");
    long done_meanwhile = fx_read_count(jwks_dir, "jwks_done") - done0;
    long count_meanwhile = fx_read_count(jwks_dir, "jwks_count") - count0;
    jwks_file("jwks_delay", NULL);
    int finished = ww_auth_jwks_wait_loads(j, 2, 30000);
    ww_auth_jwks_destroy(j);
    WW_ASSERT(!first);
    WW_ASSERT_EQ_INT(held, 1);
    WW_ASSERT_EQ_INT(found, 0);
    WW_ASSERT_EQ_INT(done_meanwhile,
                     0); /* every lookup answered while the fetch was held */
    WW_ASSERT_EQ_INT(count_meanwhile, 1); /* one refresh at a time */
    WW_ASSERT_EQ_INT(fx_read_count(jwks_dir, "jwks_inflight_max"), 1);
    WW_ASSERT(finished);
}

/* Destroying the loader while its fetch is held by a slow server ends the
 * fetch instead of waiting for it. */
WW_TEST(jwks_destroy_abandons_a_slow_fetch) {
    ww_auth_jwks_t *j = jwks_over_https(100, 300000);
    long count0 = fx_read_count(jwks_dir, "jwks_count");
    jwks_file("jwks_delay", "15");
    usleep(150 * 1000);
    has_kid(j, "zzz");
    for (int i = 0; i < 400 && fx_read_count(jwks_dir, "jwks_count") == count0;
         i++)
        usleep(25 * 1000);
    long held = fx_read_count(jwks_dir, "jwks_count") - count0;
    long done_before = fx_read_count(jwks_dir, "jwks_done");
    ww_auth_jwks_destroy(j);
    long done_after = fx_read_count(jwks_dir, "jwks_done");
    jwks_file("jwks_delay", NULL);
    WW_ASSERT_EQ_INT(held, 1);
    WW_ASSERT_EQ_INT(done_after,
                     done_before); /* returned before the server answered */
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
            WW_CASE(jwks_ttl_follows_cache_control_max_age),
            WW_CASE(jwks_key_removed_upstream_is_dropped_within_max_age),
            WW_CASE(unknown_kid_never_waits_for_a_slow_jwks),
            WW_CASE(jwks_destroy_abandons_a_slow_fetch),
            {0}});
    fx_fake_server_stop(meta_pid);
    fx_fake_server_stop(jwks_pid);
    return rc;
}
