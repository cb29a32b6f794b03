/* Streaming calls over ww_rpc_call: a RECV_MESSAGE loop of one read at a
 * time, paused while the call's send queue is full, and a close callback
 * that runs once nothing of the handler can run any more. The stream is
 * attached to its call, so every hook of the call finds it alive. */
#include "ww_rpc_stream.h"

#include "ww_log.h"
#include "ww_rpc_call.h"
#include "ww_rpc_int.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WW_RPC_STREAM_DEFAULT_QUEUE 8

struct ww_rpc_stream {
    ww_rpc_call_t *call;
    const ww_rpc_stream_handler_t *h; /* borrowed from the server */
    void *state;
    size_t max_queued;
    ww_rpc_tag_t recv_tag;
    grpc_byte_buffer *recv_buf; /* written by the core */

    pthread_mutex_t mu; /* guards the flags */
    bool opened;        /* open succeeded: close is owed */
    bool reading;       /* a RECV_MESSAGE is in flight */
    bool in_handler;    /* message or input_end is running */
    bool input_done;    /* the client half-closed, or reading failed */
    bool finished;      /* the status was decided by finish */
    bool cancelled;     /* the client went away before finish */
    bool close_done;    /* RECV_CLOSE completed */
    bool verdict;       /* its result: the client did not see a normal end */
    bool closed;        /* close ran (or is running) */
};

static void on_recv(ww_rpc_tag_t *tag, bool ok);

static void stream_free(void *obj) {
    ww_rpc_stream_t *st = obj;
    if (st->recv_buf) grpc_byte_buffer_destroy(st->recv_buf);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* Runs close once nothing else of the handler can run. */
static void maybe_close(ww_rpc_stream_t *st) {
    pthread_mutex_lock(&st->mu);
    bool run = st->opened && !st->closed && st->close_done &&
               (st->finished || st->cancelled) && !st->reading &&
               !st->in_handler;
    if (run) st->closed = true;
    bool cancelled = st->verdict;
    pthread_mutex_unlock(&st->mu);
    if (run && st->h->close) st->h->close(st->state, cancelled);
}

/* Starts the next read when the handler is idle and the queue has room. */
static void maybe_read(ww_rpc_stream_t *st) {
    pthread_mutex_lock(&st->mu);
    bool start = st->opened && !st->reading && !st->in_handler &&
                 !st->input_done && !st->finished && !st->cancelled &&
                 ww_rpc_call__queued(st->call) < st->max_queued;
    if (start) st->reading = true;
    pthread_mutex_unlock(&st->mu);
    if (!start) return;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &st->recv_buf;
    ww_rpc_call__ref(st->call); /* the read's */
    grpc_call_error rc = grpc_call_start_batch(ww_rpc_call__core(st->call), &op,
                                               1, &st->recv_tag, NULL);
    if (rc == GRPC_CALL_OK) return;
    ww_log_error("rpc", "event=recv_failed method=%s rc=%d",
                 ww_rpc_call_method(st->call), (int)rc);
    pthread_mutex_lock(&st->mu);
    st->reading = false;
    st->input_done = true;
    pthread_mutex_unlock(&st->mu);
    ww_rpc_stream_finish(st, WW_ERR_INTERNAL, "cannot read the stream");
    ww_rpc_call__unref(st->call);
}

static void on_sent(void *arg) {
    maybe_read(arg);
}

/* The call is over for the core. If the client went away before the
 * status was decided, the call ends CANCELLED (the client cannot see it; it
 * releases the call). */
static void on_closed(void *arg, bool cancelled) {
    ww_rpc_stream_t *st = arg;
    pthread_mutex_lock(&st->mu);
    st->close_done = true;
    st->verdict = cancelled;
    bool end = cancelled && !st->finished && !st->cancelled;
    if (cancelled) st->cancelled = true;
    pthread_mutex_unlock(&st->mu);
    if (end) ww_rpc_call_fail(st->call, WW_ERR_CANCELLED, "client went away");
    maybe_close(st);
}

/* One request: decoded and handed over, or the stream ends. */
static void deliver(ww_rpc_stream_t *st, grpc_byte_buffer *buf) {
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, buf)) {
        ww_rpc_stream_finish(st, WW_ERR_INVALID_ARGUMENT,
                             "request message cannot be read");
        return;
    }
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    ProtobufCMessage *req =
        protobuf_c_message_unpack(st->h->input, NULL, GRPC_SLICE_LENGTH(bytes),
                                  GRPC_SLICE_START_PTR(bytes));
    grpc_slice_unref(bytes);
    if (!req) {
        ww_rpc_stream_finish(st, WW_ERR_INVALID_ARGUMENT,
                             "request is not a valid %s", st->h->input->name);
        return;
    }
    st->h->message(st->state, st, req);
    protobuf_c_message_free_unpacked(req, NULL);
}

static void on_recv(ww_rpc_tag_t *tag, bool ok) {
    ww_rpc_stream_t *st =
        (ww_rpc_stream_t *)((char *)tag - offsetof(ww_rpc_stream_t, recv_tag));
    pthread_mutex_lock(&st->mu);
    st->reading = false;
    grpc_byte_buffer *buf = st->recv_buf;
    st->recv_buf = NULL;
    bool live = !st->finished && !st->cancelled;
    bool half_close = ok && !buf;
    if (!ok || !buf) st->input_done = true;
    bool run = live && (buf || half_close);
    if (run) st->in_handler = true;
    pthread_mutex_unlock(&st->mu);
    if (run && buf) {
        deliver(st, buf);
    } else if (run) {
        if (st->h->input_end)
            st->h->input_end(st->state, st);
        else
            ww_rpc_stream_finish(st, WW_OK, "%s", "");
    }
    /* !ok without a cancel yet: the call broke; RECV_CLOSE reports it. */
    if (buf) grpc_byte_buffer_destroy(buf);
    if (run) {
        pthread_mutex_lock(&st->mu);
        st->in_handler = false;
        pthread_mutex_unlock(&st->mu);
    }
    ww_rpc_call_t *call = st->call;
    maybe_read(st);
    maybe_close(st);
    ww_rpc_call__unref(call); /* the read's; may free st */
}

void ww_rpc_stream__start(ww_rpc_call_t *call,
                          const ww_rpc_stream_handler_t *h) {
    ww_rpc_stream_t *st = calloc(1, sizeof *st);
    if (!st) {
        ww_rpc_call__finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                            "out of memory", NULL);
        return;
    }
    st->call = call;
    st->h = h;
    st->max_queued =
        h->max_queued ? h->max_queued : WW_RPC_STREAM_DEFAULT_QUEUE;
    st->recv_tag.run = on_recv;
    pthread_mutex_init(&st->mu, NULL);
    ww_rpc_call__attach(call, st, stream_free);
    ww_err_t err;
    ww_err_clear(&err);
    ww_code_t rc = h->open ? h->open(h->ctx, st, &st->state, &err) : WW_OK;
    if (rc != WW_OK) {
        ww_rpc_call_fail(call, rc, "%s", err.msg[0] ? err.msg : "refused");
        return;
    }
    pthread_mutex_lock(&st->mu);
    st->opened = true;
    pthread_mutex_unlock(&st->mu);
    ww_rpc_call__on_sent(call, on_sent, st);
    ww_rpc_call__on_closed(call, on_closed, st);
    maybe_read(st);
}

ww_code_t ww_rpc_stream_send(ww_rpc_stream_t *st, const ProtobufCMessage *msg,
                             ww_err_t *err) {
    pthread_mutex_lock(&st->mu);
    bool cancelled = st->cancelled, finished = st->finished;
    pthread_mutex_unlock(&st->mu);
    if (cancelled)
        return ww_err_set(err, WW_ERR_CANCELLED, "%s: the client went away",
                          ww_rpc_call_method(st->call));
    if (finished)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "%s: the stream is finished",
                          ww_rpc_call_method(st->call));
    return ww_rpc_call__send_max(st->call, msg, st->max_queued, err);
}

void ww_rpc_stream_finish(ww_rpc_stream_t *st, ww_code_t code, const char *fmt,
                          ...) {
    pthread_mutex_lock(&st->mu);
    bool first = !st->finished && !st->cancelled;
    st->finished = true;
    pthread_mutex_unlock(&st->mu);
    if (!first) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The call stays alive for maybe_close: a reference of our own, since
     * completing drops the handler's. */
    ww_rpc_call_t *call = st->call;
    ww_rpc_call__ref(call);
    ww_rpc_call_fail(call, code, "%s", msg);
    maybe_close(st);
    ww_rpc_call__unref(call);
}

size_t ww_rpc_stream_queued(ww_rpc_stream_t *st) {
    return ww_rpc_call__queued(st->call);
}

const char *ww_rpc_stream_method(const ww_rpc_stream_t *st) {
    return ww_rpc_call_method(st->call);
}

const char *ww_rpc_stream_identity(const ww_rpc_stream_t *st) {
    return ww_rpc_call_identity(st->call);
}

const char *ww_rpc_stream_metadata(const ww_rpc_stream_t *st, const char *key,
                                   char *buf, size_t size) {
    return ww_rpc_call_metadata(st->call, key, buf, size);
}
