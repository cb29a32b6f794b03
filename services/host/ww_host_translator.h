/*
 * ww_host_translator.h - how a service reads another service's facts: an
 * exactly-once translator, a processor in a consumer group of its own,
 * turns the facts it reacts to into commands on its own service's commands
 * topic, in one transaction with its input offsets. Each commands partition
 * thus keeps exactly one decider, and a reaction is decided in log order
 * like any other command.
 *
 * The translator decodes each record (one that cannot be decoded goes to
 * "<facts topic>.dlq" in the same transaction) and hands the fact to
 * `translate`, which answers with ww_host_translator_react (a command),
 * ww_host_translator_refuse (a fact it must react to but cannot: the DLQ)
 * or nothing at all (a fact it does not react to: skipped, not
 * dead-lettered).
 *
 * Each fact is handled in a span of its own trace (ww_bus_envelope_trace:
 * its ce_traceparent continued, or a new trace): the command a reaction
 * writes carries it, and so does every log line of the handling.
 *
 * Threads: `translate` and the helpers run on the processor's thread.
 */
#ifndef WW_HOST_TRANSLATOR_H
#define WW_HOST_TRANSLATOR_H

#include "ww_bus_config.h"
#include "ww_bus_envelope.h"
#include "ww_bus_processor.h"
#include "ww_bus_registry.h"
#include "ww_err.h"
#include "ww_schemas.h"

/* One fact being translated. `meta` is the CommandMeta every reaction
 * carries: issued_at is the fact's time (so a reaction decides as of the
 * fact, never as of the translating instance's clock), the fact's
 * correlation id, the translator's group as caller, no idempotency key
 * (reactions are idempotent by training uuid in the domain). */
typedef struct ww_host_fact {
    const ww_bus_event_t *event;
    Wildworkouts__Events__V1__CommandMeta meta;
    /* private */
    Google__Protobuf__Timestamp issued_at_;
    struct ww_host_translator *t_;
    ww_bus_processor_t *proc_;
    const rd_kafka_message_t *rec_;
} ww_host_fact_t;

typedef struct ww_host_translator_config {
    const char *facts_topic;    /* the other service's events, full name */
    const char *commands_topic; /* this service's commands, full name */
    const char *group;  /* unprefixed, e.g. "users.translator"; the caller */
    const char *source; /* ce_source of the commands */
    const ww_bus_registry_t *facts_types; /* borrowed; the peer's events */
    /* Reacts to one fact (see above). Errors as a processor handler's. */
    ww_code_t (*translate)(void *ctx, ww_host_fact_t *fact, ww_err_t *err);
    void *ctx;
} ww_host_translator_config_t;

typedef struct ww_host_translator ww_host_translator_t;

/* The command `cmd` (its meta pointing at &fact->meta) for key `key`, to
 * the service's commands topic in the open transaction; its envelope is
 * caused by the fact and keeps its correlation id. */
ww_code_t ww_host_translator_react(ww_host_fact_t *fact, const char *key,
                                   const ProtobufCMessage *cmd, ww_err_t *err);

/* The fact to the facts topic's DLQ with `reason`: it is one this service
 * reacts to, but it cannot be turned into a command (e.g. no key). */
ww_code_t ww_host_translator_refuse(ww_host_fact_t *fact, const char *reason,
                                    ww_err_t *err);

/* A translator ready to run: its processor (ww_host_translator_processor)
 * goes to ww_host_worker_start. `cfg` strings are copied; ctx and
 * facts_types are borrowed and must outlive the translator. */
ww_code_t ww_host_translator_new(const ww_bus_config_t *bus,
                                 const ww_host_translator_config_t *cfg,
                                 ww_host_translator_t **out, ww_err_t *err);

ww_bus_processor_t *ww_host_translator_processor(ww_host_translator_t *t);

/* After the processor's run returned (or never ran). NULL is a no-op. */
void ww_host_translator_destroy(ww_host_translator_t *t);

#endif
