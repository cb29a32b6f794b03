/* ww_host_snapshot.c - StateSnapshot records: written by partition owners
 * from the read model, loaded at start. */
#include "ww_host_snapshot.h"

#include "ww_bus_envelope.h"
#include "ww_bus_offsets.h"
#include "ww_bus_publisher.h"
#include "ww_bus_registry.h"
#include "ww_bus_replay.h"
#include "ww_clock.h"
#include "ww_cond.h"
#include "ww_env.h"
#include "ww_host_backbone.h"
#include "ww_host_state.h"
#include "ww_log.h"
#include "ww_schemas.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef Wildworkouts__Events__V1__StateSnapshot snapshot_t;

enum { PUBLISH_TIMEOUT_MS = 60000, LOOKUP_TIMEOUT_MS = 15000 };

struct ww_host_snapshot_writer {
    ww_host_snapshot_config_t cfg;
    char service[32], source[128], topic[256];
    ww_bus_publisher_t *pub;
    int n;
    int64_t *last; /* events offset of each partition's last snapshot */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* with cv: naps, stopping, stats */
    pthread_cond_t cv;
    bool stopping;
    ww_host_snapshot_stats_t stats;
};

void ww_host_snapshot_config_from_env(ww_host_snapshot_config_t *cfg) {
    *cfg = (ww_host_snapshot_config_t){0};
    long interval = ww_env_long("WW_SNAPSHOT_INTERVAL_MS", 60000);
    long min = ww_env_long("WW_SNAPSHOT_MIN_RECORDS", 10000);
    cfg->interval_ms = interval < 0          ? 0
                       : interval > 86400000 ? 86400000
                                             : (int)interval;
    cfg->min_records = min < 1 ? 1 : min;
}

/* ------------------------------------------------------------- writer */

ww_code_t ww_host_snapshot_write(ww_host_snapshot_writer_t *w, int32_t p,
                                 size_t *bytes, ww_err_t *err) {
    int64_t t0 = ww_clock_mono_ms();
    ww_host_model_snapshot_t snap = {0};
    ww_code_t rc = ww_host_model_snapshot(w->cfg.model, p, &snap, err);
    if (rc != WW_OK) return rc;
    ww_host_state_digest_t digest;
    ww_host_state_sha256(snap.state, snap.len, &digest);
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    at.seconds = now.tv_sec;
    at.nanos = (int32_t)now.tv_nsec;
    snapshot_t msg = WILDWORKOUTS__EVENTS__V1__STATE_SNAPSHOT__INIT;
    msg.service = w->service;
    msg.partition = p;
    msg.events_offset = snap.next;
    msg.state = (ProtobufCBinaryData){snap.len, snap.state};
    msg.state_sha256 = (ProtobufCBinaryData){sizeof digest.bytes, digest.bytes};
    msg.applied = snap.applied;
    msg.skipped = snap.skipped;
    msg.taken_at = &at;
    char key[16];
    snprintf(key, sizeof key, "%d", (int)p);
    ww_bus_envelope_meta_t meta = {.source = w->source};
    rc = ww_bus_publisher_publish_sync_to(w->pub, w->topic, p, key, strlen(key),
                                          &msg.base, &meta, PUBLISH_TIMEOUT_MS,
                                          NULL, NULL, err);
    free(snap.state);
    int64_t took = ww_clock_mono_ms() - t0;
    pthread_mutex_lock(&w->mu);
    if (rc == WW_OK) {
        w->stats.written++;
        w->stats.last_bytes = snap.len;
        w->stats.last_ms = took;
        if (p >= 0 && p < w->n) w->last[p] = snap.next;
    } else {
        w->stats.failed++;
    }
    pthread_mutex_unlock(&w->mu);
    if (rc == WW_OK) {
        char hex[WW_HOST_STATE_HEX_LEN + 1];
        ww_host_state_hex(&digest, hex);
        ww_log_info(w->service,
                    "event=snapshot topic=%s partition=%d events_offset=%lld "
                    "bytes=%zu sha256=%s duration_ms=%lld",
                    w->topic, (int)p, (long long)snap.next, snap.len, hex,
                    (long long)took);
        if (bytes) *bytes = snap.len;
    }
    return rc;
}

/* Sleeps up to ms unless stopped; true when stopping. */
static bool nap(ww_host_snapshot_writer_t *w, int ms) {
    struct timespec until = ww_clock_mono_deadline(ms);
    pthread_mutex_lock(&w->mu);
    while (!w->stopping &&
           pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0) {
    }
    bool stop = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

static void *writer_main(void *arg) {
    ww_host_snapshot_writer_t *w = arg;
    while (!nap(w, w->cfg.interval_ms)) {
        for (int p = 0; p < w->n; p++) {
            if (!ww_host_decider_owns(w->cfg.decider, p)) continue;
            ww_err_t err;
            int64_t at = ww_host_model_position(w->cfg.model, p);
            pthread_mutex_lock(&w->mu);
            int64_t last = w->last[p];
            pthread_mutex_unlock(&w->mu);
            if (at - last < w->cfg.min_records) continue;
            if (ww_host_snapshot_write(w, p, NULL, &err) != WW_OK)
                ww_log_warn(w->service,
                            "event=snapshot_failed topic=%s partition=%d "
                            "msg=\"%s\"",
                            w->topic, p, err.msg);
            pthread_mutex_lock(&w->mu);
            bool stop = w->stopping;
            pthread_mutex_unlock(&w->mu);
            if (stop) break;
        }
    }
    return NULL;
}

ww_code_t ww_host_snapshot_writer_new(const ww_bus_config_t *bus,
                                      const ww_host_snapshot_config_t *cfg,
                                      ww_host_snapshot_writer_t **out,
                                      ww_err_t *err) {
    *out = NULL;
    if (!cfg->service || !cfg->source || !cfg->topic || !cfg->model ||
        !cfg->decider)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "snapshots: service, source, topic, model and "
                          "decider are required");
    ww_host_snapshot_writer_t *w = calloc(1, sizeof *w);
    if (!w) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    w->cfg = *cfg;
    snprintf(w->service, sizeof w->service, "%s", cfg->service);
    snprintf(w->source, sizeof w->source, "%s", cfg->source);
    snprintf(w->topic, sizeof w->topic, "%s", cfg->topic);
    w->n = ww_host_model_partitions(cfg->model);
    pthread_mutex_init(&w->mu, NULL);
    ww_cond_init_mono(&w->cv);
    w->cfg.loaded = NULL;
    ww_code_t rc = WW_OK;
    if (!(w->last = calloc((size_t)w->n, sizeof *w->last)))
        rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    for (int p = 0; rc == WW_OK && p < w->n; p++)
        w->last[p] = cfg->loaded ? cfg->loaded[p] : 0;
    /* One record holds a partition's whole state: compressed, and allowed
     * as large as the topic allows. */
    ww_bus_config_t *conf = rc == WW_OK ? ww_bus_config_dup(bus) : NULL;
    if (rc == WW_OK && !conf)
        rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    char max[32];
    snprintf(max, sizeof max, "%d", WW_HOST_BACKBONE_SNAPSHOT_MAX_BYTES);
    if (rc == WW_OK)
        rc = ww_bus_config_set(conf, "compression.type", "zstd", err);
    if (rc == WW_OK)
        rc = ww_bus_config_set(conf, "message.max.bytes", max, err);
    if (rc == WW_OK && !(w->pub = ww_bus_publisher_new(conf, err)))
        rc = err ? err->code : WW_ERR_INTERNAL;
    ww_bus_config_destroy(conf);
    if (rc == WW_OK && cfg->interval_ms > 0) {
        if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                            "snapshots: cannot start the writer thread");
        else
            w->started = true;
    }
    if (rc != WW_OK) {
        ww_host_snapshot_writer_destroy(w);
        return rc;
    }
    *out = w;
    return WW_OK;
}

ww_host_snapshot_stats_t ww_host_snapshot_stats(ww_host_snapshot_writer_t *w) {
    pthread_mutex_lock(&w->mu);
    ww_host_snapshot_stats_t st = w->stats;
    pthread_mutex_unlock(&w->mu);
    return st;
}

void ww_host_snapshot_writer_destroy(ww_host_snapshot_writer_t *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->started) pthread_join(w->thread, NULL);
    if (w->pub) {
        ww_bus_publisher_close(w->pub, 10000, NULL);
        ww_bus_publisher_destroy(w->pub);
    }
    free(w->last);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

/* ------------------------------------------------------------- loader */

typedef struct load {
    const char *service, *topic;
    const ww_shard_ops_t *ops;
    int n;
    ww_bus_registry_t *types;
    ww_host_model_start_part_t *parts;
} load_t;

/* Why a snapshot record cannot be used, or NULL with parts[p] filled. */
static const char *use(load_t *l, const rd_kafka_message_t *rec, char *why,
                       size_t size) {
    ww_bus_event_t ev = {0};
    ww_err_t err = {0};
    const char *bad = NULL;
    if (ww_bus_envelope_decode_message(rec, l->types, &ev, &err) != WW_OK) {
        snprintf(why, size, "does not decode: %s", err.msg);
        bad = why;
        goto out;
    }
    const snapshot_t *s = (const snapshot_t *)ev.payload;
    ww_host_state_digest_t digest;
    ww_host_state_sha256(s->state.data, s->state.len, &digest);
    if (strcmp(s->service, l->service) != 0 || s->partition != rec->partition) {
        snprintf(why, size, "is of %s partition %d", s->service,
                 (int)s->partition);
        bad = why;
    } else if (s->events_offset < 0) {
        bad = "has a negative events_offset";
    } else if (s->state_sha256.len != sizeof digest.bytes ||
               memcmp(s->state_sha256.data, digest.bytes,
                      sizeof digest.bytes) != 0) {
        bad = "has a state whose SHA-256 does not match";
    } else {
        ww_shard_t *shard = NULL;
        if (ww_shard_deserialize(l->ops, s->state.data, s->state.len, &shard,
                                 &err) != WW_OK) {
            snprintf(why, size, "does not restore: %s", err.msg);
            bad = why;
        } else {
            ww_host_model_start_part_t *part = &l->parts[rec->partition];
            ww_shard_destroy(part->shard);
            *part = (ww_host_model_start_part_t){
                .shard = shard,
                .next = s->events_offset,
                .applied = s->applied,
                .skipped = s->skipped,
            };
        }
    }
out:
    ww_bus_event_clear(&ev);
    return bad;
}

static ww_code_t on_snapshot(void *opaque, const rd_kafka_message_t *rec,
                             ww_err_t *err) {
    load_t *l = opaque;
    (void)err;
    if (rec->partition < 0 || rec->partition >= l->n) return WW_OK;
    char why[300];
    const char *bad = use(l, rec, why, sizeof why);
    if (bad)
        ww_log_warn(l->service,
                    "event=snapshot_ignored topic=%s partition=%d offset=%lld "
                    "msg=\"the snapshot %s; the partition is replayed from "
                    "its beginning\"",
                    l->topic, (int)rec->partition, (long long)rec->offset, bad);
    else
        ww_log_info(l->service,
                    "event=snapshot_loaded topic=%s partition=%d "
                    "events_offset=%lld bytes=%zu",
                    l->topic, (int)rec->partition,
                    (long long)l->parts[rec->partition].next, rec->len);
    return WW_OK;
}

ww_code_t ww_host_snapshot_load(const ww_bus_config_t *bus, const char *topic,
                                const char *service, const ww_shard_ops_t *ops,
                                int partitions,
                                ww_host_model_start_part_t *parts,
                                ww_err_t *err) {
    for (int p = 0; p < partitions; p++)
        parts[p] = (ww_host_model_start_part_t){0};
    load_t l = {.service = service,
                .topic = topic,
                .ops = ops,
                .n = partitions,
                .parts = parts};
    int64_t *begin = calloc((size_t)partitions, sizeof *begin);
    int64_t *end = calloc((size_t)partitions, sizeof *end);
    ww_code_t rc = begin && end ? WW_OK
                                : ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                                             "out of memory");
    size_t n_types;
    const ProtobufCMessageDescriptor *const *types =
        ww_schemas_snapshots(&n_types);
    if (rc == WW_OK && !(l.types = ww_bus_registry_new()))
        rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    if (rc == WW_OK) rc = ww_bus_registry_add_all(l.types, types, n_types, err);
    /* Only the newest record of each partition: older ones may still wait
     * for compaction, and each can be a whole partition's state. */
    rd_kafka_conf_t *conf =
        rc == WW_OK ? ww_bus_config_reader_conf(bus, err) : NULL;
    rd_kafka_t *rk = conf ? ww_bus_config_client_new(RD_KAFKA_CONSUMER, conf,
                                                     "snapshots", err)
                          : NULL;
    if (rc == WW_OK && !rk) rc = err ? err->code : WW_ERR_INTERNAL;
    if (rc == WW_OK)
        rc = ww_bus_offsets_lookup(rk, topic, partitions,
                                   RD_KAFKA_OFFSET_BEGINNING, LOOKUP_TIMEOUT_MS,
                                   begin, err);
    if (rc == WW_OK)
        rc = ww_bus_offsets_lookup(rk, topic, partitions, RD_KAFKA_OFFSET_END,
                                   LOOKUP_TIMEOUT_MS, end, err);
    if (rk) rd_kafka_destroy(rk);
    bool any = false;
    for (int p = 0; rc == WW_OK && p < partitions; p++) {
        if (end[p] > begin[p]) {
            begin[p] = end[p] - 1;
            any = true;
        } else {
            begin[p] = end[p]; /* nothing: done at once */
        }
    }
    if (rc == WW_OK && any) {
        ww_bus_replay_config_t rcfg = {
            .topic = topic,
            .from = WW_BUS_REPLAY_FROM_OFFSET,
            .offsets = begin,
            .offsets_cnt = partitions,
            .timeout_ms = PUBLISH_TIMEOUT_MS,
            .handler = on_snapshot,
            .opaque = &l,
        };
        rc = ww_bus_replay_run(bus, &rcfg, NULL, err);
    }
    if (rc != WW_OK)
        for (int p = 0; p < partitions; p++) {
            ww_shard_destroy(parts[p].shard);
            parts[p] = (ww_host_model_start_part_t){0};
        }
    ww_bus_registry_destroy(l.types);
    free(begin);
    free(end);
    return rc;
}
