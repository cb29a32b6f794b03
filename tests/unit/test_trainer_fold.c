/* test_trainer_fold.c - the trainer's state as a fold of facts: apply's
 * refusals, replay and clone giving the same digest bytes, invariants under
 * random operation sequences, fixtures and the documented byte layout. */
#include "trainer_test_util.h"

static ww_trainer_fact_t fact(ww_trainer_fact_kind_t kind, int64_t hour,
                              const char *uuid) {
    ww_trainer_fact_t f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.hour = hour;
    if (uuid) snprintf(f.training_uuid, sizeof f.training_uuid, "%s", uuid);
    snprintf(f.user_id, sizeof f.user_id, "anna");
    return f;
}

WW_TEST(apply_refuses_malformed_and_misfit_facts_and_changes_nothing) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    const int64_t h = at(1, 13).seconds, h2 = at(1, 14).seconds;
    prepare(s, at(1, 13), HELD); /* U1 pending at h */
    prepare(s, at(1, 14), SC);   /* hour-only scheduled at h2 */
    ww_trainer_fact_t rows[20];
    const char *why[20];
    size_t n = 0;
#define ROW(f, w) (rows[n] = (f), why[n++] = (w))
    ROW(fact(0, h, U1), "unknown fact kind");
    ROW(fact(99, h, U1), "unknown fact kind");
    ROW(fact(WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED, h, NULL),
        "held by training");
    ROW(fact(WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED, at(1, 11).seconds,
             NULL),
        "not a working hour");
    ROW(fact(WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED, h + 60, NULL),
        "not a working hour");
    ROW(fact(WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED,
             WW_TIME_MAX_SECONDS + 3600 * 13, NULL),
        "not a working hour");
    ROW(fact(WW_TRAINER_FACT_TRAINING_SCHEDULED, h, U1), "exists already");
    ROW(fact(WW_TRAINER_FACT_TRAINING_SCHEDULED, h, U2), "not available");
    ROW(fact(WW_TRAINER_FACT_TRAINING_SCHEDULED, h2, U2), "not available");
    ROW(fact(WW_TRAINER_FACT_TRAINING_SCHEDULED, h, "nope"), "invalid");
    ROW(fact(WW_TRAINER_FACT_TRAINING_CONFIRMED, h, U2), "unknown training");
    ROW(fact(WW_TRAINER_FACT_TRAINING_RELEASED, h, "x"), "invalid");
    ROW(fact(WW_TRAINER_FACT_TRAINING_CANCELED, h, U2), "unknown training");
    /* The state UpdateHour's "HasTrainingScheduled is already true" would
     * need (available and scheduled) cannot be folded in. */
    rows[n] = fact(WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED, h2, NULL);
    rows[n].available = rows[n].has_training_scheduled = true;
    why[n++] = "available and scheduled";
    rows[n] = fact(WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED, at(1, 15).seconds,
                   NULL);
    rows[n].available = rows[n].has_training_scheduled = true;
    why[n++] = "available and scheduled";
    rows[n] = fact(WW_TRAINER_FACT_TRAINING_CANCELED, h, U1);
    rows[n].balance_refund = -1;
    why[n++] = "negative refund";
    rows[n] = fact(WW_TRAINER_FACT_TRAINING_CONFIRMED, h, U1);
    memset(rows[n].notes, 'x', sizeof rows[n].notes);
    why[n++] = "unterminated";
#undef ROW
    for (size_t i = 0; i < n; i++) {
        bytes_t before = snap(s);
        ww_err_t err;
        ww_err_clear(&err);
        ww_code_t rc = ww_trainer_apply(s, &rows[i], &err);
        WW_ASSERT_MSG(rc != WW_OK, "row %zu applied", i);
        WW_ASSERT_CONTAINS(err.msg, why[i]);
        WW_ASSERT(same(before, snap(s)));
    }
    /* and a misfit lifecycle: confirm twice */
    ww_err_t err;
    ww_trainer_fact_t ok = fact(WW_TRAINER_FACT_TRAINING_CONFIRMED, h, U1);
    WW_ASSERT_EQ_INT(ww_trainer_apply(s, &ok, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_apply(s, &ok, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(err.msg, "in status SCHEDULED");
    ww_trainer_state_destroy(s);
}

/* xorshift64*: deterministic, so a failure reproduces from its seed. */
static uint64_t rnd(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(2685821657736338717);
}

enum { POOL = 24, OPS = 1500, MAX_FACTS = OPS };

typedef struct run {
    ww_trainer_state_t *s;
    ww_trainer_fact_t *facts;
    size_t n_facts;
    ww_trainer_training_status_t last[POOL];
    int64_t refund[POOL];
} run_t;

static ww_time_t random_time(uint64_t *x) {
    /* three days of every hour: in and out of the schedule */
    ww_time_t t = at((int)(rnd(x) % 3), (int)(rnd(x) % 24));
    t.seconds += (int64_t)(rnd(x) % 3600);
    t.nanos = (int32_t)(rnd(x) % 1000000000);
    return t;
}

static void random_step(run_t *r, uint64_t *x) {
    static const char *users[] = {"anna", "bob", "celina"};
    static const char *notes[] = {"", "legs", "arms"};
    ww_trainer_decision_t d;
    ww_time_t t = random_time(x);
    char uuid[WW_IDS_UUID_LEN + 1];
    uuid_n((int)(rnd(x) % POOL), uuid);
    bool flag_a = rnd(x) & 1, flag_b = rnd(x) & 1;
    ww_code_t rc;
    switch (rnd(x) % 11) {
    case 0: rc = ww_trainer_decide_is_hour_available(r->s, &t, &d); break;
    case 1: rc = ww_trainer_decide_update_hour(r->s, &t, flag_a, flag_b, &d);
        break;
    case 2: rc = ww_trainer_decide_schedule_hour(r->s, &t, &d); break;
    case 3: rc = ww_trainer_decide_cancel_hour(r->s, &t, &d); break;
    case 4: rc = ww_trainer_decide_make_hour_available(r->s, &t, &d); break;
    case 5: rc = ww_trainer_decide_make_hour_unavailable(r->s, &t, &d); break;
    case 6:
    case 7:
        rc = ww_trainer_decide_schedule_training(
            r->s, uuid, users[rnd(x) % 3], &t, notes[rnd(x) % 3], &d);
        break;
    case 8: rc = ww_trainer_decide_balance_debited(r->s, uuid, &d); break;
    case 9: rc = ww_trainer_decide_balance_rejected(r->s, uuid, &d); break;
    default:
        rc = ww_trainer_decide_cancel_training(r->s, uuid, flag_a, &t, &d);
        break;
    }
    WW_ASSERT_EQ_INT(rc, d.err.code);
    if (rc != WW_OK) WW_ASSERT_EQ_INT(d.n_facts, 0);
    /* a decision over a state always applies to it */
    WW_ASSERT_EQ_INT(ww_trainer_apply_decision(r->s, &d, NULL), WW_OK);
    for (size_t i = 0; i < d.n_facts && r->n_facts < MAX_FACTS; i++)
        r->facts[r->n_facts++] = d.facts[i];
}

static bool legal(ww_trainer_training_status_t from,
                  ww_trainer_training_status_t to) {
    if (from == to) return true;
    switch (from) {
    case WW_TRAINER_TRAINING_UNSPECIFIED:
        return to == WW_TRAINER_TRAINING_PENDING;
    case WW_TRAINER_TRAINING_PENDING:
        return to != WW_TRAINER_TRAINING_UNSPECIFIED;
    case WW_TRAINER_TRAINING_SCHEDULED:
        return to == WW_TRAINER_TRAINING_CANCELED;
    default: return false;
    }
}

static void check_invariants(run_t *r) {
    int64_t active_hours[POOL];
    size_t n_active = 0;
    for (int i = 0; i < POOL; i++) {
        char uuid[WW_IDS_UUID_LEN + 1];
        ww_trainer_training_view_t v;
        ww_trainer_training_status_t st = WW_TRAINER_TRAINING_UNSPECIFIED;
        if (ww_trainer_get_training(r->s, uuid_n(i, uuid), &v, NULL) == WW_OK)
            st = v.status;
        WW_ASSERT_MSG(legal(r->last[i], st), "training %d: %s -> %s", i,
                      ww_trainer_training_status_name(r->last[i]),
                      ww_trainer_training_status_name(st));
        r->last[i] = st;
        if (st == WW_TRAINER_TRAINING_UNSPECIFIED) continue;
        if (st == WW_TRAINER_TRAINING_CANCELED) {
            WW_ASSERT(v.balance_refund >= 0 && v.balance_refund <= 2);
            if (r->refund[i] < 0) r->refund[i] = v.balance_refund;
            WW_ASSERT_EQ_INT(v.balance_refund, r->refund[i]);
        }
        if (st != WW_TRAINER_TRAINING_PENDING &&
            st != WW_TRAINER_TRAINING_SCHEDULED)
            continue;
        ww_trainer_hour_view_t h;
        ww_trainer_get_hour(r->s, v.hour, &h);
        WW_ASSERT(h.in_schedule && h.has_training_scheduled && !h.available);
        WW_ASSERT(h.held_by && strcmp(h.held_by, uuid) == 0);
        for (size_t j = 0; j < n_active; j++)
            WW_ASSERT_MSG(active_hours[j] != v.hour,
                          "two trainings at one hour");
        active_hours[n_active++] = v.hour;
    }
    ww_trainer_counts_t c;
    ww_trainer_counts(r->s, &c);
    WW_ASSERT_EQ_INT(c.hours_held, n_active);
    WW_ASSERT_EQ_INT(c.trainings_pending + c.trainings_scheduled, n_active);
    for (int day = 0; day < 3; day++)
        for (int hour = 0; hour < 24; hour++) {
            ww_trainer_hour_view_t h;
            ww_trainer_get_hour(r->s, at(day, hour).seconds, &h);
            WW_ASSERT(!(h.available && h.has_training_scheduled));
            if (!h.in_schedule) WW_ASSERT(!h.available && !h.held_by);
        }
}

WW_TEST(random_operations_keep_invariants_and_replay_to_the_same_digest) {
    for (uint64_t seed = 1; seed <= 6; seed++) {
        uint64_t x = seed * UINT64_C(0x9e3779b97f4a7c15);
        run_t r = {.s = ww_trainer_state_new(),
                   .facts = malloc(MAX_FACTS * sizeof *r.facts)};
        for (int i = 0; i < POOL; i++) r.refund[i] = -1;
        WW_ASSERT(r.s && r.facts);
        /* many available hours, so bookings actually happen */
        ww_time_t first = at(0, 0);
        ww_err_t err;
        WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(r.s, &first, 3, &err),
                         WW_OK);
        ww_trainer_state_t *base = ww_trainer_state_clone(r.s);
        ww_trainer_state_t *mid = NULL;
        for (int op = 0; op < OPS; op++) {
            random_step(&r, &x);
            check_invariants(&r);
            if (op == OPS / 2) mid = ww_trainer_state_clone(r.s);
        }
        ww_trainer_counts_t c;
        ww_trainer_counts(r.s, &c);
        WW_ASSERT_MSG(c.trainings > 5 && c.trainings_canceled > 0,
                      "seed %llu exercised too little",
                      (unsigned long long)seed);
        WW_ASSERT(r.n_facts < MAX_FACTS);
        /* replay: the fixtures' state plus every fact gives the same bytes */
        for (size_t i = 0; i < r.n_facts; i++)
            WW_ASSERT_EQ_INT(ww_trainer_apply(base, &r.facts[i], NULL), WW_OK);
        WW_ASSERT(same(snap(base), snap(r.s)));
        /* a clone is a separate state: changing it leaves the original */
        WW_ASSERT(mid);
        bytes_t mid_before = snap(mid);
        ww_trainer_state_t *copy = ww_trainer_state_clone(r.s);
        WW_ASSERT(same(snap(copy), snap(r.s)));
        ww_trainer_state_destroy(r.s);
        WW_ASSERT(same(mid_before, snap(mid)));
        ww_trainer_state_destroy(mid);
        ww_trainer_state_destroy(copy);
        ww_trainer_state_destroy(base);
        free(r.facts);
    }
}

WW_TEST(fixtures_fill_thirty_days_deterministically) {
    ww_trainer_state_t *a = ww_trainer_state_new(), *b;
    ww_time_t first = at(0, 17); /* any time of the first day */
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(a, &first, 30, &err), WW_OK);
    size_t want = 0;
    for (int day = 0; day < 30; day++)
        for (int h = 12; h <= 20; h++) {
            bool on = ww_trainer_fixture_hour_available(day, h);
            want += on;
            bool got = !on;
            ww_time_t t = at(day, h);
            WW_ASSERT_EQ_INT(ww_trainer_is_hour_available(a, &t, &got, &err),
                             WW_OK);
            WW_ASSERT_EQ_INT(got, on);
        }
    ww_trainer_counts_t c;
    ww_trainer_counts(a, &c);
    WW_ASSERT_EQ_INT(c.hours_available, want);
    WW_ASSERT(want > 30 * 9 / 2 && want < 30 * 9); /* "some" available */
    bool got = true;
    ww_time_t after = at(30, 13), before = at(-1, 13);
    ww_trainer_is_hour_available(a, &after, &got, &err);
    WW_ASSERT(!got);
    ww_trainer_is_hour_available(a, &before, &got, &err);
    WW_ASSERT(!got);
    /* again over a booked state: bookings stay, digest equals a replay */
    b = ww_trainer_state_clone(a);
    WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(a, &first, 30, &err), WW_OK);
    WW_ASSERT(same(snap(a), snap(b)));
    ww_time_t booked = at(0, 13);
    WW_ASSERT(ww_trainer_fixture_hour_available(0, 13));
    WW_ASSERT_EQ_INT(
        ww_trainer_schedule_training(a, U1, "anna", &booked, "", &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(a, &first, 30, &err), WW_OK);
    WW_ASSERT_EQ_INT(state_of(a, booked), HELD);
    /* refusals */
    ww_time_t bad = {0, -1}, late = {WW_TIME_MAX_SECONDS - 86400 * 10, 0};
    WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(b, &bad, 30, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(b, &first, 0, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(b, &late, 30, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_trainer_state_destroy(a);
    ww_trainer_state_destroy(b);
}

/* Appends big-endian bytes to an expected buffer. */
static size_t be(uint8_t *p, uint64_t v, int width) {
    for (int i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    return (size_t)width;
}

static size_t str(uint8_t *p, const char *s) {
    size_t n = strlen(s);
    be(p, n, 4);
    memcpy(p + 4, s, n);
    return 4 + n;
}

WW_TEST(serialisation_matches_the_documented_layout) {
    ww_trainer_state_t *s = ww_trainer_state_new();
    ww_err_t err;
    ww_time_t h14 = at(0, 14), h12 = at(0, 12), h13 = at(0, 13);
    /* inserted out of order; h13 touched but back to the default state */
    prepare(s, h14, AV);
    prepare(s, h12, HELD);
    WW_ASSERT_EQ_INT(ww_trainer_make_hour_available(s, &h13, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_make_hour_unavailable(s, &h13, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_balance_debited(s, U1, &err), WW_OK);

    uint8_t want[512];
    size_t n = 0;
    memcpy(want, "WWTR", 4);
    n += 4;
    n += be(want + n, 1, 4);
    n += be(want + n, 2, 8); /* two hours: h12, h14 */
    n += be(want + n, (uint64_t)h12.seconds, 8);
    want[n++] = 0;
    want[n++] = 1;
    n += str(want + n, U1);
    n += be(want + n, (uint64_t)h14.seconds, 8);
    want[n++] = 1;
    want[n++] = 0;
    n += str(want + n, "");
    n += be(want + n, 1, 8); /* one training */
    n += str(want + n, U1);
    n += str(want + n, "attendee");
    n += be(want + n, (uint64_t)h12.seconds, 8);
    n += str(want + n, "");
    want[n++] = WW_TRAINER_TRAINING_SCHEDULED;
    want[n++] = 1; /* debited */
    want[n++] = 0; /* by trainer */
    n += be(want + n, 0, 8);

    bytes_t got = snap(s);
    WW_ASSERT_EQ_INT(got.n, n);
    WW_ASSERT(memcmp(got.b, want, n) == 0);
    free(got.b);

    ww_trainer_state_t *empty = ww_trainer_state_new();
    bytes_t e = snap(empty);
    WW_ASSERT_EQ_INT(e.n, 4 + 4 + 8 + 8);
    free(e.b);
    ww_trainer_state_destroy(empty);
    ww_trainer_state_destroy(s);
}

/* The undo log: random transactions, each committed or rolled back; a
 * rollback restores the exact bytes of its begin point, a commit keeps
 * everything, and lookups still work after appended records were undone. */
WW_TEST(rollback_restores_the_begin_point_and_commit_keeps_the_changes) {
    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint64_t x = seed * UINT64_C(0x2545f4914f6cdd1d);
        run_t r = {.s = ww_trainer_state_new(),
                   .facts = malloc(MAX_FACTS * sizeof *r.facts)};
        for (int i = 0; i < POOL; i++) r.refund[i] = -1;
        ww_time_t first = at(0, 0);
        WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(r.s, &first, 3, NULL), WW_OK);
        ww_trainer_state_t *mirror = ww_trainer_state_clone(r.s);
        int rolled_back = 0, committed = 0;
        for (int txn = 0; txn < 60; txn++) {
            bytes_t before = snap(r.s);
            ww_trainer_training_status_t last[POOL];
            memcpy(last, r.last, sizeof last);
            ww_trainer_state_begin(r.s);
            ww_trainer_state_begin(r.s); /* a second begin keeps the first */
            size_t first_fact = r.n_facts;
            int ops = 1 + (int)(rnd(&x) % 40);
            for (int op = 0; op < ops && r.n_facts < MAX_FACTS - 2; op++) {
                random_step(&r, &x);
                check_invariants(&r);
            }
            if (rnd(&x) % 3 == 0) {
                ww_trainer_state_rollback(r.s);
                WW_ASSERT(same(before, snap(r.s)));
                r.n_facts = first_fact; /* those facts never happened */
                memcpy(r.last, last, sizeof r.last);
                rolled_back++;
            } else {
                free(before.b);
                ww_trainer_state_commit(r.s);
                for (size_t i = first_fact; i < r.n_facts; i++)
                    WW_ASSERT_EQ_INT(ww_trainer_apply(mirror, &r.facts[i], NULL),
                                     WW_OK);
                committed++;
            }
            WW_ASSERT(same(snap(mirror), snap(r.s)));
            for (int i = 0; i < POOL; i++) r.refund[i] = -1;
            check_invariants(&r);
        }
        WW_ASSERT(rolled_back > 5 && committed > 5);
        /* outside a transaction nothing is recorded: rollback is a no-op */
        random_step(&r, &x);
        bytes_t kept = snap(r.s);
        ww_trainer_state_rollback(r.s);
        WW_ASSERT(same(kept, snap(r.s)));
        ww_trainer_state_destroy(mirror);
        ww_trainer_state_destroy(r.s);
        free(r.facts);
    }
}

const ww_test_case_t trainer_fold_cases[] = {
    WW_CASE(apply_refuses_malformed_and_misfit_facts_and_changes_nothing),
    WW_CASE(random_operations_keep_invariants_and_replay_to_the_same_digest),
    WW_CASE(rollback_restores_the_begin_point_and_commit_keeps_the_changes),
    WW_CASE(fixtures_fill_thirty_days_deterministically),
    WW_CASE(serialisation_matches_the_documented_layout),
    {0}};
