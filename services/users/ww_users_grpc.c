/* Message <-> domain conversion for users.UsersService. */
#include "ww_users_grpc.h"

#include "users.pb-c.h"
#include "ww_rpc_call.h"
#include "ww_users_domain.h"

#include <pthread.h>
#include <stdlib.h>

struct ww_users_grpc {
    Users__UsersService_Service service; /* first: handlers cast back */
    pthread_rwlock_t lock;
    ww_users_state_t *state;
};

static void get_training_balance(Users__UsersService_Service *svc,
                                 const Users__GetTrainingBalanceRequest *in,
                                 Users__GetTrainingBalanceResponse_Closure done,
                                 void *call) {
    ww_users_grpc_t *g = (ww_users_grpc_t *)svc;
    int64_t amount = 0;
    ww_err_t err;
    pthread_rwlock_rdlock(&g->lock);
    ww_code_t rc = ww_users_get_balance(g->state, in->user_id, &amount, &err);
    pthread_rwlock_unlock(&g->lock);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Users__GetTrainingBalanceResponse out =
        USERS__GET_TRAINING_BALANCE_RESPONSE__INIT;
    out.amount = amount;
    done(&out, call);
}

static void
update_training_balance(Users__UsersService_Service *svc,
                        const Users__UpdateTrainingBalanceRequest *in,
                        Users__EmptyResponse_Closure done, void *call) {
    ww_users_grpc_t *g = (ww_users_grpc_t *)svc;
    ww_err_t err;
    pthread_rwlock_wrlock(&g->lock);
    ww_code_t rc =
        ww_users_update_balance(g->state, in->user_id, in->amount_change, &err);
    pthread_rwlock_unlock(&g->lock);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Users__EmptyResponse out = USERS__EMPTY_RESPONSE__INIT;
    done(&out, call);
}

ww_code_t ww_users_grpc_new(bool fixtures, ww_users_grpc_t **out,
                            ww_err_t *err) {
    *out = NULL;
    ww_users_grpc_t *g = calloc(1, sizeof *g);
    if (!g) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    Users__UsersService_Service service = {USERS__USERS_SERVICE__BASE_INIT,
                                           get_training_balance,
                                           update_training_balance};
    g->service = service;
    g->state = ww_users_state_new();
    if (!g->state) {
        free(g);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_rwlock_init(&g->lock, NULL);
    if (fixtures) {
        ww_code_t rc = ww_users_fixtures_fill(g->state, err);
        if (rc != WW_OK) {
            ww_users_grpc_destroy(g);
            return rc;
        }
    }
    *out = g;
    return WW_OK;
}

void ww_users_grpc_destroy(ww_users_grpc_t *g) {
    if (!g) return;
    ww_users_state_destroy(g->state);
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

ProtobufCService *ww_users_grpc_service(ww_users_grpc_t *g) {
    return &g->service.base;
}
