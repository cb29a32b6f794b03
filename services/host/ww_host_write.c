/* ww_host_write.c - command, result, read-your-writes, answer: one gRPC
 * write carried across the bus's threads. */
#include "ww_host_write.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_env.h"
#include "ww_rpc_status.h"

typedef struct write {
    ww_rpc_call_t *call;
    ProtobufCClosure done;
    ww_host_write_respond_fn respond;
    ww_host_model_t *model;
    int32_t partition;
    /* what respond needs of the result, kept across the applied wait */
    int64_t balance_refund, balance;
    bool duplicate;
} write_t;

static int timeout_of(ww_rpc_call_t *call) {
    int64_t dflt = ww_env_long("WW_COMMAND_TIMEOUT_MS", 30000);
    int64_t left = ww_rpc_call_remaining_ms(call);
    int64_t t = left < dflt ? left : dflt;
    return t < 1 ? 1 : t > INT32_MAX ? INT32_MAX : (int)t;
}

static void answer(write_t *w) {
    Wildworkouts__Events__V1__CommandResult r =
        WILDWORKOUTS__EVENTS__V1__COMMAND_RESULT__INIT;
    r.balance_refund = w->balance_refund;
    r.balance = w->balance;
    r.duplicate = w->duplicate;
    w->respond(w->call, w->done, &r);
    free(w);
}

static void on_applied(void *opaque, ww_code_t code, const ww_err_t *err) {
    write_t *w = opaque;
    if (code != WW_OK) {
        ww_rpc_call_fail(w->call, code == WW_ERR_CANCELLED ? WW_ERR_UNAVAILABLE
                                                           : code,
                         "the write was decided, but this instance did not "
                         "see its facts in time: %s",
                         err ? err->msg : ww_code_name(code));
        free(w);
        return;
    }
    answer(w);
}

static void on_result(void *opaque, ww_code_t code, const ww_err_t *err,
                      const Wildworkouts__Events__V1__CommandResult *r) {
    write_t *w = opaque;
    if (code != WW_OK) {
        ww_rpc_call_fail_err(w->call, err);
        free(w);
        return;
    }
    ww_code_t status = ww_rpc_status_to_code((grpc_status_code)r->status_code);
    if (status != WW_OK) {
        ww_rpc_call_fail(w->call, status, "%s", r->message);
        free(w);
        return;
    }
    w->balance_refund = r->balance_refund;
    w->balance = r->balance;
    w->duplicate = r->duplicate;
    if (r->n_event_ids == 0 || !r->facts_of) {
        answer(w); /* nothing to wait for */
        return;
    }
    ww_err_t e;
    if (ww_host_model_when_applied(w->model, r->facts_of->partition,
                                   r->facts_of->offset, timeout_of(w->call),
                                   on_applied, w, &e) != WW_OK) {
        ww_rpc_call_fail_err(w->call, &e);
        free(w);
    }
}

ww_code_t ww_host_write_meta(ww_rpc_call_t *call, ww_host_write_meta_t *m,
                             ww_err_t *err) {
    memset(m, 0, sizeof *m);
    wildworkouts__events__v1__command_meta__init(&m->meta);
    google__protobuf__timestamp__init(&m->issued_at);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    m->issued_at.seconds = now.tv_sec;
    m->issued_at.nanos = (int32_t)now.tv_nsec;
    ww_code_t rc = ww_host_commands_new_id(m->correlation_id, err);
    if (rc != WW_OK) return rc;
    const char *key = ww_rpc_call_idempotency_key(call);
    m->meta.idempotency_key = (char *)(key ? key : "");
    m->meta.issued_at = &m->issued_at;
    m->meta.correlation_id = m->correlation_id;
    m->meta.caller = (char *)ww_rpc_call_identity(call);
    return WW_OK;
}

void ww_host_write_send(ww_host_commands_t *commands, ww_host_model_t *model,
                        int32_t partition, ww_rpc_call_t *call,
                        ProtobufCClosure done, const char *key,
                        const ProtobufCMessage *cmd,
                        const char *correlation_id,
                        ww_host_write_respond_fn respond) {
    write_t *w = calloc(1, sizeof *w);
    if (!w) {
        ww_rpc_call_fail(call, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    *w = (write_t){.call = call,
                   .done = done,
                   .respond = respond,
                   .model = model,
                   .partition = partition};
    ww_err_t err;
    /* In the call's trace whatever thread sends (a lookup that waited for
     * the model sends from the model's thread). */
    ww_trace_t prev = ww_trace_enter(ww_rpc_call_trace(call));
    ww_code_t rc = ww_host_commands_send(commands, key, cmd, correlation_id,
                                         timeout_of(call), on_result, w, &err);
    ww_trace_leave(&prev);
    if (rc != WW_OK) {
        /* Never appended: the client may retry at once. */
        ww_rpc_call_fail(call,
                         err.code == WW_ERR_RESOURCE_EXHAUSTED
                             ? WW_ERR_UNAVAILABLE
                             : err.code,
                         "the command was not appended: %s", err.msg);
        free(w);
    }
}
