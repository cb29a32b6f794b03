/* test_domain_basics.c - the shared domain pieces: timestamps, ids, the
 * hash index and the canonical writer. */
#include <stdlib.h>

#include "ww_canon.h"
#include "ww_ids.h"
#include "ww_index.h"
#include "ww_test.h"
#include "ww_time.h"

WW_TEST(timestamp_validation_follows_protobuf_range) {
    static const struct {
        bool missing;
        int64_t seconds;
        int32_t nanos;
        ww_code_t want;
    } rows[] = {
        {true, 0, 0, WW_ERR_INVALID_ARGUMENT},
        {false, 0, -1, WW_ERR_INVALID_ARGUMENT},
        {false, 0, 1000000000, WW_ERR_INVALID_ARGUMENT},
        {false, 0, INT32_MIN, WW_ERR_INVALID_ARGUMENT},
        {false, WW_TIME_MIN_SECONDS - 1, 0, WW_ERR_INVALID_ARGUMENT},
        {false, WW_TIME_MAX_SECONDS + 1, 0, WW_ERR_INVALID_ARGUMENT},
        {false, INT64_MIN, 0, WW_ERR_INVALID_ARGUMENT},
        {false, INT64_MAX, 0, WW_ERR_INVALID_ARGUMENT},
        {false, WW_TIME_MIN_SECONDS, 0, WW_OK},
        {false, WW_TIME_MAX_SECONDS, 999999999, WW_OK},
        {false, 0, 0, WW_OK},
        {false, -1, 999999999, WW_OK},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_time_t t = {rows[i].seconds, rows[i].nanos};
        ww_err_t err;
        ww_err_clear(&err);
        ww_code_t rc = ww_time_validate(rows[i].missing ? NULL : &t, &err);
        WW_ASSERT_MSG(rc == rows[i].want, "row %zu: got %s", i,
                      ww_code_name(rc));
        if (rc != WW_OK) WW_ASSERT_EQ_STR(err.msg, "unable to parse time");
    }
}

WW_TEST(truncation_floors_to_the_hour_and_day) {
    static const struct {
        int64_t in, hour, day;
        int hod;
    } rows[] = {
        {0, 0, 0, 0},
        {3599, 0, 0, 0},
        {3600, 3600, 0, 1},
        {86399, 82800, 0, 23},
        {-1, -3600, -86400, 23},
        {-3600, -3600, -86400, 23},
        {-3601, -7200, -86400, 22},
        {WW_TIME_MIN_SECONDS, WW_TIME_MIN_SECONDS, WW_TIME_MIN_SECONDS, 0},
        {WW_TIME_MAX_SECONDS, WW_TIME_MAX_SECONDS - 3599,
         WW_TIME_MAX_SECONDS - 86399, 23},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        WW_ASSERT_EQ_INT(ww_time_truncate_hour(rows[i].in), rows[i].hour);
        WW_ASSERT_EQ_INT(ww_time_truncate_day(rows[i].in), rows[i].day);
        WW_ASSERT_EQ_INT(ww_time_hour_of_day(rows[i].in), rows[i].hod);
    }
    ww_time_t t = {1800000000 + 59 * 60 + 59, 999999999};
    int64_t hour = 0;
    WW_ASSERT_EQ_INT(ww_time_to_hour(&t, &hour, NULL), WW_OK);
    WW_ASSERT_EQ_INT(hour, ww_time_truncate_hour(1800000000));
}

WW_TEST(working_hours_are_twelve_to_twenty_inclusive) {
    int in = 0;
    for (int h = 0; h < 24; h++) {
        bool want = h >= 12 && h <= 20;
        WW_ASSERT_EQ_INT(ww_time_hour_in_schedule(h * 3600), want);
        /* the last second of the hour belongs to it too */
        WW_ASSERT_EQ_INT(ww_time_hour_in_schedule(h * 3600 + 3599), want);
        /* also before the epoch */
        WW_ASSERT_EQ_INT(ww_time_hour_in_schedule(-86400 * 3 + h * 3600),
                         want);
        in += want;
    }
    WW_ASSERT_EQ_INT(in, WW_TIME_WORK_HOURS_PER_DAY);
    WW_ASSERT_EQ_INT(WW_TIME_WORK_HOURS_PER_DAY, 9);
}

WW_TEST(calendar_conversion_round_trips_and_formats_rfc3339) {
    static const struct {
        int y, m, d, h;
        int64_t seconds;
        const char *text;
    } rows[] = {
        {1970, 1, 1, 0, 0, "1970-01-01T00:00:00Z"},
        {1, 1, 1, 0, WW_TIME_MIN_SECONDS, "0001-01-01T00:00:00Z"},
        {9999, 12, 31, 23, WW_TIME_MAX_SECONDS - 3599,
         "9999-12-31T23:00:00Z"},
        {2000, 2, 29, 12, 951825600, "2000-02-29T12:00:00Z"},
        {2024, 12, 31, 20, 1735675200, "2024-12-31T20:00:00Z"},
        {1969, 12, 31, 23, -3600, "1969-12-31T23:00:00Z"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t s = 0;
        WW_ASSERT_EQ_INT(ww_time_from_utc(rows[i].y, rows[i].m, rows[i].d,
                                          rows[i].h, &s, NULL),
                         WW_OK);
        WW_ASSERT_EQ_INT(s, rows[i].seconds);
        char buf[WW_TIME_FORMAT_SIZE];
        WW_ASSERT_EQ_STR(ww_time_format(s, buf), rows[i].text);
    }
    char buf[WW_TIME_FORMAT_SIZE];
    WW_ASSERT_EQ_STR(ww_time_format(WW_TIME_MAX_SECONDS, buf),
                     "9999-12-31T23:59:59Z");
    WW_ASSERT_EQ_STR(ww_time_format(WW_TIME_MAX_SECONDS + 1, buf),
                     "invalid-time");
    /* Every day of four centuries round-trips through the text. */
    int64_t s0 = 0;
    WW_ASSERT_EQ_INT(ww_time_from_utc(1900, 1, 1, 13, &s0, NULL), WW_OK);
    for (int day = 0; day < 146097; day += 7) {
        int64_t s = s0 + day * WW_TIME_DAY_SECONDS, back = 0;
        int y, m, d, h;
        ww_time_format(s, buf);
        WW_ASSERT(sscanf(buf, "%d-%d-%dT%d", &y, &m, &d, &h) == 4);
        WW_ASSERT_EQ_INT(ww_time_from_utc(y, m, d, h, &back, NULL), WW_OK);
        WW_ASSERT_EQ_INT(back, s);
    }
    static const int bad[][4] = {{2023, 2, 29, 0}, {1900, 2, 29, 0},
                                 {2024, 4, 31, 0}, {0, 1, 1, 0},
                                 {10000, 1, 1, 0}, {2024, 13, 1, 0},
                                 {2024, 1, 0, 0},  {2024, 1, 1, 24}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t s = 42;
        WW_ASSERT_EQ_INT(ww_time_from_utc(bad[i][0], bad[i][1], bad[i][2],
                                          bad[i][3], &s, NULL),
                         WW_ERR_INVALID_ARGUMENT);
        WW_ASSERT_EQ_INT(s, 42);
    }
}

WW_TEST(ids_are_checked_with_precise_messages) {
    static const struct {
        const char *uuid;
        const char *want; /* NULL = valid */
    } uuids[] = {
        {"123e4567-e89b-12d3-a456-426614174000", NULL},
        {"123E4567-E89B-12D3-A456-426614174000", NULL},
        {NULL, "training_uuid is empty"},
        {"", "training_uuid is empty"},
        {"123e4567-e89b-12d3-a456-42661417400",
         "training_uuid is not a UUID (8-4-4-4-12 hex digits): "
         "\"123e4567-e89b-12d3-a456-42661417400\""},
        {"123e4567-e89b-12d3-a456-4266141740000", "not a UUID"},
        {"123e4567e89b-12d3-a456-4266141740000", "not a UUID"},
        {"123e4567-e89b-12d3-a456_426614174000", "not a UUID"},
        {"g23e4567-e89b-12d3-a456-426614174000", "not a UUID"},
        {"{23e4567-e89b-12d3-a456-42661417400}", "not a UUID"},
        {"------------------------------------", "not a UUID"},
    };
    for (size_t i = 0; i < sizeof uuids / sizeof uuids[0]; i++) {
        ww_err_t err;
        ww_err_clear(&err);
        ww_code_t rc = ww_ids_check_training_uuid(uuids[i].uuid, &err);
        if (!uuids[i].want) {
            WW_ASSERT_MSG(rc == WW_OK, "row %zu: %s", i, err.msg);
            WW_ASSERT(ww_ids_is_uuid(uuids[i].uuid));
            continue;
        }
        WW_ASSERT_EQ_INT(rc, WW_ERR_INVALID_ARGUMENT);
        WW_ASSERT_CONTAINS(err.msg, uuids[i].want);
    }
    /* A long value is cut in the message. */
    char longid[300];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_ids_check_training_uuid(longid, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT(strlen(err.msg) < 120);

    char user[WW_IDS_USER_ID_MAX + 2];
    memset(user, 'u', sizeof user);
    user[WW_IDS_USER_ID_MAX] = '\0';
    WW_ASSERT_EQ_INT(ww_ids_check_user_id(user, &err), WW_OK);
    user[WW_IDS_USER_ID_MAX] = 'u';
    user[WW_IDS_USER_ID_MAX + 1] = '\0';
    WW_ASSERT_EQ_INT(ww_ids_check_user_id(user, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "user_id is longer than 128 bytes");
    WW_ASSERT_EQ_INT(ww_ids_check_user_id("", &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "user_id is empty");
    WW_ASSERT_EQ_INT(ww_ids_check_user_id(NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);

    char notes[WW_IDS_NOTES_MAX + 2];
    memset(notes, 'n', sizeof notes);
    notes[WW_IDS_NOTES_MAX] = '\0';
    WW_ASSERT_EQ_INT(ww_ids_check_notes(notes, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_ids_check_notes(NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_ids_check_notes("", &err), WW_OK);
    notes[WW_IDS_NOTES_MAX] = 'n';
    notes[WW_IDS_NOTES_MAX + 1] = '\0';
    WW_ASSERT_EQ_INT(ww_ids_check_notes(notes, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "notes are longer than 1000 bytes");
}

static bool i64_eq(const void *ctx, uint32_t id, const void *key) {
    return ((const int64_t *)ctx)[id] == *(const int64_t *)key;
}

WW_TEST(index_finds_every_key_and_no_other) {
    enum { N = 20000 };
    int64_t *keys = malloc(N * sizeof *keys);
    ww_index_t ix;
    ww_index_init(&ix);
    WW_ASSERT_EQ_INT(ww_index_find(&ix, 1, &(int64_t){1}, i64_eq, keys), -1);
    for (int i = 0; i < N; i++) {
        keys[i] = (int64_t)i * 3600 - 5000 * 3600; /* consecutive hours */
        WW_ASSERT_EQ_INT(
            ww_index_insert(&ix, ww_index_hash_i64(keys[i]), i, NULL), WW_OK);
    }
    WW_ASSERT_EQ_INT(ix.count, N);
    for (int i = 0; i < N; i++)
        WW_ASSERT_EQ_INT(ww_index_find(&ix, ww_index_hash_i64(keys[i]),
                                       &keys[i], i64_eq, keys),
                         i);
    ww_index_t copy;
    WW_ASSERT_EQ_INT(ww_index_clone(&copy, &ix, NULL), WW_OK);
    ww_index_destroy(&ix);
    for (int i = 0; i < N; i += 97) {
        int64_t absent = keys[i] + 1;
        WW_ASSERT_EQ_INT(ww_index_find(&copy, ww_index_hash_i64(keys[i]),
                                       &keys[i], i64_eq, keys),
                         i);
        WW_ASSERT_EQ_INT(ww_index_find(&copy, ww_index_hash_i64(absent),
                                       &absent, i64_eq, keys),
                         -1);
    }
    ww_index_destroy(&copy);
    free(keys);
    WW_ASSERT(ww_index_hash_str("a") != ww_index_hash_str("b"));
    WW_ASSERT(ww_index_hash_str("") != ww_index_hash_str("a"));
}

WW_TEST(canon_writes_big_endian_fixed_width) {
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, "AB", 2);
    ww_canon_u8(&c, 0x7f);
    ww_canon_u32(&c, 0x01020304);
    ww_canon_u64(&c, UINT64_C(0x0a0b0c0d0e0f1011));
    ww_canon_i64(&c, -2);
    ww_canon_str(&c, "xyz");
    uint8_t *out = NULL;
    size_t len = 0;
    WW_ASSERT_EQ_INT(ww_canon_finish(&c, &out, &len, NULL), WW_OK);
    static const uint8_t want[] = {
        'A',  'B',  0x7f, 1,    2,    3,    4,    0x0a, 0x0b, 0x0c,
        0x0d, 0x0e, 0x0f, 0x10, 0x11, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xfe, 0,    0,    0,    3,    'x',  'y',  'z'};
    WW_ASSERT_EQ_INT(len, sizeof want);
    WW_ASSERT(memcmp(out, want, len) == 0);
    free(out);
}

/* Removal keeps every other key findable, also inside long probe runs: the
 * keys share few hash tags, so they collide on purpose. */
static uint64_t crowded_hash(int64_t k) { return (uint64_t)(k % 7) << 32; }

WW_TEST(index_remove_keeps_other_keys_findable) {
    enum { N = 3000 };
    int64_t keys[N];
    bool gone[N] = {false};
    ww_index_t ix;
    ww_index_init(&ix);
    for (int i = 0; i < N; i++) {
        keys[i] = i;
        WW_ASSERT_EQ_INT(ww_index_insert(&ix, crowded_hash(i), i, NULL),
                         WW_OK);
    }
    WW_ASSERT(!ww_index_remove(&ix, crowded_hash(1), 2)); /* wrong hash */
    unsigned seed = 7;
    for (int round = 0; round < N / 2; round++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 8) % N);
        WW_ASSERT_EQ_INT(ww_index_remove(&ix, crowded_hash(i), i), !gone[i]);
        gone[i] = true;
    }
    size_t left = 0;
    for (int i = 0; i < N; i++) {
        left += !gone[i];
        WW_ASSERT_EQ_INT(
            ww_index_find(&ix, crowded_hash(i), &keys[i], i64_eq, keys),
            gone[i] ? -1 : i);
    }
    WW_ASSERT_EQ_INT(ix.count, left);
    ww_index_destroy(&ix);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(timestamp_validation_follows_protobuf_range),
            WW_CASE(truncation_floors_to_the_hour_and_day),
            WW_CASE(working_hours_are_twelve_to_twenty_inclusive),
            WW_CASE(calendar_conversion_round_trips_and_formats_rfc3339),
            WW_CASE(ids_are_checked_with_precise_messages),
            WW_CASE(index_finds_every_key_and_no_other),
            WW_CASE(index_remove_keeps_other_keys_findable),
            WW_CASE(canon_writes_big_endian_fixed_width),
            {0}});
}
