/* ww_bus_publisher.c - idempotent producer, delivery callbacks on a thread. */
#include "ww_bus_publisher.h"

#include "ww_bus_err.h"
#include "ww_clock.h"
#include "ww_cond.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_log.h"

struct ww_bus_publisher {
    rd_kafka_t *rk;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop_thread;
    /* Publishers hold it shared; close holds it exclusive, so a record is
     * never queued on a client being destroyed. */
    pthread_rwlock_t lock;
    bool closed;
};

/* One queued record, followed in the same allocation by its packed value
 * (librdkafka gets the value without a copy and without F_FREE); the
 * delivery report frees both at once. One malloc per record instead of
 * two: allocating on the publishing thread and freeing on the delivery
 * thread was the largest cost of publishing. */
typedef struct pending {
    ww_bus_delivery_cb cb;
    void *opaque;
    char id[WW_BUS_ID_MAX + 1];
} pending_t;

/* Where the value starts after the slot, aligned for any use. */
#define PENDING_SIZE \
    ((sizeof(pending_t) + _Alignof(max_align_t) - 1) / \
     _Alignof(max_align_t) * _Alignof(max_align_t))

/* The wait of publish_sync, shared with the delivery report: the waiter may
 * time out and leave before the report arrives, so the last one frees. */
typedef struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool done;
    ww_code_t code;
    ww_err_t err;
    int32_t partition;
    int64_t offset;
} sync_wait_t;

static void sync_unref(sync_wait_t *w) {
    pthread_mutex_lock(&w->mu);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (last) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
    }
}

static void sync_done(void *opaque, const ww_bus_delivery_t *d) {
    sync_wait_t *w = opaque;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->code = d->code;
    if (d->err) w->err = *d->err;
    w->partition = d->partition;
    w->offset = d->offset;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    sync_unref(w);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *conf_opaque) {
    (void)rk;
    (void)conf_opaque;
    pending_t *p = m->_private;
    if (!p) return;
    ww_err_t err = {0};
    ww_code_t code = WW_OK;
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
        m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        code = ww_err_set(&err, WW_ERR_CANCELLED,
                          "publish to %s: publisher closed before delivery",
                          topic);
    } else {
        char what[300];
        snprintf(what, sizeof what, "publish to %s", topic);
        code = ww_bus_err_from_delivery(m->err, m->offset, what, &err);
        if (code && !m->err)
            ww_log_warn("bus",
                        "publish unconfirmed topic=%s partition=%d id=%s: "
                        "delivered without an offset, reported as failed",
                        topic, (int)m->partition, p->id);
    }
    if (p->cb) {
        ww_bus_delivery_t d = {
            .code = code,
            .err = code ? &err : NULL,
            .topic = topic,
            .partition = code ? -1 : m->partition,
            .offset = code ? -1 : m->offset,
            .event_id = p->id,
        };
        p->cb(p->opaque, &d);
    }
    free(p);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason,
                     void *opaque) {
    (void)opaque;
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        ww_log_error("bus", "publisher fatal error=%s reason=\"%s\"",
                     rd_kafka_err2name(orig), buf);
        return;
    }
    /* Transport hiccups are retried by librdkafka; they are worth a line. */
    ww_log_warn("bus", "publisher error=%s reason=\"%s\"",
                rd_kafka_err2name(code), reason);
}

static void *delivery_thread(void *arg) {
    ww_bus_publisher_t *pub = arg;
    while (!atomic_load(&pub->stop_thread)) rd_kafka_poll(pub->rk, 50);
    rd_kafka_poll(pub->rk, 0);
    return NULL;
}

ww_bus_publisher_t *ww_bus_publisher_new(const ww_bus_config_t *cfg,
                                         ww_err_t *err) {
    rd_kafka_conf_t *conf = ww_bus_config_producer_conf(cfg, err);
    if (!conf) return NULL;
    ww_bus_publisher_t *pub = calloc(1, sizeof *pub);
    if (!pub) {
        rd_kafka_conf_destroy(conf);
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    pub->rk = ww_bus_config_client_new(RD_KAFKA_PRODUCER, conf, "producer",
                                       err);
    if (!pub->rk) {
        free(pub);
        return NULL;
    }
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Busy publishers must not starve close. */
    pthread_rwlockattr_setkind_np(
        &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&pub->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (pthread_create(&pub->thread, NULL, delivery_thread, pub)) {
        rd_kafka_destroy(pub->rk);
        pthread_rwlock_destroy(&pub->lock);
        free(pub);
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                   "cannot start the delivery thread");
        return NULL;
    }
    pub->thread_started = true;
    return pub;
}

/* Both forms of publish; `wait_room` waits for room in a full queue. */
static ww_code_t publish(ww_bus_publisher_t *pub, const char *topic,
                         int32_t partition, const void *key, size_t key_len,
                         const ProtobufCMessage *msg,
                         const ww_bus_envelope_meta_t *meta,
                         ww_bus_delivery_cb cb, void *opaque, char *event_id,
                         bool wait_room, ww_err_t *err) {
    if (!topic || !*topic)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "empty topic name");
    rd_kafka_headers_t *headers;
    void *block;
    size_t len;
    char id[WW_BUS_ID_MAX + 1];
    ww_code_t rc = ww_bus_envelope_encode_reserved(
        msg, meta, PENDING_SIZE, &headers, &block, &len, id, err);
    if (rc) return rc;
    pending_t *p = block;
    p->cb = cb;
    p->opaque = opaque;
    memcpy(p->id, id, strlen(id) + 1);
    void *value = len ? (char *)block + PENDING_SIZE : NULL;
    pthread_rwlock_rdlock(&pub->lock);
    if (pub->closed) {
        pthread_rwlock_unlock(&pub->lock);
        rd_kafka_headers_destroy(headers);
        free(p);
        return ww_err_set(err, WW_ERR_CANCELLED,
                          "publish to %s: publisher is closed", topic);
    }
    /* F_BLOCK waits for queue room; the delivery thread makes room. */
    rd_kafka_resp_err_t e = rd_kafka_producev(
        pub->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY((void *)key, key ? key_len : 0),
        RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_MSGFLAGS(wait_room ? RD_KAFKA_MSG_F_BLOCK : 0),
        RD_KAFKA_V_OPAQUE(p), RD_KAFKA_V_END);
    if (e) {
        char what[300];
        snprintf(what, sizeof what, "publish to %s", topic);
        if (e == RD_KAFKA_RESP_ERR__FATAL) {
            char reason[256];
            rd_kafka_resp_err_t orig =
                rd_kafka_fatal_error(pub->rk, reason, sizeof reason);
            rc = ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                            "%s: producer failed fatally (%s: %s); recreate "
                            "it", what, rd_kafka_err2name(orig), reason);
        } else {
            rc = ww_bus_err_from_resp(e, what, err);
        }
    }
    pthread_rwlock_unlock(&pub->lock);
    if (e) {
        rd_kafka_headers_destroy(headers);
        free(p);
        return rc;
    }
    /* p may already be freed by its delivery report. */
    if (event_id) memcpy(event_id, id, strlen(id) + 1);
    return WW_OK;
}

ww_code_t ww_bus_publisher_publish(ww_bus_publisher_t *pub, const char *topic,
                                   const void *key, size_t key_len,
                                   const ProtobufCMessage *msg,
                                   const ww_bus_envelope_meta_t *meta,
                                   ww_bus_delivery_cb cb, void *opaque,
                                   char *event_id, ww_err_t *err) {
    return publish(pub, topic, RD_KAFKA_PARTITION_UA, key, key_len, msg, meta,
                   cb, opaque, event_id, true, err);
}

ww_code_t ww_bus_publisher_publish_nowait(ww_bus_publisher_t *pub,
                                          const char *topic, const void *key,
                                          size_t key_len,
                                          const ProtobufCMessage *msg,
                                          const ww_bus_envelope_meta_t *meta,
                                          ww_bus_delivery_cb cb, void *opaque,
                                          char *event_id, ww_err_t *err) {
    return publish(pub, topic, RD_KAFKA_PARTITION_UA, key, key_len, msg, meta,
                   cb, opaque, event_id, false, err);
}

/* publish_sync to `to` (RD_KAFKA_PARTITION_UA: the key's partition). */
static ww_code_t publish_sync(ww_bus_publisher_t *pub, const char *topic,
                              int32_t to, const void *key, size_t key_len,
                              const ProtobufCMessage *msg,
                              const ww_bus_envelope_meta_t *meta,
                              int timeout_ms, int32_t *partition,
                              int64_t *offset, char *event_id, ww_err_t *err) {
    sync_wait_t *w = calloc(1, sizeof *w);
    if (!w) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_init(&w->mu, NULL);
    ww_cond_init_mono(&w->cv); /* for the monotonic deadline below */
    w->refs = 2;
    ww_code_t rc = publish(pub, topic, to, key, key_len, msg, meta, sync_done,
                           w, event_id, true, err);
    if (rc) {
        w->refs = 1; /* the callback will never run */
        sync_unref(w);
        return rc;
    }
    struct timespec deadline = ww_clock_mono_deadline(timeout_ms);
    pthread_mutex_lock(&w->mu);
    while (!w->done) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &deadline)) break;
    }
    if (!w->done) {
        rc = ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                  "publish to %s: no acknowledgement within "
                                  "%d ms (it may still be delivered)",
                                  topic, timeout_ms);
    } else {
        rc = w->code;
        if (rc && err) *err = w->err;
        if (!rc) {
            if (partition) *partition = w->partition;
            if (offset) *offset = w->offset;
        }
    }
    pthread_mutex_unlock(&w->mu);
    sync_unref(w);
    return rc;
}

ww_code_t ww_bus_publisher_publish_sync(ww_bus_publisher_t *pub,
                                        const char *topic, const void *key,
                                        size_t key_len,
                                        const ProtobufCMessage *msg,
                                        const ww_bus_envelope_meta_t *meta,
                                        int timeout_ms, int32_t *partition,
                                        int64_t *offset, char *event_id,
                                        ww_err_t *err) {
    return publish_sync(pub, topic, RD_KAFKA_PARTITION_UA, key, key_len, msg,
                        meta, timeout_ms, partition, offset, event_id, err);
}

ww_code_t ww_bus_publisher_publish_sync_to(ww_bus_publisher_t *pub,
                                           const char *topic,
                                           int32_t partition, const void *key,
                                           size_t key_len,
                                           const ProtobufCMessage *msg,
                                           const ww_bus_envelope_meta_t *meta,
                                           int timeout_ms, int64_t *offset,
                                           char *event_id, ww_err_t *err) {
    if (partition < 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "publish to %s: partition %d", topic ? topic : "",
                          (int)partition);
    return publish_sync(pub, topic, partition, key, key_len, msg, meta,
                        timeout_ms, NULL, offset, event_id, err);
}

/* Waits for the delivery thread to drain the out queue (which counts
 * undelivered records and unserved reports alike). */
static bool wait_drained(rd_kafka_t *rk, int timeout_ms) {
    int64_t start = ww_clock_mono_ms();
    for (;;) {
        if (rd_kafka_outq_len(rk) == 0) return true;
        if (ww_clock_mono_ms() - start >= timeout_ms) return false;
        nanosleep(&(struct timespec){0, 2 * 1000000L}, NULL);
    }
}

ww_code_t ww_bus_publisher_flush(ww_bus_publisher_t *pub, int timeout_ms,
                                 ww_err_t *err) {
    pthread_rwlock_rdlock(&pub->lock);
    if (pub->closed) {
        pthread_rwlock_unlock(&pub->lock);
        return WW_OK; /* close already drained or cancelled everything */
    }
    bool drained = wait_drained(pub->rk, timeout_ms);
    int left = rd_kafka_outq_len(pub->rk);
    pthread_rwlock_unlock(&pub->lock);
    if (!drained)
        return ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                    "flush: %d records still outstanding "
                                    "after %d ms", left, timeout_ms);
    return WW_OK;
}

ww_code_t ww_bus_publisher_close(ww_bus_publisher_t *pub, int timeout_ms,
                                 ww_err_t *err) {
    pthread_rwlock_wrlock(&pub->lock);
    if (pub->closed) {
        pthread_rwlock_unlock(&pub->lock);
        return WW_OK;
    }
    pub->closed = true;
    ww_code_t rc = WW_OK;
    if (!wait_drained(pub->rk, timeout_ms)) {
        int left = rd_kafka_outq_len(pub->rk);
        rd_kafka_purge(pub->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        /* The purged records' reports still have to reach their callers. */
        wait_drained(pub->rk, 5000);
        rc = ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                  "close: %d records not delivered within "
                                  "%d ms were cancelled", left, timeout_ms);
    }
    atomic_store(&pub->stop_thread, true);
    pthread_join(pub->thread, NULL);
    pub->thread_started = false;
    rd_kafka_destroy(pub->rk);
    pub->rk = NULL;
    pthread_rwlock_unlock(&pub->lock);
    return rc;
}

void ww_bus_publisher_destroy(ww_bus_publisher_t *pub) {
    if (!pub) return;
    ww_err_t err;
    if (ww_bus_publisher_close(pub, 10000, &err))
        ww_log_warn("bus", "publisher close: %s", err.msg);
    pthread_rwlock_destroy(&pub->lock);
    free(pub);
}

rd_kafka_t *ww_bus_publisher_handle(ww_bus_publisher_t *pub) {
    return pub->rk;
}
