/* trainer_test_util.h - helpers shared by the trainer's unit test files:
 * fixed test times, hour states to start from, state snapshots. */
#ifndef TRAINER_TEST_UTIL_H
#define TRAINER_TEST_UTIL_H

#include <stdlib.h>

#include "ww_test.h"
#include "ww_trainer_domain.h"

/* Monday 2030-01-07, 00:00 UTC: the tests' day 0. */
static inline int64_t day0(void) {
    int64_t s = 0;
    if (ww_time_from_utc(2030, 1, 7, 0, &s, NULL) != WW_OK) abort();
    return s;
}

static inline ww_time_t at(int day, int hour) {
    return (ww_time_t){day0() + day * WW_TIME_DAY_SECONDS +
                           hour * WW_TIME_HOUR_SECONDS,
                       0};
}

static inline const char *uuid_n(int n, char buf[WW_IDS_UUID_LEN + 1]) {
    snprintf(buf, WW_IDS_UUID_LEN + 1, "00000000-0000-4000-8000-%012d", n);
    return buf;
}

#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"

/* The four states of an hour a test starts from. */
enum start { NA, AV, SC, HELD };
static const char *const start_name[] = {"NA", "AV", "SC", "HELD"};

static inline void prepare(ww_trainer_state_t *s, ww_time_t t, enum start st) {
    ww_err_t err;
    if (st == NA) return;
    WW_ASSERT_EQ_INT(ww_trainer_make_hour_available(s, &t, &err), WW_OK);
    if (st == SC)
        WW_ASSERT_EQ_INT(ww_trainer_schedule_hour(s, &t, &err), WW_OK);
    if (st == HELD)
        WW_ASSERT_EQ_INT(
            ww_trainer_schedule_training(s, U1, "attendee", &t, "", &err),
            WW_OK);
}

static inline enum start state_of(const ww_trainer_state_t *s, ww_time_t t) {
    ww_trainer_hour_view_t v;
    ww_trainer_get_hour(s, t.seconds, &v);
    WW_ASSERT(!(v.available && v.has_training_scheduled));
    if (v.held_by) return HELD;
    if (v.has_training_scheduled) return SC;
    return v.available ? AV : NA;
}

/* Digest input of a state, for "nothing changed" checks. */
typedef struct {
    uint8_t *b;
    size_t n;
} bytes_t;

static inline bytes_t snap(const ww_trainer_state_t *s) {
    bytes_t x = {0};
    WW_ASSERT_EQ_INT(ww_trainer_state_serialize(s, &x.b, &x.n, NULL), WW_OK);
    return x;
}

static inline bool same(bytes_t a, bytes_t b) {
    bool eq = a.n == b.n && memcmp(a.b, b.b, a.n) == 0;
    free(a.b);
    free(b.b);
    return eq;
}

/* Cases of test_trainer_fold.c, run by test_trainer_domain's main. */
extern const ww_test_case_t trainer_fold_cases[];

#endif
