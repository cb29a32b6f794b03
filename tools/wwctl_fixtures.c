/* wwctl_fixtures.c - `wwctl fixtures`: the demo data loaded through the
 * gRPC edge like any client would, idempotently: 30 days of hours from
 * today (UTC) made available by the fixture pattern of the trainer's
 * domain, and the fixture users credited. Every call carries an
 * idempotency key naming what it loads ("fixtures-hour-<time>",
 * "fixtures-credits-<user>"), so a second run changes nothing. The calls
 * run from a few threads of its own over the two (thread-safe) clients. */
#include "ww_host_security.h"
#include "ww_time.h"
#include "ww_trainer_domain.h"
#include "ww_trainer_stubs.h"
#include "ww_users_domain.h"
#include "ww_users_stubs.h"
#include "wwctl_cmd.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* Loads the fixtures through `trainer` and `users`; prints one summary
 * (text or JSON). Returns the exit status: 0, or 1 when a call failed other
 * than on an hour that is booked already. */
static int load_fixtures(const wwctl_ctx_t *ctx, ww_rpc_client_t *trainer,
                         ww_rpc_client_t *users,
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
                l.hours[l.n_hours++] =
                    day0 + d * WW_TIME_DAY_SECONDS + h * WW_TIME_HOUR_SECONDS;
    pthread_t th[THREADS];
    int started = 0;
    for (; started < THREADS; started++)
        if (pthread_create(&th[started], NULL, open_hours, &l) != 0) break;
    if (started == 0) open_hours(&l); /* no thread: this one does it all */
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    int credited = credit_users(users, opts, &l);
    int opened = atomic_load(&l.opened), booked = atomic_load(&l.booked),
        failed = atomic_load(&l.failed);
    int rc = WWCTL_EXIT_OK;
    if (ctx->json) {
        if (wwctl_cmd_print_json(
                json_pack("{s:i,s:i,s:i,s:i}", "hours_available", opened,
                          "held_by_training", booked, "users_credited",
                          credited, "calls_failed", failed)) != 0)
            rc = WWCTL_EXIT_FAILED;
    } else {
        printf("fixtures: %d hours available (%d held by a training), %d "
               "users credited, %d calls failed\n",
               opened, booked, credited, failed);
        fflush(stdout);
    }
    if (failed) {
        ww_err_t err;
        ww_err_set(&err, WW_ERR_UNAVAILABLE, "%d calls failed, the first: %s",
                   failed, l.first_error);
        rc = wwctl_cmd_fail_call(ctx, &err);
    }
    pthread_mutex_destroy(&l.mu);
    return rc;
}

static int fixtures_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    static const struct option none[] = {{0}};
    if (wwctl_cmd_getopt(ctx, argc, argv, "", none) != -1 ||
        !wwctl_cmd_operands(ctx, argc, argv, optind, "", 0, 0))
        return WWCTL_EXIT_USAGE;
    ww_rpc_client_t *t = NULL, *u = NULL;
    ww_err_t err;
    if (ww_host_security_dial_env("TRAINER_GRPC_ADDR", &t, &err) != WW_OK ||
        ww_host_security_dial_env("USERS_GRPC_ADDR", &u, &err) != WW_OK) {
        ww_rpc_client_destroy(t);
        return wwctl_cmd_fail_config(ctx, &err);
    }
    ww_rpc_call_options_t opts = wwctl_cmd_call_options(ctx);
    opts.idempotency_key = NULL; /* each call names its own */
    int rc = load_fixtures(ctx, t, u, &opts);
    ww_rpc_client_destroy(u);
    ww_rpc_client_destroy(t);
    return rc;
}

const wwctl_cmd_t wwctl_fixtures_cmd = {
    .name = "fixtures",
    .synopsis = "fixtures",
    .summary = "load the demo data through both services, idempotently",
    .help =
        "Opens 30 days of hours from today (UTC) in the fixture pattern of "
        "the\ntrainer's domain and credits the demo users, through the "
        "services' gRPC\nedge. Every call carries an idempotency key naming "
        "what it loads\n(fixtures-hour-<time>, fixtures-credits-<user>): "
        "running it twice changes\nnothing; an hour a training holds "
        "already is counted, not failed.\n"
        "--idempotency-key is not used (each call has its own).\n"
        "Environment:\n"
        "  TRAINER_GRPC_ADDR, USERS_GRPC_ADDR   where the services "
        "are\n" WWCTL_HELP_GRPC_ENV
        "Output: fixtures: N hours available (N held by a training), N users "
        "credited,\nN calls failed; with --json "
        "{\"hours_available\":N,\"held_by_training\":N,\n"
        "\"users_credited\":N,\"calls_failed\":N}.\n"
        "Exit status: 0 loaded; 1 a call failed (the first failure on "
        "stderr); 2 the\ncommand line or the environment is wrong.\n",
    .run = fixtures_run,
};
