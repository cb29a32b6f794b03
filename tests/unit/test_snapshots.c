/* test_snapshots.c - states restored from their canonical bytes: the bytes
 * come back the same, the restored state answers every lookup as the
 * original, and later facts apply to both alike (bytes compared after). */
#include "snapshot_test_util.h"

/* Cases of test_snapshots_bad.c, run by this binary's main. */
extern const ww_test_case_t snapshot_bad_cases[];

static bool bytes_eq(bytes_t a, bytes_t b) {
    return a.n == b.n && memcmp(a.b, b.b, a.n) == 0;
}

static void same_decision(const ww_trainer_decision_t *a,
                          const ww_trainer_decision_t *b, size_t step) {
    WW_ASSERT_MSG(
        a->err.code == b->err.code && strcmp(a->err.msg, b->err.msg) == 0,
        "step %zu: %s \"%s\" vs %s \"%s\"", step, ww_code_name(a->err.code),
        a->err.msg, ww_code_name(b->err.code), b->err.msg);
    WW_ASSERT_EQ_INT(a->n_facts, b->n_facts);
    WW_ASSERT(memcmp(a->facts, b->facts, a->n_facts * sizeof a->facts[0]) == 0);
    WW_ASSERT_EQ_INT(a->is_available, b->is_available);
    WW_ASSERT_EQ_INT(a->balance_refund, b->balance_refund);
}

static void same_view(const ww_trainer_training_view_t *a,
                      const ww_trainer_training_view_t *b) {
    WW_ASSERT_EQ_STR(a->training_uuid, b->training_uuid);
    WW_ASSERT_EQ_STR(a->user_id, b->user_id);
    WW_ASSERT_EQ_STR(a->notes, b->notes);
    WW_ASSERT_EQ_INT(a->hour, b->hour);
    WW_ASSERT_EQ_INT(a->status, b->status);
    WW_ASSERT_EQ_INT(a->balance_refund, b->balance_refund);
    WW_ASSERT_EQ_INT(a->debited, b->debited);
    WW_ASSERT_EQ_INT(a->canceled_by_trainer, b->canceled_by_trainer);
}

/* Every hour of days -1..4, every uuid, the counts: the same answers. */
static void same_trainer_answers(const ww_trainer_state_t *a,
                                 const ww_trainer_state_t *b) {
    for (int day = -1; day <= 4; day++)
        for (int hour = 0; hour < 24; hour++) {
            ww_time_t t = at(day, hour);
            ww_trainer_hour_view_t x, y;
            ww_trainer_get_hour(a, t.seconds, &x);
            ww_trainer_get_hour(b, t.seconds, &y);
            WW_ASSERT_EQ_INT(x.in_schedule, y.in_schedule);
            WW_ASSERT_EQ_INT(x.available, y.available);
            WW_ASSERT_EQ_INT(x.has_training_scheduled,
                             y.has_training_scheduled);
            WW_ASSERT_EQ_STR(x.held_by ? x.held_by : "-",
                             y.held_by ? y.held_by : "-");
            bool av_a = false, av_b = true;
            WW_ASSERT_EQ_INT(ww_trainer_is_hour_available(a, &t, &av_a, NULL),
                             WW_OK);
            WW_ASSERT_EQ_INT(ww_trainer_is_hour_available(b, &t, &av_b, NULL),
                             WW_OK);
            WW_ASSERT_EQ_INT(av_a, av_b);
        }
    for (size_t i = 0; i < trainer_uuids_n; i++) {
        ww_trainer_training_view_t x, y;
        ww_err_t ea, eb;
        ww_code_t ra = ww_trainer_get_training(a, trainer_uuids[i], &x, &ea);
        WW_ASSERT_EQ_INT(ww_trainer_get_training(b, trainer_uuids[i], &y, &eb),
                         ra);
        if (ra == WW_OK)
            same_view(&x, &y);
        else
            WW_ASSERT_EQ_STR(ea.msg, eb.msg);
    }
    ww_trainer_counts_t x, y;
    ww_trainer_counts(a, &x);
    ww_trainer_counts(b, &y);
    WW_ASSERT(memcmp(&x, &y, sizeof x) == 0);
}

/* The later steps on both: same decisions, then the same bytes. */
static void same_trainer_future(target_t *a, target_t *b) {
    for (size_t i = 0; i < trainer_later_n; i++) {
        ww_trainer_decision_t x, y;
        step_decide(target_state(a), &trainer_later[i], &x);
        step_decide(target_state(b), &trainer_later[i], &y);
        same_decision(&x, &y, i);
        WW_ASSERT_EQ_INT(target_do(a, &trainer_later[i], NULL), x.err.code);
        WW_ASSERT_EQ_INT(target_do(b, &trainer_later[i], NULL), y.err.code);
    }
}

WW_TEST(trainer_state_round_trips_and_behaves_like_the_original) {
    ww_trainer_state_t *orig = trainer_built();
    ww_trainer_counts_t c;
    ww_trainer_counts(orig, &c);
    /* the state holds what the test promises */
    WW_ASSERT_EQ_INT(c.trainings_pending, 2);
    WW_ASSERT_EQ_INT(c.trainings_scheduled, 1);
    WW_ASSERT_EQ_INT(c.trainings_canceled, 3);
    WW_ASSERT_EQ_INT(c.trainings_rejected, 1);
    WW_ASSERT_EQ_INT(c.hours_scheduled, 4);
    WW_ASSERT_EQ_INT(c.hours_held, 3);

    bytes_t in = snap(orig);
    ww_trainer_state_t *back = NULL;
    ww_err_t err;
    WW_ASSERT_MSG(ww_trainer_state_deserialize(in.b, in.n, &back, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT(same(in, snap(back)));
    same_trainer_answers(orig, back);

    /* a transaction on the restored state: rollback is exact, and it was
     * not recording before (rollback without begin changes nothing) */
    bytes_t before = snap(back), now;
    ww_trainer_state_rollback(back);
    now = snap(back);
    WW_ASSERT(bytes_eq(before, now));
    free(now.b);
    ww_trainer_state_begin(back);
    target_t tb = {.state = back};
    for (size_t i = 0; i < trainer_later_n; i++)
        target_do(&tb, &trainer_later[i], NULL);
    ww_trainer_state_rollback(back);
    WW_ASSERT(same(before, snap(back)));

    target_t ta = {.state = orig};
    same_trainer_future(&ta, &tb);
    WW_ASSERT(same(snap(orig), snap(back)));
    same_trainer_answers(orig, back);
    ww_trainer_state_destroy(orig);
    ww_trainer_state_destroy(back);
}

WW_TEST(empty_states_round_trip) {
    ww_trainer_state_t *t = ww_trainer_state_new(), *t2 = NULL;
    bytes_t b = snap(t);
    WW_ASSERT_EQ_INT(ww_trainer_state_deserialize(b.b, b.n, &t2, NULL), WW_OK);
    WW_ASSERT(same(b, snap(t2)));
    ww_users_state_t *u = ww_users_state_new(), *u2 = NULL;
    b = users_bytes(u);
    WW_ASSERT_EQ_INT(ww_users_state_deserialize(b.b, b.n, &u2, NULL), WW_OK);
    WW_ASSERT(same(b, users_bytes(u2)));
    ww_trainer_roster_t *r = ww_trainer_roster_new(), *r2 = NULL;
    b = roster_bytes(r);
    WW_ASSERT_EQ_INT(ww_trainer_roster_deserialize(b.b, b.n, &r2, NULL), WW_OK);
    WW_ASSERT(same(b, roster_bytes(r2)));
    ww_shard_t *s = ww_shard_new(&ww_users_shard_ops, u), *s2 = NULL;
    b = shard_bytes(s);
    WW_ASSERT_EQ_INT(
        ww_shard_deserialize(&ww_users_shard_ops, b.b, b.n, &s2, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_shard_last_command(s2), -1);
    WW_ASSERT_EQ_INT(ww_dedup_count(ww_shard_dedup(s2)), 0);
    WW_ASSERT(same(b, shard_bytes(s2)));
    ww_shard_destroy(s);
    ww_shard_destroy(s2);
    ww_trainer_state_destroy(t);
    ww_trainer_state_destroy(t2);
    ww_users_state_destroy(u2);
    ww_trainer_roster_destroy(r);
    ww_trainer_roster_destroy(r2);
}

static void same_roster_answers(const ww_trainer_roster_t *a,
                                const ww_trainer_roster_t *b) {
    static const char *const ids[] = {"ola", "tom", "zoe", "nobody"};
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(a), ww_trainer_roster_count(b));
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        same_trainer_answers(ww_trainer_roster_get(a, ids[i]),
                             ww_trainer_roster_get(b, ids[i]));
    for (size_t i = 0; i < trainer_uuids_n; i++) {
        const char *ta = NULL, *tb = NULL;
        ww_trainer_training_view_t x, y;
        ww_code_t rc =
            ww_trainer_roster_find_training(a, trainer_uuids[i], &ta, &x, NULL);
        WW_ASSERT_EQ_INT(
            ww_trainer_roster_find_training(b, trainer_uuids[i], &tb, &y, NULL),
            rc);
        if (rc != WW_OK) continue;
        WW_ASSERT_EQ_STR(ta, tb);
        same_view(&x, &y);
    }
    ww_trainer_counts_t x, y;
    ww_trainer_roster_counts(a, &x);
    ww_trainer_roster_counts(b, &y);
    WW_ASSERT(memcmp(&x, &y, sizeof x) == 0);
}

WW_TEST(roster_round_trips_with_several_trainers) {
    ww_trainer_roster_t *orig = roster_built(), *back = NULL;
    bytes_t in = roster_bytes(orig);
    ww_err_t err;
    WW_ASSERT_MSG(ww_trainer_roster_deserialize(in.b, in.n, &back, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT(same(in, roster_bytes(back)));
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(back), 3);
    same_roster_answers(orig, back);
    /* the uuid both tom and ola have is ola's, before and after */
    const char *who = NULL;
    ww_trainer_training_view_t v;
    WW_ASSERT_EQ_INT(
        ww_trainer_roster_find_training(back, T_PEND, &who, &v, NULL), WW_OK);
    WW_ASSERT_EQ_STR(who, "ola");
    WW_ASSERT_EQ_STR(v.user_id, "olga");

    /* later facts for tom, a new trainer and zoe, in a transaction that
     * is rolled back, then committed */
    target_t a[] = {{.roster = orig, .trainer_id = "tom"},
                    {.roster = orig, .trainer_id = "amy"},
                    {.roster = orig, .trainer_id = "zoe"}};
    target_t b[] = {{.roster = back, .trainer_id = "tom"},
                    {.roster = back, .trainer_id = "amy"},
                    {.roster = back, .trainer_id = "zoe"}};
    bytes_t before = roster_bytes(back);
    ww_trainer_roster_begin(back);
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < trainer_later_n; k++)
            target_do(&b[i], &trainer_later[k], NULL);
    ww_trainer_roster_rollback(back);
    WW_ASSERT(same(before, roster_bytes(back)));
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(back), 3);
    ww_trainer_roster_begin(orig);
    ww_trainer_roster_begin(back);
    for (size_t i = 0; i < 3; i++)
        same_trainer_future(&a[i], &b[i]);
    ww_trainer_roster_commit(orig);
    ww_trainer_roster_commit(back);
    WW_ASSERT(same(roster_bytes(orig), roster_bytes(back)));
    same_roster_answers(orig, back);
    ww_trainer_roster_destroy(orig);
    ww_trainer_roster_destroy(back);
}

static void same_users_answers(const ww_users_state_t *a,
                               const ww_users_state_t *b) {
    for (size_t i = 0; i < users_ids_n; i++) {
        int64_t x = -1, y = -2;
        WW_ASSERT_EQ_INT(ww_users_get_balance(a, users_ids[i], &x, NULL),
                         WW_OK);
        WW_ASSERT_EQ_INT(ww_users_get_balance(b, users_ids[i], &y, NULL),
                         WW_OK);
        WW_ASSERT_EQ_INT(x, y);
    }
    for (size_t i = 0; i < users_uuids_n; i++)
        WW_ASSERT_EQ_INT(ww_users_training_outcome(a, users_uuids[i]),
                         ww_users_training_outcome(b, users_uuids[i]));
    ww_users_counts_t x, y;
    ww_users_counts(a, &x);
    ww_users_counts(b, &y);
    WW_ASSERT(memcmp(&x, &y, sizeof x) == 0);
}

/* Later users decisions, decided over `s` and applied; out[i] each. */
enum { USERS_LATER = 12 };
static void users_later(ww_users_state_t *s, ww_users_decision_t *out) {
    const char *u1 = users_uuids[0], *u2 = users_uuids[1], *u3 = users_uuids[2];
    int i = 0;
    ww_users_decide_debit_for_training(s, "zero", u1, &out[i++]); /* repeat */
    ww_users_decide_debit_for_training(s, "demo-anna", u1, &out[i++]);
    ww_users_decide_refund_for_training(s, "zero", u1, 1, &out[i++]);
    ww_users_apply_decision(s, &out[i - 1], NULL);
    ww_users_decide_refund_for_training(s, "zero", u1, 1, &out[i++]); /* 2nd */
    ww_users_decide_refund_for_training(s, "broke", u2, 1, &out[i++]);
    ww_users_decide_refund_for_training(s, "demo-anna", u3, 2, &out[i++]);
    ww_users_decide_debit_for_training(s, "zero", T_NEW, &out[i++]);
    ww_users_apply_decision(s, &out[i - 1], NULL);
    ww_users_decide_debit_for_training(s, "broke", T_NONE, &out[i++]);
    ww_users_apply_decision(s, &out[i - 1], NULL);
    ww_users_decide_update_balance(s, "demo-anna", -100, &out[i++]);
    ww_users_decide_update_balance(s, "rich", 1, &out[i++]); /* overflow */
    ww_users_decide_update_balance(s, "gone", 4, &out[i++]);
    ww_users_apply_decision(s, &out[i - 1], NULL);
    ww_users_decide_update_balance(s, "demo-dawid", -6, &out[i++]);
    ww_users_apply_decision(s, &out[i - 1], NULL);
    WW_ASSERT_EQ_INT(i, USERS_LATER);
}

WW_TEST(users_state_round_trips_and_behaves_like_the_original) {
    ww_users_state_t *orig = users_built(), *back = NULL;
    ww_users_counts_t c;
    ww_users_counts(orig, &c);
    WW_ASSERT_EQ_INT(c.trainings_debited, 3);
    WW_ASSERT_EQ_INT(c.trainings_rejected, 1);
    WW_ASSERT_EQ_INT(c.trainings_refunded, 1);
    WW_ASSERT_EQ_INT(c.users, 7); /* zero, broke and gone are at 0 */
    bytes_t in = users_bytes(orig);
    ww_err_t err;
    WW_ASSERT_MSG(ww_users_state_deserialize(in.b, in.n, &back, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT(same(in, users_bytes(back)));
    same_users_answers(orig, back);

    bytes_t before = users_bytes(back);
    ww_users_decision_t x[USERS_LATER], y[USERS_LATER];
    ww_users_state_begin(back);
    users_later(back, y);
    ww_users_state_rollback(back);
    WW_ASSERT(same(before, users_bytes(back)));

    users_later(orig, x);
    users_later(back, y);
    for (int i = 0; i < USERS_LATER; i++) {
        WW_ASSERT_MSG(x[i].err.code == y[i].err.code &&
                          strcmp(x[i].err.msg, y[i].err.msg) == 0,
                      "step %d: \"%s\" vs \"%s\"", i, x[i].err.msg,
                      y[i].err.msg);
        WW_ASSERT_EQ_INT(x[i].n_facts, y[i].n_facts);
        WW_ASSERT(memcmp(x[i].facts, y[i].facts,
                         x[i].n_facts * sizeof x[i].facts[0]) == 0);
        WW_ASSERT_EQ_INT(x[i].balance, y[i].balance);
        WW_ASSERT_EQ_INT(x[i].outcome, y[i].outcome);
        WW_ASSERT_EQ_INT(x[i].refunded, y[i].refunded);
    }
    /* the steps did decide something of each kind */
    WW_ASSERT_EQ_INT(x[1].err.code, WW_ERR_ALREADY_EXISTS);
    WW_ASSERT_EQ_INT(x[2].refunded, 1);
    WW_ASSERT_EQ_INT(x[7].outcome, WW_USERS_DEBIT_REJECTED);
    WW_ASSERT_EQ_INT(x[9].err.code, WW_ERR_OUT_OF_RANGE);
    WW_ASSERT(same(users_bytes(orig), users_bytes(back)));
    same_users_answers(orig, back);
    ww_users_state_destroy(orig);
    ww_users_state_destroy(back);
}

static void same_keys(const ww_shard_t *a, const ww_shard_t *b) {
    WW_ASSERT_EQ_INT(ww_shard_last_command(a), ww_shard_last_command(b));
    WW_ASSERT_EQ_INT(ww_dedup_count(ww_shard_dedup(a)),
                     ww_dedup_count(ww_shard_dedup(b)));
    for (size_t c = 0; c < shard_callers_n; c++)
        for (size_t k = 0; k < shard_keys_n; k++) {
            char req[64];
            uint8_t right[WW_DEDUP_DIGEST_LEN], wrong[WW_DEDUP_DIGEST_LEN];
            snprintf(req, sizeof req, "req %s %s", shard_callers[c],
                     shard_keys[k]);
            shard_digest(req, right);
            shard_digest("something else", wrong);
            const uint8_t *digests[] = {right, wrong};
            for (int d = 0; d < 2; d++) {
                const ww_dedup_entry_t *x, *y;
                ww_dedup_verdict_t v =
                    ww_dedup_check(ww_shard_dedup(a), shard_callers[c],
                                   shard_keys[k], digests[d], &x);
                WW_ASSERT_EQ_INT(ww_dedup_check(ww_shard_dedup(b),
                                                shard_callers[c], shard_keys[k],
                                                digests[d], &y),
                                 v);
                if (v == WW_DEDUP_NEW) continue;
                WW_ASSERT(memcmp(x, y, sizeof *x) == 0);
            }
        }
}

/* One later command on a shard: a fact, its key recorded at `offset`. */
static void shard_later(ww_shard_t *s, bool users, int64_t offset,
                        const char *key) {
    ww_shard_origin_t o = {.caller = "svc-a", .key = key};
    shard_digest(key, o.digest);
    if (users) {
        ww_users_decision_t d;
        ww_users_decide_update_balance(ww_shard_state(s), "demo-celina", 1, &d);
        WW_ASSERT_EQ_INT(ww_users_apply_decision(ww_shard_state(s), &d, NULL),
                         WW_OK);
    } else {
        target_t t = {.roster = ww_shard_state(s), .trainer_id = "tom"};
        const step_t st = S_HOUR(AVAIL, 4, 15);
        WW_ASSERT_EQ_INT(target_do(&t, &st, NULL), WW_OK);
    }
    WW_ASSERT_EQ_INT(ww_shard_record(s, offset, &o, 7, NULL), WW_OK);
}

static void shard_round_trip(const ww_shard_ops_t *ops, void *state,
                             bool users) {
    ww_shard_t *orig = shard_built(ops, state), *back = NULL;
    WW_ASSERT_EQ_INT(ww_dedup_count(ww_shard_dedup(orig)), 5);
    bytes_t in = shard_bytes(orig);
    ww_err_t err;
    WW_ASSERT_MSG(ww_shard_deserialize(ops, in.b, in.n, &back, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT(same(in, shard_bytes(back)));
    WW_ASSERT_EQ_INT(ww_shard_last_command(back), 41);
    same_keys(orig, back);

    /* not recording: a rollback without begin changes nothing; a rolled
     * back transaction leaves state, keys and position as they were */
    bytes_t before = shard_bytes(back), now;
    ww_shard_rollback(back);
    now = shard_bytes(back);
    WW_ASSERT(bytes_eq(before, now));
    free(now.b);
    ww_shard_begin(back);
    shard_later(back, users, 50, "new-key");
    WW_ASSERT_EQ_INT(ww_shard_last_command(back), 50);
    ww_shard_rollback(back);
    WW_ASSERT(same(before, shard_bytes(back)));
    WW_ASSERT_EQ_INT(ww_shard_last_command(back), 41);

    ww_shard_t *both[] = {orig, back};
    for (int i = 0; i < 2; i++) {
        ww_shard_begin(both[i]);
        shard_later(both[i], users, 50, "new-key");
        shard_later(both[i], users, 51, "k-1"); /* svc-a's k-1 exists */
        ww_shard_commit(both[i]);
    }
    WW_ASSERT(same(shard_bytes(orig), shard_bytes(back)));
    same_keys(orig, back);
    ww_shard_destroy(orig);
    ww_shard_destroy(back);
}

WW_TEST(shards_round_trip_with_keys_and_position) {
    shard_round_trip(&ww_users_shard_ops, users_built(), true);
    shard_round_trip(&ww_trainer_roster_shard_ops, roster_built(), false);
}

int main(int argc, char **argv) {
    static const ww_test_case_t good[] = {
        WW_CASE(trainer_state_round_trips_and_behaves_like_the_original),
        WW_CASE(empty_states_round_trip),
        WW_CASE(roster_round_trips_with_several_trainers),
        WW_CASE(users_state_round_trips_and_behaves_like_the_original),
        WW_CASE(shards_round_trip_with_keys_and_position),
        {0}};
    size_t n = 0, m = 0;
    while (good[n].name)
        n++;
    while (snapshot_bad_cases[m].name)
        m++;
    ww_test_case_t *all = calloc(n + m + 1, sizeof *all);
    if (!all) return 1;
    memcpy(all, good, n * sizeof *all);
    memcpy(all + n, snapshot_bad_cases, m * sizeof *all);
    int rc = ww_test_main(argc, argv, all);
    free(all);
    return rc;
}
