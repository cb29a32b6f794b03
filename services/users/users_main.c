/* The users service: users.UsersService and health, over the in-memory
 * users domain. WW_FIXTURES=1 loads the demo users. See ww_rpc_serve.h for
 * the environment. */
#include "ww_env.h"
#include "ww_log.h"
#include "ww_rpc_serve.h"
#include "ww_rpc_server.h"
#include "ww_users_grpc.h"

int main(void) {
    ww_rpc_server_block_signals();
    ww_err_t err;
    ww_users_grpc_t *g;
    if (ww_users_grpc_new(ww_env_bool("WW_FIXTURES"), &g, &err) != WW_OK) {
        ww_log_error("users", "event=start_failed msg=\"%s\"", err.msg);
        return 1;
    }
    ww_rpc_serve_config_t cfg = {
        .name = "users",
        .addr_env = "USERS_GRPC_ADDR",
        .services = {ww_users_grpc_service(g)},
        .n_services = 1,
    };
    int rc = ww_rpc_serve_main(&cfg);
    ww_users_grpc_destroy(g);
    return rc;
}
