/* ww_bus_tail.c - read_committed tailing reader with a caught-up signal. */
#include "ww_bus_tail.h"

#include "ww_clock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_bus_config.h"
#include "ww_bus_offsets.h"
#include "ww_log.h"

enum { LOOKUP_TIMEOUT_MS = 15000 };

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
};

static void advance(ww_bus_tail_t *t, int32_t p, int64_t next) {
    if (p < 0 || p >= t->count) return;
    pthread_mutex_lock(&t->lock);
    if (next > t->pos[p]) {
        t->pos[p] = next;
        pthread_cond_broadcast(&t->moved);
    }
    pthread_mutex_unlock(&t->lock);
}

static void *tail_main(void *arg) {
    ww_bus_tail_t *t = arg;
    for (;;) {
        pthread_mutex_lock(&t->lock);
        bool stop = t->stopping || t->failed;
        pthread_mutex_unlock(&t->lock);
        if (stop) break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(t->rk, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            advance(t, m->partition, m->offset);
        } else if (m->err) {
            ww_log_warn("bus", "tail topic=%s error=\"%s\"", t->topic,
                        rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                pthread_mutex_lock(&t->lock);
                t->failed = true;
                ww_err_set(&t->failure, WW_ERR_INTERNAL, "tail of %s: %s",
                           t->topic, rd_kafka_message_errstr(m));
                pthread_cond_broadcast(&t->moved);
                pthread_mutex_unlock(&t->lock);
            }
        } else {
            ww_err_t herr = {0};
            ww_code_t rc = t->handler(t->opaque, m, &herr);
            if (rc != WW_OK) {
                ww_log_error("bus",
                             "tail topic=%s partition=%d offset=%lld "
                             "handler=%s msg=\"%s\" stopped",
                             t->topic, (int)m->partition, (long long)m->offset,
                             ww_code_name(rc), herr.msg);
                pthread_mutex_lock(&t->lock);
                t->failed = true;
                t->failure = herr;
                t->failure.code = rc;
                pthread_cond_broadcast(&t->moved);
                pthread_mutex_unlock(&t->lock);
            } else {
                pthread_mutex_lock(&t->lock);
                t->records++;
                pthread_mutex_unlock(&t->lock);
                advance(t, m->partition, m->offset + 1);
            }
        }
        rd_kafka_message_destroy(m);
    }
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
    if (!bus || !cfg || !out || !cfg->topic || !*cfg->topic ||
        !cfg->handler || (cfg->offsets && cfg->offsets_cnt < 0))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "tail: bus config, topic and handler are required");
    ww_bus_tail_t *t = calloc(1, sizeof *t);
    if (!t)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->moved, &attr);
    pthread_condattr_destroy(&attr);
    t->handler = cfg->handler;
    t->opaque = cfg->opaque;
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
     * offset mean "from the log start". */
    if (!set(conf, "auto.offset.reset", "earliest", err)) {
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

    ww_code_t rc = ww_bus_offsets_partition_count(t->rk, t->topic,
                                                  LOOKUP_TIMEOUT_MS, &t->count,
                                                  err);
    int64_t *begin = NULL;
    if (!rc) {
        t->pos = calloc((size_t)t->count, sizeof *t->pos);
        begin = calloc((size_t)t->count, sizeof *begin);
        if (!t->pos || !begin)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!rc)
        rc = ww_bus_offsets_lookup(t->rk, t->topic, t->count,
                                   RD_KAFKA_OFFSET_BEGINNING,
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
    if (rc) {
        ww_bus_tail_destroy(t);
        return rc;
    }
    *out = t;
    return WW_OK;
}

ww_code_t ww_bus_tail_wait_caught_up(ww_bus_tail_t *t, int timeout_ms,
                                     ww_err_t *err) {
    if (!t) return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "tail: NULL");
    struct timespec deadline = ww_clock_mono_deadline(timeout_ms);
    int64_t *ends = malloc((size_t)t->count * sizeof *ends);
    if (!ends)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    int lookup_timeout = timeout_ms >= 0 && timeout_ms < LOOKUP_TIMEOUT_MS
                             ? (timeout_ms > 0 ? timeout_ms : 1)
                             : LOOKUP_TIMEOUT_MS;
    ww_code_t rc = ww_bus_offsets_lookup(t->rk, t->topic, t->count,
                                         RD_KAFKA_OFFSET_END, lookup_timeout,
                                         ends, err);
    if (rc) {
        free(ends);
        return rc;
    }
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
    free(ends);
    return rc;
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
    pthread_mutex_unlock(&t->lock);
    if (t->thread_started) pthread_join(t->thread, NULL);
    if (t->rk) {
        rd_kafka_assign(t->rk, NULL);
        rd_kafka_consumer_close(t->rk);
        rd_kafka_destroy(t->rk);
    }
    pthread_cond_destroy(&t->moved);
    pthread_mutex_destroy(&t->lock);
    free(t->pos);
    free(t->topic);
    free(t);
}
