/*
 * ww_rpc_stream.h - bidirectional (and client-streaming) calls: the client
 * sends any number of messages, the server answers with any number, in
 * order, and ends the call with one status. Registered with
 * ww_rpc_server_add_stream (ww_rpc_server.h); the server authenticates and
 * admits a stream exactly like a unary call before `open` runs.
 *
 * Reading: the runtime reads one request message at a time (one RECV_MESSAGE
 * in flight) and hands it to `message`; the next is read only after
 * `message` returned and while fewer than `max_queued` responses wait to be
 * sent. So a handler never runs twice at once for one stream, messages
 * arrive in the order the client sent them, and a client that stops reading
 * stops being read: its sends back up into HTTP/2 flow control instead of
 * into server memory.
 *
 * Sending: ww_rpc_stream_send queues a response; one send is on the wire at
 * a time and they leave in the order queued. The queue is bounded: a send
 * with `max_queued` responses already waiting is refused with
 * WW_ERR_RESOURCE_EXHAUSTED (nothing is queued; the handler decides, e.g.
 * finish the stream with that code). A handler answering each request
 * with at most one response never sees the refusal, since reads pause first.
 *
 * Ending, exactly one of:
 *   - the handler calls ww_rpc_stream_finish(code, ...) (any thread, once;
 *     later calls are ignored): queued responses go out, then the status;
 *     no `message` runs after it;
 *   - the client half-closes (sent its last message): `input_end` runs, and
 *     the handler finishes then or later; without `input_end` the stream
 *     finishes OK at once;
 *   - the client cancels, disconnects or its deadline passes: the stream
 *     ends CANCELLED by itself, sends fail with WW_ERR_CANCELLED, and
 *     finishing is neither needed nor harmful. (A cancel may first look
 *     like a half-close to the reader, so `input_end` can run for it.)
 * Then `close` runs exactly once, after the last `message`/`input_end`
 * returned, no read is pending and the core reported the call over, on
 * whichever thread saw the last of these: it frees the handler's state, and
 * its `cancelled` is the core's verdict (the client did not see a normal
 * end), true even when a status had already been decided. After `close`
 * started, the stream pointer must not be used (a handler that sends from other
 * threads stops them in `close`).
 *
 * Threads: `open`, `message` and `input_end` run on a queue thread and must
 * not block; send and finish may be called from any thread until `close`.
 * Request messages are borrowed for the duration of `message`.
 */
#ifndef WW_RPC_STREAM_H
#define WW_RPC_STREAM_H

#include "ww_err.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ww_rpc_stream ww_rpc_stream_t;

typedef struct ww_rpc_stream_handler {
    const ProtobufCMessageDescriptor *input;  /* request type */
    const ProtobufCMessageDescriptor *output; /* response type */
    /* Once, first. Sets *state (NULL is fine) for the calls below and
     * returns WW_OK; any other code ends the stream with that status and
     * err's message, and no other callback runs. */
    ww_code_t (*open)(void *ctx, ww_rpc_stream_t *stream, void **state,
                      ww_err_t *err);
    /* Each request, in order. A request that does not decode as `input`
     * never gets here: the stream ends INVALID_ARGUMENT. */
    void (*message)(void *state, ww_rpc_stream_t *stream,
                    const ProtobufCMessage *msg);
    /* Optional: the client sent its last message. */
    void (*input_end)(void *state, ww_rpc_stream_t *stream);
    /* Once, last: `cancelled` when the client went away before the
     * status was decided. */
    void (*close)(void *state, bool cancelled);
    void *ctx;         /* for open */
    size_t max_queued; /* responses waiting at most; 0: 8 */
} ww_rpc_stream_handler_t;

/* Queues one response of the handler's output type (serialised before
 * return). WW_ERR_RESOURCE_EXHAUSTED when max_queued wait already,
 * WW_ERR_CANCELLED once the client went away, WW_ERR_FAILED_PRECONDITION
 * after finish, WW_ERR_INVALID_ARGUMENT for another message type. */
ww_code_t ww_rpc_stream_send(ww_rpc_stream_t *stream,
                             const ProtobufCMessage *msg, ww_err_t *err);

/* Ends the stream with `code` (WW_OK: OK) and a printf-style message sent
 * as the status details, after the queued responses. */
void ww_rpc_stream_finish(ww_rpc_stream_t *stream, ww_code_t code,
                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Responses queued or on the wire, not yet confirmed sent. */
size_t ww_rpc_stream_queued(ww_rpc_stream_t *stream);

/* Full method path, the caller's identity (see ww_rpc_call.h) and any text
 * metadata value by lower-case key (NULL if absent). Valid until close. */
const char *ww_rpc_stream_method(const ww_rpc_stream_t *stream);
const char *ww_rpc_stream_identity(const ww_rpc_stream_t *stream);
const char *ww_rpc_stream_metadata(const ww_rpc_stream_t *stream,
                                   const char *key, char *buf, size_t size);

#endif
