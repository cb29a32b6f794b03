/* test_shards.c - a partition's state: idempotency keys (scoped by caller,
 * bound to their request), the trainer roster (many trainers, undo of
 * trainers added in a transaction) and the shard holding both, whose
 * rollback restores state, keys and position exactly. */
#include <stdlib.h>
#include <string.h>

#include "trainer_test_util.h"
#include "ww_dedup.h"
#include "ww_shard.h"
#include "ww_trainer_roster.h"
#include "ww_users_domain.h"

static void digest_of(const char *text, uint8_t d[WW_DEDUP_DIGEST_LEN]) {
    memset(d, 0, WW_DEDUP_DIGEST_LEN);
    strncpy((char *)d, text, WW_DEDUP_DIGEST_LEN);
}

WW_TEST(dedup_scopes_keys_by_caller_and_binds_them_to_one_request) {
    ww_dedup_t *d = ww_dedup_new();
    uint8_t a[WW_DEDUP_DIGEST_LEN], b[WW_DEDUP_DIGEST_LEN];
    digest_of("request a", a);
    digest_of("request b", b);
    const ww_dedup_entry_t *e;
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "svc", "k1", a, &e), WW_DEDUP_NEW);
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "svc", "", a, &e), WW_DEDUP_NEW);
    ww_dedup_entry_t put = {.command_offset = 41, .result = 2};
    memcpy(put.digest, a, sizeof put.digest);
    WW_ASSERT_EQ_INT(ww_dedup_put(d, "svc", "k1", &put, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "svc", "k1", a, &e), WW_DEDUP_REPEAT);
    WW_ASSERT_EQ_INT(e->command_offset, 41);
    WW_ASSERT_EQ_INT(e->result, 2);
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "svc", "k1", b, &e), WW_DEDUP_CONFLICT);
    /* another caller's k1 is another key; the parts never run together */
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "other", "k1", a, NULL), WW_DEDUP_NEW);
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "sv", "ck1", a, NULL), WW_DEDUP_NEW);
    /* the first entry of a key stays */
    put.command_offset = 99;
    WW_ASSERT_EQ_INT(ww_dedup_put(d, "svc", "k1", &put, NULL), WW_OK);
    ww_dedup_check(d, "svc", "k1", a, &e);
    WW_ASSERT_EQ_INT(e->command_offset, 41);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_dedup_put(d, "svc", "", &put, &err),
                     WW_ERR_INVALID_ARGUMENT);
    char longkey[WW_DEDUP_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    WW_ASSERT_EQ_INT(ww_dedup_put(d, "svc", longkey, &put, &err),
                     WW_ERR_INVALID_ARGUMENT);
    /* puts of a rolled back transaction are forgotten, others stay */
    ww_dedup_begin(d);
    for (int i = 0; i < 200; i++) {
        char k[16];
        snprintf(k, sizeof k, "t%d", i);
        WW_ASSERT_EQ_INT(ww_dedup_put(d, "svc", k, &put, NULL), WW_OK);
    }
    WW_ASSERT_EQ_INT(ww_dedup_count(d), 201);
    ww_dedup_rollback(d);
    WW_ASSERT_EQ_INT(ww_dedup_count(d), 1);
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "svc", "t7", a, NULL), WW_DEDUP_NEW);
    WW_ASSERT_EQ_INT(ww_dedup_check(d, "svc", "k1", a, NULL), WW_DEDUP_REPEAT);
    ww_dedup_t *c = ww_dedup_clone(d);
    WW_ASSERT_EQ_INT(ww_dedup_check(c, "svc", "k1", b, NULL),
                     WW_DEDUP_CONFLICT);
    ww_dedup_destroy(c);
    ww_dedup_destroy(d);
}

static ww_trainer_fact_t hour_fact(int day, int hour, bool available) {
    ww_trainer_fact_t f;
    memset(&f, 0, sizeof f);
    f.kind = WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED;
    f.hour = at(day, hour).seconds;
    f.available = available;
    return f;
}

static ww_trainer_fact_t booking(int day, int hour, const char *uuid) {
    ww_trainer_fact_t f;
    memset(&f, 0, sizeof f);
    f.kind = WW_TRAINER_FACT_TRAINING_SCHEDULED;
    f.hour = at(day, hour).seconds;
    snprintf(f.training_uuid, sizeof f.training_uuid, "%s", uuid);
    snprintf(f.user_id, sizeof f.user_id, "anna");
    return f;
}

static bool available(const ww_trainer_roster_t *r, const char *trainer,
                      int day, int hour) {
    ww_time_t t = at(day, hour);
    bool yes = false;
    WW_ASSERT_EQ_INT(ww_trainer_is_hour_available(ww_trainer_roster_get(r, trainer),
                                                  &t, &yes, NULL),
                     WW_OK);
    return yes;
}

WW_TEST(roster_keeps_trainers_apart_and_undoes_added_ones) {
    ww_trainer_roster_t *r = ww_trainer_roster_new();
    ww_trainer_fact_t f = hour_fact(1, 13, true);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "tom", &f, NULL), WW_OK);
    WW_ASSERT(available(r, "tom", 1, 13));
    WW_ASSERT(!available(r, "ola", 1, 13)); /* unknown: nothing available */
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(r), 1);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "", &f, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "trainer_id is empty");

    uint8_t *before;
    size_t n_before;
    WW_ASSERT_EQ_INT(ww_trainer_roster_serialize(r, &before, &n_before, NULL),
                     WW_OK);
    ww_trainer_roster_begin(r);
    f = booking(1, 13, U1);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "tom", &f, NULL), WW_OK);
    f = hour_fact(1, 14, true);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "ola", &f, NULL), WW_OK);
    f = booking(1, 14, U2);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "ola", &f, NULL), WW_OK);
    const char *who = NULL;
    ww_trainer_training_view_t v;
    WW_ASSERT_EQ_INT(ww_trainer_roster_find_training(r, U2, &who, &v, NULL),
                     WW_OK);
    WW_ASSERT_EQ_STR(who, "ola");
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(r), 2);
    ww_trainer_roster_rollback(r);
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(r), 1);
    WW_ASSERT_EQ_INT(ww_trainer_roster_find_training(r, U2, &who, &v, &err),
                     WW_ERR_NOT_FOUND);
    WW_ASSERT(available(r, "tom", 1, 13));
    uint8_t *after;
    size_t n_after;
    WW_ASSERT_EQ_INT(ww_trainer_roster_serialize(r, &after, &n_after, NULL),
                     WW_OK);
    WW_ASSERT(n_before == n_after && memcmp(before, after, n_after) == 0);
    free(before);
    free(after);

    /* committed: both trainers, found by uuid, counted together; the
     * bytes do not depend on the order trainers appeared in */
    ww_trainer_roster_begin(r);
    f = hour_fact(2, 15, true);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "ola", &f, NULL), WW_OK);
    f = booking(2, 15, U2);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(r, "ola", &f, NULL), WW_OK);
    ww_trainer_roster_commit(r);
    ww_trainer_counts_t c;
    ww_trainer_roster_counts(r, &c);
    WW_ASSERT_EQ_INT(c.hours_available, 1);
    WW_ASSERT_EQ_INT(c.trainings_pending, 1);
    ww_trainer_roster_t *other = ww_trainer_roster_new();
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(other, "ola", &f, NULL),
                     WW_ERR_FAILED_PRECONDITION); /* hour not available yet */
    f = hour_fact(2, 15, true);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(other, "ola", &f, NULL), WW_OK);
    f = booking(2, 15, U2);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(other, "ola", &f, NULL), WW_OK);
    f = hour_fact(1, 13, true);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(other, "tom", &f, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_roster_serialize(r, &before, &n_before, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(
        ww_trainer_roster_serialize(other, &after, &n_after, NULL), WW_OK);
    WW_ASSERT(n_before == n_after && memcmp(before, after, n_after) == 0);
    free(before);
    free(after);
    ww_trainer_roster_destroy(other);
    ww_trainer_roster_destroy(r);
}

static bytes_t shard_snap(const ww_shard_t *s) {
    bytes_t x = {0};
    WW_ASSERT_EQ_INT(ww_shard_serialize(s, &x.b, &x.n, NULL), WW_OK);
    return x;
}

WW_TEST(shard_rollback_restores_state_keys_and_position) {
    ww_shard_t *s =
        ww_shard_new(&ww_users_shard_ops, ww_users_state_new());
    WW_ASSERT(s);
    WW_ASSERT_EQ_INT(ww_shard_last_command(s), -1);
    ww_shard_origin_t o = {.caller = "svc", .key = "credit-1"};
    digest_of("credit anna 5", o.digest);
    ww_users_decision_t d;
    ww_users_decide_update_balance(ww_shard_state(s), "anna", 5, &d);
    WW_ASSERT_EQ_INT(ww_users_apply_decision(ww_shard_state(s), &d, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_shard_record(s, 10, &o, 0, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_shard_last_command(s), 10);

    bytes_t before = shard_snap(s);
    ww_shard_begin(s);
    ww_users_decide_update_balance(ww_shard_state(s), "bob", 3, &d);
    WW_ASSERT_EQ_INT(ww_users_apply_decision(ww_shard_state(s), &d, NULL),
                     WW_OK);
    o.key = "credit-2";
    WW_ASSERT_EQ_INT(ww_shard_record(s, 11, &o, 0, NULL), WW_OK);
    WW_ASSERT_EQ_INT(ww_dedup_check(ww_shard_dedup(s), "svc", "credit-2",
                                    o.digest, NULL),
                     WW_DEDUP_REPEAT);
    ww_shard_t *mid = ww_shard_clone(s);
    ww_shard_rollback(s);
    WW_ASSERT(same(before, shard_snap(s)));
    WW_ASSERT_EQ_INT(ww_shard_last_command(s), 10);
    WW_ASSERT_EQ_INT(ww_dedup_check(ww_shard_dedup(s), "svc", "credit-2",
                                    o.digest, NULL),
                     WW_DEDUP_NEW);
    /* the clone taken mid-transaction is its own state */
    WW_ASSERT_EQ_INT(ww_shard_last_command(mid), 11);
    int64_t bob = -1;
    ww_users_get_balance(ww_shard_state(mid), "bob", &bob, NULL);
    WW_ASSERT_EQ_INT(bob, 3);
    ww_shard_destroy(mid);

    /* a trainer shard over a roster has the same transactions */
    ww_shard_t *t =
        ww_shard_new(&ww_trainer_roster_shard_ops, ww_trainer_roster_new());
    bytes_t empty = shard_snap(t);
    ww_shard_begin(t);
    ww_trainer_fact_t f = hour_fact(1, 12, true);
    WW_ASSERT_EQ_INT(ww_trainer_roster_apply(ww_shard_state(t), "tom", &f,
                                             NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_shard_record(t, 3, NULL, 0, NULL), WW_OK);
    ww_shard_rollback(t);
    WW_ASSERT(same(empty, shard_snap(t)));
    ww_shard_destroy(t);
    ww_shard_destroy(s);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (const ww_test_case_t[]){
            WW_CASE(dedup_scopes_keys_by_caller_and_binds_them_to_one_request),
            WW_CASE(roster_keeps_trainers_apart_and_undoes_added_ones),
            WW_CASE(shard_rollback_restores_state_keys_and_position),
            {0}});
}
