/* The trainer service: trainer.TrainerService, trainings.TrainingsService
 * and health, over the in-memory trainer domain; its Kafka topics are
 * checked at start (ww_host_backbone.h). WW_FIXTURES=1 loads the
 * demo hours; WW_TRAINER_CALLERS lists who may cancel as the trainer. See
 * ww_host_serve.h for the rest of the environment. */
#include "ww_auth_strlist.h"
#include "ww_env.h"
#include "ww_host_backbone.h"
#include "ww_log.h"
#include "ww_host_serve.h"
#include "ww_rpc_server.h"
#include "ww_trainer_grpc.h"

/* WW_TRAINER_CALLERS decides who cancels as the trainer, once
 * authentication gives calls an identity. The list lives until main
 * returns. */
static char **trainer_callers;

static ww_code_t configure(void *ctx, bool authenticated, ww_err_t *err) {
    int oom = 0;
    trainer_callers =
        ww_auth_strlist_parse(ww_env_str("WW_TRAINER_CALLERS", NULL), &oom);
    if (oom) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    ww_trainer_grpc_set_trainer_callers(
        ctx, authenticated, (const char *const *)trainer_callers);
    return WW_OK;
}

int main(void) {
    ww_rpc_server_block_signals();
    ww_err_t err;
    /* The topics are checked before serving: a cluster with a different
     * partition count must stop the service, not surface later. */
    ww_host_backbone_t *backbone;
    if (ww_host_backbone_open("trainer", &backbone, &err) != WW_OK) {
        ww_log_error("trainer", "event=start_failed msg=\"kafka: %s\"",
                     err.msg);
        return 1;
    }
    ww_trainer_grpc_t *g;
    if (ww_trainer_grpc_new(ww_env_bool("WW_FIXTURES"), &g, &err) != WW_OK) {
        ww_log_error("trainer", "event=start_failed msg=\"%s\"", err.msg);
        ww_host_backbone_destroy(backbone);
        return 1;
    }
    ww_host_serve_config_t cfg = {
        .name = "trainer",
        .addr_env = "TRAINER_GRPC_ADDR",
        .services = {ww_trainer_grpc_trainer_service(g),
                     ww_trainer_grpc_trainings_service(g)},
        .n_services = 2,
        .configure = configure,
        .configure_ctx = g,
    };
    int rc = ww_host_serve_main(&cfg);
    ww_trainer_grpc_destroy(g);
    ww_auth_strlist_free(trainer_callers);
    ww_host_backbone_destroy(backbone);
    return rc;
}
