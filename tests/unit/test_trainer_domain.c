/* test_trainer_domain.c - the trainer's rules: hours (TrainerService), the
 * trainings of TrainingsService, the fold of facts and the digest bytes. */
#include "trainer_test_util.h"

WW_TEST(invalid_time_is_unable_to_parse_time_everywhere) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    const ww_time_t bad[] = {{0, -1},
                             {0, 1000000000},
                             {WW_TIME_MIN_SECONDS - 1, 0},
                             {WW_TIME_MAX_SECONDS + 1, 0}};
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        const ww_time_t *t = i < sizeof bad / sizeof bad[0] ? &bad[i] : NULL;
        ww_trainer_decision_t d;
        ww_code_t rcs[] = {
            ww_trainer_decide_is_hour_available(s, t, &d),
            ww_trainer_decide_update_hour(s, t, false, true, &d),
            ww_trainer_decide_schedule_hour(s, t, &d),
            ww_trainer_decide_cancel_hour(s, t, &d),
            ww_trainer_decide_make_hour_available(s, t, &d),
            ww_trainer_decide_make_hour_unavailable(s, t, &d),
            ww_trainer_decide_schedule_training(s, U1, "u", t, "", &d),
        };
        for (size_t j = 0; j < sizeof rcs / sizeof rcs[0]; j++)
            WW_ASSERT_MSG(rcs[j] == WW_ERR_INVALID_ARGUMENT,
                          "time %zu op %zu: %s", i, j, ww_code_name(rcs[j]));
        WW_ASSERT_EQ_STR(d.err.msg, "unable to parse time");
        WW_ASSERT_EQ_INT(d.n_facts, 0);
    }
    ww_trainer_state_destroy(s);
}

WW_TEST(is_hour_available_truncates_and_knows_the_schedule) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    ww_err_t err;
    ww_time_t t13 = at(0, 13);
    WW_ASSERT_EQ_INT(ww_trainer_make_hour_available(s, &t13, &err), WW_OK);
    static const struct {
        int day, hour, extra_s, nanos;
        bool want;
    } rows[] = {
        {0, 13, 0, 0, true},          {0, 13, 3599, 999999999, true},
        {0, 12, 0, 0, false},         /* never touched: not available */
        {0, 14, 0, 0, false},         {1, 13, 0, 0, false},
        {0, 11, 3599, 0, false},      /* out of schedule, no error */
        {0, 21, 0, 0, false},         {0, 3, 0, 0, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_time_t t = at(rows[i].day, rows[i].hour);
        t.seconds += rows[i].extra_s;
        t.nanos = rows[i].nanos;
        bool got = !rows[i].want;
        WW_ASSERT_EQ_INT(ww_trainer_is_hour_available(s, &t, &got, &err),
                         WW_OK);
        WW_ASSERT_MSG(got == rows[i].want, "row %zu", i);
    }
    WW_ASSERT_EQ_INT(ww_trainer_schedule_hour(s, &t13, &err), WW_OK);
    bool got = true;
    WW_ASSERT_EQ_INT(ww_trainer_is_hour_available(s, &t13, &got, &err), WW_OK);
    WW_ASSERT(!got);
    ww_trainer_state_destroy(s);
}

WW_TEST(out_of_schedule_hour_is_not_found_for_hour_only_methods) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    const int hours[] = {0, 11, 21, 23};
    for (size_t i = 0; i < sizeof hours / sizeof hours[0]; i++) {
        ww_time_t t = at(3, hours[i]);
        t.seconds += 1234;
        ww_trainer_decision_t d;
        char want[64];
        snprintf(want, sizeof want,
                 "2030-01-10T%02d:00:00Z hour not found in schedule",
                 hours[i]);
        ww_code_t rcs[] = {
            ww_trainer_decide_update_hour(s, &t, false, true, &d),
            ww_trainer_decide_update_hour(s, &t, true, false, &d),
            ww_trainer_decide_schedule_hour(s, &t, &d),
            ww_trainer_decide_cancel_hour(s, &t, &d),
            ww_trainer_decide_make_hour_available(s, &t, &d),
            ww_trainer_decide_make_hour_unavailable(s, &t, &d),
        };
        for (size_t j = 0; j < sizeof rcs / sizeof rcs[0]; j++)
            WW_ASSERT_MSG(rcs[j] == WW_ERR_NOT_FOUND, "hour %d op %zu: %s",
                          hours[i], j, ww_code_name(rcs[j]));
        WW_ASSERT_EQ_STR(d.err.msg, want);
    }
    ww_trainer_state_destroy(s);
}

WW_TEST(update_hour_follows_the_seed_rules) {
    static const struct {
        enum start from;
        bool sched, avail;
        ww_code_t code;
        const char *msg;
        enum start to;
        size_t facts;
    } rows[] = {
        {NA, false, false, WW_ERR_FAILED_PRECONDITION,
         "cannot set hour as unavailable when it have no training scheduled",
         NA, 0},
        {NA, false, true, WW_OK, "", AV, 1},
        {NA, true, false, WW_ERR_FAILED_PRECONDITION,
         "hour is not available for training", NA, 0},
        {NA, true, true, WW_ERR_FAILED_PRECONDITION,
         "hour is not available for training", NA, 0},
        {AV, false, false, WW_ERR_FAILED_PRECONDITION,
         "cannot set hour as unavailable when it have no training scheduled",
         AV, 0},
        {AV, false, true, WW_OK, "", AV, 0},
        {AV, true, false, WW_OK, "", SC, 1},
        {AV, true, true, WW_ERR_FAILED_PRECONDITION,
         "cannot set hour as available when it have training scheduled", AV,
         0},
        {SC, false, false, WW_ERR_FAILED_PRECONDITION,
         "cannot set hour as unavailable when it have no training scheduled",
         SC, 0},
        {SC, false, true, WW_OK, "", AV, 1},
        /* a double booking: the seed's first check answers */
        {SC, true, false, WW_ERR_FAILED_PRECONDITION,
         "hour is not available for training", SC, 0},
        {SC, true, true, WW_ERR_FAILED_PRECONDITION,
         "hour is not available for training", SC, 0},
        {HELD, false, false, WW_ERR_FAILED_PRECONDITION,
         "hour 2030-01-08T15:00:00Z is held by training " U1, HELD, 0},
        {HELD, false, true, WW_ERR_FAILED_PRECONDITION,
         "hour 2030-01-08T15:00:00Z is held by training " U1, HELD, 0},
        {HELD, true, false, WW_ERR_FAILED_PRECONDITION,
         "hour 2030-01-08T15:00:00Z is held by training " U1, HELD, 0},
        {HELD, true, true, WW_ERR_FAILED_PRECONDITION,
         "hour 2030-01-08T15:00:00Z is held by training " U1, HELD, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_trainer_state_t *s = ww_trainer_state_new();
        ww_time_t t = at(1, 15);
        prepare(s, t, rows[i].from);
        bytes_t before = snap(s);
        t.seconds += 59; /* any time within the hour */
        ww_trainer_decision_t d;
        ww_code_t rc = ww_trainer_decide_update_hour(s, &t, rows[i].sched,
                                                     rows[i].avail, &d);
        WW_ASSERT_MSG(rc == rows[i].code && d.err.code == rc,
                      "row %zu (%s sched=%d avail=%d): got %s \"%s\"", i,
                      start_name[rows[i].from], rows[i].sched, rows[i].avail,
                      ww_code_name(rc), d.err.msg);
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg);
        WW_ASSERT_EQ_INT(d.n_facts, rows[i].facts);
        if (rc != WW_OK || d.n_facts == 0) WW_ASSERT(same(before, snap(s)));
        else free(before.b);
        if (d.n_facts) {
            WW_ASSERT_EQ_INT(d.facts[0].kind,
                             WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED);
            WW_ASSERT_EQ_INT(d.facts[0].hour, at(1, 15).seconds);
            WW_ASSERT_EQ_INT(d.facts[0].available, rows[i].avail);
            WW_ASSERT_EQ_INT(d.facts[0].has_training_scheduled,
                             rows[i].sched);
        }
        WW_ASSERT_EQ_INT(ww_trainer_apply_decision(s, &d, NULL), WW_OK);
        WW_ASSERT_MSG(state_of(s, t) == rows[i].to, "row %zu: ends %s", i,
                      start_name[state_of(s, t)]);
        ww_trainer_state_destroy(s);
    }
}

WW_TEST(later_hour_only_methods_follow_the_original) {
    enum op { SCHED, CANCEL, MK_AV, MK_NA };
    static const char *held = "hour 2030-01-09T20:00:00Z is held by training "
                              U1;
    static const struct {
        enum op op;
        enum start from;
        ww_code_t code;
        const char *msg;
        enum start to;
    } rows[] = {
        {SCHED, NA, WW_ERR_FAILED_PRECONDITION, "hour is not available", NA},
        {SCHED, AV, WW_OK, "", SC},
        {SCHED, SC, WW_ERR_FAILED_PRECONDITION, "hour is not available", SC},
        {CANCEL, NA, WW_ERR_FAILED_PRECONDITION, "training is not scheduled",
         NA},
        {CANCEL, AV, WW_ERR_FAILED_PRECONDITION, "training is not scheduled",
         AV},
        {CANCEL, SC, WW_OK, "", AV},
        {MK_AV, NA, WW_OK, "", AV},
        {MK_AV, AV, WW_OK, "", AV},
        {MK_AV, SC, WW_ERR_FAILED_PRECONDITION,
         "unable to modify hour, because scheduled training", SC},
        {MK_NA, NA, WW_OK, "", NA},
        {MK_NA, AV, WW_OK, "", NA},
        {MK_NA, SC, WW_ERR_FAILED_PRECONDITION,
         "unable to modify hour, because scheduled training", SC},
        {SCHED, HELD, WW_ERR_FAILED_PRECONDITION, NULL, HELD},
        {CANCEL, HELD, WW_ERR_FAILED_PRECONDITION, NULL, HELD},
        {MK_AV, HELD, WW_ERR_FAILED_PRECONDITION, NULL, HELD},
        {MK_NA, HELD, WW_ERR_FAILED_PRECONDITION, NULL, HELD},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_trainer_state_t *s = ww_trainer_state_new();
        ww_time_t t = at(2, 20);
        prepare(s, t, rows[i].from);
        bytes_t before = snap(s);
        ww_trainer_decision_t d;
        ww_code_t rc = WW_ERR_INTERNAL;
        switch (rows[i].op) {
        case SCHED: rc = ww_trainer_decide_schedule_hour(s, &t, &d); break;
        case CANCEL: rc = ww_trainer_decide_cancel_hour(s, &t, &d); break;
        case MK_AV:
            rc = ww_trainer_decide_make_hour_available(s, &t, &d);
            break;
        case MK_NA:
            rc = ww_trainer_decide_make_hour_unavailable(s, &t, &d);
            break;
        }
        WW_ASSERT_MSG(rc == rows[i].code, "row %zu: got %s \"%s\"", i,
                      ww_code_name(rc), d.err.msg);
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg ? rows[i].msg : held);
        bool changes = rows[i].from != rows[i].to;
        WW_ASSERT_EQ_INT(d.n_facts, changes ? 1 : 0);
        WW_ASSERT_EQ_INT(ww_trainer_apply_decision(s, &d, NULL), WW_OK);
        if (!changes) WW_ASSERT(same(before, snap(s)));
        else free(before.b);
        WW_ASSERT_MSG(state_of(s, t) == rows[i].to, "row %zu: ends %s", i,
                      start_name[state_of(s, t)]);
        ww_trainer_state_destroy(s);
    }
}

WW_TEST(schedule_training_validates_its_request) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    ww_time_t t = at(0, 12), bad_t = {0, -5};
    prepare(s, t, AV);
    char long_user[WW_IDS_USER_ID_MAX + 2], long_notes[WW_IDS_NOTES_MAX + 2];
    memset(long_user, 'u', sizeof long_user - 1);
    long_user[sizeof long_user - 1] = '\0';
    memset(long_notes, 'n', sizeof long_notes - 1);
    long_notes[sizeof long_notes - 1] = '\0';
    static const char *bad_uuid = "not-a-uuid";
    const struct {
        const char *uuid, *user;
        const ww_time_t *t;
        const char *notes, *msg;
    } rows[] = {
        {"", "u", &t, "", "training_uuid is empty"},
        {NULL, "u", &t, "", "training_uuid is empty"},
        {bad_uuid, "u", &t, "",
         "training_uuid is not a UUID (8-4-4-4-12 hex digits): "
         "\"not-a-uuid\""},
        {U1, "", &t, "", "user_id is empty"},
        {U1, NULL, &t, "", "user_id is empty"},
        {U1, long_user, &t, "", "user_id is longer than 128 bytes"},
        {U1, "u", NULL, "", "unable to parse time"},
        {U1, "u", &bad_t, "", "unable to parse time"},
        {U1, "u", &t, long_notes, "notes are longer than 1000 bytes"},
        /* the uuid is checked first */
        {"", "", NULL, long_notes, "training_uuid is empty"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_trainer_decision_t d;
        ww_code_t rc = ww_trainer_decide_schedule_training(
            s, rows[i].uuid, rows[i].user, rows[i].t, rows[i].notes, &d);
        WW_ASSERT_MSG(rc == WW_ERR_INVALID_ARGUMENT, "row %zu: %s", i,
                      ww_code_name(rc));
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg);
        WW_ASSERT_EQ_INT(d.n_facts, 0);
    }
    /* the longest allowed values are fine */
    long_user[WW_IDS_USER_ID_MAX] = '\0';
    long_notes[WW_IDS_NOTES_MAX] = '\0';
    ww_err_t err;
    WW_ASSERT_EQ_INT(
        ww_trainer_schedule_training(s, U1, long_user, &t, long_notes, &err),
        WW_OK);
    ww_trainer_training_view_t v;
    WW_ASSERT_EQ_INT(ww_trainer_get_training(s, U1, &v, &err), WW_OK);
    WW_ASSERT_EQ_STR(v.user_id, long_user);
    WW_ASSERT_EQ_STR(v.notes, long_notes);
    ww_trainer_state_destroy(s);
}

WW_TEST(schedule_training_holds_the_hour_and_is_idempotent) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    ww_time_t t = at(0, 14), t_same_hour = t, other = at(0, 16);
    t_same_hour.seconds += 1799;
    t_same_hour.nanos = 5;
    prepare(s, t, AV);
    prepare(s, other, AV);
    ww_trainer_decision_t d;
    WW_ASSERT_EQ_INT(ww_trainer_decide_schedule_training(s, U1, "anna", &t,
                                                         "legs", &d),
                     WW_OK);
    WW_ASSERT_EQ_INT(d.n_facts, 1);
    const ww_trainer_fact_t *f = &d.facts[0];
    WW_ASSERT_EQ_INT(f->kind, WW_TRAINER_FACT_TRAINING_SCHEDULED);
    WW_ASSERT_EQ_STR(f->training_uuid, U1);
    WW_ASSERT_EQ_STR(f->user_id, "anna");
    WW_ASSERT_EQ_STR(f->notes, "legs");
    WW_ASSERT_EQ_INT(f->hour, t.seconds);
    WW_ASSERT_EQ_INT(ww_trainer_apply_decision(s, &d, NULL), WW_OK);

    ww_trainer_training_view_t v;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_trainer_get_training(s, U1, &v, &err), WW_OK);
    WW_ASSERT_EQ_INT(v.status, WW_TRAINER_TRAINING_PENDING);
    WW_ASSERT_EQ_INT(v.hour, t.seconds);
    WW_ASSERT_EQ_INT(v.balance_refund, 0);
    WW_ASSERT(!v.debited);
    WW_ASSERT_EQ_INT(state_of(s, t), HELD);
    bool avail = true;
    WW_ASSERT_EQ_INT(ww_trainer_is_hour_available(s, &t, &avail, &err), WW_OK);
    WW_ASSERT(!avail);

    static const struct {
        const char *uuid, *user;
        int which_time; /* 0 t, 1 same hour, 2 other */
        const char *notes;
        ww_code_t code;
        const char *msg;
    } rows[] = {
        {U1, "anna", 0, "legs", WW_OK, ""},
        {U1, "anna", 1, "legs", WW_OK, ""},
        {U1, "bob", 0, "legs", WW_ERR_ALREADY_EXISTS,
         "training " U1 " already exists with other content"},
        {U1, "anna", 2, "legs", WW_ERR_ALREADY_EXISTS,
         "training " U1 " already exists with other content"},
        {U1, "anna", 0, "arms", WW_ERR_ALREADY_EXISTS,
         "training " U1 " already exists with other content"},
        {U1, "anna", 0, NULL, WW_ERR_ALREADY_EXISTS,
         "training " U1 " already exists with other content"},
        {U2, "bob", 0, "", WW_ERR_FAILED_PRECONDITION,
         "hour 2030-01-07T14:00:00Z is not available"},
        {U2, "bob", 2, "", WW_OK, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const ww_time_t *when = rows[i].which_time == 0   ? &t
                                : rows[i].which_time == 1 ? &t_same_hour
                                                          : &other;
        bytes_t before = snap(s);
        ww_code_t rc = ww_trainer_decide_schedule_training(
            s, rows[i].uuid, rows[i].user, when, rows[i].notes, &d);
        WW_ASSERT_MSG(rc == rows[i].code, "row %zu: got %s \"%s\"", i,
                      ww_code_name(rc), d.err.msg);
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg);
        bool fresh = rows[i].code == WW_OK && strcmp(rows[i].uuid, U1) != 0;
        WW_ASSERT_EQ_INT(d.n_facts, fresh ? 1 : 0);
        WW_ASSERT_EQ_INT(ww_trainer_apply_decision(s, &d, NULL), WW_OK);
        if (!fresh) WW_ASSERT(same(before, snap(s)));
        else free(before.b);
    }
    /* A retry succeeds whatever happened to the training since. */
    int64_t refund = -1;
    WW_ASSERT_EQ_INT(ww_trainer_cancel_training(s, U1, false, &t, &refund,
                                                &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_decide_schedule_training(s, U1, "anna", &t,
                                                         "legs", &d),
                     WW_OK);
    WW_ASSERT_EQ_INT(d.n_facts, 0);
    ww_trainer_state_destroy(s);
}

WW_TEST(schedule_training_needs_an_available_working_hour) {
    static const struct {
        enum start from;
        int hour;
        const char *msg;
    } rows[] = {
        {NA, 13, "hour 2030-01-11T13:00:00Z is not available"},
        {SC, 13, "hour 2030-01-11T13:00:00Z is not available"},
        {HELD, 13, "hour 2030-01-11T13:00:00Z is not available"},
        {NA, 21, "hour 2030-01-11T21:00:00Z is not in the schedule"},
        {NA, 6, "hour 2030-01-11T06:00:00Z is not in the schedule"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_trainer_state_t *s = ww_trainer_state_new();
        ww_time_t t = at(4, rows[i].hour);
        if (rows[i].hour == 13) prepare(s, t, rows[i].from);
        ww_trainer_decision_t d;
        WW_ASSERT_EQ_INT(ww_trainer_decide_schedule_training(s, U2, "bob", &t,
                                                             "", &d),
                         WW_ERR_FAILED_PRECONDITION);
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg);
        WW_ASSERT_EQ_INT(d.n_facts, 0);
        ww_trainer_state_destroy(s);
    }
}

/* A state with training U1 at day 5 14:00 in `status`. */
static ww_trainer_state_t *with_training(ww_trainer_training_status_t status) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    ww_time_t t = at(5, 14), zero = at(0, 0);
    ww_err_t err;
    prepare(s, t, HELD);
    if (status == WW_TRAINER_TRAINING_SCHEDULED)
        WW_ASSERT_EQ_INT(ww_trainer_balance_debited(s, U1, &err), WW_OK);
    if (status == WW_TRAINER_TRAINING_REJECTED)
        WW_ASSERT_EQ_INT(ww_trainer_balance_rejected(s, U1, &err), WW_OK);
    if (status == WW_TRAINER_TRAINING_CANCELED)
        WW_ASSERT_EQ_INT(
            ww_trainer_cancel_training(s, U1, true, &zero, NULL, &err),
            WW_OK);
    ww_trainer_training_view_t v;
    WW_ASSERT_EQ_INT(ww_trainer_get_training(s, U1, &v, &err), WW_OK);
    WW_ASSERT_EQ_INT(v.status, status);
    return s;
}

WW_TEST(credit_outcomes_move_only_pending_trainings) {
    typedef ww_trainer_training_status_t st_t;
    static const struct {
        st_t from;
        bool debited; /* else rejected */
        st_t to;
        ww_trainer_fact_kind_t fact; /* 0 = none */
        enum start hour_after;
    } rows[] = {
        {WW_TRAINER_TRAINING_PENDING, true, WW_TRAINER_TRAINING_SCHEDULED,
         WW_TRAINER_FACT_TRAINING_CONFIRMED, HELD},
        {WW_TRAINER_TRAINING_PENDING, false, WW_TRAINER_TRAINING_REJECTED,
         WW_TRAINER_FACT_TRAINING_RELEASED, AV},
        {WW_TRAINER_TRAINING_SCHEDULED, true, WW_TRAINER_TRAINING_SCHEDULED, 0,
         HELD},
        {WW_TRAINER_TRAINING_SCHEDULED, false, WW_TRAINER_TRAINING_SCHEDULED,
         0, HELD},
        {WW_TRAINER_TRAINING_CANCELED, true, WW_TRAINER_TRAINING_CANCELED, 0,
         AV},
        {WW_TRAINER_TRAINING_CANCELED, false, WW_TRAINER_TRAINING_CANCELED, 0,
         AV},
        {WW_TRAINER_TRAINING_REJECTED, true, WW_TRAINER_TRAINING_REJECTED, 0,
         AV},
        {WW_TRAINER_TRAINING_REJECTED, false, WW_TRAINER_TRAINING_REJECTED, 0,
         AV},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_trainer_state_t *s = with_training(rows[i].from);
        ww_trainer_decision_t d;
        ww_code_t rc =
            rows[i].debited ? ww_trainer_decide_balance_debited(s, U1, &d)
                            : ww_trainer_decide_balance_rejected(s, U1, &d);
        WW_ASSERT_EQ_INT(rc, WW_OK);
        WW_ASSERT_EQ_INT(d.n_facts, rows[i].fact ? 1 : 0);
        if (rows[i].fact) {
            WW_ASSERT_EQ_INT(d.facts[0].kind, rows[i].fact);
            WW_ASSERT_EQ_STR(d.facts[0].training_uuid, U1);
            WW_ASSERT_EQ_INT(d.facts[0].hour, at(5, 14).seconds);
            WW_ASSERT_EQ_STR(d.facts[0].user_id, "attendee");
        }
        WW_ASSERT_EQ_INT(ww_trainer_apply_decision(s, &d, NULL), WW_OK);
        ww_trainer_training_view_t v;
        WW_ASSERT_EQ_INT(ww_trainer_get_training(s, U1, &v, NULL), WW_OK);
        WW_ASSERT_MSG(v.status == rows[i].to, "row %zu: %s", i,
                      ww_trainer_training_status_name(v.status));
        WW_ASSERT_EQ_INT(v.debited,
                         rows[i].to == WW_TRAINER_TRAINING_SCHEDULED);
        WW_ASSERT_EQ_INT(state_of(s, at(5, 14)), rows[i].hour_after);
        ww_trainer_state_destroy(s);
    }
    /* Unknown or malformed uuids never stall: no-op / INVALID_ARGUMENT. */
    ww_trainer_state_t *s = ww_trainer_state_new();
    ww_trainer_decision_t d;
    WW_ASSERT_EQ_INT(ww_trainer_decide_balance_debited(s, U2, &d), WW_OK);
    WW_ASSERT_EQ_INT(d.n_facts, 0);
    WW_ASSERT_EQ_INT(ww_trainer_decide_balance_rejected(s, U2, &d), WW_OK);
    WW_ASSERT_EQ_INT(d.n_facts, 0);
    WW_ASSERT_EQ_INT(ww_trainer_decide_balance_debited(s, "x", &d),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_trainer_decide_balance_rejected(s, "", &d),
                     WW_ERR_INVALID_ARGUMENT);
    ww_trainer_state_destroy(s);
}

WW_TEST(cancel_refunds_by_the_24_hour_rule) {
    const int64_t start = at(5, 14).seconds, day = WW_TIME_DAY_SECONDS;
    static const struct {
        int64_t before_s; /* start - now.seconds */
        int32_t nanos;
        bool by_trainer;
        int64_t refund;
    } rows[] = {
        {86400 * 3, 0, false, 1},  {86400 * 3, 0, true, 1},
        {86401, 0, false, 1},      {86401, 0, true, 1},
        {86401, 999999999, false, 1}, /* 24h + 1ns before */
        {86400, 0, false, 0},      {86400, 0, true, 2}, /* exactly 24 h */
        {86400, 1, false, 0},      {3600, 0, false, 0},
        {3600, 0, true, 2},        {0, 0, false, 0},
        {-3600, 0, true, 2}, /* already started */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_trainer_training_status_t from = i % 2
                                                ? WW_TRAINER_TRAINING_SCHEDULED
                                                : WW_TRAINER_TRAINING_PENDING;
        ww_trainer_state_t *s = with_training(from);
        ww_time_t now = {start - rows[i].before_s, rows[i].nanos};
        ww_trainer_decision_t d;
        WW_ASSERT_EQ_INT(ww_trainer_decide_cancel_training(
                             s, U1, rows[i].by_trainer, &now, &d),
                         WW_OK);
        WW_ASSERT_MSG(d.balance_refund == rows[i].refund,
                      "row %zu: refund %lld", i, (long long)d.balance_refund);
        WW_ASSERT_EQ_INT(d.n_facts, 1);
        WW_ASSERT_EQ_INT(d.facts[0].kind, WW_TRAINER_FACT_TRAINING_CANCELED);
        WW_ASSERT_EQ_INT(d.facts[0].balance_refund, rows[i].refund);
        WW_ASSERT_EQ_INT(d.facts[0].by_trainer, rows[i].by_trainer);
        WW_ASSERT_EQ_STR(d.facts[0].user_id, "attendee");
        WW_ASSERT_EQ_INT(d.facts[0].hour, start);
        WW_ASSERT_EQ_INT(ww_trainer_apply_decision(s, &d, NULL), WW_OK);
        ww_trainer_training_view_t v;
        WW_ASSERT_EQ_INT(ww_trainer_get_training(s, U1, &v, NULL), WW_OK);
        WW_ASSERT_EQ_INT(v.status, WW_TRAINER_TRAINING_CANCELED);
        WW_ASSERT_EQ_INT(v.balance_refund, rows[i].refund);
        WW_ASSERT_EQ_INT(v.canceled_by_trainer, rows[i].by_trainer);
        WW_ASSERT_EQ_INT(state_of(s, at(5, 14)), AV);
        /* Repeated: the original refund, no fact, whoever asks when. */
        ww_time_t later = {start + day, 0};
        WW_ASSERT_EQ_INT(ww_trainer_decide_cancel_training(
                             s, U1, !rows[i].by_trainer, &later, &d),
                         WW_OK);
        WW_ASSERT_EQ_INT(d.balance_refund, rows[i].refund);
        WW_ASSERT_EQ_INT(d.n_facts, 0);
        ww_trainer_state_destroy(s);
    }
}

WW_TEST(cancel_refuses_what_it_cannot_cancel) {
    ww_trainer_state_t *s = with_training(WW_TRAINER_TRAINING_REJECTED);
    ww_time_t now = at(0, 0), bad = {0, 1000000000};
    static const struct {
        const char *uuid;
        bool bad_now;
        ww_code_t code;
        const char *msg;
    } rows[] = {
        {U1, false, WW_ERR_FAILED_PRECONDITION,
         "training " U1 " was rejected and cannot be canceled"},
        {U2, false, WW_ERR_NOT_FOUND, "training " U2 " not found"},
        {"", false, WW_ERR_INVALID_ARGUMENT, "training_uuid is empty"},
        {"zz", false, WW_ERR_INVALID_ARGUMENT,
         "training_uuid is not a UUID (8-4-4-4-12 hex digits): \"zz\""},
        {U1, true, WW_ERR_INVALID_ARGUMENT, "unable to parse time"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_trainer_decision_t d;
        ww_code_t rc = ww_trainer_decide_cancel_training(
            s, rows[i].uuid, false, rows[i].bad_now ? &bad : &now, &d);
        WW_ASSERT_MSG(rc == rows[i].code, "row %zu: %s", i, ww_code_name(rc));
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg);
        WW_ASSERT_EQ_INT(d.n_facts, 0);
    }
    ww_trainer_decision_t d;
    WW_ASSERT_EQ_INT(ww_trainer_decide_cancel_training(s, U1, false, NULL, &d),
                     WW_ERR_INVALID_ARGUMENT);
    ww_trainer_training_view_t v;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_trainer_get_training(s, U2, &v, &err),
                     WW_ERR_NOT_FOUND);
    WW_ASSERT_EQ_STR(err.msg, "training " U2 " not found");
    WW_ASSERT_EQ_INT(ww_trainer_get_training(s, "", &v, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_trainer_state_destroy(s);
}

WW_TEST(freed_hours_can_be_booked_again) {
    ww_trainer_state_t *s = with_training(WW_TRAINER_TRAINING_SCHEDULED);
    ww_time_t t = at(5, 14), zero = at(0, 0);
    ww_err_t err;
    WW_ASSERT_EQ_INT(
        ww_trainer_cancel_training(s, U1, false, &zero, NULL, &err),
        WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_schedule_training(s, U2, "bob", &t, "", &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_balance_rejected(s, U2, &err), WW_OK);
    /* released: the hour-only methods may use it again */
    WW_ASSERT_EQ_INT(ww_trainer_make_hour_unavailable(s, &t, &err), WW_OK);
    WW_ASSERT_EQ_INT(state_of(s, t), NA);
    ww_trainer_counts_t c;
    ww_trainer_counts(s, &c);
    WW_ASSERT_EQ_INT(c.trainings, 2);
    WW_ASSERT_EQ_INT(c.trainings_canceled, 1);
    WW_ASSERT_EQ_INT(c.trainings_rejected, 1);
    WW_ASSERT_EQ_INT(c.hours_held, 0);
    WW_ASSERT_EQ_INT(c.refunds_decided, 1);
    ww_trainer_state_destroy(s);
}


int main(int argc, char **argv) {
    static const ww_test_case_t rules[] = {
        WW_CASE(invalid_time_is_unable_to_parse_time_everywhere),
        WW_CASE(is_hour_available_truncates_and_knows_the_schedule),
        WW_CASE(out_of_schedule_hour_is_not_found_for_hour_only_methods),
        WW_CASE(update_hour_follows_the_seed_rules),
        WW_CASE(later_hour_only_methods_follow_the_original),
        WW_CASE(schedule_training_validates_its_request),
        WW_CASE(schedule_training_holds_the_hour_and_is_idempotent),
        WW_CASE(schedule_training_needs_an_available_working_hour),
        WW_CASE(credit_outcomes_move_only_pending_trainings),
        WW_CASE(cancel_refunds_by_the_24_hour_rule),
        WW_CASE(cancel_refuses_what_it_cannot_cancel),
        WW_CASE(freed_hours_can_be_booked_again),
        {0}};
    size_t n = 0, m = 0;
    while (rules[n].name) n++;
    while (trainer_fold_cases[m].name) m++;
    ww_test_case_t *all = calloc(n + m + 1, sizeof *all);
    if (!all) return 1;
    memcpy(all, rules, n * sizeof *all);
    memcpy(all + n, trainer_fold_cases, m * sizeof *all);
    int rc = ww_test_main(argc, argv, all);
    free(all);
    return rc;
}
