/* The gRPC runtime over real sockets on 127.0.0.1, with the trainer proto's
 * generated service: typed round trips, status mapping, the checks the
 * runtime makes before a handler runs, deferred completion of thousands of
 * calls on two threads, authentication and idempotency hooks, health, and
 * graceful shutdown. */
#include "ww_rpc_call.h"
#include "ww_rpc_health.h"
#include "ww_rpc_server.h"
#include "ww_rpc_status.h"
#include "ww_trainer_stubs.h"
#include "ww_rpc_stubs.h"
#include "ww_test.h"

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---------- a test trainer service ---------- */

typedef struct deferred {
    Google__Protobuf__Empty_Closure done;
    void *call;
} deferred_t;

static atomic_int n_is_available, n_update, n_slow_second, slow_started;
static pthread_mutex_t def_mu = PTHREAD_MUTEX_INITIALIZER;
static deferred_t *def_calls;
static int def_count, def_cap;
static char last_identity[256];
static char last_key[256];

/* seconds encode the behaviour: even = available, 777 = sleep 300 ms,
 * 778 = count (must not run when its deadline passed). */
static void is_hour_available(Trainer__TrainerService_Service *svc,
                              const Trainer__IsHourAvailableRequest *in,
                              Trainer__IsHourAvailableResponse_Closure done,
                              void *closure_data) {
    (void)svc;
    atomic_fetch_add(&n_is_available, 1);
    snprintf(last_identity, sizeof last_identity, "%s",
             ww_rpc_call_identity(closure_data));
    if (!in->time) {
        ww_rpc_call_fail(closure_data, WW_ERR_INVALID_ARGUMENT,
                         "unable to parse time");
        return;
    }
    if (in->time->seconds == 777) {
        atomic_store(&slow_started, 1);
        usleep(300 * 1000);
    }
    if (in->time->seconds == 778) atomic_fetch_add(&n_slow_second, 1);
    Trainer__IsHourAvailableResponse out =
        TRAINER__IS_HOUR_AVAILABLE_RESPONSE__INIT;
    out.is_available = in->time->seconds % 2 == 0;
    done(&out, closure_data);
}

/* Fails with the ww_code_t given in time.seconds (0 = OK). */
static void update_hour(Trainer__TrainerService_Service *svc,
                        const Trainer__UpdateHourRequest *in,
                        Trainer__EmptyResponse_Closure done,
                        void *closure_data) {
    (void)svc;
    atomic_fetch_add(&n_update, 1);
    const char *key = ww_rpc_call_idempotency_key(closure_data);
    snprintf(last_key, sizeof last_key, "%s", key ? key : "(none)");
    long code = in->time ? (long)in->time->seconds : 0;
    if (code != 0) {
        ww_rpc_call_fail(closure_data, (ww_code_t)code, "code %ld", code);
        return;
    }
    Trainer__EmptyResponse out = TRAINER__EMPTY_RESPONSE__INIT;
    done(&out, closure_data);
}

/* Keeps the call; a test completes it later from another thread. */
static void schedule_training(Trainer__TrainerService_Service *svc,
                              const Trainer__UpdateHourRequest *in,
                              Google__Protobuf__Empty_Closure done,
                              void *closure_data) {
    (void)svc;
    (void)in;
    pthread_mutex_lock(&def_mu);
    if (def_count == def_cap) {
        def_cap = def_cap ? def_cap * 2 : 1024;
        def_calls = realloc(def_calls, (size_t)def_cap * sizeof *def_calls);
    }
    def_calls[def_count++] = (deferred_t){done, closure_data};
    pthread_mutex_unlock(&def_mu);
}

static int deferred_count(void) {
    pthread_mutex_lock(&def_mu);
    int n = def_count;
    pthread_mutex_unlock(&def_mu);
    return n;
}

static void complete_deferred(void) {
    pthread_mutex_lock(&def_mu);
    deferred_t *calls = def_calls;
    int n = def_count;
    def_calls = NULL;
    def_count = def_cap = 0;
    pthread_mutex_unlock(&def_mu);
    Google__Protobuf__Empty out = GOOGLE__PROTOBUF__EMPTY__INIT;
    for (int i = 0; i < n; i++)
        calls[i].done(&out, calls[i].call);
    free(calls);
}

static void unused(Trainer__TrainerService_Service *svc,
                   const Trainer__UpdateHourRequest *in,
                   Google__Protobuf__Empty_Closure done, void *closure_data) {
    (void)svc;
    (void)in;
    (void)done;
    ww_rpc_call_fail(closure_data, WW_ERR_FAILED_PRECONDITION, "not here");
}

static Trainer__TrainerService_Service test_service = {
    TRAINER__TRAINER_SERVICE__BASE_INIT,
    is_hour_available,
    update_hour,
    schedule_training,
    unused,
    unused,
    unused};

/* ---------- harness ---------- */

static ww_code_t auth_hook(void *ctx, const char *method,
                           const char *authorization, ww_rpc_caller_t *caller,
                           ww_err_t *err) {
    (void)ctx;
    (void)method;
    if (!authorization || strcmp(authorization, "Bearer good") != 0)
        return ww_err_set(err, WW_ERR_UNAUTHENTICATED, "missing or bad token");
    snprintf(caller->identity, sizeof caller->identity, "alice");
    snprintf(caller->role, sizeof caller->role, "tester");
    snprintf(caller->user_id, sizeof caller->user_id, "u-alice");
    return WW_OK;
}

/* Refuses UpdateHour for time.seconds == 77, as a role table would. */
static atomic_int n_authorize;
static ww_code_t authorize_hook(void *ctx, const ww_rpc_call_t *call,
                                const ProtobufCMessage *req, ww_err_t *err) {
    (void)ctx;
    atomic_fetch_add(&n_authorize, 1);
    if (strcmp(ww_rpc_call_caller(call)->role, "tester") != 0)
        return ww_err_set(err, WW_ERR_PERMISSION_DENIED, "role unset");
    if (strstr(ww_rpc_call_method(call), "UpdateHour")) {
        const Trainer__UpdateHourRequest *in =
            (const Trainer__UpdateHourRequest *)req;
        if (in->time && in->time->seconds == 77)
            return ww_err_set(err, WW_ERR_PERMISSION_DENIED, "not hour 77");
    }
    return WW_OK;
}

static ww_rpc_server_t *start_server(ww_rpc_server_config_t cfg,
                                     ww_rpc_client_t **client) {
    ww_err_t err;
    ww_rpc_server_t *s;
    cfg.listen_addr = "127.0.0.1:0";
    WW_ASSERT_MSG(ww_rpc_server_new(&cfg, &s, &err) == WW_OK, "%s", err.msg);
    WW_ASSERT_MSG(ww_rpc_server_add_service(s, &test_service.base, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT_MSG(ww_rpc_server_start(s, &err) == WW_OK, "%s", err.msg);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ww_rpc_server_port(s));
    ww_rpc_client_config_t cc = {.target = target};
    WW_ASSERT_MSG(ww_rpc_client_new(&cc, client, &err) == WW_OK, "%s", err.msg);
    return s;
}

static ww_code_t ask(ww_rpc_client_t *c, int64_t seconds, int64_t timeout_ms,
                     bool *available, ww_err_t *err) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = seconds;
    Trainer__IsHourAvailableRequest req =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    req.time = &ts;
    Trainer__IsHourAvailableResponse *resp = NULL;
    ww_rpc_call_options_t o = {.timeout_ms = timeout_ms};
    ww_code_t rc =
        ww_trainer_stubs_is_hour_available(c, &req, &resp, &o, err);
    if (rc == WW_OK) {
        *available = resp->is_available;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    return rc;
}

/* ---------- cases ---------- */

WW_TEST(typed_round_trip_returns_the_handlers_response) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start_server((ww_rpc_server_config_t){0}, &c);
    ww_err_t err;
    bool avail = false;
    WW_ASSERT_EQ_INT(ask(c, 1000, 2000, &avail, &err), WW_OK);
    WW_ASSERT(avail);
    WW_ASSERT_EQ_INT(ask(c, 1001, 2000, &avail, &err), WW_OK);
    WW_ASSERT(!avail);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

WW_TEST(every_code_maps_one_to_one_over_the_wire) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start_server((ww_rpc_server_config_t){0}, &c);
    for (int code = 0; code < WW_ERR__COUNT; code++) {
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = code;
        Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
        req.time = &ts;
        Trainer__EmptyResponse *resp = NULL;
        int status = -1;
        ww_rpc_call_options_t o = {.timeout_ms = 2000, .grpc_status = &status};
        ww_err_t err;
        ww_code_t rc =
            ww_trainer_stubs_update_hour(c, &req, &resp, &o, &err);
        WW_ASSERT_EQ_INT(rc, code);
        WW_ASSERT_EQ_INT(status, ww_rpc_status_from_code((ww_code_t)code));
        WW_ASSERT_EQ_INT(ww_rpc_status_to_code(status), code);
        if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
        if (code) {
            char want[32];
            snprintf(want, sizeof want, "code %d", code);
            WW_ASSERT_CONTAINS(err.msg, want);
        }
    }
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

static int raw_status(ww_rpc_client_t *c, const char *path, const void *data,
                      size_t len, ww_err_t *err) {
    uint8_t *resp = NULL;
    size_t rlen = 0;
    int status = -1;
    ww_rpc_call_options_t o = {.timeout_ms = 2000, .grpc_status = &status};
    ww_rpc_client_unary_raw(c, path, data, len, &resp, &rlen, &o, err);
    free(resp);
    return status;
}

WW_TEST(bad_requests_get_precise_statuses_without_running_handlers) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s =
        start_server((ww_rpc_server_config_t){.max_receive_bytes = 1024}, &c);
    int before = atomic_load(&n_is_available);
    ww_err_t err;
    /* field 1, wire type 2, length 10, but only 1 byte follows */
    static const uint8_t garbage[] = {0x0a, 0x0a, 0x08};
    WW_ASSERT_EQ_INT(raw_status(c, "/trainer.TrainerService/IsHourAvailable",
                                garbage, sizeof garbage, &err),
                     GRPC_STATUS_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "trainer.IsHourAvailableRequest");
    WW_ASSERT_EQ_INT(
        raw_status(c, "/trainer.TrainerService/NoSuchMethod", "", 0, &err),
        GRPC_STATUS_UNIMPLEMENTED);
    WW_ASSERT_CONTAINS(err.msg, "NoSuchMethod");
    WW_ASSERT_EQ_INT(raw_status(c, "/nope.Nope/X", "", 0, &err),
                     GRPC_STATUS_UNIMPLEMENTED);
    uint8_t big[4096];
    memset(big, 0, sizeof big);
    WW_ASSERT_EQ_INT(raw_status(c, "/trainer.TrainerService/IsHourAvailable",
                                big, sizeof big, &err),
                     GRPC_STATUS_RESOURCE_EXHAUSTED);
    WW_ASSERT_EQ_INT(atomic_load(&n_is_available), before);
    /* the server still answers afterwards */
    bool avail;
    WW_ASSERT_EQ_INT(ask(c, 2, 2000, &avail, &err), WW_OK);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

typedef struct {
    ww_rpc_client_t *c;
    int64_t seconds, timeout_ms;
    ww_code_t rc;
} ask_arg_t;

static void *ask_thread(void *p) {
    ask_arg_t *a = p;
    bool avail;
    ww_err_t err;
    a->rc = ask(a->c, a->seconds, a->timeout_ms, &avail, &err);
    return NULL;
}

WW_TEST(a_call_whose_deadline_passed_in_the_queue_is_not_executed) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s =
        start_server((ww_rpc_server_config_t){.threads = 1}, &c);
    atomic_store(&n_slow_second, 0);
    atomic_store(&slow_started, 0);
    ask_arg_t slow = {c, 777, 3000, -1}, late = {c, 778, 100, -1};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, ask_thread, &slow);
    /* the slow call occupies the only thread before the late one leaves */
    int64_t until = ww_test_now_ms() + 5000;
    while (!atomic_load(&slow_started) && ww_test_now_ms() < until)
        usleep(1000);
    pthread_create(&t2, NULL, ask_thread, &late);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    WW_ASSERT_EQ_INT(slow.rc, WW_OK);
    WW_ASSERT_EQ_INT(late.rc, WW_ERR_DEADLINE_EXCEEDED);
    usleep(100 * 1000);
    WW_ASSERT_EQ_INT(atomic_load(&n_slow_second), 0);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

/* Starts n ScheduleTraining calls on one queue without waiting. */
typedef struct {
    grpc_completion_queue *cq;
    grpc_call **calls;
    grpc_status_code *status;
    grpc_slice *details;
    grpc_byte_buffer **recv, *send;
    grpc_metadata_array *imd, *tmd;
    int n;
} burst_t;

static void burst_start(burst_t *b, grpc_channel *ch, int n) {
    memset(b, 0, sizeof *b);
    b->n = n;
    b->cq = grpc_completion_queue_create_for_next(NULL);
    b->calls = calloc((size_t)n, sizeof *b->calls);
    b->status = calloc((size_t)n, sizeof *b->status);
    b->details = calloc((size_t)n, sizeof *b->details);
    b->recv = calloc((size_t)n, sizeof *b->recv);
    b->imd = calloc((size_t)n, sizeof *b->imd);
    b->tmd = calloc((size_t)n, sizeof *b->tmd);
    grpc_slice empty = grpc_empty_slice();
    b->send = grpc_raw_byte_buffer_create(&empty, 0);
    grpc_slice method = grpc_slice_from_static_string(
        "/trainer.TrainerService/ScheduleTraining");
    for (int i = 0; i < n; i++) {
        b->calls[i] = grpc_channel_create_call(
            ch, NULL, 0, b->cq, method, NULL,
            gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                         gpr_time_from_seconds(60, GPR_TIMESPAN)),
            NULL);
        grpc_metadata_array_init(&b->imd[i]);
        grpc_metadata_array_init(&b->tmd[i]);
        grpc_op ops[6];
        memset(ops, 0, sizeof ops);
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = b->send;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &b->imd[i];
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &b->recv[i];
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &b->tmd[i];
        ops[5].data.recv_status_on_client.status = &b->status[i];
        ops[5].data.recv_status_on_client.status_details = &b->details[i];
        grpc_call_start_batch(b->calls[i], ops, 6, (void *)(intptr_t)(i + 1),
                              NULL);
    }
}

/* Waits for every call; returns how many ended OK. */
static int burst_finish(burst_t *b) {
    int ok = 0;
    for (int done = 0; done < b->n;) {
        grpc_event ev = grpc_completion_queue_next(
            b->cq,
            gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                         gpr_time_from_seconds(30, GPR_TIMESPAN)),
            NULL);
        if (ev.type != GRPC_OP_COMPLETE) break;
        done++;
    }
    for (int i = 0; i < b->n; i++) {
        if (b->status[i] == GRPC_STATUS_OK && b->recv[i]) ok++;
        if (b->recv[i]) grpc_byte_buffer_destroy(b->recv[i]);
        grpc_slice_unref(b->details[i]);
        grpc_metadata_array_destroy(&b->imd[i]);
        grpc_metadata_array_destroy(&b->tmd[i]);
        grpc_call_unref(b->calls[i]);
    }
    grpc_byte_buffer_destroy(b->send);
    grpc_completion_queue_shutdown(b->cq);
    while (grpc_completion_queue_next(b->cq, gpr_inf_future(GPR_CLOCK_REALTIME),
                                      NULL)
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(b->cq);
    free(b->calls);
    free(b->status);
    free(b->details);
    free(b->recv);
    free(b->imd);
    free(b->tmd);
    return ok;
}

static grpc_channel *raw_channel(ww_rpc_server_t *s) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ww_rpc_server_port(s));
    grpc_channel_credentials *ins = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, ins, NULL);
    grpc_channel_credentials_release(ins);
    return ch;
}

WW_TEST(two_threads_hold_thousands_of_pending_calls_completed_later) {
    enum { N = 3000 };
    ww_rpc_client_t *c;
    ww_rpc_server_t *s =
        start_server((ww_rpc_server_config_t){.threads = 2}, &c);
    grpc_channel *ch = raw_channel(s);
    burst_t b;
    burst_start(&b, ch, N);
    int64_t until = ww_test_now_ms() + 20000;
    while (deferred_count() < N && ww_test_now_ms() < until)
        usleep(10000);
    WW_ASSERT_EQ_INT(deferred_count(), N);
    /* all pending, yet the server still answers others */
    ww_err_t err;
    bool avail;
    WW_ASSERT_EQ_INT(ask(c, 4, 2000, &avail, &err), WW_OK);
    pthread_t t;
    pthread_create(&t, NULL, (void *(*)(void *))complete_deferred, NULL);
    pthread_join(t, NULL);
    WW_ASSERT_EQ_INT(burst_finish(&b), N);
    grpc_channel_destroy(ch);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

static int
plugin_get(void *state, grpc_auth_metadata_context ctx,
           grpc_credentials_plugin_metadata_cb cb, void *user_data,
           grpc_metadata md[GRPC_METADATA_CREDENTIALS_PLUGIN_SYNC_MAX],
           size_t *n, grpc_status_code *status, const char **details) {
    (void)ctx;
    (void)cb;
    (void)user_data;
    md[0].key = grpc_slice_from_static_string("authorization");
    md[0].value = grpc_slice_from_copied_string((const char *)state);
    *n = 1;
    *status = GRPC_STATUS_OK;
    *details = NULL;
    return 1;
}

static ww_rpc_client_t *client_with_token(ww_rpc_server_t *s, const char *tok,
                                          grpc_call_credentials **creds) {
    grpc_metadata_credentials_plugin p = {plugin_get, NULL, NULL, (void *)tok,
                                          "test"};
    *creds = grpc_metadata_credentials_create_from_plugin(p, GRPC_SECURITY_NONE,
                                                          NULL);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ww_rpc_server_port(s));
    ww_rpc_client_config_t cc = {.target = target, .call_credentials = *creds};
    ww_rpc_client_t *c;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_rpc_client_new(&cc, &c, &err), WW_OK);
    return c;
}

WW_TEST(authenticate_hook_runs_before_handlers_and_names_the_caller) {
    ww_rpc_client_t *anon;
    ww_rpc_server_t *s = start_server(
        (ww_rpc_server_config_t){.authenticate = auth_hook}, &anon);
    ww_err_t err;
    bool avail;
    int before = atomic_load(&n_is_available);
    WW_ASSERT_EQ_INT(ask(anon, 2, 2000, &avail, &err), WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_CONTAINS(err.msg, "missing or bad token");
    grpc_call_credentials *bad_creds, *good_creds;
    ww_rpc_client_t *bad = client_with_token(s, "Bearer bad", &bad_creds);
    WW_ASSERT_EQ_INT(ask(bad, 2, 2000, &avail, &err), WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_EQ_INT(atomic_load(&n_is_available), before);
    ww_rpc_client_t *good = client_with_token(s, "Bearer good", &good_creds);
    WW_ASSERT_EQ_INT(ask(good, 2, 2000, &avail, &err), WW_OK);
    WW_ASSERT_EQ_STR(last_identity, "alice");
    /* health stays reachable for probes without a token */
    Grpc__Health__V1__HealthCheckRequest hreq =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *hresp;
    ww_rpc_call_options_t o = {.timeout_ms = 2000};
    WW_ASSERT_EQ_INT(ww_rpc_stubs_health_check(anon, &hreq, &hresp, &o, &err),
                     WW_OK);
    protobuf_c_message_free_unpacked(&hresp->base, NULL);
    ww_rpc_client_destroy(anon);
    ww_rpc_client_destroy(bad);
    ww_rpc_client_destroy(good);
    grpc_call_credentials_release(bad_creds);
    grpc_call_credentials_release(good_creds);
    ww_rpc_server_destroy(s);
}

static ww_code_t update(ww_rpc_client_t *c, int64_t code, const char *key,
                        ww_err_t *err) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = code;
    Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
    req.time = &ts;
    Trainer__EmptyResponse *resp = NULL;
    ww_rpc_call_options_t o = {.timeout_ms = 2000, .idempotency_key = key};
    ww_code_t rc = ww_trainer_stubs_update_hour(c, &req, &resp, &o, err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

WW_TEST(a_repeated_idempotency_key_returns_the_first_result) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s =
        start_server((ww_rpc_server_config_t){.idempotency_cache = 16}, &c);
    ww_err_t err;
    int before = atomic_load(&n_update);
    WW_ASSERT_EQ_INT(update(c, 0, "k-1", &err), WW_OK);
    WW_ASSERT_EQ_STR(last_key, "k-1");
    WW_ASSERT_EQ_INT(update(c, 0, "k-1", &err), WW_OK);
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before + 1);
    /* a refusal is a result too: the same key gets it again */
    WW_ASSERT_EQ_INT(update(c, WW_ERR_FAILED_PRECONDITION, "k-2", &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_EQ_INT(update(c, WW_ERR_FAILED_PRECONDITION, "k-2", &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before + 2);
    /* the same key with another request is refused, never run */
    WW_ASSERT_EQ_INT(update(c, 0, "k-2", &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "was used for another request");
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before + 2);
    /* no key: every call runs */
    WW_ASSERT_EQ_INT(update(c, 0, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(update(c, 0, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before + 4);
    WW_ASSERT_EQ_STR(last_key, "(none)");
    /* the cache is bounded: old keys are evicted, not kept forever */
    char key[32];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "fill-%d", i);
        WW_ASSERT_EQ_INT(update(c, 0, key, &err), WW_OK);
    }
    WW_ASSERT_EQ_INT(update(c, 0, "k-1", &err), WW_OK);
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before + 45);
    /* a key too long to remember is refused before the handler */
    char long_key[200];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    WW_ASSERT_EQ_INT(update(c, 0, long_key, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "idempotency-key");
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before + 45);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

/* Refusals before the handler (authenticate, authorize) are never
 * remembered under the key: they say nothing about the request. */
WW_TEST(refusals_before_the_handler_are_not_remembered) {
    ww_rpc_client_t *anon;
    ww_rpc_server_t *s =
        start_server((ww_rpc_server_config_t){.authenticate = auth_hook,
                                              .authorize = authorize_hook,
                                              .idempotency_cache = 16},
                     &anon);
    grpc_call_credentials *creds;
    ww_rpc_client_t *good = client_with_token(s, "Bearer good", &creds);
    ww_err_t err;
    int before = atomic_load(&n_update), asked = atomic_load(&n_authorize);
    WW_ASSERT_EQ_INT(update(anon, 0, "k-r", &err), WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_EQ_INT(atomic_load(&n_authorize), asked); /* never reached */
    WW_ASSERT_EQ_INT(update(good, 77, "k-r", &err), WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "not hour 77");
    WW_ASSERT_EQ_INT(update(good, 77, "k-r", &err), WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(atomic_load(&n_authorize), asked + 2); /* asked again */
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before);
    /* the key is still free: another request under it runs, once */
    WW_ASSERT_EQ_INT(update(good, 0, "k-r", &err), WW_OK);
    WW_ASSERT_EQ_INT(update(good, 0, "k-r", &err), WW_OK);
    WW_ASSERT_EQ_INT(atomic_load(&n_update), before + 1);
    ww_rpc_client_destroy(anon);
    ww_rpc_client_destroy(good);
    grpc_call_credentials_release(creds);
    ww_rpc_server_destroy(s);
}

WW_TEST(health_reports_each_service_and_refuses_unknown_names) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start_server((ww_rpc_server_config_t){0}, &c);
    const char *names[] = {"", "trainer.TrainerService"};
    ww_err_t err;
    ww_rpc_call_options_t o = {.timeout_ms = 2000};
    for (int i = 0; i < 2; i++) {
        Grpc__Health__V1__HealthCheckRequest req =
            GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        req.service = (char *)names[i];
        Grpc__Health__V1__HealthCheckResponse *resp;
        WW_ASSERT_EQ_INT(ww_rpc_stubs_health_check(c, &req, &resp, &o, &err),
                         WW_OK);
        WW_ASSERT_EQ_INT(
            resp->status,
            GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    ww_rpc_health_set(ww_rpc_server_health(s), "trainer.TrainerService",
                      WW_RPC_HEALTH_NOT_SERVING, NULL);
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = "trainer.TrainerService";
    Grpc__Health__V1__HealthCheckResponse *resp;
    WW_ASSERT_EQ_INT(ww_rpc_stubs_health_check(c, &req, &resp, &o, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(
        resp->status,
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    req.service = "nope.Nope";
    WW_ASSERT_EQ_INT(ww_rpc_stubs_health_check(c, &req, &resp, &o, &err),
                     WW_ERR_NOT_FOUND);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

WW_TEST(completing_calls_whose_clients_left_is_safe) {
    enum { N = 200 };
    ww_rpc_client_t *c;
    ww_rpc_server_t *s =
        start_server((ww_rpc_server_config_t){.threads = 2}, &c);
    grpc_channel *ch = raw_channel(s);
    burst_t b;
    burst_start(&b, ch, N);
    int64_t until = ww_test_now_ms() + 10000;
    while (deferred_count() < N && ww_test_now_ms() < until)
        usleep(5000);
    WW_ASSERT_EQ_INT(deferred_count(), N);
    for (int i = 0; i < N; i++) grpc_call_cancel(b.calls[i], NULL);
    WW_ASSERT_EQ_INT(burst_finish(&b), 0); /* every call ended CANCELLED */
    grpc_channel_destroy(ch);
    /* Pending calls still watch for their client leaving (RECV_CLOSE is
     * started after dispatch for them); the 60 s deadline has not passed,
     * so only that can make them report cancelled. */
    int seen = 0;
    until = ww_test_now_ms() + 5000;
    while (seen < N && ww_test_now_ms() < until) {
        seen = 0;
        pthread_mutex_lock(&def_mu);
        for (int i = 0; i < def_count; i++)
            seen += ww_rpc_call_cancelled(def_calls[i].call);
        pthread_mutex_unlock(&def_mu);
        if (seen < N) usleep(5000);
    }
    WW_ASSERT_EQ_INT(seen, N);
    complete_deferred(); /* late completions of gone calls: dropped */
    ww_err_t err;
    bool avail;
    WW_ASSERT_EQ_INT(ask(c, 6, 2000, &avail, &err), WW_OK);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

static void *complete_after_300ms(void *p) {
    (void)p;
    usleep(300 * 1000);
    complete_deferred();
    return NULL;
}

WW_TEST(shutdown_lets_calls_in_flight_finish_within_the_grace_period) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start_server((ww_rpc_server_config_t){0}, &c);
    grpc_channel *ch = raw_channel(s);
    burst_t b;
    burst_start(&b, ch, 5);
    int64_t until = ww_test_now_ms() + 5000;
    while (deferred_count() < 5 && ww_test_now_ms() < until)
        usleep(5000);
    WW_ASSERT_EQ_INT(deferred_count(), 5);
    pthread_t t;
    pthread_create(&t, NULL, complete_after_300ms, NULL);
    int64_t t0 = ww_test_now_ms();
    ww_rpc_server_shutdown(s, 5000);
    int64_t took = ww_test_now_ms() - t0;
    pthread_join(t, NULL);
    WW_ASSERT_EQ_INT(burst_finish(&b), 5);
    WW_ASSERT_MSG(took >= 250 && took < 4000, "shutdown took %lld ms",
                  (long long)took);
    /* no longer accepting */
    ww_err_t err;
    bool avail;
    WW_ASSERT_EQ_INT(ask(c, 2, 500, &avail, &err) != WW_OK, 1);
    grpc_channel_destroy(ch);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

static void *complete_after_800ms(void *p) {
    (void)p;
    usleep(800 * 1000);
    complete_deferred();
    return NULL;
}

WW_TEST(shutdown_cancels_what_outlives_the_grace_period) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start_server((ww_rpc_server_config_t){0}, &c);
    grpc_channel *ch = raw_channel(s);
    burst_t b;
    burst_start(&b, ch, 3);
    int64_t until = ww_test_now_ms() + 5000;
    while (deferred_count() < 3 && ww_test_now_ms() < until)
        usleep(5000);
    pthread_t t;
    pthread_create(&t, NULL, complete_after_800ms, NULL);
    int64_t t0 = ww_test_now_ms();
    ww_rpc_server_shutdown(s, 100);
    pthread_join(t, NULL);
    int ok = burst_finish(&b);
    WW_ASSERT_EQ_INT(ok, 0); /* cancelled at ~100 ms, before completion */
    WW_ASSERT_MSG(ww_test_now_ms() - t0 < 5000, "shutdown too slow");
    grpc_channel_destroy(ch);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

WW_TEST(client_from_env_names_the_missing_variable) {
    ww_rpc_client_t *c;
    ww_err_t err;
    unsetenv("TRAINER_GRPC_ADDR");
    WW_ASSERT_EQ_INT(
        ww_rpc_client_new_from_env("TRAINER_GRPC_ADDR", NULL, &c, &err),
        WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "TRAINER_GRPC_ADDR");
    WW_ASSERT(c == NULL);
}

WW_TEST(a_taken_port_is_a_clear_error) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start_server((ww_rpc_server_config_t){0}, &c);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ww_rpc_server_port(s));
    ww_rpc_server_config_t cfg = {.listen_addr = addr};
    ww_rpc_server_t *s2;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_rpc_server_new(&cfg, &s2, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_rpc_server_start(s2, &err), WW_ERR_UNAVAILABLE);
    WW_ASSERT_CONTAINS(err.msg, addr);
    ww_rpc_server_destroy(s2);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(typed_round_trip_returns_the_handlers_response),
            WW_CASE(every_code_maps_one_to_one_over_the_wire),
            WW_CASE(bad_requests_get_precise_statuses_without_running_handlers),
            WW_CASE(a_call_whose_deadline_passed_in_the_queue_is_not_executed),
            WW_CASE(
                two_threads_hold_thousands_of_pending_calls_completed_later),
            WW_CASE(
                authenticate_hook_runs_before_handlers_and_names_the_caller),
            WW_CASE(completing_calls_whose_clients_left_is_safe),
            WW_CASE(a_repeated_idempotency_key_returns_the_first_result),
            WW_CASE(refusals_before_the_handler_are_not_remembered),
            WW_CASE(health_reports_each_service_and_refuses_unknown_names),
            WW_CASE(
                shutdown_lets_calls_in_flight_finish_within_the_grace_period),
            WW_CASE(shutdown_cancels_what_outlives_the_grace_period),
            WW_CASE(client_from_env_names_the_missing_variable),
            WW_CASE(a_taken_port_is_a_clear_error),
            {0}});
}
