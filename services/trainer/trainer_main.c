/* The trainer service: trainer.TrainerService, trainings.TrainingsService
 * and health, over the in-memory trainer domain. WW_FIXTURES=1 loads the
 * demo hours. See ww_rpc_serve.h for the environment. */
#include "ww_env.h"
#include "ww_log.h"
#include "ww_rpc_serve.h"
#include "ww_rpc_server.h"
#include "ww_trainer_grpc.h"

int main(void) {
    ww_rpc_server_block_signals();
    ww_err_t err;
    ww_trainer_grpc_t *g;
    if (ww_trainer_grpc_new(ww_env_bool("WW_FIXTURES"), &g, &err) != WW_OK) {
        ww_log_error("trainer", "event=start_failed msg=\"%s\"", err.msg);
        return 1;
    }
    ww_rpc_serve_config_t cfg = {
        .name = "trainer",
        .addr_env = "TRAINER_GRPC_ADDR",
        .services = {ww_trainer_grpc_trainer_service(g),
                     ww_trainer_grpc_trainings_service(g)},
        .n_services = 2,
    };
    int rc = ww_rpc_serve_main(&cfg);
    ww_trainer_grpc_destroy(g);
    return rc;
}
