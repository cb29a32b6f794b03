/* Call lifecycle: one send batch in flight at a time (gRPC allows one op of
 * each kind per call), messages and the final status queued behind it, and
 * a reference count so neither a late handler nor a late core event ever
 * sees freed memory. Batches are chosen under the call's lock and started
 * outside it, and the end is reported through the call's one callback. */
#include "ww_rpc_call.h"

#include "ww_clock.h"
#include "ww_log.h"
#include "ww_rpc_int.h"
#include "ww_rpc_status.h"

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A queued outgoing stream message. */
typedef struct ww_rpc_out {
    struct ww_rpc_out *next;
    grpc_byte_buffer *buf;
} ww_rpc_out_t;

struct ww_rpc_call {
    const ProtobufCMethodDescriptor *method; /* NULL for an unknown method */
    char path[160];
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    ProtobufCMessage *request;
    int64_t start_ns;
    ww_rpc_caller_t caller;
    ww_trace_t trace; /* from traceparent/tracestate, or a new trace */
    char idempotency_key[WW_RPC_KEY_MAX + 1];
    bool has_idempotency_key;
    unsigned char request_digest[WW_RPC_DIGEST_SIZE];
    bool invoked;
    ww_rpc_call_end_fn on_end;
    void *on_end_ctx;
    void (*on_free)(void *ctx);

    atomic_int refs; /* handler + close op + dispatch + each send batch */
    ww_rpc_tag_t send_tag;
    ww_rpc_tag_t close_tag;
    int close_cancelled; /* written by core at RECV_CLOSE completion */

    pthread_mutex_t mu; /* guards everything below */
    bool completed;     /* a completion was taken; later ones are ignored */
    bool ended;         /* on_end ran: the final status may go out */
    bool status_sent;
    bool initial_md_sent;
    bool send_in_flight;
    bool closed;        /* RECV_CLOSE completed */
    bool in_dispatch;   /* the queue thread is still dispatching the call */
    bool close_started; /* RECV_CLOSE is on its way (alone or in a send) */
    bool close_in_send; /* RECV_CLOSE rides in the send batch in flight */
    ww_rpc_out_t *out_head, *out_tail;
    size_t n_out; /* messages in out_head */
    grpc_status_code final_code;
    grpc_slice final_details;
    bool has_details;
    grpc_byte_buffer *batch_buf; /* message of the batch in flight */
    void (*on_cancel)(void *arg, ww_rpc_call_t *call);
    void *on_cancel_arg;
    void (*on_sent)(void *arg); /* set once before the first send */
    void *on_sent_arg;
    void (*on_closed)(void *arg, bool cancelled); /* RECV_CLOSE's result */
    void *on_closed_arg;
    void *attached; /* freed by attached_free when the call is gone */
    void (*attached_free)(void *obj);
};

/* A send batch chosen under the lock, started after it is released. */
typedef struct ww_rpc_batch {
    grpc_op ops[4];
    size_t n;
} ww_rpc_batch_t;

static void on_send_done(ww_rpc_tag_t *tag, bool ok);
static void on_close_done(ww_rpc_tag_t *tag, bool ok);

/* The call's span: the caller's W3C trace context continued, or a new
 * trace when it sent none or a malformed one (the call goes on). */
static void trace_start(ww_rpc_call_t *call) {
    char parent[WW_TRACE_PARENT_LEN + 8], state[WW_TRACE_STATE_MAX + 1];
    const char *tp =
        ww_rpc_call_metadata(call, "traceparent", parent, sizeof parent);
    const char *ts =
        ww_rpc_call_metadata(call, "tracestate", state, sizeof state);
    ww_trace_continue(tp, ts, &call->trace);
}

ww_rpc_call_t *ww_rpc_call__new(const ww_rpc_call_init_t *init) {
    ww_rpc_call_t *call = calloc(1, sizeof *call);
    if (!call) {
        grpc_call_cancel(init->call, NULL);
        grpc_call_unref(init->call);
        grpc_metadata_array_destroy(init->md);
        grpc_metadata_array_init(init->md);
        return NULL;
    }
    call->method = init->method;
    snprintf(call->path, sizeof call->path, "%s", init->path);
    call->call = init->call;
    call->deadline = init->deadline;
    call->md = *init->md;
    grpc_metadata_array_init(init->md);
    trace_start(call);
    call->on_end = init->on_end;
    call->on_end_ctx = init->on_end_ctx;
    call->on_free = init->on_free;
    call->start_ns = ww_clock_mono_ns();
    atomic_init(&call->refs, 3); /* handler + close op + dispatch */
    call->in_dispatch = true;
    call->send_tag.run = on_send_done;
    call->close_tag.run = on_close_done;
    pthread_mutex_init(&call->mu, NULL);
    return call;
}

void ww_rpc_call__set_caller(ww_rpc_call_t *call,
                             const ww_rpc_caller_t *caller) {
    snprintf(call->caller.identity, sizeof call->caller.identity, "%s",
             caller->identity);
    snprintf(call->caller.role, sizeof call->caller.role, "%s", caller->role);
    snprintf(call->caller.user_id, sizeof call->caller.user_id, "%s",
             caller->user_id);
}

void ww_rpc_call__set_request_digest(
    ww_rpc_call_t *call, const unsigned char digest[WW_RPC_DIGEST_SIZE]) {
    memcpy(call->request_digest, digest, WW_RPC_DIGEST_SIZE);
}

const unsigned char *ww_rpc_call__request_digest(const ww_rpc_call_t *call) {
    return call->request_digest;
}

bool ww_rpc_call__invoked(const ww_rpc_call_t *call) {
    return call->invoked;
}

void ww_rpc_call__set_idempotency_key(ww_rpc_call_t *call, const char *key) {
    snprintf(call->idempotency_key, sizeof call->idempotency_key, "%s",
             key ? key : "");
    call->has_idempotency_key = key != NULL;
}

static void call_free(ww_rpc_call_t *call) {
    while (call->out_head) {
        ww_rpc_out_t *o = call->out_head;
        call->out_head = o->next;
        grpc_byte_buffer_destroy(o->buf);
        free(o);
    }
    if (call->batch_buf) grpc_byte_buffer_destroy(call->batch_buf);
    if (call->has_details) grpc_slice_unref(call->final_details);
    if (call->request) protobuf_c_message_free_unpacked(call->request, NULL);
    grpc_metadata_array_destroy(&call->md);
    grpc_call_unref(call->call);
    pthread_mutex_destroy(&call->mu);
    void (*on_free)(void *) = call->on_free;
    void *ctx = call->on_end_ctx;
    if (call->attached_free) call->attached_free(call->attached);
    free(call);
    if (on_free) on_free(ctx);
}

static void call_unref(ww_rpc_call_t *call) {
    if (atomic_fetch_sub(&call->refs, 1) == 1) call_free(call);
}

static void start_close(ww_rpc_call_t *call) {
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &call->close_cancelled;
    grpc_call_error rc =
        grpc_call_start_batch(call->call, &op, 1, &call->close_tag, NULL);
    if (rc != GRPC_CALL_OK) {
        ww_log_error("rpc", "event=recv_close_failed method=%s rc=%d",
                     call->path, (int)rc);
        call_unref(call); /* the close event will never come */
    }
}

void ww_rpc_call__end_dispatch(ww_rpc_call_t *call) {
    pthread_mutex_lock(&call->mu);
    call->in_dispatch = false;
    bool start = !call->close_started;
    call->close_started = true;
    pthread_mutex_unlock(&call->mu);
    if (start) start_close(call);
    call_unref(call); /* the dispatch reference */
}

/* Chooses the next batch if none is in flight (call->mu held) and takes
 * the batch's reference; b->n == 0 when there is nothing to start. */
static void next_batch(ww_rpc_call_t *call, ww_rpc_batch_t *b) {
    memset(b, 0, sizeof *b);
    if (call->send_in_flight || call->status_sent) return;
    grpc_op *ops = b->ops;
    size_t n = 0;
    if (!call->initial_md_sent && (call->out_head || call->ended)) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        call->initial_md_sent = true;
    }
    if (call->out_head) {
        ww_rpc_out_t *o = call->out_head;
        call->out_head = o->next;
        if (!call->out_head) call->out_tail = NULL;
        call->n_out--;
        call->batch_buf = o->buf;
        free(o);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = call->batch_buf;
    }
    if (!call->out_head && call->ended) {
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = call->final_code;
        ops[n++].data.send_status_from_server.status_details =
            call->has_details ? &call->final_details : NULL;
        call->status_sent = true;
        /* One batch and one queue event fewer per call. gRPC core 1.51
         * accepts RECV_CLOSE beside the status; a proposal upstream would
         * forbid mixing them, and a core that does would fail this batch
         * at once (logged as send_failed, every call test red), the cue to
         * start RECV_CLOSE in a batch of its own again. */
        if (call->in_dispatch && !call->close_started) {
            ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
            ops[n++].data.recv_close_on_server.cancelled =
                &call->close_cancelled;
            call->close_started = true;
            call->close_in_send = true;
        }
    }
    b->n = n;
    if (n == 0) return;
    call->send_in_flight = true;
    atomic_fetch_add(&call->refs, 1);
}

/* Starts what next_batch chose, without the call's lock: the core may
 * complete the batch before this returns. The caller holds a reference. */
static void start_batch(ww_rpc_call_t *call, ww_rpc_batch_t *b) {
    if (b->n == 0) return;
    grpc_call_error rc =
        grpc_call_start_batch(call->call, b->ops, b->n, &call->send_tag, NULL);
    if (rc == GRPC_CALL_OK) return;
    ww_log_error("rpc", "event=send_failed method=%s rc=%d", call->path,
                 (int)rc);
    bool close_now = false;
    pthread_mutex_lock(&call->mu);
    call->send_in_flight = false;
    if (call->close_in_send) {
        /* RECV_CLOSE did not start after all: end_dispatch starts it if it
         * has not run yet, else it is started here. */
        call->close_in_send = false;
        if (call->in_dispatch)
            call->close_started = false;
        else
            close_now = true;
    }
    pthread_mutex_unlock(&call->mu);
    if (close_now) start_close(call);
    call_unref(call); /* the batch's reference */
}

static void on_send_done(ww_rpc_tag_t *tag, bool ok) {
    /* A failed send means the client left; the status still ends it. */
    (void)ok;
    ww_rpc_call_t *call =
        (ww_rpc_call_t *)((char *)tag - offsetof(ww_rpc_call_t, send_tag));
    ww_rpc_batch_t b;
    pthread_mutex_lock(&call->mu);
    call->send_in_flight = false;
    if (call->batch_buf) {
        grpc_byte_buffer_destroy(call->batch_buf);
        call->batch_buf = NULL;
    }
    /* The status went out with this batch: nothing is left to cancel. */
    bool with_close = call->close_in_send;
    if (with_close) {
        call->close_in_send = false;
        call->closed = true;
    }
    next_batch(call, &b);
    void (*sent)(void *) = call->on_sent;
    void *sent_arg = call->on_sent_arg;
    void (*closed)(void *, bool) = with_close ? call->on_closed : NULL;
    void *closed_arg = call->on_closed_arg;
    pthread_mutex_unlock(&call->mu);
    start_batch(call, &b);
    if (sent) sent(sent_arg);
    if (closed) closed(closed_arg, call->close_cancelled != 0);
    if (with_close) call_unref(call); /* the close reference */
    call_unref(call);                 /* the finished batch's */
}

static void on_close_done(ww_rpc_tag_t *tag, bool ok) {
    (void)ok;
    ww_rpc_call_t *call =
        (ww_rpc_call_t *)((char *)tag - offsetof(ww_rpc_call_t, close_tag));
    void (*fn)(void *, ww_rpc_call_t *) = NULL;
    void *arg = NULL;
    pthread_mutex_lock(&call->mu);
    call->closed = true;
    if (!call->completed && call->close_cancelled) {
        fn = call->on_cancel;
        arg = call->on_cancel_arg;
    }
    void (*closed)(void *, bool) = call->on_closed;
    void *closed_arg = call->on_closed_arg;
    pthread_mutex_unlock(&call->mu);
    if (fn) fn(arg, call);
    if (closed) closed(closed_arg, call->close_cancelled != 0);
    call_unref(call);
}

static grpc_byte_buffer *pack(const ProtobufCMessage *msg) {
    size_t size = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *buf = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return buf;
}

static void enqueue(ww_rpc_call_t *call, grpc_byte_buffer *buf) {
    ww_rpc_out_t *o = malloc(sizeof *o);
    if (!o) {
        grpc_byte_buffer_destroy(buf);
        return;
    }
    o->next = NULL;
    o->buf = buf;
    call->n_out++;
    if (call->out_tail)
        call->out_tail->next = o;
    else
        call->out_head = o;
    call->out_tail = o;
}

/* Decides the final status; takes ownership of buf (may be NULL). */
static void complete(ww_rpc_call_t *call, grpc_status_code code,
                     const char *details, grpc_byte_buffer *buf) {
    pthread_mutex_lock(&call->mu);
    bool again = call->completed;
    call->completed = true;
    pthread_mutex_unlock(&call->mu);
    if (again) {
        if (buf) grpc_byte_buffer_destroy(buf);
        ww_log_error("rpc", "event=double_completion method=%s", call->path);
        return;
    }
    /* Reported before the status can leave: whatever the callback
     * remembers (an idempotency result) is there for the client's next
     * call. No lock is held, so it may log and copy at leisure. */
    if (call->on_end) {
        ww_rpc_call_end_t end = {
            .code = code,
            .details = details ? details : "",
            .response = buf,
            .duration_us = (ww_clock_mono_ns() - call->start_ns) / 1000,
        };
        ww_trace_t prev = ww_trace_enter(&call->trace);
        call->on_end(call->on_end_ctx, call, &end);
        ww_trace_leave(&prev);
    }
    ww_rpc_batch_t b;
    pthread_mutex_lock(&call->mu);
    call->final_code = code;
    if (details && *details) {
        call->final_details = grpc_slice_from_copied_string(details);
        call->has_details = true;
    }
    if (buf) enqueue(call, buf);
    call->ended = true;
    next_batch(call, &b);
    pthread_mutex_unlock(&call->mu);
    start_batch(call, &b);
    call_unref(call); /* the handler's reference */
}

void ww_rpc_call__finish(ww_rpc_call_t *call, grpc_status_code code,
                         const char *details, grpc_byte_buffer *response) {
    complete(call, code, details, response);
}

/* The ProtobufCClosure handed to handlers; closure_data is the call. */
static void closure(const ProtobufCMessage *msg, void *closure_data) {
    ww_rpc_call_t *call = closure_data;
    if (!msg) {
        complete(call, GRPC_STATUS_INTERNAL, "handler returned no response",
                 NULL);
        return;
    }
    if (!call->method || msg->descriptor != call->method->output) {
        complete(call, GRPC_STATUS_INTERNAL,
                 "handler returned a response of the wrong type", NULL);
        return;
    }
    complete(call, GRPC_STATUS_OK, NULL, pack(msg));
}

void ww_rpc_call__invoke(ww_rpc_call_t *call, ProtobufCService *service,
                         unsigned index, ProtobufCMessage *request) {
    call->request = request;
    call->invoked = true;
    service->invoke(service, index, request, closure, call);
}

const char *ww_rpc_call_method(const ww_rpc_call_t *call) {
    return call->path;
}

const ww_trace_t *ww_rpc_call_trace(const ww_rpc_call_t *call) {
    return &call->trace;
}

const char *ww_rpc_call_identity(const ww_rpc_call_t *call) {
    return call->caller.identity;
}

const ww_rpc_caller_t *ww_rpc_call_caller(const ww_rpc_call_t *call) {
    return &call->caller;
}

const char *ww_rpc_call_idempotency_key(const ww_rpc_call_t *call) {
    return call->has_idempotency_key ? call->idempotency_key : NULL;
}

const char *ww_rpc_call_metadata(const ww_rpc_call_t *call, const char *key,
                                 char *buf, size_t size) {
    for (size_t i = 0; i < call->md.count; i++) {
        const grpc_metadata *m = &call->md.metadata[i];
        if (grpc_slice_str_cmp(m->key, key) != 0) continue;
        size_t len = GRPC_SLICE_LENGTH(m->value);
        if (size == 0) return NULL;
        if (len >= size) len = size - 1;
        memcpy(buf, GRPC_SLICE_START_PTR(m->value), len);
        buf[len] = '\0';
        return buf;
    }
    return NULL;
}

int64_t ww_rpc_call_remaining_ms(const ww_rpc_call_t *call) {
    if (gpr_time_cmp(call->deadline,
                     gpr_inf_future(call->deadline.clock_type)) == 0)
        return INT64_MAX;
    gpr_timespec dl =
        gpr_convert_clock_type(call->deadline, GPR_CLOCK_MONOTONIC);
    gpr_timespec left = gpr_time_sub(dl, gpr_now(GPR_CLOCK_MONOTONIC));
    return left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

bool ww_rpc_call_cancelled(ww_rpc_call_t *call) {
    pthread_mutex_lock(&call->mu);
    bool c = (call->closed && call->close_cancelled) ||
             (!call->completed && ww_rpc_call_remaining_ms(call) < 0);
    pthread_mutex_unlock(&call->mu);
    return c;
}

void ww_rpc_call_fail(ww_rpc_call_t *call, ww_code_t code, const char *fmt,
                      ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    complete(call, ww_rpc_status_from_code(code), msg, NULL);
}

void ww_rpc_call_fail_err(ww_rpc_call_t *call, const ww_err_t *err) {
    complete(call, ww_rpc_status_from_code(err->code), err->msg, NULL);
}

ww_code_t ww_rpc_call_stream_send(ww_rpc_call_t *call,
                                  const ProtobufCMessage *msg, ww_err_t *err) {
    return ww_rpc_call__send_max(call, msg, SIZE_MAX, err);
}

/* With call->mu held. */
static size_t queued_locked(const ww_rpc_call_t *call) {
    return call->n_out + (call->batch_buf ? 1 : 0);
}

ww_code_t ww_rpc_call__send_max(ww_rpc_call_t *call,
                                const ProtobufCMessage *msg, size_t max,
                                ww_err_t *err) {
    if (!call->method || msg->descriptor != call->method->output)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "stream message of the wrong type for %s",
                          call->path);
    grpc_byte_buffer *buf = pack(msg);
    pthread_mutex_lock(&call->mu);
    if (call->completed) {
        pthread_mutex_unlock(&call->mu);
        grpc_byte_buffer_destroy(buf);
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "call %s already completed", call->path);
    }
    if (queued_locked(call) >= max) {
        pthread_mutex_unlock(&call->mu);
        grpc_byte_buffer_destroy(buf);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "call %s: %zu messages already queued (the client "
                          "reads slower than they are sent)",
                          call->path, max);
    }
    enqueue(call, buf);
    ww_rpc_batch_t b;
    next_batch(call, &b);
    pthread_mutex_unlock(&call->mu);
    start_batch(call, &b);
    return WW_OK;
}

void ww_rpc_call_on_cancel(ww_rpc_call_t *call,
                           void (*fn)(void *arg, ww_rpc_call_t *call),
                           void *arg) {
    bool run_now = false;
    pthread_mutex_lock(&call->mu);
    call->on_cancel = fn;
    call->on_cancel_arg = arg;
    run_now = call->closed && call->close_cancelled && !call->completed;
    pthread_mutex_unlock(&call->mu);
    if (run_now && fn) fn(arg, call);
}

const char *ww_rpc_call_peer(const ww_rpc_call_t *call, char *buf,
                             size_t size) {
    if (!size) return buf;
    buf[0] = '\0';
    char *peer = call->call ? grpc_call_get_peer(call->call) : NULL;
    if (peer) {
        snprintf(buf, size, "%s", peer);
        gpr_free(peer);
    }
    return buf;
}

void ww_rpc_call__ref(ww_rpc_call_t *call) {
    atomic_fetch_add(&call->refs, 1);
}

void ww_rpc_call__unref(ww_rpc_call_t *call) {
    call_unref(call);
}

grpc_call *ww_rpc_call__core(ww_rpc_call_t *call) {
    return call->call;
}

void ww_rpc_call__attach(ww_rpc_call_t *call, void *obj,
                         void (*free_fn)(void *obj)) {
    call->attached = obj;
    call->attached_free = free_fn;
}

void ww_rpc_call__on_sent(ww_rpc_call_t *call, void (*fn)(void *arg),
                          void *arg) {
    pthread_mutex_lock(&call->mu);
    call->on_sent = fn;
    call->on_sent_arg = arg;
    pthread_mutex_unlock(&call->mu);
}

void ww_rpc_call__on_closed(ww_rpc_call_t *call,
                            void (*fn)(void *arg, bool cancelled), void *arg) {
    bool run_now, cancelled;
    pthread_mutex_lock(&call->mu);
    call->on_closed = fn;
    call->on_closed_arg = arg;
    run_now = call->closed;
    cancelled = call->close_cancelled != 0;
    pthread_mutex_unlock(&call->mu);
    if (run_now) fn(arg, cancelled);
}

size_t ww_rpc_call__queued(ww_rpc_call_t *call) {
    pthread_mutex_lock(&call->mu);
    size_t n = queued_locked(call);
    pthread_mutex_unlock(&call->mu);
    return n;
}
