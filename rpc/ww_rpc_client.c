/* One blocking unary call = one pluck queue + one batch of six ops. */
#include "ww_rpc_client.h"

#include "ww_env.h"
#include "ww_rpc_status.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ww_rpc_client {
    grpc_channel *channel;
    grpc_call_credentials *call_credentials;
    void (*release)(void *);
    void *release_ctx;
    char target[256];
};

/* Fills md[0..1] with the call's span of the trace it belongs to
 * (ww_rpc_call_options_t.trace); returns how many entries it filled. */
static size_t trace_metadata(const ww_rpc_call_options_t *o,
                             grpc_metadata md[2]) {
    const ww_trace_t *from = o && o->trace ? o->trace : ww_trace_current();
    if (!from->valid) return 0;
    ww_trace_t span;
    ww_trace_child(from, &span);
    char tp[WW_TRACE_PARENT_LEN + 1];
    if (!ww_trace_format(&span, tp, sizeof tp)) return 0;
    md[0].key = grpc_slice_from_static_string("traceparent");
    md[0].value = grpc_slice_from_copied_string(tp);
    if (!span.state[0]) return 1;
    md[1].key = grpc_slice_from_static_string("tracestate");
    md[1].value = grpc_slice_from_copied_string(span.state);
    return 2;
}

ww_code_t ww_rpc_client_new(const ww_rpc_client_config_t *config,
                            ww_rpc_client_t **out, ww_err_t *err) {
    *out = NULL;
    if (!config || !config->target || !*config->target) {
        if (config && config->release) config->release(config->release_ctx);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "rpc client: no target address");
    }
    ww_rpc_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        if (config->release) config->release(config->release_ctx);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    grpc_init();
    snprintf(c->target, sizeof c->target, "%s", config->target);
    grpc_arg args[1];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer =
        config->max_receive_bytes > 0 ? config->max_receive_bytes : 4 << 20;
    grpc_channel_args chargs = {1, args};
    grpc_channel_credentials *creds = config->channel_credentials;
    grpc_channel_credentials *insecure = NULL;
    if (!creds) creds = insecure = grpc_insecure_credentials_create();
    c->channel = grpc_channel_create(c->target, creds, &chargs);
    if (insecure) grpc_channel_credentials_release(insecure);
    if (!c->channel) {
        free(c);
        if (config->release) config->release(config->release_ctx);
        grpc_shutdown();
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "rpc client: cannot create a channel to %s",
                          config->target);
    }
    /* No public ref call exists for call credentials: keep the caller's
     * pointer, which the header asks to outlive the client. */
    c->call_credentials = config->call_credentials;
    c->release = config->release;
    c->release_ctx = config->release_ctx;
    *out = c;
    return WW_OK;
}

ww_code_t ww_rpc_client_new_from_env(const char *env_name,
                                     const ww_rpc_client_config_t *config,
                                     ww_rpc_client_t **out, ww_err_t *err) {
    const char *addr = ww_env_str(env_name, NULL);
    if (!addr || !*addr) {
        *out = NULL;
        if (config && config->release) config->release(config->release_ctx);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s is empty: set it to the service's host:port",
                          env_name);
    }
    ww_rpc_client_config_t cfg = {0};
    if (config) cfg = *config;
    cfg.target = addr;
    return ww_rpc_client_new(&cfg, out, err);
}

void ww_rpc_client_destroy(ww_rpc_client_t *c) {
    if (!c) return;
    grpc_channel_destroy(c->channel);
    if (c->release) c->release(c->release_ctx);
    free(c);
    grpc_shutdown();
}

static ww_code_t call_raw(ww_rpc_client_t *c, const char *path,
                          grpc_slice request, grpc_slice *response,
                          bool *has_response, const ww_rpc_call_options_t *o,
                          ww_err_t *err) {
    int64_t timeout_ms = o && o->timeout_ms != 0 ? o->timeout_ms : 10000;
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                     gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice method = grpc_slice_from_copied_string(path);
    grpc_call *call =
        grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                 method, NULL, deadline, NULL);
    grpc_slice_unref(method);
    *has_response = false;
    ww_code_t rc = WW_OK;
    if (c->call_credentials &&
        grpc_call_set_credentials(call, c->call_credentials) != GRPC_CALL_OK) {
        rc = ww_err_set(err, WW_ERR_INTERNAL,
                        "rpc client: cannot attach call credentials");
        goto out_call;
    }

    grpc_metadata md[3];
    size_t n_md = 0;
    if (o && o->idempotency_key) {
        md[n_md].key = grpc_slice_from_static_string("idempotency-key");
        md[n_md++].value = grpc_slice_from_copied_string(o->idempotency_key);
    }
    n_md += trace_metadata(o, md + n_md);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&request, 1);
    grpc_byte_buffer *recv = NULL;
    grpc_metadata_array initial_md, trailing_md;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = n_md;
    ops[0].data.send_initial_metadata.metadata = n_md ? md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;

    void *tag = &ops;
    grpc_call_error ce = grpc_call_start_batch(call, ops, 6, tag, NULL);
    if (ce != GRPC_CALL_OK) {
        rc = ww_err_set(err, WW_ERR_INTERNAL, "rpc client: start_batch %d",
                        (int)ce);
    } else {
        grpc_event ev = grpc_completion_queue_pluck(
            cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        (void)ev; /* the status says what happened */
        if (o && o->grpc_status) *o->grpc_status = (int)status;
        if (status == GRPC_STATUS_OK) {
            if (recv) {
                grpc_byte_buffer_reader reader;
                if (grpc_byte_buffer_reader_init(&reader, recv)) {
                    *response = grpc_byte_buffer_reader_readall(&reader);
                    grpc_byte_buffer_reader_destroy(&reader);
                    *has_response = true;
                }
            }
            if (!*has_response)
                rc = ww_err_set(err, WW_ERR_INTERNAL,
                                "%s: OK without a response message", path);
        } else {
            ww_code_t code = ww_rpc_status_to_code(status);
            int dlen = (int)GRPC_SLICE_LENGTH(details);
            const char *dptr = (const char *)GRPC_SLICE_START_PTR(details);
            if (code == WW_ERR_UNAVAILABLE)
                rc = ww_err_set_retriable(err, code, "%s: %.*s",
                                          ww_rpc_status_name(status), dlen,
                                          dptr);
            else
                rc = ww_err_set(err, code, "%s: %.*s",
                                ww_rpc_status_name(status), dlen, dptr);
        }
    }
    if (recv) grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    for (size_t i = 0; i < n_md; i++)
        grpc_slice_unref(md[i].value);
out_call:
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    return rc;
}

ww_code_t ww_rpc_client_unary(ww_rpc_client_t *c,
                              const ProtobufCServiceDescriptor *service,
                              const char *method,
                              const ProtobufCMessage *request,
                              ProtobufCMessage **response,
                              const ww_rpc_call_options_t *options,
                              ww_err_t *err) {
    *response = NULL;
    const ProtobufCMethodDescriptor *m =
        protobuf_c_service_descriptor_get_method_by_name(service, method);
    if (!m)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s has no method %s",
                          service->name, method);
    if (request->descriptor != m->input)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s.%s takes %s, not %s", service->name, method,
                          m->input->name, request->descriptor->name);
    char path[200];
    snprintf(path, sizeof path, "/%s/%s", service->name, method);
    size_t size = protobuf_c_message_get_packed_size(request);
    grpc_slice req = grpc_slice_malloc(size);
    protobuf_c_message_pack(request, GRPC_SLICE_START_PTR(req));
    grpc_slice resp;
    bool has = false;
    ww_code_t rc = call_raw(c, path, req, &resp, &has, options, err);
    grpc_slice_unref(req);
    if (rc != WW_OK) return rc;
    *response = protobuf_c_message_unpack(
        m->output, NULL, GRPC_SLICE_LENGTH(resp), GRPC_SLICE_START_PTR(resp));
    grpc_slice_unref(resp);
    if (!*response)
        return ww_err_set(err, WW_ERR_INTERNAL,
                          "%s: response is not a valid %s", path,
                          m->output->name);
    return WW_OK;
}

ww_code_t ww_rpc_client_unary_raw(ww_rpc_client_t *c, const char *path,
                                  const void *data, size_t len,
                                  uint8_t **response, size_t *response_len,
                                  const ww_rpc_call_options_t *options,
                                  ww_err_t *err) {
    *response = NULL;
    *response_len = 0;
    grpc_slice req = grpc_slice_from_copied_buffer(data, len);
    grpc_slice resp;
    bool has = false;
    ww_code_t rc = call_raw(c, path, req, &resp, &has, options, err);
    grpc_slice_unref(req);
    if (rc != WW_OK) return rc;
    *response_len = GRPC_SLICE_LENGTH(resp);
    *response = malloc(*response_len ? *response_len : 1);
    if (*response) memcpy(*response, GRPC_SLICE_START_PTR(resp), *response_len);
    grpc_slice_unref(resp);
    if (!*response) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "oom");
    return WW_OK;
}
