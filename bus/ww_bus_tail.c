/* ww_bus_tail.c - read_committed tailing reader with a caught-up signal. */
#include "ww_bus_tail.h"

#include "ww_bus_config.h"
#include "ww_bus_offsets.h"
#include "ww_clock.h"
#include "ww_cond.h"
#include "ww_log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { LOOKUP_TIMEOUT_MS = 15000, ASK_TIMEOUT_MS = 5000, BATCH_MAX = 500 };

/* One ww_bus_tail_when_caught_up request. */
typedef struct catch_up {
    struct catch_up *next;
    uint64_t seq;     /* registration order: ends are asked after it */
    int64_t *ends;    /* NULL until the asker captured them */
    int64_t deadline; /* monotonic ms; INT64_MAX: none */
    ww_bus_tail_caught_up_fn cb;
    void *opaque;
} catch_up_t;

struct ww_bus_tail {
    rd_kafka_t *rk;
    char *topic;
    ww_bus_tail_handler_fn handler;
    void *opaque;
    int count;
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t moved; /* signalled when a position moves or it stops */
    int64_t *pos;
    bool stopping;
    bool failed;
    ww_err_t failure;
    uint64_t records;
    void (*on_idle)(void *opaque);

    /* when_caught_up requests, and the helper thread that asks the ends
     * (a blocking round trip the tail thread must not make). */
    catch_up_t *waits;
    uint64_t next_seq, asked_seq; /* requests up to asked_seq have ends */
    pthread_cond_t ask;
    pthread_t asker;
    bool asker_started;
};

/* Moves the requests that are done (reached, expired, or all of them when
 * `code` is not OK) from t->waits to *done. Called with t->lock held. */
static void collect(ww_bus_tail_t *t, ww_code_t code, catch_up_t **done,
                    int64_t now) {
    catch_up_t **pp = &t->waits;
    while (*pp) {
        catch_up_t *w = *pp;
        bool finished = code != WW_OK || w->deadline <= now;
        if (!finished && w->ends) {
            finished = true;
            for (int p = 0; p < t->count && finished; p++)
                finished = t->pos[p] >= w->ends[p];
        }
        if (!finished) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->next = *done;
        *done = w;
    }
}

/* Answers the requests of `done` (no lock held). */
static void answer(ww_bus_tail_t *t, catch_up_t *done, ww_code_t code,
                   const ww_err_t *why, int64_t now) {
    while (done) {
        catch_up_t *w = done;
        done = w->next;
        ww_err_t e = {0};
        ww_code_t c = code;
        if (c != WW_OK) {
            if (why) e = *why;
        } else if (w->ends == NULL || w->deadline <= now) {
            bool reached = w->ends != NULL;
            pthread_mutex_lock(&t->lock);
            for (int p = 0; reached && p < t->count; p++)
                reached = t->pos[p] >= w->ends[p];
            pthread_mutex_unlock(&t->lock);
            if (!reached)
                c = ww_err_set(&e, WW_ERR_DEADLINE_EXCEEDED,
                               "tail of %s did not catch up in time", t->topic);
        }
        w->cb(w->opaque, c, &e);
        free(w->ends);
        free(w);
    }
}

/* Answers whatever became due; the tail thread calls it after progress. */
static void settle(ww_bus_tail_t *t) {
    catch_up_t *done = NULL;
    int64_t now = ww_clock_mono_ms();
    pthread_mutex_lock(&t->lock);
    ww_code_t code = t->failed ? t->failure.code : WW_OK;
    ww_err_t why = t->failure;
    if (t->waits) collect(t, code, &done, now);
    pthread_mutex_unlock(&t->lock);
    answer(t, done, code, &why, now);
}

static void *asker_main(void *arg) {
    ww_bus_tail_t *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        if (t->asked_seq + 1 >= t->next_seq) {
            /* Nothing to ask: answer expired requests here, since the tail
             * thread may be busy in a slow handler. */
            if (t->waits) {
                struct timespec tick = ww_clock_mono_deadline(50);
                pthread_cond_timedwait(&t->ask, &t->lock, &tick);
                catch_up_t *done = NULL;
                int64_t now = ww_clock_mono_ms();
                for (catch_up_t **pp = &t->waits; *pp;) {
                    catch_up_t *w = *pp;
                    if (w->deadline > now) {
                        pp = &w->next;
                        continue;
                    }
                    *pp = w->next;
                    w->next = done;
                    done = w;
                }
                if (done) {
                    pthread_mutex_unlock(&t->lock);
                    answer(t, done, WW_OK, NULL, now);
                    pthread_mutex_lock(&t->lock);
                }
            } else {
                pthread_cond_wait(&t->ask, &t->lock);
            }
            continue;
        }
        uint64_t upto = t->next_seq - 1; /* requests registered so far */
        pthread_mutex_unlock(&t->lock);
        int64_t *ends = malloc((size_t)t->count * sizeof *ends);
        ww_err_t err = {0};
        ww_code_t rc =
            ends ? ww_bus_offsets_lookup(t->rk, t->topic, t->count,
                                         RD_KAFKA_OFFSET_END, ASK_TIMEOUT_MS,
                                         ends, &err)
                 : ww_err_set(&err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        catch_up_t *failed = NULL;
        pthread_mutex_lock(&t->lock);
        t->asked_seq = upto;
        for (catch_up_t **pp = &t->waits; *pp;) {
            catch_up_t *w = *pp;
            if (w->ends || w->seq > upto) {
                pp = &w->next;
                continue;
            }
            if (rc == WW_OK &&
                (w->ends = malloc((size_t)t->count * sizeof *ends))) {
                memcpy(w->ends, ends, (size_t)t->count * sizeof *ends);
                pp = &w->next;
                continue;
            }
            *pp = w->next; /* the question could not be asked */
            w->next = failed;
            failed = w;
        }
        pthread_mutex_unlock(&t->lock);
        free(ends);
        if (rc == WW_OK && !failed) {
            settle(t); /* some may be there already */
        } else {
            if (rc == WW_OK)
                ww_err_set(&err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
            answer(t, failed,
                   rc == WW_OK ? WW_ERR_RESOURCE_EXHAUSTED : WW_ERR_UNAVAILABLE,
                   &err, ww_clock_mono_ms());
            settle(t);
        }
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Publishes the positions a batch reached (`next[p]`, -1: not moved) and
 * its record count under one lock, with one wake-up. */
static void advance(ww_bus_tail_t *t, int64_t *next, uint64_t records) {
    bool moved = false;
    pthread_mutex_lock(&t->lock);
    for (int p = 0; p < t->count; p++) {
        if (next[p] > t->pos[p]) {
            t->pos[p] = next[p];
            moved = true;
        }
        next[p] = -1;
    }
    t->records += records;
    if (moved) pthread_cond_broadcast(&t->moved);
    pthread_mutex_unlock(&t->lock);
}

static void fail_with(ww_bus_tail_t *t, const ww_err_t *why) {
    pthread_mutex_lock(&t->lock);
    t->failed = true;
    t->failure = *why;
    pthread_cond_broadcast(&t->moved);
    pthread_mutex_unlock(&t->lock);
}

/* Handles one polled record; false when the tail failed. */
static bool handle(ww_bus_tail_t *t, const rd_kafka_message_t *m, int64_t *next,
                   uint64_t *records) {
    bool known = m->partition >= 0 && m->partition < t->count;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (known && m->offset > next[m->partition])
            next[m->partition] = m->offset;
        return true;
    }
    if (m->err) {
        ww_log_warn("bus", "tail topic=%s error=\"%s\"", t->topic,
                    rd_kafka_message_errstr(m));
        if (m->err != RD_KAFKA_RESP_ERR__FATAL) return true;
        ww_err_t why;
        ww_err_set(&why, WW_ERR_INTERNAL, "tail of %s: %s", t->topic,
                   rd_kafka_message_errstr(m));
        fail_with(t, &why);
        return false;
    }
    ww_err_t herr = {0};
    ww_code_t rc = t->handler(t->opaque, m, &herr);
    if (rc != WW_OK) {
        ww_log_error("bus",
                     "tail topic=%s partition=%d offset=%lld handler=%s "
                     "msg=\"%s\" stopped",
                     t->topic, (int)m->partition, (long long)m->offset,
                     ww_code_name(rc), herr.msg);
        herr.code = rc;
        fail_with(t, &herr);
        return false;
    }
    (*records)++;
    if (known && m->offset + 1 > next[m->partition])
        next[m->partition] = m->offset + 1;
    return true;
}

static void *tail_main(void *arg) {
    ww_bus_tail_t *t = arg;
    int64_t idle_due = 0;
    /* Records are handled in batches of what is already fetched: the
     * positions, the count and the wake-up of waiters are published once
     * per batch, not once per record (a replay is thousands a second). */
    int64_t *next = malloc((size_t)t->count * sizeof *next);
    if (!next) {
        ww_err_t why;
        ww_err_set(&why, WW_ERR_RESOURCE_EXHAUSTED, "tail: out of memory");
        fail_with(t, &why);
    }
    for (int p = 0; next && p < t->count; p++)
        next[p] = -1;
    while (next) {
        pthread_mutex_lock(&t->lock);
        bool stop = t->stopping || t->failed;
        bool waiting = t->waits != NULL;
        pthread_mutex_unlock(&t->lock);
        if (stop) break;
        int64_t now = ww_clock_mono_ms();
        if (now >= idle_due) {
            if (t->on_idle) t->on_idle(t->opaque);
            if (waiting) settle(t); /* timeouts */
            idle_due = now + 100;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(t->rk, 100);
        uint64_t records = 0;
        bool ok = true;
        for (int n = 0; m && ok; n++) {
            ok = handle(t, m, next, &records);
            rd_kafka_message_destroy(m);
            m = ok && n < BATCH_MAX ? rd_kafka_consumer_poll(t->rk, 0) : NULL;
        }
        advance(t, next, records); /* also what a failed batch handled */
        if (!ok) break;
        if (waiting) settle(t);
    }
    free(next);
    settle(t); /* a failure answers every request */
    return NULL;
}

static bool set(rd_kafka_conf_t *conf, const char *k, const char *v,
                ww_err_t *err) {
    char buf[256];
    if (rd_kafka_conf_set(conf, k, v, buf, sizeof buf) == RD_KAFKA_CONF_OK)
        return true;
    ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "tail: %s=%s: %s", k, v, buf);
    return false;
}

ww_code_t ww_bus_tail_start(const ww_bus_config_t *bus,
                            const ww_bus_tail_config_t *cfg,
                            ww_bus_tail_t **out, ww_err_t *err) {
    if (!bus || !cfg || !out || !cfg->topic || !*cfg->topic || !cfg->handler ||
        (cfg->offsets && cfg->offsets_cnt < 0))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "tail: bus config, topic and handler are required");
    ww_bus_tail_t *t = calloc(1, sizeof *t);
    if (!t) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_init(&t->lock, NULL);
    ww_cond_init_mono(&t->moved);
    ww_cond_init_mono(&t->ask);
    t->next_seq = 1;
    t->handler = cfg->handler;
    t->opaque = cfg->opaque;
    t->on_idle = cfg->on_idle;
    t->topic = strdup(cfg->topic);
    if (!t->topic) {
        ww_bus_tail_destroy(t);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }

    rd_kafka_conf_t *conf = ww_bus_config_reader_conf(bus, err);
    if (!conf) {
        ww_bus_tail_destroy(t);
        return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    }
    char buf[512];
    /* The reader conf says read_committed, no commits, EOF events and a
     * never-joined group.id; records deleted by retention under a start
     * offset mean "from the log start".
     * queued.min.messages: librdkafka 2.0.2 stops fetching for a whole
     * second once that many records wait in the (forwarded) consumer
     * queue, so with the default (100,000) a replay idled most of the
     * time (165,000 records/s against 660,000 with 500,000: bench_rebuild,
     * docs/benchmarks.md). The price is memory while behind: up to that
     * many fetched records (~250 MB of them at 1,000,000 small facts);
     * none once caught up. */
    if (!set(conf, "auto.offset.reset", "earliest", err) ||
        !set(conf, "fetch.wait.max.ms", "10", err) ||
        !set(conf, "queued.min.messages", "500000", err)) {
        rd_kafka_conf_destroy(conf);
        ww_bus_tail_destroy(t);
        return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    }
    t->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, buf, sizeof buf);
    if (!t->rk) {
        rd_kafka_conf_destroy(conf);
        ww_bus_tail_destroy(t);
        return ww_err_set(err, WW_ERR_INTERNAL, "tail consumer: %s", buf);
    }
    rd_kafka_poll_set_consumer(t->rk);

    ww_code_t rc = ww_bus_offsets_partition_count(
        t->rk, t->topic, LOOKUP_TIMEOUT_MS, &t->count, err);
    int64_t *begin = NULL;
    if (!rc) {
        t->pos = calloc((size_t)t->count, sizeof *t->pos);
        begin = calloc((size_t)t->count, sizeof *begin);
        if (!t->pos || !begin)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!rc)
        rc = ww_bus_offsets_lookup(t->rk, t->topic, t->count,
                                   cfg->from_end ? RD_KAFKA_OFFSET_END
                                                 : RD_KAFKA_OFFSET_BEGINNING,
                                   LOOKUP_TIMEOUT_MS, begin, err);
    if (!rc) {
        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_topic_partition_list_new(t->count);
        for (int p = 0; p < t->count; p++) {
            int64_t o = begin[p];
            if (cfg->offsets && p < cfg->offsets_cnt && cfg->offsets[p] > o)
                o = cfg->offsets[p];
            t->pos[p] = o;
            rd_kafka_topic_partition_list_add(parts, t->topic, p)->offset = o;
        }
        rd_kafka_resp_err_t e = rd_kafka_assign(t->rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (e)
            rc = ww_err_set(err, WW_ERR_INTERNAL, "tail: assign: %s",
                            rd_kafka_err2str(e));
    }
    free(begin);
    if (!rc) {
        if (pthread_create(&t->thread, NULL, tail_main, t) != 0)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                            "tail: cannot start its thread");
        else
            t->thread_started = true;
    }
    if (!rc) {
        if (pthread_create(&t->asker, NULL, asker_main, t) != 0)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                            "tail: cannot start its helper thread");
        else
            t->asker_started = true;
    }
    if (rc) {
        ww_bus_tail_destroy(t);
        return rc;
    }
    *out = t;
    return WW_OK;
}

ww_code_t ww_bus_tail_wait_positions(ww_bus_tail_t *t, const int64_t *ends,
                                     int timeout_ms, ww_err_t *err) {
    if (!t || !ends)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "tail: tail and ends are required");
    struct timespec deadline = ww_clock_mono_deadline(timeout_ms);
    ww_code_t rc = WW_OK;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        if (t->failed) {
            if (err) *err = t->failure;
            rc = t->failure.code;
            break;
        }
        int behind = -1;
        for (int p = 0; p < t->count && behind < 0; p++)
            if (t->pos[p] < ends[p]) behind = p;
        if (behind < 0) break;
        int wrc = 0;
        if (t->stopping) {
            rc = ww_err_set(err, WW_ERR_CANCELLED, "tail of %s is stopping",
                            t->topic);
            break;
        }
        if (timeout_ms < 0)
            pthread_cond_wait(&t->moved, &t->lock);
        else
            wrc = pthread_cond_timedwait(&t->moved, &t->lock, &deadline);
        if (wrc != 0) {
            rc = ww_err_set(err, WW_ERR_DEADLINE_EXCEEDED,
                            "tail of %s: partition %d at %lld, end %lld, "
                            "after %d ms",
                            t->topic, behind, (long long)t->pos[behind],
                            (long long)ends[behind], timeout_ms);
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

ww_code_t ww_bus_tail_wait_caught_up(ww_bus_tail_t *t, int timeout_ms,
                                     ww_err_t *err) {
    if (!t) return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "tail: NULL");
    int64_t start = ww_clock_mono_ms();
    int64_t *ends = malloc((size_t)t->count * sizeof *ends);
    if (!ends)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    int lookup_timeout = timeout_ms >= 0 && timeout_ms < LOOKUP_TIMEOUT_MS
                             ? (timeout_ms > 0 ? timeout_ms : 1)
                             : LOOKUP_TIMEOUT_MS;
    ww_code_t rc = ww_bus_offsets_lookup(t->rk, t->topic, t->count,
                                         RD_KAFKA_OFFSET_END, lookup_timeout,
                                         ends, err);
    if (rc == WW_OK) {
        int left = timeout_ms;
        if (timeout_ms >= 0) {
            int64_t l = timeout_ms - (ww_clock_mono_ms() - start);
            left = l > 0 ? (int)l : 0;
        }
        rc = ww_bus_tail_wait_positions(t, ends, left, err);
    }
    free(ends);
    return rc;
}

ww_code_t ww_bus_tail_when_caught_up(ww_bus_tail_t *t, int timeout_ms,
                                     ww_bus_tail_caught_up_fn cb, void *opaque,
                                     ww_err_t *err) {
    if (!t || !cb)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "tail: tail and callback are required");
    catch_up_t *w = calloc(1, sizeof *w);
    if (!w) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    w->cb = cb;
    w->opaque = opaque;
    w->deadline =
        timeout_ms < 0 ? INT64_MAX : ww_clock_mono_ms() + (int64_t)timeout_ms;
    pthread_mutex_lock(&t->lock);
    if (t->stopping) {
        pthread_mutex_unlock(&t->lock);
        free(w);
        return ww_err_set(err, WW_ERR_CANCELLED, "tail of %s is stopping",
                          t->topic);
    }
    w->seq = t->next_seq++;
    w->next = t->waits;
    t->waits = w;
    pthread_cond_signal(&t->ask);
    pthread_mutex_unlock(&t->lock);
    return WW_OK;
}

int ww_bus_tail_partitions(const ww_bus_tail_t *t) {
    return t ? t->count : 0;
}

ww_code_t ww_bus_tail_ends(ww_bus_tail_t *t, int64_t *ends, int timeout_ms,
                           ww_err_t *err) {
    return ww_bus_offsets_lookup(t->rk, t->topic, t->count, RD_KAFKA_OFFSET_END,
                                 timeout_ms, ends, err);
}

int64_t ww_bus_tail_position(ww_bus_tail_t *t, int32_t partition) {
    if (!t || partition < 0 || partition >= t->count) return -1;
    pthread_mutex_lock(&t->lock);
    int64_t o = t->pos[partition];
    pthread_mutex_unlock(&t->lock);
    return o;
}

ww_bus_tail_stats_t ww_bus_tail_stats(ww_bus_tail_t *t) {
    ww_bus_tail_stats_t s = {0};
    if (!t) return s;
    pthread_mutex_lock(&t->lock);
    s.records = t->records;
    s.partitions = t->count;
    pthread_mutex_unlock(&t->lock);
    return s;
}

void ww_bus_tail_destroy(ww_bus_tail_t *t) {
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_broadcast(&t->moved);
    pthread_cond_broadcast(&t->ask);
    catch_up_t *left = t->waits;
    t->waits = NULL;
    pthread_mutex_unlock(&t->lock);
    if (t->asker_started) pthread_join(t->asker, NULL);
    if (t->thread_started) pthread_join(t->thread, NULL);
    ww_err_t why;
    ww_err_set(&why, WW_ERR_CANCELLED, "tail of %s stopped",
               t->topic ? t->topic : "?");
    answer(t, left, WW_ERR_CANCELLED, &why, ww_clock_mono_ms());
    if (t->rk) {
        rd_kafka_assign(t->rk, NULL);
        rd_kafka_consumer_close(t->rk);
        rd_kafka_destroy(t->rk);
    }
    pthread_cond_destroy(&t->moved);
    pthread_cond_destroy(&t->ask);
    pthread_mutex_destroy(&t->lock);
    free(t->pos);
    free(t->topic);
    free(t);
}
