/* ww_bus_waiters.c - correlation-id registry for request/reply over Kafka. */
#include "ww_bus_waiters.h"

#include "ww_clock.h"
#include "ww_cond.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ww_bus_waiter {
    ww_bus_waiters_t *owner;
    ww_bus_waiter_t *next; /* bucket chain */
    pthread_cond_t cond;
    bool done;             /* a reply or a failure arrived */
    ww_code_t code;        /* WW_OK with a reply, else the failure */
    void *payload;
    size_t len;
    /* Asynchronous waiters: answered through fn, owned by the registry. */
    ww_bus_waiter_fn fn;
    void *opaque;
    int64_t deadline; /* monotonic ms; INT64_MAX: none */
    ww_bus_waiter_t *done_next; /* answers collected outside the lock */
    char id[WW_BUS_WAITERS_MAX_ID + 1];
};

struct ww_bus_waiters {
    pthread_mutex_t lock;
    ww_bus_waiter_t **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    ww_code_t failed; /* WW_OK until fail_all */
    char failed_why[128];
    ww_bus_waiters_stats_t stats;
};

/* FNV-1a: ids are uuids or similar, any decent spread will do. */
static size_t hash_id(const char *id) {
    uint64_t h = 1469598103934665603ULL;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return (size_t)h;
}

ww_bus_waiters_t *ww_bus_waiters_new(void) {
    ww_bus_waiters_t *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->nbuckets = 64;
    ws->buckets = calloc(ws->nbuckets, sizeof *ws->buckets);
    if (!ws->buckets) {
        free(ws);
        return NULL;
    }
    pthread_mutex_init(&ws->lock, NULL);
    return ws;
}

void ww_bus_waiters_destroy(ww_bus_waiters_t *ws) {
    if (!ws) return;
    /* Waiters left behind are a caller bug; free them rather than leak. */
    for (size_t i = 0; i < ws->nbuckets; i++) {
        ww_bus_waiter_t *w = ws->buckets[i];
        while (w) {
            ww_bus_waiter_t *next = w->next;
            if (!w->fn) pthread_cond_destroy(&w->cond);
            free(w->payload);
            free(w);
            w = next;
        }
    }
    pthread_mutex_destroy(&ws->lock);
    free(ws->buckets);
    free(ws);
}

/* Caller holds the lock. */
static ww_bus_waiter_t **find_slot(ww_bus_waiters_t *ws, const char *id) {
    ww_bus_waiter_t **slot = &ws->buckets[hash_id(id) & (ws->nbuckets - 1)];
    while (*slot && strcmp((*slot)->id, id) != 0) slot = &(*slot)->next;
    return slot;
}

/* Caller holds the lock. Growing is best effort: a failed calloc only makes
 * chains longer. */
static void maybe_grow(ww_bus_waiters_t *ws) {
    if (ws->count < ws->nbuckets * 2) return;
    size_t n = ws->nbuckets * 2;
    ww_bus_waiter_t **b = calloc(n, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i < ws->nbuckets; i++) {
        ww_bus_waiter_t *w = ws->buckets[i];
        while (w) {
            ww_bus_waiter_t *next = w->next;
            size_t j = hash_id(w->id) & (n - 1);
            w->next = b[j];
            b[j] = w;
            w = next;
        }
    }
    free(ws->buckets);
    ws->buckets = b;
    ws->nbuckets = n;
}

/* Caller holds the lock: takes w out of the table. */
static void unlink_locked(ww_bus_waiters_t *ws, ww_bus_waiter_t *w) {
    ww_bus_waiter_t **slot = find_slot(ws, w->id);
    if (*slot == w) {
        *slot = w->next;
        ws->count--;
        ws->stats.pending--;
    }
}

/* Registers `w` (filled by the caller) under its id; frees it on error. */
static ww_code_t add(ww_bus_waiters_t *ws, ww_bus_waiter_t *w, ww_err_t *err) {
    pthread_mutex_lock(&ws->lock);
    ww_code_t rc = WW_OK;
    if (ws->failed != WW_OK) {
        rc = ww_err_set(err, WW_ERR_UNAVAILABLE, "waiters: shut down (%s)",
                        ws->failed_why);
    } else {
        ww_bus_waiter_t **slot = find_slot(ws, w->id);
        if (*slot) {
            rc = ww_err_set(err, WW_ERR_ALREADY_EXISTS,
                            "waiters: correlation id %s is already waited for",
                            w->id);
        } else {
            *slot = w;
            ws->count++;
            ws->stats.registered++;
            ws->stats.pending++;
            maybe_grow(ws);
        }
    }
    pthread_mutex_unlock(&ws->lock);
    if (rc != WW_OK) {
        if (!w->fn) pthread_cond_destroy(&w->cond);
        free(w);
    }
    return rc;
}

/* A zeroed waiter carrying a valid copy of `id`, or NULL with err set. */
static ww_bus_waiter_t *waiter_new(ww_bus_waiters_t *ws, const char *id,
                                   ww_err_t *err) {
    if (!ws || !id) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "waiters: registry and id are required");
        return NULL;
    }
    size_t idlen = strlen(id);
    if (idlen == 0 || idlen > WW_BUS_WAITERS_MAX_ID) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "waiters: correlation id must be 1..%d bytes, got %zu",
                   WW_BUS_WAITERS_MAX_ID, idlen);
        return NULL;
    }
    ww_bus_waiter_t *w = calloc(1, sizeof *w);
    if (!w) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "waiters: out of memory");
        return NULL;
    }
    memcpy(w->id, id, idlen + 1);
    w->owner = ws;
    w->deadline = INT64_MAX;
    return w;
}

ww_code_t ww_bus_waiters_register(ww_bus_waiters_t *ws,
                                  const char *correlation_id,
                                  ww_bus_waiter_t **out, ww_err_t *err) {
    if (!out)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "waiters: registry, id and out are required");
    ww_bus_waiter_t *w = waiter_new(ws, correlation_id, err);
    if (!w) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    ww_cond_init_mono(&w->cond);
    ww_code_t rc = add(ws, w, err);
    if (rc == WW_OK) *out = w;
    return rc;
}

ww_code_t ww_bus_waiters_register_async(ww_bus_waiters_t *ws,
                                        const char *correlation_id,
                                        int timeout_ms, ww_bus_waiter_fn fn,
                                        void *opaque, ww_err_t *err) {
    if (!fn)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "waiters: an asynchronous waiter needs a callback");
    ww_bus_waiter_t *w = waiter_new(ws, correlation_id, err);
    if (!w) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    w->fn = fn;
    w->opaque = opaque;
    if (timeout_ms >= 0) w->deadline = ww_clock_mono_ms() + timeout_ms;
    return add(ws, w, err);
}

bool ww_bus_waiters_complete(ww_bus_waiters_t *ws, const char *correlation_id,
                             const void *payload, size_t len) {
    if (!ws || !correlation_id) return false;
    /* Copy outside the lock; most replies in a shared replies topic are for
     * someone else, but copying is cheap next to a round trip to Kafka. */
    void *copy = malloc(len + 1);
    if (!copy) return false;
    if (len) memcpy(copy, payload, len);
    ((char *)copy)[len] = '\0';

    bool taken = false;
    pthread_mutex_lock(&ws->lock);
    ww_bus_waiter_t *w = *find_slot(ws, correlation_id);
    if (w && w->fn) {
        unlink_locked(ws, w);
        ws->stats.completed++;
        pthread_mutex_unlock(&ws->lock);
        free(copy);
        w->fn(w->opaque, WW_OK, payload, len, NULL);
        free(w);
        return true;
    }
    if (w && !w->done) {
        w->done = true;
        w->code = WW_OK;
        w->payload = copy;
        w->len = len;
        copy = NULL;
        taken = true;
        ws->stats.completed++;
        pthread_cond_signal(&w->cond);
    } else if (!w) {
        ws->stats.unclaimed++;
    }
    pthread_mutex_unlock(&ws->lock);
    free(copy);
    return taken;
}

/* Caller holds the lock: unlinks w and frees it (not its moved-out payload). */
static void release_locked(ww_bus_waiters_t *ws, ww_bus_waiter_t *w) {
    unlink_locked(ws, w);
    pthread_cond_destroy(&w->cond);
    free(w->payload);
    free(w);
}

ww_code_t ww_bus_waiter_wait(ww_bus_waiter_t *w, int timeout_ms,
                             void **payload, size_t *len, ww_err_t *err) {
    if (!w || !payload || !len) {
        if (w) ww_bus_waiter_cancel(w);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "waiters: waiter, payload and len are required");
    }
    *payload = NULL;
    *len = 0;
    ww_bus_waiters_t *ws = w->owner;
    struct timespec deadline = ww_clock_mono_deadline(timeout_ms);

    pthread_mutex_lock(&ws->lock);
    while (!w->done && timeout_ms != 0) {
        int rc = timeout_ms < 0
                     ? pthread_cond_wait(&w->cond, &ws->lock)
                     : pthread_cond_timedwait(&w->cond, &ws->lock, &deadline);
        if (rc == ETIMEDOUT) break;
    }
    ww_code_t code;
    if (!w->done) {
        ws->stats.timed_out++;
        code = ww_err_set(err, WW_ERR_DEADLINE_EXCEEDED,
                          "waiters: no reply for %s within %d ms", w->id,
                          timeout_ms);
    } else if (w->code != WW_OK) {
        code = ww_err_set(err, w->code, "waiters: %s", ws->failed_why);
    } else {
        code = WW_OK;
        *payload = w->payload;
        *len = w->len;
        w->payload = NULL;
    }
    release_locked(ws, w);
    pthread_mutex_unlock(&ws->lock);
    return code;
}

void ww_bus_waiter_cancel(ww_bus_waiter_t *w) {
    if (!w) return;
    ww_bus_waiters_t *ws = w->owner;
    pthread_mutex_lock(&ws->lock);
    release_locked(ws, w);
    pthread_mutex_unlock(&ws->lock);
}

/* Answers asynchronous waiters taken out of the table (no lock held). */
static void answer_all(ww_bus_waiter_t *w, ww_code_t code, const char *why) {
    while (w) {
        ww_bus_waiter_t *next = w->done_next;
        ww_err_t e;
        ww_err_set(&e, code, "waiters: %s (%s)", why, w->id);
        w->fn(w->opaque, code, NULL, 0, &e);
        free(w);
        w = next;
    }
}

void ww_bus_waiters_fail_all(ww_bus_waiters_t *ws, ww_code_t code,
                             const char *why) {
    if (!ws) return;
    if (code == WW_OK) code = WW_ERR_CANCELLED;
    pthread_mutex_lock(&ws->lock);
    ws->failed = code;
    snprintf(ws->failed_why, sizeof ws->failed_why, "%s",
             why ? why : "shutting down");
    ww_bus_waiter_t *answers = NULL;
    for (size_t i = 0; i < ws->nbuckets; i++) {
        for (ww_bus_waiter_t *w = ws->buckets[i], *next; w; w = next) {
            next = w->next;
            if (w->fn) {
                w->done_next = answers;
                answers = w;
                continue;
            }
            if (w->done) continue;
            w->done = true;
            w->code = code;
            pthread_cond_signal(&w->cond);
        }
    }
    for (ww_bus_waiter_t *w = answers; w; w = w->done_next)
        unlink_locked(ws, w);
    pthread_mutex_unlock(&ws->lock);
    answer_all(answers, code, ws->failed_why);
}

size_t ww_bus_waiters_sweep(ww_bus_waiters_t *ws) {
    if (!ws) return 0;
    int64_t now = ww_clock_mono_ms();
    ww_bus_waiter_t *answers = NULL;
    size_t n = 0;
    pthread_mutex_lock(&ws->lock);
    for (size_t i = 0; i < ws->nbuckets; i++)
        for (ww_bus_waiter_t *w = ws->buckets[i]; w; w = w->next)
            if (w->fn && w->deadline <= now) {
                w->done_next = answers;
                answers = w;
                n++;
            }
    for (ww_bus_waiter_t *w = answers; w; w = w->done_next) {
        unlink_locked(ws, w);
        ws->stats.timed_out++;
    }
    pthread_mutex_unlock(&ws->lock);
    answer_all(answers, WW_ERR_DEADLINE_EXCEEDED, "no reply in time");
    return n;
}

bool ww_bus_waiters_withdraw(ww_bus_waiters_t *ws,
                             const char *correlation_id) {
    if (!ws || !correlation_id) return false;
    pthread_mutex_lock(&ws->lock);
    ww_bus_waiter_t *w = *find_slot(ws, correlation_id);
    bool found = w && w->fn;
    if (found) unlink_locked(ws, w);
    pthread_mutex_unlock(&ws->lock);
    if (found) free(w);
    return found;
}

ww_bus_waiters_stats_t ww_bus_waiters_stats(ww_bus_waiters_t *ws) {
    ww_bus_waiters_stats_t s = {0};
    if (!ws) return s;
    pthread_mutex_lock(&ws->lock);
    s = ws->stats;
    pthread_mutex_unlock(&ws->lock);
    return s;
}
