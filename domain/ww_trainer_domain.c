/* ww_trainer_domain.c - the trainer's decisions and their fold. */
#include "ww_trainer_domain.h"

#include <stdlib.h>
#include <string.h>

#include "ww_fold.h"
#include "ww_index.h"
#include "ww_trainer_domain_int.h"

/* ------------------------------------------------------------ lookups */

static bool hour_eq(const void *ctx, uint32_t id, const void *key) {
    const ww_trainer_state_t *s = ctx;
    return s->hours[id].hour == *(const int64_t *)key;
}

static bool training_eq(const void *ctx, uint32_t id, const void *key) {
    const ww_trainer_state_t *s = ctx;
    return strcmp(s->trainings[id].uuid, key) == 0;
}

ww_trainer__hour_t *ww_trainer__find_hour(const ww_trainer_state_t *s, int64_t hour) {
    int64_t id = ww_index_find(&s->hour_ix, ww_index_hash_i64(hour), &hour,
                               hour_eq, s);
    return id < 0 ? NULL : &s->hours[id];
}

ww_trainer__training_t *ww_trainer__find_training(const ww_trainer_state_t *s,
                                         const char *uuid) {
    int64_t id = ww_index_find(&s->training_ix, ww_index_hash_str(uuid), uuid,
                               training_eq, s);
    return id < 0 ? NULL : &s->trainings[id];
}

/* ------------------------------------------------------------- state */

ww_trainer_state_t *ww_trainer_state_new(void) {
    ww_trainer_state_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    ww_index_init(&s->hour_ix);
    ww_index_init(&s->training_ix);
    return s;
}

void ww_trainer_state_destroy(ww_trainer_state_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_trainings; i++) {
        free(s->trainings[i].user_id);
        free(s->trainings[i].notes);
    }
    free(s->trainings);
    free(s->hours);
    free(s->undo);
    ww_index_destroy(&s->hour_ix);
    ww_index_destroy(&s->training_ix);
    free(s);
}

ww_trainer_state_t *ww_trainer_state_clone(const ww_trainer_state_t *s) {
    ww_trainer_state_t *c = ww_trainer_state_new();
    if (!c) return NULL;
    if (s->n_hours) {
        c->hours = malloc(s->n_hours * sizeof *c->hours);
        if (!c->hours) goto fail;
        memcpy(c->hours, s->hours, s->n_hours * sizeof *c->hours);
        c->n_hours = c->cap_hours = s->n_hours;
    }
    if (s->n_trainings) {
        c->trainings = calloc(s->n_trainings, sizeof *c->trainings);
        if (!c->trainings) goto fail;
        c->cap_trainings = s->n_trainings;
        for (size_t i = 0; i < s->n_trainings; i++) {
            ww_trainer__training_t *dst = &c->trainings[i];
            *dst = s->trainings[i];
            dst->user_id = strdup(s->trainings[i].user_id);
            dst->notes = strdup(s->trainings[i].notes);
            c->n_trainings = i + 1; /* so destroy frees what exists */
            if (!dst->user_id || !dst->notes) goto fail;
        }
    }
    if (ww_index_clone(&c->hour_ix, &s->hour_ix, NULL) != WW_OK ||
        ww_index_clone(&c->training_ix, &s->training_ix, NULL) != WW_OK)
        goto fail;
    return c;
fail:
    ww_trainer_state_destroy(c);
    return NULL;
}

ww_trainer__hour_t *ww_trainer__hour_get_or_add(ww_trainer_state_t *s,
                                                int64_t hour, ww_err_t *err) {
    ww_trainer__hour_t *h = ww_trainer__find_hour(s, hour);
    if (h) return h;
    if (!ww_fold_grow((void **)&s->hours, &s->cap_hours, s->n_hours + 1,
              sizeof *s->hours)) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    if (ww_index_insert(&s->hour_ix, ww_index_hash_i64(hour),
                        (uint32_t)s->n_hours, err) != WW_OK)
        return NULL;
    h = &s->hours[s->n_hours++];
    *h = (ww_trainer__hour_t){.hour = hour, .holder = WW_TRAINER__NO_HOLDER};
    ww_trainer__undo_hour_added(s);
    return h;
}

ww_trainer__training_t *
ww_trainer__training_add(ww_trainer_state_t *s, const char *uuid,
                         const char *user_id, int64_t hour, const char *notes,
                         ww_err_t *err) {
    char *u = strdup(user_id);
    char *n = strdup(notes);
    if (!u || !n ||
        !ww_fold_grow((void **)&s->trainings, &s->cap_trainings,
                      s->n_trainings + 1, sizeof *s->trainings) ||
        ww_index_insert(&s->training_ix, ww_index_hash_str(uuid),
                        (uint32_t)s->n_trainings, NULL) != WW_OK) {
        free(u);
        free(n);
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    ww_trainer__training_t *t = &s->trainings[s->n_trainings++];
    *t = (ww_trainer__training_t){.user_id = u,
                                  .notes = n,
                                  .hour = hour,
                                  .status = WW_TRAINER_TRAINING_PENDING};
    memcpy(t->uuid, uuid, sizeof t->uuid);
    ww_trainer__undo_training_added(s);
    return t;
}

/* ------------------------------------------------------------- apply */

static bool terminated(const char *buf, size_t size) {
    return memchr(buf, '\0', size) != NULL;
}

bool ww_trainer__is_working_hour(int64_t hour) {
    return hour >= WW_TIME_MIN_SECONDS && hour <= WW_TIME_MAX_SECONDS &&
           ww_time_truncate_hour(hour) == hour &&
           ww_time_hour_in_schedule(hour);
}

static ww_code_t check_fact_hour(int64_t hour, ww_err_t *err) {
    if (!ww_trainer__is_working_hour(hour))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact hour %lld is not a working hour",
                          (long long)hour);
    return WW_OK;
}

static ww_code_t apply_hour_changed(ww_trainer_state_t *s,
                                    const ww_trainer_fact_t *f,
                                    ww_err_t *err) {
    ww_code_t rc = check_fact_hour(f->hour, err);
    if (rc != WW_OK) return rc;
    if (f->available && f->has_training_scheduled)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact sets an hour available and scheduled");
    const ww_trainer__hour_t *cur = ww_trainer__find_hour(s, f->hour);
    if (cur && cur->holder != WW_TRAINER__NO_HOLDER)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "fact changes an hour held by training %s",
                          s->trainings[cur->holder].uuid);
    ww_trainer__hour_t *h = ww_trainer__hour_get_or_add(s, f->hour, err);
    if (!h) return WW_ERR_RESOURCE_EXHAUSTED; /* its only failure */
    ww_trainer__undo_hour_set(s, h);
    h->available = f->available;
    h->scheduled = f->has_training_scheduled;
    return WW_OK;
}

static ww_code_t apply_scheduled(ww_trainer_state_t *s,
                                 const ww_trainer_fact_t *f, ww_err_t *err) {
    if (!ww_ids_is_uuid(f->training_uuid) ||
        ww_ids_check_user_id(f->user_id, NULL) != WW_OK)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has an invalid training_uuid or user_id");
    ww_code_t rc = check_fact_hour(f->hour, err);
    if (rc != WW_OK) return rc;
    if (ww_trainer__find_training(s, f->training_uuid))
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "training %s exists already", f->training_uuid);
    ww_trainer__hour_t *h = ww_trainer__find_hour(s, f->hour);
    if (!h || !h->available || h->scheduled)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "fact books an hour that is not available");
    if (!ww_trainer__training_add(s, f->training_uuid, f->user_id, f->hour,
                                  f->notes, err))
        return WW_ERR_RESOURCE_EXHAUSTED;
    ww_trainer__undo_hour_set(s, h);
    h->available = false;
    h->scheduled = true;
    h->holder = (int64_t)s->n_trainings - 1;
    return WW_OK;
}

/* *t = the training a lifecycle fact names, when its status is one of
 * `allowed` (a bit set of statuses). */
static ww_code_t fact_training(ww_trainer_state_t *s,
                               const ww_trainer_fact_t *f, unsigned allowed,
                               ww_trainer__training_t **t, ww_err_t *err) {
    if (!ww_ids_is_uuid(f->training_uuid))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has an invalid training_uuid");
    if (!(*t = ww_trainer__find_training(s, f->training_uuid)))
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "fact names unknown training %s", f->training_uuid);
    if (!(allowed & (1u << (*t)->status)))
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "fact does not fit training %s in status %s",
                          f->training_uuid,
                          ww_trainer_training_status_name((*t)->status));
    return WW_OK;
}

static void free_hour_of(ww_trainer_state_t *s, const ww_trainer__training_t *t) {
    /* the record exists: the training holds it */
    ww_trainer__hour_t *h = ww_trainer__find_hour(s, t->hour);
    ww_trainer__undo_hour_set(s, h);
    h->available = true;
    h->scheduled = false;
    h->holder = WW_TRAINER__NO_HOLDER;
}

#define BIT(st) (1u << (st))

ww_code_t ww_trainer_apply(ww_trainer_state_t *s, const ww_trainer_fact_t *f,
                           ww_err_t *err) {
    if (!terminated(f->training_uuid, sizeof f->training_uuid) ||
        !terminated(f->user_id, sizeof f->user_id) ||
        !terminated(f->notes, sizeof f->notes))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has an unterminated string");
    if (!ww_trainer__undo_reserve(s, WW_TRAINER__UNDO_PER_FACT))
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    const unsigned pending = BIT(WW_TRAINER_TRAINING_PENDING),
                   active = pending | BIT(WW_TRAINER_TRAINING_SCHEDULED);
    ww_trainer__training_t *t = NULL;
    ww_code_t rc;
    switch (f->kind) {
    case WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED:
        return apply_hour_changed(s, f, err);
    case WW_TRAINER_FACT_TRAINING_SCHEDULED:
        return apply_scheduled(s, f, err);
    case WW_TRAINER_FACT_TRAINING_CONFIRMED:
        if ((rc = fact_training(s, f, pending, &t, err)) != WW_OK) return rc;
        ww_trainer__undo_training_set(s, t);
        t->status = WW_TRAINER_TRAINING_SCHEDULED;
        t->debited = true;
        return WW_OK;
    case WW_TRAINER_FACT_TRAINING_RELEASED:
        if ((rc = fact_training(s, f, pending, &t, err)) != WW_OK) return rc;
        ww_trainer__undo_training_set(s, t);
        t->status = WW_TRAINER_TRAINING_REJECTED;
        free_hour_of(s, t);
        return WW_OK;
    case WW_TRAINER_FACT_TRAINING_CANCELED:
        if (f->balance_refund < 0)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "fact has a negative refund");
        if ((rc = fact_training(s, f, active, &t, err)) != WW_OK) return rc;
        ww_trainer__undo_training_set(s, t);
        t->status = WW_TRAINER_TRAINING_CANCELED;
        t->refund = f->balance_refund;
        t->by_trainer = f->by_trainer;
        free_hour_of(s, t);
        return WW_OK;
    }
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "unknown fact kind %d",
                      (int)f->kind);
}

WW_FOLD_DEFINE_APPLY_DECISION(ww_trainer_apply_decision, ww_trainer_state_t,
                              ww_trainer_decision_t, ww_trainer_apply)

/* --------------------------------------------------- hour-only decisions */

/* Every decision starts from "OK, no fact, no result". */
static void decision_reset(ww_trainer_decision_t *d) { memset(d, 0, sizeof *d); }

static ww_trainer_fact_t *emit(ww_trainer_decision_t *d,
                               ww_trainer_fact_kind_t kind) {
    ww_trainer_fact_t *f = &d->facts[d->n_facts++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    return f;
}

/* Emits HOUR_AVAILABILITY_CHANGED unless the hour already has these flags. */
static void emit_hour(ww_trainer_decision_t *d, const ww_trainer__hour_t *h,
                      int64_t hour, bool available, bool scheduled) {
    bool cur_available = h && h->available, cur_scheduled = h && h->scheduled;
    if (cur_available == available && cur_scheduled == scheduled) return;
    ww_trainer_fact_t *f = emit(d, WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED);
    f->hour = hour;
    f->available = available;
    f->has_training_scheduled = scheduled;
}

/* The checks every hour-only method starts with: a valid time, a working
 * hour, not held by a training. */
static ww_code_t hour_only_start(const ww_trainer_state_t *s,
                                 const ww_time_t *t, ww_trainer_decision_t *d,
                                 int64_t *hour, const ww_trainer__hour_t **h) {
    char when[WW_TIME_FORMAT_SIZE];
    decision_reset(d);
    ww_code_t rc = ww_time_to_hour(t, hour, &d->err);
    if (rc != WW_OK) return rc;
    if (!ww_time_hour_in_schedule(*hour))
        return ww_err_set(&d->err, WW_ERR_NOT_FOUND,
                          "%s hour not found in schedule",
                          ww_time_format(*hour, when));
    *h = ww_trainer__find_hour(s, *hour);
    if (*h && (*h)->holder != WW_TRAINER__NO_HOLDER)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "hour %s is held by training %s",
                          ww_time_format(*hour, when),
                          s->trainings[(*h)->holder].uuid);
    return WW_OK;
}

ww_code_t ww_trainer_decide_is_hour_available(const ww_trainer_state_t *s,
                                              const ww_time_t *t,
                                              ww_trainer_decision_t *d) {
    int64_t hour;
    decision_reset(d);
    ww_code_t rc = ww_time_to_hour(t, &hour, &d->err);
    if (rc != WW_OK) return rc;
    const ww_trainer__hour_t *h =
        ww_time_hour_in_schedule(hour) ? ww_trainer__find_hour(s, hour) : NULL;
    d->is_available = h && h->available && !h->scheduled;
    return WW_OK;
}

ww_code_t ww_trainer_decide_update_hour(const ww_trainer_state_t *s,
                                        const ww_time_t *t,
                                        bool has_training_scheduled,
                                        bool available,
                                        ww_trainer_decision_t *d) {
    int64_t hour;
    const ww_trainer__hour_t *h;
    ww_code_t rc = hour_only_start(s, t, d, &hour, &h);
    if (rc != WW_OK) return rc;
    bool cur_available = h && h->available, cur_scheduled = h && h->scheduled;
    if (has_training_scheduled && !cur_available)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "hour is not available for training");
    if (available && has_training_scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "cannot set hour as available when it have "
                          "training scheduled");
    if (!available && !has_training_scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "cannot set hour as unavailable when it have no "
                          "training scheduled");
    /* Kept for parity with the seed; unreachable while the fold keeps a
     * scheduled hour unavailable (the first check answers first). */
    if (has_training_scheduled && cur_scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "hour HasTrainingScheduled is already true");
    emit_hour(d, h, hour, available, has_training_scheduled);
    return WW_OK;
}

/* The later original's hour-only methods, one rule table: what each
 * requires of the hour and which flags it leaves. */
typedef enum hour_op {
    HOUR_SCHEDULE,         /* available, not scheduled -> scheduled */
    HOUR_CANCEL,           /* scheduled -> available */
    HOUR_MAKE_AVAILABLE,   /* not scheduled -> available */
    HOUR_MAKE_UNAVAILABLE, /* not scheduled -> not available */
} hour_op_t;

static ww_code_t hour_only(const ww_trainer_state_t *s, const ww_time_t *t,
                           hour_op_t op, ww_trainer_decision_t *d) {
    int64_t hour;
    const ww_trainer__hour_t *h;
    ww_code_t rc = hour_only_start(s, t, d, &hour, &h);
    if (rc != WW_OK) return rc;
    bool available = h && h->available, scheduled = h && h->scheduled;
    const char *refusal = NULL;
    switch (op) {
    case HOUR_SCHEDULE:
        if (!available || scheduled) refusal = "hour is not available";
        break;
    case HOUR_CANCEL:
        if (!scheduled) refusal = "training is not scheduled";
        break;
    case HOUR_MAKE_AVAILABLE:
    case HOUR_MAKE_UNAVAILABLE:
        if (scheduled)
            refusal = "unable to modify hour, because scheduled training";
        break;
    }
    if (refusal)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION, "%s", refusal);
    emit_hour(d, h, hour, op == HOUR_CANCEL || op == HOUR_MAKE_AVAILABLE,
              op == HOUR_SCHEDULE);
    return WW_OK;
}

ww_code_t ww_trainer_decide_schedule_hour(const ww_trainer_state_t *s,
                                          const ww_time_t *t,
                                          ww_trainer_decision_t *d) {
    return hour_only(s, t, HOUR_SCHEDULE, d);
}

ww_code_t ww_trainer_decide_cancel_hour(const ww_trainer_state_t *s,
                                        const ww_time_t *t,
                                        ww_trainer_decision_t *d) {
    return hour_only(s, t, HOUR_CANCEL, d);
}

ww_code_t ww_trainer_decide_make_hour_available(const ww_trainer_state_t *s,
                                                const ww_time_t *t,
                                                ww_trainer_decision_t *d) {
    return hour_only(s, t, HOUR_MAKE_AVAILABLE, d);
}

ww_code_t ww_trainer_decide_make_hour_unavailable(const ww_trainer_state_t *s,
                                                  const ww_time_t *t,
                                                  ww_trainer_decision_t *d) {
    return hour_only(s, t, HOUR_MAKE_UNAVAILABLE, d);
}

/* -------------------------------------------------- training decisions */

ww_code_t ww_trainer_decide_schedule_training(const ww_trainer_state_t *s,
                                              const char *training_uuid,
                                              const char *user_id,
                                              const ww_time_t *t,
                                              const char *notes,
                                              ww_trainer_decision_t *d) {
    int64_t hour;
    char when[WW_TIME_FORMAT_SIZE];
    decision_reset(d);
    if (!notes) notes = "";
    ww_code_t rc;
    if ((rc = ww_ids_check_training_uuid(training_uuid, &d->err)) != WW_OK ||
        (rc = ww_ids_check_user_id(user_id, &d->err)) != WW_OK ||
        (rc = ww_time_to_hour(t, &hour, &d->err)) != WW_OK ||
        (rc = ww_ids_check_notes(notes, &d->err)) != WW_OK)
        return rc;
    const ww_trainer__training_t *existing =
        ww_trainer__find_training(s, training_uuid);
    if (existing) {
        if (existing->hour == hour && strcmp(existing->user_id, user_id) == 0 &&
            strcmp(existing->notes, notes) == 0)
            return WW_OK;
        return ww_err_set(&d->err, WW_ERR_ALREADY_EXISTS,
                          "training %s already exists with other content",
                          training_uuid);
    }
    if (!ww_time_hour_in_schedule(hour))
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "hour %s is not in the schedule",
                          ww_time_format(hour, when));
    const ww_trainer__hour_t *h = ww_trainer__find_hour(s, hour);
    if (!h || !h->available || h->scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "hour %s is not available",
                          ww_time_format(hour, when));
    ww_trainer_fact_t *f = emit(d, WW_TRAINER_FACT_TRAINING_SCHEDULED);
    f->hour = hour;
    memcpy(f->training_uuid, training_uuid, WW_IDS_UUID_LEN + 1);
    memcpy(f->user_id, user_id, strlen(user_id) + 1);
    memcpy(f->notes, notes, strlen(notes) + 1);
    return WW_OK;
}

/* Lifecycle facts repeat the training's uuid, user and hour: readers such
 * as the users side (which pays refunds per user) need no lookup. */
static void fill_training_fields(ww_trainer_fact_t *f,
                                 const ww_trainer__training_t *t) {
    f->hour = t->hour;
    memcpy(f->training_uuid, t->uuid, sizeof f->training_uuid);
    memcpy(f->user_id, t->user_id, strlen(t->user_id) + 1);
}

/* A credit outcome moves a PENDING training; anything else is a no-op. */
static ww_code_t decide_outcome(const ww_trainer_state_t *s,
                                const char *training_uuid,
                                ww_trainer_fact_kind_t kind,
                                ww_trainer_decision_t *d) {
    decision_reset(d);
    ww_code_t rc = ww_ids_check_training_uuid(training_uuid, &d->err);
    if (rc != WW_OK) return rc;
    const ww_trainer__training_t *t = ww_trainer__find_training(s, training_uuid);
    if (!t || t->status != WW_TRAINER_TRAINING_PENDING) return WW_OK;
    ww_trainer_fact_t *f = emit(d, kind);
    fill_training_fields(f, t);
    return WW_OK;
}

ww_code_t ww_trainer_decide_balance_debited(const ww_trainer_state_t *s,
                                            const char *training_uuid,
                                            ww_trainer_decision_t *d) {
    return decide_outcome(s, training_uuid,
                          WW_TRAINER_FACT_TRAINING_CONFIRMED, d);
}

ww_code_t ww_trainer_decide_balance_rejected(const ww_trainer_state_t *s,
                                             const char *training_uuid,
                                             ww_trainer_decision_t *d) {
    return decide_outcome(s, training_uuid, WW_TRAINER_FACT_TRAINING_RELEASED,
                          d);
}

ww_code_t ww_trainer_decide_cancel_training(const ww_trainer_state_t *s,
                                            const char *training_uuid,
                                            bool by_trainer,
                                            const ww_time_t *now,
                                            ww_trainer_decision_t *d) {
    decision_reset(d);
    ww_code_t rc;
    if ((rc = ww_ids_check_training_uuid(training_uuid, &d->err)) != WW_OK ||
        (rc = ww_time_validate(now, &d->err)) != WW_OK)
        return rc;
    const ww_trainer__training_t *t = ww_trainer__find_training(s, training_uuid);
    if (!t)
        return ww_err_set(&d->err, WW_ERR_NOT_FOUND, "training %s not found",
                          training_uuid);
    if (t->status == WW_TRAINER_TRAINING_CANCELED) {
        d->balance_refund = t->refund;
        return WW_OK;
    }
    if (t->status == WW_TRAINER_TRAINING_REJECTED)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "training %s was rejected and cannot be canceled",
                          training_uuid);
    /* Whole seconds suffice: the hour is whole, so start - now > 24 h holds
     * exactly when start - now.seconds > 24 h, whatever now.nanos is. */
    int64_t refund = 1;
    if (t->hour - now->seconds <= WW_TIME_DAY_SECONDS)
        refund = by_trainer ? 2 : 0;
    ww_trainer_fact_t *f = emit(d, WW_TRAINER_FACT_TRAINING_CANCELED);
    fill_training_fields(f, t);
    f->by_trainer = by_trainer;
    f->balance_refund = refund;
    d->balance_refund = refund;
    return WW_OK;
}

void ww_trainer_get_hour(const ww_trainer_state_t *s, int64_t hour,
                         ww_trainer_hour_view_t *view) {
    hour = ww_time_truncate_hour(hour);
    const ww_trainer__hour_t *h = ww_trainer__find_hour(s, hour);
    *view = (ww_trainer_hour_view_t){
        .hour = hour,
        .in_schedule = ww_time_hour_in_schedule(hour),
        .available = h && h->available,
        .has_training_scheduled = h && h->scheduled,
        .held_by = h && h->holder != WW_TRAINER__NO_HOLDER ? s->trainings[h->holder].uuid
                                               : NULL,
    };
}

ww_code_t ww_trainer_get_training(const ww_trainer_state_t *s,
                                  const char *training_uuid,
                                  ww_trainer_training_view_t *view,
                                  ww_err_t *err) {
    ww_code_t rc = ww_ids_check_training_uuid(training_uuid, err);
    if (rc != WW_OK) return rc;
    const ww_trainer__training_t *t = ww_trainer__find_training(s, training_uuid);
    if (!t)
        return ww_err_set(err, WW_ERR_NOT_FOUND, "training %s not found",
                          training_uuid);
    *view = (ww_trainer_training_view_t){
        .training_uuid = t->uuid,
        .user_id = t->user_id,
        .notes = t->notes,
        .hour = t->hour,
        .status = t->status,
        .balance_refund = t->refund,
        .debited = t->debited,
        .canceled_by_trainer = t->by_trainer,
    };
    return WW_OK;
}

void ww_trainer_counts(const ww_trainer_state_t *s, ww_trainer_counts_t *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < s->n_hours; i++) {
        const ww_trainer__hour_t *h = &s->hours[i];
        if (h->available && !h->scheduled) c->hours_available++;
        if (h->scheduled) c->hours_scheduled++;
        if (h->holder != WW_TRAINER__NO_HOLDER) c->hours_held++;
    }
    c->trainings = s->n_trainings;
    for (size_t i = 0; i < s->n_trainings; i++) {
        const ww_trainer__training_t *t = &s->trainings[i];
        c->trainings_pending += t->status == WW_TRAINER_TRAINING_PENDING;
        c->trainings_scheduled += t->status == WW_TRAINER_TRAINING_SCHEDULED;
        c->trainings_rejected += t->status == WW_TRAINER_TRAINING_REJECTED;
        if (t->status == WW_TRAINER_TRAINING_CANCELED) {
            c->trainings_canceled++;
            c->refunds_decided += t->refund;
        }
    }
}

/* ------------------------------------------------- decide + apply */

/* Applies a successful decision; passes its result (or the apply's
 * failure) on to the caller's err. */
static ww_code_t finish(ww_trainer_state_t *s, ww_trainer_decision_t *d,
                        ww_code_t rc, ww_err_t *err) {
    if (rc == WW_OK) rc = ww_trainer_apply_decision(s, d, &d->err);
    if (err) *err = d->err;
    return rc;
}

ww_code_t ww_trainer_is_hour_available(const ww_trainer_state_t *s,
                                       const ww_time_t *t, bool *available,
                                       ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_is_hour_available(s, t, &d);
    if (err) *err = d.err;
    if (rc == WW_OK) *available = d.is_available;
    return rc;
}

ww_code_t ww_trainer_update_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                 bool has_training_scheduled, bool available,
                                 ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc =
        ww_trainer_decide_update_hour(s, t, has_training_scheduled, available,
                                      &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_schedule_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                   ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_schedule_hour(s, t, &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_cancel_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                 ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_cancel_hour(s, t, &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_make_hour_available(ww_trainer_state_t *s,
                                         const ww_time_t *t, ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_make_hour_available(s, t, &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_make_hour_unavailable(ww_trainer_state_t *s,
                                           const ww_time_t *t, ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_make_hour_unavailable(s, t, &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_schedule_training(ww_trainer_state_t *s,
                                       const char *training_uuid,
                                       const char *user_id,
                                       const ww_time_t *t, const char *notes,
                                       ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc =
        ww_trainer_decide_schedule_training(s, training_uuid, user_id, t, notes,
                                            &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_balance_debited(ww_trainer_state_t *s,
                                     const char *training_uuid,
                                     ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_balance_debited(s, training_uuid, &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_balance_rejected(ww_trainer_state_t *s,
                                      const char *training_uuid,
                                      ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_balance_rejected(s, training_uuid, &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_trainer_cancel_training(ww_trainer_state_t *s,
                                     const char *training_uuid,
                                     bool by_trainer, const ww_time_t *now,
                                     int64_t *balance_refund, ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = ww_trainer_decide_cancel_training(s, training_uuid,
                                                     by_trainer, now, &d);
    rc = finish(s, &d, rc, err);
    if (rc == WW_OK && balance_refund) *balance_refund = d.balance_refund;
    return rc;
}

const char *ww_trainer_training_status_name(ww_trainer_training_status_t st) {
    static const char *names[] = {"TRAINING_STATUS_UNSPECIFIED", "PENDING",
                                  "SCHEDULED", "CANCELED", "REJECTED"};
    return st >= 0 && st <= WW_TRAINER_TRAINING_REJECTED ? names[st]
                                                         : names[0];
}
