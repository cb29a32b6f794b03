/*
 * ww_host_serve.h - the common main loop of a service binary: security mode,
 * listen address, server settings from the environment, listen at once
 * NOT_SERVING, let the service catch up (configure, then its gate opens),
 * run until SIGTERM or SIGINT, graceful shutdown.
 *
 * Start-up is recovery: the server listens before the service has rebuilt
 * anything, with health NOT_SERVING ("" and every service) and every call
 * but health answered UNAVAILABLE "... is catching up (...)" (see
 * ww_host_gate.h), so an orchestrator's probe (grpc_health_probe, a
 * Kubernetes readiness or startup probe) sees the instance is not ready
 * yet instead of a closed port. The service opens the gate once its read
 * model holds the end of its log as of the start (ww_host_service.h); then
 * health turns SERVING.
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
 *   WW_METRICS_ADDR      serve Prometheus metrics on host:port/metrics
 *                        (ww_host_metrics.h); unset: none
 *   WW_REFLECTION        on (default) or off: gRPC server reflection
 *                        (grpc.reflection.v1 and v1alpha), authenticated
 *                        like every other call; anything else refuses to
 *                        start
 */
#ifndef WW_HOST_SERVE_H
#define WW_HOST_SERVE_H

#include "ww_err.h"
#include "ww_host_gate.h"
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
    /* Optional: called on the main thread once the server listens (closed
     * gate: NOT_SERVING, calls refused): where a service connects to Kafka
     * and starts its catch-up, which opens `gate` (borrowed, valid until
     * unconfigure returns) when ready; it may block while Kafka is retried
     * (WW_KAFKA_START_TIMEOUT_MS), not for the replay. `authenticated` is
     * false in local mode (calls carry no identity); `listen_addr` is where
     * the server listens. A non-OK return stops the service with err's
     * message (exit 1). Without configure the gate opens at start. */
    ww_code_t (*configure)(void *ctx, bool authenticated,
                           const char *listen_addr, ww_host_gate_t *gate,
                           ww_err_t *err);
    /* Optional: called on the main thread after the server stopped (no
     * handler runs any more), also when configure failed: stop workers. */
    void (*unconfigure)(void *ctx);
    void *configure_ctx;
    /* Optional: the serialized FileDescriptorSet of everything the binary
     * serves (borrowed; the build embeds it, see proto/CMakeLists.txt):
     * server reflection answers from it (ww_rpc_reflection.h). NULL: no
     * reflection. */
    const unsigned char *descriptor_set;
    size_t descriptor_set_len;
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
 * without failed (a worker fenced by a newer instance, a replay that
 * cannot catch up, say): the main loop
 * shuts down gracefully and the process exits with 1, so an orchestrator
 * restarts it. */
void ww_host_serve_fail(const char *why);

#endif
