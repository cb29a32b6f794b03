/* auth_grpc_fixture.c - a minimal gRPC core server and client for the auth
 * tests and benchmark. */
#include "auth_grpc_fixture.h"

#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_test.h"



typedef struct fxg_server_call {
    int kind; /* 0 = new call, 1 = reply done */
    fxg_server_t *ts;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    int cancelled;
    grpc_byte_buffer *reply; /* alive until the reply batch completes */
    char status_msg[300];
} fxg_server_call_t;

static grpc_status_code to_grpc(ww_code_t c) {
    switch (c) {
    case WW_OK: return GRPC_STATUS_OK;
    case WW_ERR_UNAUTHENTICATED: return GRPC_STATUS_UNAUTHENTICATED;
    case WW_ERR_PERMISSION_DENIED: return GRPC_STATUS_PERMISSION_DENIED;
    case WW_ERR_UNAVAILABLE: return GRPC_STATUS_UNAVAILABLE;
    default: return GRPC_STATUS_INTERNAL;
    }
}

static void arm(fxg_server_t *ts) {
    fxg_server_call_t *sc = calloc(1, sizeof *sc);
    sc->ts = ts;
    grpc_call_details_init(&sc->details);
    grpc_metadata_array_init(&sc->md);
    grpc_call_error e = grpc_server_request_call(ts->server, &sc->call, &sc->details, &sc->md, ts->cq, ts->cq, sc);
    if (e != GRPC_CALL_OK) abort(); /* test scaffolding: cannot continue */
}

static void free_call(fxg_server_call_t *sc) {
    grpc_call_details_destroy(&sc->details);
    grpc_metadata_array_destroy(&sc->md);
    if (sc->call) grpc_call_unref(sc->call);
    if (sc->reply) grpc_byte_buffer_destroy(sc->reply);
    free(sc);
}

static void handle(fxg_server_call_t *sc) {
    fxg_server_t *ts = sc->ts;
    char method[256], *auth = NULL;
    snprintf(method, sizeof method, "%.*s", (int)GRPC_SLICE_LENGTH(sc->details.method),
             (const char *)GRPC_SLICE_START_PTR(sc->details.method));
    for (size_t i = 0; i < sc->md.count; i++)
        if (grpc_slice_str_cmp(sc->md.metadata[i].key, "authorization") == 0) {
            auth = grpc_slice_to_c_string(sc->md.metadata[i].value);
            atomic_store(&ts->saw_authorization, 1);
        }
    ww_code_t code = WW_OK;
    char identity[256] = "";
    ww_err_t err = {0};
    if (ts->verifier) code = ww_auth_verifier_authenticate(ts->verifier, method, auth, identity, sizeof identity, &err);
    gpr_free(auth);
    if (code == WW_OK) {
        atomic_fetch_add(&ts->handler_runs, 1);
        snprintf(sc->status_msg, sizeof sc->status_msg, "hello %s", identity);
    } else {
        snprintf(sc->status_msg, sizeof sc->status_msg, "%s", err.msg);
    }
    grpc_slice details = grpc_slice_from_copied_string(sc->status_msg);
    grpc_slice pong = grpc_slice_from_copied_string(sc->status_msg);
    grpc_byte_buffer *reply = sc->reply = grpc_raw_byte_buffer_create(&pong, 1);
    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (code == WW_OK) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = reply;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = to_grpc(code);
    ops[n++].data.send_status_from_server.status_details = &details;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &sc->cancelled;
    sc->kind = 1;
    grpc_call_start_batch(sc->call, ops, n, sc, NULL);
    grpc_slice_unref(pong);
    grpc_slice_unref(details);
}

static void *server_main(void *p) {
    fxg_server_t *ts = p;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(ts->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        if (ev.tag == (void *)ts) { /* server shutdown notification */
            atomic_store(&ts->shut_down, 1);
            continue;
        }
        fxg_server_call_t *sc = ev.tag;
        if (sc->kind == 0 && ev.success) {
            arm(ts);
            handle(sc);
        } else {
            free_call(sc);
        }
    }
    return NULL;
}

fxg_server_t *fxg_server_start(grpc_server_credentials *creds, ww_auth_verifier_t *verifier) {
    fxg_server_t *ts = calloc(1, sizeof *ts);
    ts->verifier = verifier;
    ts->cq = grpc_completion_queue_create_for_next(NULL);
    ts->server = grpc_server_create(NULL, NULL);
    grpc_server_register_completion_queue(ts->server, ts->cq, NULL);
    if (!creds) creds = grpc_insecure_server_credentials_create();
    ts->port = grpc_server_add_http2_port(ts->server, "127.0.0.1:0", creds);
    grpc_server_credentials_release(creds);
    WW_ASSERT(ts->port > 0);
    grpc_server_start(ts->server);
    arm(ts);
    pthread_create(&ts->thread, NULL, server_main, ts);
    return ts;
}

void fxg_server_stop(fxg_server_t *ts) {
    grpc_server_shutdown_and_notify(ts->server, ts->cq, ts);
    grpc_server_cancel_all_calls(ts->server);
    /* The shutdown tag arrives on the queue the thread drains. */
    int64_t give_up = ww_test_now_ms() + 5000;
    while (!atomic_load(&ts->shut_down) && ww_test_now_ms() < give_up) usleep(5 * 1000);
    grpc_server_destroy(ts->server);
    grpc_completion_queue_shutdown(ts->cq);
    pthread_join(ts->thread, NULL);
    grpc_completion_queue_destroy(ts->cq);
    free(ts);
}




grpc_channel *fxg_channel(grpc_channel_credentials *chan_creds, int port) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    return grpc_channel_create(target, chan_creds, NULL);
}

fxg_result_t fxg_call(grpc_channel *ch, grpc_call_credentials *call_creds, int deadline_ms) {
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(deadline_ms, GPR_TIMESPAN));
    grpc_slice method = grpc_slice_from_static_string(METHOD);
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL, deadline, NULL);
    if (call_creds) WW_ASSERT_EQ_INT(grpc_call_set_credentials(call, call_creds), GRPC_CALL_OK);
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_slice payload_slice = grpc_slice_from_static_string("ping");
    grpc_byte_buffer *payload = grpc_raw_byte_buffer_create(&payload_slice, 1);
    fxg_result_t r = {0};
    grpc_slice details = grpc_empty_slice();
    grpc_byte_buffer *response = NULL;
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = payload;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE; /* status only arrives once the reply is read */
    ops[4].data.recv_message.recv_message = &response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[5].data.recv_status_on_client.status = &r.status;
    ops[5].data.recv_status_on_client.status_details = &details;
    int64_t t0 = ww_test_now_ms();
    WW_ASSERT_EQ_INT(grpc_call_start_batch(call, ops, 6, &r, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(
        cq, &r, gpr_time_add(deadline, gpr_time_from_millis(5000, GPR_TIMESPAN)), NULL);
    r.took_ms = ww_test_now_ms() - t0;
    WW_ASSERT_EQ_INT(ev.type, GRPC_OP_COMPLETE);
    char *d = grpc_slice_to_c_string(details);
    snprintf(r.details, sizeof r.details, "%s", d);
    gpr_free(d);
    grpc_slice_unref(details);
    grpc_byte_buffer_destroy(payload);
    if (response) grpc_byte_buffer_destroy(response);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    return r;
}

fxg_result_t fxg_call_once(grpc_channel_credentials *chan_creds, grpc_call_credentials *call_creds, int port,
                           int deadline_ms) {
    grpc_channel *ch = fxg_channel(chan_creds, port);
    fxg_result_t r = fxg_call(ch, call_creds, deadline_ms);
    grpc_channel_destroy(ch);
    return r;
}
