/* ww_users_grpc.c - users' handlers: balances from the read model,
 * changes as commands. */
#include "ww_users_grpc.h"

#include <stdlib.h>
#include <string.h>

#include "users.pb-c.h"
#include "ww_bus_config.h"
#include "ww_host_write.h"
#include "ww_rpc_call.h"
#include "ww_users_domain.h"

struct ww_users_grpc {
    Users__UsersService_Service service; /* first: handlers cast back */
    ww_host_model_t *model;
    ww_host_commands_t *commands;
};

static int32_t partition_of(const ww_users_grpc_t *g, const char *user_id) {
    return ww_bus_config_partition_of(user_id, strlen(user_id),
                                      ww_host_model_partitions(g->model));
}

static void get_training_balance(Users__UsersService_Service *svc,
                                 const Users__GetTrainingBalanceRequest *in,
                                 Users__GetTrainingBalanceResponse_Closure done,
                                 void *call) {
    ww_users_grpc_t *g = (ww_users_grpc_t *)svc;
    ww_err_t err;
    if (ww_ids_check_user_id(in->user_id, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    int32_t p = partition_of(g, in->user_id);
    int64_t amount = 0;
    const ww_shard_t *sh = ww_host_model_read(g->model, p);
    ww_code_t rc = ww_users_get_balance(ww_shard_state_const(sh), in->user_id,
                                        &amount, &err);
    ww_host_model_read_end(g->model, p);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Users__GetTrainingBalanceResponse out =
        USERS__GET_TRAINING_BALANCE_RESPONSE__INIT;
    out.amount = amount;
    done(&out, call);
}

static void respond_update(ww_rpc_call_t *call, ProtobufCClosure done,
                           const Wildworkouts__Events__V1__CommandResult *r) {
    (void)r;
    Users__EmptyResponse out = USERS__EMPTY_RESPONSE__INIT;
    done(&out.base, call);
}

static void
update_training_balance(Users__UsersService_Service *svc,
                        const Users__UpdateTrainingBalanceRequest *in,
                        Users__EmptyResponse_Closure done, void *call) {
    ww_users_grpc_t *g = (ww_users_grpc_t *)svc;
    ww_err_t err;
    /* The key must be a valid id to choose a partition; the owner checks
     * the rest (never below 0, no overflow). */
    if (ww_ids_check_user_id(in->user_id, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    ww_host_write_meta_t m;
    if (ww_host_write_meta(call, &m, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Wildworkouts__Events__V1__ChangeBalanceCommand cmd =
        WILDWORKOUTS__EVENTS__V1__CHANGE_BALANCE_COMMAND__INIT;
    cmd.meta = &m.meta;
    cmd.user_id = in->user_id;
    cmd.amount_change = in->amount_change;
    ww_host_write_send(g->commands, g->model, partition_of(g, in->user_id),
                       call, (ProtobufCClosure)done, in->user_id, &cmd.base,
                       m.correlation_id, respond_update);
}

ww_code_t ww_users_grpc_new(ww_users_grpc_t **out, ww_err_t *err) {
    *out = NULL;
    ww_users_grpc_t *g = calloc(1, sizeof *g);
    if (!g) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    g->service = (Users__UsersService_Service){
        .base = USERS__USERS_SERVICE__BASE_INIT,
        .get_training_balance = get_training_balance,
        .update_training_balance = update_training_balance,
    };
    *out = g;
    return WW_OK;
}

void ww_users_grpc_attach(ww_users_grpc_t *g, ww_host_model_t *model,
                          ww_host_commands_t *commands) {
    g->model = model;
    g->commands = commands;
}

void ww_users_grpc_destroy(ww_users_grpc_t *g) { free(g); }

ProtobufCService *ww_users_grpc_service(ww_users_grpc_t *g) {
    return &g->service.base;
}
