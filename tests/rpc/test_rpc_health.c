/* Readiness in the gRPC runtime over real sockets: a server started with
 * start_not_serving answers NOT_SERVING on Check and Watch, overall and per
 * service, and its admit hook refuses calls (after authentication and
 * decoding, never health) until the owner sets SERVING; a refusal is not
 * remembered under the idempotency-key; nothing turns SERVING again after
 * shutdown. */
#include "health.pb-c.h"
#include "ww_rpc_call.h"
#include "ww_rpc_health.h"
#include "ww_rpc_server.h"
#include "ww_rpc_stubs.h"
#include "ww_test.h"
#include "ww_trainer_stubs.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <stdatomic.h>
#include <unistd.h>

enum {
    SERVING = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING,
    NOT_SERVING =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING,
};

/* ---------- a trainer service that counts its calls ---------- */

static atomic_int n_calls;

static void is_hour_available(Trainer__TrainerService_Service *svc,
                              const Trainer__IsHourAvailableRequest *in,
                              Trainer__IsHourAvailableResponse_Closure done,
                              void *call) {
    (void)svc;
    (void)in;
    atomic_fetch_add(&n_calls, 1);
    Trainer__IsHourAvailableResponse out =
        TRAINER__IS_HOUR_AVAILABLE_RESPONSE__INIT;
    out.is_available = true;
    done(&out, call);
}

static void update_hour(Trainer__TrainerService_Service *svc,
                        const Trainer__UpdateHourRequest *in,
                        Trainer__EmptyResponse_Closure done, void *call) {
    (void)svc;
    (void)in;
    atomic_fetch_add(&n_calls, 1);
    Trainer__EmptyResponse out = TRAINER__EMPTY_RESPONSE__INIT;
    done(&out, call);
}

static void unused(Trainer__TrainerService_Service *svc,
                   const Trainer__UpdateHourRequest *in,
                   Google__Protobuf__Empty_Closure done, void *call) {
    (void)svc;
    (void)in;
    (void)done;
    ww_rpc_call_fail(call, WW_ERR_FAILED_PRECONDITION, "not here");
}

static Trainer__TrainerService_Service test_service = {
    .base = TRAINER__TRAINER_SERVICE__BASE_INIT,
    .is_hour_available = is_hour_available,
    .update_hour = update_hour,
    .schedule_training = unused,
    .cancel_training = unused,
    .make_hour_available = unused,
    .make_hour_unavailable = unused,
};

/* ---------- the owner's readiness ---------- */

static atomic_bool ready;
static char admit_method[160];

static ww_code_t admit(void *ctx, const char *method, ww_err_t *err) {
    (void)ctx;
    snprintf(admit_method, sizeof admit_method, "%s", method);
    if (atomic_load(&ready)) return WW_OK;
    return ww_err_set(err, WW_ERR_UNAVAILABLE,
                      "catching up: 3 of 10 read; retry shortly");
}

static ww_code_t refuse_all(void *ctx, const char *method,
                            const char *authorization, ww_rpc_caller_t *caller,
                            ww_err_t *err) {
    (void)ctx;
    (void)method;
    (void)authorization;
    (void)caller;
    return ww_err_set(err, WW_ERR_UNAUTHENTICATED, "no token");
}

static ww_rpc_server_t *start(ww_rpc_server_config_t cfg,
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

static int check(ww_rpc_client_t *c, const char *service) {
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    Grpc__Health__V1__HealthCheckResponse *resp = NULL;
    ww_rpc_call_options_t o = {.timeout_ms = 5000};
    ww_err_t err;
    WW_ASSERT_MSG(ww_rpc_stubs_health_check(c, &req, &resp, &o, &err) == WW_OK,
                  "Check(%s): %s", service, err.msg);
    int st = (int)resp->status;
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return st;
}

static ww_code_t ask(ww_rpc_client_t *c, const char *key, ww_err_t *err) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 2;
    Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
    req.time = &ts;
    Trainer__EmptyResponse *resp = NULL;
    ww_rpc_call_options_t o = {.timeout_ms = 5000, .idempotency_key = key};
    ww_code_t rc = ww_trainer_stubs_update_hour(c, &req, &resp, &o, err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

/* ---------- a Watch stream over the C core (our client is unary) ---------- */

static gpr_timespec in_ms(int ms) {
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(ms, GPR_TIMESPAN));
}

typedef struct watch {
    grpc_channel *channel;
    bool shared; /* the channel belongs to the caller */
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array initial_md;
} watch_t;

static void wait_tag(watch_t *w, void *tag) {
    grpc_event ev = grpc_completion_queue_next(w->cq, in_ms(10000), NULL);
    WW_ASSERT_MSG(ev.type == GRPC_OP_COMPLETE && ev.tag == tag,
                  "watch: no completion (event type %d)", (int)ev.type);
}

static grpc_channel *channel_to(int port) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    /* Its own subchannel pool: a connection of its own, not one shared
     * with the other channels to the same address. */
    grpc_arg arg = {.type = GRPC_ARG_INTEGER,
                    .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
                    .value.integer = 1};
    grpc_channel_args args = {.num_args = 1, .args = &arg};
    grpc_channel *ch = grpc_channel_create(target, creds, &args);
    grpc_channel_credentials_release(creds);
    return ch;
}

/* A Watch on `channel` (one connection for every stream on it), or on a
 * channel of its own when channel is NULL. */
static void watch_open_on(watch_t *w, grpc_channel *channel, int port,
                          const char *service) {
    memset(w, 0, sizeof *w);
    w->shared = channel != NULL;
    w->channel = channel ? channel : channel_to(port);
    w->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_slice method =
        grpc_slice_from_static_string("/grpc.health.v1.Health/Watch");
    w->call =
        grpc_channel_create_call(w->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                 w->cq, method, NULL, in_ms(60000), NULL);
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    uint8_t buf[256];
    size_t len = protobuf_c_message_pack(&req.base, buf);
    grpc_slice bytes = grpc_slice_from_copied_buffer((const char *)buf, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&bytes, 1);
    grpc_slice_unref(bytes);
    grpc_metadata_array_init(&w->initial_md);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &w->initial_md;
    WW_ASSERT_EQ_INT(grpc_call_start_batch(w->call, ops, 4, w, NULL),
                     GRPC_CALL_OK);
    wait_tag(w, w);
    grpc_byte_buffer_destroy(bb);
}

static void watch_open(watch_t *w, int port, const char *service) {
    watch_open_on(w, NULL, port, service);
}

/* The next status the stream sends; -1 when it ended. */
static int watch_next(watch_t *w) {
    grpc_byte_buffer *msg = NULL;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &msg;
    WW_ASSERT_EQ_INT(grpc_call_start_batch(w->call, &op, 1, &msg, NULL),
                     GRPC_CALL_OK);
    wait_tag(w, &msg);
    if (!msg) return -1;
    grpc_byte_buffer_reader reader;
    WW_ASSERT(grpc_byte_buffer_reader_init(&reader, msg));
    grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(msg);
    Grpc__Health__V1__HealthCheckResponse *r =
        grpc__health__v1__health_check_response__unpack(
            NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    WW_ASSERT(r != NULL);
    int st = (int)r->status;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return st;
}

/* Cancels the stream (unless it ended already), then reads its status
 * into *code and details (size bytes), and frees it. */
static void watch_end(watch_t *w, bool cancel, grpc_status_code *code,
                      char *details_buf, size_t size) {
    if (cancel) grpc_call_cancel(w->call, NULL);
    grpc_metadata_array trailing;
    grpc_metadata_array_init(&trailing);
    grpc_status_code status;
    grpc_slice details;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.trailing_metadata = &trailing;
    op.data.recv_status_on_client.status = &status;
    op.data.recv_status_on_client.status_details = &details;
    WW_ASSERT_EQ_INT(grpc_call_start_batch(w->call, &op, 1, &status, NULL),
                     GRPC_CALL_OK);
    wait_tag(w, &status);
    if (code) *code = status;
    if (details_buf && size)
        snprintf(details_buf, size, "%.*s", (int)GRPC_SLICE_LENGTH(details),
                 (const char *)GRPC_SLICE_START_PTR(details));
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&trailing);
    grpc_metadata_array_destroy(&w->initial_md);
    grpc_call_unref(w->call);
    grpc_completion_queue_shutdown(w->cq);
    while (grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME),
                                      NULL)
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(w->cq);
    if (!w->shared) grpc_channel_destroy(w->channel);
}

static void watch_close(watch_t *w) {
    watch_end(w, true, NULL, NULL, 0);
}

/* A Watch the server must refuse: no message, then `code` with `why`. */
static void expect_watch_refused(grpc_channel *ch, const char *why) {
    watch_t w;
    watch_open_on(&w, ch, 0, "");
    int first = watch_next(&w);
    grpc_status_code code;
    char details[256];
    watch_end(&w, false, &code, details, sizeof details);
    WW_ASSERT_EQ_INT(first, -1);
    WW_ASSERT_EQ_INT(code, GRPC_STATUS_RESOURCE_EXHAUSTED);
    WW_ASSERT_CONTAINS(details, why);
}

/* Until the server counts `n` open watches (cancels land on its queue). */
static bool wait_watch_count(ww_rpc_health_t *h, int n) {
    for (int i = 0; i < 1000 && ww_rpc_health_watch_count(h) != n; i++)
        usleep(10 * 1000);
    return ww_rpc_health_watch_count(h) == n;
}

/* ---------- cases ---------- */

WW_TEST(not_serving_until_the_owner_is_ready_then_serving) {
    atomic_store(&ready, false);
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start(
        (ww_rpc_server_config_t){
            .start_not_serving = true, .admit = admit, .idempotency_cache = 16},
        &c);
    int port = ww_rpc_server_port(s);
    WW_ASSERT_EQ_INT(check(c, ""), NOT_SERVING);
    WW_ASSERT_EQ_INT(check(c, "trainer.TrainerService"), NOT_SERVING);
    watch_t all, one;
    watch_open(&all, port, "");
    watch_open(&one, port, "trainer.TrainerService");
    WW_ASSERT_EQ_INT(watch_next(&all), NOT_SERVING);
    WW_ASSERT_EQ_INT(watch_next(&one), NOT_SERVING);

    /* calls are refused with the owner's reason; the handler never runs */
    int before = atomic_load(&n_calls);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ask(c, "key-1", &err), WW_ERR_UNAVAILABLE);
    WW_ASSERT_CONTAINS(err.msg, "catching up: 3 of 10 read");
    WW_ASSERT_EQ_STR(admit_method, "/trainer.TrainerService/UpdateHour");
    WW_ASSERT_EQ_INT(atomic_load(&n_calls), before);

    WW_ASSERT_EQ_INT(ww_rpc_server_set_serving(s, WW_RPC_HEALTH_SERVING, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(watch_next(&all), SERVING);
    WW_ASSERT_EQ_INT(watch_next(&one), SERVING);
    WW_ASSERT_EQ_INT(check(c, ""), SERVING);
    WW_ASSERT_EQ_INT(check(c, "trainer.TrainerService"), SERVING);
    /* the owner admits once ready; the refused key was not remembered, so
     * its retry runs */
    atomic_store(&ready, true);
    WW_ASSERT_EQ_INT(ask(c, "key-1", &err), WW_OK);
    WW_ASSERT_EQ_INT(atomic_load(&n_calls), before + 1);
    watch_close(&all);
    watch_close(&one);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

WW_TEST(authentication_and_decoding_come_before_admission) {
    atomic_store(&ready, false);
    ww_rpc_client_t *c;
    ww_rpc_server_t *s =
        start((ww_rpc_server_config_t){.start_not_serving = true,
                                       .admit = admit,
                                       .authenticate = refuse_all},
              &c);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ask(c, NULL, &err), WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_CONTAINS(err.msg, "no token");
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);

    s = start(
        (ww_rpc_server_config_t){.start_not_serving = true, .admit = admit},
        &c);
    int status = 0;
    ww_rpc_call_options_t o = {.timeout_ms = 5000, .grpc_status = &status};
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    uint8_t *resp = NULL;
    size_t rlen = 0;
    ww_rpc_client_unary_raw(c, "/trainer.TrainerService/UpdateHour", junk,
                            sizeof junk, &resp, &rlen, &o, &err);
    free(resp);
    WW_ASSERT_EQ_INT(status, GRPC_STATUS_INVALID_ARGUMENT);
    /* health is never subject to admission */
    WW_ASSERT_EQ_INT(check(c, ""), NOT_SERVING);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

WW_TEST(a_server_that_shut_down_stays_not_serving) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s =
        start((ww_rpc_server_config_t){.start_not_serving = true}, &c);
    ww_rpc_health_t *h = ww_rpc_server_health(s);
    ww_rpc_server_shutdown(s, 0);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_rpc_server_set_serving(s, WW_RPC_HEALTH_SERVING, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_rpc_health_get(h, ""), WW_RPC_HEALTH_NOT_SERVING);
    WW_ASSERT_EQ_INT(ww_rpc_health_get(h, "trainer.TrainerService"),
                     WW_RPC_HEALTH_NOT_SERVING);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

WW_TEST(without_start_not_serving_everything_serves_at_start) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start((ww_rpc_server_config_t){0}, &c);
    WW_ASSERT_EQ_INT(check(c, ""), SERVING);
    WW_ASSERT_EQ_INT(check(c, "trainer.TrainerService"), SERVING);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

/* Watch needs no token, so it is bounded: 3 streams per connection and 5
 * on the server here. One more on a full connection, or anywhere once the
 * server is full, is RESOURCE_EXHAUSTED before any message; a cancelled
 * stream frees its place; Check is not limited. */
WW_TEST(watch_streams_are_capped_per_connection_and_in_total) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start((ww_rpc_server_config_t){0}, &c);
    ww_rpc_health_t *h = ww_rpc_server_health(s);
    ww_rpc_health_set_watch_limits(h, 3, 5);
    int port = ww_rpc_server_port(s);
    grpc_channel *a = channel_to(port), *b = channel_to(port);
    watch_t wa[3], wb[3];
    for (int i = 0; i < 3; i++) {
        watch_open_on(&wa[i], a, port, "");
        WW_ASSERT_EQ_INT(watch_next(&wa[i]), SERVING);
    }
    expect_watch_refused(a, "too many Health.Watch streams on this "
                            "connection (limit 3)");
    for (int i = 0; i < 2; i++) {
        watch_open_on(&wb[i], b, port, "trainer.TrainerService");
        WW_ASSERT_EQ_INT(watch_next(&wb[i]), SERVING);
    }
    expect_watch_refused(b, "too many Health.Watch streams on this server "
                            "(limit 5)");
    WW_ASSERT_EQ_INT(ww_rpc_health_watch_count(h), 5);
    WW_ASSERT_EQ_INT(check(c, ""), SERVING); /* Check is not a stream */

    /* One ends: its place is free again, for any connection. */
    watch_close(&wa[0]);
    WW_ASSERT(wait_watch_count(h, 4));
    watch_open_on(&wb[2], b, port, "");
    WW_ASSERT_EQ_INT(watch_next(&wb[2]), SERVING);
    /* The streams still open keep getting changes. */
    ww_err_t err;
    WW_ASSERT_EQ_INT(
        ww_rpc_server_set_serving(s, WW_RPC_HEALTH_NOT_SERVING, &err), WW_OK);
    WW_ASSERT_EQ_INT(watch_next(&wa[1]), NOT_SERVING);
    WW_ASSERT_EQ_INT(watch_next(&wb[2]), NOT_SERVING);
    for (int i = 1; i < 3; i++)
        watch_close(&wa[i]);
    for (int i = 0; i < 3; i++)
        watch_close(&wb[i]);
    WW_ASSERT(wait_watch_count(h, 0));
    grpc_channel_destroy(a);
    grpc_channel_destroy(b);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
}

/* Many streams opened and cancelled on one connection: every cancel frees
 * its place (found through the table by call), so a cap of 2 admits all
 * 300 in turn, and nothing is left behind. */
WW_TEST(cancelled_watches_free_their_place) {
    ww_rpc_client_t *c;
    ww_rpc_server_t *s = start((ww_rpc_server_config_t){0}, &c);
    ww_rpc_health_t *h = ww_rpc_server_health(s);
    ww_rpc_health_set_watch_limits(h, 2, 2);
    int port = ww_rpc_server_port(s);
    grpc_channel *a = channel_to(port);
    watch_t keep;
    watch_open_on(&keep, a, port, "");
    WW_ASSERT_EQ_INT(watch_next(&keep), SERVING);
    int admitted = 0;
    for (int i = 0; i < 300; i++) {
        watch_t w;
        watch_open_on(&w, a, port, "");
        admitted += watch_next(&w) == SERVING;
        watch_close(&w);
        WW_ASSERT(wait_watch_count(h, 1));
    }
    watch_close(&keep);
    WW_ASSERT(wait_watch_count(h, 0));
    grpc_channel_destroy(a);
    ww_rpc_client_destroy(c);
    ww_rpc_server_destroy(s);
    WW_ASSERT_EQ_INT(admitted, 300);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(not_serving_until_the_owner_is_ready_then_serving),
            WW_CASE(authentication_and_decoding_come_before_admission),
            WW_CASE(a_server_that_shut_down_stays_not_serving),
            WW_CASE(without_start_not_serving_everything_serves_at_start),
            WW_CASE(watch_streams_are_capped_per_connection_and_in_total),
            WW_CASE(cancelled_watches_free_their_place),
            {0}});
}
