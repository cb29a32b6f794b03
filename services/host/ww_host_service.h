/*
 * ww_host_service.h - everything a service runs on Kafka, built from its
 * operations: the read model of <svc>.events, the decider of
 * <svc>.commands (group "<svc>.decider"), the translator of the peer's
 * facts (group "<svc>.translator"), and the edge's commands client.
 *
 * Start-up is recovery. new builds everything; the read model starts
 * replaying <svc>.events from the beginning at once, and nothing waits.
 * start runs the catch-up in a thread of its own while the server already
 * listens with its gate closed (NOT_SERVING, calls UNAVAILABLE, see
 * ww_host_gate.h):
 *   1. the end of every events partition, captured once (the end "as of
 *      the start");
 *   2. the model reaches it; meanwhile the gate's progress says how far
 *      ("users.events: 120345 of 300000 offsets read, 40%");
 *   3. then the workers start: the decider and the translator join their
 *      groups only now. A decider copies its partitions' shards from this
 *      model once it reached the ends captured after the stable committed
 *      offsets (ww_host_decider.h, handover), so it never decides on a
 *      model that is behind; joining only once caught up also keeps this
 *      instance from taking partitions (and the translator's) away from
 *      instances that serve, only to hold them idle during its replay;
 *   4. the gate opens: health SERVING, every call admitted.
 * A replay that progresses is never cut short, however long the log. The
 * start fails (ww_host_serve_fail: a log line naming the topic and where
 * it stands, exit 1, so an orchestrator restarts it) when the end cannot
 * be asked, or the replay makes no progress, for WW_KAFKA_START_TIMEOUT_MS
 * (default 30000): a broker gone for that long.
 *
 * A worker that ends by itself (fenced by a newer instance, a fatal broker
 * error) stops the process (ww_host_serve_fail): an instance must not
 * serve without its decider.
 *
 * Threads: new/start/destroy on the main thread; the getters from any
 * thread between new and destroy (the model and the commands client are
 * complete at new; the adapters use them only once the gate is open).
 */
#ifndef WW_HOST_SERVICE_H
#define WW_HOST_SERVICE_H

#include "ww_err.h"
#include "ww_host_backbone.h"
#include "ww_host_commands.h"
#include "ww_host_decider.h"
#include "ww_host_gate.h"
#include "ww_host_model.h"
#include "ww_host_snapshot.h"
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
    /* Opened once caught up (borrowed, must outlive the service); NULL:
     * nothing to open. */
    ww_host_gate_t *gate;
} ww_host_service_config_t;

/* Builds the read model (replaying from now on), the commands client, the
 * decider and the translator. Blocks only for the round trips of creating
 * them; nothing decides yet. */
ww_code_t ww_host_service_new(const ww_host_service_config_t *cfg,
                              ww_host_service_t **out, ww_err_t *err);

/* Starts the catch-up thread (see the top); returns at once. The workers
 * start, and the gate opens, once the model has caught up. */
ww_code_t ww_host_service_start(ww_host_service_t *s, ww_err_t *err);

ww_host_model_t *ww_host_service_model(ww_host_service_t *s);
ww_host_commands_t *ww_host_service_commands(ww_host_service_t *s);
ww_host_decider_t *ww_host_service_decider(ww_host_service_t *s);
ww_host_snapshot_writer_t *ww_host_service_snapshots(ww_host_service_t *s);

/* Stops the catch-up if it still runs (within a fraction of a second),
 * the workers (their open batches commit first), the commands client
 * (pending commands answered CANCELLED) and the read model; frees. NULL is
 * a no-op. */
void ww_host_service_destroy(ww_host_service_t *s);

#endif
