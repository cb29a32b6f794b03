/* ww_host_translator.c - another service's facts in, own commands out,
 * exactly once. */
#include "ww_host_translator.h"

#include "ww_host_decider.h"
#include "ww_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ww_host_translator {
    ww_bus_processor_t *proc;
    char *commands, *caller, *source;
    const ww_bus_registry_t *facts_types;
    ww_code_t (*translate)(void *, ww_host_fact_t *, ww_err_t *);
    void *ctx;
};

static ww_code_t translate(ww_host_translator_t *t, ww_bus_processor_t *p,
                           const rd_kafka_message_t *rec, ww_err_t *err);

/* Reacting to a fact is one span of the fact's trace: the command it
 * writes carries it, and so do its log lines. */
static ww_code_t handle(void *opaque, ww_bus_processor_t *p,
                        const rd_kafka_message_t *rec, ww_err_t *err) {
    ww_host_translator_t *t = opaque;
    ww_trace_t span;
    ww_bus_envelope_trace(rec, &span);
    ww_trace_t prev = ww_trace_enter(&span);
    ww_code_t rc = translate(t, p, rec, err);
    if (ww_log_enabled(WW_LOG_DEBUG))
        ww_log_debug("translator",
                     "event=translated topic=%s partition=%d offset=%lld "
                     "commands=%s rc=%s",
                     rd_kafka_topic_name(rec->rkt), (int)rec->partition,
                     (long long)rec->offset, t->commands, ww_code_name(rc));
    ww_trace_leave(&prev);
    return rc;
}

static ww_code_t translate(ww_host_translator_t *t, ww_bus_processor_t *p,
                           const rd_kafka_message_t *rec, ww_err_t *err) {
    ww_bus_event_t ev = {0};
    ww_err_t why = {0};
    if (ww_bus_envelope_decode_message(rec, t->facts_types, &ev, &why) !=
        WW_OK) {
        ww_bus_event_clear(&ev);
        char reason[300];
        snprintf(reason, sizeof reason, "undecodable: %s", why.msg);
        return ww_bus_processor_dlq(p, rec, reason, 0, err);
    }
    ww_host_fact_t f = {
        .event = &ev,
        .meta = WILDWORKOUTS__EVENTS__V1__COMMAND_META__INIT,
        .issued_at_ = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
        .t_ = t,
        .proc_ = p,
        .rec_ = rec,
    };
    f.issued_at_.seconds = ev.time_ms / 1000;
    f.issued_at_.nanos = (int32_t)(ev.time_ms % 1000) * 1000000;
    f.meta.issued_at = &f.issued_at_;
    f.meta.correlation_id = ev.correlation_id;
    f.meta.caller = t->caller;
    ww_code_t rc = t->translate(t->ctx, &f, err);
    ww_bus_event_clear(&ev);
    return rc;
}

ww_code_t ww_host_translator_react(ww_host_fact_t *fact, const char *key,
                                   const ProtobufCMessage *cmd, ww_err_t *err) {
    const ww_bus_event_t *ev = fact->event;
    ww_bus_envelope_meta_t env = {
        .source = fact->t_->source,
        .correlation_id = ev->correlation_id[0] ? ev->correlation_id : NULL,
        .causation_id = ev->id,
    };
    return ww_host_decider_produce(fact->proc_, fact->t_->commands,
                                   RD_KAFKA_PARTITION_UA, key, cmd, &env, NULL,
                                   err);
}

ww_code_t ww_host_translator_refuse(ww_host_fact_t *fact, const char *reason,
                                    ww_err_t *err) {
    return ww_bus_processor_dlq(fact->proc_, fact->rec_, reason, 1, err);
}

ww_code_t ww_host_translator_new(const ww_bus_config_t *bus,
                                 const ww_host_translator_config_t *cfg,
                                 ww_host_translator_t **out, ww_err_t *err) {
    *out = NULL;
    if (!cfg->translate || !cfg->commands_topic || !cfg->facts_topic ||
        !cfg->facts_types || !cfg->group || !cfg->source)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "translator: topics, group, source, facts_types and "
                          "translate are required");
    ww_host_translator_t *t = calloc(1, sizeof *t);
    if (!t || !(t->commands = strdup(cfg->commands_topic)) ||
        !(t->caller = strdup(cfg->group)) ||
        !(t->source = strdup(cfg->source))) {
        ww_host_translator_destroy(t);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    t->facts_types = cfg->facts_types;
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
    free(t->caller);
    free(t->source);
    free(t);
}
