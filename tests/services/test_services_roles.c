/* The role table through the real trainer and users binaries, with TLS and
 * signed tokens (services_auth_fixture.h has who holds which role): row by
 * row, every refusal is PERMISSION_DENIED and changes nothing; a flood of
 * refused calls with fresh idempotency keys cannot make a retried write
 * apply twice; a blank caller list denies everyone; an email matches only
 * when verified and from its own issuer; the facts record who asked. */
#include "auth_fixture.h"
#include "services_auth_fixture.h"
#include "ww_bus_envelope.h"
#include "ww_bus_replay.h"
#include "ww_host_admin.h"
#include "ww_schemas.h"
#include "ww_test.h"
#include "ww_test_proc.h"
#include "ww_trainer_stubs.h"
#include "ww_users_stubs.h"

#include <signal.h>

static ww_rpc_call_options_t opts = {.timeout_ms = 10000};

/* Hours within the trainer's working day, unused by test_services_auth. */
#define HOUR_29 1927465200 /* 2031-01-29T15:00:00Z */
#define HOUR_30 1927551600 /* 2031-01-30T15:00:00Z */

/* A client of `port` ("localhost" for the trainer, "127.0.0.1" for users)
 * sending `token` (taken) as its bearer token. */
static ww_rpc_client_t *as(const char *host, int port, char *token) {
    char *auth = sfx_bearer(token);
    ww_rpc_client_t *c = sfx_dial(host, port, "ca.pem", auth);
    free(auth);
    return c;
}

static ww_rpc_client_t *users_as(char *token) {
    return as("127.0.0.1", sfx_users_port, token);
}

static ww_rpc_client_t *trainer_as(char *token) {
    return as("localhost", sfx_trainer_port, token);
}

/* ---- users ---- */

static ww_code_t get_balance(ww_rpc_client_t *c, const char *user,
                             int64_t *amount, ww_err_t *err) {
    Users__GetTrainingBalanceRequest req =
        USERS__GET_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = (char *)user;
    Users__GetTrainingBalanceResponse *resp = NULL;
    ww_code_t rc =
        ww_users_stubs_get_training_balance(c, &req, &resp, &opts, err);
    if (resp) {
        *amount = resp->amount;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    return rc;
}

static ww_code_t change_balance(ww_rpc_client_t *c, const char *user,
                                int64_t change, const char *key,
                                ww_err_t *err) {
    Users__UpdateTrainingBalanceRequest req =
        USERS__UPDATE_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = (char *)user;
    req.amount_change = change;
    Users__EmptyResponse *resp = NULL;
    ww_rpc_call_options_t o = opts;
    o.idempotency_key = key;
    ww_code_t rc =
        ww_users_stubs_update_training_balance(c, &req, &resp, &o, err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

static ww_rpc_client_t *users_service(void) {
    return users_as(sfx_token_as(USERS_AUD, FX_EMAIL));
}

/* The balance as a service reads it. */
static int64_t balance_of(const char *user) {
    ww_rpc_client_t *c = users_service();
    int64_t amount = -1;
    ww_err_t err = {0};
    ww_code_t rc = get_balance(c, user, &amount, &err);
    ww_rpc_client_destroy(c);
    WW_ASSERT_MSG(rc == WW_OK, "balance of %s: %s", user, err.msg);
    return amount;
}

WW_TEST(a_user_reads_only_its_own_balance) {
    sfx_setup();
    ww_rpc_client_t *svc = users_service();
    ww_err_t err = {0};
    WW_ASSERT_MSG(change_balance(svc, ANN, 5, NULL, &err) == WW_OK, "%s",
                  err.msg);
    int64_t ann = balance_of(ANN);
    WW_ASSERT(ann >= 5);

    ww_rpc_client_t *bob = users_as(sfx_token_sub(USERS_AUD, BOB));
    int64_t seen = -1;
    WW_ASSERT_EQ_INT(get_balance(bob, ANN, &seen, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "acts for user \"" BOB "\" only");
    WW_ASSERT_EQ_INT(seen, -1);
    WW_ASSERT_EQ_INT(get_balance(bob, BOB, &seen, &err), WW_OK);

    /* a user cannot grant itself credits either */
    ww_rpc_client_t *self = users_as(sfx_token_sub(USERS_AUD, ANN));
    WW_ASSERT_EQ_INT(get_balance(self, ANN, &seen, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen, ann);
    WW_ASSERT_EQ_INT(change_balance(self, ANN, 100, NULL, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(change_balance(bob, ANN, -5, NULL, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(balance_of(ANN), ann); /* state unchanged */

    /* a service acts for anyone */
    WW_ASSERT_EQ_INT(get_balance(svc, ANN, &seen, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen, ann);
    ww_rpc_client_destroy(svc);
    ww_rpc_client_destroy(bob);
    ww_rpc_client_destroy(self);
}

/* ---- trainer hours ---- */

static ww_code_t hour_call(ww_rpc_client_t *c, bool available, int64_t t,
                           ww_err_t *err) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = t;
    Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
    req.time = &ts;
    Google__Protobuf__Empty *resp = NULL;
    ww_code_t rc =
        available
            ? ww_trainer_stubs_make_hour_available(c, &req, &resp, &opts, err)
            : ww_trainer_stubs_make_hour_unavailable(c, &req, &resp, &opts,
                                                     err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

static bool is_available(ww_rpc_client_t *c, int64_t t) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = t;
    Trainer__IsHourAvailableRequest req =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    req.time = &ts;
    Trainer__IsHourAvailableResponse *resp = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_trainer_stubs_is_hour_available(c, &req, &resp, &opts,
                                                     &err) == WW_OK,
                  "%s", err.msg);
    bool v = resp->is_available;
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return v;
}

WW_TEST(hours_change_for_trainers_and_services_only) {
    sfx_setup();
    const int64_t hour = HOUR_29; /* 2031-01-29T15:00:00Z */
    ww_rpc_client_t *trainer =
        trainer_as(sfx_token_as(TRAINER_AUD, TRAINER_ID));
    ww_rpc_client_t *ann = trainer_as(sfx_token_sub(TRAINER_AUD, ANN));
    ww_rpc_client_t *stranger = trainer_as(sfx_token_as(TRAINER_AUD, STRANGER));
    ww_err_t err = {0};
    WW_ASSERT_MSG(hour_call(trainer, true, hour, &err) == WW_OK, "%s", err.msg);
    WW_ASSERT(is_available(ann, hour)); /* everyone with a role may ask */
    WW_ASSERT_EQ_INT(hour_call(ann, false, hour, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "role user");
    WW_ASSERT_EQ_INT(hour_call(stranger, false, hour, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "no role");
    WW_ASSERT(is_available(trainer, hour)); /* state unchanged */
    WW_ASSERT_MSG(hour_call(trainer, false, hour, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT(!is_available(trainer, hour));
    ww_rpc_client_destroy(trainer);
    ww_rpc_client_destroy(ann);
    ww_rpc_client_destroy(stranger);
}

/* ---- trainings ---- */

static ww_code_t schedule(ww_rpc_client_t *c, const char *uuid,
                          const char *user, int64_t t, ww_err_t *err) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = t;
    Trainings__ScheduleTrainingRequest req =
        TRAININGS__SCHEDULE_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    req.user_id = (char *)user;
    req.time = &ts;
    req.notes = "knee surgery in May";
    Trainings__ScheduleTrainingResponse *resp = NULL;
    ww_code_t rc = ww_trainer_stubs_trainings_schedule_training(c, &req, &resp,
                                                                &opts, err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

/* GetTraining; on OK the notes and status are copied out. */
static ww_code_t get(ww_rpc_client_t *c, const char *uuid, char *notes,
                     size_t size, int *status, ww_err_t *err) {
    Trainings__GetTrainingRequest req = TRAININGS__GET_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    Trainings__Training *t = NULL;
    ww_code_t rc =
        ww_trainer_stubs_trainings_get_training(c, &req, &t, &opts, err);
    if (t) {
        snprintf(notes, size, "%s", t->notes);
        *status = t->status;
        protobuf_c_message_free_unpacked(&t->base, NULL);
    }
    return rc;
}

static ww_code_t cancel(ww_rpc_client_t *c, const char *uuid, bool by_trainer,
                        ww_err_t *err) {
    Trainings__CancelTrainingRequest req =
        TRAININGS__CANCEL_TRAINING_REQUEST__INIT;
    req.training_uuid = (char *)uuid;
    req.by_trainer = by_trainer;
    Trainings__CancelTrainingResponse *resp = NULL;
    ww_code_t rc =
        ww_trainer_stubs_trainings_cancel_training(c, &req, &resp, &opts, err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

static int status_of(ww_rpc_client_t *c, const char *uuid) {
    char notes[256];
    int status = -1;
    ww_err_t err = {0};
    WW_ASSERT_MSG(get(c, uuid, notes, sizeof notes, &status, &err) == WW_OK,
                  "%s", err.msg);
    return status;
}

WW_TEST(trainings_are_their_users_own) {
    sfx_setup();
    const char *uuid = "5d0c1a4e-7b2f-4c3d-8e9f-0a1b2c3d4e5f";
    const int64_t hour = HOUR_30; /* 2031-01-30T15:00:00Z */
    ww_rpc_client_t *svc = trainer_as(sfx_token_as(TRAINER_AUD, FX_EMAIL));
    ww_rpc_client_t *trainer =
        trainer_as(sfx_token_as(TRAINER_AUD, TRAINER_ID));
    ww_rpc_client_t *ann = trainer_as(sfx_token_sub(TRAINER_AUD, ANN));
    ww_rpc_client_t *bob = trainer_as(sfx_token_sub(TRAINER_AUD, BOB));
    ww_err_t err = {0};
    WW_ASSERT_MSG(hour_call(svc, true, hour, &err) == WW_OK, "%s", err.msg);
    /* booking: for oneself only; a trainer books for nobody */
    WW_ASSERT_EQ_INT(schedule(bob, uuid, ANN, hour, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(schedule(trainer, uuid, ANN, hour, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT(is_available(svc, hour)); /* nothing was booked */
    WW_ASSERT_MSG(schedule(ann, uuid, ANN, hour, &err) == WW_OK, "%s", err.msg);

    /* reading: the owner, the trainer and services see the notes */
    char notes[256] = "";
    int status = -1;
    WW_ASSERT_EQ_INT(get(bob, uuid, notes, sizeof notes, &status, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "belongs to another user");
    WW_ASSERT_EQ_STR(notes, "");
    WW_ASSERT(!strstr(err.msg, "knee"));
    WW_ASSERT_EQ_INT(get(ann, uuid, notes, sizeof notes, &status, &err), WW_OK);
    WW_ASSERT_EQ_STR(notes, "knee surgery in May");
    WW_ASSERT_EQ_INT(get(trainer, uuid, notes, sizeof notes, &status, &err),
                     WW_OK);

    /* cancelling: not someone else's, not as the trainer when a user, and
     * a trainer only as the trainer */
    WW_ASSERT_EQ_INT(cancel(bob, uuid, false, &err), WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(cancel(ann, uuid, true, &err), WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(cancel(trainer, uuid, false, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(status_of(svc, uuid), TRAININGS__TRAINING_STATUS__PENDING);
    WW_ASSERT_MSG(cancel(ann, uuid, false, &err) == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_INT(status_of(svc, uuid),
                     TRAININGS__TRAINING_STATUS__CANCELED);
    /* a user's cancel of a training nobody here knows is NOT_FOUND */
    WW_ASSERT_EQ_INT(
        cancel(bob, "6e1d2b5f-8c3a-4d4e-9fa0-1b2c3d4e5f60", false, &err),
        WW_ERR_NOT_FOUND);
    ww_rpc_client_destroy(svc);
    ww_rpc_client_destroy(trainer);
    ww_rpc_client_destroy(ann);
    ww_rpc_client_destroy(bob);
}

WW_TEST(the_digest_is_for_services_only) {
    sfx_setup();
    ww_rpc_client_t *ann = trainer_as(sfx_token_sub(TRAINER_AUD, ANN));
    ww_rpc_client_t *svc = trainer_as(sfx_token_as(TRAINER_AUD, FX_EMAIL));
    Wildworkouts__Admin__V1__GetDigestRequest req =
        WILDWORKOUTS__ADMIN__V1__GET_DIGEST_REQUEST__INIT;
    Wildworkouts__Admin__V1__GetDigestResponse *resp = NULL;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_host_admin_get_digest(ann, &req, &resp, &opts, &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT(resp == NULL);
    WW_ASSERT_MSG(ww_host_admin_get_digest(svc, &req, &resp, &opts, &err) ==
                      WW_OK,
                  "%s", err.msg);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    ww_rpc_client_destroy(ann);
    ww_rpc_client_destroy(svc);
}

/* ---- idempotency ---- */

/* The review's trigger: 10,000 calls with fresh keys and a token outside
 * the caller list (and more from a user the table refuses), then a
 * legitimate client retries its UpdateTrainingBalance after a "timeout":
 * applied once. The same key with another amount is INVALID_ARGUMENT. */
WW_TEST(a_flood_of_refused_keys_never_makes_a_retry_apply_twice) {
    sfx_setup();
    const char *victim = "retry-victim";
    ww_rpc_client_t *svc = users_service();
    ww_err_t err = {0};
    int64_t before = balance_of(victim);
    WW_ASSERT_MSG(change_balance(svc, victim, 1, "legit-retry-1", &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT_EQ_INT(balance_of(victim), before + 1);

    ww_rpc_client_t *stranger = users_as(sfx_token_as(USERS_AUD, STRANGER));
    ww_rpc_client_t *ann = users_as(sfx_token_sub(USERS_AUD, ANN));
    char key[64];
    int refused = 0;
    for (int i = 0; i < 11000; i++) {
        snprintf(key, sizeof key, "flood-%d", i);
        ww_rpc_client_t *c = i < 10000 ? stranger : ann;
        if (change_balance(c, victim, 1, key, &err) == WW_ERR_PERMISSION_DENIED)
            refused++;
    }
    WW_ASSERT_EQ_INT(refused, 11000);
    WW_ASSERT_EQ_INT(balance_of(victim), before + 1);

    /* the retry answers the original result and applies nothing */
    WW_ASSERT_MSG(change_balance(svc, victim, 1, "legit-retry-1", &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT_EQ_INT(balance_of(victim), before + 1);
    WW_ASSERT_EQ_INT(change_balance(svc, victim, 7, "legit-retry-1", &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "another request");
    WW_ASSERT_EQ_INT(balance_of(victim), before + 1);
    ww_rpc_client_destroy(svc);
    ww_rpc_client_destroy(stranger);
    ww_rpc_client_destroy(ann);
}

/* ---- caller lists of their own ---- */

/* A users binary with `callers` as WW_CALLERS and two trusted issuers. */
static pid_t users_with(const char *callers, int *port, const char *log) {
    char env[512];
    snprintf(env, sizeof env, "WW_CALLERS=%s", callers);
    *port = ww_test_proc_free_port();
    char path[512];
    return sfx_start_service(
        USERS_BIN, *port, USERS_AUD,
        (const char *[]){env, "WW_JWT_ISSUERS=" FX_ISSUER ",https://other.test",
                         NULL},
        fx_path(path, sizeof path, log));
}

static ww_code_t read_as(int port, json_t *claims, ww_err_t *err) {
    char *auth = sfx_bearer(fx_mint("RS256", "rsa1", fx_rsa(), NULL, claims));
    ww_rpc_client_t *c = sfx_dial("127.0.0.1", port, "ca.pem", auth);
    free(auth);
    int64_t amount;
    ww_code_t rc = get_balance(c, ANN, &amount, err);
    ww_rpc_client_destroy(c);
    return rc;
}

static json_t *claims(const char *iss, const char *sub, json_t *verified) {
    json_t *c = fx_claims(USERS_AUD, (int64_t)time(NULL), 600);
    json_object_set_new(c, "iss", json_string(iss));
    json_object_set_new(c, "sub", json_string(sub));
    if (verified)
        json_object_set_new(c, "email_verified", verified);
    else
        json_object_del(c, "email_verified");
    return c;
}

WW_TEST(a_blank_caller_list_denies_everyone) {
    sfx_setup();
    int port;
    pid_t pid = users_with(" \t ", &port, "users-blank.log");
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(
        read_as(port, claims(FX_ISSUER, FX_EMAIL, json_true()), &err),
        WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "no role");
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
}

WW_TEST(an_email_matches_only_verified_and_from_its_issuer) {
    sfx_setup();
    int port;
    pid_t pid = users_with("service=" FX_ISSUER "|email:" FX_EMAIL, &port,
                           "users-email.log");
    ww_err_t err = {0};
    WW_ASSERT_MSG(read_as(port, claims(FX_ISSUER, "s-1", json_true()), &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT_EQ_INT(
        read_as(port, claims(FX_ISSUER, "s-2", json_false()), &err),
        WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(read_as(port, claims(FX_ISSUER, "s-3", NULL), &err),
                     WW_ERR_PERMISSION_DENIED);
    /* a second issuer's email, unverified or verified, is not the first's */
    WW_ASSERT_EQ_INT(
        read_as(port, claims("https://other.test", "s-4", json_false()), &err),
        WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(
        read_as(port, claims("https://other.test", "s-5", json_true()), &err),
        WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_CONTAINS(err.msg, "https://other.test|s-5");
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
}

/* ---- who asked, in the facts ---- */

typedef struct found_origin {
    ww_bus_registry_t *reg;
    char caller[256];
    int matches;
} found_origin_t;

static ww_code_t look_for_key(void *opaque, const rd_kafka_message_t *rec,
                              ww_err_t *err) {
    (void)err;
    found_origin_t *f = opaque;
    ww_bus_event_t ev = {0};
    ww_err_t why;
    if (ww_bus_envelope_decode_message(rec, f->reg, &ev, &why) != WW_OK)
        return WW_OK; /* not ours to judge here */
    if (ev.payload->descriptor ==
        &wildworkouts__events__v1__training_balance_changed__descriptor) {
        const Wildworkouts__Events__V1__TrainingBalanceChanged *c =
            (const void *)ev.payload;
        if (c->origin && !strcmp(c->origin->idempotency_key, "facts-who-1")) {
            snprintf(f->caller, sizeof f->caller, "%s", c->origin->caller);
            f->matches++;
        }
    }
    ww_bus_event_clear(&ev);
    return WW_OK;
}

/* The identity that travels with a command (iss + sub) is what its fact
 * records: the log says who asked for each change. */
WW_TEST(facts_record_the_callers_iss_and_sub) {
    sfx_setup();
    char prefix[128], env[160], path[512];
    ww_test_unique_name(prefix, sizeof prefix, "who");
    strcat(prefix, ".");
    snprintf(env, sizeof env, "WW_TOPIC_PREFIX=%s", prefix);
    int port = ww_test_proc_free_port();
    pid_t pid = sfx_start_service(USERS_BIN, port, USERS_AUD,
                                  (const char *[]){env, NULL},
                                  fx_path(path, sizeof path, "users-who.log"));
    char *auth = sfx_bearer(sfx_token_as(USERS_AUD, FX_EMAIL));
    ww_rpc_client_t *c = sfx_dial("127.0.0.1", port, "ca.pem", auth);
    free(auth);
    ww_err_t err = {0};
    WW_ASSERT_MSG(change_balance(c, ANN, 2, "facts-who-1", &err) == WW_OK, "%s",
                  err.msg);
    ww_rpc_client_destroy(c);

    ww_bus_config_t *bus = ww_bus_config_new(&err);
    WW_ASSERT_MSG(bus, "%s", err.msg);
    WW_ASSERT_EQ_INT(ww_bus_config_set_topic_prefix(bus, prefix, &err), WW_OK);
    char topic[256];
    WW_ASSERT_EQ_INT(
        ww_bus_config_topic_name(bus, "users.events", topic, sizeof topic, &err),
        WW_OK);
    found_origin_t f = {.reg = ww_bus_registry_new()};
    size_t n;
    const ProtobufCMessageDescriptor *const *types = ww_schemas_users_events(&n);
    WW_ASSERT_EQ_INT(ww_bus_registry_add_all(f.reg, types, n, &err), WW_OK);
    ww_bus_replay_config_t rc = {.topic = topic,
                                 .timeout_ms = 60000,
                                 .handler = look_for_key,
                                 .opaque = &f};
    ww_code_t code = ww_bus_replay_run(bus, &rc, NULL, &err);
    ww_bus_registry_destroy(f.reg);
    ww_bus_config_destroy(bus);
    WW_ASSERT_MSG(code == WW_OK, "replay: %s", err.msg);
    WW_ASSERT_EQ_INT(f.matches, 1);
    WW_ASSERT_EQ_STR(f.caller, FX_ISSUER "|" FX_EMAIL);
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(a_user_reads_only_its_own_balance),
            WW_CASE(hours_change_for_trainers_and_services_only),
            WW_CASE(trainings_are_their_users_own),
            WW_CASE(the_digest_is_for_services_only),
            WW_CASE(a_flood_of_refused_keys_never_makes_a_retry_apply_twice),
            WW_CASE(a_blank_caller_list_denies_everyone),
            WW_CASE(an_email_matches_only_verified_and_from_its_issuer),
            WW_CASE(facts_record_the_callers_iss_and_sub),
            {0}});
}
