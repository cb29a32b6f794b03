/* ww_host_model_metrics.c - a read model's offsets and lag, read at scrape. */
#include "ww_host_model_metrics.h"

#include "ww_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENDS_MAX_AGE_MS 1000
#define ENDS_TIMEOUT_MS 1000

struct ww_host_model_metrics {
    ww_metrics_t *reg;
    ww_host_model_t *model;
    int n;
    int64_t *ends; /* -1: never asked successfully */
    int64_t ends_at_ms;
    ww_metrics_series_t **offset, **lag;
    ww_metrics_series_t *applied, *skipped;
};

static void collect(void *ctx, ww_metrics_t *reg) {
    (void)reg;
    ww_host_model_metrics_t *mm = ctx;
    int64_t now = ww_clock_mono_ms();
    if (now - mm->ends_at_ms >= ENDS_MAX_AGE_MS) {
        int64_t *fresh = malloc((size_t)mm->n * sizeof *fresh);
        ww_err_t err;
        if (fresh && ww_host_model_ends(mm->model, fresh, ENDS_TIMEOUT_MS,
                                        &err) == WW_OK) {
            memcpy(mm->ends, fresh, (size_t)mm->n * sizeof *fresh);
            mm->ends_at_ms = now;
        }
        free(fresh);
    }
    for (int p = 0; p < mm->n; p++) {
        int64_t pos = ww_host_model_position(mm->model, p);
        ww_metrics_set(mm->offset[p], (double)pos);
        if (mm->ends[p] >= 0)
            ww_metrics_set(mm->lag[p],
                           (double)(mm->ends[p] > pos ? mm->ends[p] - pos : 0));
    }
    ww_host_model_stats_t st = ww_host_model_stats(mm->model);
    ww_metrics_set(mm->applied, (double)st.applied);
    ww_metrics_set(mm->skipped, (double)st.skipped);
}

static void free_mm(ww_host_model_metrics_t *mm) {
    free(mm->ends);
    free(mm->offset);
    free(mm->lag);
    free(mm);
}

ww_code_t ww_host_model_metrics_attach(ww_metrics_t *reg,
                                       ww_host_model_t *model,
                                       const char *topic,
                                       ww_host_model_metrics_t **out,
                                       ww_err_t *err) {
    *out = NULL;
    ww_host_model_metrics_t *mm = calloc(1, sizeof *mm);
    if (!mm) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    mm->reg = reg;
    mm->model = model;
    mm->n = ww_host_model_partitions(model);
    mm->ends = malloc((size_t)mm->n * sizeof *mm->ends);
    mm->offset = calloc((size_t)mm->n, sizeof *mm->offset);
    mm->lag = calloc((size_t)mm->n, sizeof *mm->lag);
    mm->ends_at_ms = ww_clock_mono_ms() - 2 * ENDS_MAX_AGE_MS;
    if (!mm->ends || !mm->offset || !mm->lag) {
        free_mm(mm);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    const char *part_labels[] = {"topic", "partition", NULL};
    const char *outcome_labels[] = {"topic", "outcome", NULL};
    ww_metrics_family_t *f_off, *f_lag, *f_rec;
    ww_code_t rc;
    if ((rc = ww_metrics_family_new(
             reg, WW_METRICS_GAUGE, "ww_read_model_applied_offset",
             "The next offset of the events partition the read model "
             "handles; every record before it was applied or skipped.",
             part_labels, NULL, 0, &f_off, err)) ||
        (rc = ww_metrics_family_new(
             reg, WW_METRICS_GAUGE, "ww_read_model_lag",
             "Committed records of the events partition the read model has "
             "not handled yet (end minus offset).",
             part_labels, NULL, 0, &f_lag, err)) ||
        (rc = ww_metrics_family_new(
             reg, WW_METRICS_COUNTER, "ww_read_model_records_total",
             "Records the read model handled since the start, applied or "
             "skipped (did not decode or apply).",
             outcome_labels, NULL, 0, &f_rec, err))) {
        free_mm(mm);
        return rc;
    }
    bool ok = true;
    for (int p = 0; p < mm->n; p++) {
        char pbuf[16];
        snprintf(pbuf, sizeof pbuf, "%d", p);
        const char *v[] = {topic, pbuf};
        mm->ends[p] = -1;
        ok = ok && (mm->offset[p] = ww_metrics_series(f_off, v)) &&
             (mm->lag[p] = ww_metrics_series(f_lag, v));
    }
    const char *va[] = {topic, "applied"}, *vs[] = {topic, "skipped"};
    ok = ok && (mm->applied = ww_metrics_series(f_rec, va)) &&
         (mm->skipped = ww_metrics_series(f_rec, vs));
    if (!ok) {
        free_mm(mm);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    if ((rc = ww_metrics_collector_add(reg, collect, mm, err)) != WW_OK) {
        free_mm(mm);
        return rc;
    }
    *out = mm;
    return WW_OK;
}

void ww_host_model_metrics_detach(ww_host_model_metrics_t *mm) {
    if (!mm) return;
    ww_metrics_collector_remove(mm->reg, collect, mm);
    free_mm(mm);
}
