/* ww_host_service.c - a service's read model, decider, translator and
 * commands client, started and stopped in order. */
#include "ww_host_service.h"

#include <stdio.h>
#include <stdlib.h>

#include "ww_clock.h"
#include "ww_env.h"
#include "ww_host_serve.h"
#include "ww_host_worker.h"
#include "ww_log.h"

struct ww_host_service {
    char name[32];
    ww_host_model_t *model;
    ww_host_commands_t *commands;
    ww_host_decider_t *decider;
    ww_host_translator_t *translator;
    ww_host_worker_t *decider_thread, *translator_thread;
};

static void worker_ended(void *ctx, const char *name, ww_code_t code,
                         const ww_err_t *err) {
    (void)ctx;
    char why[300];
    snprintf(why, sizeof why, "%s ended: %s: %s", name, ww_code_name(code),
             err ? err->msg : "");
    ww_host_serve_fail(why);
}

ww_code_t ww_host_service_new(const ww_host_service_config_t *cfg,
                              ww_host_service_t **out, ww_err_t *err) {
    *out = NULL;
    ww_host_service_t *s = calloc(1, sizeof *s);
    if (!s) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(s->name, sizeof s->name, "%s", cfg->name);
    const ww_host_backbone_t *bb = cfg->backbone;
    const ww_bus_config_t *bus = ww_host_backbone_config(bb);
    const char *commands = ww_host_backbone_topic(bb, WW_HOST_BACKBONE_COMMANDS);
    const char *events = ww_host_backbone_topic(bb, WW_HOST_BACKBONE_EVENTS);
    const char *replies = ww_host_backbone_topic(bb, WW_HOST_BACKBONE_REPLIES);
    int64_t t0 = ww_clock_mono_ms();
    ww_code_t rc = ww_host_model_new(bus, events, ww_host_backbone_partitions(bb),
                                     cfg->model_ops, cfg->ctx, &s->model, err);
    if (rc != WW_OK) goto fail;
    ww_log_info(cfg->name, "event=replaying topic=%s", events);
    rc = ww_host_model_wait_caught_up(
        s->model, (int)ww_env_long("WW_KAFKA_START_TIMEOUT_MS", 30000), err);
    if (rc != WW_OK) goto fail;
    ww_host_model_stats_t st = ww_host_model_stats(s->model);
    ww_log_info(cfg->name,
                "event=caught_up topic=%s facts=%llu skipped=%llu "
                "duration_ms=%lld",
                events, (unsigned long long)st.applied,
                (unsigned long long)st.skipped,
                (long long)(ww_clock_mono_ms() - t0));
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
    if ((rc = ww_host_decider_new(bus, &dc, &s->decider, err)) != WW_OK)
        goto fail;
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
    ww_code_t rc = ww_host_worker_start(ww_host_decider_processor(s->decider),
                                        "decider", worker_ended, s,
                                        &s->decider_thread, err);
    if (rc == WW_OK && s->translator)
        rc = ww_host_worker_start(ww_host_translator_processor(s->translator),
                                  "translator", worker_ended, s,
                                  &s->translator_thread, err);
    return rc;
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

void ww_host_service_destroy(ww_host_service_t *s) {
    if (!s) return;
    ww_err_t e;
    if (ww_host_worker_stop(s->translator_thread, &e) != WW_OK)
        ww_log_warn(s->name, "event=translator_stopped msg=\"%s\"", e.msg);
    if (ww_host_worker_stop(s->decider_thread, &e) != WW_OK)
        ww_log_warn(s->name, "event=decider_stopped msg=\"%s\"", e.msg);
    ww_host_translator_destroy(s->translator);
    ww_host_decider_destroy(s->decider);
    ww_host_commands_destroy(s->commands);
    ww_host_model_destroy(s->model);
    free(s);
}
