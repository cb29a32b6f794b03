/* The users service: users.UsersService, wildworkouts.admin.v1.AdminService
 * and health over the Kafka backbone. Balances answer from the read model
 * of users.events; changes are commands decided by the owner of their
 * partition; the trainer's bookings and cancellations come in through the
 * translator as debits and refunds. See ww_host_serve.h and
 * ww_host_backbone.h for the environment. */
#include "ww_descriptors/users.h"
#include "ww_host_admin.h"
#include "ww_host_backbone.h"
#include "ww_host_serve.h"
#include "ww_host_service.h"
#include "ww_log.h"
#include "ww_rpc_server.h"
#include "ww_users_grpc.h"
#include "ww_users_worker.h"

typedef struct app {
    ww_users_grpc_t *grpc;
    ww_users_worker_t *worker;
    ww_host_backbone_t *backbone;
    ww_host_service_t *service;
    ww_host_admin_t *admin;
} app_t;

/* Once the server listens, NOT_SERVING: Kafka, the read model, and the
 * catch-up that starts the workers and opens the gate. */
static ww_code_t configure(void *ctx, bool authenticated,
                           const char *listen_addr, ww_host_gate_t *gate,
                           ww_err_t *err) {
    (void)authenticated;
    app_t *a = ctx;
    ww_code_t rc;
    ww_host_gate_progress(gate, "connecting to Kafka");
    if ((rc = ww_host_backbone_open("users", "trainer", listen_addr,
                                    &a->backbone, err)) ||
        (rc = ww_users_worker_new(&a->worker, err)))
        return rc;
    ww_host_service_config_t sc =
        ww_users_worker_service(a->worker, a->backbone);
    sc.gate = gate;
    if ((rc = ww_host_service_new(&sc, &a->service, err))) return rc;
    if ((rc = ww_host_admin_attach(
             a->admin, ww_host_service_model(a->service),
             ww_bus_config_instance_id(ww_host_backbone_config(a->backbone)),
             err)))
        return rc;
    ww_users_grpc_attach(a->grpc, ww_host_service_model(a->service),
                         ww_host_service_commands(a->service));
    return ww_host_service_start(a->service, err);
}

static void unconfigure(void *ctx) {
    app_t *a = ctx;
    ww_host_service_destroy(a->service);
    ww_users_worker_destroy(a->worker);
    ww_host_backbone_destroy(a->backbone);
}

int main(void) {
    ww_rpc_server_block_signals();
    app_t app = {0};
    ww_err_t err;
    if (ww_users_grpc_new(&app.grpc, &err) != WW_OK ||
        ww_host_admin_new("users", &app.admin, &err) != WW_OK) {
        ww_log_error("users", "event=start_failed msg=\"%s\"", err.msg);
        ww_users_grpc_destroy(app.grpc);
        return 1;
    }
    ww_host_serve_config_t cfg = {
        .name = "users",
        .addr_env = "USERS_GRPC_ADDR",
        .services = {ww_users_grpc_service(app.grpc),
                     ww_host_admin_service(app.admin)},
        .n_services = 2,
        .configure = configure,
        .unconfigure = unconfigure,
        .configure_ctx = &app,
        .descriptor_set = ww_descriptors_users,
        .descriptor_set_len = ww_descriptors_users_len,
    };
    int rc = ww_host_serve_main(&cfg);
    ww_host_admin_destroy(app.admin);
    ww_users_grpc_destroy(app.grpc);
    return rc;
}
