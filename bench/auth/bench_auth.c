/* bench_auth - what authentication costs a server.
 *
 *   cold_*      distinct tokens, each a signature check (verifications/s)
 *   cached      one token again and again: hash + cache lookup (lookups/s)
 *   grpc_*      sequential unary calls on one channel to our runtime
 *               (ww_rpc_server, auth wired in as the services do it):
 *               plaintext, TLS only, and TLS + per-call token (verified,
 *               cached), alternating rounds in the same run; the handler
 *               only echoes the caller, so the ratio is the worst case for
 *               a real method. The per-call log is off (WW_LOG_LEVEL=warn
 *               unless set), as it costs all three the same.
 * Each figure is printed as "bench auth <name> <value> <unit>"; the cases
 * also assert that every operation succeeded. Runs take seconds. */
#include <grpc/grpc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth_fixture.h"
#include "auth_grpc_fixture.h"
#include "ww_auth_jwks.h"
#include "ww_auth_tls.h"
#include "ww_auth_token_source.h"
#include "ww_auth_verifier.h"
#include "ww_test.h"

#define AUDIENCE "https://127.0.0.1"

static ww_auth_jwks_t *jwks;
static ww_auth_verifier_t *verifier;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ww_auth_verifier_t *fresh_verifier(void) {
    char path[512];
    if (!jwks) {
        char *doc = fx_jwks_json(0);
        fx_write(fx_path(path, sizeof path, "jwks.json"), doc);
        free(doc);
        ww_err_t err = {0};
        ww_auth_jwks_opts_t jo = {.source = path};
        WW_ASSERT_MSG(ww_auth_jwks_new(&jo, &jwks, &err) == WW_OK, "%s", err.msg);
    }
    ww_auth_verifier_destroy(verifier);
    ww_auth_verifier_opts_t vo = {.policy = {.audience = AUDIENCE, .leeway_s = 30}};
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_auth_verifier_new(&vo, jwks, &verifier, &err) == WW_OK, "%s", err.msg);
    return verifier;
}

static void cold(const char *alg, const char *kid, EVP_PKEY *key, int n) {
    ww_auth_verifier_t *v = fresh_verifier();
    char **tokens = calloc((size_t)n, sizeof *tokens);
    int64_t t = (int64_t)time(NULL);
    for (int i = 0; i < n; i++) tokens[i] = fx_mint(alg, kid, key, NULL, fx_claims(AUDIENCE, t, 3600));
    int ok = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        ww_auth_jwt_claims_t c;
        ww_err_t err;
        ok += ww_auth_verifier_verify_token(v, tokens[i], strlen(tokens[i]), t, &c, &err) == WW_OK;
    }
    double dt = now_s() - t0;
    for (int i = 0; i < n; i++) free(tokens[i]);
    free(tokens);
    unsigned long hits, ver;
    ww_auth_verifier_stats(v, &hits, &ver);
    WW_ASSERT_EQ_INT(ok, n);
    WW_ASSERT_EQ_INT(hits, 0);
    printf("bench auth cold_%s %.0f verifications/s (%d distinct tokens, %.1f us each)\n", alg, n / dt, n,
           dt / n * 1e6);
}

WW_TEST(cold_rs256) { cold("RS256", "rsa1", fx_rsa(), 400); }
WW_TEST(cold_es256) { cold("ES256", "ec1", fx_ec(), 1000); }

WW_TEST(cached) {
    ww_auth_verifier_t *v = fresh_verifier();
    char *t = fx_token(AUDIENCE, 3600);
    char header[4096];
    snprintf(header, sizeof header, "Bearer %s", t);
    free(t);
    int n = 200000, ok = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        char id[256];
        ww_err_t err;
        ok += ww_auth_verifier_authenticate(v, FXG_METHOD, header, id,
                                            sizeof id, &err) == WW_OK;
    }
    double dt = now_s() - t0;
    unsigned long hits, ver;
    ww_auth_verifier_stats(v, &hits, &ver);
    WW_ASSERT_EQ_INT(ok, n);
    WW_ASSERT_EQ_INT(ver, 1);
    printf("bench auth cached %.0f lookups/s (%zu-byte token, %.2f us each)\n", n / dt, strlen(header) - 7,
           dt / n * 1e6);
}

static double round_qps(ww_rpc_client_t *c, int n) {
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        fxg_result_t r = fxg_call(c, 5000);
        WW_ASSERT_MSG(r.status == GRPC_STATUS_OK, "status %d (%s)", r.status, r.details);
    }
    return n / (now_s() - t0);
}

WW_TEST(grpc_ratio) {
    char pki_ca[512], cert[512], key[512], meta_dir[512], tok_path[600], host[64];
    snprintf(pki_ca, sizeof pki_ca, "%s/ca.pem", fx_pki());
    snprintf(cert, sizeof cert, "%s/server.pem", fx_pki());
    snprintf(key, sizeof key, "%s/server.key", fx_pki());
    fx_path(meta_dir, sizeof meta_dir, "meta");
    mkdir(meta_dir, 0700);
    snprintf(tok_path, sizeof tok_path, "%s/token", meta_dir);
    char *t = fx_token(AUDIENCE, 3600);
    fx_write(tok_path, t);
    free(t);
    pid_t meta_pid;
    int meta_port = fx_fake_server_start(meta_dir, NULL, NULL, &meta_pid);
    snprintf(host, sizeof host, "127.0.0.1:%d", meta_port);

    ww_err_t err = {0};
    grpc_server_credentials *sc = NULL;
    grpc_channel_credentials *tls = NULL;
    WW_ASSERT(ww_auth_tls_server_credentials(cert, key, NULL, &sc, &err) == WW_OK);
    WW_ASSERT(ww_auth_tls_channel_credentials(pki_ca, NULL, NULL, &tls, &err) == WW_OK);
    ww_auth_token_source_opts_t o = {.target = "127.0.0.1:443", .metadata_host = host};
    ww_auth_token_source_t *src;
    WW_ASSERT(ww_auth_token_source_new(&o, &src, &err) == WW_OK);
    grpc_call_credentials *cc = ww_auth_token_source_call_credentials(src);
    grpc_channel_credentials *secure =
        grpc_composite_channel_credentials_create(tls, cc, NULL);

    grpc_server_credentials *sc_only = NULL;
    WW_ASSERT(ww_auth_tls_server_credentials(cert, key, NULL, &sc_only, &err) == WW_OK);

    fxg_server_t *plain_srv = fxg_server_start(NULL, NULL);
    fxg_server_t *tls_srv = fxg_server_start(sc, fresh_verifier());
    fxg_server_t *tls_only_srv = fxg_server_start(sc_only, NULL);
    ww_rpc_client_t *plain_ch = fxg_client(NULL, NULL, plain_srv->port);
    ww_rpc_client_t *tls_ch = fxg_client(secure, NULL, tls_srv->port);
    ww_rpc_client_t *tls_only_ch = fxg_client(tls, NULL, tls_only_srv->port);
    round_qps(plain_ch, 200); /* warm-up: connections, handshake, token */
    round_qps(tls_ch, 200);
    round_qps(tls_only_ch, 200);
    double plain_qps = 0, tls_qps = 0, tls_only_qps = 0;
    for (int r = 0; r < 3; r++) {
        plain_qps += round_qps(plain_ch, 1000) / 3;
        tls_qps += round_qps(tls_ch, 1000) / 3;
        tls_only_qps += round_qps(tls_only_ch, 1000) / 3;
    }
    unsigned long hits, ver;
    ww_auth_verifier_stats(verifier, &hits, &ver);
    ww_rpc_client_destroy(plain_ch);
    ww_rpc_client_destroy(tls_ch);
    ww_rpc_client_destroy(tls_only_ch);
    fxg_server_stop(plain_srv);
    fxg_server_stop(tls_srv);
    fxg_server_stop(tls_only_srv);
    grpc_channel_credentials_release(secure);
    grpc_channel_credentials_release(tls);
    grpc_call_credentials_release(cc);
    ww_auth_token_source_release(src);
    fx_fake_server_stop(meta_pid);
    WW_ASSERT_EQ_INT(ver, 1); /* one signature check for 3200 calls */
    printf("bench auth grpc_plaintext %.0f calls/s (sequential unary, one channel)\n", plain_qps);
    printf("bench auth grpc_tls_only %.0f calls/s (TLS, no token)\n", tls_only_qps);
    printf("bench auth grpc_tls_token %.0f calls/s (TLS + bearer token, verified from cache)\n", tls_qps);
    printf("bench auth grpc_ratio %.2f (TLS + token / plaintext)\n", tls_qps / plain_qps);
}

int main(int argc, char **argv) {
    setenv("WW_LOG_LEVEL", "warn", 0);
    grpc_init();
    int rc = ww_test_main(argc, argv, (ww_test_case_t[]){
        WW_CASE(cold_rs256), WW_CASE(cold_es256), WW_CASE(cached), WW_CASE(grpc_ratio), {0}});
    ww_auth_verifier_destroy(verifier);
    ww_auth_jwks_destroy(jwks);
    grpc_shutdown_blocking();
    return rc;
}
