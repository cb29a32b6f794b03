/*
 * ww_rpc_int.h - what the server module asks of the call module: creating a
 * call from an accepted request, answering before any handler, invoking the
 * handler, and the one callback through which a call reports its end. Not
 * installed, not included by services or handlers.
 */
#ifndef WW_RPC_INT_H
#define WW_RPC_INT_H

#include "ww_err.h"
#include "ww_rpc_call.h"
#include "ww_rpc_stream.h"

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest idempotency-key; the size of a request digest. */
#define WW_RPC_KEY_MAX     128
#define WW_RPC_DIGEST_SIZE 32

/* Every tag the runtime hands to the core: the queue thread runs the tag's
 * own function, so the queue loop knows no owner and no owner's struct. */
typedef struct ww_rpc_tag {
    void (*run)(struct ww_rpc_tag *tag, bool ok);
} ww_rpc_tag_t;

/* How a call ended. All pointers are borrowed for the callback's duration. */
typedef struct ww_rpc_call_end {
    grpc_status_code code;
    const char *details;        /* "" when the status carries none */
    grpc_byte_buffer *response; /* the response bytes; NULL when none */
    int64_t duration_us;        /* since the call left the queue */
} ww_rpc_call_end_t;

/* Runs exactly once per call, on the thread that completed it, without any
 * lock of the call held and before the status is handed to the core (so a
 * result remembered here is there before the client can see the answer).
 * It must not complete the call; the accessors of ww_rpc_call.h work. */
typedef void (*ww_rpc_call_end_fn)(void *ctx, ww_rpc_call_t *call,
                                   const ww_rpc_call_end_t *end);

typedef struct ww_rpc_call_init {
    grpc_call *call;         /* taken */
    grpc_metadata_array *md; /* moved; the caller's array is left empty */
    const char *path;        /* copied */
    gpr_timespec deadline;   /* the caller's deadline */
    ww_rpc_call_end_fn on_end;
    void *on_end_ctx;
    /* Optional: runs with on_end_ctx once the call is gone (its last batch
     * completed, the core's call released): nothing of it can reach the
     * queues any more. Any thread; never if ww_rpc_call__new fails. */
    void (*on_free)(void *ctx);
    /* The method's descriptor (request and response types); NULL for an
     * unknown method, which is only ever answered by ww_rpc_call__finish. */
    const ProtobufCMethodDescriptor *method;
} ww_rpc_call_init_t;

/* A call fresh from the queue, holding the handler's, the close op's and
 * the dispatch's references. NULL on allocation failure: the grpc_call is
 * then cancelled and unreffed, the metadata freed, and on_end never runs. */
ww_rpc_call_t *ww_rpc_call__new(const ww_rpc_call_init_t *init);

/* What the server learnt before the handler: the caller (each string
 * truncated to its field), the idempotency-key (at most WW_RPC_KEY_MAX
 * characters; checked by the server; NULL forgets it, so the call's result
 * is not remembered) and the digest of the request bytes. Copied; only
 * before the handler runs, on the dispatching thread. */
void ww_rpc_call__set_caller(ww_rpc_call_t *call,
                             const ww_rpc_caller_t *caller);
void ww_rpc_call__set_idempotency_key(ww_rpc_call_t *call, const char *key);
void ww_rpc_call__set_request_digest(
    ww_rpc_call_t *call, const unsigned char digest[WW_RPC_DIGEST_SIZE]);
const unsigned char *ww_rpc_call__request_digest(const ww_rpc_call_t *call);

/* Whether ww_rpc_call__invoke ran: a handler decided the call (only such
 * results are remembered under an idempotency-key). */
bool ww_rpc_call__invoked(const ww_rpc_call_t *call);

/* Runs method `index` of `service` with `request` (taken: freed with the
 * call) and the call's typed closure, which completes the call. */
void ww_rpc_call__invoke(ww_rpc_call_t *call, ProtobufCService *service,
                         unsigned index, ProtobufCMessage *request);

/* Completes the call without a handler (a refusal, or a remembered result):
 * `details` is copied, `response` (NULL for none) is taken. */
void ww_rpc_call__finish(ww_rpc_call_t *call, grpc_status_code code,
                         const char *details, grpc_byte_buffer *response);

/* Ends the dispatch of a fresh call on its queue thread and drops the
 * dispatch reference. A call whose final status went out during dispatch
 * (the common, synchronous handler) carried RECV_CLOSE_ON_SERVER in that
 * same batch, saving a batch and a queue event per call; any other call
 * gets RECV_CLOSE_ON_SERVER started here, so a later cancellation is seen. */
void ww_rpc_call__end_dispatch(ww_rpc_call_t *call);

/* What a streaming call (ww_rpc_stream.c) builds on. */

/* A reference that keeps the call (and what is attached to it) alive; any
 * thread. */
void ww_rpc_call__ref(ww_rpc_call_t *call);
void ww_rpc_call__unref(ww_rpc_call_t *call);

/* The core's call, for batches of other kinds (RECV_MESSAGE). Borrowed. */
grpc_call *ww_rpc_call__core(ww_rpc_call_t *call);

/* `obj` is freed with `free_fn` when the call is gone, after every hook
 * below ran for the last time: an attachment may be what the hooks use. */
void ww_rpc_call__attach(ww_rpc_call_t *call, void *obj,
                         void (*free_fn)(void *obj));

/* Runs `fn` (on the queue thread, no lock held) after each send batch
 * completed; set once, before the first send. */
void ww_rpc_call__on_sent(ww_rpc_call_t *call, void (*fn)(void *arg),
                          void *arg);

/* Runs `fn` once RECV_CLOSE_ON_SERVER completed (at once if it already
 * did), with the core's verdict: `cancelled` when the client did not see
 * the call end normally (cancel, deadline, disconnect), even if a status
 * had been decided. Queue thread, no lock held; set once. */
void ww_rpc_call__on_closed(ww_rpc_call_t *call,
                            void (*fn)(void *arg, bool cancelled), void *arg);

/* Messages queued or on the wire, not yet confirmed sent. */
size_t ww_rpc_call__queued(ww_rpc_call_t *call);

/* ww_rpc_call_stream_send that refuses with WW_ERR_RESOURCE_EXHAUSTED when
 * `max` messages are already queued (ww_rpc_call__queued): the bound is
 * checked and the message queued under one lock. */
ww_code_t ww_rpc_call__send_max(ww_rpc_call_t *call,
                                const ProtobufCMessage *msg, size_t max,
                                ww_err_t *err);

/* Runs a stream method on its accepted call (ww_rpc_stream.h), taking the
 * handler's reference: the stream completes the call. On the dispatching
 * queue thread, after the server's checks. */
void ww_rpc_stream__start(ww_rpc_call_t *call,
                          const ww_rpc_stream_handler_t *h);

#endif
