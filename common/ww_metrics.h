/*
 * ww_metrics.h - a registry of counters, gauges and histograms with labels,
 * rendered in the Prometheus text exposition format 0.0.4.
 *
 * A family is one metric name with fixed label names (registered once,
 * kept until the registry is destroyed); a series is one set of label
 * values of a family, created on first use and never removed.
 *
 *     ww_metrics_family_t *f;
 *     const char *labels[] = {"topic", NULL};
 *     ww_metrics_family_new(m, WW_METRICS_COUNTER, "ww_dlq_records_total",
 *                           "Records sent to a dead-letter topic.", labels,
 *                           NULL, 0, &f, &err);
 *     const char *values[] = {"trainer.commands.dlq"};
 *     ww_metrics_inc(ww_metrics_series(f, values));
 *
 * Hot path: updates (inc, add, set, observe) are lock-free atomics; finding
 * an existing series is lock-free too (a hash of the values, then one
 * comparison), so callers may look it up per event or keep the pointer,
 * which stays valid until the registry is destroyed. Only creating a
 * series, registering a family or a collector, and rendering take the
 * registry's locks.
 *
 * Collectors are called at the start of every render, one at a time, to
 * set values that are cheaper to read when asked (sizes, ages, process
 * figures) than to keep current.
 *
 * Threads: everything may be called from any thread; destroy only once no
 * other thread uses the registry.
 */
#ifndef WW_METRICS_H
#define WW_METRICS_H

#include "ww_err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ww_metrics ww_metrics_t;
typedef struct ww_metrics_family ww_metrics_family_t;
typedef struct ww_metrics_series ww_metrics_series_t;

typedef enum ww_metrics_type {
    WW_METRICS_COUNTER,
    WW_METRICS_GAUGE,
    WW_METRICS_HISTOGRAM,
} ww_metrics_type_t;

#define WW_METRICS_MAX_LABELS 6

/* Prometheus' default histogram buckets (seconds), as go-grpc-prometheus
 * uses them: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10. */
extern const double ww_metrics_default_buckets[11];

/* NULL when out of memory. */
ww_metrics_t *ww_metrics_new(void);

/* Frees the registry, its families and series. NULL is a no-op. */
void ww_metrics_destroy(ww_metrics_t *m);

/* Registers a family. `name` and `help` are copied; `labels` is a
 * NULL-terminated list of at most WW_METRICS_MAX_LABELS names (NULL: none);
 * `buckets` (histograms only; ascending upper bounds, +Inf implied) are
 * copied. Registering the same name again with the same type and labels
 * returns the existing family. Errors: INVALID_ARGUMENT (bad name, too many
 * labels, a name registered differently), RESOURCE_EXHAUSTED. */
ww_code_t ww_metrics_family_new(ww_metrics_t *m, ww_metrics_type_t type,
                                const char *name, const char *help,
                                const char *const *labels,
                                const double *buckets, size_t n_buckets,
                                ww_metrics_family_t **out, ww_err_t *err);

/* The series of `values` (one per label name, copied; NULL when the family
 * has no labels), created when new. NULL only when out of memory or `f` is
 * NULL; every update below accepts NULL and does nothing. */
ww_metrics_series_t *ww_metrics_series(ww_metrics_family_t *f,
                                       const char *const *values);

/* Counters: +1 / +n. */
void ww_metrics_inc(ww_metrics_series_t *s);
void ww_metrics_add(ww_metrics_series_t *s, uint64_t n);
/* Gauges (and counters a collector reads from elsewhere): the value. */
void ww_metrics_set(ww_metrics_series_t *s, double v);
/* Histograms: one observation. */
void ww_metrics_observe(ww_metrics_series_t *s, double v);

/* Reads, for tests and collectors: a counter's or gauge's value; a
 * histogram's count. */
double ww_metrics_value(const ww_metrics_series_t *s);

typedef void (*ww_metrics_collect_fn)(void *ctx, ww_metrics_t *m);

/* fn(ctx) runs at the start of every render until removed. Remove waits
 * for a render in progress, so ctx may be freed once it returns.
 * RESOURCE_EXHAUSTED. */
ww_code_t ww_metrics_collector_add(ww_metrics_t *m, ww_metrics_collect_fn fn,
                                   void *ctx, ww_err_t *err);
void ww_metrics_collector_remove(ww_metrics_t *m, ww_metrics_collect_fn fn,
                                 void *ctx);

/* Runs the collectors and renders every family in registration order
 * (series in creation order) as text format 0.0.4. Returns a malloc'd,
 * NUL-terminated text (the caller frees it) and its length in *len; NULL
 * when out of memory. */
char *ww_metrics_render(ww_metrics_t *m, size_t *len);

#endif
