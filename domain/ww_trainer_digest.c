/* ww_trainer_digest.c - the trainer state seen whole: counts and the
 * canonical serialisation behind state digests. */
#include <stdlib.h>
#include <string.h>

#include "ww_canon.h"
#include "ww_trainer_domain_int.h"

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

static int cmp_hour_ptr(const void *a, const void *b) {
    int64_t x = (*(const ww_trainer__hour_t *const *)a)->hour;
    int64_t y = (*(const ww_trainer__hour_t *const *)b)->hour;
    return (x > y) - (x < y);
}

static int cmp_training_ptr(const void *a, const void *b) {
    return strcmp((*(const ww_trainer__training_t *const *)a)->uuid,
                  (*(const ww_trainer__training_t *const *)b)->uuid);
}

ww_code_t ww_trainer_state_serialize(const ww_trainer_state_t *s,
                                     uint8_t **out, size_t *len,
                                     ww_err_t *err) {
    const ww_trainer__hour_t **hours = malloc((s->n_hours + 1) * sizeof *hours);
    const ww_trainer__training_t **trs =
        malloc((s->n_trainings + 1) * sizeof *trs);
    ww_canon_t c;
    ww_canon_init(&c);
    size_t n_hours = 0;
    if (!hours || !trs) goto oom;
    for (size_t i = 0; i < s->n_hours; i++)
        if (s->hours[i].available || s->hours[i].scheduled ||
            s->hours[i].holder != WW_TRAINER__NO_HOLDER)
            hours[n_hours++] = &s->hours[i];
    for (size_t i = 0; i < s->n_trainings; i++) trs[i] = &s->trainings[i];
    qsort(hours, n_hours, sizeof *hours, cmp_hour_ptr);
    qsort(trs, s->n_trainings, sizeof *trs, cmp_training_ptr);

    ww_canon_bytes(&c, "WWTR", 4);
    ww_canon_u32(&c, 1);
    ww_canon_u64(&c, n_hours);
    for (size_t i = 0; i < n_hours; i++) {
        const ww_trainer__hour_t *h = hours[i];
        ww_canon_i64(&c, h->hour);
        ww_canon_u8(&c, h->available);
        ww_canon_u8(&c, h->scheduled);
        ww_canon_str(&c, h->holder == WW_TRAINER__NO_HOLDER
                             ? ""
                             : s->trainings[h->holder].uuid);
    }
    ww_canon_u64(&c, s->n_trainings);
    for (size_t i = 0; i < s->n_trainings; i++) {
        const ww_trainer__training_t *t = trs[i];
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
