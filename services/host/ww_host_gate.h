/*
 * ww_host_gate.h - whether this instance answers yet: the gRPC server
 * listens at once, NOT_SERVING, and refuses calls while the instance
 * catches up with its log; once the service opens the gate, health turns
 * SERVING ("" and every service name) and every call is admitted.
 *
 * While closed, every call but health is answered UNAVAILABLE (retriable)
 * with "<name> is catching up (<progress>): not serving yet, retry shortly",
 * where <progress> is what the service last reported (for a replay, e.g.
 * "users.events: 120345 of 300000 offsets read, 40%"). Reads are refused
 * too: a model behind the end of the log as of the start could answer an
 * older state than one the caller already saw acknowledged (a balance
 * before its own write, through another instance), which an instance that
 * serves never does. Authentication and decoding come first (rpc's admit
 * hook), so an unauthenticated call still gets UNAUTHENTICATED and a
 * malformed one INVALID_ARGUMENT.
 *
 * Life: new, apply to the server config, attach once the server started;
 * the service reports progress and opens; detach before the server is
 * destroyed (a late open then changes nothing); destroy last.
 *
 * Threads: progress and open from any thread; the admit hook runs on the
 * server's queue threads and takes only a short lock; the rest on the
 * main thread.
 */
#ifndef WW_HOST_GATE_H
#define WW_HOST_GATE_H

#include "ww_err.h"
#include "ww_rpc_server.h"

#include <stdbool.h>

typedef struct ww_host_gate ww_host_gate_t;

/* A closed gate for service `name` ("users", copied; also its log
 * component). RESOURCE_EXHAUSTED. */
ww_code_t ww_host_gate_new(const char *name, ww_host_gate_t **out,
                           ww_err_t *err);

/* Makes the server start NOT_SERVING and ask the gate before each call
 * (start_not_serving, admit). */
void ww_host_gate_apply(ww_host_gate_t *g, ww_rpc_server_config_t *cfg);

/* The started server whose health the gate turns SERVING on open
 * (borrowed until detach). If the gate is open already, at once. */
void ww_host_gate_attach(ww_host_gate_t *g, ww_rpc_server_t *server);

/* What the instance is doing while closed, for refusals (printf-style,
 * truncated to 200 characters). */
void ww_host_gate_progress(ww_host_gate_t *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Ready: every call is admitted from now on and health turns SERVING (one
 * log line, event=serving). Idempotent. */
void ww_host_gate_open(ww_host_gate_t *g);

bool ww_host_gate_is_open(ww_host_gate_t *g);

/* Forgets the server (before it is destroyed). */
void ww_host_gate_detach(ww_host_gate_t *g);

/* After the server is gone. NULL is a no-op. */
void ww_host_gate_destroy(ww_host_gate_t *g);

#endif
