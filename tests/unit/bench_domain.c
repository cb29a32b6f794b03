/* bench_domain.c - how fast the domain answers, in-process (no gRPC): reads
 * that the services serve from memory and the decide+apply path of writes.
 * Bounded (about a second); run by hand: build/tests/unit/bench_domain */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ww_trainer_domain.h"
#include "ww_users_domain.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, long n, double secs) {
    printf("%-44s %9ld ops  %8.1f ns/op\n", what, n, secs * 1e9 / (double)n);
}

int main(void) {
    enum { DAYS = 3000, USERS = 100000, LOOKUPS = 2000000 };
    ww_trainer_state_t *tr = ww_trainer_state_new();
    ww_users_state_t *us = ww_users_state_new();
    if (!tr || !us) return 1;
    int64_t day0 = 0;
    ww_time_from_utc(2030, 1, 1, 0, &day0, NULL);
    ww_time_t first = {day0, 0};
    double t0 = now_s();
    if (ww_trainer_fixtures_fill(tr, &first, DAYS, NULL) != WW_OK) return 1;
    ww_trainer_counts_t tc;
    ww_trainer_counts(tr, &tc);
    report("fixtures: make hour available (decide+apply)",
           (long)tc.hours_available, now_s() - t0);

    uint64_t x = 88172645463325252u, hits = 0;
    t0 = now_s();
    for (long i = 0; i < LOOKUPS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ww_time_t t = {day0 + (int64_t)(x % (DAYS * 24u)) * 3600, 0};
        bool avail = false;
        ww_trainer_is_hour_available(tr, &t, &avail, NULL);
        hits += avail;
    }
    report("IsHourAvailable over 72000 hours", LOOKUPS, now_s() - t0);

    char id[32];
    t0 = now_s();
    for (long i = 0; i < USERS; i++) {
        snprintf(id, sizeof id, "user-%ld", i);
        ww_users_update_balance(us, id, 5, NULL);
    }
    report("UpdateTrainingBalance, new users", USERS, now_s() - t0);
    int64_t sum = 0;
    t0 = now_s();
    for (long i = 0; i < LOOKUPS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        snprintf(id, sizeof id, "user-%ld", (long)(x % USERS));
        int64_t b = 0;
        ww_users_get_balance(us, id, &b, NULL);
        sum += b;
    }
    report("GetTrainingBalance over 100000 users (+snprintf)", LOOKUPS,
           now_s() - t0);

    long booked = 0;
    t0 = now_s();
    for (long h = 0; h < DAYS * 24L; h++) {
        ww_time_t t = {day0 + h * 3600, 0};
        char uuid[WW_IDS_UUID_LEN + 1];
        snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012ld", h);
        if (ww_trainer_schedule_training(tr, uuid, "user-1", &t, "", NULL) ==
            WW_OK)
            booked++;
    }
    report("ScheduleTraining (decide+apply, incl. refusals)", DAYS * 24L,
           now_s() - t0);

    uint8_t *buf;
    size_t len;
    t0 = now_s();
    if (ww_trainer_state_serialize(tr, &buf, &len, NULL) != WW_OK) return 1;
    double ser = now_s() - t0;
    printf("%-44s %9ld trainings %6.1f ms, %zu bytes\n",
           "canonical serialisation of the trainer", booked, ser * 1e3, len);
    free(buf);
    printf("(checksums %llu %lld)\n", (unsigned long long)hits,
           (long long)sum);
    ww_trainer_state_destroy(tr);
    ww_users_state_destroy(us);
    return 0;
}
