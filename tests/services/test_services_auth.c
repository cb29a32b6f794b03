/* The real trainer and users binaries with TLS and per-call tokens, as
 * deployed: test-time PKI (tests/auth/gen_certs.sh), a JWKS file of the
 * test keys, and the fake metadata server (tests/auth/fake_metadata.py)
 * handing identity tokens to our clients. Proves that the happy path works
 * for wwctl, the ww_rpc client and grpcio; that every bad token is
 * UNAUTHENTICATED before any handler runs (state unchanged); that the
 * allowlists give PERMISSION_DENIED; that transport mistakes fail; and that
 * a broken metadata server fails a call within its deadline. */
#include "auth_fixture.h"
#include "services_auth_fixture.h"
#include "ww_rpc_stubs.h"
#include "ww_test.h"
#include "ww_test_grpcio.h"
#include "ww_test_proc.h"
#include "ww_trainer_stubs.h"
#include "ww_users_stubs.h"

#include <signal.h>
#include <sys/stat.h>

#define VICTIM "auth-victim"

static ww_rpc_call_options_t opts = {.timeout_ms = 5000};

/* ---- users calls ---- */

static ww_code_t update_balance(const char *authorization, int64_t change,
                                ww_err_t *err) {
    ww_rpc_client_t *c = sfx_dial("127.0.0.1", sfx_users_port, "ca.pem",
                                  authorization);
    Users__UpdateTrainingBalanceRequest req =
        USERS__UPDATE_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = VICTIM;
    req.amount_change = change;
    Users__EmptyResponse *resp = NULL;
    ww_code_t rc = ww_users_stubs_update_training_balance(c, &req, &resp,
                                                              &opts, err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    ww_rpc_client_destroy(c);
    return rc;
}

static int64_t balance(void) {
    char *auth = sfx_bearer(sfx_token_as(USERS_AUD, FX_EMAIL));
    ww_rpc_client_t *c = sfx_dial("127.0.0.1", sfx_users_port, "ca.pem", auth);
    free(auth);
    Users__GetTrainingBalanceRequest req =
        USERS__GET_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = VICTIM;
    Users__GetTrainingBalanceResponse *resp = NULL;
    ww_err_t err = {0};
    ww_code_t rc =
        ww_users_stubs_get_training_balance(c, &req, &resp, &opts, &err);
    ww_rpc_client_destroy(c);
    WW_ASSERT_MSG(rc == WW_OK, "balance: %s", err.msg);
    int64_t amount = resp->amount;
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return amount;
}

/* A balance to protect: created once with a valid token. */
static int64_t victim_balance(void) {
    static int64_t b = -1;
    if (b < 0) {
        ww_err_t err = {0};
        char *auth = sfx_bearer(sfx_token_as(USERS_AUD, FX_EMAIL));
        ww_code_t rc = update_balance(auth, 10, &err);
        free(auth);
        WW_ASSERT_MSG(rc == WW_OK, "seed balance: %s", err.msg);
        b = balance();
    }
    return b;
}

/* ---- cases ---- */

WW_TEST(our_client_with_tls_and_token_changes_state) {
    sfx_setup();
    WW_ASSERT(victim_balance() >= 10);
    char *auth = sfx_bearer(sfx_token_as(USERS_AUD, TRAINER_ID));
    ww_err_t err = {0};
    int64_t before = balance();
    ww_code_t rc = update_balance(auth, 3, &err);
    free(auth);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_INT(balance(), before + 3);
    WW_ASSERT_EQ_INT(update_balance(NULL, -3, &err), WW_ERR_UNAUTHENTICATED);
    auth = sfx_bearer(sfx_token_as(USERS_AUD, TRAINER_ID));
    rc = update_balance(auth, -3, &err);
    free(auth);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_INT(balance(), before);
    /* health stays open: TLS, but no token */
    ww_rpc_client_t *c = sfx_dial("127.0.0.1", sfx_users_port, "ca.pem", NULL);
    Grpc__Health__V1__HealthCheckRequest hreq =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    hreq.service = "users.UsersService";
    Grpc__Health__V1__HealthCheckResponse *h = NULL;
    rc = ww_rpc_stubs_health_check(c, &hreq, &h, &opts, &err);
    ww_rpc_client_destroy(c);
    WW_ASSERT_MSG(rc == WW_OK, "health: %s", err.msg);
    int status = h->status;
    protobuf_c_message_free_unpacked(&h->base, NULL);
    WW_ASSERT_EQ_INT(
        status,
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
}

/* Runs wwctl and fails the case, showing its output, unless it exits with
 * `want`; the output stays in out. */
static void expect_wwctl(const char *env, const char *args, int want,
                         char *out, size_t size) {
    int rc = sfx_wwctl(env, args, out, size, NULL);
    WW_ASSERT_MSG(rc == want, "wwctl %s: exit %d, want %d: %s", args, rc, want,
                  out);
}

WW_TEST(wwctl_with_tls_and_metadata_token) {
    sfx_setup();
    char env[2048], meta[64], out[4096], aud[256] = "";
    snprintf(meta, sizeof meta, "127.0.0.1:%d", sfx_meta_port);
    sfx_wwctl_env(env, sizeof env, meta);
    sfx_metadata_mode("ok");
    sfx_serve_token(TRAINER_AUD, FX_EMAIL);
    long fetches = fx_read_count(sfx_meta_dir, "count");
    expect_wwctl(env, "trainer make-available 2031-02-03T15:00:00Z", 0, out,
                 sizeof out);
    expect_wwctl(env, "trainer is-hour-available 2031-02-03T15:00:00Z", 0,
                 out, sizeof out);
    WW_ASSERT_CONTAINS(out, "is_available=true");
    WW_ASSERT(fx_read_count(sfx_meta_dir, "count") >= fetches + 2);
    char path[600];
    snprintf(path, sizeof path, "%s/last_audience", sfx_meta_dir);
    FILE *f = fopen(path, "r");
    WW_ASSERT(f);
    WW_ASSERT(fgets(aud, sizeof aud, f) != NULL);
    fclose(f);
    WW_ASSERT_EQ_STR(aud, TRAINER_AUD);
    /* health stays open, and the users service takes its own audience */
    expect_wwctl(env, "health users", 0, out, sizeof out);
    sfx_serve_token(USERS_AUD, FX_EMAIL);
    expect_wwctl(env, "users get-balance " VICTIM, 0, out, sizeof out);
    WW_ASSERT_CONTAINS(out, "amount=");
    /* the trainer's token is refused by users */
    sfx_serve_token(TRAINER_AUD, FX_EMAIL);
    expect_wwctl(env, "users get-balance " VICTIM, 1, out, sizeof out);
    WW_ASSERT_CONTAINS(out, "UNAUTHENTICATED");
    /* plaintext wwctl against the TLS server */
    char plain[2100];
    snprintf(plain, sizeof plain, "GRPC_NO_TLS=true %s", env);
    expect_wwctl(plain,
                 "--timeout-ms 2000 trainer is-hour-available "
                 "2031-02-03T15:00:00Z",
                 1, out, sizeof out);
    WW_ASSERT_CONTAINS(out, "UNAVAILABLE");
}

WW_TEST(negative_corpus_is_unauthenticated_and_changes_nothing) {
    sfx_setup();
    int64_t before = victim_balance();
    int64_t now = (int64_t)time(NULL);
    char *good = sfx_token_as(USERS_AUD, FX_EMAIL);
    /* tampered: another caller's payload under the original signature */
    char *other = sfx_token_as(USERS_AUD, TRAINER_ID);
    char *tampered = strdup(good);
    char *p1 = strchr(tampered, '.'), *o1 = strchr(other, '.');
    char *p2 = strchr(p1 + 1, '.'), *o2 = strchr(o1 + 1, '.');
    size_t tlen = strlen(tampered) + strlen(other) + 2;
    char *t2 = malloc(tlen);
    snprintf(t2, tlen, "%.*s%.*s%s", (int)(p1 - tampered), tampered,
             (int)(o2 - o1), o1, p2);
    free(tampered);
    free(other);
    json_t *wrong_iss = fx_claims(USERS_AUD, now, 600);
    json_object_set_new(wrong_iss, "iss", json_string("https://evil.example"));
    char *pem = fx_public_pem(fx_rsa());
    struct {
        const char *name;
        char *authorization; /* NULL: no header */
    } cases[] = {
        {"no header", NULL},
        {"wrong scheme", strdup("Basic dXNlcjpwYXNz")},
        {"garbage", strdup("Bearer garbage")},
        {"dots and empty parts", strdup("Bearer ..")},
        {"bad base64url", strdup("Bearer e30=.e30=.AAAA")},
        {"expired", sfx_bearer(fx_mint("RS256", "rsa1", fx_rsa(), NULL,
                                   fx_claims(USERS_AUD, now - 7200, 3600)))},
        {"not yet valid",
         sfx_bearer(fx_mint("RS256", "rsa1", fx_rsa(), NULL,
                            fx_claims(USERS_AUD, now + 3600, 600)))},
        {"wrong aud", sfx_bearer(fx_token("https://elsewhere.example", 600))},
        {"wrong iss",
         sfx_bearer(fx_mint("RS256", "rsa1", fx_rsa(), NULL, wrong_iss))},
        {"alg none", sfx_bearer(fx_mint("none", "rsa1", NULL, NULL,
                                        fx_claims(USERS_AUD, now, 600)))},
        {"HS256 with the public key",
         sfx_bearer(fx_mint("HS256", "rsa1", NULL, pem,
                            fx_claims(USERS_AUD, now, 600)))},
        {"unknown kid",
         sfx_bearer(fx_mint("RS256", "rsa2", fx_rsa_other(), NULL,
                            fx_claims(USERS_AUD, now, 600)))},
        {"tampered payload", sfx_bearer(t2)},
        {"token for the other service", sfx_bearer(fx_token(TRAINER_AUD, 600))},
    };
    free(pem);
    free(good);
    size_t n = sizeof cases / sizeof cases[0];
    int failures = 0;
    char first[512] = "";
    for (size_t i = 0; i < n; i++) {
        ww_err_t err = {0};
        ww_code_t rc = update_balance(cases[i].authorization, 1000, &err);
        if (rc != WW_ERR_UNAUTHENTICATED ||
            !strstr(err.msg, "UNAUTHENTICATED")) {
            if (!failures++)
                snprintf(first, sizeof first, "%s: code %d (%s)", cases[i].name,
                         (int)rc, err.msg);
        }
        free(cases[i].authorization);
    }
    WW_ASSERT_MSG(failures == 0, "%d cases not refused; first: %s", failures,
                  first);
    WW_ASSERT_EQ_INT(balance(), before); /* no handler ran */
}

/* Oversized tokens never reach the verifier, let alone a handler: gRPC's
 * own limit on request metadata (8 KiB, the verifier's token limit too)
 * refuses them first with RESOURCE_EXHAUSTED. */
WW_TEST(oversized_tokens_are_refused) {
    sfx_setup();
    int64_t before = victim_balance();
    size_t sizes[] = {10 * 1024, 1024 * 1024};
    for (int i = 0; i < 2; i++) {
        char *big = malloc(sizes[i] + 8);
        memcpy(big, "Bearer ", 7);
        memset(big + 7, 'a', sizes[i]);
        big[7 + sizes[i]] = '\0';
        ww_err_t err = {0};
        ww_code_t rc = update_balance(big, 1000, &err);
        free(big);
        WW_ASSERT_MSG(rc == WW_ERR_RESOURCE_EXHAUSTED, "%zu bytes: code %d: %s",
                      sizes[i], (int)rc, err.msg);
        WW_ASSERT_CONTAINS(err.msg, "metadata size exceeds limit");
    }
    WW_ASSERT_EQ_INT(balance(), before);
}

WW_TEST(caller_without_a_role_is_permission_denied) {
    sfx_setup();
    int64_t before = victim_balance();
    char *auth = sfx_bearer(sfx_token_as(USERS_AUD, STRANGER));
    ww_err_t err = {0};
    ww_code_t rc = update_balance(auth, 1000, &err);
    free(auth);
    WW_ASSERT_EQ_INT(rc, WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "PERMISSION_DENIED");
    WW_ASSERT_CONTAINS(err.msg, "no role");
    WW_ASSERT_EQ_INT(balance(), before);
}

static Trainings__TrainingStatus training_status(ww_rpc_client_t *c,
                                                 const char *uuid) {
    Trainings__GetTrainingRequest req = TRAININGS__GET_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    Trainings__Training *t = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_trainer_stubs_trainings_get_training(c, &req, &t, &opts,
                                                      &err) == WW_OK,
                  "%s", err.msg);
    Trainings__TrainingStatus s = t->status;
    protobuf_c_message_free_unpacked(&t->base, NULL);
    return s;
}

static ww_code_t cancel(ww_rpc_client_t *c, const char *uuid, ww_err_t *err) {
    Trainings__CancelTrainingRequest req =
        TRAININGS__CANCEL_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    req.by_trainer = true;
    Trainings__CancelTrainingResponse *resp = NULL;
    ww_code_t rc =
        ww_trainer_stubs_trainings_cancel_training(c, &req, &resp, &opts, err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

WW_TEST(cancel_as_trainer_needs_a_trainer_identity) {
    sfx_setup();
    const char *uuid = "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0c77";
    char *auth = sfx_bearer(sfx_token_as(TRAINER_AUD, FX_EMAIL));
    ww_rpc_client_t *service =
        sfx_dial("localhost", sfx_trainer_port, "ca.pem", auth);
    free(auth);
    auth = sfx_bearer(sfx_token_sub(TRAINER_AUD, ANN));
    ww_rpc_client_t *user =
        sfx_dial("localhost", sfx_trainer_port, "ca.pem", auth);
    free(auth);
    auth = sfx_bearer(sfx_token_as(TRAINER_AUD, TRAINER_ID));
    ww_rpc_client_t *trainer =
        sfx_dial("localhost", sfx_trainer_port, "ca.pem", auth);
    free(auth);
    ww_err_t err = {0};
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1927371600; /* 2031-01-28T13:00:00Z */
    Trainer__UpdateHourRequest hour = TRAINER__UPDATE_HOUR_REQUEST__INIT;
    hour.time = &ts;
    Google__Protobuf__Empty *empty = NULL;
    WW_ASSERT_MSG(ww_trainer_stubs_make_hour_available(service, &hour, &empty,
                                                       &opts, &err) == WW_OK,
                  "%s", err.msg);
    protobuf_c_message_free_unpacked(&empty->base, NULL);
    Trainings__ScheduleTrainingRequest sched =
        TRAININGS__SCHEDULE_TRAINING_REQUEST__INIT;
    sched.training_uuid = (char *)uuid;
    sched.user_id = ANN;
    sched.time = &ts;
    sched.notes = "";
    Trainings__ScheduleTrainingResponse *sr = NULL;
    WW_ASSERT_MSG(ww_trainer_stubs_trainings_schedule_training(user, &sched, &sr,
                                                           &opts,
                                                           &err) == WW_OK,
                  "%s", err.msg);
    protobuf_c_message_free_unpacked(&sr->base, NULL);

    /* ann's own training, but she is no trainer */
    ww_code_t rc = cancel(user, uuid, &err);
    WW_ASSERT_EQ_INT(rc, WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "by_trainer = true");
    WW_ASSERT_EQ_INT(training_status(user, uuid),
                     TRAININGS__TRAINING_STATUS__PENDING);
    rc = cancel(trainer, uuid, &err);
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT(training_status(user, uuid) !=
              TRAININGS__TRAINING_STATUS__PENDING);
    ww_rpc_client_destroy(user);
    ww_rpc_client_destroy(service);
    ww_rpc_client_destroy(trainer);
}

WW_TEST(plaintext_and_wrong_ca_clients_fail_without_running_handlers) {
    sfx_setup();
    char *auth = sfx_bearer(sfx_token_as(TRAINER_AUD, FX_EMAIL));
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1927375200; /* 2031-01-28T14:00:00Z */
    Trainer__UpdateHourRequest hour = TRAINER__UPDATE_HOUR_REQUEST__INIT;
    hour.time = &ts;
    ww_rpc_call_options_t o = {.timeout_ms = 3000};
    const char *cas[] = {NULL, "other-ca.pem"};
    for (int i = 0; i < 2; i++) {
        ww_rpc_client_t *c = sfx_dial("localhost", sfx_trainer_port, cas[i],
                                      cas[i] ? auth : NULL);
        Google__Protobuf__Empty *empty = NULL;
        ww_err_t err = {0};
        ww_code_t rc = ww_trainer_stubs_make_hour_available(c, &hour,
                                                                &empty, &o,
                                                                &err);
        ww_rpc_client_destroy(c);
        WW_ASSERT_MSG(rc == WW_ERR_UNAVAILABLE, "%s: code %d (%s)",
                      cas[i] ? cas[i] : "plaintext", (int)rc, err.msg);
    }
    /* the hour was never made available */
    ww_rpc_client_t *c =
        sfx_dial("localhost", sfx_trainer_port, "ca.pem", auth);
    free(auth);
    Trainer__IsHourAvailableRequest q =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    q.time = &ts;
    Trainer__IsHourAvailableResponse *r = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_trainer_stubs_is_hour_available(c, &q, &r, &opts,
                                                         &err) == WW_OK,
                  "%s", err.msg);
    ww_rpc_client_destroy(c);
    bool available = r->is_available;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    WW_ASSERT(!available);
}

/* grpcio over TLS with a token: GetTrainingBalance answered, and the
 * trainer's token refused. */
static Users__GetTrainingBalanceResponse *
python_balance(const char *token, char *status, size_t size) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", sfx_users_port);
    Users__GetTrainingBalanceRequest req =
        USERS__GET_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = VICTIM;
    ww_test_grpcio_call_t call = {
        .target = target,
        .ca_pem = fx_pki_file("ca.pem"),
        .token = token,
        .method = "/users.UsersService/GetTrainingBalance",
        .request = &req.base,
        .reply_type = &users__get_training_balance_response__descriptor};
    return (Users__GetTrainingBalanceResponse *)ww_test_grpcio_call(
        &call, status, size);
}

WW_TEST(python_grpcio_client_with_tls_and_token) {
    sfx_setup();
    int64_t expected = victim_balance();
    char status[2048];
    char *tok = sfx_token_as(USERS_AUD, FX_EMAIL);
    Users__GetTrainingBalanceResponse *r =
        python_balance(tok, status, sizeof status);
    free(tok);
    WW_ASSERT_MSG(r, "%s", status);
    int64_t amount = r->amount;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    WW_ASSERT_EQ_INT(amount, expected);
    tok = fx_token(TRAINER_AUD, 600);
    r = python_balance(tok, status, sizeof status);
    free(tok);
    WW_ASSERT(!r);
    WW_ASSERT_CONTAINS(status, "UNAUTHENTICATED");
}

/* The metadata server down, answering 500, or slower than the call's
 * deadline: wwctl fails in time, saying why. */
WW_TEST(metadata_server_failures_fail_the_call_in_time) {
    sfx_setup();
    char env[2048], meta[64], out[4096];
    int64_t ms;
    const char *q = "--timeout-ms 1000 trainer is-hour-available "
                    "2031-02-03T15:00:00Z";
    snprintf(meta, sizeof meta, "127.0.0.1:%d",
             ww_test_proc_free_port()); /* nobody */
    sfx_wwctl_env(env, sizeof env, meta);
    WW_ASSERT_EQ_INT(sfx_wwctl(env, q, out, sizeof out, &ms), 1);
    WW_ASSERT_CONTAINS(out, "metadata server unreachable");
    WW_ASSERT_MSG(ms < 3000, "down: took %lld ms", (long long)ms);

    snprintf(meta, sizeof meta, "127.0.0.1:%d", sfx_meta_port);
    sfx_wwctl_env(env, sizeof env, meta);
    sfx_metadata_mode("500");
    int rc = sfx_wwctl(env, q, out, sizeof out, &ms);
    sfx_metadata_mode("ok");
    WW_ASSERT_EQ_INT(rc, 1);
    WW_ASSERT_CONTAINS(out, "metadata server answered HTTP 500");
    WW_ASSERT_MSG(ms < 3000, "500: took %lld ms", (long long)ms);

    sfx_metadata_mode("slow"); /* answers after 5 s */
    rc = sfx_wwctl(env, q, out, sizeof out, &ms);
    sfx_metadata_mode("ok");
    WW_ASSERT_EQ_INT(rc, 1);
    WW_ASSERT_CONTAINS(out, "DEADLINE_EXCEEDED");
    WW_ASSERT_MSG(ms < 4500, "slow: took %lld ms", (long long)ms);
}

/* Mutual TLS: a trainer with WW_TLS_CLIENT_CA serves only clients that
 * present a certificate signed by it. */
WW_TEST(mutual_tls_requires_a_client_certificate_from_the_ca) {
    sfx_setup();
    char ca[600], log[512], env[2048], meta[64], out[4096];
    snprintf(ca, sizeof ca, "WW_TLS_CLIENT_CA=%s", fx_pki_file("ca.pem"));
    int port = ww_test_proc_free_port();
    pid_t pid = sfx_start_service(TRAINER_BIN, port, TRAINER_AUD,
                                  (const char *[]){ca, NULL},
                                  fx_path(log, sizeof log, "mtls.log"));
    snprintf(meta, sizeof meta, "127.0.0.1:%d", sfx_meta_port);
    sfx_metadata_mode("ok");
    sfx_serve_token(TRAINER_AUD, FX_EMAIL);
    const char *q = "--timeout-ms 3000 trainer is-hour-available "
                    "2031-02-03T15:00:00Z";
    const char *client[] = {"", "client", "other-client"};
    int expect[] = {1, 0, 1};
    for (int i = 0; i < 3; i++) {
        char certs[1300] = "";
        if (*client[i]) {
            char cert[64], key[64];
            snprintf(cert, sizeof cert, "%s.pem", client[i]);
            snprintf(key, sizeof key, "%s.key", client[i]);
            snprintf(certs, sizeof certs,
                     "WW_TLS_CLIENT_CERT=%s WW_TLS_CLIENT_KEY=%s",
                     fx_pki_file(cert), fx_pki_file(key));
        }
        snprintf(env, sizeof env,
                 "TRAINER_GRPC_ADDR=localhost:%d WW_TLS_CA=%s "
                 "GCE_METADATA_HOST=%s %s",
                 port, fx_pki_file("ca.pem"), meta, certs);
        int rc = sfx_wwctl(env, q, out, sizeof out, NULL);
        if (rc != expect[i]) ww_test_proc_stop(pid, SIGTERM, 10000);
        WW_ASSERT_MSG(rc == expect[i], "client \"%s\": exit %d: %s",
                      client[i], rc, out);
        if (expect[i] == 0) WW_ASSERT_CONTAINS(out, "is_available=false");
    }
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
}

/* Files are checked at start: a missing certificate or JWKS stops the
 * binary with the file's name instead of failing every call later. */
WW_TEST(unusable_files_stop_the_start_naming_them) {
    sfx_setup();
    struct {
        const char *var, *value, *expect;
    } cases[] = {
        {"WW_TLS_CERT", "/nonexistent/cert.pem", "/nonexistent/cert.pem"},
        {"WW_TLS_KEY", "/nonexistent/key.pem", "/nonexistent/key.pem"},
        {"WW_JWKS", "/nonexistent/jwks.json", "JWKS /nonexistent/jwks.json"},
        {"WW_CALLERS_FILE", "/nonexistent/callers",
         "WW_CALLERS_FILE /nonexistent/callers cannot be read"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char listen[64], cert[600], key[600], jwks[600], log[512], text[8192];
        snprintf(listen, sizeof listen, "WW_LISTEN_ADDR=127.0.0.1:%d",
                 ww_test_proc_free_port());
        snprintf(cert, sizeof cert, "WW_TLS_CERT=%s",
                 fx_pki_file("server.pem"));
        snprintf(key, sizeof key, "WW_TLS_KEY=%s", fx_pki_file("server.key"));
        snprintf(jwks, sizeof jwks, "WW_JWKS=%s", sfx_jwks_path);
        char bad[600];
        snprintf(bad, sizeof bad, "%s=%s", cases[i].var, cases[i].value);
        /* a caller list, unless the case is the list's own file */
        const char *callers = strcmp(cases[i].var, "WW_CALLERS_FILE")
                                  ? "WW_CALLERS="
                                  : "WW_LOG_LEVEL=info";
        const char *env[] = {
            listen,  cert, key, jwks, "WW_JWT_AUDIENCE=" TRAINER_AUD,
            callers, bad,  NULL};
        pid_t pid =
            sfx_spawn(TRAINER_BIN, env, fx_path(log, sizeof log, "bad.log"));
        int code = ww_test_proc_wait(pid, 10000);
        FILE *f = fopen(log, "r");
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        text[n] = '\0';
        if (f) fclose(f);
        WW_ASSERT_MSG(code == 1, "%s: exit %d: %s", cases[i].var, code, text);
        WW_ASSERT_CONTAINS(text, cases[i].expect);
        WW_ASSERT_CONTAINS(text, "event=start_failed");
    }
}

/* WW_JWKS as an https:// URL, fetched at start trusting WW_TLS_CA: calls
 * with a token signed by a key in it are served, others refused. */
WW_TEST(jwks_from_an_https_url) {
    sfx_setup();
    char dir[512], url[128], ca[600], log[512];
    fx_path(dir, sizeof dir, "jwks-https");
    mkdir(dir, 0700);
    char path[600], *doc = fx_jwks_json(0);
    snprintf(path, sizeof path, "%s/jwks.json", dir);
    fx_write(path, doc);
    free(doc);
    pid_t jpid;
    int jport = fx_fake_server_start(dir, fx_pki_file("server.pem"),
                                     fx_pki_file("server.key"), &jpid);
    snprintf(url, sizeof url, "WW_JWKS=https://localhost:%d/jwks.json",
             jport);
    snprintf(ca, sizeof ca, "WW_TLS_CA=%s", fx_pki_file("ca.pem"));
    int port = ww_test_proc_free_port();
    pid_t pid = sfx_start_service(TRAINER_BIN, port, TRAINER_AUD,
                                  (const char *[]){url, ca, NULL},
                                  fx_path(log, sizeof log, "jwks.log"));
    long loads = fx_read_count(dir, "jwks_count");
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1927371600;
    Trainer__IsHourAvailableRequest q =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    q.time = &ts;
    ww_code_t rc[2];
    char msg[2][256];
    for (int i = 0; i < 2; i++) {
        char *auth = sfx_bearer(
            i == 0 ? sfx_token_as(TRAINER_AUD, FX_EMAIL)
                   : fx_mint("RS256", "rsa2", fx_rsa_other(), NULL,
                             fx_claims(TRAINER_AUD, (int64_t)time(NULL), 600)));
        ww_rpc_client_t *c = sfx_dial("localhost", port, "ca.pem", auth);
        free(auth);
        Trainer__IsHourAvailableResponse *r = NULL;
        ww_err_t err = {0};
        rc[i] = ww_trainer_stubs_is_hour_available(c, &q, &r, &opts, &err);
        snprintf(msg[i], sizeof msg[i], "%s", err.msg);
        if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
        ww_rpc_client_destroy(c);
    }
    ww_test_proc_stop(pid, SIGTERM, 10000);
    fx_fake_server_stop(jpid);
    WW_ASSERT(loads >= 1);
    WW_ASSERT_MSG(rc[0] == WW_OK, "%s", msg[0]);
    WW_ASSERT_EQ_INT(rc[1], WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_CONTAINS(msg[1], "kid");
}

static int stop_status(pid_t *pid) {
    int code = ww_test_proc_stop(*pid, SIGTERM, 10000);
    *pid = 0;
    return code;
}

/* Last: both binaries stop with status 0 (under ASan: no leaks either)
 * and logged their secured start. */
WW_TEST(servers_stop_cleanly) {
    sfx_setup();
    WW_ASSERT_EQ_INT(stop_status(&sfx_trainer_pid), 0);
    WW_ASSERT_EQ_INT(stop_status(&sfx_users_pid), 0);
    const char *logs[] = {"trainer.log", "users.log"};
    for (int i = 0; i < 2; i++) {
        char path[512], text[65536];
        FILE *f = fopen(fx_path(path, sizeof path, logs[i]), "r");
        WW_ASSERT(f);
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        WW_ASSERT_CONTAINS(text, "security=tls+jwt");
        WW_ASSERT_CONTAINS(text, "event=stopped");
        WW_ASSERT_MSG(!strstr(text, "GRPC_NO_TLS=true"), "%s", logs[i]);
    }
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(our_client_with_tls_and_token_changes_state),
            WW_CASE(wwctl_with_tls_and_metadata_token),
            WW_CASE(negative_corpus_is_unauthenticated_and_changes_nothing),
            WW_CASE(oversized_tokens_are_refused),
            WW_CASE(caller_without_a_role_is_permission_denied),
            WW_CASE(cancel_as_trainer_needs_a_trainer_identity),
            WW_CASE(
                plaintext_and_wrong_ca_clients_fail_without_running_handlers),
            WW_CASE(python_grpcio_client_with_tls_and_token),
            WW_CASE(metadata_server_failures_fail_the_call_in_time),
            WW_CASE(mutual_tls_requires_a_client_certificate_from_the_ca),
            WW_CASE(unusable_files_stop_the_start_naming_them),
            WW_CASE(jwks_from_an_https_url),
            WW_CASE(servers_stop_cleanly),
            {0}});
}
