/* ww_host_service.c - a service's read model, decider, translator and
 * commands client; the start-up catch-up that opens the gate; everything
 * stopped in order. */
#include "ww_host_service.h"

#include "ww_clock.h"
#include "ww_cond.h"
#include "ww_env.h"
#include "ww_host_metrics.h"
#include "ww_host_model_metrics.h"
#include "ww_host_serve.h"
#include "ww_host_snapshot.h"
#include "ww_host_worker.h"
#include "ww_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    SLICE_MS = 200,    /* how often the catch-up reports and checks stop */
    ASK_ENDS_MS = 2000 /* one question for the ends */
};

struct ww_host_service {
    char name[32];
    char events[256];
    int start_timeout_ms;
    ww_host_gate_t *gate;
    ww_host_model_t *model;
    ww_host_model_metrics_t *model_metrics; /* NULL: metrics off */
    ww_host_commands_t *commands;
    ww_host_decider_t *decider;
    ww_host_translator_t *translator;
    ww_host_snapshot_writer_t *snapshots;
    ww_host_worker_t *decider_thread, *translator_thread;

    /* the catch-up thread */
    pthread_t catch_up;
    bool catch_up_started;
    pthread_mutex_t mu; /* with cv: the catch-up's naps, stopping */
    pthread_cond_t cv;
    bool stopping;
};

static void worker_ended(void *ctx, const char *name, ww_code_t code,
                         const ww_err_t *err) {
    (void)ctx;
    char why[300];
    snprintf(why, sizeof why, "%s ended: %s: %s", name, ww_code_name(code),
             err ? err->msg : "");
    ww_host_serve_fail(why);
}

/* ---------- the catch-up ---------- */

/* Sleeps up to ms unless asked to stop; true when asked. */
static bool nap(ww_host_service_t *s, int ms) {
    struct timespec until = ww_clock_mono_deadline(ms);
    pthread_mutex_lock(&s->mu);
    while (!s->stopping &&
           pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
    }
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static bool stopping(ww_host_service_t *s) {
    pthread_mutex_lock(&s->mu);
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void progress(ww_host_service_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(ww_host_service_t *s, const char *fmt, ...) {
    if (!s->gate) return;
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ww_host_gate_progress(s->gate, "%s", buf);
}

/* The start cannot go on: the process stops with this reason. */
static void give_up(ww_host_service_t *s, const char *why) {
    ww_log_error(s->name, "event=catch_up_failed topic=%s msg=\"%s\"",
                 s->events, why);
    ww_host_serve_fail(why);
}

/* Step 1: the end as of the start, asked until the start timeout. */
static bool capture_ends(ww_host_service_t *s, int64_t *ends) {
    int64_t t0 = ww_clock_mono_ms();
    for (;;) {
        ww_err_t err;
        if (ww_host_model_ends(s->model, ends, ASK_ENDS_MS, &err) == WW_OK)
            return true;
        if (ww_clock_mono_ms() - t0 >= s->start_timeout_ms) {
            char why[sizeof s->events + sizeof err.msg + 64];
            snprintf(why, sizeof why,
                     "the end of %s could not be asked for %d ms: %s",
                     s->events, s->start_timeout_ms, err.msg);
            give_up(s, why);
            return false;
        }
        progress(s, "asking the end of %s: %s", s->events, err.msg);
        if (nap(s, SLICE_MS)) return false;
    }
}

/* The offsets read of those before ends[], summed over the partitions. */
static int64_t read_so_far(ww_host_service_t *s, const int64_t *ends, int n) {
    int64_t read = 0;
    for (int p = 0; p < n; p++) {
        int64_t at = ww_host_model_position(s->model, p);
        read += at < ends[p] ? at : ends[p];
    }
    return read;
}

/* Step 2: the model reaches the ends, a slice at a time, reporting where it
 * stands; no progress for the start timeout gives up. */
static bool reach_ends(ww_host_service_t *s, const int64_t *ends, int n) {
    int64_t total = 0;
    for (int p = 0; p < n; p++)
        total += ends[p];
    ww_log_info(s->name, "event=replaying topic=%s end=%lld", s->events,
                (long long)total);
    int64_t last = -1, moved_at = ww_clock_mono_ms();
    for (;;) {
        int64_t read = read_so_far(s, ends, n);
        int64_t now = ww_clock_mono_ms();
        progress(s, "%s: %lld of %lld offsets read, %d%%", s->events,
                 (long long)read, (long long)total,
                 total > 0 ? (int)(read * 100 / total) : 100);
        if (read > last) {
            last = read;
            moved_at = now;
        } else if (now - moved_at >= s->start_timeout_ms) {
            char why[sizeof s->events + 128];
            snprintf(why, sizeof why,
                     "the replay of %s made no progress for %d ms, at %lld "
                     "of %lld offsets",
                     s->events, s->start_timeout_ms, (long long)read,
                     (long long)total);
            give_up(s, why);
            return false;
        }
        ww_err_t err;
        ww_code_t rc =
            ww_host_model_wait_reached(s->model, ends, SLICE_MS, &err);
        if (rc == WW_OK) return true;
        if (rc != WW_ERR_DEADLINE_EXCEEDED) {
            give_up(s, err.msg);
            return false;
        }
        if (stopping(s)) return false;
    }
}

/* Step 3: the workers; the decider first. */
static bool start_workers(ww_host_service_t *s) {
    ww_err_t err;
    ww_code_t rc =
        ww_host_worker_start(ww_host_decider_processor(s->decider), "decider",
                             worker_ended, s, &s->decider_thread, &err);
    if (rc == WW_OK && s->translator)
        rc = ww_host_worker_start(ww_host_translator_processor(s->translator),
                                  "translator", worker_ended, s,
                                  &s->translator_thread, &err);
    if (rc != WW_OK) give_up(s, err.msg);
    return rc == WW_OK;
}

static void *catch_up_main(void *arg) {
    ww_host_service_t *s = arg;
    int64_t t0 = ww_clock_mono_ms();
    int n = ww_host_model_partitions(s->model);
    int64_t *ends = calloc((size_t)n, sizeof *ends);
    if (!ends) {
        give_up(s, "out of memory");
        return NULL;
    }
    progress(s, "asking the end of %s", s->events);
    if (capture_ends(s, ends) && reach_ends(s, ends, n)) {
        ww_host_model_stats_t st = ww_host_model_stats(s->model);
        ww_log_info(s->name,
                    "event=caught_up topic=%s facts=%llu skipped=%llu "
                    "duration_ms=%lld",
                    s->events, (unsigned long long)st.applied,
                    (unsigned long long)st.skipped,
                    (long long)(ww_clock_mono_ms() - t0));
        if (!stopping(s) && start_workers(s) && s->gate)
            ww_host_gate_open(s->gate);
    }
    free(ends);
    return NULL;
}

/* ---------- life ---------- */

ww_code_t ww_host_service_new(const ww_host_service_config_t *cfg,
                              ww_host_service_t **out, ww_err_t *err) {
    *out = NULL;
    ww_host_service_t *s = calloc(1, sizeof *s);
    if (!s) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    ww_cond_init_mono(&s->cv);
    snprintf(s->name, sizeof s->name, "%s", cfg->name);
    s->gate = cfg->gate;
    long timeout = ww_env_long("WW_KAFKA_START_TIMEOUT_MS", 30000);
    s->start_timeout_ms = timeout < 1          ? 1
                          : timeout > 86400000 ? 86400000
                                               : (int)timeout;
    const ww_host_backbone_t *bb = cfg->backbone;
    const ww_bus_config_t *bus = ww_host_backbone_config(bb);
    const char *commands =
        ww_host_backbone_topic(bb, WW_HOST_BACKBONE_COMMANDS);
    const char *events = ww_host_backbone_topic(bb, WW_HOST_BACKBONE_EVENTS);
    const char *replies = ww_host_backbone_topic(bb, WW_HOST_BACKBONE_REPLIES);
    const char *snapshots =
        ww_host_backbone_topic(bb, WW_HOST_BACKBONE_SNAPSHOTS);
    snprintf(s->events, sizeof s->events, "%s", events);
    int n = ww_host_backbone_partitions(bb);
    ww_host_snapshot_config_t snap;
    ww_host_snapshot_config_from_env(&snap);
    ww_host_model_start_part_t *start = calloc((size_t)n, sizeof *start);
    int64_t *loaded = calloc((size_t)n, sizeof *loaded);
    ww_code_t rc = start && loaded ? WW_OK
                                   : ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                                                "out of memory");
    /* Recovery starts from the newest snapshots, then replays the events
     * after them (the catch-up below). */
    if (rc == WW_OK && s->gate)
        ww_host_gate_progress(s->gate, "loading the snapshots of %s",
                              snapshots);
    if (rc == WW_OK)
        rc = ww_host_snapshot_load(bus, snapshots, cfg->name,
                                   cfg->model_ops->shard_ops, n, start, err);
    for (int p = 0; rc == WW_OK && p < n; p++) loaded[p] = start[p].next;
    if (rc == WW_OK) {
        ww_host_model_start_t from = {.parts = start};
        rc = ww_host_model_new_from(bus, events, n, cfg->model_ops, cfg->ctx,
                                    &from, &s->model, err);
    } else if (start) {
        for (int p = 0; p < n; p++) ww_shard_destroy(start[p].shard);
    }
    free(start);
    if (rc != WW_OK) {
        free(loaded);
        goto fail;
    }
    if (ww_host_metrics_current() &&
        (rc = ww_host_model_metrics_attach(
             ww_host_metrics_registry(ww_host_metrics_current()), s->model,
             events, &s->model_metrics, err)) != WW_OK) {
        free(loaded);
        goto fail;
    }
    if ((rc = ww_host_commands_new(bus, commands, replies, cfg->source,
                                   &s->commands, err)) != WW_OK)
        goto fail;
    char group[64];
    snprintf(group, sizeof group, "%s.decider", cfg->name);
    ww_host_decider_config_t dc = {
        .service = cfg->name,
        .source = cfg->source,
        .commands_topic = commands,
        .events_topic = events,
        .replies_topic = replies,
        .group = group,
        .model = s->model,
        .ops = cfg->decider_ops,
        .ctx = cfg->ctx,
    };
    if ((rc = ww_host_decider_new(bus, &dc, &s->decider, err)) != WW_OK) {
        free(loaded);
        goto fail;
    }
    snap.service = cfg->name;
    snap.source = cfg->source;
    snap.topic = snapshots;
    snap.model = s->model;
    snap.decider = s->decider;
    snap.loaded = loaded;
    rc = ww_host_snapshot_writer_new(bus, &snap, &s->snapshots, err);
    free(loaded);
    if (rc != WW_OK) goto fail;
    if (cfg->translate) {
        snprintf(group, sizeof group, "%s.translator", cfg->name);
        ww_host_translator_config_t tc = {
            .facts_topic =
                ww_host_backbone_topic(bb, WW_HOST_BACKBONE_PEER_EVENTS),
            .commands_topic = commands,
            .group = group,
            .source = cfg->source,
            .facts_types = cfg->peer_types,
            .translate = cfg->translate,
            .ctx = cfg->ctx,
        };
        if ((rc = ww_host_translator_new(bus, &tc, &s->translator, err)) !=
            WW_OK)
            goto fail;
    }
    *out = s;
    return WW_OK;
fail:
    ww_host_service_destroy(s);
    return rc;
}

ww_code_t ww_host_service_start(ww_host_service_t *s, ww_err_t *err) {
    if (s->catch_up_started)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "%s: already started", s->name);
    if (pthread_create(&s->catch_up, NULL, catch_up_main, s) != 0)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "%s: cannot start the catch-up thread", s->name);
    s->catch_up_started = true;
    return WW_OK;
}

ww_host_model_t *ww_host_service_model(ww_host_service_t *s) {
    return s->model;
}

ww_host_commands_t *ww_host_service_commands(ww_host_service_t *s) {
    return s->commands;
}

ww_host_decider_t *ww_host_service_decider(ww_host_service_t *s) {
    return s->decider;
}

ww_host_snapshot_writer_t *ww_host_service_snapshots(ww_host_service_t *s) {
    return s->snapshots;
}

void ww_host_service_destroy(ww_host_service_t *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    /* After the join, the worker pointers it may have set are ours. */
    if (s->catch_up_started) pthread_join(s->catch_up, NULL);
    ww_err_t e;
    if (ww_host_worker_stop(s->translator_thread, &e) != WW_OK)
        ww_log_warn(s->name, "event=translator_stopped msg=\"%s\"", e.msg);
    if (ww_host_worker_stop(s->decider_thread, &e) != WW_OK)
        ww_log_warn(s->name, "event=decider_stopped msg=\"%s\"", e.msg);
    ww_host_snapshot_writer_destroy(s->snapshots);
    ww_host_translator_destroy(s->translator);
    ww_host_decider_destroy(s->decider);
    ww_host_commands_destroy(s->commands);
    ww_host_model_metrics_detach(s->model_metrics);
    ww_host_model_destroy(s->model);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
