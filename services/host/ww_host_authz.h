/*
 * ww_host_authz.h - authorization: the role table, one row per RPC of every
 * service the binaries serve (trainer.TrainerService,
 * trainings.TrainingsService, users.UsersService,
 * wildworkouts.admin.v1.AdminService; grpc.health.v1.Health stays open and
 * has none), and the runtime's authorize hook that applies it.
 *
 * Each row says, per role (ww_auth_callers.h: service, trainer, user), how
 * a call is judged, on the decoded request, before the handler runs:
 *
 *   NO            refused (PERMISSION_DENIED)
 *   ANY           any request
 *   OWN_FIELD     the request's string `field` must equal the caller's
 *                 user id (ww_rpc_caller_t.user_id: the token's sub, or
 *                 WW_USER_ID_CLAIM)
 *   FLAG          the request's bool `field` must be true (a trainer
 *                 cancels only as the trainer, by_trainer = true)
 *   OWN_TRAINING  the request's bool `field` (when set) must be false, and
 *                 the handler refuses a training of another user
 *                 (ww_host_authz_may_touch), the only check that needs
 *                 state: a training's user never changes once booked, so
 *                 the read model answers it for good
 *
 * A method without a row is refused for everyone (fail closed), and
 * ww_host_authz_check_service stops a start that would serve one.
 * docs/security.md shows this table (ww_host_authz_cell renders its
 * cells; tests/unit/test_host_authz compares the two).
 *
 * Local mode (no tokens) runs the same hook: ww_host_security makes every
 * local caller a `service`.
 *
 * Threads: everything may run on any thread; the table is constant.
 */
#ifndef WW_HOST_AUTHZ_H
#define WW_HOST_AUTHZ_H

#include "ww_auth_callers.h"
#include "ww_err.h"
#include "ww_rpc_call.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum ww_host_authz_rule {
    WW_HOST_AUTHZ_NO = 0,
    WW_HOST_AUTHZ_ANY,
    WW_HOST_AUTHZ_OWN_FIELD,
    WW_HOST_AUTHZ_FLAG,
    WW_HOST_AUTHZ_OWN_TRAINING,
} ww_host_authz_rule_t;

typedef struct ww_host_authz_row {
    const char *method; /* "/users.UsersService/GetTrainingBalance" */
    ww_host_authz_rule_t service, trainer, user;
    const char *field; /* the request field the rules read, or NULL */
} ww_host_authz_row_t;

/* The table (static) and its length. */
const ww_host_authz_row_t *ww_host_authz_table(size_t *n);

/* The row of `method`, NULL when there is none. */
const ww_host_authz_row_t *ww_host_authz_row(const char *method);

/* The rule of `role` in `row` (NO for ROLE_NONE). */
ww_host_authz_rule_t ww_host_authz_rule(const ww_host_authz_row_t *row,
                                        ww_auth_role_t role);

/* A cell as docs/security.md writes it: "yes", "no", "own `user_id`",
 * "only `by_trainer` = true", "own trainings" (plus ", `by_trainer` =
 * false" when the rule reads the flag). Static string. */
const char *ww_host_authz_cell(const ww_host_authz_row_t *row,
                               ww_host_authz_rule_t rule);

/* The runtime's authorize hook (ww_rpc_server.h; ctx unused). */
ww_code_t ww_host_authz_authorize(void *ctx, const ww_rpc_call_t *call,
                                  const ProtobufCMessage *request,
                                  ww_err_t *err);

/* INVALID_ARGUMENT naming the first method of `service` without a row. */
ww_code_t ww_host_authz_check_service(const ProtobufCService *service,
                                      ww_err_t *err);

/* For OWN_TRAINING rows, in the handler: whether the call's caller may see
 * or change a training booked by `owner_user_id`. False only for a `user`
 * other than the owner. */
bool ww_host_authz_may_touch(const ww_rpc_call_t *call,
                             const char *owner_user_id);

#endif
