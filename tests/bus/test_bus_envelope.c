/*
 * Envelope: an event encodes to the CloudEvents binary-mode headers and a
 * bare protobuf value, decodes back to the same event, and every kind of
 * malformed record is refused with a message that names the problem (the
 * DLQ reason).
 */
#include <librdkafka/rdkafka.h>

#include "ww_bus_envelope.h"
#include "ww_rfc3339.h"
#include "ww_schemas.h"
#include "ww_test.h"

static ww_bus_registry_t *trainer_registry(void) {
    ww_bus_registry_t *reg = ww_bus_registry_new();
    WW_ASSERT(reg);
    size_t n;
    const ProtobufCMessageDescriptor *const *d = ww_schemas_trainer_events(&n);
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_registry_add_all(reg, d, n, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_registry_count(reg), 5);
    return reg;
}

static const char *header(rd_kafka_headers_t *h, const char *name) {
    static char buf[300];
    const void *v;
    size_t n;
    if (rd_kafka_header_get_last(h, name, &v, &n)) return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)n, (const char *)v);
    return buf;
}

static bool is_uuid4(const char *s) {
    if (strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
            return false;
    }
    return s[14] == '4' && strchr("89ab", s[19]);
}

WW_TEST(round_trip_keeps_attributes_and_payload) {
    Wildworkouts__Events__V1__TrainingScheduled ev =
        WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
    ev.trainer_id = "trainer-1";
    ev.training_uuid = "0b7e1c1e-1111-4222-8333-444455556666";
    ev.user_id = "user-9";
    ev.notes = "legs";
    Wildworkouts__Events__V1__CommandPosition pos =
        WILDWORKOUTS__EVENTS__V1__COMMAND_POSITION__INIT;
    pos.partition = 3;
    pos.offset = 1234567;
    ev.command = &pos;

    ww_bus_envelope_meta_t meta = {.source = "/wildworkouts/trainer",
                                   .correlation_id = "req-42",
                                   .causation_id = "cmd-7",
                                   .time_ms = 1795700000123};
    rd_kafka_headers_t *h;
    void *value;
    size_t len;
    char id[WW_BUS_ID_MAX + 1];
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_envelope_encode(&ev.base, &meta, &h, &value, &len,
                                            id, &err), WW_OK);
    WW_ASSERT(is_uuid4(id));
    WW_ASSERT_EQ_STR(header(h, "ce_specversion"), "1.0");
    WW_ASSERT_EQ_STR(header(h, "ce_id"), id);
    WW_ASSERT_EQ_STR(header(h, "ce_type"),
                     "wildworkouts.events.v1.TrainingScheduled");
    WW_ASSERT_EQ_STR(header(h, "ce_source"), "/wildworkouts/trainer");
    WW_ASSERT_EQ_STR(header(h, "ce_time"), "2026-11-26T13:33:20.123Z");
    WW_ASSERT_EQ_STR(header(h, "content-type"), "application/protobuf");
    WW_ASSERT_EQ_STR(header(h, "ce_correlationid"), "req-42");
    WW_ASSERT_EQ_STR(header(h, "ce_causationid"), "cmd-7");
    /* The value is the bare protobuf: any protobuf library parses it. */
    WW_ASSERT_EQ_INT(len, protobuf_c_message_get_packed_size(&ev.base));

    ww_bus_registry_t *reg = trainer_registry();
    ww_bus_event_t out;
    WW_ASSERT_EQ_INT(ww_bus_envelope_decode(h, value, len, reg, &out, &err),
                     WW_OK);
    WW_ASSERT_EQ_STR(out.id, id);
    WW_ASSERT_EQ_STR(out.type, "wildworkouts.events.v1.TrainingScheduled");
    WW_ASSERT_EQ_STR(out.correlation_id, "req-42");
    WW_ASSERT_EQ_STR(out.causation_id, "cmd-7");
    WW_ASSERT_EQ_INT(out.time_ms, 1795700000123);
    WW_ASSERT(out.descriptor ==
              &wildworkouts__events__v1__training_scheduled__descriptor);
    Wildworkouts__Events__V1__TrainingScheduled *got =
        (Wildworkouts__Events__V1__TrainingScheduled *)out.payload;
    WW_ASSERT_EQ_STR(got->training_uuid, ev.training_uuid);
    WW_ASSERT_EQ_STR(got->notes, "legs");
    WW_ASSERT(got->command);
    WW_ASSERT_EQ_INT(got->command->offset, 1234567);
    WW_ASSERT_EQ_INT(got->command->partition, 3);
    ww_bus_event_clear(&out);
    WW_ASSERT(out.payload == NULL);
    rd_kafka_headers_destroy(h);
    free(value);
    ww_bus_registry_destroy(reg);
}

WW_TEST(ids_are_unique_uuid4_and_time_defaults_to_now) {
    Wildworkouts__Events__V1__TrainingConfirmed ev =
        WILDWORKOUTS__EVENTS__V1__TRAINING_CONFIRMED__INIT;
    ww_bus_envelope_meta_t meta = {.source = "/t"};
    enum { N = 2000 };
    static char ids[N][WW_BUS_ID_MAX + 1];
    ww_err_t err = {0};
    for (int i = 0; i < N; i++) {
        rd_kafka_headers_t *h;
        void *value;
        size_t len;
        WW_ASSERT_EQ_INT(ww_bus_envelope_encode(&ev.base, &meta, &h, &value,
                                                &len, ids[i], &err), WW_OK);
        WW_ASSERT_MSG(is_uuid4(ids[i]), "not a UUIDv4: %s", ids[i]);
        /* An all-default message packs to nothing. */
        WW_ASSERT_EQ_INT(len, 0);
        WW_ASSERT(value == NULL);
        if (i == 0) {
            int64_t t;
            WW_ASSERT_EQ_INT(ww_rfc3339_parse_ms(header(h, "ce_time"), &t,
                                                 &err), WW_OK);
            WW_ASSERT(llabs(t - (int64_t)time(NULL) * 1000) < 5000);
        }
        rd_kafka_headers_destroy(h);
    }
    qsort(ids, N, sizeof ids[0], (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < N; i++)
        WW_ASSERT_MSG(strcmp(ids[i - 1], ids[i]), "duplicate id %s", ids[i]);

    /* A caller-chosen id is used as is. */
    meta.id = "fixed-id";
    char id[WW_BUS_ID_MAX + 1];
    rd_kafka_headers_t *h;
    void *value;
    size_t len;
    WW_ASSERT_EQ_INT(ww_bus_envelope_encode(&ev.base, &meta, &h, &value, &len,
                                            id, &err), WW_OK);
    WW_ASSERT_EQ_STR(id, "fixed-id");
    rd_kafka_headers_destroy(h);
}

WW_TEST(encode_refuses_bad_metadata) {
    Wildworkouts__Events__V1__TrainingConfirmed ev =
        WILDWORKOUTS__EVENTS__V1__TRAINING_CONFIRMED__INIT;
    rd_kafka_headers_t *h = NULL;
    void *value = NULL;
    size_t len;
    ww_err_t err = {0};
    ww_bus_envelope_meta_t meta = {0};
    WW_ASSERT_EQ_INT(ww_bus_envelope_encode(&ev.base, &meta, &h, &value, &len,
                                            NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "ce_source");
    char long_id[200];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    meta = (ww_bus_envelope_meta_t){.source = "/t", .id = long_id};
    WW_ASSERT_EQ_INT(ww_bus_envelope_encode(&ev.base, &meta, &h, &value, &len,
                                            NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "ce_id");
    WW_ASSERT(h == NULL && value == NULL);
    /* Year 10000 has no RFC 3339 text: no record a consumer cannot read. */
    meta = (ww_bus_envelope_meta_t){.source = "/t",
                                    .time_ms = INT64_C(253402300800000)};
    WW_ASSERT_EQ_INT(ww_bus_envelope_encode(&ev.base, &meta, &h, &value, &len,
                                            NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "0000..9999");
    WW_ASSERT(h == NULL && value == NULL);
}

/* Headers of a valid TrainingReleased event, minus `skip`, with `override`
 * replacing the value of header `oname`. */
static rd_kafka_headers_t *headers_without(const char *skip,
                                           const char *oname,
                                           const char *ovalue) {
    static const char *names[] = {"ce_specversion", "ce_id", "ce_type",
                                  "ce_source", "ce_time", "content-type"};
    static const char *values[] = {
        "1.0", "id-1", "wildworkouts.events.v1.TrainingReleased", "/t",
        "2026-11-26T13:00:00Z", "application/protobuf"};
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    for (int i = 0; i < 6; i++) {
        if (skip && !strcmp(names[i], skip)) continue;
        const char *v = oname && !strcmp(names[i], oname) ? ovalue : values[i];
        rd_kafka_header_add(h, names[i], -1, v, -1);
    }
    return h;
}

static ww_err_t decode_err(rd_kafka_headers_t *h, const void *value,
                           size_t len) {
    ww_bus_registry_t *reg = trainer_registry();
    ww_bus_event_t out;
    ww_err_t err = {0};
    ww_code_t rc = ww_bus_envelope_decode(h, value, len, reg, &out, &err);
    if (rc == WW_OK) ww_bus_event_clear(&out);
    WW_ASSERT(out.payload == NULL);
    rd_kafka_headers_destroy(h);
    ww_bus_registry_destroy(reg);
    return err;
}

WW_TEST(decode_names_each_missing_header) {
    static const char *required[] = {"ce_specversion", "ce_id", "ce_type",
                                     "ce_source", "ce_time", "content-type"};
    for (int i = 0; i < 6; i++) {
        ww_err_t err = decode_err(headers_without(required[i], NULL, NULL),
                                  NULL, 0);
        WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
        char want[64];
        snprintf(want, sizeof want, "missing header %s", required[i]);
        WW_ASSERT_CONTAINS(err.msg, want);
    }
    /* The full set decodes (an empty value is an all-default message). */
    ww_err_t err = decode_err(headers_without(NULL, NULL, NULL), NULL, 0);
    WW_ASSERT_EQ_INT(err.code, WW_OK);
    /* No headers at all. */
    ww_bus_registry_t *reg = trainer_registry();
    ww_bus_event_t out;
    WW_ASSERT_EQ_INT(ww_bus_envelope_decode(NULL, NULL, 0, reg, &out, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "missing header ce_specversion");
    ww_bus_registry_destroy(reg);
}

WW_TEST(decode_refuses_wrong_values) {
    ww_err_t err = decode_err(headers_without(NULL, "ce_specversion", "0.3"),
                              NULL, 0);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "\"0.3\"");
    err = decode_err(headers_without(NULL, "content-type", "application/json"),
                     NULL, 0);
    WW_ASSERT_CONTAINS(err.msg, "content-type");
    err = decode_err(headers_without(NULL, "ce_time", "yesterday"), NULL, 0);
    WW_ASSERT_CONTAINS(err.msg, "ce_time");
    /* A date that does not exist is refused, saying why, not rolled over
     * into March. */
    err = decode_err(headers_without(NULL, "ce_time", "2026-02-31T13:00:00Z"),
                     NULL, 0);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "ce_time");
    WW_ASSERT_CONTAINS(err.msg, "day 31 is not in February 2026");
    err = decode_err(headers_without(NULL, "ce_id", ""), NULL, 0);
    WW_ASSERT_CONTAINS(err.msg, "empty header ce_id");
    err = decode_err(headers_without(NULL, "ce_type", "acme.v1.Unknown"), NULL,
                     0);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_NOT_FOUND);
    WW_ASSERT_CONTAINS(err.msg, "unknown ce_type \"acme.v1.Unknown\"");
    /* Field 1 as a length-delimited string claiming 100 bytes it lacks. */
    const unsigned char garbage[] = {0x0a, 0x64, 'x', 'y'};
    err = decode_err(headers_without(NULL, NULL, NULL), garbage,
                     sizeof garbage);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "payload of 4 bytes does not parse as "
                                "wildworkouts.events.v1.TrainingReleased");
    /* Media type parameters are tolerated. */
    err = decode_err(headers_without(NULL, "content-type",
                                     "application/protobuf; proto=x"),
                     NULL, 0);
    WW_ASSERT_EQ_INT(err.code, WW_OK);
}

WW_TEST(registry_refuses_a_second_descriptor_under_one_name) {
    ww_bus_registry_t *reg = ww_bus_registry_new();
    ww_err_t err = {0};
    const ProtobufCMessageDescriptor *d =
        &wildworkouts__events__v1__training_scheduled__descriptor;
    WW_ASSERT_EQ_INT(ww_bus_registry_add(reg, d, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_registry_add(reg, d, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_registry_count(reg), 1);
    ProtobufCMessageDescriptor fake = *d;
    WW_ASSERT_EQ_INT(ww_bus_registry_add(reg, &fake, &err),
                     WW_ERR_ALREADY_EXISTS);
    WW_ASSERT(ww_bus_registry_find(reg, d->name) == d);
    WW_ASSERT(ww_bus_registry_find(reg, "x.Y") == NULL);
    ww_bus_registry_destroy(reg);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(round_trip_keeps_attributes_and_payload),
            WW_CASE(ids_are_unique_uuid4_and_time_defaults_to_now),
            WW_CASE(encode_refuses_bad_metadata),
            WW_CASE(decode_names_each_missing_header),
            WW_CASE(decode_refuses_wrong_values),
            WW_CASE(registry_refuses_a_second_descriptor_under_one_name),
            {0}});
}
