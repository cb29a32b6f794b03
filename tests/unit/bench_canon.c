/* bench_canon.c - how long restoring a state from its canonical bytes
 * takes (the snapshot path), next to serialising it: 100,000 users and
 * 18,000 trainings. Bounded (about a second); run by hand:
 * build/tests/unit/bench_canon */
#include "ww_trainer_domain.h"
#include "ww_users_domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { REPS = 5 };

typedef ww_code_t (*ser_fn)(const void *s, uint8_t **out, size_t *len);
typedef ww_code_t (*de_fn)(const uint8_t *b, size_t n, void **out);
typedef void (*destroy_fn)(void *s);

/* Best of REPS for serialising `s` and reading the bytes back. */
static int measure(const char *what, const void *s, ser_fn ser, de_fn de,
                   destroy_fn destroy) {
    double best_ser = 1e9, best_de = 1e9;
    size_t len = 0;
    for (int i = 0; i < REPS; i++) {
        uint8_t *b;
        double t0 = now_s();
        if (ser(s, &b, &len) != WW_OK) return 1;
        double t1 = now_s();
        void *back;
        if (de(b, len, &back) != WW_OK) return 1;
        double t2 = now_s();
        destroy(back);
        free(b);
        if (t1 - t0 < best_ser) best_ser = t1 - t0;
        if (t2 - t1 < best_de) best_de = t2 - t1;
    }
    printf("%-34s %8zu bytes  serialise %6.1f ms  deserialise %6.1f ms\n", what,
           len, best_ser * 1e3, best_de * 1e3);
    return 0;
}

static ww_code_t users_ser(const void *s, uint8_t **out, size_t *len) {
    return ww_users_state_serialize(s, out, len, NULL);
}
static ww_code_t users_de(const uint8_t *b, size_t n, void **out) {
    return ww_users_state_deserialize(b, n, (ww_users_state_t **)out, NULL);
}
static void users_destroy(void *s) {
    ww_users_state_destroy(s);
}
static ww_code_t trainer_ser(const void *s, uint8_t **out, size_t *len) {
    return ww_trainer_state_serialize(s, out, len, NULL);
}
static ww_code_t trainer_de(const uint8_t *b, size_t n, void **out) {
    return ww_trainer_state_deserialize(b, n, (ww_trainer_state_t **)out, NULL);
}
static void trainer_destroy(void *s) {
    ww_trainer_state_destroy(s);
}

int main(void) {
    enum { USERS = 100000, DAYS = 3000 };
    ww_users_state_t *us = ww_users_state_new();
    ww_trainer_state_t *tr = ww_trainer_state_new();
    if (!us || !tr) return 1;
    char id[32], uuid[WW_IDS_UUID_LEN + 1];
    for (long i = 0; i < USERS; i++) {
        snprintf(id, sizeof id, "user-%ld", i);
        if (ww_users_update_balance(us, id, 5, NULL) != WW_OK) return 1;
        if (i % 10 == 0) { /* a debit for every tenth user */
            snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012ld", i);
            ww_users_debit_for_training(us, id, uuid, NULL, NULL);
        }
    }
    int64_t day0 = 0;
    ww_time_from_utc(2030, 1, 1, 0, &day0, NULL);
    ww_time_t first = {day0, 0};
    if (ww_trainer_fixtures_fill(tr, &first, DAYS, NULL) != WW_OK) return 1;
    long booked = 0;
    for (long h = 0; h < DAYS * 24L; h++) {
        ww_time_t t = {day0 + h * 3600, 0};
        snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012ld", h);
        if (ww_trainer_schedule_training(tr, uuid, "user-1", &t, "", NULL) ==
            WW_OK)
            booked++;
    }
    ww_trainer_counts_t c;
    ww_trainer_counts(tr, &c);
    printf("users: %d users, %d debits; trainer: %ld trainings, %zu hours\n",
           USERS, USERS / 10, booked, c.hours_scheduled + c.hours_available);
    int rc =
        measure("users state", us, users_ser, users_de, users_destroy) ||
        measure("trainer state", tr, trainer_ser, trainer_de, trainer_destroy);
    ww_users_state_destroy(us);
    ww_trainer_state_destroy(tr);
    return rc;
}
