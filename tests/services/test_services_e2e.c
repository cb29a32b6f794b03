/* Every RPC of trainer.TrainerService, trainings.TrainingsService and
 * users.UsersService end to end: the real binaries as processes on the real
 * broker (each case on topics of its own), every malformed-input case of
 * the contract, every rule of the domain through the log. Cases that need
 * a training to stay PENDING run the trainer alone: without the users
 * service nobody settles it. */
#include "ww_test.h"
#include "ww_test_proc.h"
#include "ww_test_serving.h"
#include "ww_time.h"
#include "ww_trainer_stubs.h"
#include "ww_users_stubs.h"

#include <grpc/support/time.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

static ww_rpc_client_t *tcli, *ucli;
static pid_t trainer_pid, users_pid;
static char trainer_log[128], users_log[128];
static ww_err_t err;
static int status;
static ww_rpc_call_options_t o = {.timeout_ms = 15000, .grpc_status = &status};

/* Starts one binary on a free port with the case's topic prefix; returns
 * a client to it. */
static ww_rpc_client_t *start(const char *bin, const char *prefix,
                              const char *name, pid_t *pid, char *log,
                              size_t log_size) {
    int port = ww_test_proc_free_port();
    char listen[64], topics[160], instance[64];
    snprintf(listen, sizeof listen, "WW_LISTEN_ADDR=127.0.0.1:%d", port);
    snprintf(topics, sizeof topics, "WW_TOPIC_PREFIX=%s", prefix);
    snprintf(instance, sizeof instance, "WW_INSTANCE_ID=%s", name);
    snprintf(log, log_size, "/tmp/ww-e2e-%d-%s.log", (int)getpid(), name);
    const char *env[] = {"GRPC_NO_TLS=true", listen, topics, instance,
                         "WW_KAFKA_PARTITIONS=2",
                         "WW_KAFKA_SESSION_TIMEOUT_MS=6000",
                         "WW_KAFKA_TRANSACTION_TIMEOUT_MS=10000",
                         "WW_RPC_MAX_RECV_BYTES=65536", NULL};
    const char *unset[] = {"TRAINER_GRPC_ADDR", "USERS_GRPC_ADDR", NULL};
    *pid = ww_test_proc_spawn(
        (const char *[]){bin, NULL},
        &(ww_test_proc_opts_t){.unset = unset, .env = env, .stderr_path = log});
    WW_ASSERT_MSG(ww_test_proc_wait_port(port, *pid, 90000),
                  "%s did not start, see %s", bin, log);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    ww_rpc_client_t *c;
    ww_rpc_client_config_t cc = {.target = target};
    ww_err_t e;
    WW_ASSERT_EQ_INT(ww_rpc_client_new(&cc, &c, &e), WW_OK);
    WW_ASSERT_MSG(ww_test_serving_wait(c, *pid, 90000),
                  "%s never served, see %s", bin, log);
    return c;
}

/* The trainer, and users too when the case needs balances or the saga. */
static void setup_with(bool users) {
    char prefix[128];
    ww_test_unique_name(prefix, sizeof prefix, "e2e");
    strcat(prefix, ".");
    tcli = start(TRAINER_BIN, prefix, "trainer-e2e", &trainer_pid,
                 trainer_log, sizeof trainer_log);
    if (users)
        ucli = start(USERS_BIN, prefix, "users-e2e", &users_pid, users_log,
                     sizeof users_log);
}

static void setup(void) { setup_with(false); }
static void setup_users(void) { setup_with(true); }

static void teardown(void) {
    ww_rpc_client_destroy(tcli);
    ww_rpc_client_destroy(ucli);
    tcli = ucli = NULL;
    /* a clean exit (and no leak under the sanitizer build) */
    WW_ASSERT_MSG(ww_test_proc_stop(trainer_pid, SIGTERM, 30000) == 0,
                  "trainer exit, see %s", trainer_log);
    unlink(trainer_log);
    if (users_pid) {
        WW_ASSERT_MSG(ww_test_proc_stop(users_pid, SIGTERM, 30000) == 0,
                      "users exit, see %s", users_log);
        unlink(users_log);
    }
    trainer_pid = users_pid = 0;
}

static int64_t at(int y, int mo, int d, int h) {
    int64_t s;
    ww_err_t e;
    ww_time_from_utc(y, mo, d, h, &s, &e);
    return s;
}

/* ---- one-line typed calls; each returns the ww_code_t ---- */

static ww_code_t is_available(int64_t secs, int32_t nanos, bool with_time,
                              bool *avail) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = secs;
    ts.nanos = nanos;
    Trainer__IsHourAvailableRequest req =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    req.time = with_time ? &ts : NULL;
    Trainer__IsHourAvailableResponse *r = NULL;
    ww_code_t rc =
        ww_trainer_stubs_is_hour_available(tcli, &req, &r, &o, &err);
    if (r) {
        if (avail) *avail = r->is_available;
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    return rc;
}

static bool avail_at(int64_t secs) {
    bool a = false;
    WW_ASSERT_EQ_INT(is_available(secs, 0, true, &a), WW_OK);
    return a;
}

static ww_code_t update_hour(int64_t secs, bool sched, bool avail) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = secs;
    Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
    req.time = &ts;
    req.has_training_scheduled = sched;
    req.available = avail;
    Trainer__EmptyResponse *r = NULL;
    ww_code_t rc = ww_trainer_stubs_update_hour(tcli, &req, &r, &o, &err);
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

typedef ww_code_t (*hour_fn)(ww_rpc_client_t *,
                             const Trainer__UpdateHourRequest *,
                             Google__Protobuf__Empty **,
                             const ww_rpc_call_options_t *, ww_err_t *);

static ww_code_t hour_call(hour_fn fn, int64_t secs, bool with_time) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = secs;
    Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
    req.time = with_time ? &ts : NULL;
    Google__Protobuf__Empty *r = NULL;
    ww_code_t rc = fn(tcli, &req, &r, &o, &err);
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

static ww_code_t schedule(const char *uuid, const char *user, int64_t secs,
                          bool with_time, const char *notes) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = secs;
    Trainings__ScheduleTrainingRequest req =
        TRAININGS__SCHEDULE_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    req.user_id = (char *)user;
    req.time = with_time ? &ts : NULL;
    req.notes = (char *)notes;
    Trainings__ScheduleTrainingResponse *r = NULL;
    ww_code_t rc =
        ww_trainer_stubs_trainings_schedule_training(tcli, &req, &r, &o, &err);
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

static ww_code_t cancel(const char *uuid, bool by_trainer, int64_t *refund) {
    Trainings__CancelTrainingRequest req =
        TRAININGS__CANCEL_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    req.by_trainer = by_trainer;
    Trainings__CancelTrainingResponse *r = NULL;
    ww_code_t rc =
        ww_trainer_stubs_trainings_cancel_training(tcli, &req, &r, &o, &err);
    if (r) {
        if (refund) *refund = r->balance_refund;
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    return rc;
}

static ww_code_t get(const char *uuid, Trainings__Training **t) {
    Trainings__GetTrainingRequest req = TRAININGS__GET_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    *t = NULL;
    return ww_trainer_stubs_trainings_get_training(tcli, &req, t, &o, &err);
}

static ww_code_t balance(const char *user, int64_t *amount) {
    Users__GetTrainingBalanceRequest req =
        USERS__GET_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = (char *)user;
    Users__GetTrainingBalanceResponse *r = NULL;
    ww_code_t rc =
        ww_users_stubs_get_training_balance(ucli, &req, &r, &o, &err);
    if (r) {
        *amount = r->amount;
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    return rc;
}

static ww_code_t change(const char *user, int64_t delta, const char *key) {
    Users__UpdateTrainingBalanceRequest req =
        USERS__UPDATE_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = (char *)user;
    req.amount_change = delta;
    Users__EmptyResponse *r = NULL;
    ww_rpc_call_options_t ko = o;
    ko.idempotency_key = key;
    ww_code_t rc =
        ww_users_stubs_update_training_balance(ucli, &req, &r, &ko, &err);
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

#define EXPECT(call, code, text)                                               \
    do {                                                                       \
        WW_ASSERT_EQ_INT((call), (code));                                      \
        WW_ASSERT_CONTAINS(err.msg, (text));                                   \
    } while (0)

/* ---- trainer.TrainerService ---- */

WW_TEST(is_hour_available_follows_the_schedule) {
    setup();
    int64_t h = at(2030, 1, 2, 14);
    WW_ASSERT(!avail_at(h)); /* never touched: simply not available */
    WW_ASSERT_EQ_INT(
        hour_call(ww_trainer_stubs_make_hour_available, h, true), WW_OK);
    WW_ASSERT(avail_at(h));
    WW_ASSERT(avail_at(h + 1799)); /* truncated to the full hour */
    WW_ASSERT(!avail_at(at(2030, 1, 2, 3)));
    teardown();
}

WW_TEST(bad_timestamps_are_unable_to_parse_time) {
    setup();
    int64_t h = at(2030, 1, 2, 14);
    EXPECT(is_available(h, 0, false, NULL), WW_ERR_INVALID_ARGUMENT,
           "unable to parse time");
    EXPECT(is_available(h, -1, true, NULL), WW_ERR_INVALID_ARGUMENT,
           "unable to parse time");
    EXPECT(is_available(h, 1000000000, true, NULL), WW_ERR_INVALID_ARGUMENT,
           "unable to parse time");
    EXPECT(is_available(INT64_MAX, 0, true, NULL), WW_ERR_INVALID_ARGUMENT,
           "unable to parse time");
    EXPECT(is_available(INT64_MIN, 0, true, NULL), WW_ERR_INVALID_ARGUMENT,
           "unable to parse time");
    EXPECT(hour_call(ww_trainer_stubs_make_hour_available, h, false),
           WW_ERR_INVALID_ARGUMENT, "unable to parse time");
    EXPECT(schedule("6c1f2a9e-1111-4aaa-8bbb-000000000001", "u", h, false, ""),
           WW_ERR_INVALID_ARGUMENT, "unable to parse time");
    teardown();
}

WW_TEST(update_hour_keeps_the_seed_rules) {
    setup();
    int64_t h = at(2030, 1, 3, 13);
    EXPECT(update_hour(at(2030, 1, 3, 5), false, true), WW_ERR_NOT_FOUND,
           "not found");
    EXPECT(update_hour(h, true, false), WW_ERR_FAILED_PRECONDITION,
           "not available");
    WW_ASSERT_EQ_INT(update_hour(h, false, true), WW_OK);
    WW_ASSERT(avail_at(h));
    EXPECT(update_hour(h, true, true), WW_ERR_FAILED_PRECONDITION, "available");
    EXPECT(update_hour(h, false, false), WW_ERR_FAILED_PRECONDITION,
           "unavailable");
    WW_ASSERT_EQ_INT(update_hour(h, true, false), WW_OK);
    WW_ASSERT(!avail_at(h));
    /* already scheduled: the seed checks availability first */
    EXPECT(update_hour(h, true, false), WW_ERR_FAILED_PRECONDITION,
           "not available for training");
    teardown();
}

WW_TEST(later_hour_methods_schedule_cancel_and_toggle) {
    setup();
    int64_t h = at(2030, 1, 4, 15);
    EXPECT(hour_call(ww_trainer_stubs_schedule_training, at(2030, 1, 4, 2),
                     true),
           WW_ERR_NOT_FOUND, "not found");
    EXPECT(hour_call(ww_trainer_stubs_schedule_training, h, true),
           WW_ERR_FAILED_PRECONDITION, "not available");
    WW_ASSERT_EQ_INT(
        hour_call(ww_trainer_stubs_make_hour_available, h, true), WW_OK);
    WW_ASSERT_EQ_INT(hour_call(ww_trainer_stubs_schedule_training, h, true),
                     WW_OK);
    WW_ASSERT(!avail_at(h));
    EXPECT(hour_call(ww_trainer_stubs_make_hour_unavailable, h, true),
           WW_ERR_FAILED_PRECONDITION, "scheduled");
    EXPECT(hour_call(ww_trainer_stubs_make_hour_available, h, true),
           WW_ERR_FAILED_PRECONDITION, "scheduled");
    WW_ASSERT_EQ_INT(hour_call(ww_trainer_stubs_cancel_training, h, true),
                     WW_OK);
    WW_ASSERT(avail_at(h));
    EXPECT(hour_call(ww_trainer_stubs_cancel_training, h, true),
           WW_ERR_FAILED_PRECONDITION, "not scheduled");
    WW_ASSERT_EQ_INT(
        hour_call(ww_trainer_stubs_make_hour_unavailable, h, true), WW_OK);
    WW_ASSERT(!avail_at(h));
    teardown();
}

/* ---- trainings.TrainingsService ---- */

#define UUID1 "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0a01"
#define UUID2 "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0a02"

WW_TEST(schedule_training_is_idempotent_and_holds_the_hour) {
    setup();
    int64_t h = at(2030, 2, 1, 16);
    EXPECT(schedule(UUID1, "alice", h, true, "legs"),
           WW_ERR_FAILED_PRECONDITION, "not available");
    WW_ASSERT_EQ_INT(
        hour_call(ww_trainer_stubs_make_hour_available, h, true), WW_OK);
    WW_ASSERT_EQ_INT(schedule(UUID1, "alice", h, true, "legs"), WW_OK);
    WW_ASSERT(!avail_at(h));
    WW_ASSERT_EQ_INT(schedule(UUID1, "alice", h, true, "legs"),
                     WW_OK); /* retry */
    EXPECT(schedule(UUID1, "bob", h, true, "legs"), WW_ERR_ALREADY_EXISTS,
           UUID1);
    EXPECT(schedule(UUID1, "alice", h, true, "arms"), WW_ERR_ALREADY_EXISTS,
           "other content");
    EXPECT(schedule(UUID2, "bob", h, true, ""), WW_ERR_FAILED_PRECONDITION,
           "not available");
    /* no hour-only method frees or changes a held hour */
    EXPECT(hour_call(ww_trainer_stubs_cancel_training, h, true),
           WW_ERR_FAILED_PRECONDITION, "held");
    EXPECT(hour_call(ww_trainer_stubs_make_hour_available, h, true),
           WW_ERR_FAILED_PRECONDITION, "held");
    EXPECT(hour_call(ww_trainer_stubs_make_hour_unavailable, h, true),
           WW_ERR_FAILED_PRECONDITION, "held");
    EXPECT(update_hour(h, false, true), WW_ERR_FAILED_PRECONDITION, "held");
    EXPECT(update_hour(h, false, false), WW_ERR_FAILED_PRECONDITION, "held");
    Trainings__Training *t;
    WW_ASSERT_EQ_INT(get(UUID1, &t), WW_OK);
    WW_ASSERT_EQ_STR(t->training_uuid, UUID1);
    WW_ASSERT_EQ_STR(t->user_id, "alice");
    WW_ASSERT_EQ_STR(t->notes, "legs");
    WW_ASSERT_EQ_INT(t->time->seconds, h);
    WW_ASSERT_EQ_INT(t->status, TRAININGS__TRAINING_STATUS__PENDING);
    WW_ASSERT_EQ_INT(t->balance_refund, 0);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    teardown();
}

WW_TEST(malformed_training_ids_are_invalid_argument) {
    setup();
    int64_t h = at(2030, 2, 2, 12);
    EXPECT(schedule("", "alice", h, true, ""), WW_ERR_INVALID_ARGUMENT,
           "training_uuid is empty");
    EXPECT(schedule("not-a-uuid", "alice", h, true, ""),
           WW_ERR_INVALID_ARGUMENT, "not a UUID");
    EXPECT(schedule(UUID1, "", h, true, ""), WW_ERR_INVALID_ARGUMENT,
           "user_id is empty");
    Trainings__Training *t;
    EXPECT(get("", &t), WW_ERR_INVALID_ARGUMENT, "training_uuid is empty");
    EXPECT(get("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", &t),
           WW_ERR_INVALID_ARGUMENT, "not a UUID");
    EXPECT(cancel("", false, NULL), WW_ERR_INVALID_ARGUMENT,
           "training_uuid is empty");
    EXPECT(cancel("1234", false, NULL), WW_ERR_INVALID_ARGUMENT, "not a UUID");
    EXPECT(get(UUID2, &t), WW_ERR_NOT_FOUND, "not found");
    EXPECT(cancel(UUID2, false, NULL), WW_ERR_NOT_FOUND, "not found");
    teardown();
}

/* The next working hour at least 2 h but less than 24 h ahead. */
static int64_t soon_hour(void) {
    int64_t h = ww_time_truncate_hour(time(NULL)) + 2 * 3600;
    while (!ww_time_hour_in_schedule(h))
        h += 3600;
    return h;
}

WW_TEST(cancel_refunds_by_the_24_hour_rule_and_repeats_the_original) {
    setup();
    int64_t far = at(2030, 3, 1, 12), near = soon_hour();
    const char *u_far = "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0b01";
    const char *u_near = "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0b02";
    WW_ASSERT_EQ_INT(
        hour_call(ww_trainer_stubs_make_hour_available, far, true), WW_OK);
    WW_ASSERT_EQ_INT(
        hour_call(ww_trainer_stubs_make_hour_available, near, true), WW_OK);
    WW_ASSERT_EQ_INT(schedule(u_far, "carol", far, true, ""), WW_OK);
    WW_ASSERT_EQ_INT(schedule(u_near, "dave", near, true, ""), WW_OK);
    int64_t refund = -1;
    WW_ASSERT_EQ_INT(cancel(u_far, false, &refund), WW_OK);
    WW_ASSERT_EQ_INT(refund, 1);
    WW_ASSERT(avail_at(far)); /* freed again */
    refund = -1;
    WW_ASSERT_EQ_INT(cancel(u_far, true, &refund), WW_OK); /* repeated */
    WW_ASSERT_EQ_INT(refund, 1);
    refund = -1;
    WW_ASSERT_EQ_INT(cancel(u_near, true, &refund), WW_OK); /* late, trainer */
    WW_ASSERT_EQ_INT(refund, 2);
    Trainings__Training *t;
    WW_ASSERT_EQ_INT(get(u_near, &t), WW_OK);
    WW_ASSERT_EQ_INT(t->status, TRAININGS__TRAINING_STATUS__CANCELED);
    WW_ASSERT_EQ_INT(t->balance_refund, 2);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    /* late cancel by the attendee: nothing back */
    const char *u_late = "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0b03";
    WW_ASSERT_EQ_INT(schedule(u_late, "erin", near, true, ""), WW_OK);
    refund = -1;
    WW_ASSERT_EQ_INT(cancel(u_late, false, &refund), WW_OK);
    WW_ASSERT_EQ_INT(refund, 0);
    teardown();
}

/* ---- users.UsersService ---- */

WW_TEST(balances_start_at_zero_and_never_go_negative) {
    setup_users();
    int64_t a = -1;
    WW_ASSERT_EQ_INT(balance("nobody", &a), WW_OK);
    WW_ASSERT_EQ_INT(a, 0);
    WW_ASSERT_EQ_INT(change("frank", 3, NULL), WW_OK);
    EXPECT(change("frank", -4, NULL), WW_ERR_FAILED_PRECONDITION,
           "balance cannot be smaller than 0");
    WW_ASSERT_EQ_INT(balance("frank", &a), WW_OK);
    WW_ASSERT_EQ_INT(a, 3); /* nothing changed */
    WW_ASSERT_EQ_INT(change("frank", -3, NULL), WW_OK);
    WW_ASSERT_EQ_INT(balance("frank", &a), WW_OK);
    WW_ASSERT_EQ_INT(a, 0);
    EXPECT(balance("", &a), WW_ERR_INVALID_ARGUMENT, "user_id is empty");
    EXPECT(change("", 1, NULL), WW_ERR_INVALID_ARGUMENT, "user_id is empty");
    teardown();
}

WW_TEST(int64_overflow_of_a_balance_is_out_of_range) {
    setup_users();
    WW_ASSERT_EQ_INT(change("gina", INT64_MAX, NULL), WW_OK);
    EXPECT(change("gina", 1, NULL), WW_ERR_OUT_OF_RANGE, "overflow");
    EXPECT(change("gina", INT64_MIN, NULL), WW_ERR_FAILED_PRECONDITION,
           "smaller than 0");
    int64_t a;
    WW_ASSERT_EQ_INT(balance("gina", &a), WW_OK);
    WW_ASSERT_EQ_INT(a, INT64_MAX);
    teardown();
}

WW_TEST(a_repeated_idempotency_key_changes_the_balance_once) {
    setup_users();
    WW_ASSERT_EQ_INT(change("hana", 2, "topup-1"), WW_OK);
    WW_ASSERT_EQ_INT(change("hana", 2, "topup-1"), WW_OK);
    int64_t a;
    WW_ASSERT_EQ_INT(balance("hana", &a), WW_OK);
    WW_ASSERT_EQ_INT(a, 2);
    WW_ASSERT_EQ_INT(change("hana", 2, "topup-2"), WW_OK);
    WW_ASSERT_EQ_INT(balance("hana", &a), WW_OK);
    WW_ASSERT_EQ_INT(a, 4);
    teardown();
}

/* ---- transport-level bad input ---- */

static int raw(const char *path, const void *data, size_t len,
               int64_t timeout_ms) {
    uint8_t *resp = NULL;
    size_t rlen;
    ww_rpc_call_options_t ro = {.timeout_ms = timeout_ms,
                                .grpc_status = &status};
    ww_rpc_client_unary_raw(strstr(path, "/users.") == path ? ucli : tcli,
                            path, data, len, &resp, &rlen, &ro, &err);
    free(resp);
    return status;
}

WW_TEST(undecodable_unknown_oversized_and_expired_calls_get_precise_statuses) {
    setup_users();
    static const uint8_t bad[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    const char *paths[] = {"/trainer.TrainerService/IsHourAvailable",
                           "/trainer.TrainerService/UpdateHour",
                           "/trainer.TrainerService/ScheduleTraining",
                           "/trainer.TrainerService/CancelTraining",
                           "/trainer.TrainerService/MakeHourAvailable",
                           "/trainer.TrainerService/MakeHourUnavailable",
                           "/trainings.TrainingsService/ScheduleTraining",
                           "/trainings.TrainingsService/CancelTraining",
                           "/trainings.TrainingsService/GetTraining",
                           "/users.UsersService/GetTrainingBalance",
                           "/users.UsersService/UpdateTrainingBalance"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        WW_ASSERT_EQ_INT(raw(paths[i], bad, sizeof bad, 3000),
                         GRPC_STATUS_INVALID_ARGUMENT);
        WW_ASSERT_CONTAINS(err.msg, "is not a valid");
    }
    WW_ASSERT_EQ_INT(raw("/users.UsersService/DeleteUser", "", 0, 3000),
                     GRPC_STATUS_UNIMPLEMENTED);
    WW_ASSERT_CONTAINS(err.msg, "DeleteUser");
    size_t big_len = 128 * 1024;
    uint8_t *big = calloc(1, big_len);
    WW_ASSERT_EQ_INT(
        raw("/users.UsersService/GetTrainingBalance", big, big_len, 3000),
        GRPC_STATUS_RESOURCE_EXHAUSTED);
    free(big);
    /* a deadline that has passed before the server can act */
    WW_ASSERT_EQ_INT(raw("/users.UsersService/GetTrainingBalance", "", 0, -1),
                     GRPC_STATUS_DEADLINE_EXCEEDED);
    int64_t a;
    WW_ASSERT_EQ_INT(balance("still-serving", &a), WW_OK);
    teardown();
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(is_hour_available_follows_the_schedule),
            WW_CASE(bad_timestamps_are_unable_to_parse_time),
            WW_CASE(update_hour_keeps_the_seed_rules),
            WW_CASE(later_hour_methods_schedule_cancel_and_toggle),
            WW_CASE(schedule_training_is_idempotent_and_holds_the_hour),
            WW_CASE(malformed_training_ids_are_invalid_argument),
            WW_CASE(
                cancel_refunds_by_the_24_hour_rule_and_repeats_the_original),
            WW_CASE(balances_start_at_zero_and_never_go_negative),
            WW_CASE(int64_overflow_of_a_balance_is_out_of_range),
            WW_CASE(a_repeated_idempotency_key_changes_the_balance_once),
            WW_CASE(
                undecodable_unknown_oversized_and_expired_calls_get_precise_statuses),
            {0}});
}
