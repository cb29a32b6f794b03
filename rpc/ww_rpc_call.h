/*
 * ww_rpc_call.h - what a handler can do with its call. The handler receives
 * the call as `closure_data` of its generated typed closure.
 *
 * Completion: exactly once, by the typed closure (`done(&response, call)`,
 * status OK) or by ww_rpc_call_fail(). Any thread may complete; after it the
 * call pointer must not be used again. The runtime keeps the call alive
 * until then, even if the client has gone away, so a late completion is
 * always safe (it is dropped by gRPC). A second completion is logged and
 * ignored.
 *
 * The accessors below are valid from the moment the handler runs until the
 * call is completed, on any thread; returned strings belong to the call.
 */
#ifndef WW_RPC_CALL_H
#define WW_RPC_CALL_H

#include "ww_err.h"
#include "ww_trace.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ww_rpc_call ww_rpc_call_t;

/* Sizes of what the authenticate hook writes (NUL included). */
#define WW_RPC_IDENTITY_SIZE 256
#define WW_RPC_ROLE_SIZE     16
#define WW_RPC_USER_ID_SIZE  129

/* Who is calling, as the server's authenticate hook found out: every field
 * "" without a hook (and for health calls it does not see). */
typedef struct ww_rpc_caller {
    char identity[WW_RPC_IDENTITY_SIZE]; /* e.g. the token's iss + sub */
    char role[WW_RPC_ROLE_SIZE];         /* in the hook's terms */
    char user_id[WW_RPC_USER_ID_SIZE];   /* the user it acts as, if one */
} ww_rpc_caller_t;

/* Full method path, "/trainer.TrainerService/UpdateHour". */
const char *ww_rpc_call_method(const ww_rpc_call_t *call);

/* The identity the authenticate hook wrote; "" without a hook. */
const char *ww_rpc_call_identity(const ww_rpc_call_t *call);

/* Everything the authenticate hook wrote (all "" without a hook). */
const ww_rpc_caller_t *ww_rpc_call_caller(const ww_rpc_call_t *call);

/* The call's trace context: the caller's `traceparent`/`tracestate`
 * metadata continued with a new span, or a new trace when none or a
 * malformed one arrived. It is the current context (ww_trace_current) of
 * the thread while the handler runs on the queue thread and while the
 * call's end is reported; a handler that goes on in another thread enters
 * it there (ww_trace_enter) so that what it logs and writes carries it. */
const ww_trace_t *ww_rpc_call_trace(const ww_rpc_call_t *call);

/* The `idempotency-key` metadata value, or NULL when the caller sent none. */
const char *ww_rpc_call_idempotency_key(const ww_rpc_call_t *call);

/* Any request metadata value by (lower-case) key, NULL if absent. Binary
 * values are not NUL-safe; text keys only. */
const char *ww_rpc_call_metadata(const ww_rpc_call_t *call, const char *key,
                                 char *buf, size_t size);

/* The client's address as gRPC names it ("ipv4:127.0.0.1:53412"): one
 * value per connection. Copied into buf (size bytes); "" when unknown. */
const char *ww_rpc_call_peer(const ww_rpc_call_t *call, char *buf, size_t size);

/* Milliseconds left before the caller's deadline (INT64_MAX when none). */
int64_t ww_rpc_call_remaining_ms(const ww_rpc_call_t *call);

/* True once the client cancelled or its deadline passed. */
bool ww_rpc_call_cancelled(ww_rpc_call_t *call);

/* Completes the call with `code` (mapped one to one onto the gRPC status)
 * and a printf-style message sent as the status details. WW_OK ends a
 * server stream normally. */
void ww_rpc_call_fail(ww_rpc_call_t *call, ww_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same with an error value (code and msg). */
void ww_rpc_call_fail_err(ww_rpc_call_t *call, const ww_err_t *err);

/* Server streaming (e.g. Health.Watch): queues one message of the method's
 * response type; messages go out in order. The message is serialised before
 * return. Fails with WW_ERR_FAILED_PRECONDITION once the call is completed,
 * WW_ERR_INVALID_ARGUMENT for a message of another type. Any thread. */
ww_code_t ww_rpc_call_stream_send(ww_rpc_call_t *call,
                                  const ProtobufCMessage *msg, ww_err_t *err);

/* Registers `fn`, run once on a queue thread if the client goes away
 * (cancel, deadline, disconnect) before the call was completed; the handler
 * still owes a completion (ww_rpc_call_fail is fine from inside fn). Used
 * by long-lived streams. */
void ww_rpc_call_on_cancel(ww_rpc_call_t *call,
                           void (*fn)(void *arg, ww_rpc_call_t *call),
                           void *arg);

#endif
