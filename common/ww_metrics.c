/* ww_metrics.c - lock-free metric updates, series found by hash, text 0.0.4. */
#include "ww_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_SLOTS 64

const double ww_metrics_default_buckets[11] = {.005, .01, .025, .05, .1, .25,
                                               .5,   1,   2.5,  5,   10};

struct ww_metrics_series {
    ww_metrics_family_t *family;
    uint64_t hash;
    char **values;                        /* family->n_labels entries */
    _Atomic(ww_metrics_series_t *) chain; /* next with the same slot */
    ww_metrics_series_t *next;            /* creation order (under mu) */
    _Atomic uint64_t count;    /* counter increments; histogram count */
    _Atomic uint64_t bits;     /* set value; histogram sum (doubles) */
    _Atomic bool is_set;       /* a counter whose value was set */
    _Atomic uint64_t *buckets; /* histograms: per bucket, not cumulative */
};

struct ww_metrics_family {
    ww_metrics_t *reg;
    ww_metrics_type_t type;
    char *name, *help;
    char *labels[WW_METRICS_MAX_LABELS];
    size_t n_labels;
    double *bounds;
    size_t n_bounds;
    _Atomic(ww_metrics_series_t *) slots[HASH_SLOTS];
    ww_metrics_series_t *first, *last; /* creation order (under reg->mu) */
    ww_metrics_family_t *next;
};

typedef struct collector {
    ww_metrics_collect_fn fn;
    void *ctx;
    struct collector *next;
} collector_t;

struct ww_metrics {
    pthread_mutex_t mu;        /* families and series: creation, iteration */
    pthread_mutex_t render_mu; /* collectors; one render at a time */
    ww_metrics_family_t *first, *last;
    collector_t *collectors;
};

static uint64_t dbits(double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bitsd(uint64_t b) {
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

ww_metrics_t *ww_metrics_new(void) {
    ww_metrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->render_mu, NULL);
    return m;
}

static void series_free(ww_metrics_series_t *s, size_t n_labels) {
    for (size_t i = 0; i < n_labels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->buckets);
    free(s);
}

void ww_metrics_destroy(ww_metrics_t *m) {
    if (!m) return;
    for (ww_metrics_family_t *f = m->first, *fn; f; f = fn) {
        fn = f->next;
        for (ww_metrics_series_t *s = f->first, *sn; s; s = sn) {
            sn = s->next;
            series_free(s, f->n_labels);
        }
        for (size_t i = 0; i < f->n_labels; i++)
            free(f->labels[i]);
        free(f->name);
        free(f->help);
        free(f->bounds);
        free(f);
    }
    for (collector_t *c = m->collectors, *cn; c; c = cn) {
        cn = c->next;
        free(c);
    }
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->render_mu);
    free(m);
}

static bool name_ok(const char *n) {
    if (!n || !*n) return false;
    for (const char *p = n; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     *p == '_' || *p == ':';
        if (!alpha && !(p > n && *p >= '0' && *p <= '9')) return false;
    }
    return true;
}

static bool same_shape(const ww_metrics_family_t *f, ww_metrics_type_t type,
                       const char *const *labels, size_t n) {
    if (f->type != type || f->n_labels != n) return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(f->labels[i], labels[i]) != 0) return false;
    return true;
}

static ww_metrics_family_t *family_alloc(ww_metrics_type_t type,
                                         const char *name, const char *help,
                                         const char *const *labels, size_t n,
                                         const double *buckets,
                                         size_t n_buckets) {
    ww_metrics_family_t *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->type = type;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    bool ok = f->name && f->help;
    for (size_t i = 0; ok && i < n; i++)
        ok = (f->labels[i] = strdup(labels[i]));
    f->n_labels = n;
    if (ok && type == WW_METRICS_HISTOGRAM && n_buckets) {
        ok = (f->bounds = malloc(n_buckets * sizeof *f->bounds));
        if (ok) memcpy(f->bounds, buckets, n_buckets * sizeof *f->bounds);
        f->n_bounds = n_buckets;
    }
    if (ok) return f;
    for (size_t i = 0; i < n; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    free(f->bounds);
    free(f);
    return NULL;
}

ww_code_t ww_metrics_family_new(ww_metrics_t *m, ww_metrics_type_t type,
                                const char *name, const char *help,
                                const char *const *labels,
                                const double *buckets, size_t n_buckets,
                                ww_metrics_family_t **out, ww_err_t *err) {
    *out = NULL;
    size_t n = 0;
    while (labels && labels[n]) {
        if (n == WW_METRICS_MAX_LABELS || !name_ok(labels[n]) ||
            strcmp(labels[n], "le") == 0)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "metrics: bad or too many labels for %s",
                              name ? name : "(null)");
        n++;
    }
    if (!m || !name_ok(name))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "metrics: bad metric name \"%s\"",
                          name ? name : "(null)");
    for (size_t i = 1; i < n_buckets; i++)
        if (!(buckets[i - 1] < buckets[i]))
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "metrics: buckets of %s not ascending", name);
    pthread_mutex_lock(&m->mu);
    for (ww_metrics_family_t *f = m->first; f; f = f->next) {
        if (strcmp(f->name, name) != 0) continue;
        bool same = same_shape(f, type, labels, n);
        pthread_mutex_unlock(&m->mu);
        if (!same)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "metrics: %s registered with another type or "
                              "labels",
                              name);
        *out = f;
        return WW_OK;
    }
    ww_metrics_family_t *f =
        family_alloc(type, name, help, labels, n, buckets, n_buckets);
    if (f) {
        f->reg = m;
        if (m->last)
            m->last->next = f;
        else
            m->first = f;
        m->last = f;
    }
    pthread_mutex_unlock(&m->mu);
    if (!f) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    *out = f;
    return WW_OK;
}

static uint64_t hash_values(const char *const *values, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* separator */
    }
    return h;
}

static bool values_equal(const ww_metrics_series_t *s,
                         const char *const *values, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->values[i], values[i]) != 0) return false;
    return true;
}

static ww_metrics_series_t *find(ww_metrics_family_t *f, uint64_t h,
                                 const char *const *values) {
    ww_metrics_series_t *s =
        atomic_load_explicit(&f->slots[h % HASH_SLOTS], memory_order_acquire);
    for (; s; s = atomic_load_explicit(&s->chain, memory_order_acquire))
        if (s->hash == h && values_equal(s, values, f->n_labels)) return s;
    return NULL;
}

static ww_metrics_series_t *series_alloc(ww_metrics_family_t *f, uint64_t h,
                                         const char *const *values) {
    ww_metrics_series_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->family = f;
    s->hash = h;
    bool ok = (s->values = calloc(f->n_labels + 1, sizeof *s->values));
    for (size_t i = 0; ok && i < f->n_labels; i++)
        ok = (s->values[i] = strdup(values[i]));
    if (ok && f->type == WW_METRICS_HISTOGRAM)
        ok = (s->buckets = calloc(f->n_bounds + 1, sizeof *s->buckets));
    if (ok) return s;
    series_free(s, f->n_labels);
    return NULL;
}

ww_metrics_series_t *ww_metrics_series(ww_metrics_family_t *f,
                                       const char *const *values) {
    if (!f) return NULL;
    static const char *const none[1] = {""};
    if (!values) {
        if (f->n_labels) return NULL;
        values = none;
    }
    for (size_t i = 0; i < f->n_labels; i++)
        if (!values[i]) return NULL;
    uint64_t h = hash_values(values, f->n_labels);
    ww_metrics_series_t *s = find(f, h, values);
    if (s) return s;
    ww_metrics_t *m = f->reg;
    pthread_mutex_lock(&m->mu);
    s = find(f, h, values); /* created meanwhile? */
    if (!s && (s = series_alloc(f, h, values))) {
        if (f->last)
            f->last->next = s;
        else
            f->first = s;
        f->last = s;
        _Atomic(ww_metrics_series_t *) *slot = &f->slots[h % HASH_SLOTS];
        atomic_store_explicit(&s->chain, atomic_load(slot),
                              memory_order_relaxed);
        atomic_store_explicit(slot, s, memory_order_release);
    }
    pthread_mutex_unlock(&m->mu);
    return s;
}

void ww_metrics_inc(ww_metrics_series_t *s) {
    ww_metrics_add(s, 1);
}

void ww_metrics_add(ww_metrics_series_t *s, uint64_t n) {
    if (s) atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
}

void ww_metrics_set(ww_metrics_series_t *s, double v) {
    if (!s) return;
    atomic_store_explicit(&s->bits, dbits(v), memory_order_relaxed);
    if (s->family->type == WW_METRICS_COUNTER)
        atomic_store_explicit(&s->is_set, true, memory_order_relaxed);
}

static void add_double(_Atomic uint64_t *bits, double v) {
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        bits, &old, dbits(bitsd(old) + v), memory_order_relaxed,
        memory_order_relaxed)) {
    }
}

void ww_metrics_observe(ww_metrics_series_t *s, double v) {
    if (!s || s->family->type != WW_METRICS_HISTOGRAM) return;
    const ww_metrics_family_t *f = s->family;
    size_t b = 0;
    while (b < f->n_bounds && v > f->bounds[b])
        b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    add_double(&s->bits, v);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

double ww_metrics_value(const ww_metrics_series_t *s) {
    if (!s) return 0;
    ww_metrics_series_t *w = (ww_metrics_series_t *)s;
    switch (s->family->type) {
    case WW_METRICS_GAUGE:
        return bitsd(atomic_load(&w->bits));
    case WW_METRICS_COUNTER:
        return (double)atomic_load(&w->count) +
               (atomic_load(&w->is_set) ? bitsd(atomic_load(&w->bits)) : 0);
    case WW_METRICS_HISTOGRAM:
        return (double)atomic_load(&w->count);
    }
    return 0;
}

ww_code_t ww_metrics_collector_add(ww_metrics_t *m, ww_metrics_collect_fn fn,
                                   void *ctx, ww_err_t *err) {
    collector_t *c = calloc(1, sizeof *c);
    if (!c) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_lock(&m->render_mu);
    c->next = m->collectors;
    m->collectors = c;
    pthread_mutex_unlock(&m->render_mu);
    return WW_OK;
}

void ww_metrics_collector_remove(ww_metrics_t *m, ww_metrics_collect_fn fn,
                                 void *ctx) {
    if (!m) return;
    pthread_mutex_lock(&m->render_mu);
    for (collector_t **pc = &m->collectors; *pc; pc = &(*pc)->next) {
        if ((*pc)->fn == fn && (*pc)->ctx == ctx) {
            collector_t *c = *pc;
            *pc = c->next;
            free(c);
            break;
        }
    }
    pthread_mutex_unlock(&m->render_mu);
}

/* ---------- rendering ---------- */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf_t;

static void put(buf_t *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf_t *b, const char *s) {
    put(b, s, strlen(s));
}

/* HELP text escapes \ and newline; label values also ". */
static void put_escaped(buf_t *b, const char *s, bool quote) {
    for (; *s; s++) {
        if (*s == '\\')
            puts_(b, "\\\\");
        else if (*s == '\n')
            puts_(b, "\\n");
        else if (quote && *s == '"')
            puts_(b, "\\\"");
        else
            put(b, s, 1);
    }
}

/* The shortest text that reads back as v; whole numbers without an
 * exponent. */
static void put_double(buf_t *b, double v) {
    char s[40];
    if (isnan(v))
        snprintf(s, sizeof s, "NaN");
    else if (isinf(v))
        snprintf(s, sizeof s, v > 0 ? "+Inf" : "-Inf");
    else if (v > -1e15 && v < 1e15 && (double)(long long)v == v)
        snprintf(s, sizeof s, "%lld", (long long)v); /* 10, not 1e+01 */
    else
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(s, sizeof s, "%.*g", prec, v);
            if (strtod(s, NULL) == v) break;
        }
    puts_(b, s);
}

static void put_u64(buf_t *b, uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    puts_(b, s);
}

/* name{labels[,le="..."]} */
static void put_series_name(buf_t *b, const ww_metrics_family_t *f,
                            const ww_metrics_series_t *s, const char *suffix,
                            const double *le) {
    puts_(b, f->name);
    puts_(b, suffix);
    if (!f->n_labels && !le) return;
    puts_(b, "{");
    for (size_t i = 0; i < f->n_labels; i++) {
        if (i) puts_(b, ",");
        puts_(b, f->labels[i]);
        puts_(b, "=\"");
        put_escaped(b, s->values[i], true);
        puts_(b, "\"");
    }
    if (le) {
        puts_(b, f->n_labels ? ",le=\"" : "le=\"");
        put_double(b, *le);
        puts_(b, "\"");
    }
    puts_(b, "}");
}

static void render_series(buf_t *b, const ww_metrics_family_t *f,
                          ww_metrics_series_t *s) {
    if (f->type != WW_METRICS_HISTOGRAM) {
        put_series_name(b, f, s, "", NULL);
        puts_(b, " ");
        double v = ww_metrics_value(s);
        if (f->type == WW_METRICS_COUNTER && !atomic_load(&s->is_set))
            put_u64(b, atomic_load(&s->count));
        else
            put_double(b, v);
        puts_(b, "\n");
        return;
    }
    /* The count is read first and the buckets after: a concurrent
     * observation may show in a bucket and not yet in the count, never the
     * other way round beyond +Inf, which is the count itself. */
    uint64_t count = atomic_load(&s->count);
    uint64_t cum = 0;
    for (size_t i = 0; i < f->n_bounds; i++) {
        cum += atomic_load(&s->buckets[i]);
        if (cum > count) cum = count;
        put_series_name(b, f, s, "_bucket", &f->bounds[i]);
        puts_(b, " ");
        put_u64(b, cum);
        puts_(b, "\n");
    }
    double inf = INFINITY;
    put_series_name(b, f, s, "_bucket", &inf);
    puts_(b, " ");
    put_u64(b, count);
    puts_(b, "\n");
    put_series_name(b, f, s, "_sum", NULL);
    puts_(b, " ");
    put_double(b, bitsd(atomic_load(&s->bits)));
    puts_(b, "\n");
    put_series_name(b, f, s, "_count", NULL);
    puts_(b, " ");
    put_u64(b, count);
    puts_(b, "\n");
}

static const char *type_name(ww_metrics_type_t t) {
    return t == WW_METRICS_COUNTER ? "counter"
           : t == WW_METRICS_GAUGE ? "gauge"
                                   : "histogram";
}

char *ww_metrics_render(ww_metrics_t *m, size_t *len) {
    buf_t b = {0};
    pthread_mutex_lock(&m->render_mu);
    for (collector_t *c = m->collectors; c; c = c->next)
        c->fn(c->ctx, m);
    pthread_mutex_lock(&m->mu);
    for (ww_metrics_family_t *f = m->first; f; f = f->next) {
        puts_(&b, "# HELP ");
        puts_(&b, f->name);
        puts_(&b, " ");
        put_escaped(&b, f->help, false);
        puts_(&b, "\n# TYPE ");
        puts_(&b, f->name);
        puts_(&b, " ");
        puts_(&b, type_name(f->type));
        puts_(&b, "\n");
        for (ww_metrics_series_t *s = f->first; s; s = s->next)
            render_series(&b, f, s);
    }
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_unlock(&m->render_mu);
    if (b.oom || !b.p) {
        free(b.p);
        if (b.oom) return NULL;
        b.p = strdup("");
        if (!b.p) return NULL;
    }
    if (len) *len = b.len;
    return b.p;
}
