/*
 * ww_rpc_server.h - a gRPC server over the gRPC C core: unary and
 * server-streaming methods dispatched to protoc-c generated services with
 * typed handlers, and bidirectional streams (ww_rpc_stream.h).
 *
 * A service is the struct protoc-c generates, e.g.
 *
 *     struct trainer_impl { Trainer__TrainerService_Service base; ... };
 *     static void is_hour_available(
 *         Trainer__TrainerService_Service *svc,
 *         const Trainer__IsHourAvailableRequest *in,
 *         Trainer__IsHourAvailableResponse_Closure done, void *closure_data) {
 *         ww_rpc_call_t *call = closure_data;     // see ww_rpc_call.h
 *         Trainer__IsHourAvailableResponse out =
 *             TRAINER__IS_HOUR_AVAILABLE_RESPONSE__INIT;
 *         ...
 *         done(&out, closure_data);               // or ww_rpc_call_fail()
 *     }
 *
 * The generated method pointers and closures are typed, so a handler that
 * fills the wrong response type does not compile. A handler completes its
 * call exactly once, now or later, from any thread: `done(&response, call)`
 * (the response is serialised before `done` returns, so it may live on the
 * stack) or ww_rpc_call_fail(call, code, ...). The request is owned by the
 * runtime and valid until the call is completed.
 *
 * Threads: `threads` completion-queue threads (default: the number of
 * cores), each with its own queue and `requests_per_method` requests armed
 * for every method, so reads never wait on one another. Handlers run on
 * these threads; a handler that must wait (for Kafka, say) keeps the call
 * and returns, so a few threads hold thousands of pending calls.
 *
 * Before any handler runs, the runtime answers by itself:
 *   - unknown method                         -> UNIMPLEMENTED
 *   - request larger than max_receive_bytes  -> RESOURCE_EXHAUSTED
 *   - deadline already passed                -> DEADLINE_EXCEEDED (not run)
 *   - authenticate() refused                 -> its status (not run)
 *   - request bytes protobuf cannot decode   -> INVALID_ARGUMENT
 *   - authorize() refused (after decoding)   -> its status (not run)
 *   - repeated `idempotency-key` (when idempotency_cache > 0) -> the first
 *     call's result, the handler is not run again; the same key with other
 *     request bytes -> INVALID_ARGUMENT ("was used for another request").
 *     Keyed by method, caller identity and key, bound to a digest of the
 *     request bytes (length + FNV-1a 128); only results a handler decided are
 * remembered (never a refusal above or below), each for idempotency_ttl_ms, at
 * most idempotency_per_identity per identity (its own oldest goes first;
 *     ww_rpc_idempotency.h). Remembered once the first call completed, so
 *     two overlapping calls with one key both run. A process-local
 *     convenience for simple servers: our services leave it off, because
 *     their writes are commands and idempotency lives in the facts on
 *     Kafka (services/host/ww_host_write.h: across instances and restarts,
 *     bound to the request by the same rule, decided once).
 *   - admit() refused (after decoding)       -> its status (not run; not
 *     remembered under the idempotency-key, so a retry once the owner is
 *     ready runs)
 * Every finished call logs one line: method, status, duration.
 *
 * Health and readiness: grpc.health.v1.Health is served by itself (see
 * ww_rpc_health.h). Once the server starts, "" (the whole server) and the
 * name of every added service ("trainer.TrainerService") are SERVING, or
 * NOT_SERVING with `start_not_serving`: for an owner that must prepare
 * after it listens (a read model catching up), so probes see it is not
 * ready instead of finding no port. The owner turns them SERVING with
 * ww_rpc_server_set_serving once ready; until then `admit` is the natural
 * place to refuse calls (UNAVAILABLE, saying why). A status set before
 * start is kept by start.
 *
 * Security hooks (no cryptography here):
 *   - `credentials` (borrowed, NULL = plaintext): passed to
 *     grpc_server_add_http2_port; TLS server credentials come from the auth
 *     module.
 *   - `authenticate` runs on the queue thread before any handler with the
 *     method path and the `authorization` metadata (NULL if absent). It
 *     fills *caller (identity, e.g. the token's iss + sub; role; the user
 *     id the caller acts as; NUL-terminated strings, zeroed on entry) and
 *     returns WW_OK, or returns a non-OK code (normally
 *     WW_ERR_UNAUTHENTICATED or WW_ERR_PERMISSION_DENIED) with `err`
 *     filled, and the call ends with that status. Health methods are
 *     exempt unless `authenticate_health`. Handlers read the caller with
 *     ww_rpc_call_caller() / ww_rpc_call_identity(). It must be thread-safe
 *     (all queue threads call it) and not block for long.
 *   - `authorize` runs on the queue thread after decoding, before the
 *     idempotency cache, admit and the handler, with the call (its caller
 *     set) and the decoded request: WW_OK lets it on; any other code
 *     (normally WW_ERR_PERMISSION_DENIED) ends the call with that status
 *     and err's message. Never for health methods. Thread-safe, no I/O.
 */
#ifndef WW_RPC_SERVER_H
#define WW_RPC_SERVER_H

#include "ww_err.h"
#include "ww_rpc_call.h"
#include "ww_rpc_health.h"
#include "ww_rpc_stream.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ww_rpc_server ww_rpc_server_t;

typedef ww_code_t (*ww_rpc_authenticate_fn)(void *ctx, const char *method,
                                            const char *authorization,
                                            ww_rpc_caller_t *caller,
                                            ww_err_t *err);

/* See the top ("authorize"). */
typedef ww_code_t (*ww_rpc_authorize_fn)(void *ctx, const ww_rpc_call_t *call,
                                         const ProtobufCMessage *request,
                                         ww_err_t *err);

/* Whether a call may run now, asked on the queue thread after
 * authentication and decoding, right before the handler; never for health
 * methods. WW_OK admits; any other code (normally WW_ERR_UNAVAILABLE, with
 * err saying why and when to retry) ends the call with that status and
 * err's message. Must be thread-safe and fast: no I/O, no waiting. */
typedef ww_code_t (*ww_rpc_admit_fn)(void *ctx, const char *method,
                                     ww_err_t *err);

/* Watches calls for metrics (the services' exporter installs one); the
 * runtime knows nothing of what is done with them. Every callback must be
 * thread-safe, fast and lock-free on its way (it runs on the call's path),
 * and must not touch the call.
 *   method:  once per registered method at start, before any call: its
 *            path ("/trainer.TrainerService/IsHourAvailable") and gRPC
 *            type ("unary"; "server_stream" for health's Watch;
 *            "bidi_stream" for streams, reflection's among them).
 *   started: a call of a registered method was accepted (queue thread).
 *   handled: a call ended with `code` after `duration_us` (the thread that
 *            completed it); also for unknown methods, whose path the
 *            observer never saw in `method`. */
typedef struct ww_rpc_observer {
    void (*method)(void *ctx, const char *path, const char *grpc_type);
    void (*started)(void *ctx, const char *path);
    void (*handled)(void *ctx, const char *path, grpc_status_code code,
                    int64_t duration_us);
    void *ctx;
} ww_rpc_observer_t;

typedef struct ww_rpc_server_config {
    const char *listen_addr; /* "127.0.0.1:0" picks a free port */
    int threads;             /* 0: one per core it may run on */
    int requests_per_method; /* armed per method per thread; 0: 32 */
    int max_receive_bytes;   /* 0: 4 MiB */
    int idempotency_cache;   /* remembered keys; 0: off */
    int idempotency_per_identity;         /* 0: idempotency_cache / 8 */
    int64_t idempotency_ttl_ms;           /* 0: 10 minutes */
    grpc_server_credentials *credentials; /* borrowed; NULL: plaintext */
    ww_rpc_authenticate_fn authenticate;  /* NULL: everyone, caller "" */
    void *auth_ctx;
    ww_rpc_authorize_fn authorize; /* NULL: every authenticated call */
    void *authorize_ctx;
    bool authenticate_health;
    /* Health starts NOT_SERVING for "" and every service (see the top). */
    bool start_not_serving;
    ww_rpc_admit_fn admit; /* NULL: every call is admitted */
    void *admit_ctx;
    const ww_rpc_observer_t *observer; /* borrowed; NULL: none */
} ww_rpc_server_config_t;

/* Creates a stopped server (calls grpc_init; ww_rpc_server_destroy balances
 * it). The config is copied; `credentials` is borrowed until start returns.
 * On failure *out is NULL and err says why. */
ww_code_t ww_rpc_server_new(const ww_rpc_server_config_t *config,
                            ww_rpc_server_t **out, ww_err_t *err);

/* Serves `service` (borrowed; must outlive the server) and reports it in
 * health once started (SERVING, or NOT_SERVING with start_not_serving).
 * Only before ww_rpc_server_start. */
ww_code_t ww_rpc_server_add_service(ww_rpc_server_t *server,
                                    ProtobufCService *service, ww_err_t *err);

/* Serves the streaming method "/<service>/<method>" with `handler`
 * (borrowed; must outlive the server; see ww_rpc_stream.h). The stream is
 * authenticated and admitted like a unary call; health lists `service`.
 * Only before ww_rpc_server_start. */
ww_code_t ww_rpc_server_add_stream(ww_rpc_server_t *server, const char *service,
                                   const char *method,
                                   const ww_rpc_stream_handler_t *handler,
                                   ww_err_t *err);

/* The names of the services served, each once, in the order added
 * (grpc.health.v1.Health from start on): at most `max` go to names
 * (borrowed, valid while the server lives); returns how many there are.
 * Any thread once started (they never change then). */
size_t ww_rpc_server_services(const ww_rpc_server_t *server, const char **names,
                              size_t max);

/* The server's grpc.health.v1.Health state (owned by the server), served
 * automatically. */
ww_rpc_health_t *ww_rpc_server_health(ww_rpc_server_t *server);

/* Binds, starts the queue threads and arms the requests. */
ww_code_t ww_rpc_server_start(ww_rpc_server_t *server, ww_err_t *err);

/* Sets the health of "" and of every added service to `status` at once
 * (each Watch of those names sees it): how an owner that started with
 * start_not_serving reports it is ready. From any thread once
 * ww_rpc_server_start returned, until ww_rpc_server_destroy (before start:
 * on the thread that adds the services); after shutdown it changes nothing
 * (everything stays NOT_SERVING). Fails only on allocation failure. */
ww_code_t ww_rpc_server_set_serving(ww_rpc_server_t *server,
                                    ww_rpc_health_status_t status,
                                    ww_err_t *err);

/* The bound port (useful with ":0"); 0 before start. */
int ww_rpc_server_port(const ww_rpc_server_t *server);

/* Graceful stop: health turns NOT_SERVING and Watch streams end, no new
 * calls are accepted, calls in flight get up to `grace_ms` to finish, then
 * the rest are cancelled. Returns once every queue thread has stopped; call
 * from one thread, not from a handler. Idempotent. */
void ww_rpc_server_shutdown(ww_rpc_server_t *server, int grace_ms);

/* Shuts down (grace 0) if still running and frees everything. Handlers must
 * have completed every call they kept. NULL is a no-op. */
void ww_rpc_server_destroy(ww_rpc_server_t *server);

/* Blocks SIGTERM and SIGINT in the calling thread and every thread it
 * starts afterwards; call first in main, before any thread exists. */
void ww_rpc_server_block_signals(void);

/* Waits for SIGTERM or SIGINT (blocked before) and returns its number. */
int ww_rpc_server_wait_signal(void);

#endif
