/*
 * ww_host_service.h - everything a service runs on Kafka, built from its
 * operations: the read model of <svc>.events, the decider of
 * <svc>.commands (group "<svc>.decider"), the translator of the peer's
 * facts (group "<svc>.translator"), and the edge's commands client.
 *
 * Start order: the read model first (it replays the events), then the
 * commands client (its replies reader starts at the end), then the
 * workers. A worker that ends by itself (fenced by a newer instance, a
 * fatal broker error) stops the process (ww_host_serve_fail): an instance
 * must not serve without its decider.
 *
 * Threads: new/start/stop/destroy on the main thread; the getters from any
 * thread between start and stop.
 */
#ifndef WW_HOST_SERVICE_H
#define WW_HOST_SERVICE_H

#include "ww_err.h"
#include "ww_host_backbone.h"
#include "ww_host_commands.h"
#include "ww_host_decider.h"
#include "ww_host_model.h"
#include "ww_host_translator.h"

typedef struct ww_host_service ww_host_service_t;

typedef struct ww_host_service_config {
    const char *name;   /* "trainer" */
    const char *source; /* ce_source of what it writes */
    const ww_host_backbone_t *backbone; /* borrowed */
    const ww_host_model_ops_t *model_ops;
    const ww_host_decider_ops_t *decider_ops;
    /* The translator's reaction to a peer fact (NULL: no translator; see
     * ww_host_translator.h), and the peer's event types it decodes. */
    ww_code_t (*translate)(void *ctx, ww_host_fact_t *fact, ww_err_t *err);
    const ww_bus_registry_t *peer_types;
    void *ctx; /* passed to every operation; must outlive the service */
} ww_host_service_config_t;

/* Builds the read model and waits until it holds every fact committed
 * before the start (up to WW_KAFKA_START_TIMEOUT_MS, default 30000; a
 * long log is replayed in the meantime, with a log line), then builds the
 * commands client, the decider and the translator. Nothing decides yet. */
ww_code_t ww_host_service_new(const ww_host_service_config_t *cfg,
                              ww_host_service_t **out, ww_err_t *err);

/* Starts the decider's and the translator's threads. */
ww_code_t ww_host_service_start(ww_host_service_t *s, ww_err_t *err);

ww_host_model_t *ww_host_service_model(ww_host_service_t *s);
ww_host_commands_t *ww_host_service_commands(ww_host_service_t *s);
ww_host_decider_t *ww_host_service_decider(ww_host_service_t *s);

/* Stops the workers (their open batches commit first), the commands client
 * (pending commands answered CANCELLED) and the read model; frees. NULL is
 * a no-op. */
void ww_host_service_destroy(ww_host_service_t *s);

#endif
