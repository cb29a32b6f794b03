/*
 * ww_host_translator.h - how a service reads another service's facts: an
 * exactly-once translator, a processor in a consumer group of its own,
 * turns the facts it reacts to into commands on its own service's commands
 * topic, in one transaction with its input offsets. Each commands partition
 * thus keeps exactly one decider, and a reaction is decided in log order
 * like any other command.
 *
 * Facts the service does not react to are skipped (not dead-lettered); a
 * record that cannot be decoded goes to "<facts topic>.dlq" in the same
 * transaction (ops.translate calls ww_bus_processor_dlq).
 *
 * Threads: ops.translate runs on the processor's thread.
 */
#ifndef WW_HOST_TRANSLATOR_H
#define WW_HOST_TRANSLATOR_H

#include "ww_bus_config.h"
#include "ww_bus_processor.h"
#include "ww_err.h"

typedef struct ww_host_translator_config {
    const char *facts_topic;    /* the other service's events, full name */
    const char *commands_topic; /* this service's commands, full name */
    const char *group;          /* unprefixed, e.g. "users.translator" */
    /* Turns one fact record into 0 or more commands, produced with
     * ww_host_decider_produce(p, commands_topic, RD_KAFKA_PARTITION_UA,
     * key, ...). Errors as a processor handler's. */
    ww_code_t (*translate)(void *ctx, ww_bus_processor_t *p,
                           const char *commands_topic,
                           const rd_kafka_message_t *rec, ww_err_t *err);
    void *ctx;
} ww_host_translator_config_t;

typedef struct ww_host_translator ww_host_translator_t;

/* A translator ready to run: its processor (ww_host_translator_processor)
 * goes to ww_host_worker_start. `cfg` strings are copied; ctx is borrowed
 * and must outlive the translator. */
ww_code_t ww_host_translator_new(const ww_bus_config_t *bus,
                                 const ww_host_translator_config_t *cfg,
                                 ww_host_translator_t **out, ww_err_t *err);

ww_bus_processor_t *ww_host_translator_processor(ww_host_translator_t *t);

/* After the processor's run returned (or never ran). NULL is a no-op. */
void ww_host_translator_destroy(ww_host_translator_t *t);

#endif
