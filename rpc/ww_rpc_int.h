/*
 * ww_rpc_int.h - private structures shared by the server, call and health
 * modules of the runtime. Not installed, not included by services.
 */
#ifndef WW_RPC_INT_H
#define WW_RPC_INT_H

#include "ww_err.h"
#include "ww_rpc_server.h"

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* What a completion-queue tag points at; the first member of each tagged
 * struct, so a tag casts back to its owner. */
typedef enum ww_rpc_tag_kind {
    WW_RPC_TAG_REQUEST,  /* an armed registered-method request fired */
    WW_RPC_TAG_UNKNOWN,  /* an armed generic request fired (unknown method) */
    WW_RPC_TAG_SEND,     /* a send batch of a call completed */
    WW_RPC_TAG_CLOSE,    /* RECV_CLOSE_ON_SERVER of a call completed */
    WW_RPC_TAG_SHUTDOWN, /* grpc_server_shutdown_and_notify finished */
} ww_rpc_tag_kind_t;

typedef struct ww_rpc_tag {
    ww_rpc_tag_kind_t kind;
} ww_rpc_tag_t;

/* One registered method of one service. */
typedef struct ww_rpc_method {
    ProtobufCService *service;
    unsigned index;
    const ProtobufCMethodDescriptor *desc;
    char path[160]; /* "/trainer.TrainerService/IsHourAvailable" */
    void *handle;   /* from grpc_server_register_method */
    bool is_health; /* exempt from authentication unless configured */
} ww_rpc_method_t;

/* A queued outgoing stream message. */
typedef struct ww_rpc_out {
    struct ww_rpc_out *next;
    grpc_byte_buffer *buf;
} ww_rpc_out_t;

struct ww_rpc_call {
    ww_rpc_server_t *server;
    const ww_rpc_method_t *method; /* NULL for an unknown method */
    char path[160];
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    ProtobufCMessage *request;
    int64_t start_ns;
    char identity[256];
    char idempotency_key[129];
    bool has_idempotency_key;

    atomic_int refs; /* handler + close op + dispatch + each send batch */
    ww_rpc_tag_t send_tag;
    ww_rpc_tag_t close_tag;
    int close_cancelled; /* written by core at RECV_CLOSE completion */

    pthread_mutex_t mu; /* guards everything below */
    bool completed;     /* the final status is decided */
    bool status_sent;
    bool initial_md_sent;
    bool send_in_flight;
    bool closed; /* RECV_CLOSE completed */
    bool in_dispatch;   /* the queue thread is still dispatching the call */
    bool close_started; /* RECV_CLOSE is on its way (alone or in a send) */
    bool close_in_send; /* RECV_CLOSE rides in the send batch in flight */
    ww_rpc_out_t *out_head, *out_tail;
    grpc_status_code final_code;
    grpc_slice final_details;
    bool has_details;
    grpc_byte_buffer *batch_buf; /* message of the batch in flight */
    void (*on_cancel)(void *arg, ww_rpc_call_t *call);
    void *on_cancel_arg;
    /* idempotency cache: the result to remember once the status is sent */
    grpc_byte_buffer *cache_copy;
};

/* --- call module (ww_rpc_call.c) --- */

/* A call fresh from the queue: takes ownership of `gcall` and `md` (md's
 * array is moved, the caller's is left empty) and holds the handler ref,
 * the close ref and the dispatch ref. NULL on allocation failure (the
 * grpc_call is then cancelled and unreffed). */
ww_rpc_call_t *ww_rpc_call__new(ww_rpc_server_t *server,
                                const ww_rpc_method_t *method, const char *path,
                                grpc_call *gcall, gpr_timespec deadline,
                                grpc_metadata_array *md);

/* Ends the dispatch of a fresh call on its queue thread and drops the
 * dispatch ref. A call whose final status went out during dispatch (the
 * common, synchronous handler) carried RECV_CLOSE_ON_SERVER in that same
 * batch, saving a batch and a queue event per call; any other call gets
 * RECV_CLOSE_ON_SERVER started here, so a later cancellation is seen. */
void ww_rpc_call__end_dispatch(ww_rpc_call_t *call);

/* Completion-queue events of a call (on its queue's thread). */
void ww_rpc_call__on_send_done(ww_rpc_call_t *call, bool ok);
void ww_rpc_call__on_close_done(ww_rpc_call_t *call);

/* Completes the call with a raw status (before any handler ran). */
void ww_rpc_call__finish_raw(ww_rpc_call_t *call, grpc_status_code code,
                             const char *details);

/* Completes the call with already-serialised response bytes (a cached
 * result); takes ownership of `buf` (may be NULL for a non-OK status). */
void ww_rpc_call__finish_cached(ww_rpc_call_t *call, grpc_byte_buffer *buf,
                                grpc_status_code code, const char *details);

/* The ProtobufCClosure handed to handlers; closure_data is the call. */
void ww_rpc_call__closure(const ProtobufCMessage *msg, void *closure_data);

int64_t ww_rpc__now_ns(void);

/* --- server module hooks used by the call module --- */

/* Live call bookkeeping for shutdown. */
void ww_rpc_server__call_done(ww_rpc_server_t *server);
/* Final status decided: per-call log line and idempotency cache. */
void ww_rpc_server__on_status(ww_rpc_server_t *server, ww_rpc_call_t *call,
                              grpc_status_code code, const char *details,
                              grpc_byte_buffer *response);

#endif
