/*
 * ww_rpc_client.h - blocking, typed unary gRPC calls over the gRPC C core.
 *
 * A client holds one channel to one target. Calls are typed through
 * WW_RPC_CLIENT_METHOD (each service keeps its stubs beside it, e.g.
 * services/trainer/ww_trainer_stubs.h; health's are in ww_rpc_stubs.h): the
 * request and the response pointer have the method's generated types, so a
 * mismatch does not compile.
 *
 *     ww_rpc_client_t *c;
 *     ww_rpc_client_new_from_env("TRAINER_GRPC_ADDR", NULL, &c, &err);
 *     Trainer__IsHourAvailableResponse *resp;
 *     ww_rpc_call_options_t o = {.timeout_ms = 2000};
 *     if (ww_trainer_stubs_is_hour_available(c, &req, &resp, &o,
 *                                            &err) == WW_OK) {
 *         ... resp->is_available ...
 *         protobuf_c_message_free_unpacked(&resp->base, NULL);
 *     }
 *
 * Security hooks: `channel_credentials` (e.g. TLS from the auth module) and
 * `call_credentials` (e.g. a per-call `authorization: Bearer` plugin) are
 * borrowed, NULL meaning plaintext / none. The channel credentials may be
 * released once ww_rpc_client_new returns (the channel keeps its own
 * reference); the call credentials must outlive the client (the C core has
 * no public way to take a reference). A call-credentials plugin meant for
 * plaintext test channels needs min security level GRPC_SECURITY_NONE.
 *
 * Thread-safety: one client may be used by any number of threads at once.
 * Memory: the response is allocated by protobuf-c's default allocator and
 * owned by the caller (free with protobuf_c_message_free_unpacked); on
 * failure *resp is NULL.
 */
#ifndef WW_RPC_CLIENT_H
#define WW_RPC_CLIENT_H

#include "ww_err.h"
#include "ww_trace.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ww_rpc_client ww_rpc_client_t;

typedef struct ww_rpc_client_config {
    const char *target;                            /* "127.0.0.1:3000" */
    grpc_channel_credentials *channel_credentials; /* NULL: plaintext */
    grpc_call_credentials *call_credentials;       /* NULL: none */
    int max_receive_bytes;                         /* 0: 4 MiB */
    /* Optional: called once by ww_rpc_client_destroy after the channel is
     * gone (or by a failing ww_rpc_client_new), so a client can own what
     * its credentials need, e.g. the token source behind call_credentials.
     * Also called when ww_rpc_client_new(_from_env) fails, so ownership
     * passes in every case. Runs on the calling thread. */
    void (*release)(void *release_ctx);
    void *release_ctx;
} ww_rpc_client_config_t;

typedef struct ww_rpc_call_options {
    int64_t timeout_ms;          /* 0: 10 s; < 0: already passed (probes) */
    const char *idempotency_key; /* sent as `idempotency-key`; NULL: none */
    /* The trace the call belongs to: the call is a span of it and sends
     * that span as W3C `traceparent` (and the trace's `tracestate`), so
     * the server and the records the call causes continue it. NULL: the
     * calling thread's current context (ww_trace_current); when neither is
     * valid nothing is sent and the server starts a trace. Borrowed. */
    const ww_trace_t *trace;
    int *grpc_status; /* out, optional: the raw gRPC status */
} ww_rpc_call_options_t;

/* Connects lazily (the first call dials). Calls grpc_init;
 * ww_rpc_client_destroy balances it. */
ww_code_t ww_rpc_client_new(const ww_rpc_client_config_t *config,
                            ww_rpc_client_t **out, ww_err_t *err);

/* Same with the target read from the environment variable `env_name`
 * (TRAINER_GRPC_ADDR, USERS_GRPC_ADDR); INVALID_ARGUMENT naming the variable
 * when it is unset or empty. `config` may be NULL; its target is ignored. */
ww_code_t ww_rpc_client_new_from_env(const char *env_name,
                                     const ww_rpc_client_config_t *config,
                                     ww_rpc_client_t **out, ww_err_t *err);

void ww_rpc_client_destroy(ww_rpc_client_t *client);

/* The untyped call under the typed stubs: `method` is the method's name in
 * `service` ("IsHourAvailable"); `request` must be of its input type. */
ww_code_t ww_rpc_client_unary(ww_rpc_client_t *client,
                              const ProtobufCServiceDescriptor *service,
                              const char *method,
                              const ProtobufCMessage *request,
                              ProtobufCMessage **response,
                              const ww_rpc_call_options_t *options,
                              ww_err_t *err);

/* Raw bytes in and out, for tools and tests that send what no typed stub
 * would (undecodable or oversized requests, unknown methods). `path` is
 * "/pkg.Service/Method"; *response (malloc'd, caller frees) may be NULL. */
ww_code_t ww_rpc_client_unary_raw(ww_rpc_client_t *client, const char *path,
                                  const void *data, size_t len,
                                  uint8_t **response, size_t *response_len,
                                  const ww_rpc_call_options_t *options,
                                  ww_err_t *err);

/* Declares `fn(client, const ReqT *, RespT **, options, err)`, a typed call
 * of `method` in service descriptor `svc`. */
#define WW_RPC_CLIENT_METHOD(fn, svc, method, ReqT, RespT)                     \
    static inline ww_code_t fn(                                                \
        ww_rpc_client_t *client, const ReqT *request, RespT **response,        \
        const ww_rpc_call_options_t *options, ww_err_t *err) {                 \
        return ww_rpc_client_unary(client, &(svc), method, &request->base,     \
                                   (ProtobufCMessage **)response, options,     \
                                   err);                                       \
    }

#endif
