/* ww_host_authz.c - the role table and the authorize hook over it. */
#include "ww_host_authz.h"

#include <stdio.h>
#include <string.h>

#define NO    WW_HOST_AUTHZ_NO
#define ANY   WW_HOST_AUTHZ_ANY
#define OWN   WW_HOST_AUTHZ_OWN_FIELD
#define FLAG  WW_HOST_AUTHZ_FLAG
#define OWN_T WW_HOST_AUTHZ_OWN_TRAINING

/* One row per RPC; docs/security.md shows the same table. */
static const ww_host_authz_row_t table[] = {
    /* method                                    service trainer user */
    {"/trainer.TrainerService/IsHourAvailable", ANY, ANY, ANY, NULL},
    {"/trainer.TrainerService/UpdateHour", ANY, ANY, NO, NULL},
    {"/trainer.TrainerService/ScheduleTraining", ANY, ANY, NO, NULL},
    {"/trainer.TrainerService/CancelTraining", ANY, ANY, NO, NULL},
    {"/trainer.TrainerService/MakeHourAvailable", ANY, ANY, NO, NULL},
    {"/trainer.TrainerService/MakeHourUnavailable", ANY, ANY, NO, NULL},
    {"/trainings.TrainingsService/ScheduleTraining", ANY, NO, OWN, "user_id"},
    {"/trainings.TrainingsService/CancelTraining", ANY, FLAG, OWN_T,
     "by_trainer"},
    {"/trainings.TrainingsService/GetTraining", ANY, ANY, OWN_T, NULL},
    {"/users.UsersService/GetTrainingBalance", ANY, NO, OWN, "user_id"},
    {"/users.UsersService/UpdateTrainingBalance", ANY, NO, NO, NULL},
    {"/wildworkouts.admin.v1.AdminService/GetDigest", ANY, NO, NO, NULL},
};

const ww_host_authz_row_t *ww_host_authz_table(size_t *n) {
    *n = sizeof table / sizeof *table;
    return table;
}

const ww_host_authz_row_t *ww_host_authz_row(const char *method) {
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (!strcmp(table[i].method, method)) return &table[i];
    return NULL;
}

ww_host_authz_rule_t ww_host_authz_rule(const ww_host_authz_row_t *row,
                                        ww_auth_role_t role) {
    switch (role) {
    case WW_AUTH_ROLE_SERVICE:
        return row->service;
    case WW_AUTH_ROLE_TRAINER:
        return row->trainer;
    case WW_AUTH_ROLE_USER:
        return row->user;
    default:
        return NO;
    }
}

const char *ww_host_authz_cell(const ww_host_authz_row_t *row,
                               ww_host_authz_rule_t rule) {
    static _Thread_local char buf[96];
    switch (rule) {
    case NO:
        return "no";
    case ANY:
        return "yes";
    case OWN:
        snprintf(buf, sizeof buf, "own `%s`", row->field);
        return buf;
    case FLAG:
        snprintf(buf, sizeof buf, "only `%s` = true", row->field);
        return buf;
    case OWN_T:
        if (!row->field) return "own trainings";
        snprintf(buf, sizeof buf, "own trainings, `%s` = false", row->field);
        return buf;
    }
    return "no";
}

/* The request field `name`, or NULL when the message has no such field of
 * the wanted type. */
static const void *field_of(const ProtobufCMessage *m, const char *name,
                            ProtobufCType type) {
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f || f->type != type || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return (const char *)m + f->offset;
}

static ww_code_t deny(ww_err_t *err, const ww_rpc_caller_t *c,
                      const char *method, const char *why) {
    return ww_err_set(err, WW_ERR_PERMISSION_DENIED,
                      "caller %s (role %s) may not call %s%s",
                      c->identity[0] ? c->identity : "(local)",
                      c->role[0] ? c->role : "none", method, why);
}

ww_code_t ww_host_authz_authorize(void *ctx, const ww_rpc_call_t *call,
                                  const ProtobufCMessage *req, ww_err_t *err) {
    (void)ctx;
    const ww_rpc_caller_t *c = ww_rpc_call_caller(call);
    const char *method = ww_rpc_call_method(call);
    const ww_host_authz_row_t *row = ww_host_authz_row(method);
    if (!row) return deny(err, c, method, ": the method has no role row");
    ww_auth_role_t role = ww_auth_role_parse(c->role);
    ww_host_authz_rule_t rule = ww_host_authz_rule(row, role);
    switch (rule) {
    case NO:
        return deny(err, c, method, "");
    case ANY:
        return WW_OK;
    case OWN: {
        const char *const *v =
            field_of(req, row->field, PROTOBUF_C_TYPE_STRING);
        if (v && *v && c->user_id[0] && !strcmp(*v, c->user_id)) return WW_OK;
        return ww_err_set(err, WW_ERR_PERMISSION_DENIED,
                          "caller %s (role user) acts for user \"%s\" only, "
                          "not for %s \"%.128s\"",
                          c->identity, c->user_id, row->field,
                          v && *v ? *v : "");
    }
    case FLAG: {
        const protobuf_c_boolean *b =
            field_of(req, row->field, PROTOBUF_C_TYPE_BOOL);
        if (b && *b) return WW_OK;
        return ww_err_set(err, WW_ERR_PERMISSION_DENIED,
                          "caller %s (role %s) may call %s only with %s = "
                          "true",
                          c->identity, c->role, method, row->field);
    }
    case OWN_T: {
        if (!row->field) return WW_OK;
        const protobuf_c_boolean *b =
            field_of(req, row->field, PROTOBUF_C_TYPE_BOOL);
        if (b && !*b) return WW_OK;
        return ww_err_set(err, WW_ERR_PERMISSION_DENIED,
                          "caller %s (role %s) may not set %s = true",
                          c->identity, c->role, row->field);
    }
    }
    return deny(err, c, method, "");
}

ww_code_t ww_host_authz_check_service(const ProtobufCService *service,
                                      ww_err_t *err) {
    const ProtobufCServiceDescriptor *d = service->descriptor;
    for (unsigned i = 0; i < d->n_methods; i++) {
        char path[200];
        snprintf(path, sizeof path, "/%s/%s", d->name, d->methods[i].name);
        if (!ww_host_authz_row(path))
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "%s has no row in the role table "
                              "(services/host/ww_host_authz.c): it would be "
                              "refused to everyone",
                              path);
    }
    return WW_OK;
}

bool ww_host_authz_may_touch(const ww_rpc_call_t *call,
                             const char *owner_user_id) {
    const ww_rpc_caller_t *c = ww_rpc_call_caller(call);
    switch (ww_auth_role_parse(c->role)) {
    case WW_AUTH_ROLE_SERVICE:
    case WW_AUTH_ROLE_TRAINER:
        return true;
    case WW_AUTH_ROLE_USER:
        return owner_user_id && c->user_id[0] &&
               !strcmp(owner_user_id, c->user_id);
    default:
        return false;
    }
}
