/* The trainer service: trainer.TrainerService, trainings.TrainingsService
 * and health, over the in-memory trainer domain; its Kafka topics are
 * checked at start (ww_backbone.h). WW_FIXTURES=1 loads the
 * demo hours; WW_TRAINER_CALLERS lists who may cancel as the trainer. See
 * ww_rpc_serve.h for the rest of the environment. */
#include "ww_backbone.h"
#include "ww_env.h"
#include "ww_log.h"
#include "ww_rpc_serve.h"
#include "ww_rpc_server.h"
#include "ww_trainer_grpc.h"

/* WW_TRAINER_CALLERS decides who cancels as the trainer, once
 * authentication gives calls an identity. */
static ww_code_t configure(void *ctx, bool authenticated,
                           const ww_auth_config_t *auth, ww_err_t *err) {
    (void)err;
    ww_trainer_grpc_set_trainer_callers(
        ctx, authenticated, (const char *const *)auth->trainer_callers);
    return WW_OK;
}

int main(void) {
    ww_rpc_server_block_signals();
    ww_err_t err;
    /* The topics are checked before serving: a cluster with a different
     * partition count must stop the service, not surface later. */
    ww_backbone_t *backbone;
    if (ww_backbone_open("trainer", &backbone, &err) != WW_OK) {
        ww_log_error("trainer", "event=start_failed msg=\"kafka: %s\"",
                     err.msg);
        return 1;
    }
    ww_trainer_grpc_t *g;
    if (ww_trainer_grpc_new(ww_env_bool("WW_FIXTURES"), &g, &err) != WW_OK) {
        ww_log_error("trainer", "event=start_failed msg=\"%s\"", err.msg);
        ww_backbone_destroy(backbone);
        return 1;
    }
    ww_rpc_serve_config_t cfg = {
        .name = "trainer",
        .addr_env = "TRAINER_GRPC_ADDR",
        .services = {ww_trainer_grpc_trainer_service(g),
                     ww_trainer_grpc_trainings_service(g)},
        .n_services = 2,
        .configure = configure,
        .configure_ctx = g,
    };
    int rc = ww_rpc_serve_main(&cfg);
    ww_trainer_grpc_destroy(g);
    ww_backbone_destroy(backbone);
    return rc;
}
