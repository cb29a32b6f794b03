/* ww_trainer_domain.c - the trainer's decisions and their fold. */
#include "ww_trainer_domain.h"

#include <stdlib.h>
#include <string.h>

#include "ww_canon.h"
#include "ww_index.h"

#define NO_HOLDER (-1)

typedef struct hour_rec {
    int64_t hour;
    bool available;
    bool scheduled;
    int64_t holder; /* index into trainings, or NO_HOLDER */
} hour_rec_t;

typedef struct training_rec {
    char uuid[WW_IDS_UUID_LEN + 1];
    char *user_id;
    char *notes;
    int64_t hour;
    ww_trainer_training_status_t status;
    bool debited;
    bool by_trainer;
    int64_t refund;
} training_rec_t;

struct ww_trainer_state {
    hour_rec_t *hours;
    size_t n_hours, cap_hours;
    ww_index_t hour_ix;
    training_rec_t *trainings;
    size_t n_trainings, cap_trainings;
    ww_index_t training_ix;
};

/* ------------------------------------------------------------ lookups */

static bool hour_eq(const void *ctx, uint32_t id, const void *key) {
    const ww_trainer_state_t *s = ctx;
    return s->hours[id].hour == *(const int64_t *)key;
}

static bool training_eq(const void *ctx, uint32_t id, const void *key) {
    const ww_trainer_state_t *s = ctx;
    return strcmp(s->trainings[id].uuid, key) == 0;
}

static hour_rec_t *find_hour(const ww_trainer_state_t *s, int64_t hour) {
    int64_t id = ww_index_find(&s->hour_ix, ww_index_hash_i64(hour), &hour,
                               hour_eq, s);
    return id < 0 ? NULL : &s->hours[id];
}

static training_rec_t *find_training(const ww_trainer_state_t *s,
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
            training_rec_t *dst = &c->trainings[i];
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

static bool grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p) return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* The record of `hour`, created "not available" when absent; NULL when out
 * of memory (nothing changed then). */
static hour_rec_t *hour_get_or_add(ww_trainer_state_t *s, int64_t hour,
                                   ww_err_t *err) {
    hour_rec_t *h = find_hour(s, hour);
    if (h) return h;
    if (!grow((void **)&s->hours, &s->cap_hours, s->n_hours + 1,
              sizeof *s->hours)) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    if (ww_index_insert(&s->hour_ix, ww_index_hash_i64(hour),
                        (uint32_t)s->n_hours, err) != WW_OK)
        return NULL;
    h = &s->hours[s->n_hours++];
    *h = (hour_rec_t){.hour = hour, .holder = NO_HOLDER};
    return h;
}

/* ------------------------------------------------------------- apply */

static bool terminated(const char *buf, size_t size) {
    return memchr(buf, '\0', size) != NULL;
}

static ww_code_t check_fact_hour(int64_t hour, ww_err_t *err) {
    if (hour < WW_TIME_MIN_SECONDS || hour > WW_TIME_MAX_SECONDS ||
        ww_time_truncate_hour(hour) != hour || !ww_time_hour_in_schedule(hour))
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
    const hour_rec_t *cur = find_hour(s, f->hour);
    if (cur && cur->holder != NO_HOLDER)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "fact changes an hour held by training %s",
                          s->trainings[cur->holder].uuid);
    hour_rec_t *h = hour_get_or_add(s, f->hour, err);
    if (!h) return err ? err->code : WW_ERR_RESOURCE_EXHAUSTED;
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
    if (find_training(s, f->training_uuid))
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "training %s exists already", f->training_uuid);
    hour_rec_t *h = find_hour(s, f->hour);
    if (!h || !h->available || h->scheduled)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "fact books an hour that is not available");
    char *user_id = strdup(f->user_id);
    char *notes = strdup(f->notes);
    if (!user_id || !notes ||
        !grow((void **)&s->trainings, &s->cap_trainings, s->n_trainings + 1,
              sizeof *s->trainings) ||
        ww_index_insert(&s->training_ix, ww_index_hash_str(f->training_uuid),
                        (uint32_t)s->n_trainings, NULL) != WW_OK) {
        free(user_id);
        free(notes);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    training_rec_t *t = &s->trainings[s->n_trainings];
    *t = (training_rec_t){.user_id = user_id,
                          .notes = notes,
                          .hour = f->hour,
                          .status = WW_TRAINER_TRAINING_PENDING};
    memcpy(t->uuid, f->training_uuid, sizeof t->uuid);
    h->available = false;
    h->scheduled = true;
    h->holder = (int64_t)s->n_trainings++;
    return WW_OK;
}

/* The training a lifecycle fact names, when its status is one of `allowed`
 * (a bit set of statuses). */
static training_rec_t *fact_training(ww_trainer_state_t *s,
                                     const ww_trainer_fact_t *f,
                                     unsigned allowed, ww_err_t *err) {
    if (!ww_ids_is_uuid(f->training_uuid)) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "fact has an invalid training_uuid");
        return NULL;
    }
    training_rec_t *t = find_training(s, f->training_uuid);
    if (!t) {
        ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                   "fact names unknown training %s", f->training_uuid);
        return NULL;
    }
    if (!(allowed & (1u << t->status))) {
        ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                   "fact does not fit training %s in status %s",
                   f->training_uuid, ww_trainer_training_status_name(t->status));
        return NULL;
    }
    return t;
}

static void free_hour_of(ww_trainer_state_t *s, const training_rec_t *t) {
    hour_rec_t *h = find_hour(s, t->hour); /* exists: the training holds it */
    h->available = true;
    h->scheduled = false;
    h->holder = NO_HOLDER;
}

#define BIT(st) (1u << (st))

ww_code_t ww_trainer_apply(ww_trainer_state_t *s, const ww_trainer_fact_t *f,
                           ww_err_t *err) {
    if (!terminated(f->training_uuid, sizeof f->training_uuid) ||
        !terminated(f->user_id, sizeof f->user_id) ||
        !terminated(f->notes, sizeof f->notes))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has an unterminated string");
    training_rec_t *t;
    switch (f->kind) {
    case WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED:
        return apply_hour_changed(s, f, err);
    case WW_TRAINER_FACT_TRAINING_SCHEDULED:
        return apply_scheduled(s, f, err);
    case WW_TRAINER_FACT_TRAINING_CONFIRMED:
        t = fact_training(s, f, BIT(WW_TRAINER_TRAINING_PENDING), err);
        if (!t) return err ? err->code : WW_ERR_FAILED_PRECONDITION;
        t->status = WW_TRAINER_TRAINING_SCHEDULED;
        t->debited = true;
        return WW_OK;
    case WW_TRAINER_FACT_TRAINING_RELEASED:
        t = fact_training(s, f, BIT(WW_TRAINER_TRAINING_PENDING), err);
        if (!t) return err ? err->code : WW_ERR_FAILED_PRECONDITION;
        t->status = WW_TRAINER_TRAINING_REJECTED;
        free_hour_of(s, t);
        return WW_OK;
    case WW_TRAINER_FACT_TRAINING_CANCELED:
        if (f->balance_refund < 0)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "fact has a negative refund");
        t = fact_training(s, f,
                          BIT(WW_TRAINER_TRAINING_PENDING) |
                              BIT(WW_TRAINER_TRAINING_SCHEDULED),
                          err);
        if (!t) return err ? err->code : WW_ERR_FAILED_PRECONDITION;
        t->status = WW_TRAINER_TRAINING_CANCELED;
        t->refund = f->balance_refund;
        t->by_trainer = f->by_trainer;
        free_hour_of(s, t);
        return WW_OK;
    }
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "unknown fact kind %d",
                      (int)f->kind);
}

ww_code_t ww_trainer_apply_decision(ww_trainer_state_t *s,
                                    const ww_trainer_decision_t *d,
                                    ww_err_t *err) {
    for (size_t i = 0; i < d->n_facts; i++) {
        ww_code_t rc = ww_trainer_apply(s, &d->facts[i], err);
        if (rc != WW_OK) return rc;
    }
    return WW_OK;
}

/* --------------------------------------------------- hour-only decisions */

static void decision_reset(ww_trainer_decision_t *d) {
    d->n_facts = 0;
    d->is_available = false;
    d->balance_refund = 0;
    ww_err_clear(&d->err);
}

static ww_trainer_fact_t *emit(ww_trainer_decision_t *d,
                               ww_trainer_fact_kind_t kind) {
    ww_trainer_fact_t *f = &d->facts[d->n_facts++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    return f;
}

/* Emits HOUR_AVAILABILITY_CHANGED unless the hour already has these flags. */
static void emit_hour(ww_trainer_decision_t *d, const hour_rec_t *h,
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
                                 int64_t *hour, const hour_rec_t **h) {
    char when[WW_TIME_FORMAT_SIZE];
    decision_reset(d);
    ww_code_t rc = ww_time_to_hour(t, hour, &d->err);
    if (rc != WW_OK) return rc;
    if (!ww_time_hour_in_schedule(*hour))
        return ww_err_set(&d->err, WW_ERR_NOT_FOUND,
                          "%s hour not found in schedule",
                          ww_time_format(*hour, when));
    *h = find_hour(s, *hour);
    if (*h && (*h)->holder != NO_HOLDER)
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
    const hour_rec_t *h =
        ww_time_hour_in_schedule(hour) ? find_hour(s, hour) : NULL;
    d->is_available = h && h->available && !h->scheduled;
    return WW_OK;
}

ww_code_t ww_trainer_decide_update_hour(const ww_trainer_state_t *s,
                                        const ww_time_t *t,
                                        bool has_training_scheduled,
                                        bool available,
                                        ww_trainer_decision_t *d) {
    int64_t hour;
    const hour_rec_t *h;
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
    if (has_training_scheduled && cur_scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "hour HasTrainingScheduled is already true");
    emit_hour(d, h, hour, available, has_training_scheduled);
    return WW_OK;
}

ww_code_t ww_trainer_decide_schedule_hour(const ww_trainer_state_t *s,
                                          const ww_time_t *t,
                                          ww_trainer_decision_t *d) {
    int64_t hour;
    const hour_rec_t *h;
    ww_code_t rc = hour_only_start(s, t, d, &hour, &h);
    if (rc != WW_OK) return rc;
    if (!h || !h->available || h->scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "hour is not available");
    emit_hour(d, h, hour, false, true);
    return WW_OK;
}

ww_code_t ww_trainer_decide_cancel_hour(const ww_trainer_state_t *s,
                                        const ww_time_t *t,
                                        ww_trainer_decision_t *d) {
    int64_t hour;
    const hour_rec_t *h;
    ww_code_t rc = hour_only_start(s, t, d, &hour, &h);
    if (rc != WW_OK) return rc;
    if (!h || !h->scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "training is not scheduled");
    emit_hour(d, h, hour, true, false);
    return WW_OK;
}

static ww_code_t set_availability(const ww_trainer_state_t *s,
                                  const ww_time_t *t, bool available,
                                  ww_trainer_decision_t *d) {
    int64_t hour;
    const hour_rec_t *h;
    ww_code_t rc = hour_only_start(s, t, d, &hour, &h);
    if (rc != WW_OK) return rc;
    if (h && h->scheduled)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "unable to modify hour, because scheduled training");
    emit_hour(d, h, hour, available, false);
    return WW_OK;
}

ww_code_t ww_trainer_decide_make_hour_available(const ww_trainer_state_t *s,
                                                const ww_time_t *t,
                                                ww_trainer_decision_t *d) {
    return set_availability(s, t, true, d);
}

ww_code_t ww_trainer_decide_make_hour_unavailable(const ww_trainer_state_t *s,
                                                  const ww_time_t *t,
                                                  ww_trainer_decision_t *d) {
    return set_availability(s, t, false, d);
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
    const training_rec_t *existing = find_training(s, training_uuid);
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
    const hour_rec_t *h = find_hour(s, hour);
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

/* A credit outcome moves a PENDING training; anything else is a no-op. */
static ww_code_t decide_outcome(const ww_trainer_state_t *s,
                                const char *training_uuid,
                                ww_trainer_fact_kind_t kind,
                                ww_trainer_decision_t *d) {
    decision_reset(d);
    ww_code_t rc = ww_ids_check_training_uuid(training_uuid, &d->err);
    if (rc != WW_OK) return rc;
    const training_rec_t *t = find_training(s, training_uuid);
    if (!t || t->status != WW_TRAINER_TRAINING_PENDING) return WW_OK;
    ww_trainer_fact_t *f = emit(d, kind);
    f->hour = t->hour;
    memcpy(f->training_uuid, t->uuid, sizeof f->training_uuid);
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
    const training_rec_t *t = find_training(s, training_uuid);
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
    f->hour = t->hour;
    f->by_trainer = by_trainer;
    f->balance_refund = refund;
    memcpy(f->training_uuid, t->uuid, sizeof f->training_uuid);
    d->balance_refund = refund;
    return WW_OK;
}

ww_code_t ww_trainer_get_training(const ww_trainer_state_t *s,
                                  const char *training_uuid,
                                  ww_trainer_training_view_t *view,
                                  ww_err_t *err) {
    ww_code_t rc = ww_ids_check_training_uuid(training_uuid, err);
    if (rc != WW_OK) return rc;
    const training_rec_t *t = find_training(s, training_uuid);
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

/* ------------------------------------------------- decide + apply */

/* Applies a successful decision; passes its result (or the apply's
 * failure) on to the caller's err. */
static ww_code_t finish(ww_trainer_state_t *s, ww_trainer_decision_t *d,
                        ww_code_t rc, ww_err_t *err) {
    if (rc == WW_OK) rc = ww_trainer_apply_decision(s, d, &d->err);
    if (err) *err = d->err;
    return rc;
}

#define DECIDE_APPLY(s, err, call)                                           \
    do {                                                                     \
        ww_trainer_decision_t d_;                                            \
        ww_code_t rc_ = (call);                                              \
        return finish((s), &d_, rc_, (err));                                 \
    } while (0)

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
    DECIDE_APPLY(s, err,
                 ww_trainer_decide_update_hour(s, t, has_training_scheduled,
                                               available, &d_));
}

ww_code_t ww_trainer_schedule_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                   ww_err_t *err) {
    DECIDE_APPLY(s, err, ww_trainer_decide_schedule_hour(s, t, &d_));
}

ww_code_t ww_trainer_cancel_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                 ww_err_t *err) {
    DECIDE_APPLY(s, err, ww_trainer_decide_cancel_hour(s, t, &d_));
}

ww_code_t ww_trainer_make_hour_available(ww_trainer_state_t *s,
                                         const ww_time_t *t, ww_err_t *err) {
    DECIDE_APPLY(s, err, ww_trainer_decide_make_hour_available(s, t, &d_));
}

ww_code_t ww_trainer_make_hour_unavailable(ww_trainer_state_t *s,
                                           const ww_time_t *t, ww_err_t *err) {
    DECIDE_APPLY(s, err, ww_trainer_decide_make_hour_unavailable(s, t, &d_));
}

ww_code_t ww_trainer_schedule_training(ww_trainer_state_t *s,
                                       const char *training_uuid,
                                       const char *user_id,
                                       const ww_time_t *t, const char *notes,
                                       ww_err_t *err) {
    DECIDE_APPLY(s, err,
                 ww_trainer_decide_schedule_training(s, training_uuid, user_id,
                                                     t, notes, &d_));
}

ww_code_t ww_trainer_balance_debited(ww_trainer_state_t *s,
                                     const char *training_uuid,
                                     ww_err_t *err) {
    DECIDE_APPLY(s, err,
                 ww_trainer_decide_balance_debited(s, training_uuid, &d_));
}

ww_code_t ww_trainer_balance_rejected(ww_trainer_state_t *s,
                                      const char *training_uuid,
                                      ww_err_t *err) {
    DECIDE_APPLY(s, err,
                 ww_trainer_decide_balance_rejected(s, training_uuid, &d_));
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

/* ------------------------------------------- fixtures, counts, digest */

bool ww_trainer_fixture_hour_available(int day_index, int hour_of_day) {
    /* Two of every three slots, shifting by day so the demo's weeks differ. */
    return (day_index * 5 + hour_of_day) % 3 != 0;
}

ww_code_t ww_trainer_fixtures_fill(ww_trainer_state_t *s,
                                   const ww_time_t *first_day, int days,
                                   ww_err_t *err) {
    ww_code_t rc = ww_time_validate(first_day, err);
    if (rc != WW_OK) return rc;
    int64_t day0 = ww_time_truncate_day(first_day->seconds);
    if (days < 1 || days > 3660 ||
        day0 > WW_TIME_MAX_SECONDS - (int64_t)days * WW_TIME_DAY_SECONDS)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fixtures need 1..3660 days within the valid range");
    for (int day = 0; day < days; day++) {
        for (int h = WW_TIME_FIRST_WORK_HOUR; h <= WW_TIME_LAST_WORK_HOUR;
             h++) {
            if (!ww_trainer_fixture_hour_available(day, h)) continue;
            ww_time_t t = {day0 + day * WW_TIME_DAY_SECONDS +
                               h * WW_TIME_HOUR_SECONDS,
                           0};
            ww_err_t e;
            rc = ww_trainer_make_hour_available(s, &t, &e);
            if (rc == WW_ERR_FAILED_PRECONDITION) continue; /* booked */
            if (rc != WW_OK) {
                if (err) *err = e;
                return rc;
            }
        }
    }
    return WW_OK;
}

void ww_trainer_counts(const ww_trainer_state_t *s, ww_trainer_counts_t *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < s->n_hours; i++) {
        const hour_rec_t *h = &s->hours[i];
        if (h->available && !h->scheduled) c->hours_available++;
        if (h->scheduled) c->hours_scheduled++;
        if (h->holder != NO_HOLDER) c->hours_held++;
    }
    c->trainings = s->n_trainings;
    for (size_t i = 0; i < s->n_trainings; i++) {
        const training_rec_t *t = &s->trainings[i];
        switch (t->status) {
        case WW_TRAINER_TRAINING_PENDING: c->trainings_pending++; break;
        case WW_TRAINER_TRAINING_SCHEDULED: c->trainings_scheduled++; break;
        case WW_TRAINER_TRAINING_CANCELED:
            c->trainings_canceled++;
            c->refunds_decided += t->refund;
            break;
        case WW_TRAINER_TRAINING_REJECTED: c->trainings_rejected++; break;
        default: break;
        }
    }
}

static int cmp_hour_ptr(const void *a, const void *b) {
    int64_t x = (*(const hour_rec_t *const *)a)->hour;
    int64_t y = (*(const hour_rec_t *const *)b)->hour;
    return (x > y) - (x < y);
}

static int cmp_training_ptr(const void *a, const void *b) {
    return strcmp((*(const training_rec_t *const *)a)->uuid,
                  (*(const training_rec_t *const *)b)->uuid);
}

ww_code_t ww_trainer_state_serialize(const ww_trainer_state_t *s,
                                     uint8_t **out, size_t *len,
                                     ww_err_t *err) {
    const hour_rec_t **hours = malloc((s->n_hours + 1) * sizeof *hours);
    const training_rec_t **trs =
        malloc((s->n_trainings + 1) * sizeof *trs);
    ww_canon_t c;
    ww_canon_init(&c);
    size_t n_hours = 0;
    if (!hours || !trs) goto oom;
    for (size_t i = 0; i < s->n_hours; i++)
        if (s->hours[i].available || s->hours[i].scheduled ||
            s->hours[i].holder != NO_HOLDER)
            hours[n_hours++] = &s->hours[i];
    for (size_t i = 0; i < s->n_trainings; i++) trs[i] = &s->trainings[i];
    qsort(hours, n_hours, sizeof *hours, cmp_hour_ptr);
    qsort(trs, s->n_trainings, sizeof *trs, cmp_training_ptr);

    ww_canon_bytes(&c, "WWTR", 4);
    ww_canon_u32(&c, 1);
    ww_canon_u64(&c, n_hours);
    for (size_t i = 0; i < n_hours; i++) {
        const hour_rec_t *h = hours[i];
        ww_canon_i64(&c, h->hour);
        ww_canon_u8(&c, h->available);
        ww_canon_u8(&c, h->scheduled);
        ww_canon_str(&c, h->holder == NO_HOLDER
                             ? ""
                             : s->trainings[h->holder].uuid);
    }
    ww_canon_u64(&c, s->n_trainings);
    for (size_t i = 0; i < s->n_trainings; i++) {
        const training_rec_t *t = trs[i];
        ww_canon_str(&c, t->uuid);
        ww_canon_str(&c, t->user_id);
        ww_canon_i64(&c, t->hour);
        ww_canon_str(&c, t->notes);
        ww_canon_u8(&c, (uint8_t)t->status);
        ww_canon_u8(&c, t->debited);
        ww_canon_u8(&c, t->by_trainer);
        ww_canon_i64(&c, t->refund);
    }
    free(hours);
    free(trs);
    return ww_canon_finish(&c, out, len, err);
oom:
    free(hours);
    free(trs);
    return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
}

const char *ww_trainer_training_status_name(ww_trainer_training_status_t st) {
    switch (st) {
    case WW_TRAINER_TRAINING_PENDING: return "PENDING";
    case WW_TRAINER_TRAINING_SCHEDULED: return "SCHEDULED";
    case WW_TRAINER_TRAINING_CANCELED: return "CANCELED";
    case WW_TRAINER_TRAINING_REJECTED: return "REJECTED";
    default: return "TRAINING_STATUS_UNSPECIFIED";
    }
}
