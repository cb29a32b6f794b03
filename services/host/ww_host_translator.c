/* ww_host_translator.c - another service's facts in, own commands out,
 * exactly once. */
#include "ww_host_translator.h"

#include <stdlib.h>
#include <string.h>

struct ww_host_translator {
    ww_bus_processor_t *proc;
    char *commands;
    ww_code_t (*translate)(void *, ww_bus_processor_t *, const char *,
                           const rd_kafka_message_t *, ww_err_t *);
    void *ctx;
};

static ww_code_t handle(void *opaque, ww_bus_processor_t *p,
                        const rd_kafka_message_t *rec, ww_err_t *err) {
    ww_host_translator_t *t = opaque;
    return t->translate(t->ctx, p, t->commands, rec, err);
}

ww_code_t ww_host_translator_new(const ww_bus_config_t *bus,
                                 const ww_host_translator_config_t *cfg,
                                 ww_host_translator_t **out, ww_err_t *err) {
    *out = NULL;
    if (!cfg->translate || !cfg->commands_topic || !cfg->facts_topic)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "translator: topics and translate are required");
    ww_host_translator_t *t = calloc(1, sizeof *t);
    if (!t || !(t->commands = strdup(cfg->commands_topic))) {
        free(t);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    t->translate = cfg->translate;
    t->ctx = cfg->ctx;
    const char *outputs[] = {t->commands, NULL};
    ww_bus_processor_config_t pc = {
        .input_topic = cfg->facts_topic,
        .group = cfg->group,
        .output_topics = outputs,
        .max_records = 500,
        .max_wait_ms = 2,
        .handle = handle,
        .opaque = t,
    };
    ww_code_t rc = ww_bus_processor_new(bus, &pc, &t->proc, err);
    if (rc != WW_OK) {
        ww_host_translator_destroy(t);
        return rc;
    }
    *out = t;
    return WW_OK;
}

ww_bus_processor_t *ww_host_translator_processor(ww_host_translator_t *t) {
    return t->proc;
}

void ww_host_translator_destroy(ww_host_translator_t *t) {
    if (!t) return;
    ww_bus_processor_destroy(t->proc);
    free(t->commands);
    free(t);
}
