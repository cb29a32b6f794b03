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
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array initial_md;
} watch_t;

static void wait_tag(watch_t *w, void *tag) {
    grpc_event ev = grpc_completion_queue_next(w->cq, in_ms(10000), NULL);
    WW_ASSERT_MSG(ev.type == GRPC_OP_COMPLETE && ev.tag == tag,
                  "watch: no completion (event type %d)", (int)ev.type);
}

static void watch_open(watch_t *w, int port, const char *service) {
    memset(w, 0, sizeof *w);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    w->channel = grpc_channel_create(target, creds, NULL);
    grpc_channel_credentials_release(creds);
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

static void watch_close(watch_t *w) {
    grpc_call_cancel(w->call, NULL);
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
    grpc_channel_destroy(w->channel);
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

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(not_serving_until_the_owner_is_ready_then_serving),
            WW_CASE(authentication_and_decoding_come_before_admission),
            WW_CASE(a_server_that_shut_down_stays_not_serving),
            WW_CASE(without_start_not_serving_everything_serves_at_start),
            {0}});
}
