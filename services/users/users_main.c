/* The users service: users.UsersService and health, over the in-memory
 * users domain; its Kafka topics are checked at start (ww_host_backbone.h).
 * WW_FIXTURES=1 loads the demo users. See ww_host_serve.h for
 * the environment. */
#include "ww_host_backbone.h"
#include "ww_env.h"
#include "ww_log.h"
#include "ww_host_serve.h"
#include "ww_rpc_server.h"
#include "ww_users_grpc.h"

int main(void) {
    ww_rpc_server_block_signals();
    ww_err_t err;
    /* The topics are checked before serving: a cluster with a different
     * partition count must stop the service, not surface later. */
    ww_host_backbone_t *backbone;
    if (ww_host_backbone_open("users", &backbone, &err) != WW_OK) {
        ww_log_error("users", "event=start_failed msg=\"kafka: %s\"", err.msg);
        return 1;
    }
    ww_users_grpc_t *g;
    if (ww_users_grpc_new(ww_env_bool("WW_FIXTURES"), &g, &err) != WW_OK) {
        ww_log_error("users", "event=start_failed msg=\"%s\"", err.msg);
        ww_host_backbone_destroy(backbone);
        return 1;
    }
    ww_host_serve_config_t cfg = {
        .name = "users",
        .addr_env = "USERS_GRPC_ADDR",
        .services = {ww_users_grpc_service(g)},
        .n_services = 1,
    };
    int rc = ww_host_serve_main(&cfg);
    ww_users_grpc_destroy(g);
    ww_host_backbone_destroy(backbone);
    return rc;
}
