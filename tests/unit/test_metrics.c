/* test_metrics.c - the metrics registry: text format 0.0.4 as rendered
 * (names, escaped label values, cumulative buckets, shortest numbers),
 * families registered once, series found again, collectors run per render,
 * and exact counts under updates from several threads at once. */
#include "ww_metrics.h"
#include "ww_test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static ww_metrics_family_t *family(ww_metrics_t *m, ww_metrics_type_t t,
                                   const char *name, const char *const *labels,
                                   const double *b, size_t nb) {
    ww_metrics_family_t *f = NULL;
    ww_err_t err;
    WW_ASSERT_EQ_INT(
        ww_metrics_family_new(m, t, name, "help", labels, b, nb, &f, &err),
        WW_OK);
    return f;
}

static bool has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
            return true;
    return false;
}

#define WW_ASSERT_LINE(text, line)                                             \
    WW_ASSERT_MSG(has_line(text, line), "no line \"%s\" in:\n%s", line, text)

WW_TEST(counters_render_with_labels_help_and_type) {
    ww_metrics_t *m = ww_metrics_new();
    const char *labels[] = {"method", "code", NULL};
    ww_metrics_family_t *f =
        family(m, WW_METRICS_COUNTER, "calls_total", labels, NULL, 0);
    const char *v1[] = {"Get", "OK"}, *v2[] = {"Get", "NotFound"};
    ww_metrics_series_t *s = ww_metrics_series(f, v1);
    WW_ASSERT(s == ww_metrics_series(f, v1)); /* found again */
    ww_metrics_inc(s);
    ww_metrics_add(s, 41);
    ww_metrics_inc(ww_metrics_series(f, v2));
    char *text = ww_metrics_render(m, NULL);
    WW_ASSERT_LINE(text, "# HELP calls_total help");
    WW_ASSERT_LINE(text, "# TYPE calls_total counter");
    WW_ASSERT_LINE(text, "calls_total{method=\"Get\",code=\"OK\"} 42");
    WW_ASSERT_LINE(text, "calls_total{method=\"Get\",code=\"NotFound\"} 1");
    free(text);
    ww_metrics_destroy(m);
}

WW_TEST(label_values_and_help_are_escaped) {
    ww_metrics_t *m = ww_metrics_new();
    const char *labels[] = {"v", NULL};
    ww_metrics_family_t *f = NULL;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_metrics_family_new(m, WW_METRICS_GAUGE, "g",
                                           "a \\ b\nc", labels, NULL, 0, &f,
                                           &err),
                     WW_OK);
    const char *v[] = {"q\"uote\\back\nline"};
    ww_metrics_set(ww_metrics_series(f, v), 1.5);
    char *text = ww_metrics_render(m, NULL);
    WW_ASSERT_LINE(text, "# HELP g a \\\\ b\\nc");
    WW_ASSERT_LINE(text, "g{v=\"q\\\"uote\\\\back\\nline\"} 1.5");
    free(text);
    ww_metrics_destroy(m);
}

WW_TEST(histograms_are_cumulative_with_sum_and_count) {
    ww_metrics_t *m = ww_metrics_new();
    ww_metrics_family_t *f = family(m, WW_METRICS_HISTOGRAM, "h_seconds", NULL,
                                    ww_metrics_default_buckets, 11);
    ww_metrics_series_t *s = ww_metrics_series(f, NULL);
    ww_metrics_observe(s, 0.001);
    ww_metrics_observe(s, 0.005); /* le is inclusive */
    ww_metrics_observe(s, 0.3);
    ww_metrics_observe(s, 60);
    char *text = ww_metrics_render(m, NULL);
    WW_ASSERT_LINE(text, "# TYPE h_seconds histogram");
    WW_ASSERT_LINE(text, "h_seconds_bucket{le=\"0.005\"} 2");
    WW_ASSERT_LINE(text, "h_seconds_bucket{le=\"0.25\"} 2");
    WW_ASSERT_LINE(text, "h_seconds_bucket{le=\"0.5\"} 3");
    WW_ASSERT_LINE(text, "h_seconds_bucket{le=\"10\"} 3");
    WW_ASSERT_LINE(text, "h_seconds_bucket{le=\"+Inf\"} 4");
    WW_ASSERT_LINE(text, "h_seconds_sum 60.306");
    WW_ASSERT_LINE(text, "h_seconds_count 4");
    free(text);
    ww_metrics_destroy(m);
}

WW_TEST(families_register_once_and_refuse_a_different_shape) {
    ww_metrics_t *m = ww_metrics_new();
    const char *a[] = {"x", NULL}, *b[] = {"y", NULL};
    ww_metrics_family_t *f1 = family(m, WW_METRICS_COUNTER, "c", a, NULL, 0);
    ww_metrics_family_t *f2 = family(m, WW_METRICS_COUNTER, "c", a, NULL, 0);
    WW_ASSERT(f1 == f2);
    ww_metrics_family_t *f3 = NULL;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_metrics_family_new(m, WW_METRICS_COUNTER, "c", "", b,
                                           NULL, 0, &f3, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_metrics_family_new(m, WW_METRICS_GAUGE, "c", "", a,
                                           NULL, 0, &f3, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_metrics_family_new(m, WW_METRICS_GAUGE, "9bad", "",
                                           NULL, NULL, 0, &f3, &err),
                     WW_ERR_INVALID_ARGUMENT);
    const char *le[] = {"le", NULL};
    WW_ASSERT_EQ_INT(ww_metrics_family_new(m, WW_METRICS_GAUGE, "ok", "", le,
                                           NULL, 0, &f3, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT(ww_metrics_series(f1, NULL) == NULL); /* values required */
    ww_metrics_inc(NULL);                           /* a no-op */
    ww_metrics_destroy(m);
}

typedef struct counted {
    ww_metrics_series_t *g;
    int runs;
} counted_t;

static void collect(void *ctx, ww_metrics_t *m) {
    (void)m;
    counted_t *c = ctx;
    ww_metrics_set(c->g, ++c->runs);
}

WW_TEST(collectors_run_at_every_render_until_removed) {
    ww_metrics_t *m = ww_metrics_new();
    counted_t c = {
        ww_metrics_series(family(m, WW_METRICS_GAUGE, "runs", NULL, NULL, 0),
                          NULL),
        0};
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_metrics_collector_add(m, collect, &c, &err), WW_OK);
    free(ww_metrics_render(m, NULL));
    char *text = ww_metrics_render(m, NULL);
    WW_ASSERT_LINE(text, "runs 2");
    free(text);
    ww_metrics_collector_remove(m, collect, &c);
    text = ww_metrics_render(m, NULL);
    WW_ASSERT_LINE(text, "runs 2");
    WW_ASSERT_EQ_INT(c.runs, 2);
    free(text);
    ww_metrics_destroy(m);
}

#define THREADS 4
#define PER     100000

typedef struct worker {
    ww_metrics_family_t *counter, *hist;
    int id;
} worker_t;

static void *hammer(void *arg) {
    worker_t *w = arg;
    char label[16];
    for (int i = 0; i < PER; i++) {
        /* a few series, created by whichever thread comes first */
        snprintf(label, sizeof label, "s%d", i % 8);
        const char *v[] = {label};
        ww_metrics_inc(ww_metrics_series(w->counter, v));
        ww_metrics_observe(ww_metrics_series(w->hist, NULL), 0.5);
    }
    return NULL;
}

WW_TEST(concurrent_updates_lose_nothing) {
    ww_metrics_t *m = ww_metrics_new();
    const char *labels[] = {"s", NULL};
    static const double b[] = {1};
    worker_t w = {family(m, WW_METRICS_COUNTER, "n_total", labels, NULL, 0),
                  family(m, WW_METRICS_HISTOGRAM, "h", NULL, b, 1), 0};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, &w);
    /* renders meanwhile must not disturb the updates */
    for (int i = 0; i < 20; i++)
        free(ww_metrics_render(m, NULL));
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    double total = 0;
    for (int i = 0; i < 8; i++) {
        char label[16];
        snprintf(label, sizeof label, "s%d", i);
        const char *v[] = {label};
        total += ww_metrics_value(ww_metrics_series(w.counter, v));
    }
    WW_ASSERT_EQ_INT((long long)total, THREADS * PER);
    char *text = ww_metrics_render(m, NULL);
    char want[64];
    snprintf(want, sizeof want, "h_count %d", THREADS * PER);
    WW_ASSERT_LINE(text, want);
    snprintf(want, sizeof want, "h_sum %d", THREADS * PER / 2);
    WW_ASSERT_LINE(text, want);
    free(text);
    ww_metrics_destroy(m);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(counters_render_with_labels_help_and_type),
            WW_CASE(label_values_and_help_are_escaped),
            WW_CASE(histograms_are_cumulative_with_sum_and_count),
            WW_CASE(families_register_once_and_refuse_a_different_shape),
            WW_CASE(collectors_run_at_every_render_until_removed),
            WW_CASE(concurrent_updates_lose_nothing),
            {0}});
}
