/* ww_trainer_grpc.c - the trainer's handlers: reads from the read model,
 * writes as commands, answers once the facts are in. */
#include "ww_trainer_grpc.h"

#include "google/protobuf/empty.pb-c.h"
#include "trainer.pb-c.h"
#include "trainings.pb-c.h"
#include "ww_bus_config.h"
#include "ww_host_authz.h"
#include "ww_host_write.h"
#include "ww_rpc_call.h"
#include "ww_trainer_roster.h"

#include <stdlib.h>
#include <string.h>

struct ww_trainer_grpc {
    Trainer__TrainerService_Service trainer;
    Trainings__TrainingsService_Service trainings;
    ww_host_model_t *model;
    ww_host_commands_t *commands;
    char trainer_id[WW_TRAINER_ROSTER_ID_MAX + 1];
    int32_t partition; /* of trainer_id */
};

static ww_trainer_grpc_t *from_trainer(Trainer__TrainerService_Service *s) {
    return (ww_trainer_grpc_t *)((char *)s -
                                 offsetof(ww_trainer_grpc_t, trainer));
}

static ww_trainer_grpc_t *
from_trainings(Trainings__TrainingsService_Service *s) {
    return (ww_trainer_grpc_t *)((char *)s -
                                 offsetof(ww_trainer_grpc_t, trainings));
}

static int32_t partition_of(const ww_trainer_grpc_t *g, const char *key) {
    return ww_bus_config_partition_of(key, strlen(key),
                                      ww_host_model_partitions(g->model));
}

/* NULL when the field is missing: the domain answers "unable to parse
 * time". */
static const ww_time_t *to_time(const Google__Protobuf__Timestamp *ts,
                                ww_time_t *buf) {
    if (!ts) return NULL;
    buf->seconds = ts->seconds;
    buf->nanos = ts->nanos;
    return buf;
}

/* ------------------------------------------------------------ answers */

static void respond_update_hour(
    ww_rpc_call_t *call, ProtobufCClosure done,
    const Wildworkouts__Events__V1__CommandResult *r) {
    (void)r;
    Trainer__EmptyResponse out = TRAINER__EMPTY_RESPONSE__INIT;
    done(&out.base, call);
}

static void respond_empty(ww_rpc_call_t *call, ProtobufCClosure done,
                          const Wildworkouts__Events__V1__CommandResult *r) {
    (void)r;
    Google__Protobuf__Empty out = GOOGLE__PROTOBUF__EMPTY__INIT;
    done(&out.base, call);
}

static void respond_schedule(ww_rpc_call_t *call, ProtobufCClosure done,
                             const Wildworkouts__Events__V1__CommandResult *r) {
    (void)r;
    Trainings__ScheduleTrainingResponse out =
        TRAININGS__SCHEDULE_TRAINING_RESPONSE__INIT;
    done(&out.base, call);
}

static void respond_cancel(ww_rpc_call_t *call, ProtobufCClosure done,
                           const Wildworkouts__Events__V1__CommandResult *r) {
    Trainings__CancelTrainingResponse out =
        TRAININGS__CANCEL_TRAINING_RESPONSE__INIT;
    out.balance_refund = r->balance_refund;
    done(&out.base, call);
}

/* ---------- trainer.TrainerService ---------- */

static void is_hour_available(Trainer__TrainerService_Service *svc,
                              const Trainer__IsHourAvailableRequest *in,
                              Trainer__IsHourAvailableResponse_Closure done,
                              void *call) {
    ww_trainer_grpc_t *g = from_trainer(svc);
    ww_time_t t;
    bool available = false;
    ww_err_t err;
    const ww_shard_t *sh = ww_host_model_read(g->model, g->partition);
    ww_code_t rc = ww_trainer_is_hour_available(
        ww_trainer_roster_get(ww_shard_state_const(sh), g->trainer_id),
        to_time(in->time, &t), &available, &err);
    ww_host_model_read_end(g->model, g->partition);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Trainer__IsHourAvailableResponse out =
        TRAINER__IS_HOUR_AVAILABLE_RESPONSE__INIT;
    out.is_available = available;
    done(&out, call);
}

/* Every hour method is one ChangeHourCommand of the configured trainer. */
static void change_hour(ww_trainer_grpc_t *g, const Trainer__UpdateHourRequest *in,
                        ProtobufCClosure done, ww_rpc_call_t *call,
                        Wildworkouts__Events__V1__HourOperation op,
                        ww_host_write_respond_fn respond) {
    ww_host_write_meta_t m;
    ww_err_t err;
    if (ww_host_write_meta(call, &m, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Wildworkouts__Events__V1__ChangeHourCommand cmd =
        WILDWORKOUTS__EVENTS__V1__CHANGE_HOUR_COMMAND__INIT;
    cmd.meta = &m.meta;
    cmd.trainer_id = g->trainer_id;
    cmd.hour = in->time;
    cmd.operation = op;
    cmd.has_training_scheduled = in->has_training_scheduled;
    cmd.available = in->available;
    ww_host_write_send(g->commands, g->model, g->partition, call, done,
                       g->trainer_id, &cmd.base, m.correlation_id, respond);
}

static void update_hour(Trainer__TrainerService_Service *svc,
                        const Trainer__UpdateHourRequest *in,
                        Trainer__EmptyResponse_Closure done, void *call) {
    change_hour(from_trainer(svc), in, (ProtobufCClosure)done, call,
                WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_UPDATE,
                respond_update_hour);
}

static void schedule_hour(Trainer__TrainerService_Service *svc,
                          const Trainer__UpdateHourRequest *in,
                          Google__Protobuf__Empty_Closure done, void *call) {
    change_hour(
        from_trainer(svc), in, (ProtobufCClosure)done, call,
        WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_SCHEDULE,
        respond_empty);
}

static void cancel_hour(Trainer__TrainerService_Service *svc,
                        const Trainer__UpdateHourRequest *in,
                        Google__Protobuf__Empty_Closure done, void *call) {
    change_hour(from_trainer(svc), in, (ProtobufCClosure)done, call,
                WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_CANCEL,
                respond_empty);
}

static void make_available(Trainer__TrainerService_Service *svc,
                           const Trainer__UpdateHourRequest *in,
                           Google__Protobuf__Empty_Closure done, void *call) {
    change_hour(
        from_trainer(svc), in, (ProtobufCClosure)done, call,
        WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_MAKE_AVAILABLE,
        respond_empty);
}

static void make_unavailable(Trainer__TrainerService_Service *svc,
                             const Trainer__UpdateHourRequest *in,
                             Google__Protobuf__Empty_Closure done, void *call) {
    change_hour(
        from_trainer(svc), in, (ProtobufCClosure)done, call,
        WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_MAKE_UNAVAILABLE,
        respond_empty);
}

/* ---------- trainings.TrainingsService ---------- */

static void schedule_training(Trainings__TrainingsService_Service *svc,
                              const Trainings__ScheduleTrainingRequest *in,
                              Trainings__ScheduleTrainingResponse_Closure done,
                              void *call) {
    ww_trainer_grpc_t *g = from_trainings(svc);
    ww_host_write_meta_t m;
    ww_err_t err;
    if (ww_host_write_meta(call, &m, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Wildworkouts__Events__V1__ScheduleTrainingCommand cmd =
        WILDWORKOUTS__EVENTS__V1__SCHEDULE_TRAINING_COMMAND__INIT;
    cmd.meta = &m.meta;
    cmd.trainer_id = g->trainer_id;
    cmd.training_uuid = in->training_uuid;
    cmd.user_id = in->user_id;
    cmd.time = in->time;
    cmd.notes = in->notes;
    ww_host_write_send(g->commands, g->model, g->partition, call,
                       (ProtobufCClosure)done, g->trainer_id, &cmd.base,
                       m.correlation_id, respond_schedule);
}

/* A training as GetTraining answers it, copied out of the model so the
 * answer is serialised without holding any lock. */
typedef struct found {
    char trainer_id[WW_TRAINER_ROSTER_ID_MAX + 1];
    char uuid[WW_IDS_UUID_LEN + 1];
    char user_id[WW_IDS_USER_ID_MAX + 1];
    char notes[WW_IDS_NOTES_MAX + 1];
    int64_t hour;
    ww_trainer_training_status_t status;
    int64_t balance_refund;
} found_t;

/* Looks for the training under every trainer of every partition. */
static bool find_training(ww_trainer_grpc_t *g, const char *uuid,
                          found_t *out) {
    int n = ww_host_model_partitions(g->model);
    bool hit = false;
    for (int32_t p = 0; p < n && !hit; p++) {
        const ww_shard_t *sh = ww_host_model_read(g->model, p);
        const char *trainer;
        ww_trainer_training_view_t v;
        if (ww_trainer_roster_find_training(ww_shard_state_const(sh), uuid,
                                            &trainer, &v, NULL) == WW_OK) {
            hit = true;
            snprintf(out->trainer_id, sizeof out->trainer_id, "%s", trainer);
            snprintf(out->uuid, sizeof out->uuid, "%s", v.training_uuid);
            snprintf(out->user_id, sizeof out->user_id, "%s", v.user_id);
            snprintf(out->notes, sizeof out->notes, "%s", v.notes);
            out->hour = v.hour;
            out->status = v.status;
            out->balance_refund = v.balance_refund;
        }
        ww_host_model_read_end(g->model, p);
    }
    return hit;
}

/* A lookup that found nothing yet: asked again once the model caught up
 * with the events as of the call. */
typedef struct lookup {
    ww_trainer_grpc_t *g;
    ww_rpc_call_t *call;
    ProtobufCClosure done;
    char uuid[WW_IDS_UUID_LEN + 1];
    /* CancelTraining only */
    bool cancel;
    bool by_trainer;
    ww_host_write_meta_t meta; /* taken when the call arrived */
} lookup_t;

static void cancel_under(lookup_t *l, const char *trainer_id) {
    Wildworkouts__Events__V1__CancelTrainingCommand cmd =
        WILDWORKOUTS__EVENTS__V1__CANCEL_TRAINING_COMMAND__INIT;
    cmd.meta = &l->meta.meta;
    cmd.trainer_id = (char *)trainer_id;
    cmd.training_uuid = l->uuid;
    cmd.by_trainer = l->by_trainer;
    ww_host_write_send(l->g->commands, l->g->model,
                       partition_of(l->g, trainer_id), l->call, l->done,
                       trainer_id, &cmd.base, l->meta.correlation_id,
                       respond_cancel);
}

static void answer_training(ww_rpc_call_t *call, ProtobufCClosure done,
                            const found_t *f) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = f->hour;
    Trainings__Training out = TRAININGS__TRAINING__INIT;
    out.training_uuid = (char *)f->uuid;
    out.user_id = (char *)f->user_id;
    out.notes = (char *)f->notes;
    out.time = &ts;
    out.status = (Trainings__TrainingStatus)f->status;
    out.balance_refund = f->balance_refund;
    done(&out.base, call);
}

/* A `user` caller may see and cancel its own trainings only. */
static bool refused_as_not_owner(ww_rpc_call_t *call, const found_t *f) {
    if (ww_host_authz_may_touch(call, f->user_id)) return false;
    ww_rpc_call_fail(call, WW_ERR_PERMISSION_DENIED,
                     "training %s belongs to another user", f->uuid);
    return true;
}

static void after_catch_up(void *opaque, ww_code_t code, const ww_err_t *err) {
    lookup_t *l = opaque;
    found_t f;
    bool hit = find_training(l->g, l->uuid, &f);
    if (hit && refused_as_not_owner(l->call, &f)) {
        free(l);
        return;
    }
    /* A user's cancel goes to the owner only for a training it was seen to
     * own: the decider does not know who booked what for whom. */
    bool limited = !ww_host_authz_may_touch(l->call, NULL);
    if (l->cancel && (hit || (code == WW_OK && !limited))) {
        /* Not found even now: the owner decides (NOT_FOUND, or a booking
         * of the same moment ahead of this cancel in the log). */
        cancel_under(l, hit ? f.trainer_id : l->g->trainer_id);
    } else if (hit) {
        answer_training(l->call, l->done, &f);
    } else if (code != WW_OK) {
        ww_rpc_call_fail(l->call,
                         code == WW_ERR_DEADLINE_EXCEEDED ? code
                                                          : WW_ERR_UNAVAILABLE,
                         "training %s not found so far; the read model could "
                         "not catch up: %s",
                         l->uuid, err ? err->msg : ww_code_name(code));
    } else {
        ww_rpc_call_fail(l->call, WW_ERR_NOT_FOUND, "training %s not found",
                         l->uuid);
    }
    free(l);
}

static void look_again_later(lookup_t *l) {
    int64_t left = ww_rpc_call_remaining_ms(l->call);
    int timeout = left > 30000 ? 30000 : left < 1 ? 1 : (int)left;
    ww_err_t err;
    if (ww_host_model_when_caught_up(l->g->model, timeout, after_catch_up, l,
                                     &err) != WW_OK)
        after_catch_up(l, err.code, &err);
}

static void cancel_training(Trainings__TrainingsService_Service *svc,
                            const Trainings__CancelTrainingRequest *in,
                            Trainings__CancelTrainingResponse_Closure done,
                            void *call) {
    ww_trainer_grpc_t *g = from_trainings(svc);
    ww_err_t err;
    if (ww_ids_check_training_uuid(in->training_uuid, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    lookup_t *l = calloc(1, sizeof *l);
    if (!l) {
        ww_rpc_call_fail(call, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    *l = (lookup_t){.g = g, .call = call, .done = (ProtobufCClosure)done,
                    .cancel = true, .by_trainer = in->by_trainer};
    snprintf(l->uuid, sizeof l->uuid, "%s", in->training_uuid);
    if (ww_host_write_meta(call, &l->meta, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        free(l);
        return;
    }
    found_t f;
    if (find_training(g, l->uuid, &f)) {
        if (!refused_as_not_owner(call, &f)) cancel_under(l, f.trainer_id);
        free(l);
        return;
    }
    look_again_later(l);
}

static void get_training(Trainings__TrainingsService_Service *svc,
                         const Trainings__GetTrainingRequest *in,
                         Trainings__Training_Closure done, void *call) {
    ww_trainer_grpc_t *g = from_trainings(svc);
    ww_err_t err;
    if (ww_ids_check_training_uuid(in->training_uuid, &err) != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    found_t f;
    if (find_training(g, in->training_uuid, &f)) {
        if (!refused_as_not_owner(call, &f))
            answer_training(call, (ProtobufCClosure)done, &f);
        return;
    }
    lookup_t *l = calloc(1, sizeof *l);
    if (!l) {
        ww_rpc_call_fail(call, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    *l = (lookup_t){.g = g, .call = call, .done = (ProtobufCClosure)done};
    snprintf(l->uuid, sizeof l->uuid, "%s", in->training_uuid);
    look_again_later(l);
}

/* ---------- lifecycle ---------- */

ww_code_t ww_trainer_grpc_new(const char *trainer_id, ww_trainer_grpc_t **out,
                              ww_err_t *err) {
    *out = NULL;
    ww_code_t rc = ww_trainer_roster_check_id(trainer_id, err);
    if (rc != WW_OK) return rc;
    ww_trainer_grpc_t *g = calloc(1, sizeof *g);
    if (!g) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    g->trainer = (Trainer__TrainerService_Service){
        .base = TRAINER__TRAINER_SERVICE__BASE_INIT,
        .is_hour_available = is_hour_available,
        .update_hour = update_hour,
        .schedule_training = schedule_hour,
        .cancel_training = cancel_hour,
        .make_hour_available = make_available,
        .make_hour_unavailable = make_unavailable,
    };
    g->trainings = (Trainings__TrainingsService_Service){
        .base = TRAININGS__TRAININGS_SERVICE__BASE_INIT,
        .schedule_training = schedule_training,
        .cancel_training = cancel_training,
        .get_training = get_training,
    };
    snprintf(g->trainer_id, sizeof g->trainer_id, "%s", trainer_id);
    *out = g;
    return WW_OK;
}

void ww_trainer_grpc_attach(ww_trainer_grpc_t *g, ww_host_model_t *model,
                            ww_host_commands_t *commands) {
    g->model = model;
    g->commands = commands;
    g->partition = partition_of(g, g->trainer_id);
}

void ww_trainer_grpc_destroy(ww_trainer_grpc_t *g) { free(g); }

ProtobufCService *ww_trainer_grpc_trainer_service(ww_trainer_grpc_t *g) {
    return &g->trainer.base;
}

ProtobufCService *ww_trainer_grpc_trainings_service(ww_trainer_grpc_t *g) {
    return &g->trainings.base;
}
