/*
 * fuzz_envelope.c - libFuzzer target for the CloudEvents envelope decoder
 * (ww_bus_envelope_decode) over every registered event, command, reply and
 * snapshot type. Input: one record as fuzz_envelope_input.h describes.
 * Invariants: decoding never crashes or leaks; a decoded event has a type
 * the registry knows and a payload of it; and it encodes again into a
 * record that decodes to the same attributes and payload bytes.
 */
#include "fuzz_envelope_input.h"
#include "ww_bus_envelope.h"
#include "ww_bus_registry.h"
#include "ww_schemas.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ww_bus_registry_t *reg;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    reg = ww_bus_registry_new();
    const ProtobufCMessageDescriptor *const *(*lists[])(size_t *) = {
        ww_schemas_trainer_events,   ww_schemas_users_events,
        ww_schemas_trainer_commands, ww_schemas_users_commands,
        ww_schemas_replies,          ww_schemas_snapshots};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        size_t n = 0;
        const ProtobufCMessageDescriptor *const *d = lists[i](&n);
        if (ww_bus_registry_add_all(reg, d, n, NULL) != WW_OK) abort();
    }
    return 0;
}

static unsigned char *packed(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    unsigned char *b = malloc(*len ? *len : 1);
    if (!b) abort();
    protobuf_c_message_pack(m, b);
    return b;
}

/* Encodes the decoded event again and checks it decodes to the same. */
static void round_trip(const ww_bus_event_t *ev) {
    ww_bus_envelope_meta_t meta = {
        .source = ev->source,
        .id = ev->id,
        .correlation_id = ev->correlation_id[0] ? ev->correlation_id : NULL,
        .causation_id = ev->causation_id[0] ? ev->causation_id : NULL,
        .time_ms = ev->time_ms ? ev->time_ms : 1,
    };
    rd_kafka_headers_t *h = NULL;
    void *value = NULL;
    size_t len = 0;
    ww_err_t err = {0};
    if (ww_bus_envelope_encode(ev->payload, &meta, &h, &value, &len, NULL,
                               &err) != WW_OK) {
        /* Only a time outside the years 0000..9999 is refused on encode
         * after a successful decode; ce_time parsing bounds it. */
        fprintf(stderr, "re-encode failed: %s\n", err.msg);
        abort();
    }
    ww_bus_event_t again;
    ww_code_t rc = ww_bus_envelope_decode(h, value, len, reg, &again, &err);
    if (rc != WW_OK) {
        fprintf(stderr, "re-decode failed: %s\n", err.msg);
        abort();
    }
    size_t a_len, b_len;
    unsigned char *a = packed(ev->payload, &a_len);
    unsigned char *b = packed(again.payload, &b_len);
    if (strcmp(again.id, ev->id) || strcmp(again.type, ev->type) ||
        strcmp(again.source, ev->source) ||
        strcmp(again.correlation_id, ev->correlation_id) ||
        strcmp(again.causation_id, ev->causation_id) ||
        again.descriptor != ev->descriptor || a_len != b_len ||
        memcmp(a, b, a_len))
        abort();
    free(a);
    free(b);
    ww_bus_event_clear(&again);
    rd_kafka_headers_destroy(h);
    free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t i = 1;
    rd_kafka_headers_t *h = (data[0] & 1) ? NULL : rd_kafka_headers_new(8);
    while (i < size && data[i] != FE_END) {
        unsigned sel = data[i++];
        size_t len = i < size ? data[i++] : 0;
        if (len > size - i) len = size - i;
        char other[8];
        snprintf(other, sizeof other, "x-%u", sel);
        const char *name = sel < FE_N_NAMES ? fe_names[sel] : other;
        if (h) rd_kafka_header_add(h, name, -1, data + i, (ssize_t)len);
        i += len;
    }
    if (i < size) i++; /* the end marker */
    const void *value = i < size ? data + i : NULL;
    size_t vlen = size - i;

    ww_bus_event_t ev;
    ww_err_t err = {0};
    ww_code_t rc = ww_bus_envelope_decode(h, value, vlen, reg, &ev, &err);
    if (rc == WW_OK) {
        if (!ev.payload || !ev.descriptor || !ev.type[0] ||
            ww_bus_registry_find(reg, ev.type) != ev.descriptor)
            abort();
        round_trip(&ev);
    } else if (ev.payload || !err.msg[0]) {
        abort(); /* a failure holds no payload and says why */
    }
    ww_bus_event_clear(&ev);
    if (h) rd_kafka_headers_destroy(h);
    return 0;
}
