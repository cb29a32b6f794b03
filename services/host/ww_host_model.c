/* ww_host_model.c - per-partition shards folded from the events tail, with
 * waits for applied commands and for catching up. */
#include "ww_host_model.h"

#include "ww_bus_envelope.h"
#include "ww_bus_tail.h"
#include "ww_clock.h"
#include "ww_host_state.h"
#include "ww_log.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* A write's wait for its facts. */
typedef struct applied_wait {
    struct applied_wait *next;
    int64_t command_offset;
    int64_t deadline; /* monotonic ms; INT64_MAX: none */
    ww_host_model_fn fn;
    void *opaque;
} applied_wait_t;

typedef struct part {
    pthread_rwlock_t lock;
    ww_shard_t *shard;
    /* Under the write lock, with the shard: the offset after the last
     * record folded in (or skipped), and the records of each kind. */
    int64_t next;
    uint64_t applied_n, skipped_n;
    atomic_llong applied;  /* the shard's last recorded command */
    applied_wait_t *waits; /* ascending by command offset; under wait_mu */
    /* How many waits the list holds: the applier skips wait_mu while it is
     * 0. Raised before the registrant reads `applied`, read after the
     * applier moved it (both seq_cst), so one of them sees the other. */
    atomic_int nwaits;
} part_t;

struct ww_host_model {
    const ww_host_model_ops_t *ops;
    void *ctx;
    int n;
    part_t *parts;
    ww_bus_tail_t *tail;
    pthread_mutex_t wait_mu;
    atomic_ullong applied_records, skipped_records;
    /* The tail thread's own: records handled at the last idle tick and at
     * the last heap trim (see give_back_memory). */
    uint64_t seen_at_tick, seen_at_trim;
};

enum { TRIM_AFTER_RECORDS = 100000 };

/* A replay (a start, a long outage) fetches records far faster than they
 * are applied, and librdkafka's buffers for them are freed into glibc's
 * heap, which keeps them: 1,000,000 facts left ~330 MiB resident that the
 * state does not use (bench_rebuild). Once a large replay is over (no
 * record in the last idle tick after many), hand them back. */
static void give_back_memory(ww_host_model_t *m) {
    uint64_t seen =
        atomic_load(&m->applied_records) + atomic_load(&m->skipped_records);
    bool quiet = seen == m->seen_at_tick;
    m->seen_at_tick = seen;
    if (quiet && seen - m->seen_at_trim >= TRIM_AFTER_RECORDS) {
        m->seen_at_trim = seen;
        malloc_trim(0);
    }
}

/* Runs the answers of `w` (a detached list) with `code`. */
static void answer(applied_wait_t *w, ww_code_t code, const char *why) {
    while (w) {
        applied_wait_t *next = w->next;
        ww_err_t e = {0};
        if (code != WW_OK) ww_err_set(&e, code, "%s", why);
        w->fn(w->opaque, code, &e);
        free(w);
        w = next;
    }
}

/* Detaches the waits of partition `p` that are due at `applied`. */
static applied_wait_t *due(ww_host_model_t *m, int32_t p, int64_t applied) {
    applied_wait_t *done = NULL, **tail = &done;
    pthread_mutex_lock(&m->wait_mu);
    applied_wait_t **pp = &m->parts[p].waits;
    while (*pp && (*pp)->command_offset <= applied) {
        applied_wait_t *w = *pp;
        *pp = w->next;
        w->next = NULL;
        *tail = w;
        tail = &w->next;
        atomic_fetch_sub(&m->parts[p].nwaits, 1);
    }
    pthread_mutex_unlock(&m->wait_mu);
    return done;
}

static ww_code_t on_record(void *opaque, const rd_kafka_message_t *rec,
                           ww_err_t *err) {
    ww_host_model_t *m = opaque;
    int32_t p = rec->partition;
    if (p < 0 || p >= m->n)
        return ww_err_set(err, WW_ERR_INTERNAL,
                          "events record of unknown partition %d", (int)p);
    part_t *pt = &m->parts[p];
    bool skipped = false;
    ww_err_t why = {0};
    pthread_rwlock_wrlock(&pt->lock);
    ww_code_t rc = m->ops->apply(m->ctx, pt->shard, rec, &skipped, &why);
    int64_t applied = ww_shard_last_command(pt->shard);
    if (rc == WW_OK) {
        pt->next = rec->offset + 1;
        if (skipped)
            pt->skipped_n++;
        else
            pt->applied_n++;
    }
    pthread_rwlock_unlock(&pt->lock);
    if (rc != WW_OK) {
        if (err) *err = why;
        return rc;
    }
    if (skipped) {
        atomic_fetch_add(&m->skipped_records, 1);
        /* A rare line: only it reads the fact's trace, not every apply. */
        ww_trace_t span;
        ww_bus_envelope_trace(rec, &span);
        ww_trace_t prev = ww_trace_enter(&span);
        ww_log_warn("model",
                    "event=skipped partition=%d offset=%lld reason=\"%s\"",
                    (int)p, (long long)rec->offset, why.msg);
        ww_trace_leave(&prev);
        return WW_OK;
    }
    atomic_fetch_add(&m->applied_records, 1);
    if (applied > atomic_load(&pt->applied)) {
        atomic_store(&pt->applied, applied);
        if (atomic_load(&pt->nwaits) > 0)
            answer(due(m, p, applied), WW_OK, NULL);
    }
    return WW_OK;
}

/* Timeouts of the applied waits and the heap, from the tail's thread. */
static void on_idle(void *opaque) {
    ww_host_model_t *m = opaque;
    int64_t now = ww_clock_mono_ms();
    applied_wait_t *late = NULL;
    pthread_mutex_lock(&m->wait_mu);
    for (int p = 0; p < m->n; p++) {
        for (applied_wait_t **pp = &m->parts[p].waits; *pp;) {
            applied_wait_t *w = *pp;
            if (w->deadline > now) {
                pp = &w->next;
                continue;
            }
            *pp = w->next;
            w->next = late;
            late = w;
            atomic_fetch_sub(&m->parts[p].nwaits, 1);
        }
    }
    pthread_mutex_unlock(&m->wait_mu);
    answer(late, WW_ERR_DEADLINE_EXCEEDED,
           "the read model did not apply the command's facts in time");
    give_back_memory(m);
}

ww_code_t ww_host_model_new(const ww_bus_config_t *bus,
                            const char *events_topic, int partitions,
                            const ww_host_model_ops_t *ops, void *ctx,
                            ww_host_model_t **out, ww_err_t *err) {
    return ww_host_model_new_from(bus, events_topic, partitions, ops, ctx,
                                  NULL, out, err);
}

ww_code_t ww_host_model_new_from(const ww_bus_config_t *bus,
                                 const char *events_topic, int partitions,
                                 const ww_host_model_ops_t *ops, void *ctx,
                                 ww_host_model_start_t *start,
                                 ww_host_model_t **out, ww_err_t *err) {
    *out = NULL;
    if (partitions <= 0 || !ops || !ops->apply || !ops->new_state) {
        if (start)
            for (int p = 0; p < partitions; p++)
                ww_shard_destroy(start->parts[p].shard);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "model: partitions and ops are required");
    }
    ww_host_model_t *m = calloc(1, sizeof *m);
    int64_t *offsets = calloc((size_t)partitions, sizeof *offsets);
    if (m) m->parts = calloc((size_t)partitions, sizeof *m->parts);
    if (!m || !m->parts || !offsets) {
        if (start)
            for (int p = 0; p < partitions; p++)
                ww_shard_destroy(start->parts[p].shard);
        if (m) free(m->parts);
        free(m);
        free(offsets);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    m->ops = ops;
    m->ctx = ctx;
    pthread_mutex_init(&m->wait_mu, NULL);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    ww_code_t rc = WW_OK;
    for (int p = 0; p < partitions; p++) {
        part_t *pt = &m->parts[p];
        pthread_rwlock_init(&pt->lock, &attr);
        ww_host_model_start_part_t *from = start ? &start->parts[p] : NULL;
        if (from && from->shard) {
            pt->shard = from->shard; /* taken over */
            from->shard = NULL;
            pt->next = offsets[p] = from->next;
            pt->applied_n = from->applied;
            pt->skipped_n = from->skipped;
        } else {
            pt->shard = ww_shard_new(ops->shard_ops, ops->new_state());
        }
        atomic_init(&pt->applied,
                    pt->shard ? ww_shard_last_command(pt->shard) : -1);
        m->n = p + 1;
        if (!pt->shard)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_rwlockattr_destroy(&attr);
    if (rc == WW_OK) {
        ww_bus_tail_config_t tc = {.topic = events_topic,
                                   .handler = on_record,
                                   .opaque = m,
                                   .on_idle = on_idle,
                                   .offsets = offsets,
                                   .offsets_cnt = partitions};
        rc = ww_bus_tail_start(bus, &tc, &m->tail, err);
    }
    free(offsets);
    if (rc == WW_OK && ww_bus_tail_partitions(m->tail) != partitions)
        rc = ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                        "%s has %d partitions, want %d", events_topic,
                        ww_bus_tail_partitions(m->tail), partitions);
    if (rc != WW_OK) {
        ww_host_model_destroy(m);
        return rc;
    }
    *out = m;
    return WW_OK;
}

int ww_host_model_partitions(const ww_host_model_t *m) {
    return m->n;
}

const ww_shard_t *ww_host_model_read(ww_host_model_t *m, int32_t p) {
    if (p < 0 || p >= m->n) return NULL;
    pthread_rwlock_rdlock(&m->parts[p].lock);
    return m->parts[p].shard;
}

void ww_host_model_read_end(ww_host_model_t *m, int32_t p) {
    if (p >= 0 && p < m->n) pthread_rwlock_unlock(&m->parts[p].lock);
}

ww_code_t ww_host_model_clone_at(ww_host_model_t *m, int32_t p, int64_t end,
                                 ww_shard_t **out, ww_err_t *err) {
    if (p < 0 || p >= m->n)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "no partition %d",
                          (int)p);
    ww_code_t rc = WW_OK;
    pthread_rwlock_rdlock(&m->parts[p].lock);
    /* The position moves after the handler returned: at the end means
     * every record before it is in the shard. */
    int64_t at = ww_bus_tail_position(m->tail, p);
    if (at < end)
        rc = ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                  "partition %d read to %lld of %lld", (int)p,
                                  (long long)at, (long long)end);
    else if (!(*out = ww_shard_clone(m->parts[p].shard)))
        rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    pthread_rwlock_unlock(&m->parts[p].lock);
    return rc;
}

ww_code_t ww_host_model_snapshot(ww_host_model_t *m, int32_t p,
                                 ww_host_model_snapshot_t *out,
                                 ww_err_t *err) {
    if (p < 0 || p >= m->n)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "no partition %d",
                          (int)p);
    part_t *pt = &m->parts[p];
    pthread_rwlock_rdlock(&pt->lock);
    ww_code_t rc = ww_shard_serialize(pt->shard, &out->state, &out->len, err);
    out->next = pt->next;
    out->applied = pt->applied_n;
    out->skipped = pt->skipped_n;
    pthread_rwlock_unlock(&pt->lock);
    return rc;
}

ww_code_t ww_host_model_digest(ww_host_model_t *m, int32_t p,
                               ww_host_model_digest_t *out, ww_err_t *err) {
    if (p < 0 || p >= m->n)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "no partition %d",
                          (int)p);
    part_t *pt = &m->parts[p];
    pthread_rwlock_rdlock(&pt->lock);
    ww_code_t rc = ww_host_state_shard_digest(pt->shard, &out->digest, err);
    out->next = pt->next;
    out->applied = pt->applied_n;
    out->skipped = pt->skipped_n;
    pthread_rwlock_unlock(&pt->lock);
    return rc;
}

ww_code_t ww_host_model_ends(ww_host_model_t *m, int64_t *ends, int timeout_ms,
                             ww_err_t *err) {
    return ww_bus_tail_ends(m->tail, ends, timeout_ms, err);
}

ww_code_t ww_host_model_wait_reached(ww_host_model_t *m, const int64_t *ends,
                                     int timeout_ms, ww_err_t *err) {
    return ww_bus_tail_wait_positions(m->tail, ends, timeout_ms, err);
}

int64_t ww_host_model_position(ww_host_model_t *m, int32_t p) {
    return ww_bus_tail_position(m->tail, p);
}

ww_code_t ww_host_model_when_applied(ww_host_model_t *m, int32_t p,
                                     int64_t command_offset, int timeout_ms,
                                     ww_host_model_fn fn, void *opaque,
                                     ww_err_t *err) {
    if (p < 0 || p >= m->n || !fn)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "model: no partition %d", (int)p);
    applied_wait_t *w = calloc(1, sizeof *w);
    if (!w) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    w->command_offset = command_offset;
    w->deadline =
        timeout_ms < 0 ? INT64_MAX : ww_clock_mono_ms() + (int64_t)timeout_ms;
    w->fn = fn;
    w->opaque = opaque;
    part_t *pt = &m->parts[p];
    pthread_mutex_lock(&m->wait_mu);
    /* Counted before `applied` is read, and inserted under the lock the
     * applier takes once it saw the count: a wait is either answered here
     * or found by the applier. */
    atomic_fetch_add(&pt->nwaits, 1);
    if (atomic_load(&pt->applied) >= command_offset) {
        atomic_fetch_sub(&pt->nwaits, 1);
        pthread_mutex_unlock(&m->wait_mu);
        answer(w, WW_OK, NULL);
        return WW_OK;
    }
    applied_wait_t **pp = &pt->waits;
    while (*pp && (*pp)->command_offset <= command_offset)
        pp = &(*pp)->next;
    w->next = *pp;
    *pp = w;
    pthread_mutex_unlock(&m->wait_mu);
    return WW_OK;
}

typedef struct caught_up {
    ww_host_model_fn fn;
    void *opaque;
} caught_up_t;

static void on_caught_up(void *opaque, ww_code_t code, const ww_err_t *err) {
    caught_up_t *c = opaque;
    c->fn(c->opaque, code, err);
    free(c);
}

ww_code_t ww_host_model_when_caught_up(ww_host_model_t *m, int timeout_ms,
                                       ww_host_model_fn fn, void *opaque,
                                       ww_err_t *err) {
    caught_up_t *c = malloc(sizeof *c);
    if (!c) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    c->fn = fn;
    c->opaque = opaque;
    ww_code_t rc =
        ww_bus_tail_when_caught_up(m->tail, timeout_ms, on_caught_up, c, err);
    if (rc != WW_OK) free(c);
    return rc;
}

ww_code_t ww_host_model_wait_caught_up(ww_host_model_t *m, int timeout_ms,
                                       ww_err_t *err) {
    return ww_bus_tail_wait_caught_up(m->tail, timeout_ms, err);
}

ww_host_model_stats_t ww_host_model_stats(ww_host_model_t *m) {
    return (ww_host_model_stats_t){atomic_load(&m->applied_records),
                                   atomic_load(&m->skipped_records)};
}

void ww_host_model_destroy(ww_host_model_t *m) {
    if (!m) return;
    ww_bus_tail_destroy(m->tail);
    applied_wait_t *left = NULL;
    pthread_mutex_lock(&m->wait_mu);
    for (int p = 0; p < m->n; p++) {
        applied_wait_t *w = m->parts[p].waits;
        while (w) {
            applied_wait_t *next = w->next;
            w->next = left;
            left = w;
            w = next;
        }
        m->parts[p].waits = NULL;
    }
    pthread_mutex_unlock(&m->wait_mu);
    answer(left, WW_ERR_CANCELLED, "the service is stopping");
    for (int p = 0; p < m->n; p++) {
        ww_shard_destroy(m->parts[p].shard);
        pthread_rwlock_destroy(&m->parts[p].lock);
    }
    free(m->parts);
    pthread_mutex_destroy(&m->wait_mu);
    free(m);
}
