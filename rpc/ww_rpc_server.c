/* Completion-queue threads, armed requests, dispatch to typed handlers in
 * named steps, the per-call log line and graceful shutdown. */
#include "ww_rpc_server.h"

#include "ww_clock.h"
#include "ww_cond.h"
#include "ww_log.h"
#include "ww_rpc_call.h"
#include "ww_rpc_health.h"
#include "ww_rpc_idempotency.h"
#include "ww_rpc_int.h"
#include "ww_rpc_log.h"
#include "ww_rpc_status.h"
#include "ww_rpc_stream.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WW_RPC_MAX_METHODS   64
#define WW_RPC_UNKNOWN_SLOTS 4

/* One registered method of one service. */
typedef struct ww_rpc_method {
    ProtobufCService *service; /* NULL for a stream method */
    unsigned index;
    const ProtobufCMethodDescriptor *desc;
    const char *service_name;              /* "trainer.TrainerService" */
    const ww_rpc_stream_handler_t *stream; /* a stream method's handler */
    ProtobufCMethodDescriptor stream_desc; /* a stream method's types */
    char stream_service[128];
    char path[160]; /* "/trainer.TrainerService/IsHourAvailable" */
    void *handle;   /* from grpc_server_register_method */
    bool is_health; /* exempt from authentication unless configured */
} ww_rpc_method_t;

typedef struct ww_rpc_worker ww_rpc_worker_t;

typedef struct ww_rpc_slot {
    ww_rpc_tag_t tag; /* first: the queue hands back &tag */
    ww_rpc_worker_t *worker;
    ww_rpc_method_t *method; /* NULL for a generic (unknown method) slot */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    grpc_call_details details;
} ww_rpc_slot_t;

struct ww_rpc_worker {
    ww_rpc_server_t *server;
    grpc_completion_queue *cq;
    pthread_t thread;
    bool thread_started;
    ww_rpc_slot_t *slots;
    size_t n_slots;
};

struct ww_rpc_server {
    ww_rpc_server_config_t cfg;
    char listen_addr[256];
    grpc_server *server;
    grpc_server_credentials *creds;
    ww_rpc_worker_t *workers;
    int n_workers;
    ww_rpc_method_t methods[WW_RPC_MAX_METHODS];
    size_t n_methods;
    ww_rpc_health_t *health;
    bool health_added;
    int port;
    bool started;
    bool stopped;
    atomic_bool shutting_down;
    atomic_long live_calls; /* accepted and not yet gone (freed) */

    pthread_mutex_t mu; /* with cv: shutdown waits (CLOCK_MONOTONIC) */
    pthread_cond_t cv;
    bool shutdown_notified;
    ww_rpc_tag_t shutdown_tag;

    ww_rpc_idempotency_t *idempotency; /* NULL: off */
};

/* ---------- the end of a call ---------- */

static void call_ended(ww_rpc_server_t *s) {
    if (atomic_fetch_sub(&s->live_calls, 1) == 1) {
        pthread_mutex_lock(&s->mu);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

static ww_rpc_idempotency_key_t idempotency_key(const ww_rpc_call_t *call) {
    return (ww_rpc_idempotency_key_t){
        .method = ww_rpc_call_method(call),
        .identity = ww_rpc_call_identity(call),
        .key = ww_rpc_call_idempotency_key(call),
        .digest = ww_rpc_call__request_digest(call),
    };
}

/* Every call's one report (ww_rpc_call_end_fn): its log line and its
 * result remembered under its idempotency-key. */
static void on_call_end(void *ctx, ww_rpc_call_t *call,
                        const ww_rpc_call_end_t *end) {
    ww_rpc_server_t *s = ctx;
    const ww_rpc_observer_t *obs = s->cfg.observer;
    if (obs && obs->handled)
        obs->handled(obs->ctx, ww_rpc_call_method(call), end->code,
                     end->duration_us);
    if (end->code == GRPC_STATUS_OK) {
        if (ww_log_enabled(WW_LOG_INFO))
            ww_log_info("rpc", "method=%s status=%s code=%d duration_us=%lld",
                        ww_rpc_call_method(call), "OK", 0,
                        (long long)end->duration_us);
    } else {
        ww_log_info("rpc",
                    "method=%s status=%s code=%d duration_us=%lld msg=\"%s\"",
                    ww_rpc_call_method(call), ww_rpc_status_name(end->code),
                    (int)end->code, (long long)end->duration_us, end->details);
    }
    /* Only what a handler decided: a refusal before it (authentication,
     * authorization, admission) says nothing about the request. */
    if (s->idempotency && ww_rpc_call_idempotency_key(call) &&
        ww_rpc_call__invoked(call)) {
        ww_rpc_idempotency_key_t key = idempotency_key(call);
        ww_rpc_idempotency_remember(s->idempotency, &key, end->code,
                                    end->details, end->response);
    }
}

/* A call is gone: the live count shutdown waits for. Counted here, not at
 * its end, because the final batch reaches the core after the end is
 * reported; the queues must not shut down before it did. */
static void on_call_free(void *ctx) {
    call_ended(ctx);
}

/* ---------- arming and dispatch ---------- */

static void slot_arm(ww_rpc_slot_t *slot) {
    ww_rpc_server_t *s = slot->worker->server;
    if (atomic_load(&s->shutting_down)) return;
    grpc_call_error rc;
    if (slot->method) {
        rc = grpc_server_request_registered_call(
            s->server, slot->method->handle, &slot->call, &slot->deadline,
            &slot->md, slot->method->stream ? NULL : &slot->payload,
            slot->worker->cq, slot->worker->cq, &slot->tag);
    } else {
        rc = grpc_server_request_call(s->server, &slot->call, &slot->details,
                                      &slot->md, slot->worker->cq,
                                      slot->worker->cq, &slot->tag);
    }
    if (rc != GRPC_CALL_OK)
        ww_log_error("rpc", "event=arm_failed rc=%d", (int)rc);
}

/* The steps of dispatch. Each returns true to pass the call on, false once
 * it has answered the call itself. */

static bool deadline_ok(ww_rpc_call_t *call, gpr_timespec deadline) {
    if (gpr_time_cmp(deadline, gpr_inf_future(deadline.clock_type)) == 0)
        return true;
    gpr_timespec mono = gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC);
    if (gpr_time_cmp(mono, gpr_now(GPR_CLOCK_MONOTONIC)) > 0) return true;
    ww_rpc_call__finish(call, GRPC_STATUS_DEADLINE_EXCEEDED,
                        "deadline exceeded before the call started", NULL);
    return false;
}

/* Takes `payload`; on true *bytes holds the request (the caller unrefs). */
static bool read_payload(ww_rpc_call_t *call, grpc_byte_buffer *payload,
                         grpc_slice *bytes) {
    if (!payload) {
        ww_rpc_call__finish(call, GRPC_STATUS_INVALID_ARGUMENT,
                            "request carries no message", NULL);
        return false;
    }
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, payload)) {
        grpc_byte_buffer_destroy(payload);
        ww_rpc_call__finish(call, GRPC_STATUS_INVALID_ARGUMENT,
                            "request message cannot be read", NULL);
        return false;
    }
    *bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(payload);
    return true;
}

static bool size_ok(ww_rpc_server_t *s, ww_rpc_call_t *call, grpc_slice bytes) {
    size_t len = GRPC_SLICE_LENGTH(bytes);
    if (len <= (size_t)s->cfg.max_receive_bytes) return true;
    char msg[128];
    snprintf(msg, sizeof msg, "request of %zu bytes exceeds the limit of %d",
             len, s->cfg.max_receive_bytes);
    ww_rpc_call__finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, msg, NULL);
    return false;
}

static bool idempotency_key_ok(ww_rpc_call_t *call) {
    char value[256];
    if (!ww_rpc_call_metadata(call, "idempotency-key", value, sizeof value))
        return true;
    if (strlen(value) > WW_RPC_KEY_MAX || !value[0]) {
        ww_rpc_call__finish(call, GRPC_STATUS_INVALID_ARGUMENT,
                            "idempotency-key must be 1..128 characters", NULL);
        return false;
    }
    ww_rpc_call__set_idempotency_key(call, value);
    return true;
}

static bool authenticated(ww_rpc_server_t *s, const ww_rpc_method_t *m,
                          ww_rpc_call_t *call) {
    if (!s->cfg.authenticate || (m->is_health && !s->cfg.authenticate_health))
        return true;
    char auth[8192];
    const char *authz =
        ww_rpc_call_metadata(call, "authorization", auth, sizeof auth);
    ww_rpc_caller_t caller;
    memset(&caller, 0, sizeof caller);
    ww_err_t err;
    ww_err_clear(&err);
    ww_code_t rc = s->cfg.authenticate(
        s->cfg.auth_ctx, ww_rpc_call_method(call), authz, &caller, &err);
    caller.identity[sizeof caller.identity - 1] = '\0';
    caller.role[sizeof caller.role - 1] = '\0';
    caller.user_id[sizeof caller.user_id - 1] = '\0';
    if (rc != WW_OK) {
        ww_rpc_call__finish(call, ww_rpc_status_from_code(rc),
                            err.msg[0] ? err.msg : "unauthenticated", NULL);
        return false;
    }
    ww_rpc_call__set_caller(call, &caller);
    return true;
}

/* The authorize hook, on the decoded request; never for health. */
static bool authorized(ww_rpc_server_t *s, const ww_rpc_method_t *m,
                       ww_rpc_call_t *call, const ProtobufCMessage *req) {
    if (!s->cfg.authorize || m->is_health) return true;
    ww_err_t err;
    ww_err_clear(&err);
    ww_code_t rc = s->cfg.authorize(s->cfg.authorize_ctx, call, req, &err);
    if (rc == WW_OK) return true;
    ww_rpc_call__finish(call, ww_rpc_status_from_code(rc),
                        err.msg[0] ? err.msg : "permission denied", NULL);
    return false;
}

/* True when the call's key was seen before: answered with that result, or
 * INVALID_ARGUMENT when the key stands for another request. */
static bool answered_from_cache(ww_rpc_server_t *s, ww_rpc_call_t *call) {
    if (!s->idempotency || !ww_rpc_call_idempotency_key(call)) return false;
    ww_rpc_idempotency_key_t key = idempotency_key(call);
    ww_rpc_idempotency_result_t hit;
    switch (ww_rpc_idempotency_find(s->idempotency, &key, &hit)) {
    case WW_RPC_IDEMPOTENCY_MISS:
        return false;
    case WW_RPC_IDEMPOTENCY_HIT:
        ww_rpc_call__finish(call, hit.code, hit.details, hit.response);
        return true;
    case WW_RPC_IDEMPOTENCY_CONFLICT:
        break;
    }
    char msg[200];
    snprintf(msg, sizeof msg,
             "idempotency-key \"%s\" was used for another request", key.key);
    ww_rpc_call__finish(call, GRPC_STATUS_INVALID_ARGUMENT, msg, NULL);
    return true;
}

/* The owner's admission check; a refusal is not remembered under the
 * call's idempotency-key: the handler never ran, and a retry once the
 * owner is ready must run it. */
static bool admitted(ww_rpc_server_t *s, const ww_rpc_method_t *m,
                     ww_rpc_call_t *call) {
    if (!s->cfg.admit || m->is_health) return true;
    ww_err_t err;
    ww_err_clear(&err);
    ww_code_t rc = s->cfg.admit(s->cfg.admit_ctx, m->path, &err);
    if (rc == WW_OK) return true;
    ww_rpc_call__set_idempotency_key(call, NULL);
    ww_rpc_call__finish(call, ww_rpc_status_from_code(rc),
                        err.msg[0] ? err.msg : "not admitted now", NULL);
    return false;
}

/* What binds an idempotency entry to its request: the length and the
 * FNV-1a 128-bit hash of the bytes. Not cryptographic (the runtime holds
 * no cryptography): accidental collisions are out of reach, and a made one
 * only ever confuses the maker's own keys, since entries are per identity. */
static void request_digest(const unsigned char *p, size_t n,
                           unsigned char d[WW_RPC_DIGEST_SIZE]) {
    const unsigned __int128 prime =
        ((unsigned __int128)1 << 88) | ((unsigned __int128)1 << 8) | 0x3b;
    unsigned __int128 h = ((unsigned __int128)0x6c62272e07bb0142ull << 64) |
                          0x62b821756295c58dull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * prime;
    uint64_t len = n;
    memset(d, 0, WW_RPC_DIGEST_SIZE);
    memcpy(d, &h, sizeof h);
    memcpy(d + sizeof h, &len, sizeof len);
}

/* The decoded request, or NULL once the call was answered. */
static ProtobufCMessage *unpack(const ww_rpc_method_t *m, ww_rpc_call_t *call,
                                grpc_slice bytes) {
    ProtobufCMessage *req = protobuf_c_message_unpack(
        m->desc->input, NULL, GRPC_SLICE_LENGTH(bytes),
        GRPC_SLICE_START_PTR(bytes));
    if (req) return req;
    char msg[200];
    snprintf(msg, sizeof msg, "request is not a valid %s",
             m->desc->input->name);
    ww_rpc_call__finish(call, GRPC_STATUS_INVALID_ARGUMENT, msg, NULL);
    return NULL;
}

static void invoke(const ww_rpc_method_t *m, ww_rpc_call_t *call,
                   ProtobufCMessage *req) {
    ww_rpc_call__invoke(call, m->service, m->index, req);
}

/* A stream method: the same checks as a unary call, without a payload (its
 * messages are read by the stream) or the idempotency cache. */
static void dispatch_stream(ww_rpc_server_t *s, const ww_rpc_method_t *m,
                            ww_rpc_call_t *call, gpr_timespec deadline) {
    if (deadline_ok(call, deadline) && authenticated(s, m, call) &&
        admitted(s, m, call))
        ww_rpc_stream__start(call, m->stream);
}

/* Takes `payload`. Each step may answer the call instead of passing it on. */
static void dispatch(ww_rpc_server_t *s, const ww_rpc_method_t *m,
                     ww_rpc_call_t *call, gpr_timespec deadline,
                     grpc_byte_buffer *payload) {
    if (!deadline_ok(call, deadline)) {
        if (payload) grpc_byte_buffer_destroy(payload);
        return;
    }
    grpc_slice bytes;
    if (!read_payload(call, payload, &bytes)) return;
    ProtobufCMessage *req = NULL;
    if (size_ok(s, call, bytes) && idempotency_key_ok(call) &&
        authenticated(s, m, call))
        req = unpack(m, call, bytes);
    if (req && s->idempotency && ww_rpc_call_idempotency_key(call)) {
        unsigned char d[WW_RPC_DIGEST_SIZE];
        request_digest(GRPC_SLICE_START_PTR(bytes), GRPC_SLICE_LENGTH(bytes),
                       d);
        ww_rpc_call__set_request_digest(call, d);
    }
    grpc_slice_unref(bytes);
    if (req && (!authorized(s, m, call, req) || answered_from_cache(s, call))) {
        protobuf_c_message_free_unpacked(req, NULL);
        req = NULL;
    }
    if (req && !admitted(s, m, call)) {
        protobuf_c_message_free_unpacked(req, NULL);
        req = NULL;
    }
    if (req) invoke(m, call, req);
}

static void on_request(ww_rpc_tag_t *tag, bool ok) {
    ww_rpc_slot_t *slot = (ww_rpc_slot_t *)tag;
    ww_rpc_server_t *s = slot->worker->server;
    if (!ok) {
        /* Shutdown returns armed requests unfilled; nothing to re-arm. */
        grpc_metadata_array_destroy(&slot->md);
        grpc_metadata_array_init(&slot->md);
        return;
    }
    const ww_rpc_method_t *m = slot->method;
    grpc_byte_buffer *payload = slot->payload;
    char path[160];
    ww_rpc_call_init_t init = {
        .call = slot->call,
        .md = &slot->md,
        .path = m ? m->path : path,
        .deadline = m ? slot->deadline : slot->details.deadline,
        .on_end = on_call_end,
        .on_end_ctx = s,
        .on_free = on_call_free,
        .method = m ? m->desc : NULL,
    };
    if (!m) {
        grpc_slice name = slot->details.method;
        snprintf(path, sizeof path, "%.*s", (int)GRPC_SLICE_LENGTH(name),
                 (const char *)GRPC_SLICE_START_PTR(name));
    }
    slot->call = NULL;
    slot->payload = NULL;
    if (m && s->cfg.observer && s->cfg.observer->started)
        s->cfg.observer->started(s->cfg.observer->ctx, m->path);
    atomic_fetch_add(&s->live_calls, 1);
    ww_rpc_call_t *call = ww_rpc_call__new(&init);
    if (!m) {
        grpc_call_details_destroy(&slot->details);
        grpc_call_details_init(&slot->details);
    }
    slot_arm(slot);
    if (!call) {
        if (payload) grpc_byte_buffer_destroy(payload);
        call_ended(s);
        return;
    }
    /* The handler runs in the call's trace context (ww_rpc_call_trace). */
    ww_trace_t prev = ww_trace_enter(ww_rpc_call_trace(call));
    if (m && m->stream) {
        dispatch_stream(s, m, call, init.deadline);
    } else if (m) {
        dispatch(s, m, call, init.deadline, payload);
    } else {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown method %s", path);
        ww_rpc_call__finish(call, GRPC_STATUS_UNIMPLEMENTED, msg, NULL);
    }
    ww_rpc_call__end_dispatch(call);
    ww_trace_leave(&prev);
}

static void on_shutdown_notified(ww_rpc_tag_t *tag, bool ok) {
    (void)ok;
    ww_rpc_server_t *s =
        (ww_rpc_server_t *)((char *)tag -
                            offsetof(ww_rpc_server_t, shutdown_tag));
    pthread_mutex_lock(&s->mu);
    s->shutdown_notified = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *worker_main(void *arg) {
    ww_rpc_worker_t *w = arg;
    /* Per-call log lines of this thread leave in batches of whole lines,
     * not one write(2) per call; the queue wait wakes up for due lines. */
    ww_log_batch_begin();
    for (;;) {
        int due_ms = ww_log_batch_due_ms();
        if (due_ms == 0) {
            ww_log_batch_flush();
            due_ms = -1;
        }
        gpr_timespec wait =
            due_ms < 0
                ? gpr_inf_future(GPR_CLOCK_MONOTONIC)
                : gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                               gpr_time_from_millis(due_ms, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(w->cq, wait, NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        if (ev.type != GRPC_OP_COMPLETE) continue;
        ww_rpc_tag_t *tag = ev.tag;
        tag->run(tag, ev.success != 0);
    }
    ww_log_batch_end();
    return NULL;
}

/* ---------- lifecycle ---------- */

ww_code_t ww_rpc_server_new(const ww_rpc_server_config_t *config,
                            ww_rpc_server_t **out, ww_err_t *err) {
    *out = NULL;
    if (!config || !config->listen_addr || !*config->listen_addr)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "rpc server: no listen address configured");
    ww_rpc_server_t *s = calloc(1, sizeof *s);
    if (!s) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    s->cfg = *config;
    snprintf(s->listen_addr, sizeof s->listen_addr, "%s", config->listen_addr);
    s->cfg.listen_addr = s->listen_addr;
    if (s->cfg.threads <= 0) {
        /* The cores this process may run on (taskset, cgroups cpusets). */
        cpu_set_t set;
        int n = 0;
        if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
        if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
        s->cfg.threads = n > 0 ? n : 1;
    }
    if (s->cfg.requests_per_method <= 0) s->cfg.requests_per_method = 32;
    if (s->cfg.max_receive_bytes <= 0) s->cfg.max_receive_bytes = 4 << 20;
    if (s->cfg.idempotency_cache > 0) {
        ww_rpc_idempotency_opts_t io = {
            .capacity = (size_t)s->cfg.idempotency_cache,
            .per_identity = s->cfg.idempotency_per_identity > 0
                                ? (size_t)s->cfg.idempotency_per_identity
                                : 0,
            .ttl_ms = s->cfg.idempotency_ttl_ms};
        ww_code_t rc = ww_rpc_idempotency_new(&io, &s->idempotency, err);
        if (rc != WW_OK) {
            free(s);
            return rc;
        }
    }
    s->health = ww_rpc_health_new();
    if (!s->health) {
        ww_rpc_idempotency_destroy(s->idempotency);
        free(s);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_mutex_init(&s->mu, NULL);
    /* Shutdown's waits are timeouts, not dates: a wall-clock step must
     * neither cut the grace period short nor stretch it. */
    ww_cond_init_mono(&s->cv);
    s->shutdown_tag.run = on_shutdown_notified;
    atomic_init(&s->shutting_down, false);
    atomic_init(&s->live_calls, 0);
    ww_rpc_log_install();
    grpc_init();
    *out = s;
    return WW_OK;
}

/* Names the method filled in at s->methods[s->n_methods] and counts it,
 * unless its path is taken. */
static ww_code_t register_method(ww_rpc_server_t *s, ww_rpc_method_t *m,
                                 const char *service, const char *method,
                                 ww_err_t *err) {
    snprintf(m->path, sizeof m->path, "/%s/%s", service, method);
    for (size_t j = 0; j < s->n_methods; j++)
        if (strcmp(s->methods[j].path, m->path) == 0)
            return ww_err_set(err, WW_ERR_ALREADY_EXISTS,
                              "rpc server: %s registered twice", m->path);
    s->n_methods++;
    return WW_OK;
}

static ww_code_t add_methods(ww_rpc_server_t *s, ProtobufCService *service,
                             bool is_health, ww_err_t *err) {
    const ProtobufCServiceDescriptor *d = service->descriptor;
    if (s->n_methods + d->n_methods > WW_RPC_MAX_METHODS)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "rpc server: more than %d methods",
                          WW_RPC_MAX_METHODS);
    for (unsigned i = 0; i < d->n_methods; i++) {
        ww_rpc_method_t *m = &s->methods[s->n_methods];
        memset(m, 0, sizeof *m);
        m->service = service;
        m->index = i;
        m->desc = &d->methods[i];
        m->service_name = d->name;
        m->is_health = is_health;
        ww_code_t rc = register_method(s, m, d->name, d->methods[i].name, err);
        if (rc != WW_OK) return rc;
    }
    return WW_OK;
}

ww_code_t ww_rpc_server_add_service(ww_rpc_server_t *s,
                                    ProtobufCService *service, ww_err_t *err) {
    if (s->started)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "rpc server: add services before start");
    if (!service || !service->descriptor ||
        service->descriptor->magic != PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "rpc server: not a protobuf-c service");
    return add_methods(s, service, false, err);
}

ww_code_t ww_rpc_server_add_stream(ww_rpc_server_t *s, const char *service,
                                   const char *method,
                                   const ww_rpc_stream_handler_t *handler,
                                   ww_err_t *err) {
    if (s->started)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "rpc server: add streams before start");
    if (!service || !method || !handler || !handler->input ||
        !handler->output || !handler->message ||
        strlen(service) >= sizeof s->methods[0].stream_service)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "rpc server: a stream needs a service, a method, "
                          "types and a message handler");
    if (s->n_methods + 1 > WW_RPC_MAX_METHODS)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "rpc server: more than %d methods",
                          WW_RPC_MAX_METHODS);
    ww_rpc_method_t *m = &s->methods[s->n_methods];
    memset(m, 0, sizeof *m);
    snprintf(m->stream_service, sizeof m->stream_service, "%s", service);
    m->service_name = m->stream_service;
    m->stream = handler;
    m->stream_desc.name = method;
    m->stream_desc.input = handler->input;
    m->stream_desc.output = handler->output;
    m->desc = &m->stream_desc;
    return register_method(s, m, service, method, err);
}

size_t ww_rpc_server_services(const ww_rpc_server_t *s, const char **names,
                              size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_methods; i++) {
        const char *name = s->methods[i].service_name;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(s->methods[j].service_name, name) == 0;
        if (seen) continue;
        if (n < max) names[n] = name;
        n++;
    }
    return n;
}

ww_rpc_health_t *ww_rpc_server_health(ww_rpc_server_t *server) {
    return server->health;
}

int ww_rpc_server_port(const ww_rpc_server_t *server) {
    return server->port;
}

static void stop_workers(ww_rpc_server_t *s) {
    for (int i = 0; i < s->n_workers; i++) {
        ww_rpc_worker_t *w = &s->workers[i];
        if (w->cq) grpc_completion_queue_shutdown(w->cq);
    }
    for (int i = 0; i < s->n_workers; i++) {
        ww_rpc_worker_t *w = &s->workers[i];
        if (w->thread_started)
            pthread_join(w->thread, NULL);
        else if (w->cq) {
            /* Never ran: drain here so the queue can be destroyed. */
            for (;;) {
                grpc_event ev = grpc_completion_queue_next(
                    w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
                if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
            }
        }
    }
}

/* Tells the observer every method before any call can arrive. */
static void observe_methods(ww_rpc_server_t *s) {
    const ww_rpc_observer_t *obs = s->cfg.observer;
    if (!obs || !obs->method) return;
    for (size_t i = 0; i < s->n_methods; i++) {
        const ww_rpc_method_t *m = &s->methods[i];
        bool watch = m->is_health && strcmp(m->desc->name, "Watch") == 0;
        obs->method(obs->ctx, m->path,
                    m->stream ? "bidi_stream"
                    : watch   ? "server_stream"
                              : "unary");
    }
}

ww_code_t ww_rpc_server_start(ww_rpc_server_t *s, ww_err_t *err) {
    if (s->started)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "rpc server: already started");
    if (!s->health_added) {
        ww_code_t rc =
            add_methods(s, ww_rpc_health_service(s->health), true, err);
        if (rc != WW_OK) return rc;
        s->health_added = true;
    }
    /* Health answers from the first accepted call on, so a Watch never
     * sees SERVICE_UNKNOWN for a name being served. Names the owner set
     * before start keep their status. */
    ww_rpc_health_status_t initial = s->cfg.start_not_serving
                                         ? WW_RPC_HEALTH_NOT_SERVING
                                         : WW_RPC_HEALTH_SERVING;
    for (size_t i = 0; i <= s->n_methods; i++) {
        if (i < s->n_methods && s->methods[i].is_health) continue;
        const char *name = i < s->n_methods ? s->methods[i].service_name : "";
        if (ww_rpc_health_get(s->health, name) == WW_RPC_HEALTH_UNKNOWN)
            ww_rpc_health_set(s->health, name, initial, NULL);
    }
    grpc_arg args[2];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = s->cfg.max_receive_bytes;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_ALLOW_REUSEPORT; /* a taken port is an error */
    args[1].value.integer = 0;
    grpc_channel_args chargs = {2, args};
    s->server = grpc_server_create(&chargs, NULL);
    for (size_t i = 0; i < s->n_methods; i++) {
        /* A stream's messages are read one by one (ww_rpc_stream.c). */
        s->methods[i].handle = grpc_server_register_method(
            s->server, s->methods[i].path, NULL,
            s->methods[i].stream ? GRPC_SRM_PAYLOAD_NONE
                                 : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
            0);
        if (!s->methods[i].handle)
            return ww_err_set(err, WW_ERR_INTERNAL,
                              "rpc server: cannot register %s",
                              s->methods[i].path);
    }
    s->n_workers = s->cfg.threads;
    s->workers = calloc((size_t)s->n_workers, sizeof *s->workers);
    if (!s->workers)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < s->n_workers; i++) {
        s->workers[i].server = s;
        s->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(s->server, s->workers[i].cq,
                                              NULL);
    }
    grpc_server_credentials *creds = s->cfg.credentials;
    grpc_server_credentials *insecure = NULL;
    if (!creds) creds = insecure = grpc_insecure_server_credentials_create();
    s->port = grpc_server_add_http2_port(s->server, s->listen_addr, creds);
    if (insecure) grpc_server_credentials_release(insecure);
    if (s->port <= 0) {
        s->port = 0;
        return ww_err_set(err, WW_ERR_UNAVAILABLE,
                          "rpc server: cannot listen on %s (in use or invalid)",
                          s->listen_addr);
    }
    observe_methods(s);
    grpc_server_start(s->server);
    s->started = true;

    size_t per = s->n_methods * (size_t)s->cfg.requests_per_method +
                 WW_RPC_UNKNOWN_SLOTS;
    for (int i = 0; i < s->n_workers; i++) {
        ww_rpc_worker_t *w = &s->workers[i];
        w->slots = calloc(per, sizeof *w->slots);
        if (!w->slots)
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        w->n_slots = per;
        size_t k = 0;
        for (size_t m = 0; m < s->n_methods; m++)
            for (int r = 0; r < s->cfg.requests_per_method; r++)
                w->slots[k++].method = &s->methods[m];
        for (k = 0; k < per; k++) {
            w->slots[k].tag.run = on_request;
            w->slots[k].worker = w;
            grpc_metadata_array_init(&w->slots[k].md);
            grpc_call_details_init(&w->slots[k].details);
            slot_arm(&w->slots[k]);
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return ww_err_set(err, WW_ERR_INTERNAL,
                              "rpc server: cannot start thread");
        w->thread_started = true;
    }
    ww_log_info("rpc",
                "event=listening addr=%s port=%d threads=%d methods=%zu "
                "serving=%s",
                s->listen_addr, s->port, s->n_workers, s->n_methods,
                ww_rpc_health_get(s->health, "") == WW_RPC_HEALTH_SERVING
                    ? "true"
                    : "false");
    return WW_OK;
}

ww_code_t ww_rpc_server_set_serving(ww_rpc_server_t *s,
                                    ww_rpc_health_status_t status,
                                    ww_err_t *err) {
    /* Services are added before start only, and methods never change
     * after: reading them from any thread is safe. */
    for (size_t i = 0; i <= s->n_methods; i++) {
        if (i < s->n_methods && s->methods[i].is_health) continue;
        const char *name = i < s->n_methods ? s->methods[i].service_name : "";
        ww_code_t rc = ww_rpc_health_set(s->health, name, status, err);
        if (rc != WW_OK) return rc;
    }
    return WW_OK;
}

/* Waits on s->cv until pred or the deadline; true if pred holds. */
static bool wait_until(ww_rpc_server_t *s, bool (*pred)(ww_rpc_server_t *),
                       int timeout_ms) {
    struct timespec ts = ww_clock_mono_deadline(timeout_ms);
    pthread_mutex_lock(&s->mu);
    bool ok;
    while (!(ok = pred(s))) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) {
            ok = pred(s);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static bool notified(ww_rpc_server_t *s) {
    return s->shutdown_notified;
}
static bool no_calls(ww_rpc_server_t *s) {
    return atomic_load(&s->live_calls) == 0;
}
static bool notified_or_idle(ww_rpc_server_t *s) {
    return notified(s) || no_calls(s);
}

void ww_rpc_server_shutdown(ww_rpc_server_t *s, int grace_ms) {
    if (!s || s->stopped) return;
    s->stopped = true;
    atomic_store(&s->shutting_down, true);
    if (!s->server) return;
    if (s->started) {
        ww_log_info("rpc", "event=shutdown grace_ms=%d in_flight=%ld", grace_ms,
                    atomic_load(&s->live_calls));
        ww_rpc_health_shutdown(s->health);
        grpc_server_shutdown_and_notify(s->server, s->workers[0].cq,
                                        &s->shutdown_tag);
        /* Core's shutdown also waits for idle client connections to go
         * away; once no call is left there is nothing to wait for. A call
         * core accepted just before may still sit in a queue, not yet
         * counted: idle must hold for a short settle time. */
        int64_t end_ns = ww_clock_mono_ns() +
                         (int64_t)(grace_ms < 0 ? 0 : grace_ms) * 1000000;
        for (;;) {
            int left_ms = (int)((end_ns - ww_clock_mono_ns()) / 1000000);
            if (left_ms <= 0 || !wait_until(s, notified_or_idle, left_ms))
                break;
            if (notified(s) ||
                wait_until(s, notified, left_ms < 50 ? left_ms : 50))
                break;
            if (no_calls(s)) break;
        }
        if (!wait_until(s, notified, 0)) {
            long left = atomic_load(&s->live_calls);
            ww_log(left > 0 && grace_ms > 0 ? WW_LOG_WARN : WW_LOG_DEBUG, "rpc",
                   "event=shutdown_cancel in_flight=%ld", left);
            grpc_server_cancel_all_calls(s->server); /* and drops channels */
            wait_until(s, notified, 10000);
        }
        if (!wait_until(s, no_calls, grace_ms > 1000 ? grace_ms : 1000))
            ww_log_error("rpc", "event=shutdown_calls_pending count=%ld",
                         atomic_load(&s->live_calls));
        else if (!wait_until(s, notified, 0))
            /* Every call is gone; the core notifies once it saw that. */
            wait_until(s, notified, 1000);
    }
    grpc_server_destroy(s->server);
    s->server = NULL;
    stop_workers(s);
}

void ww_rpc_server_destroy(ww_rpc_server_t *s) {
    if (!s) return;
    ww_rpc_server_shutdown(s, 0);
    for (int i = 0; s->workers && i < s->n_workers; i++) {
        ww_rpc_worker_t *w = &s->workers[i];
        for (size_t k = 0; k < w->n_slots; k++) {
            grpc_metadata_array_destroy(&w->slots[k].md);
            grpc_call_details_destroy(&w->slots[k].details);
        }
        free(w->slots);
        if (w->cq) grpc_completion_queue_destroy(w->cq);
    }
    free(s->workers);
    ww_rpc_idempotency_destroy(s->idempotency);
    ww_rpc_health_destroy(s->health);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    grpc_shutdown_blocking();
}

void ww_rpc_server_block_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int ww_rpc_server_wait_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}
