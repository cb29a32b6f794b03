/* test_wwctl_record.c - the JSON line of one Kafka record (wwctl tail, dlq
 * list): a CloudEvents record decodes to its payload; a record that does
 * not (garbage value, unknown type, no headers) says why and keeps its
 * bytes; odd keys and headers survive; a redrive marker is named; type
 * names resolve from full or short names. No broker: records are built
 * with the envelope encoder. */
#include "ww_bus_envelope.h"
#include "ww_bus_redrive.h"
#include "ww_schemas.h"
#include "ww_test.h"
#include "wwctl_record.h"

#include <stdlib.h>
#include <string.h>

static ww_bus_registry_t *reg;

/* A TrainingScheduled record: headers (caller destroys) and value. */
static rd_kafka_headers_t *scheduled(void **value, size_t *len) {
    Wildworkouts__Events__V1__TrainingScheduled f =
        WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
    f.trainer_id = "trainer-1";
    f.training_uuid = "u-1";
    f.user_id = "ann";
    ww_bus_envelope_meta_t meta = {.source = "/test",
                                   .id = "ev-1",
                                   .correlation_id = "corr-1",
                                   .time_ms = 1796130000000};
    rd_kafka_headers_t *h = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_envelope_encode(&f.base, &meta, &h, value, len, NULL,
                                         &err) == WW_OK,
                  "encode: %s", err.msg);
    return h;
}

static json_t *line(const wwctl_record_t *r) {
    json_t *j = wwctl_record_json(r, reg);
    WW_ASSERT(j);
    return j;
}

static const char *str(json_t *obj, const char *path) {
    json_t *v = obj;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = strtok(buf, "."); p && v; p = strtok(NULL, "."))
        v = json_object_get(v, p);
    return json_string_value(v);
}

WW_TEST(a_cloudevents_record_decodes_to_its_payload) {
    void *value;
    size_t len;
    rd_kafka_headers_t *h = scheduled(&value, &len);
    wwctl_record_t r = {.topic = "trainer.events",
                        .partition = 2,
                        .offset = 40,
                        .timestamp_ms = 1796130000123,
                        .key = "trainer-1",
                        .key_len = 9,
                        .value = value,
                        .len = len,
                        .headers = h};
    json_t *j = line(&r);
    WW_ASSERT_EQ_STR(str(j, "topic"), "trainer.events");
    WW_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "partition")), 2);
    WW_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "offset")), 40);
    WW_ASSERT_EQ_STR(str(j, "timestamp"), "2026-12-01T13:00:00.123Z");
    WW_ASSERT_EQ_STR(str(j, "key"), "trainer-1");
    WW_ASSERT_EQ_STR(str(j, "type"),
                     "wildworkouts.events.v1.TrainingScheduled");
    WW_ASSERT_EQ_STR(str(j, "headers.ce_id"), "ev-1");
    WW_ASSERT_EQ_STR(str(j, "headers.ce_correlationid"), "corr-1");
    WW_ASSERT_EQ_STR(str(j, "headers.ce_time"), "2026-12-01T13:00:00.000Z");
    WW_ASSERT_EQ_STR(str(j, "payload.trainingUuid"), "u-1");
    WW_ASSERT_EQ_STR(str(j, "payload.userId"), "ann");
    WW_ASSERT(!json_object_get(j, "error"));
    json_decref(j);
    free(value);
    rd_kafka_headers_destroy(h);
}

WW_TEST(an_undecodable_record_says_why_and_keeps_its_bytes) {
    void *value;
    size_t len;
    rd_kafka_headers_t *h = scheduled(&value, &len);
    /* a value that is no protobuf */
    wwctl_record_t r = {.topic = "t",
                        .value = "\xff\x00x",
                        .len = 3,
                        .headers = h,
                        .timestamp_ms = -1};
    json_t *j = line(&r);
    WW_ASSERT(!json_object_get(j, "payload"));
    WW_ASSERT(str(j, "error") && str(j, "error")[0]);
    WW_ASSERT_EQ_STR(str(j, "value_base64"), "/wB4");
    WW_ASSERT(json_is_null(json_object_get(j, "timestamp")));
    WW_ASSERT(json_is_null(json_object_get(j, "key")));
    WW_ASSERT_EQ_STR(str(j, "type"),
                     "wildworkouts.events.v1.TrainingScheduled");
    json_decref(j);
    /* a type nobody knows */
    rd_kafka_header_remove(h, "ce_type");
    rd_kafka_header_add(h, "ce_type", -1, "wildworkouts.events.v9.Nope", -1);
    r.value = value;
    r.len = len;
    j = line(&r);
    WW_ASSERT_CONTAINS(str(j, "error"), "wildworkouts.events.v9.Nope");
    WW_ASSERT(!json_object_get(j, "payload"));
    json_decref(j);
    /* a ce_type that is not UTF-8: the line says so in text it can hold */
    rd_kafka_header_remove(h, "ce_type");
    rd_kafka_header_add(h, "ce_type", -1, "bad\xfftype", -1);
    j = line(&r);
    WW_ASSERT_EQ_STR(str(j, "type"), "bad?type");
    WW_ASSERT_CONTAINS(str(j, "error"), "bad?type");
    WW_ASSERT_EQ_STR(str(j, "headers.ce_type.base64"), "YmFk/3R5cGU=");
    json_decref(j);
    /* no headers at all, and no value */
    wwctl_record_t bare = {.topic = "t", .timestamp_ms = -1};
    j = line(&bare);
    WW_ASSERT_CONTAINS(str(j, "error"), "missing header ce_specversion");
    WW_ASSERT(json_is_null(json_object_get(j, "value_base64")));
    WW_ASSERT_EQ_INT(json_object_size(json_object_get(j, "headers")), 0);
    json_decref(j);
    free(value);
    rd_kafka_headers_destroy(h);
}

WW_TEST(odd_keys_and_headers_are_kept) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    rd_kafka_header_add(h, "twice", -1, "a", -1);
    rd_kafka_header_add(h, "twice", -1, "b", -1);
    rd_kafka_header_add(h, "twice", -1, "c", -1);
    rd_kafka_header_add(h, "bin", -1, "\xff\xfe", 2);
    rd_kafka_header_add(h, "none", -1, NULL, 0);
    wwctl_record_t r = {.topic = "t",
                        .key = "\xc3(",
                        .key_len = 2,
                        .headers = h,
                        .timestamp_ms = -1};
    json_t *j = line(&r);
    WW_ASSERT(!json_object_get(j, "key"));
    WW_ASSERT_EQ_STR(str(j, "key_base64"), "wyg=");
    json_t *twice = json_object_get(json_object_get(j, "headers"), "twice");
    WW_ASSERT(json_is_array(twice) && json_array_size(twice) == 3);
    WW_ASSERT_EQ_STR(json_string_value(json_array_get(twice, 2)), "c");
    WW_ASSERT_EQ_STR(str(j, "headers.bin.base64"), "//4=");
    WW_ASSERT(
        json_is_null(json_object_get(json_object_get(j, "headers"), "none")));
    json_decref(j);
    rd_kafka_headers_destroy(h);
}

WW_TEST(a_redrive_marker_is_named) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, WW_BUS_REDRIVE_H_OF, -1, "x.dlq/0/3", -1);
    wwctl_record_t r = {.topic = "x.dlq",
                        .key = "k",
                        .key_len = 1,
                        .headers = h,
                        .timestamp_ms = -1};
    json_t *j = line(&r);
    WW_ASSERT_EQ_STR(str(j, "marker"), "redrive");
    WW_ASSERT(!json_object_get(j, "error") && !json_object_get(j, "payload"));
    json_decref(j);
    rd_kafka_headers_destroy(h);
}

WW_TEST(type_names_full_or_short) {
    WW_ASSERT_EQ_STR(wwctl_record_type_name(reg, "TrainingBalanceChanged"),
                     "wildworkouts.events.v1.TrainingBalanceChanged");
    WW_ASSERT_EQ_STR(
        wwctl_record_type_name(reg, "wildworkouts.events.v1.CommandResult"),
        "wildworkouts.events.v1.CommandResult");
    WW_ASSERT_EQ_STR(wwctl_record_type_name(reg, "ScheduleTrainingCommand"),
                     "wildworkouts.events.v1.ScheduleTrainingCommand");
    WW_ASSERT(wwctl_record_type_name(reg, "Nope") == NULL);
    WW_ASSERT(wwctl_record_type_name(reg, "trainingscheduled") == NULL);
    char list[2048];
    wwctl_record_type_list(list, sizeof list);
    WW_ASSERT_CONTAINS(list, "HourAvailabilityChanged, TrainingScheduled");
    WW_ASSERT_CONTAINS(list, "CommandResult");
}

int main(int argc, char **argv) {
    ww_err_t err = {0};
    reg = wwctl_record_registry(&err);
    if (!reg) {
        fprintf(stderr, "registry: %s\n", err.msg);
        return 1;
    }
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(a_cloudevents_record_decodes_to_its_payload),
            WW_CASE(an_undecodable_record_says_why_and_keeps_its_bytes),
            WW_CASE(odd_keys_and_headers_are_kept),
            WW_CASE(a_redrive_marker_is_named),
            WW_CASE(type_names_full_or_short),
            {0}});
    ww_bus_registry_destroy(reg);
    return rc;
}
