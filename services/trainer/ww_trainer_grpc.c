/* Message <-> domain conversion for the trainer's two services. */
#include "ww_trainer_grpc.h"

#include "google/protobuf/empty.pb-c.h"
#include "trainer.pb-c.h"
#include "trainings.pb-c.h"
#include "ww_rpc_call.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ww_trainer_grpc {
    Trainer__TrainerService_Service trainer;
    Trainings__TrainingsService_Service trainings;
    pthread_rwlock_t lock;
    ww_trainer_state_t *state;
    bool enforce_trainer_callers;
    const char *const *trainer_callers;
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

/* NULL when the field is missing: the domain answers "unable to parse
 * time". */
static const ww_time_t *to_time(const Google__Protobuf__Timestamp *ts,
                                ww_time_t *buf) {
    if (!ts) return NULL;
    buf->seconds = ts->seconds;
    buf->nanos = ts->nanos;
    return buf;
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
    pthread_rwlock_rdlock(&g->lock);
    ww_code_t rc = ww_trainer_is_hour_available(g->state, to_time(in->time, &t),
                                                &available, &err);
    pthread_rwlock_unlock(&g->lock);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Trainer__IsHourAvailableResponse out =
        TRAINER__IS_HOUR_AVAILABLE_RESPONSE__INIT;
    out.is_available = available;
    done(&out, call);
}

static void update_hour(Trainer__TrainerService_Service *svc,
                        const Trainer__UpdateHourRequest *in,
                        Trainer__EmptyResponse_Closure done, void *call) {
    ww_trainer_grpc_t *g = from_trainer(svc);
    ww_time_t t;
    ww_err_t err;
    pthread_rwlock_wrlock(&g->lock);
    ww_code_t rc =
        ww_trainer_update_hour(g->state, to_time(in->time, &t),
                               in->has_training_scheduled, in->available, &err);
    pthread_rwlock_unlock(&g->lock);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Trainer__EmptyResponse out = TRAINER__EMPTY_RESPONSE__INIT;
    done(&out, call);
}

typedef ww_code_t (*hour_op_fn)(ww_trainer_state_t *, const ww_time_t *,
                                ww_err_t *);

/* The later original's methods: UpdateHourRequest.time only. */
static void hour_op(Trainer__TrainerService_Service *svc,
                    const Trainer__UpdateHourRequest *in,
                    Google__Protobuf__Empty_Closure done, void *call,
                    hour_op_fn op) {
    ww_trainer_grpc_t *g = from_trainer(svc);
    ww_time_t t;
    ww_err_t err;
    pthread_rwlock_wrlock(&g->lock);
    ww_code_t rc = op(g->state, to_time(in->time, &t), &err);
    pthread_rwlock_unlock(&g->lock);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Google__Protobuf__Empty out = GOOGLE__PROTOBUF__EMPTY__INIT;
    done(&out, call);
}

static void schedule_hour(Trainer__TrainerService_Service *svc,
                          const Trainer__UpdateHourRequest *in,
                          Google__Protobuf__Empty_Closure done, void *call) {
    hour_op(svc, in, done, call, ww_trainer_schedule_hour);
}

static void cancel_hour(Trainer__TrainerService_Service *svc,
                        const Trainer__UpdateHourRequest *in,
                        Google__Protobuf__Empty_Closure done, void *call) {
    hour_op(svc, in, done, call, ww_trainer_cancel_hour);
}

static void make_available(Trainer__TrainerService_Service *svc,
                           const Trainer__UpdateHourRequest *in,
                           Google__Protobuf__Empty_Closure done, void *call) {
    hour_op(svc, in, done, call, ww_trainer_make_hour_available);
}

static void make_unavailable(Trainer__TrainerService_Service *svc,
                             const Trainer__UpdateHourRequest *in,
                             Google__Protobuf__Empty_Closure done, void *call) {
    hour_op(svc, in, done, call, ww_trainer_make_hour_unavailable);
}

/* ---------- trainings.TrainingsService ---------- */

static void schedule_training(Trainings__TrainingsService_Service *svc,
                              const Trainings__ScheduleTrainingRequest *in,
                              Trainings__ScheduleTrainingResponse_Closure done,
                              void *call) {
    ww_trainer_grpc_t *g = from_trainings(svc);
    ww_time_t t;
    ww_err_t err;
    pthread_rwlock_wrlock(&g->lock);
    ww_code_t rc =
        ww_trainer_schedule_training(g->state, in->training_uuid, in->user_id,
                                     to_time(in->time, &t), in->notes, &err);
    pthread_rwlock_unlock(&g->lock);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Trainings__ScheduleTrainingResponse out =
        TRAININGS__SCHEDULE_TRAINING_RESPONSE__INIT;
    done(&out, call);
}

static bool is_trainer(const ww_trainer_grpc_t *g, const char *identity) {
    if (!identity || !*identity || !g->trainer_callers) return false;
    for (const char *const *c = g->trainer_callers; *c; c++)
        if (strcmp(*c, identity) == 0) return true;
    return false;
}

static void cancel_training(Trainings__TrainingsService_Service *svc,
                            const Trainings__CancelTrainingRequest *in,
                            Trainings__CancelTrainingResponse_Closure done,
                            void *call) {
    ww_trainer_grpc_t *g = from_trainings(svc);
    if (in->by_trainer && g->enforce_trainer_callers &&
        !is_trainer(g, ww_rpc_call_identity(call))) {
        ww_rpc_call_fail(call, WW_ERR_PERMISSION_DENIED,
                         "caller \"%s\" may not cancel as the trainer "
                         "(not in WW_TRAINER_CALLERS)",
                         ww_rpc_call_identity(call));
        return;
    }
    struct timespec now_ts;
    clock_gettime(CLOCK_REALTIME, &now_ts);
    ww_time_t now = {now_ts.tv_sec, (int32_t)now_ts.tv_nsec};
    int64_t refund = 0;
    ww_err_t err;
    pthread_rwlock_wrlock(&g->lock);
    ww_code_t rc = ww_trainer_cancel_training(
        g->state, in->training_uuid, in->by_trainer, &now, &refund, &err);
    pthread_rwlock_unlock(&g->lock);
    if (rc != WW_OK) {
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    Trainings__CancelTrainingResponse out =
        TRAININGS__CANCEL_TRAINING_RESPONSE__INIT;
    out.balance_refund = refund;
    done(&out, call);
}

static void get_training(Trainings__TrainingsService_Service *svc,
                         const Trainings__GetTrainingRequest *in,
                         Trainings__Training_Closure done, void *call) {
    ww_trainer_grpc_t *g = from_trainings(svc);
    ww_trainer_training_view_t v;
    ww_err_t err;
    pthread_rwlock_rdlock(&g->lock);
    ww_code_t rc =
        ww_trainer_get_training(g->state, in->training_uuid, &v, &err);
    if (rc != WW_OK) {
        pthread_rwlock_unlock(&g->lock);
        ww_rpc_call_fail_err(call, &err);
        return;
    }
    /* The view borrows the state: answer before releasing the lock (the
     * response is serialised inside done). */
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = v.hour;
    Trainings__Training out = TRAININGS__TRAINING__INIT;
    out.training_uuid = (char *)v.training_uuid;
    out.user_id = (char *)v.user_id;
    out.notes = (char *)v.notes;
    out.time = &ts;
    out.status = (Trainings__TrainingStatus)v.status;
    out.balance_refund = v.balance_refund;
    done(&out, call);
    pthread_rwlock_unlock(&g->lock);
}

/* ---------- lifecycle ---------- */

ww_code_t ww_trainer_grpc_new(bool fixtures, ww_trainer_grpc_t **out,
                              ww_err_t *err) {
    *out = NULL;
    ww_trainer_grpc_t *g = calloc(1, sizeof *g);
    if (!g) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    Trainer__TrainerService_Service trainer = {
        TRAINER__TRAINER_SERVICE__BASE_INIT,
        is_hour_available,
        update_hour,
        schedule_hour,
        cancel_hour,
        make_available,
        make_unavailable};
    Trainings__TrainingsService_Service trainings = {
        TRAININGS__TRAININGS_SERVICE__BASE_INIT, schedule_training,
        cancel_training, get_training};
    g->trainer = trainer;
    g->trainings = trainings;
    g->state = ww_trainer_state_new();
    if (!g->state) {
        free(g);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_rwlock_init(&g->lock, NULL);
    if (fixtures) {
        ww_time_t today = {time(NULL), 0};
        ww_code_t rc = ww_trainer_fixtures_fill(g->state, &today, 30, err);
        if (rc != WW_OK) {
            ww_trainer_grpc_destroy(g);
            return rc;
        }
    }
    *out = g;
    return WW_OK;
}

void ww_trainer_grpc_destroy(ww_trainer_grpc_t *g) {
    if (!g) return;
    ww_trainer_state_destroy(g->state);
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

ProtobufCService *ww_trainer_grpc_trainer_service(ww_trainer_grpc_t *g) {
    return &g->trainer.base;
}

ProtobufCService *ww_trainer_grpc_trainings_service(ww_trainer_grpc_t *g) {
    return &g->trainings.base;
}

void ww_trainer_grpc_set_trainer_callers(ww_trainer_grpc_t *g, bool enforce,
                                         const char *const *trainer_callers) {
    g->enforce_trainer_callers = enforce;
    g->trainer_callers = trainer_callers;
}

void ww_trainer_grpc_counts(ww_trainer_grpc_t *g, ww_trainer_counts_t *c) {
    pthread_rwlock_rdlock(&g->lock);
    ww_trainer_counts(g->state, c);
    pthread_rwlock_unlock(&g->lock);
}
