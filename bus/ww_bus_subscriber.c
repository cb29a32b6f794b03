/* ww_bus_subscriber.c - group consumer: handle, retry, dead-letter, commit. */
#include "ww_bus_subscriber.h"

#include "ww_bus_dlq.h"
#include "ww_bus_err.h"
#include "ww_cond.h"

#include "ww_clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_log.h"

/* Payloads are unpacked into a per-subscriber arena that is emptied after
 * each record: protobuf-c otherwise mallocs the message and each string
 * and frees them one by one, a fifth of the subscriber's own cost per
 * record. Payloads too large for the inline block spill into malloc'ed
 * blocks, freed on reset. Consumer thread only. */
typedef struct arena_spill {
    struct arena_spill *next;
    max_align_t data[]; /* the allocation */
} arena_spill_t;

typedef struct arena {
    ProtobufCAllocator allocator; /* allocator_data = the arena */
    size_t used;
    arena_spill_t *spills;
    _Alignas(max_align_t) unsigned char block[16384];
} arena_t;

static void *arena_alloc(void *data, size_t size) {
    arena_t *a = data;
    size_t align = _Alignof(max_align_t);
    size_t start = (a->used + align - 1) / align * align;
    if (size <= sizeof a->block && start <= sizeof a->block - size) {
        a->used = start + size;
        return a->block + start;
    }
    arena_spill_t *s = malloc(sizeof *s + size);
    if (!s) return NULL; /* protobuf-c reports the unpack as failed */
    s->next = a->spills;
    a->spills = s;
    return s->data;
}

/* Everything goes at once in arena_reset. */
static void arena_free(void *data, void *ptr) {
    (void)data;
    (void)ptr;
}

static void arena_init(arena_t *a) {
    a->allocator.alloc = arena_alloc;
    a->allocator.free = arena_free;
    a->allocator.allocator_data = a;
    a->used = 0;
    a->spills = NULL;
}

static void arena_reset(arena_t *a) {
    while (a->spills) {
        arena_spill_t *next = a->spills->next;
        free(a->spills);
        a->spills = next;
    }
    a->used = 0;
}

typedef enum sub_state {
    SUB_NEW = 0,
    SUB_RUNNING,
    SUB_CLOSING,
    SUB_CLOSED,
} sub_state_t;

struct ww_bus_subscriber {
    rd_kafka_t *rk;
    rd_kafka_conf_t *dlq_conf; /* until the first dead letter needs it */
    rd_kafka_t *dlq;
    char group_id[256];
    char **topics;
    size_t n_topics;
    const ww_bus_registry_t *registry;
    ww_bus_handler_fn handler;
    void *opaque;
    int max_attempts, backoff_initial_ms, backoff_max_ms, commit_interval_ms;

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes backoff sleeps and waiting closers */
    sub_state_t state;
    bool stop;              /* under mu, for the sleepers' condition */
    atomic_bool stop_flag;  /* the same, for the loop's cheap check */
    ww_code_t close_rc;
    ww_err_t close_err;

    /* Consumer thread only (close reads fatal_err after joining it). */
    ww_err_t fatal_err;
    bool stored_uncommitted;
    int64_t last_commit_ms;
    unsigned since_clock; /* records since the clock was last read */

    arena_t arena; /* consumer thread only */

    atomic_llong acked, retried, dead_lettered, dlq_skipped, commits;
    atomic_bool failed;
    atomic_int assigned;
};

/* Read once per record: an atomic, not the mutex the sleepers use. */
static bool stopping(ww_bus_subscriber_t *sub) {
    return atomic_load_explicit(&sub->stop_flag, memory_order_acquire);
}

/* Sleeps ms unless close is called; returns false when interrupted. */
static bool sleep_unless_stopped(ww_bus_subscriber_t *sub, int ms) {
    struct timespec deadline = ww_clock_mono_deadline(ms);
    pthread_mutex_lock(&sub->mu);
    while (!sub->stop &&
           pthread_cond_timedwait(&sub->cv, &sub->mu, &deadline) == 0) {
    }
    bool stopped = sub->stop;
    pthread_mutex_unlock(&sub->mu);
    return !stopped;
}

/* ---- offsets ------------------------------------------------------------ */

static void commit_stored(ww_bus_subscriber_t *sub, bool async) {
    rd_kafka_resp_err_t e = rd_kafka_commit(sub->rk, NULL, async);
    sub->last_commit_ms = ww_clock_mono_ms();
    sub->stored_uncommitted = false;
    if (!async) {
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            atomic_fetch_add(&sub->commits, 1);
        else if (e != RD_KAFKA_RESP_ERR__NO_OFFSET)
            ww_log_warn("bus", "commit group=%s error=%s", sub->group_id,
                        rd_kafka_err2name(e));
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                      rd_kafka_topic_partition_list_t *offsets,
                      void *opaque) {
    (void)rk;
    (void)offsets;
    ww_bus_subscriber_t *sub = opaque;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        atomic_fetch_add(&sub->commits, 1);
    else if (e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        /* The offsets stay stored and go with the next commit. */
        ww_log_warn("bus", "async commit group=%s error=%s", sub->group_id,
                    rd_kafka_err2name(e));
}

/* Marks the record finished: its successor is where the group resumes. */
static void store_offset(ww_bus_subscriber_t *sub,
                         const rd_kafka_message_t *m) {
    /* The per-topic call stores m->offset + 1 without building a list. */
    rd_kafka_resp_err_t e =
        rd_kafka_offset_store(m->rkt, m->partition, m->offset);
    if (e)
        /* The partition was taken away meanwhile: its next owner gets the
         * record again, which at-least-once allows. */
        ww_log_warn("bus", "store offset topic=%s partition=%d offset=%lld "
                    "error=%s", rd_kafka_topic_name(m->rkt), m->partition,
                    (long long)m->offset, rd_kafka_err2name(e));
    else
        sub->stored_uncommitted = true;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    ww_bus_subscriber_t *sub = opaque;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS &&
        atomic_load(&sub->stop_flag)) {
        /* Stopping (the close delivers it, or the last poll): librdkafka
         * can wait forever on an assign during the close, which then never
         * returns; an unassign is the answer it expects. */
        ww_log_debug("bus", "assigned group=%s partitions=%d while stopping: "
                     "unassigned", sub->group_id, parts->cnt);
        rd_kafka_assign(rk, NULL);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        ww_log_debug("bus", "assigned group=%s partitions=%d", sub->group_id,
                     parts->cnt);
        rd_kafka_assign(rk, parts);
        atomic_store(&sub->assigned, parts->cnt);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* Finished records must be committed before the next owner starts,
         * or it would redo them. */
        if (!rd_kafka_assignment_lost(rk)) commit_stored(sub, false);
        ww_log_debug("bus", "revoked group=%s partitions=%d", sub->group_id,
                     parts->cnt);
    } else {
        ww_log_warn("bus", "rebalance group=%s error=%s", sub->group_id,
                    rd_kafka_err2name(e));
    }
    rd_kafka_assign(rk, NULL);
    atomic_store(&sub->assigned, 0);
}

/* ---- dead letters ------------------------------------------------------- */

typedef struct dlq_result {
    bool done;
    rd_kafka_resp_err_t err;
    int64_t offset;
} dlq_result_t;

static void on_dlq_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                            void *opaque) {
    (void)rk;
    (void)opaque;
    dlq_result_t *r = m->_private;
    if (r) {
        r->done = true;
        r->err = m->err;
        r->offset = m->offset;
    }
}

static bool dlq_client(ww_bus_subscriber_t *sub, ww_err_t *err) {
    if (sub->dlq) return true;
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(sub->dlq_conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dlq_delivery);
    sub->dlq = ww_bus_config_client_new(RD_KAFKA_PRODUCER, conf,
                                        "DLQ producer", err);
    return sub->dlq != NULL;
}

/* One attempt at writing the dead letter (truncated when it would not fit,
 * or when `truncate`), waiting for the acknowledgement. */
static ww_code_t dlq_write_once(ww_bus_subscriber_t *sub,
                                const rd_kafka_message_t *m, const char *reason,
                                int attempts, bool truncate, bool *truncated,
                                ww_err_t *err) {
    if (!dlq_client(sub, err)) return WW_ERR_INVALID_ARGUMENT;
    ww_bus_dlq_letter_t l;
    ww_bus_dlq_letter(m, sub->group_id, reason, attempts,
                      ww_bus_dlq_max_bytes(sub->dlq), truncate, &l);
    *truncated = l.truncated;

    /* On the heap: should a report ever come after we gave up waiting, it
     * must not write into a dead stack frame. */
    dlq_result_t *res = calloc(1, sizeof *res);
    if (!res) {
        rd_kafka_headers_destroy(l.headers);
        return ww_err_set_retriable(err, WW_ERR_RESOURCE_EXHAUSTED,
                                    "out of memory");
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        sub->dlq, RD_KAFKA_V_TOPIC(l.topic),
        RD_KAFKA_V_KEY((void *)l.key, l.key_len),
        RD_KAFKA_V_VALUE((void *)l.value, l.value_len),
        RD_KAFKA_V_HEADERS(l.headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(res), RD_KAFKA_V_END);
    char what[600];
    snprintf(what, sizeof what, "dead-letter to %s", l.topic);
    if (e) {
        rd_kafka_headers_destroy(l.headers);
        free(res);
        return ww_bus_err_from_resp(e, what, err);
    }
    /* flush serves the delivery report; a bounded wait, then the next try
     * goes out as a new record (the DLQ may then hold a duplicate, never a
     * gap). */
    rd_kafka_flush(sub->dlq, 10000);
    if (!res->done) {
        /* Purged records report at once; should this one still not, its
         * result slot is left to it (a few bytes, once in a blue moon). */
        rd_kafka_purge(sub->dlq,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(sub->dlq, 1000);
        if (res->done) free(res);
        return ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                    "%s: not acknowledged in 10 s", what);
    }
    dlq_result_t result = *res;
    free(res);
    return ww_bus_err_from_delivery(result.err, result.offset, what, err);
}

/* Writes the dead letter. Transient errors (broker away, timeouts) are
 * retried until it is stored or close is called; a copy too large is
 * written truncated; any other permanent error (unknown DLQ topic, no
 * authorization, a truncated copy refused too) is logged and counted, and
 * the record skipped, so a poison record never stops the partition.
 * Returns false when interrupted: the record must then not be committed. */
static bool dead_letter(ww_bus_subscriber_t *sub, const rd_kafka_message_t *m,
                        const char *reason, int attempts) {
    int backoff = sub->backoff_initial_ms;
    bool truncate = false;
    for (;;) {
        ww_err_t err = {0};
        bool truncated = false;
        ww_code_t rc = dlq_write_once(sub, m, reason, attempts, truncate,
                                      &truncated, &err);
        if (rc == WW_OK) {
            atomic_fetch_add(&sub->dead_lettered, 1);
            ww_log_warn("bus",
                        "dead-lettered topic=%s partition=%d "
                        "offset=%lld attempts=%d bytes=%zu truncated=%s "
                        "reason=\"%s\"",
                        rd_kafka_topic_name(m->rkt), m->partition,
                        (long long)m->offset, attempts, m->len,
                        truncated ? "true" : "false", reason);
            return true;
        }
        if (rc == WW_ERR_RESOURCE_EXHAUSTED && !err.retriable && !truncated) {
            ww_log_warn("bus",
                        "dead letter too large, writing it truncated: "
                        "%s",
                        err.msg);
            truncate = true;
            continue;
        }
        if (!err.retriable) {
            atomic_fetch_add(&sub->dlq_skipped, 1);
            ww_log_error("bus",
                         "dead letter impossible, record skipped "
                         "topic=%s partition=%d offset=%lld bytes=%zu "
                         "reason=\"%s\" error=\"%s\"",
                         rd_kafka_topic_name(m->rkt), m->partition,
                         (long long)m->offset, m->len, reason, err.msg);
            return true;
        }
        ww_log_error("bus", "dead-letter failed, partition waits: %s",
                     err.msg);
        if (!sleep_unless_stopped(sub, backoff)) return false;
        backoff = backoff * 2 > sub->backoff_max_ms ? sub->backoff_max_ms
                                                     : backoff * 2;
    }
}

/* ---- the loop ----------------------------------------------------------- */

/* Returns false when close interrupted the record (left uncommitted). */
/* The event's payload lives in the arena: dropped with it, not freed. */
static void release_event(ww_bus_subscriber_t *sub, ww_bus_event_t *ev) {
    ev->payload = NULL;
    arena_reset(&sub->arena);
}

static bool process(ww_bus_subscriber_t *sub, const rd_kafka_message_t *m) {
    ww_bus_event_t ev;
    ww_err_t err = {0};
    rd_kafka_headers_t *h = NULL;
    /* No headers at all is reported as the first missing one. */
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        h = NULL;
    if (ww_bus_envelope_decode_with(h, m->payload, m->len, sub->registry,
                                    &sub->arena.allocator, &ev, &err)) {
        char reason[300];
        snprintf(reason, sizeof reason, "undecodable: %s", err.msg);
        release_event(sub, &ev);
        if (!dead_letter(sub, m, reason, 0)) return false;
        store_offset(sub, m);
        return true;
    }
    ww_bus_record_t rec = {
        .event = &ev,
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .key = m->key,
        .key_len = m->key_len,
    };
    int backoff = sub->backoff_initial_ms;
    bool finished = true;
    for (int attempt = 1;; attempt++) {
        rec.attempt = attempt;
        ww_err_t reason = {0};
        ww_bus_verdict_t v = sub->handler(sub->opaque, &rec, &reason);
        if (v == WW_BUS_ACK) {
            atomic_fetch_add(&sub->acked, 1);
            store_offset(sub, m);
            break;
        }
        char text[400];
        if (v == WW_BUS_REJECT) {
            snprintf(text, sizeof text, "rejected by handler: %s",
                     reason.msg[0] ? reason.msg : "(no reason given)");
        } else {
            atomic_fetch_add(&sub->retried, 1);
            if (attempt < sub->max_attempts) {
                if (!sleep_unless_stopped(sub, backoff)) {
                    finished = false;
                    break;
                }
                backoff = backoff * 2 > sub->backoff_max_ms
                              ? sub->backoff_max_ms
                              : backoff * 2;
                continue;
            }
            snprintf(text, sizeof text, "gave up after %d attempts: %s",
                     attempt, reason.msg[0] ? reason.msg : "(no reason given)");
        }
        if (!dead_letter(sub, m, text, attempt)) {
            finished = false;
            break;
        }
        store_offset(sub, m);
        break;
    }
    release_event(sub, &ev);
    return finished;
}

static void *consume_loop(void *arg) {
    ww_bus_subscriber_t *sub = arg;
    sub->last_commit_ms = ww_clock_mono_ms();
    while (!stopping(sub)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(sub->rk, 100);
        bool idle = m == NULL;
        if (m) {
            bool finished = true;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                finished = process(sub, m);
            } else if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                /* E.g. another member took over our group.instance.id: this
                 * client can do nothing more; close reports why. */
                char reason[256];
                rd_kafka_resp_err_t orig =
                    rd_kafka_fatal_error(sub->rk, reason, sizeof reason);
                ww_err_set(&sub->fatal_err, WW_ERR_FAILED_PRECONDITION,
                           "consumer of group %s failed fatally: %s (%s)",
                           sub->group_id, reason, rd_kafka_err2name(orig));
                ww_log_error("bus", "%s", sub->fatal_err.msg);
                atomic_store(&sub->failed, true);
                finished = false;
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                ww_log_warn("bus", "consume group=%s error=%s detail=\"%s\"",
                            sub->group_id, rd_kafka_err2name(m->err),
                            rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            if (!finished) break;
        }
        /* The clock is read when idle or every 1024 records, not per
         * record. */
        if (sub->stored_uncommitted && (idle || ++sub->since_clock >= 1024)) {
            sub->since_clock = 0;
            if (ww_clock_mono_ms() - sub->last_commit_ms >= sub->commit_interval_ms)
                commit_stored(sub, true);
        }
    }
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

static ww_code_t check_opts(const ww_bus_subscriber_opts_t *o, ww_err_t *err) {
    if (!o || !o->group || !*o->group)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "subscriber needs a group");
    if (!o->topics || o->n_topics == 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "subscriber needs at least one topic");
    for (size_t i = 0; i < o->n_topics; i++)
        if (!o->topics[i] || !*o->topics[i])
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "topic %zu is empty", i);
    if (!o->registry || !o->handler)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "subscriber needs a registry and a handler");
    if (o->max_attempts < 0 || o->backoff_initial_ms < 0 ||
        o->backoff_max_ms < 0 || o->commit_interval_ms < 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "negative attempts, backoff or commit interval");
    return WW_OK;
}

static void free_sub(ww_bus_subscriber_t *sub) {
    if (sub->rk) rd_kafka_destroy(sub->rk);
    if (sub->dlq) rd_kafka_destroy(sub->dlq);
    if (sub->dlq_conf) rd_kafka_conf_destroy(sub->dlq_conf);
    for (size_t i = 0; i < sub->n_topics; i++) free(sub->topics[i]);
    free(sub->topics);
    arena_reset(&sub->arena);
    pthread_mutex_destroy(&sub->mu);
    pthread_cond_destroy(&sub->cv);
    free(sub);
}

ww_bus_subscriber_t *ww_bus_subscriber_new(const ww_bus_config_t *cfg,
                                           const ww_bus_subscriber_opts_t *o,
                                           ww_err_t *err) {
    if (check_opts(o, err)) return NULL;
    ww_bus_subscriber_t *sub = calloc(1, sizeof *sub);
    if (!sub) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    arena_init(&sub->arena);
    pthread_mutex_init(&sub->mu, NULL);
    ww_cond_init_mono(&sub->cv); /* backoff sleeps: monotonic deadlines */
    sub->registry = o->registry;
    sub->handler = o->handler;
    sub->opaque = o->opaque;
    sub->max_attempts = o->max_attempts ? o->max_attempts : 5;
    sub->backoff_initial_ms = o->backoff_initial_ms ? o->backoff_initial_ms
                                                    : 100;
    sub->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : 5000;
    if (sub->backoff_max_ms < sub->backoff_initial_ms)
        sub->backoff_max_ms = sub->backoff_initial_ms;
    sub->commit_interval_ms = o->commit_interval_ms ? o->commit_interval_ms
                                                    : 500;
    if (ww_bus_config_group_id(cfg, o->group, sub->group_id,
                               sizeof sub->group_id, err))
        goto fail;
    sub->topics = calloc(o->n_topics, sizeof *sub->topics);
    if (!sub->topics) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < o->n_topics; i++) {
        if (!(sub->topics[i] = strdup(o->topics[i]))) {
            ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
            goto fail;
        }
        sub->n_topics++;
    }
    if (!(sub->dlq_conf = ww_bus_config_producer_conf(cfg, err))) goto fail;

    rd_kafka_conf_t *conf =
        ww_bus_config_group_conf(cfg, o->group, o->instance_suffix, err);
    if (!conf) goto fail;
    rd_kafka_conf_set_opaque(conf, sub);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    sub->rk = ww_bus_config_client_new(RD_KAFKA_CONSUMER, conf, "consumer",
                                       err);
    if (!sub->rk) goto fail;
    rd_kafka_poll_set_consumer(sub->rk);
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)sub->n_topics);
    for (size_t i = 0; i < sub->n_topics; i++)
        rd_kafka_topic_partition_list_add(l, sub->topics[i],
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(sub->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        ww_bus_err_from_resp(e, "subscribe", err);
        goto fail;
    }
    return sub;
fail:
    free_sub(sub);
    return NULL;
}

ww_code_t ww_bus_subscriber_start(ww_bus_subscriber_t *sub, ww_err_t *err) {
    pthread_mutex_lock(&sub->mu);
    if (sub->state != SUB_NEW) {
        pthread_mutex_unlock(&sub->mu);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "subscriber already started or closed");
    }
    if (pthread_create(&sub->thread, NULL, consume_loop, sub)) {
        pthread_mutex_unlock(&sub->mu);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "cannot start the consumer thread");
    }
    sub->state = SUB_RUNNING;
    pthread_mutex_unlock(&sub->mu);
    return WW_OK;
}

ww_code_t ww_bus_subscriber_close(ww_bus_subscriber_t *sub, ww_err_t *err) {
    pthread_mutex_lock(&sub->mu);
    if (sub->state == SUB_CLOSING || sub->state == SUB_CLOSED) {
        while (sub->state != SUB_CLOSED) pthread_cond_wait(&sub->cv, &sub->mu);
        ww_code_t rc = sub->close_rc;
        if (rc && err) *err = sub->close_err;
        pthread_mutex_unlock(&sub->mu);
        return rc;
    }
    bool was_running = sub->state == SUB_RUNNING;
    sub->state = SUB_CLOSING;
    sub->stop = true;
    atomic_store(&sub->stop_flag, true);
    pthread_cond_broadcast(&sub->cv);
    pthread_mutex_unlock(&sub->mu);

    if (was_running) pthread_join(sub->thread, NULL);
    /* Everything finished is committed before the group is left. */
    commit_stored(sub, false);
    ww_err_t cerr = {0};
    ww_code_t rc = ww_bus_err_from_resp(rd_kafka_consumer_close(sub->rk),
                                        "leave group", &cerr);
    if (sub->fatal_err.code) {
        rc = sub->fatal_err.code;
        cerr = sub->fatal_err;
    }

    pthread_mutex_lock(&sub->mu);
    sub->close_rc = rc;
    sub->close_err = cerr;
    sub->state = SUB_CLOSED;
    pthread_cond_broadcast(&sub->cv);
    pthread_mutex_unlock(&sub->mu);
    if (rc && err) *err = cerr;
    return rc;
}

void ww_bus_subscriber_destroy(ww_bus_subscriber_t *sub) {
    if (!sub) return;
    ww_err_t err;
    if (ww_bus_subscriber_close(sub, &err))
        ww_log_warn("bus", "subscriber close: %s", err.msg);
    free_sub(sub);
}

void ww_bus_subscriber_stats(const ww_bus_subscriber_t *sub,
                             ww_bus_subscriber_stats_t *out) {
    ww_bus_subscriber_t *s = (ww_bus_subscriber_t *)sub;
    out->acked = atomic_load(&s->acked);
    out->retried = atomic_load(&s->retried);
    out->dead_lettered = atomic_load(&s->dead_lettered);
    out->dlq_skipped = atomic_load(&s->dlq_skipped);
    out->commits = atomic_load(&s->commits);
    out->failed = atomic_load(&s->failed);
    out->assigned = atomic_load(&s->assigned);
}
