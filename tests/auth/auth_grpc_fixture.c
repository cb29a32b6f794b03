/* auth_grpc_fixture.c - ww_auth behind ww_rpc, a counting handler, calls. */
#include "auth_grpc_fixture.h"

#include "ww_rpc_call.h"
#include "ww_test.h"
#include "ww_trainer_stubs.h"

#include <stdio.h>
#include <stdlib.h>

/* The runtime hands a handler the service it registered: the fixture's
 * first member, so the handler finds its server from it. */
static fxg_server_t *server_of(Trainings__TrainingsService_Service *svc) {
    return (fxg_server_t *)svc;
}

static void get_training(Trainings__TrainingsService_Service *svc,
                         const Trainings__GetTrainingRequest *in,
                         Trainings__Training_Closure done, void *closure_data) {
    atomic_fetch_add(&server_of(svc)->handler_runs, 1);
    Trainings__Training out = TRAININGS__TRAINING__INIT;
    out.training_uuid = in->training_uuid;
    out.user_id = (char *)ww_rpc_call_identity(closure_data);
    done(&out, closure_data);
}

/* The methods no case calls: one body, each method's own types. */
#define FXG_NOT_SERVED(name, Request, Closure)                                 \
    static void name(Trainings__TrainingsService_Service *svc,                 \
                     const Request *in, Closure done, void *closure_data) {    \
        (void)svc, (void)in, (void)done;                                       \
        ww_rpc_call_fail(closure_data, WW_ERR_FAILED_PRECONDITION,             \
                         "not served by this fixture");                        \
    }
FXG_NOT_SERVED(schedule_training, Trainings__ScheduleTrainingRequest,
               Trainings__ScheduleTrainingResponse_Closure)
FXG_NOT_SERVED(cancel_training, Trainings__CancelTrainingRequest,
               Trainings__CancelTrainingResponse_Closure)

/* The hook without a verifier: everyone passes; whether a token reached the
 * server at all is what token_is_never_sent_over_plaintext looks at. */
static ww_code_t record_only(void *ctx, const char *method,
                             const char *authorization, ww_rpc_caller_t *caller,
                             ww_err_t *err) {
    (void)method, (void)err, (void)caller;
    if (authorization)
        atomic_store(&((fxg_server_t *)ctx)->saw_authorization, 1);
    return WW_OK;
}

/* The verifier as the runtime's hook: the caller's identity (iss + sub). */
static ww_code_t verify(void *ctx, const char *method,
                        const char *authorization, ww_rpc_caller_t *caller,
                        ww_err_t *err) {
    (void)method;
    ww_auth_caller_t c;
    ww_code_t rc = ww_auth_verifier_check(ctx, authorization, &c, err);
    if (rc == WW_OK)
        snprintf(caller->identity, sizeof caller->identity, "%s",
                 c.claims.identity);
    return rc;
}

fxg_server_t *fxg_server_start(grpc_server_credentials *creds,
                               ww_auth_verifier_t *verifier) {
    fxg_server_t *fs = calloc(1, sizeof *fs);
    WW_ASSERT_MSG(fs, "out of memory");
    fs->service = (Trainings__TrainingsService_Service){
        TRAININGS__TRAININGS_SERVICE__BASE_INIT,
        .schedule_training = schedule_training,
        .cancel_training = cancel_training, .get_training = get_training};
    /* The wiring of ww_host_security_server_apply, without roles. */
    ww_rpc_server_config_t cfg = {.listen_addr = "127.0.0.1:0",
                                  .credentials = creds,
                                  .authenticate =
                                      verifier ? verify : record_only,
                                  .auth_ctx = verifier ? (void *)verifier : fs};
    ww_err_t err = {0};
    ww_code_t rc = ww_rpc_server_new(&cfg, &fs->server, &err);
    if (rc == WW_OK)
        rc = ww_rpc_server_add_service(fs->server, &fs->service.base, &err);
    if (rc == WW_OK) rc = ww_rpc_server_start(fs->server, &err);
    if (creds) grpc_server_credentials_release(creds); /* start has bound */
    if (rc != WW_OK) {
        ww_rpc_server_destroy(fs->server);
        free(fs);
        WW_ASSERT_MSG(0, "server: %s", err.msg);
    }
    fs->port = ww_rpc_server_port(fs->server);
    return fs;
}

void fxg_server_stop(fxg_server_t *fs) {
    ww_rpc_server_shutdown(fs->server, 1000); /* calls answered by now */
    ww_rpc_server_destroy(fs->server);
    free(fs);
}

ww_rpc_client_t *fxg_client(grpc_channel_credentials *chan_creds,
                            grpc_call_credentials *call_creds, int port) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    ww_rpc_client_config_t cfg = {.target = target,
                                  .channel_credentials = chan_creds,
                                  .call_credentials = call_creds};
    ww_rpc_client_t *c = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_rpc_client_new(&cfg, &c, &err) == WW_OK, "%s", err.msg);
    return c;
}

fxg_result_t fxg_call(ww_rpc_client_t *c, int deadline_ms) {
    Trainings__GetTrainingRequest req = TRAININGS__GET_TRAINING_REQUEST__INIT;
    req.training_uuid = "ping";
    Trainings__Training *resp = NULL;
    int status = GRPC_STATUS_UNKNOWN;
    ww_rpc_call_options_t o = {.timeout_ms = deadline_ms,
                               .grpc_status = &status};
    ww_err_t err = {0};
    fxg_result_t r = {0};
    int64_t t0 = ww_test_now_ms();
    ww_code_t rc =
        ww_trainer_stubs_trainings_get_training(c, &req, &resp, &o, &err);
    r.took_ms = ww_test_now_ms() - t0;
    r.status = (grpc_status_code)status;
    if (rc == WW_OK) {
        snprintf(r.identity, sizeof r.identity, "%s", resp->user_id);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    } else {
        snprintf(r.details, sizeof r.details, "%s", err.msg);
        /* OK on the wire with an unusable reply is no success either. */
        if (r.status == GRPC_STATUS_OK) r.status = GRPC_STATUS_UNKNOWN;
    }
    return r;
}

fxg_result_t fxg_call_once(grpc_channel_credentials *chan_creds,
                           grpc_call_credentials *call_creds, int port,
                           int deadline_ms) {
    ww_rpc_client_t *c = fxg_client(chan_creds, call_creds, port);
    fxg_result_t r = fxg_call(c, deadline_ms);
    ww_rpc_client_destroy(c);
    return r;
}
