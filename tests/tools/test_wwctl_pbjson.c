/* test_wwctl_pbjson.c - the proto3 JSON mapping of wwctl_pbjson: every
 * scalar type, presence and defaults, repeated fields, maps, oneof, enums,
 * bytes, the well-known types, errors with their field path, and the
 * project's own event payloads (also after a pack/unpack round trip). The
 * expected texts are what protobuf's own json_format writes for the same
 * messages (floats aside: jansson prints doubles with 17 digits). */
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "pbjson_legacy.pb-c.h"
#include "pbjson_test.pb-c.h"
#include "ww_schemas.h"
#include "ww_test.h"
#include "wwctl_pbjson.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The compact JSON text of msg; the case fails when it cannot be built. */
static char *dump(const void *msg) {
    ww_err_t err = {0};
    json_t *j = wwctl_pbjson_message(msg, &err);
    WW_ASSERT_MSG(j, "pbjson: %s", err.msg);
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    WW_ASSERT(s);
    return s;
}

/* Asserts msg maps to exactly `want`. */
static void expect(const void *msg, const char *want) {
    char *got = dump(msg);
    int same = strcmp(got, want) == 0;
    if (!same) fprintf(stderr, "  got  %s\n  want %s\n", got, want);
    free(got);
    WW_ASSERT(same);
}

/* Asserts msg does not map, with an INVALID_ARGUMENT naming `where`. */
static void expect_error(const void *msg, const char *where) {
    ww_err_t err = {0};
    json_t *j = wwctl_pbjson_message(msg, &err);
    json_decref(j);
    WW_ASSERT(j == NULL);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, where);
}

WW_TEST(every_scalar_type_by_the_mapping) {
    Wwtest__Pbjson__All m = WWTEST__PBJSON__ALL__INIT;
    m.i32 = -5;
    m.s32 = -6;
    m.sf32 = -7;
    m.u32 = 4000000000u;
    m.f32 = 9;
    m.i64 = INT64_MIN;
    m.s64 = -2;
    m.sf64 = 3;
    m.u64 = UINT64_MAX;
    m.f64 = 10;
    m.fl = 0.5f;
    m.db = -2.25;
    m.flag = 1;
    m.text = "h\xc3\xa9 \"q\"";
    uint8_t blob[] = {0xff, 0x00, 'a'};
    m.blob = (ProtobufCBinaryData){sizeof blob, blob};
    m.color = WWTEST__PBJSON__COLOR__COLOR_GREEN;
    m.snake_case_name_2x = "s";
    expect(&m, "{\"i32\":-5,\"s32\":-6,\"sf32\":-7,\"u32\":4000000000,"
               "\"f32\":9,\"i64\":\"-9223372036854775808\",\"s64\":\"-2\","
               "\"sf64\":\"3\",\"u64\":\"18446744073709551615\","
               "\"f64\":\"10\",\"fl\":0.5,\"db\":-2.25,\"flag\":true,"
               "\"text\":\"h\xc3\xa9 \\\"q\\\"\",\"blob\":\"/wBh\","
               "\"color\":\"COLOR_GREEN\",\"snakeCaseName2x\":\"s\"}");
}

WW_TEST(defaults_are_left_out_and_presence_is_kept) {
    Wwtest__Pbjson__All m = WWTEST__PBJSON__ALL__INIT;
    expect(&m, "{}");
    Wwtest__Pbjson__Inner empty = WWTEST__PBJSON__INNER__INIT;
    m.inner = &empty; /* a set message is written even when empty */
    m.text = "";
    expect(&m, "{\"inner\":{}}");
    m.inner = NULL;
    m.choice_case = WWTEST__PBJSON__ALL__CHOICE_CHOICE_NUMBER;
    m.choice_number = 0; /* a oneof member is written at its default */
    expect(&m, "{\"choiceNumber\":0}");
    m.choice_case = WWTEST__PBJSON__ALL__CHOICE_CHOICE_TEXT;
    m.choice_text = "t";
    expect(&m, "{\"choiceText\":\"t\"}");

    Wwtest__Pbjson__Legacy l = WWTEST__PBJSON__LEGACY__INIT;
    expect(&l, "{\"id\":0}"); /* required: always */
    l.has_count = 1;          /* optional: by its has flag */
    l.count = 0;
    l.has_data = 1;
    l.label = "none"; /* equal to the default, but set */
    expect(&l, "{\"id\":0,\"label\":\"none\",\"count\":0,\"data\":\"\"}");
}

WW_TEST(floats_beyond_numbers_and_negative_zero) {
    Wwtest__Pbjson__All m = WWTEST__PBJSON__ALL__INIT;
    double reals[] = {NAN, INFINITY, -INFINITY, 1.5};
    m.n_reals = 4;
    m.reals = reals;
    m.db = -0.0; /* not the default: its bits differ */
    m.fl = -INFINITY;
    expect(&m, "{\"fl\":\"-Infinity\",\"db\":-0.0,"
               "\"reals\":[\"NaN\",\"Infinity\",\"-Infinity\",1.5]}");
}

WW_TEST(bytes_are_base64_with_padding) {
    const char *want[] = {"\"\"", "\"YQ==\"", "\"YWI=\"", "\"YWJj\""};
    for (size_t n = 0; n < 4; n++) {
        json_t *j = wwctl_pbjson_base64("abc", n);
        WW_ASSERT(j);
        char *s = json_dumps(j, JSON_ENCODE_ANY);
        WW_ASSERT_EQ_STR(s, want[n]);
        free(s);
        json_decref(j);
    }
}

WW_TEST(repeated_fields_maps_and_unknown_enum_numbers) {
    Wwtest__Pbjson__All m = WWTEST__PBJSON__ALL__INIT;
    int64_t many[] = {1, -2};
    m.n_many_i64 = 2;
    m.many_i64 = many;
    char *tags[] = {"a", ""};
    m.n_tags = 2;
    m.tags = tags;
    Wwtest__Pbjson__Inner a = WWTEST__PBJSON__INNER__INIT,
                          b = WWTEST__PBJSON__INNER__INIT;
    a.name = "x";
    b.n = 3;
    Wwtest__Pbjson__Inner *inners[] = {&a, &b};
    m.n_inners = 2;
    m.inners = inners;
    Wwtest__Pbjson__Color colors[] = {WWTEST__PBJSON__COLOR__COLOR_RED,
                                      (Wwtest__Pbjson__Color)7};
    m.n_colors = 2;
    m.colors = colors;
    m.color = (Wwtest__Pbjson__Color)9;
    Wwtest__Pbjson__All__CountsEntry
        c1 = WWTEST__PBJSON__ALL__COUNTS_ENTRY__INIT,
        c2 = WWTEST__PBJSON__ALL__COUNTS_ENTRY__INIT;
    c1.key = "one";
    c1.value = 1;
    c2.key = "zero";
    Wwtest__Pbjson__All__CountsEntry *counts[] = {&c1, &c2};
    m.n_counts = 2;
    m.counts = counts;
    Wwtest__Pbjson__All__ByIdEntry id = WWTEST__PBJSON__ALL__BY_ID_ENTRY__INIT;
    id.key = -5;
    id.value = &a;
    Wwtest__Pbjson__All__ByIdEntry *by_id[] = {&id};
    m.n_by_id = 1;
    m.by_id = by_id;
    Wwtest__Pbjson__All__FlagsEntry f = WWTEST__PBJSON__ALL__FLAGS_ENTRY__INIT;
    f.key = 1;
    f.value = "yes";
    Wwtest__Pbjson__All__FlagsEntry *flags[] = {&f};
    m.n_flags = 1;
    m.flags = flags;
    expect(&m, "{\"color\":9,\"manyI64\":[\"1\",\"-2\"],\"tags\":[\"a\",\"\"],"
               "\"inners\":[{\"name\":\"x\"},{\"n\":3}],"
               "\"colors\":[\"COLOR_RED\",7],"
               "\"counts\":{\"one\":1,\"zero\":0},"
               "\"byId\":{\"-5\":{\"name\":\"x\"}},"
               "\"flags\":{\"true\":\"yes\"}}");
}

WW_TEST(well_known_types) {
    Wwtest__Pbjson__All m = WWTEST__PBJSON__ALL__INIT;
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Duration took = GOOGLE__PROTOBUF__DURATION__INIT;
    Google__Protobuf__Int64Value wrapped = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
    Google__Protobuf__Empty nothing = GOOGLE__PROTOBUF__EMPTY__INIT;
    at.seconds = 1796130000; /* 2026-12-01T13:00:00Z */
    took.seconds = 1;
    took.nanos = 500000000;
    m.at = &at;
    m.took = &took;
    m.wrapped = &wrapped; /* a wrapper's value is written even at 0 */
    m.nothing = &nothing;
    expect(&m, "{\"at\":\"2026-12-01T13:00:00Z\",\"took\":\"1.500s\","
               "\"wrapped\":\"0\",\"nothing\":{}}");
    const struct {
        int32_t nanos;
        const char *text;
    } fractions[] = {{123000000, "\"2026-12-01T13:00:00.123Z\""},
                     {123456000, "\"2026-12-01T13:00:00.123456Z\""},
                     {1, "\"2026-12-01T13:00:00.000000001Z\""}};
    for (size_t i = 0; i < 3; i++) {
        at.nanos = fractions[i].nanos;
        char *s = dump(&at);
        WW_ASSERT_EQ_STR(s, fractions[i].text);
        free(s);
    }
    at.nanos = 0;
    at.seconds = -62135596800; /* 0001-01-01T00:00:00Z, the first allowed */
    char *s = dump(&at);
    WW_ASSERT_EQ_STR(s, "\"0001-01-01T00:00:00Z\"");
    free(s);
    took.seconds = 0;
    took.nanos = -1;
    s = dump(&took);
    WW_ASSERT_EQ_STR(s, "\"-0.000000001s\"");
    free(s);
    took.nanos = 0;
    s = dump(&took);
    WW_ASSERT_EQ_STR(s, "\"0s\"");
    free(s);
}

WW_TEST(what_the_mapping_cannot_say_is_an_error_naming_the_field) {
    Wwtest__Pbjson__All m = WWTEST__PBJSON__ALL__INIT;
    m.text = "bad \xff";
    expect_error(&m, "text: string is not UTF-8");
    m.text = "";
    Wwtest__Pbjson__Inner a = WWTEST__PBJSON__INNER__INIT,
                          b = WWTEST__PBJSON__INNER__INIT;
    b.name = "\xc3";
    Wwtest__Pbjson__Inner *inners[] = {&a, &b};
    m.n_inners = 2;
    m.inners = inners;
    expect_error(&m, "inners[1].name: string is not UTF-8");
    m.n_inners = 0;
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    at.seconds = -62135596801; /* year 0000 */
    m.at = &at;
    expect_error(&m, "at: Timestamp");
    at.seconds = 0;
    at.nanos = -1;
    expect_error(&m, "at: Timestamp");
    m.at = NULL;
    Google__Protobuf__Duration took = GOOGLE__PROTOBUF__DURATION__INIT;
    took.seconds = 1;
    took.nanos = -1;
    m.took = &took;
    expect_error(&m, "took: Duration");
    ww_err_t err = {0};
    WW_ASSERT(wwctl_pbjson_message(NULL, &err) == NULL);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
}

WW_TEST(field_names_follow_protoc_json_name) {
    const char *cases[][2] = {{"balance_after", "balanceAfter"},
                              {"ce_type", "ceType"},
                              {"x", "x"},
                              {"a_b_c", "aBC"},
                              {"trailing_", "trailing"},
                              {"two__bars", "twoBars"},
                              {"v2_name", "v2Name"}};
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        wwctl_pbjson_field_name(cases[i][0], buf, sizeof buf);
        WW_ASSERT_EQ_STR(buf, cases[i][1]);
    }
    wwctl_pbjson_field_name("balance_after", buf, 5);
    WW_ASSERT_EQ_STR(buf, "bala");
}

WW_TEST(a_fact_of_the_saga_and_its_round_trip) {
    Wildworkouts__Events__V1__TrainingBalanceChanged f =
        WILDWORKOUTS__EVENTS__V1__TRAINING_BALANCE_CHANGED__INIT;
    Wildworkouts__Events__V1__CommandPosition pos =
        WILDWORKOUTS__EVENTS__V1__COMMAND_POSITION__INIT;
    Wildworkouts__Events__V1__CommandOrigin origin =
        WILDWORKOUTS__EVENTS__V1__COMMAND_ORIGIN__INIT;
    Google__Protobuf__Timestamp issued = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    issued.seconds = 1796130000;
    issued.nanos = 250000000;
    uint8_t digest[] = {1, 2, 3, 4};
    origin.request_digest = (ProtobufCBinaryData){sizeof digest, digest};
    origin.caller = "users-translator";
    origin.issued_at = &issued;
    pos.partition = 0; /* the default: left out */
    pos.offset = 17;
    f.user_id = "ann";
    f.amount_change = -1;
    f.balance_after = 0;
    f.reason =
        WILDWORKOUTS__EVENTS__V1__BALANCE_CHANGE_REASON__BALANCE_CHANGE_REASON_TRAINING_DEBIT;
    f.training_uuid = "t-1";
    f.command = &pos;
    f.origin = &origin;
    const char *want =
        "{\"userId\":\"ann\",\"amountChange\":\"-1\","
        "\"reason\":\"BALANCE_CHANGE_REASON_TRAINING_DEBIT\","
        "\"trainingUuid\":\"t-1\",\"command\":{\"offset\":\"17\"},"
        "\"origin\":{\"requestDigest\":\"AQIDBA==\","
        "\"caller\":\"users-translator\","
        "\"issuedAt\":\"2026-12-01T13:00:00.250Z\"}}";
    expect(&f, want);
    size_t len = protobuf_c_message_get_packed_size(&f.base);
    uint8_t *buf = malloc(len);
    WW_ASSERT(buf);
    protobuf_c_message_pack(&f.base, buf);
    ProtobufCMessage *back = protobuf_c_message_unpack(
        &wildworkouts__events__v1__training_balance_changed__descriptor, NULL,
        len, buf);
    free(buf);
    WW_ASSERT(back);
    char *s = dump(back);
    protobuf_c_message_free_unpacked(back, NULL);
    WW_ASSERT_EQ_STR(s, want);
    free(s);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(every_scalar_type_by_the_mapping),
            WW_CASE(defaults_are_left_out_and_presence_is_kept),
            WW_CASE(floats_beyond_numbers_and_negative_zero),
            WW_CASE(bytes_are_base64_with_padding),
            WW_CASE(repeated_fields_maps_and_unknown_enum_numbers),
            WW_CASE(well_known_types),
            WW_CASE(what_the_mapping_cannot_say_is_an_error_naming_the_field),
            WW_CASE(field_names_follow_protoc_json_name),
            WW_CASE(a_fact_of_the_saga_and_its_round_trip),
            {0}});
}
