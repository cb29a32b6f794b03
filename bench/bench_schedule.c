/*
 * bench_schedule - TrainingsService.ScheduleTraining through the log, as
 * callers see it, against running services (bench/saga.sh starts them).
 *
 *   bench_schedule TRAINER_ADDR USERS_ADDR SECONDS CALLERS...
 *
 * Setup (not timed): 64 users with plenty of credits, and enough distinct
 * working hours made available (MakeHourAvailable, 64 at a time) that no
 * booking ever meets a taken hour. Each row runs CALLERS threads for
 * SECONDS, each booking the next free hour in a closed loop (one call in
 * flight per caller), and reports bookings/s and the call's p50/p99.
 * Afterwards PENDING -> SCHEDULED per booking is read from trainer.events
 * (KAFKA_BROKERS, WW_TOPIC_PREFIX): the time between the record of its
 * TrainingScheduled and of its TrainingConfirmed (both written by the
 * trainer's decider; the users' debit happens in between). Prints a
 * Markdown table.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_bus_config.h"
#include "ww_bus_envelope.h"
#include "ww_bus_registry.h"
#include "ww_bus_replay.h"
#include "ww_schemas.h"
#include "ww_trainer_stubs.h"
#include "ww_users_stubs.h"

enum { USERS = 64, MAX_ROWS = 8, MAX_CALLERS = 256 };

static ww_rpc_client_t *trainer, *users;
static int64_t *hours;
static int n_hours;
static atomic_int next_hour;

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_schedule: %s: %s\n", what, why);
    exit(1);
}

static const ww_rpc_call_options_t opts = {.timeout_ms = 30000};

static void *open_hours(void *arg) {
    (void)arg;
    for (int i; (i = atomic_fetch_add(&next_hour, 1)) < n_hours;) {
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = hours[i];
        Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
        req.time = &ts;
        Google__Protobuf__Empty *resp = NULL;
        ww_err_t err;
        if (ww_trainer_stubs_make_hour_available(trainer, &req, &resp, &opts,
                                                 &err) != WW_OK)
            die("MakeHourAvailable", err.msg);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    return NULL;
}

typedef struct caller {
    int row, id;
    int64_t until;
    int64_t *lat;
    size_t n, cap;
    int failed;
} caller_t;

static void *book(void *arg) {
    caller_t *c = arg;
    char user[32];
    snprintf(user, sizeof user, "bench-%d", c->id % USERS);
    while (now_us() < c->until) {
        int i = atomic_fetch_add(&next_hour, 1);
        if (i >= n_hours) die("hours", "ran out: raise the estimate");
        char uuid[40];
        /* the row and the hour's index in the uuid, for the saga's join */
        snprintf(uuid, sizeof uuid, "%08x-0000-4000-8000-%012x", c->row, i);
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = hours[i];
        Trainings__ScheduleTrainingRequest req =
            TRAININGS__SCHEDULE_TRAINING_REQUEST__INIT;
        req.training_uuid = uuid;
        req.user_id = user;
        req.time = &ts;
        Trainings__ScheduleTrainingResponse *resp = NULL;
        ww_err_t err;
        int64_t t0 = now_us();
        ww_code_t rc = ww_trainer_stubs_trainings_schedule_training(
            trainer, &req, &resp, &opts, &err);
        int64_t dt = now_us() - t0;
        if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
        if (rc != WW_OK) {
            c->failed++;
            continue;
        }
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 4096;
            c->lat = realloc(c->lat, c->cap * sizeof *c->lat);
        }
        c->lat[c->n++] = dt;
    }
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct(int64_t *v, size_t n, double p) {
    return n ? v[(size_t)((double)(n - 1) * p)] / 1000.0 : 0;
}

/* PENDING -> SCHEDULED: record timestamps (ms) by hour index. */
static int64_t *scheduled_at, *confirmed_at;
static const ww_bus_registry_t *registry;

static ww_code_t on_fact(void *opaque, const rd_kafka_message_t *rec,
                         ww_err_t *err) {
    (void)opaque, (void)err;
    ww_bus_event_t ev = {0};
    if (ww_bus_envelope_decode_message(rec, registry, &ev, NULL) == WW_OK) {
        const char *uuid = NULL;
        int64_t *at = NULL;
        if (ev.descriptor ==
            &wildworkouts__events__v1__training_scheduled__descriptor) {
            uuid = ((Wildworkouts__Events__V1__TrainingScheduled *)ev.payload)
                       ->training_uuid;
            at = scheduled_at;
        } else if (ev.descriptor ==
                   &wildworkouts__events__v1__training_confirmed__descriptor) {
            uuid = ((Wildworkouts__Events__V1__TrainingConfirmed *)ev.payload)
                       ->training_uuid;
            at = confirmed_at;
        }
        unsigned i;
        if (uuid && strlen(uuid) == 36 && sscanf(uuid + 24, "%12x", &i) == 1 &&
            (int)i < n_hours)
            at[i] = rd_kafka_message_timestamp(rec, NULL);
    }
    ww_bus_event_clear(&ev);
    return WW_OK;
}

int main(int argc, char **argv) {
    if (argc < 5) die("usage", "TRAINER_ADDR USERS_ADDR SECONDS CALLERS...");
    int seconds = atoi(argv[3]);
    int rows[MAX_ROWS], n_rows = 0;
    for (int i = 4; i < argc && n_rows < MAX_ROWS; i++) rows[n_rows++] = atoi(argv[i]);
    ww_err_t err;
    ww_rpc_client_config_t tc = {.target = argv[1]}, uc = {.target = argv[2]};
    if (ww_rpc_client_new(&tc, &trainer, &err) ||
        ww_rpc_client_new(&uc, &users, &err))
        die("connect", err.msg);
    for (int u = 0; u < USERS; u++) {
        char user[32];
        snprintf(user, sizeof user, "bench-%d", u);
        Users__UpdateTrainingBalanceRequest req =
            USERS__UPDATE_TRAINING_BALANCE_REQUEST__INIT;
        req.user_id = user;
        req.amount_change = 1000000;
        Users__EmptyResponse *resp = NULL;
        if (ww_users_stubs_update_training_balance(users, &req, &resp, &opts,
                                                   &err) != WW_OK)
            die("credit", err.msg);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    /* Enough hours for 3000 bookings/s over every row, from 2100 on. */
    n_hours = 3000 * seconds * n_rows + 1000;
    hours = calloc((size_t)n_hours, sizeof *hours);
    for (int i = 0; i < n_hours; i++)
        hours[i] = INT64_C(4102444800) /* 2100-01-01 */ +
                   (int64_t)(i / 9) * 86400 + (12 + i % 9) * 3600;
    int64_t t0 = now_us();
    pthread_t th[MAX_CALLERS];
    for (int i = 0; i < 64; i++) pthread_create(&th[i], NULL, open_hours, NULL);
    for (int i = 0; i < 64; i++) pthread_join(th[i], NULL);
    fprintf(stderr, "setup: %d hours made available in %.1f s (%.0f/s)\n",
            n_hours, (now_us() - t0) / 1e6, n_hours / ((now_us() - t0) / 1e6));
    atomic_store(&next_hour, 0);
    int first_of_row[MAX_ROWS + 1];
    double rate[MAX_ROWS], p50[MAX_ROWS], p99[MAX_ROWS];
    int failed[MAX_ROWS];
    for (int r = 0; r < n_rows; r++) {
        int nc = rows[r] < MAX_CALLERS ? rows[r] : MAX_CALLERS;
        caller_t *cs = calloc((size_t)nc, sizeof *cs);
        first_of_row[r] = atomic_load(&next_hour);
        int64_t start = now_us(), until = start + (int64_t)seconds * 1000000;
        for (int i = 0; i < nc; i++) {
            cs[i] = (caller_t){.row = r, .id = i, .until = until};
            pthread_create(&th[i], NULL, book, &cs[i]);
        }
        for (int i = 0; i < nc; i++) pthread_join(th[i], NULL);
        double secs = (now_us() - start) / 1e6;
        size_t total = 0;
        failed[r] = 0;
        for (int i = 0; i < nc; i++) total += cs[i].n, failed[r] += cs[i].failed;
        int64_t *all = malloc((total + 1) * sizeof *all);
        size_t k = 0;
        for (int i = 0; i < nc; i++) {
            memcpy(all + k, cs[i].lat, cs[i].n * sizeof *all);
            k += cs[i].n;
            free(cs[i].lat);
        }
        qsort(all, total, sizeof *all, cmp64);
        rate[r] = total / secs;
        p50[r] = pct(all, total, 0.50);
        p99[r] = pct(all, total, 0.99);
        free(all);
        free(cs);
    }
    first_of_row[n_rows] = atomic_load(&next_hour);
    /* the saga's second half: wait for the confirmations to land */
    struct timespec pause = {3, 0};
    nanosleep(&pause, NULL);
    scheduled_at = calloc((size_t)n_hours, sizeof *scheduled_at);
    confirmed_at = calloc((size_t)n_hours, sizeof *confirmed_at);
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    char topic[256];
    ww_bus_registry_t *reg = ww_bus_registry_new();
    size_t nd;
    const ProtobufCMessageDescriptor *const *d = ww_schemas_trainer_events(&nd);
    ww_bus_registry_add_all(reg, d, nd, &err);
    registry = reg;
    if (!bus || ww_bus_config_topic_name(bus, "trainer.events", topic,
                                         sizeof topic, &err))
        die("bus", err.msg);
    ww_bus_replay_config_t rc = {.topic = topic, .handler = on_fact,
                                 .timeout_ms = 120000};
    ww_bus_replay_stats_t st;
    if (ww_bus_replay_run(bus, &rc, &st, &err) != WW_OK) die("replay", err.msg);
    printf("| callers | bookings/s | call p50 ms | call p99 ms | PENDING→"
           "SCHEDULED p50 ms | p99 ms | refused |\n"
           "|---|---|---|---|---|---|---|\n");
    for (int r = 0; r < n_rows; r++) {
        int lo = first_of_row[r], hi = first_of_row[r + 1];
        int64_t *saga = malloc((size_t)(hi - lo + 1) * sizeof *saga);
        size_t n = 0;
        for (int i = lo; i < hi; i++)
            if (scheduled_at[i] && confirmed_at[i])
                saga[n++] = (confirmed_at[i] - scheduled_at[i]) * 1000;
        qsort(saga, n, sizeof *saga, cmp64);
        printf("| %d | %.0f | %.1f | %.1f | %.0f | %.0f | %d |\n", rows[r],
               rate[r], p50[r], p99[r], pct(saga, n, 0.5), pct(saga, n, 0.99),
               failed[r]);
        free(saga);
    }
    ww_bus_registry_destroy(reg);
    ww_bus_config_destroy(bus);
    ww_rpc_client_destroy(trainer);
    ww_rpc_client_destroy(users);
    free(hours);
    return 0;
}
