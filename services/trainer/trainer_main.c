/* The trainer service: trainer.TrainerService, trainings.TrainingsService,
 * wildworkouts.admin.v1.AdminService and health over the Kafka backbone. Reads
 * answer from the read model of trainer.events; writes are commands decided by
 * the owner of their partition; users' verdicts on debits come in through the
 * translator.
 *
 *   WW_TRAINER_ID        the trainer this instance serves (default
 *                        trainer-1): the key of its commands and facts
 * Who may call what: the role table (ww_host_authz.h) over WW_CALLERS.
 * See ww_host_serve.h and ww_host_backbone.h for the rest of the
 * environment. */
#include "ww_descriptors/trainer.h"
#include "ww_env.h"
#include "ww_host_admin.h"
#include "ww_host_backbone.h"
#include "ww_host_metrics.h"
#include "ww_host_serve.h"
#include "ww_host_service.h"
#include "ww_log.h"
#include "ww_rpc_server.h"
#include "ww_trainer_grpc.h"
#include "ww_trainer_metrics.h"
#include "ww_trainer_worker.h"

typedef struct app {
    ww_trainer_grpc_t *grpc;
    ww_trainer_worker_t *worker;
    ww_host_backbone_t *backbone;
    ww_host_service_t *service;
    ww_host_admin_t *admin;
    ww_trainer_metrics_t *metrics; /* NULL: metrics off */
} app_t;

/* Once the server listens, NOT_SERVING: Kafka, the read model, and the
 * catch-up that starts the workers and opens the gate. */
static ww_code_t configure(void *ctx, bool authenticated,
                           const char *listen_addr, ww_host_gate_t *gate,
                           ww_err_t *err) {
    app_t *a = ctx;
    (void)authenticated; /* the role table applies in both modes */
    ww_code_t rc;
    ww_host_gate_progress(gate, "connecting to Kafka");
    if ((rc = ww_host_backbone_open("trainer", "users", listen_addr,
                                    &a->backbone, err)) ||
        (rc = ww_trainer_worker_new(&a->worker, err)))
        return rc;
    ww_host_metrics_t *hm = ww_host_metrics_current();
    if (hm && (rc = ww_trainer_metrics_new(ww_host_metrics_registry(hm),
                                           &a->metrics, err)))
        return rc;
    ww_trainer_worker_set_metrics(a->worker, a->metrics);
    ww_host_service_config_t sc =
        ww_trainer_worker_service(a->worker, a->backbone);
    sc.gate = gate;
    if ((rc = ww_host_service_new(&sc, &a->service, err))) return rc;
    if (a->metrics && (rc = ww_trainer_metrics_attach(
                           a->metrics, ww_host_service_model(a->service), err)))
        return rc;
    if ((rc = ww_host_admin_attach(
             a->admin, ww_host_service_model(a->service),
             ww_bus_config_instance_id(ww_host_backbone_config(a->backbone)),
             err)))
        return rc;
    ww_trainer_grpc_attach(a->grpc, ww_host_service_model(a->service),
                           ww_host_service_commands(a->service));
    return ww_host_service_start(a->service, err);
}

static void unconfigure(void *ctx) {
    app_t *a = ctx;
    ww_trainer_metrics_detach(a->metrics); /* before the model goes */
    ww_host_service_destroy(a->service);
    ww_trainer_worker_destroy(a->worker);
    ww_trainer_metrics_destroy(a->metrics);
    ww_host_backbone_destroy(a->backbone);
}

int main(void) {
    ww_rpc_server_block_signals();
    app_t app = {0};
    ww_err_t err;
    const char *trainer_id = ww_env_str("WW_TRAINER_ID", WW_TRAINER_DEFAULT_ID);
    if (ww_trainer_grpc_new(trainer_id, &app.grpc, &err) != WW_OK) {
        ww_log_error("trainer", "event=start_failed msg=\"WW_TRAINER_ID: %s\"",
                     err.msg);
        return 1;
    }
    if (ww_host_admin_new("trainer", &app.admin, &err) != WW_OK) {
        ww_log_error("trainer", "event=start_failed msg=\"%s\"", err.msg);
        ww_trainer_grpc_destroy(app.grpc);
        return 1;
    }
    ww_host_serve_config_t cfg = {
        .name = "trainer",
        .addr_env = "TRAINER_GRPC_ADDR",
        .services = {ww_trainer_grpc_trainer_service(app.grpc),
                     ww_trainer_grpc_trainings_service(app.grpc),
                     ww_host_admin_service(app.admin)},
        .n_services = 3,
        .configure = configure,
        .unconfigure = unconfigure,
        .configure_ctx = &app,
        .descriptor_set = ww_descriptors_trainer,
        .descriptor_set_len = ww_descriptors_trainer_len,
    };
    int rc = ww_host_serve_main(&cfg);
    ww_host_admin_destroy(app.admin);
    ww_trainer_grpc_destroy(app.grpc);
    return rc;
}
