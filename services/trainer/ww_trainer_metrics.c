/* ww_trainer_metrics.c - trainings by status, the oldest PENDING, sagas. */
#include "ww_trainer_metrics.h"

#include "ww_trainer_roster.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PENDING_SLOTS 1024

/* A training still PENDING and when its TrainingScheduled was written. */
typedef struct pending {
    char uuid[WW_IDS_UUID_LEN + 1];
    int64_t since_ms;
    struct pending *next;
} pending_t;

struct ww_trainer_metrics {
    ww_metrics_t *reg;
    ww_host_model_t *model; /* NULL until attached */
    int64_t start_ms;
    pthread_mutex_t mu; /* the pending index */
    pending_t *slots[PENDING_SLOTS];
    ww_metrics_series_t *by_status[4]; /* PENDING .. REJECTED */
    ww_metrics_series_t *oldest;
    ww_metrics_series_t *scheduled, *rejected;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned slot_of(const char *uuid) {
    unsigned h = 2166136261u;
    for (; *uuid; uuid++)
        h = (h ^ (unsigned char)*uuid) * 16777619u;
    return h % PENDING_SLOTS;
}

ww_code_t ww_trainer_metrics_new(ww_metrics_t *reg, ww_trainer_metrics_t **out,
                                 ww_err_t *err) {
    *out = NULL;
    ww_trainer_metrics_t *tm = calloc(1, sizeof *tm);
    if (!tm) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    tm->reg = reg;
    tm->start_ms = now_ms();
    pthread_mutex_init(&tm->mu, NULL);
    const char *status[] = {"status", NULL}, *outcome[] = {"outcome", NULL};
    ww_metrics_family_t *f_status, *f_oldest, *f_sagas;
    ww_code_t rc;
    if ((rc = ww_metrics_family_new(reg, WW_METRICS_GAUGE, "ww_trainings",
                                    "Trainings in the read model, by status.",
                                    status, NULL, 0, &f_status, err)) ||
        (rc = ww_metrics_family_new(
             reg, WW_METRICS_GAUGE, "ww_trainings_oldest_pending_age_seconds",
             "Age of the oldest training still PENDING (waiting for the "
             "users' verdict on its credit); 0 when none is.",
             NULL, NULL, 0, &f_oldest, err)) ||
        (rc = ww_metrics_family_new(
             reg, WW_METRICS_COUNTER, "ww_saga_completions_total",
             "Booking sagas this instance saw end since it started: "
             "scheduled (credit debited) or rejected (no credit, hour "
             "released).",
             outcome, NULL, 0, &f_sagas, err))) {
        ww_trainer_metrics_destroy(tm);
        return rc;
    }
    static const ww_trainer_training_status_t st[4] = {
        WW_TRAINER_TRAINING_PENDING, WW_TRAINER_TRAINING_SCHEDULED,
        WW_TRAINER_TRAINING_CANCELED, WW_TRAINER_TRAINING_REJECTED};
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        const char *v[] = {ww_trainer_training_status_name(st[i])};
        ok = ok && (tm->by_status[i] = ww_metrics_series(f_status, v));
    }
    const char *vs[] = {"scheduled"}, *vr[] = {"rejected"};
    ok = ok && (tm->oldest = ww_metrics_series(f_oldest, NULL)) &&
         (tm->scheduled = ww_metrics_series(f_sagas, vs)) &&
         (tm->rejected = ww_metrics_series(f_sagas, vr));
    if (!ok) {
        ww_trainer_metrics_destroy(tm);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    *out = tm;
    return WW_OK;
}

static void pending_add(ww_trainer_metrics_t *tm, const char *uuid,
                        int64_t since) {
    pending_t *p = calloc(1, sizeof *p);
    if (!p) return; /* the age misses this one; counts stay right */
    snprintf(p->uuid, sizeof p->uuid, "%s", uuid);
    p->since_ms = since;
    unsigned s = slot_of(p->uuid);
    pthread_mutex_lock(&tm->mu);
    p->next = tm->slots[s];
    tm->slots[s] = p;
    pthread_mutex_unlock(&tm->mu);
}

static void pending_remove(ww_trainer_metrics_t *tm, const char *uuid) {
    unsigned s = slot_of(uuid);
    pthread_mutex_lock(&tm->mu);
    for (pending_t **pp = &tm->slots[s]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->uuid, uuid) == 0) {
            pending_t *p = *pp;
            *pp = p->next;
            free(p);
            break;
        }
    }
    pthread_mutex_unlock(&tm->mu);
}

void ww_trainer_metrics_fact(ww_trainer_metrics_t *tm,
                             const ww_trainer_fact_t *f, int64_t ts_ms) {
    if (!tm) return;
    switch (f->kind) {
    case WW_TRAINER_FACT_TRAINING_SCHEDULED:
        pending_add(tm, f->training_uuid, ts_ms);
        break;
    case WW_TRAINER_FACT_TRAINING_CONFIRMED:
    case WW_TRAINER_FACT_TRAINING_RELEASED:
        pending_remove(tm, f->training_uuid);
        if (ts_ms >= tm->start_ms)
            ww_metrics_inc(f->kind == WW_TRAINER_FACT_TRAINING_CONFIRMED
                               ? tm->scheduled
                               : tm->rejected);
        break;
    case WW_TRAINER_FACT_TRAINING_CANCELED:
        pending_remove(tm, f->training_uuid);
        break;
    default:
        break;
    }
}

static void collect(void *ctx, ww_metrics_t *reg) {
    (void)reg;
    ww_trainer_metrics_t *tm = ctx;
    size_t n[4] = {0};
    int parts = ww_host_model_partitions(tm->model);
    for (int p = 0; p < parts; p++) {
        const ww_shard_t *sh = ww_host_model_read(tm->model, p);
        if (!sh) continue;
        ww_trainer_counts_t c;
        ww_trainer_roster_counts(ww_shard_state_const(sh), &c);
        ww_host_model_read_end(tm->model, p);
        n[0] += c.trainings_pending;
        n[1] += c.trainings_scheduled;
        n[2] += c.trainings_canceled;
        n[3] += c.trainings_rejected;
    }
    for (int i = 0; i < 4; i++)
        ww_metrics_set(tm->by_status[i], (double)n[i]);
    int64_t oldest = INT64_MAX;
    pthread_mutex_lock(&tm->mu);
    for (unsigned s = 0; s < PENDING_SLOTS; s++)
        for (const pending_t *p = tm->slots[s]; p; p = p->next)
            if (p->since_ms < oldest) oldest = p->since_ms;
    pthread_mutex_unlock(&tm->mu);
    int64_t now = now_ms();
    ww_metrics_set(tm->oldest, oldest == INT64_MAX || oldest > now
                                   ? 0
                                   : (double)(now - oldest) / 1000.0);
}

ww_code_t ww_trainer_metrics_attach(ww_trainer_metrics_t *tm,
                                    ww_host_model_t *model, ww_err_t *err) {
    tm->model = model;
    return ww_metrics_collector_add(tm->reg, collect, tm, err);
}

void ww_trainer_metrics_detach(ww_trainer_metrics_t *tm) {
    if (!tm || !tm->model) return;
    ww_metrics_collector_remove(tm->reg, collect, tm);
    tm->model = NULL;
}

void ww_trainer_metrics_destroy(ww_trainer_metrics_t *tm) {
    if (!tm) return;
    ww_trainer_metrics_detach(tm);
    for (unsigned s = 0; s < PENDING_SLOTS; s++)
        for (pending_t *p = tm->slots[s], *n; p; p = n) {
            n = p->next;
            free(p);
        }
    pthread_mutex_destroy(&tm->mu);
    free(tm);
}
