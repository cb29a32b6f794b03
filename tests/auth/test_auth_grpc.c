/* Real gRPC over TLS with per-call tokens on our runtime: ww_rpc_server with
 * the verifier as its authenticate hook in front of a (counted) handler, and
 * ww_rpc_client, as the services wire them (auth_grpc_fixture.h). Covers the
 * happy path through the metadata-server plugin, tokens on the wire that
 * must be refused, a plaintext or wrongly trusting client, mutual TLS, a
 * token that must never leave over plaintext, a metadata server that is
 * down or slow, and a grpcio client. */
#include "auth_fixture.h"
#include "auth_grpc_fixture.h"
#include "ww_auth_jwks.h"
#include "ww_auth_tls.h"
#include "ww_auth_token_source.h"
#include "ww_auth_verifier.h"
#include "ww_test.h"
#include "ww_test_grpcio.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define AUDIENCE "https://127.0.0.1"

/* ---- fixtures ---- */

static ww_auth_jwks_t *jwks;
static ww_auth_verifier_t *verifier;
static pid_t meta_pid;
static int meta_port;
static char meta_dir[512];

static ww_auth_verifier_t *the_verifier(void) {
    if (verifier) return verifier;
    char path[512];
    char *doc = fx_jwks_json(0);
    fx_write(fx_path(path, sizeof path, "jwks.json"), doc);
    free(doc);
    ww_err_t err = {0};
    ww_auth_jwks_opts_t jo = {.source = path};
    WW_ASSERT_MSG(ww_auth_jwks_new(&jo, &jwks, &err) == WW_OK, "%s", err.msg);
    ww_auth_verifier_opts_t vo = {.policy = {.audience = AUDIENCE, .leeway_s = 30}};
    WW_ASSERT_MSG(ww_auth_verifier_new(&vo, jwks, &verifier, &err) == WW_OK, "%s", err.msg);
    return verifier;
}

static grpc_server_credentials *server_tls(const char *client_ca) {
    grpc_server_credentials *c = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_auth_tls_server_credentials(fx_pki_file("server.pem"),
                                                 fx_pki_file("server.key"),
                                                 client_ca, &c, &err) == WW_OK,
                  "%s", err.msg);
    return c;
}

static grpc_channel_credentials *client_tls(const char *ca, const char *cert, const char *key) {
    grpc_channel_credentials *c = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_auth_tls_channel_credentials(ca, cert, key, &c, &err) == WW_OK, "%s", err.msg);
    return c;
}

static ww_auth_token_source_t *token_source(const char *metadata_host, long timeout_ms) {
    if (!meta_pid) {
        fx_path(meta_dir, sizeof meta_dir, "meta");
        WW_ASSERT(mkdir(meta_dir, 0700) == 0);
        char p[600];
        snprintf(p, sizeof p, "%s/token", meta_dir);
        char *t = fx_token(AUDIENCE, 3600);
        fx_write(p, t);
        free(t);
        meta_port = fx_fake_server_start(meta_dir, NULL, NULL, &meta_pid);
    }
    char host[64], target[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", meta_port);
    snprintf(target, sizeof target, "127.0.0.1:%d", 443);
    ww_auth_token_source_opts_t o = {.target = target, .metadata_host = metadata_host ? metadata_host : host,
                                     .timeout_ms = timeout_ms};
    ww_auth_token_source_t *ts = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_auth_token_source_new(&o, &ts, &err) == WW_OK, "%s", err.msg);
    return ts;
}

/* ---- cases ---- */

WW_TEST(tls_with_metadata_token_reaches_handler_and_caches) {
    fxg_server_t *srv = fxg_server_start(server_tls(NULL), the_verifier());
    ww_auth_token_source_t *src = token_source(NULL, 2000);
    grpc_call_credentials *cc = ww_auth_token_source_call_credentials(src);
    grpc_channel_credentials *tls =
        client_tls(fx_pki_file("ca.pem"), NULL, NULL);
    grpc_channel_credentials *both = grpc_composite_channel_credentials_create(tls, cc, NULL);
    long before = fx_read_count(meta_dir, "count");
    unsigned long h0, v0, h1, v1;
    ww_auth_verifier_stats(verifier, &h0, &v0);
    fxg_result_t r1 = fxg_call_once(both, NULL, srv->port, 5000);
    fxg_result_t r2 = fxg_call_once(both, NULL, srv->port, 5000);
    ww_auth_verifier_stats(verifier, &h1, &v1);
    long fetched = fx_read_count(meta_dir, "count") - before;
    int runs = atomic_load(&srv->handler_runs);
    grpc_channel_credentials_release(both);
    grpc_channel_credentials_release(tls);
    grpc_call_credentials_release(cc);
    ww_auth_token_source_release(src);
    fxg_server_stop(srv);
    WW_ASSERT_MSG(r1.status == GRPC_STATUS_OK, "status %d: %s", r1.status, r1.details);
    WW_ASSERT_EQ_STR(r1.identity,
                     FX_IDENTITY); /* the token's, handed to the handler */
    WW_ASSERT_EQ_INT(r2.status, GRPC_STATUS_OK);
    WW_ASSERT_EQ_INT(runs, 2);
    WW_ASSERT_EQ_INT(fetched, 1);          /* client cache */
    WW_ASSERT_EQ_INT(v1 - v0, 1);          /* server: one signature check */
    WW_ASSERT_EQ_INT(h1 - h0, 1);          /* ... and one cache hit */
}

/* Sends `token` as a bearer token over TLS; expects UNAUTHENTICATED and no handler. */
static void expect_wire_refusal(fxg_server_t *srv, grpc_channel_credentials *tls, const char *token,
                                const char *why) {
    int runs0 = atomic_load(&srv->handler_runs);
    grpc_call_credentials *cc = token ? grpc_access_token_credentials_create(token, NULL) : NULL;
    fxg_result_t r = fxg_call_once(tls, cc, srv->port, 5000);
    if (cc) grpc_call_credentials_release(cc);
    WW_ASSERT_MSG(r.status == GRPC_STATUS_UNAUTHENTICATED, "%s: status %d (%s)", why, r.status, r.details);
    WW_ASSERT_CONTAINS(r.details, why);
    WW_ASSERT_EQ_INT(atomic_load(&srv->handler_runs), runs0);
}

WW_TEST(refused_tokens_never_reach_the_handler) {
    fxg_server_t *srv = fxg_server_start(server_tls(NULL), the_verifier());
    grpc_channel_credentials *tls =
        client_tls(fx_pki_file("ca.pem"), NULL, NULL);
    int64_t now = (int64_t)time(NULL);
    char *expired = fx_mint("RS256", "rsa1", fx_rsa(), NULL, fx_claims(AUDIENCE, now - 7200, 3600));
    char *other = fx_token("https://users.test", 600);
    char *none = fx_mint("none", "rsa1", NULL, NULL, fx_claims(AUDIENCE, now, 600));
    char *pem = fx_public_pem(fx_rsa());
    char *hs = fx_mint("HS256", "rsa1", NULL, pem, fx_claims(AUDIENCE, now, 600));
    expect_wire_refusal(srv, tls, NULL, "missing authorization");
    expect_wire_refusal(srv, tls, "garbage", "three dot-separated");
    expect_wire_refusal(srv, tls, expired, "expired");
    expect_wire_refusal(srv, tls, other, "audience");
    expect_wire_refusal(srv, tls, none, "empty signature");
    expect_wire_refusal(srv, tls, hs, "not accepted");
    free(expired);
    free(other);
    free(none);
    free(pem);
    free(hs);
    grpc_channel_credentials_release(tls);
    fxg_server_stop(srv);
}

/* A client the TLS server must not talk to (`creds` consumed): the call
 * fails in transport and no handler runs. */
static void expect_transport_refusal(grpc_channel_credentials *creds) {
    fxg_server_t *srv = fxg_server_start(server_tls(NULL), the_verifier());
    fxg_result_t r = fxg_call_once(creds, NULL, srv->port, 2000);
    grpc_channel_credentials_release(creds);
    int runs = atomic_load(&srv->handler_runs);
    fxg_server_stop(srv);
    WW_ASSERT_MSG(r.status == GRPC_STATUS_UNAVAILABLE || r.status == GRPC_STATUS_DEADLINE_EXCEEDED,
                  "status %d (%s)", r.status, r.details);
    WW_ASSERT_EQ_INT(runs, 0);
}

WW_TEST(plaintext_client_against_tls_server_fails) {
    expect_transport_refusal(grpc_insecure_credentials_create());
}

WW_TEST(client_trusting_another_ca_fails) {
    expect_transport_refusal(
        client_tls(fx_pki_file("other-ca.pem"), NULL, NULL));
}

WW_TEST(mutual_tls_requires_a_client_certificate_from_the_client_ca) {
    fxg_server_t *srv =
        fxg_server_start(server_tls(fx_pki_file("ca.pem")), NULL);
    grpc_channel_credentials *none =
        client_tls(fx_pki_file("ca.pem"), NULL, NULL);
    grpc_channel_credentials *good =
        client_tls(fx_pki_file("ca.pem"), fx_pki_file("client.pem"),
                   fx_pki_file("client.key"));
    grpc_channel_credentials *foreign =
        client_tls(fx_pki_file("ca.pem"), fx_pki_file("other-client.pem"),
                   fx_pki_file("other-client.key"));
    fxg_result_t r_none = fxg_call_once(none, NULL, srv->port, 2000);
    fxg_result_t r_good = fxg_call_once(good, NULL, srv->port, 5000);
    fxg_result_t r_foreign = fxg_call_once(foreign, NULL, srv->port, 2000);
    grpc_channel_credentials_release(none);
    grpc_channel_credentials_release(good);
    grpc_channel_credentials_release(foreign);
    int runs = atomic_load(&srv->handler_runs);
    fxg_server_stop(srv);
    WW_ASSERT_MSG(r_none.status != GRPC_STATUS_OK, "no client cert accepted");
    WW_ASSERT_MSG(r_good.status == GRPC_STATUS_OK, "status %d (%s)", r_good.status, r_good.details);
    WW_ASSERT_MSG(r_foreign.status != GRPC_STATUS_OK, "foreign client cert accepted");
    WW_ASSERT_EQ_INT(runs, 1);
}

WW_TEST(token_is_never_sent_over_plaintext) {
    fxg_server_t *srv = fxg_server_start(NULL, NULL); /* plaintext, records what arrives */
    ww_auth_token_source_t *src = token_source(NULL, 2000);
    grpc_call_credentials *cc = ww_auth_token_source_call_credentials(src);
    grpc_channel_credentials *plain = grpc_insecure_credentials_create();
    fxg_result_t r = fxg_call_once(plain, cc, srv->port, 3000);
    grpc_channel_credentials_release(plain);
    grpc_call_credentials_release(cc);
    ww_auth_token_source_wait_idle(src, 3000);
    ww_auth_token_source_release(src);
    int saw = atomic_load(&srv->saw_authorization);
    fxg_server_stop(srv);
    WW_ASSERT_EQ_INT(saw, 0);
    WW_ASSERT_MSG(r.status == GRPC_STATUS_UNAUTHENTICATED, "status %d (%s)", r.status, r.details);
    WW_ASSERT_CONTAINS(r.details, "security level");
}

WW_TEST(metadata_server_down_fails_the_call_fast) {
    fxg_server_t *srv = fxg_server_start(server_tls(NULL), the_verifier());
    ww_auth_token_source_t *src = token_source("127.0.0.1:1", 2000);
    grpc_call_credentials *cc = ww_auth_token_source_call_credentials(src);
    grpc_channel_credentials *tls =
        client_tls(fx_pki_file("ca.pem"), NULL, NULL);
    fxg_result_t r = fxg_call_once(tls, cc, srv->port, 5000);
    grpc_channel_credentials_release(tls);
    grpc_call_credentials_release(cc);
    ww_auth_token_source_wait_idle(src, 3000);
    ww_auth_token_source_release(src);
    int runs = atomic_load(&srv->handler_runs);
    fxg_server_stop(srv);
    WW_ASSERT_MSG(r.status == GRPC_STATUS_UNAVAILABLE, "status %d (%s)", r.status, r.details);
    WW_ASSERT_CONTAINS(r.details, "metadata server unreachable");
    WW_ASSERT_MSG(r.took_ms < 2000, "took %lld ms", (long long)r.took_ms);
    WW_ASSERT_EQ_INT(runs, 0);
}

WW_TEST(slow_metadata_server_fails_the_call_within_its_deadline) {
    fxg_server_t *srv = fxg_server_start(server_tls(NULL), the_verifier());
    char p[600];
    ww_auth_token_source_t *src = token_source(NULL, 1500); /* fetch timeout beyond the call deadline */
    snprintf(p, sizeof p, "%s/mode", meta_dir);
    fx_write(p, "slow");
    grpc_call_credentials *cc = ww_auth_token_source_call_credentials(src);
    grpc_channel_credentials *tls =
        client_tls(fx_pki_file("ca.pem"), NULL, NULL);
    fxg_result_t r = fxg_call_once(tls, cc, srv->port, 800);
    grpc_channel_credentials_release(tls);
    grpc_call_credentials_release(cc);
    int idle = ww_auth_token_source_wait_idle(src, 3000);
    fx_write(p, "ok");
    ww_auth_token_source_release(src);
    int runs = atomic_load(&srv->handler_runs);
    fxg_server_stop(srv);
    WW_ASSERT_MSG(r.status == GRPC_STATUS_DEADLINE_EXCEEDED, "status %d (%s)", r.status, r.details);
    WW_ASSERT_MSG(r.took_ms < 1800, "took %lld ms", (long long)r.took_ms);
    WW_ASSERT(idle);
    WW_ASSERT_EQ_INT(runs, 0);
}

/* One GetTraining call from grpcio with TLS and `token`: the outcome in
 * status ("OK" or "<STATUS> <details>"), the reply on OK. */
static Trainings__Training *python_call(int port, const char *token,
                                        char *status, size_t size) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    Trainings__GetTrainingRequest req = TRAININGS__GET_TRAINING_REQUEST__INIT;
    req.training_uuid = "ping";
    ww_test_grpcio_call_t call = {.target = target,
                                  .ca_pem = fx_pki_file("ca.pem"),
                                  .token = token,
                                  .method = FXG_METHOD,
                                  .request = &req.base,
                                  .reply_type =
                                      &trainings__training__descriptor};
    return (Trainings__Training *)ww_test_grpcio_call(&call, status, size);
}

WW_TEST(python_grpcio_client_with_tls_and_token) {
    fxg_server_t *srv = fxg_server_start(server_tls(NULL), the_verifier());
    char *good = fx_token(AUDIENCE, 600);
    char *other = fx_token("https://users.test", 600);
    char ok[1024], refused[1024], identity[256] = "";
    Trainings__Training *t = python_call(srv->port, good, ok, sizeof ok);
    if (t) {
        snprintf(identity, sizeof identity, "%s", t->user_id);
        protobuf_c_message_free_unpacked(&t->base, NULL);
    }
    Trainings__Training *none =
        python_call(srv->port, other, refused, sizeof refused);
    free(good);
    free(other);
    int runs = atomic_load(&srv->handler_runs);
    fxg_server_stop(srv);
    WW_ASSERT_EQ_STR(ok, "OK");
    WW_ASSERT_EQ_STR(identity, FX_IDENTITY);
    WW_ASSERT(!none);
    WW_ASSERT_CONTAINS(refused, "UNAUTHENTICATED token audience does not match");
    WW_ASSERT_EQ_INT(runs, 1);
}

int main(int argc, char **argv) {
    grpc_init();
    int rc = ww_test_main(argc, argv, (ww_test_case_t[]){
        WW_CASE(tls_with_metadata_token_reaches_handler_and_caches),
        WW_CASE(refused_tokens_never_reach_the_handler),
        WW_CASE(plaintext_client_against_tls_server_fails),
        WW_CASE(client_trusting_another_ca_fails),
        WW_CASE(mutual_tls_requires_a_client_certificate_from_the_client_ca),
        WW_CASE(token_is_never_sent_over_plaintext),
        WW_CASE(metadata_server_down_fails_the_call_fast),
        WW_CASE(slow_metadata_server_fails_the_call_within_its_deadline),
        WW_CASE(python_grpcio_client_with_tls_and_token),
        {0}});
    ww_auth_verifier_destroy(verifier);
    ww_auth_jwks_destroy(jwks);
    fx_fake_server_stop(meta_pid);
    grpc_shutdown_blocking();
    return rc;
}
