/* wwctl_fixtures.c - the demo data through the gRPC edge, idempotently. */
#include "wwctl_fixtures.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ww_time.h"
#include "ww_trainer_domain.h"
#include "ww_trainer_stubs.h"
#include "ww_users_domain.h"
#include "ww_users_stubs.h"

enum { DAYS = 30, THREADS = 8, MAX_HOURS = DAYS * WW_TIME_WORK_HOURS_PER_DAY };

typedef struct load {
    ww_rpc_client_t *trainer;
    const ww_rpc_call_options_t *opts;
    int64_t hours[MAX_HOURS];
    int n_hours;
    atomic_int next, opened, booked, failed;
    char first_error[300];
    pthread_mutex_t mu;
} load_t;

static void note_failure(load_t *l, const ww_err_t *err) {
    atomic_fetch_add(&l->failed, 1);
    pthread_mutex_lock(&l->mu);
    if (!l->first_error[0])
        snprintf(l->first_error, sizeof l->first_error, "%s", err->msg);
    pthread_mutex_unlock(&l->mu);
}

static void *open_hours(void *arg) {
    load_t *l = arg;
    for (int i; (i = atomic_fetch_add(&l->next, 1)) < l->n_hours;) {
        char when[WW_TIME_FORMAT_SIZE], key[64];
        ww_time_format(l->hours[i], when);
        snprintf(key, sizeof key, "fixtures-hour-%s", when);
        ww_rpc_call_options_t o = *l->opts;
        o.idempotency_key = key;
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = l->hours[i];
        Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
        req.time = &ts;
        Google__Protobuf__Empty *resp = NULL;
        ww_err_t err;
        ww_code_t rc = ww_trainer_stubs_make_hour_available(l->trainer, &req,
                                                            &resp, &o, &err);
        if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
        if (rc == WW_OK)
            atomic_fetch_add(&l->opened, 1);
        else if (rc == WW_ERR_FAILED_PRECONDITION)
            atomic_fetch_add(&l->booked, 1); /* a training holds it */
        else
            note_failure(l, &err);
    }
    return NULL;
}

static int credit_users(ww_rpc_client_t *users,
                        const ww_rpc_call_options_t *opts, load_t *l) {
    int credited = 0;
    for (size_t i = 0; i < ww_users_fixture_count(); i++) {
        int64_t credits;
        const char *user = ww_users_fixture_user(i, &credits);
        char key[200];
        snprintf(key, sizeof key, "fixtures-credits-%s", user);
        ww_rpc_call_options_t o = *opts;
        o.idempotency_key = key;
        Users__UpdateTrainingBalanceRequest req =
            USERS__UPDATE_TRAINING_BALANCE_REQUEST__INIT;
        req.user_id = (char *)user;
        req.amount_change = credits;
        Users__EmptyResponse *resp = NULL;
        ww_err_t err;
        if (ww_users_stubs_update_training_balance(users, &req, &resp, &o,
                                                   &err) == WW_OK)
            credited++;
        else
            note_failure(l, &err);
        if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    return credited;
}

int wwctl_fixtures_load(ww_rpc_client_t *trainer, ww_rpc_client_t *users,
                        const ww_rpc_call_options_t *opts) {
    static load_t l; /* large; one load per process */
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    l.trainer = trainer;
    l.opts = opts;
    int64_t day0 = ww_time_truncate_day(time(NULL));
    for (int d = 0; d < DAYS; d++)
        for (int h = WW_TIME_FIRST_WORK_HOUR; h <= WW_TIME_LAST_WORK_HOUR; h++)
            if (ww_trainer_fixture_hour_available(d, h))
                l.hours[l.n_hours++] = day0 + d * WW_TIME_DAY_SECONDS +
                                       h * WW_TIME_HOUR_SECONDS;
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, open_hours, &l);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    int credited = credit_users(users, opts, &l);
    printf("fixtures: %d hours available (%d held by a training), %d users "
           "credited, %d calls failed\n",
           atomic_load(&l.opened), atomic_load(&l.booked), credited,
           atomic_load(&l.failed));
    if (atomic_load(&l.failed)) {
        fprintf(stderr, "wwctl fixtures: %s\n", l.first_error);
        return 1;
    }
    return 0;
}
