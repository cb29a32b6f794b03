/* snapshot_test_util.c - the states the snapshot tests restore: built
 * through the services' own decisions, so they hold what real facts make. */
#include "snapshot_test_util.h"

#define T_REBOOK "a0000000-0000-4000-8000-000000000006"

#define TEN     "0123456789"
#define HUNDRED TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN
#define THOUSAND                                                               \
    HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED    \
        HUNDRED

ww_code_t step_decide(const ww_trainer_state_t *s, const step_t *st,
                      ww_trainer_decision_t *d) {
    ww_time_t t = at(st->day, st->hour), now = at(st->now_day, st->now_hour);
    switch (st->op) {
    case AVAIL:
        return ww_trainer_decide_make_hour_available(s, &t, d);
    case UNAVAIL:
        return ww_trainer_decide_make_hour_unavailable(s, &t, d);
    case SCHED_HOUR:
        return ww_trainer_decide_schedule_hour(s, &t, d);
    case CANCEL_HOUR:
        return ww_trainer_decide_cancel_hour(s, &t, d);
    case UPDATE_HOUR:
        return ww_trainer_decide_update_hour(s, &t, st->flag, st->flag2, d);
    case BOOK:
        return ww_trainer_decide_schedule_training(s, st->uuid, st->user, &t,
                                                   st->notes, d);
    case DEBITED:
        return ww_trainer_decide_balance_debited(s, st->uuid, d);
    case REJECTED:
        return ww_trainer_decide_balance_rejected(s, st->uuid, d);
    case CANCEL:
        return ww_trainer_decide_cancel_training(s, st->uuid, st->flag, &now,
                                                 d);
    }
    abort();
}

const ww_trainer_state_t *target_state(const target_t *t) {
    return t->state ? t->state
                    : ww_trainer_roster_get(t->roster, t->trainer_id);
}

ww_code_t target_do(target_t *t, const step_t *st, ww_err_t *err) {
    ww_trainer_decision_t d;
    ww_code_t rc = step_decide(target_state(t), st, &d);
    if (err) *err = d.err;
    for (size_t i = 0; rc == WW_OK && i < d.n_facts; i++)
        rc = t->state ? ww_trainer_apply(t->state, &d.facts[i], err)
                      : ww_trainer_roster_apply(t->roster, t->trainer_id,
                                                &d.facts[i], err);
    return rc;
}

const step_t trainer_build[] = {
    S_HOUR(AVAIL, 1, 12), /* available */
    S_HOUR(AVAIL, 1, 13), /* scheduled, hour only */
    S_HOUR(SCHED_HOUR, 1, 13),
    S_HOUR(AVAIL, 1, 14),   /* back to the default: left out */
    S_HOUR(UNAVAIL, 1, 14), /* */
    S_HOUR(AVAIL, 1, 15),   /* PENDING, holds its hour */
    S_BOOK(1, 15, T_PEND, "anna", "bring water"),
    S_HOUR(AVAIL, 1, 16), /* SCHEDULED */
    S_BOOK(1, 16, T_SCHED, "bob", "zażółć gęślą jaźń"),
    S_OUTCOME(DEBITED, T_SCHED),
    S_HOUR(AVAIL, 1, 17), /* REJECTED, the hour available again */
    S_BOOK(1, 17, T_REJ, "carl", ""),
    S_OUTCOME(REJECTED, T_REJ),
    S_HOUR(AVAIL, 1, 18), /* CANCELED while PENDING, by the trainer, late */
    S_BOOK(1, 18, T_CANP, "anna", NULL),
    S_CANCEL(T_CANP, true, 1, 10),
    S_HOUR(AVAIL, 2, 12), /* CANCELED once SCHEDULED, early, long notes */
    S_BOOK(2, 12, T_CANS, "dora", THOUSAND),
    S_OUTCOME(DEBITED, T_CANS),
    S_CANCEL(T_CANS, false, -3, 0),
    S_HOUR(AVAIL, 2, 13), /* canceled, then booked again by another */
    S_BOOK(2, 13, T_AGAIN, "erin", "first"),
    S_CANCEL(T_AGAIN, false, -3, 0),
    S_BOOK(2, 13, T_REBOOK, "fay", "second"),
    S_UPDATE(2, 14, false, true), /* UpdateHour */
    S_HOUR(AVAIL, 3, 20),
};
const size_t trainer_build_n = sizeof trainer_build / sizeof trainer_build[0];

const step_t trainer_later[] = {
    S_BOOK(1, 12, T_NEW, "gus", "new"),           /* fact */
    S_BOOK(1, 13, T_NEW2, "gus", ""),             /* refused: hour-only */
    S_BOOK(1, 15, T_PEND, "anna", "bring water"), /* retry: no fact */
    S_BOOK(1, 15, T_PEND, "anna", "other"),       /* ALREADY_EXISTS */
    S_OUTCOME(DEBITED, T_PEND),                   /* confirmed */
    S_OUTCOME(REJECTED, T_NEW),                   /* released */
    S_OUTCOME(REJECTED, T_SCHED),                 /* no-op */
    S_CANCEL(T_SCHED, false, -1, 0),
    S_CANCEL(T_CANP, false, 1, 0), /* repeat */
    S_CANCEL(T_REJ, false, 1, 0),  /* refused */
    S_CANCEL(T_NONE, false, 1, 0), /* NOT_FOUND */
    S_HOUR(AVAIL, 2, 13),          /* held: refused */
    S_HOUR(UNAVAIL, 1, 17),
    S_HOUR(CANCEL_HOUR, 1, 13),
    S_HOUR(SCHED_HOUR, 2, 14),
    S_UPDATE(3, 20, true, false),
    S_BOOK(1, 17, T_NEW2, "gus", ""), /* refused: unavailable now */
    S_HOUR(AVAIL, 3, 12),
    S_BOOK(3, 12, T_NEW2, "gus", "late"),
    S_HOUR(AVAIL, 0, 9), /* outside the schedule: NOT_FOUND */
};
const size_t trainer_later_n = sizeof trainer_later / sizeof trainer_later[0];

const char *const trainer_uuids[] = {T_PEND,  T_SCHED,  T_REJ, T_CANP, T_CANS,
                                     T_AGAIN, T_REBOOK, T_NEW, T_NEW2, T_NONE};
const size_t trainer_uuids_n = sizeof trainer_uuids / sizeof trainer_uuids[0];

static void run(target_t *t, const step_t *steps, size_t n) {
    for (size_t i = 0; i < n; i++) {
        ww_err_t err;
        ww_code_t rc = target_do(t, &steps[i], &err);
        WW_ASSERT_MSG(rc == WW_OK, "build step %zu: %s", i, err.msg);
    }
}

ww_trainer_state_t *trainer_built(void) {
    target_t t = {.state = ww_trainer_state_new()};
    WW_ASSERT(t.state);
    run(&t, trainer_build, trainer_build_n);
    return t.state;
}

ww_trainer_roster_t *roster_built(void) {
    ww_trainer_roster_t *r = ww_trainer_roster_new();
    WW_ASSERT(r);
    target_t tom = {.roster = r, .trainer_id = "tom"};
    run(&tom, trainer_build, trainer_build_n);
    static const step_t ola[] = {
        S_HOUR(AVAIL, 1, 12),
        S_HOUR(AVAIL, 1, 15),
        S_BOOK(1, 15, T_PEND, "olga", "the same uuid as tom's"),
    };
    target_t o = {.roster = r, .trainer_id = "ola"};
    run(&o, ola, sizeof ola / sizeof ola[0]);
    /* a refused first fact still adds the trainer, empty */
    ww_trainer_fact_t f = {.kind = WW_TRAINER_FACT_TRAINING_SCHEDULED,
                           .hour = at(1, 12).seconds};
    snprintf(f.training_uuid, sizeof f.training_uuid, "%s", T_NONE);
    snprintf(f.user_id, sizeof f.user_id, "nobody");
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "zoe", &f, NULL),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(r), 3);
    return r;
}

#define DEB1 "d0000000-0000-4000-8000-000000000001"
#define DEB2 "d0000000-0000-4000-8000-000000000002"
#define DEB3 "d0000000-0000-4000-8000-000000000003"
#define DEB4 "d0000000-0000-4000-8000-000000000004"

const char *const users_ids[] = {
    "demo-anna", "demo-bartek", "demo-celina", "demo-dawid", "zero",    "broke",
    "gone",      "rich",        "richer",      "Ünicode-ü",  "stranger"};
const size_t users_ids_n = sizeof users_ids / sizeof users_ids[0];
const char *const users_uuids[] = {DEB1, DEB2, DEB3, DEB4, T_NEW, T_NONE};
const size_t users_uuids_n = sizeof users_uuids / sizeof users_uuids[0];

ww_users_state_t *users_built(void) {
    ww_users_state_t *s = ww_users_state_new();
    WW_ASSERT(s);
    ww_users_debit_outcome_t o;
    int64_t paid;
    WW_ASSERT_EQ_INT(ww_users_fixtures_fill(s, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "zero", 1, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "zero", DEB1, &o, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(o, WW_USERS_DEBIT_DEBITED);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "broke", DEB2, &o, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(o, WW_USERS_DEBIT_REJECTED);
    WW_ASSERT_EQ_INT(
        ww_users_debit_for_training(s, "demo-anna", DEB3, &o, NULL), WW_OK);
    WW_ASSERT_EQ_INT(
        ww_users_refund_for_training(s, "demo-anna", DEB3, 2, &paid, NULL),
        WW_OK);
    WW_ASSERT_EQ_INT(paid, 2);
    WW_ASSERT_EQ_INT(
        ww_users_debit_for_training(s, "demo-bartek", DEB4, &o, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "gone", 3, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "gone", -3, NULL), WW_OK);
    /* two balances of INT64_MAX: the sums wrap past 2^64 */
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "rich", INT64_MAX, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "richer", INT64_MAX, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "Ünicode-ü", 2, NULL), WW_OK);
    return s;
}

const char *const shard_callers[] = {"", "svc-a", "svc-b", "nobody"};
const size_t shard_callers_n = sizeof shard_callers / sizeof shard_callers[0];
const char *const shard_keys[] = {"k-1", "k-2", "retry", "never"};
const size_t shard_keys_n = sizeof shard_keys / sizeof shard_keys[0];

void shard_digest(const char *text, uint8_t d[WW_DEDUP_DIGEST_LEN]) {
    size_t n = strlen(text);
    memset(d, 0, WW_DEDUP_DIGEST_LEN);
    memcpy(d, text, n < WW_DEDUP_DIGEST_LEN ? n : WW_DEDUP_DIGEST_LEN);
}

ww_shard_t *shard_built(const ww_shard_ops_t *ops, void *state) {
    ww_shard_t *s = ww_shard_new(ops, state);
    WW_ASSERT(s);
    int64_t offset = 3;
    for (size_t c = 0; c < 3; c++)
        for (size_t k = 0; k < 3; k++) {
            if ((c + k) % 2) continue; /* not every caller uses every key */
            char req[64];
            snprintf(req, sizeof req, "req %s %s", shard_callers[c],
                     shard_keys[k]);
            ww_shard_origin_t o = {.caller = shard_callers[c],
                                   .key = shard_keys[k]};
            shard_digest(req, o.digest);
            WW_ASSERT_EQ_INT(
                ww_shard_record(s, offset, &o, (int64_t)(c * 10 + k), NULL),
                WW_OK);
            offset += 5;
        }
    WW_ASSERT_EQ_INT(ww_shard_record(s, 41, NULL, 0, NULL), WW_OK);
    return s;
}

bytes_t shard_bytes(const ww_shard_t *s) {
    bytes_t x = {0};
    WW_ASSERT_EQ_INT(ww_shard_serialize(s, &x.b, &x.n, NULL), WW_OK);
    return x;
}

bytes_t roster_bytes(const ww_trainer_roster_t *r) {
    bytes_t x = {0};
    WW_ASSERT_EQ_INT(ww_trainer_roster_serialize(r, &x.b, &x.n, NULL), WW_OK);
    return x;
}

bytes_t users_bytes(const ww_users_state_t *s) {
    bytes_t x = {0};
    WW_ASSERT_EQ_INT(ww_users_state_serialize(s, &x.b, &x.n, NULL), WW_OK);
    return x;
}

bytes_t writer_bytes(ww_canon_t *c) {
    bytes_t x = {0};
    WW_ASSERT_EQ_INT(ww_canon_finish(c, &x.b, &x.n, NULL), WW_OK);
    return x;
}
