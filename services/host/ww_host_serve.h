/*
 * ww_host_serve.h - the common main loop of a service binary: security mode,
 * listen address, server settings from the environment, run until SIGTERM
 * or SIGINT, graceful shutdown.
 *
 * Environment:
 *   WW_LISTEN_ADDR       listen here when set, else on the service's own
 *                        *_GRPC_ADDR (addr_env)
 *   security             see ww_host_security.h: TLS and per-call token
 *                        verification before every handler (health stays
 *                        open); without WW_TLS_CERT, WW_TLS_KEY, WW_JWKS or
 *                        WW_JWT_AUDIENCE the service refuses to start and
 *                        names the variable missing.
 *   GRPC_NO_TLS=true     plaintext without authentication, for local runs
 *                        (one warning is logged).
 *   WW_RPC_THREADS       completion-queue threads (default: cores)
 *   WW_RPC_MAX_RECV_BYTES  largest accepted request (default 4 MiB)
 *   WW_SHUTDOWN_GRACE_MS time in-flight calls get at shutdown (default 5000)
 */
#ifndef WW_HOST_SERVE_H
#define WW_HOST_SERVE_H

#include "ww_err.h"
#include "ww_rpc_server.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#define WW_HOST_SERVE_MAX_SERVICES 8

typedef struct ww_host_serve_config {
    const char *name;     /* log component, "trainer" */
    const char *addr_env; /* "TRAINER_GRPC_ADDR" */
    ProtobufCService *services[WW_HOST_SERVE_MAX_SERVICES]; /* borrowed */
    size_t n_services;
    /* Optional: called on the main thread once the security settings and
     * the listen address are known, before the server starts: where a
     * service connects to Kafka, rebuilds its read model and starts its
     * workers. `authenticated` is false in local mode (calls carry no
     * identity); `listen_addr` is where the server will listen. A non-OK
     * return stops the start with err's message. */
    ww_code_t (*configure)(void *ctx, bool authenticated,
                           const char *listen_addr, ww_err_t *err);
    /* Optional: called on the main thread after the server stopped (no
     * handler runs any more), also when configure failed: stop workers. */
    void (*unconfigure)(void *ctx);
    void *configure_ctx;
} ww_host_serve_config_t;

/* The address to listen on: WW_LISTEN_ADDR, else $addr_env; a clear
 * INVALID_ARGUMENT naming both when neither is set. Not owned (environment
 * storage). */
ww_code_t ww_host_serve_listen_addr(const char *addr_env, const char **addr,
                                   ww_err_t *err);

/* Runs the server until SIGTERM/SIGINT or ww_host_serve_fail; returns the
 * process exit code (0 after a clean shutdown, 1 when it could not start or
 * a worker failed, with the reason logged). Call
 * ww_rpc_server_block_signals() first thing in main. */
int ww_host_serve_main(const ww_host_serve_config_t *config);

/* Stops the service from any thread because something it cannot serve
 * without failed (a worker fenced by a newer instance, say): the main loop
 * shuts down gracefully and the process exits with 1, so an orchestrator
 * restarts it. */
void ww_host_serve_fail(const char *why);

#endif
