/* The real trainer binary with its JWKS on a slow https host (issue 12,
 * item 3): tokens naming an unknown kid, one connection per completion-
 * queue thread, are refused at once while the one refresh they caused is
 * still held by the host, and a valid caller is served meanwhile. Before,
 * each of those calls fetched the JWKS on its queue thread and every
 * worker waited for the host. */
#include "auth_fixture.h"
#include "services_auth_fixture.h"
#include "ww_test.h"
#include "ww_test_proc.h"
#include "ww_trainer_stubs.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_THREADS 2
#define JWKS_DELAY_S  "20" /* longer than every call deadline below */

static ww_rpc_call_options_t opts = {.timeout_ms = 10000};

typedef struct attempt {
    int port;
    char *authorization;
    ww_code_t rc;
    char msg[256];
} attempt_t;

static void *is_hour_available(void *arg) {
    attempt_t *a = arg;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1927371600;
    Trainer__IsHourAvailableRequest q =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    q.time = &ts;
    ww_rpc_client_t *c =
        sfx_dial("localhost", a->port, "ca.pem", a->authorization);
    Trainer__IsHourAvailableResponse *r = NULL;
    ww_err_t err = {0};
    a->rc = ww_trainer_stubs_is_hour_available(c, &q, &r, &opts, &err);
    snprintf(a->msg, sizeof a->msg, "%s", err.msg);
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
    ww_rpc_client_destroy(c);
    return NULL;
}

static char *unknown_kid_bearer(void) {
    return sfx_bearer(
        fx_mint("RS256", "zzz", fx_rsa_other(), NULL,
                fx_claims(TRAINER_AUD, (int64_t)time(NULL), 600)));
}

static void jwks_file(const char *dir, const char *name, const char *value) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    fx_write(p, value);
}

WW_TEST(unknown_kids_on_every_queue_thread_never_stall_a_valid_caller) {
    fx_pki();
    char dir[512], url[128], ca[600], threads[64], log[512];
    fx_path(dir, sizeof dir, "jwks-slow");
    WW_ASSERT(mkdir(dir, 0700) == 0);
    char *doc = fx_jwks_json(0);
    jwks_file(dir, "jwks.json", doc);
    free(doc);
    pid_t jpid;
    int jport = fx_fake_server_start(dir, fx_pki_file("server.pem"),
                                     fx_pki_file("server.key"), &jpid);
    snprintf(url, sizeof url, "WW_JWKS=https://localhost:%d/jwks.json", jport);
    snprintf(ca, sizeof ca, "WW_TLS_CA=%s", fx_pki_file("ca.pem"));
    snprintf(threads, sizeof threads, "WW_RPC_THREADS=%d", QUEUE_THREADS);
    int port = ww_test_proc_free_port();
    /* A fetch may take as long as the host holds it (no client gives up
     * first), so the old code would hold its queue threads that long. */
    pid_t pid = sfx_start_service(
        TRAINER_BIN, port, TRAINER_AUD,
        (const char *[]){url, ca, threads, "WW_JWKS_TIMEOUT_MS=60000", NULL},
        fx_path(log, sizeof log, "trainer-jwks.log"));
    long count0 = fx_read_count(dir, "jwks_count");
    long done0 = fx_read_count(dir, "jwks_done");
    jwks_file(dir, "jwks_delay", JWKS_DELAY_S);
    /* Unknown kids may ask for a refresh 5 s after the last one. */
    sleep(6);

    attempt_t bad[QUEUE_THREADS];
    pthread_t th[QUEUE_THREADS];
    for (int i = 0; i < QUEUE_THREADS; i++) {
        bad[i] =
            (attempt_t){.port = port, .authorization = unknown_kid_bearer()};
        WW_ASSERT(pthread_create(&th[i], NULL, is_hour_available, &bad[i]) ==
                  0);
    }
    /* Until the host holds the refresh those calls asked for. */
    for (int i = 0; i < 400 && fx_read_count(dir, "jwks_count") == count0; i++)
        usleep(25 * 1000);
    long held = fx_read_count(dir, "jwks_count") - count0;
    for (int i = 0; i < QUEUE_THREADS; i++)
        pthread_join(th[i], NULL);
    /* More of them while it is held, then the valid caller. */
    attempt_t more = {.port = port, .authorization = unknown_kid_bearer()};
    is_hour_available(&more);
    attempt_t good = {.port = port,
                      .authorization =
                          sfx_bearer(sfx_token_as(TRAINER_AUD, FX_EMAIL))};
    is_hour_available(&good);
    long done_meanwhile = fx_read_count(dir, "jwks_done") - done0;
    long count_meanwhile = fx_read_count(dir, "jwks_count") - count0;
    long inflight_max = fx_read_count(dir, "jwks_inflight_max");

    int code = ww_test_proc_stop(pid, SIGTERM, 30000);
    fx_fake_server_stop(jpid);
    for (int i = 0; i < QUEUE_THREADS; i++) {
        free(bad[i].authorization);
        WW_ASSERT_MSG(bad[i].rc == WW_ERR_UNAUTHENTICATED,
                      "unknown kid: %s (%s)", ww_code_name(bad[i].rc),
                      bad[i].msg);
        WW_ASSERT_CONTAINS(bad[i].msg, "kid");
    }
    free(more.authorization);
    free(good.authorization);
    WW_ASSERT_EQ_INT(held, 1);
    WW_ASSERT_MSG(more.rc == WW_ERR_UNAUTHENTICATED, "%s (%s)",
                  ww_code_name(more.rc), more.msg);
    WW_ASSERT_MSG(good.rc == WW_OK, "valid caller: %s (%s)",
                  ww_code_name(good.rc), good.msg);
    /* Everything above was answered while the host still held the fetch,
     * and that fetch was the only one. */
    WW_ASSERT_EQ_INT(done_meanwhile, 0);
    WW_ASSERT_EQ_INT(count_meanwhile, 1);
    WW_ASSERT_EQ_INT(inflight_max, 1);
    WW_ASSERT_EQ_INT(code, 0);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(
                unknown_kids_on_every_queue_thread_never_stall_a_valid_caller),
            {0}});
}
