/* ww_host_record.c - record keys, headers, registries, command fields. */
#include "ww_host_record.h"

#include <string.h>

void ww_host_record_key(const rd_kafka_message_t *rec, char *buf, size_t size) {
    size_t n = rec->key_len < size - 1 ? rec->key_len : size - 1;
    if (n) memcpy(buf, rec->key, n);
    buf[n] = '\0';
}

void ww_host_record_header(const rd_kafka_message_t *rec, const char *name,
                           char *buf, size_t size) {
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t n = 0;
    buf[0] = '\0';
    if (rd_kafka_message_headers(rec, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(h, name, &v, &n) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        v && n < size) {
        memcpy(buf, v, n);
        buf[n] = '\0';
    }
}

static ww_bus_registry_t *registry(ww_host_record_types_fn list,
                                   ww_err_t *err) {
    ww_bus_registry_t *r = ww_bus_registry_new();
    if (!r) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    size_t n;
    const ProtobufCMessageDescriptor *const *descs = list(&n);
    if (ww_bus_registry_add_all(r, descs, n, err) != WW_OK) {
        ww_bus_registry_destroy(r);
        return NULL;
    }
    return r;
}

ww_code_t ww_host_record_vocab_init(ww_host_record_vocab_t *v,
                                    ww_host_record_types_fn commands,
                                    ww_host_record_types_fn events,
                                    ww_host_record_types_fn peer,
                                    ww_err_t *err) {
    *v = (ww_host_record_vocab_t){0};
    if (!(v->commands = registry(commands, err)) ||
        !(v->events = registry(events, err)) ||
        !(v->peer = registry(peer, err))) {
        ww_host_record_vocab_clear(v);
        return err ? err->code : WW_ERR_INTERNAL;
    }
    return WW_OK;
}

void ww_host_record_vocab_clear(ww_host_record_vocab_t *v) {
    ww_bus_registry_destroy(v->commands);
    ww_bus_registry_destroy(v->events);
    ww_bus_registry_destroy(v->peer);
    *v = (ww_host_record_vocab_t){0};
}

static const void *field(const ProtobufCMessage *msg, const char *name,
                         ProtobufCType type) {
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
    if (!f || f->type != type || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return *(const void *const *)((const char *)msg + f->offset);
}

const Wildworkouts__Events__V1__CommandMeta *
ww_host_record_meta(const ProtobufCMessage *cmd) {
    return field(cmd, "meta", PROTOBUF_C_TYPE_MESSAGE);
}

const char *ww_host_record_string(const ProtobufCMessage *msg,
                                  const char *name) {
    return field(msg, name, PROTOBUF_C_TYPE_STRING);
}

void ww_host_record_origin(const Wildworkouts__Events__V1__CommandMeta *meta,
                           const uint8_t *digest,
                           Wildworkouts__Events__V1__CommandOrigin *out) {
    wildworkouts__events__v1__command_origin__init(out);
    if (!meta) return;
    out->idempotency_key = meta->idempotency_key;
    out->caller = meta->caller;
    out->correlation_id = meta->correlation_id;
    out->issued_at = meta->issued_at;
    if (digest && meta->idempotency_key && *meta->idempotency_key) {
        out->request_digest.data = (uint8_t *)digest;
        out->request_digest.len = WW_DEDUP_DIGEST_LEN;
    }
}

ww_code_t ww_host_record_copy(char *dst, size_t size, const char *src,
                              const char *field, ww_err_t *err) {
    if (!src) src = "";
    size_t n = strlen(src);
    if (n >= size)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s is longer than %zu bytes", field, size - 1);
    memcpy(dst, src, n + 1);
    return WW_OK;
}

ww_code_t
ww_host_record_read_origin(const Wildworkouts__Events__V1__CommandOrigin *o,
                           char caller[WW_DEDUP_CALLER_MAX + 1],
                           char key[WW_DEDUP_KEY_MAX + 1],
                           ww_shard_origin_t *origin, ww_err_t *err) {
    caller[0] = key[0] = '\0';
    memset(origin, 0, sizeof *origin);
    origin->caller = caller;
    origin->key = key;
    if (!o) return WW_OK;
    ww_code_t rc = ww_host_record_copy(caller, WW_DEDUP_CALLER_MAX + 1,
                                       o->caller, "caller", err);
    if (rc == WW_OK)
        rc = ww_host_record_copy(key, WW_DEDUP_KEY_MAX + 1, o->idempotency_key,
                                 "idempotency_key", err);
    if (rc != WW_OK || !key[0]) return rc;
    if (o->request_digest.len != WW_DEDUP_DIGEST_LEN)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "request_digest has %zu bytes, want %d",
                          o->request_digest.len, WW_DEDUP_DIGEST_LEN);
    memcpy(origin->digest, o->request_digest.data, WW_DEDUP_DIGEST_LEN);
    return WW_OK;
}
