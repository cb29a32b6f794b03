/* test_users_domain.c - the users' rules (balances, debit per training,
 * refunds), the fold of their facts, and the whole saga against the
 * trainer's domain with redelivered events: credits are conserved. */
#include <stdlib.h>

#include "ww_test.h"
#include "ww_trainer_domain.h"
#include "ww_users_domain.h"

#define T1 "11111111-1111-4111-8111-111111111111"
#define T2 "22222222-2222-4222-8222-222222222222"
#define T3 "33333333-3333-4333-8333-333333333333"

typedef struct {
    uint8_t *b;
    size_t n;
} bytes_t;

static bytes_t snap(const ww_users_state_t *s) {
    bytes_t x = {0};
    WW_ASSERT_EQ_INT(ww_users_state_serialize(s, &x.b, &x.n, NULL), WW_OK);
    return x;
}

static bool same(bytes_t a, bytes_t b) {
    bool eq = a.n == b.n && memcmp(a.b, b.b, a.n) == 0;
    free(a.b);
    free(b.b);
    return eq;
}

static int64_t balance(const ww_users_state_t *s, const char *user) {
    int64_t b = -1;
    WW_ASSERT_EQ_INT(ww_users_get_balance(s, user, &b, NULL), WW_OK);
    return b;
}

WW_TEST(unknown_user_has_zero_and_bad_ids_are_refused) {
    ww_users_state_t *s = ww_users_state_new();
    ww_err_t err;
    int64_t b = 42;
    WW_ASSERT_EQ_INT(ww_users_get_balance(s, "nobody", &b, &err), WW_OK);
    WW_ASSERT_EQ_INT(b, 0);
    WW_ASSERT_EQ_INT(ww_users_get_balance(s, "", &b, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "user_id is empty");
    WW_ASSERT_EQ_INT(ww_users_get_balance(s, NULL, &b, &err),
                     WW_ERR_INVALID_ARGUMENT);
    char long_user[WW_IDS_USER_ID_MAX + 2];
    memset(long_user, 'x', sizeof long_user - 1);
    long_user[sizeof long_user - 1] = '\0';
    WW_ASSERT_EQ_INT(ww_users_get_balance(s, long_user, &b, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "user_id is longer than 128 bytes");
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, long_user, 1, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_users_state_destroy(s);
}

WW_TEST(update_balance_never_goes_below_zero_or_overflows) {
    ww_users_state_t *s = ww_users_state_new();
    static const struct {
        const char *user;
        int64_t change;
        ww_code_t code;
        const char *msg;
        int64_t after; /* the user's balance afterwards */
    } rows[] = {
        {"", 5, WW_ERR_INVALID_ARGUMENT, "user_id is empty", 0},
        {"anna", 0, WW_OK, "", 0},
        {"anna", -1, WW_ERR_FAILED_PRECONDITION,
         "balance cannot be smaller than 0", 0},
        {"anna", 5, WW_OK, "", 5},
        {"anna", -6, WW_ERR_FAILED_PRECONDITION,
         "balance cannot be smaller than 0", 5},
        {"anna", -5, WW_OK, "", 0},
        {"anna", INT64_MAX, WW_OK, "", INT64_MAX},
        {"anna", 1, WW_ERR_OUT_OF_RANGE,
         "balance 9223372036854775807 + 1 overflows int64", INT64_MAX},
        {"anna", INT64_MAX, WW_ERR_OUT_OF_RANGE,
         "balance 9223372036854775807 + 9223372036854775807 overflows int64",
         INT64_MAX},
        {"anna", INT64_MIN, WW_ERR_FAILED_PRECONDITION,
         "balance cannot be smaller than 0", INT64_MAX},
        {"bob", INT64_MIN, WW_ERR_FAILED_PRECONDITION,
         "balance cannot be smaller than 0", 0},
        {"anna", -INT64_MAX, WW_OK, "", 0},
        {"bob", 3, WW_OK, "", 3},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bytes_t before = snap(s);
        ww_users_decision_t d;
        ww_code_t rc = ww_users_decide_update_balance(s, rows[i].user,
                                                      rows[i].change, &d);
        WW_ASSERT_MSG(rc == rows[i].code, "row %zu: %s \"%s\"", i,
                      ww_code_name(rc), d.err.msg);
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg);
        bool fact = rc == WW_OK && rows[i].change != 0;
        WW_ASSERT_EQ_INT(d.n_facts, fact ? 1 : 0);
        if (fact) {
            const ww_users_fact_t *f = &d.facts[0];
            WW_ASSERT_EQ_INT(f->kind, WW_USERS_FACT_BALANCE_CHANGED);
            WW_ASSERT_EQ_INT(f->reason, WW_USERS_REASON_UPDATE);
            WW_ASSERT_EQ_INT(f->amount_change, rows[i].change);
            WW_ASSERT_EQ_INT(f->balance_after, rows[i].after);
            WW_ASSERT_EQ_STR(f->user_id, rows[i].user);
            WW_ASSERT_EQ_STR(f->training_uuid, "");
        }
        WW_ASSERT_EQ_INT(ww_users_apply_decision(s, &d, NULL), WW_OK);
        if (!fact) WW_ASSERT(same(before, snap(s)));
        else free(before.b);
        if (*rows[i].user)
            WW_ASSERT_EQ_INT(balance(s, rows[i].user), rows[i].after);
    }
    ww_users_counts_t c;
    ww_users_counts(s, &c);
    WW_ASSERT_EQ_INT(c.sum_balances, 3);
    WW_ASSERT_EQ_INT(c.sum_updates, 3);
    ww_users_state_destroy(s);
}

WW_TEST(debit_is_once_per_training_with_its_original_outcome) {
    ww_users_state_t *s = ww_users_state_new();
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "anna", 1, &err), WW_OK);
    static const struct {
        const char *user, *uuid;
        int64_t topup; /* added to the user's balance before the row */
        ww_code_t code;
        const char *msg;
        ww_users_debit_outcome_t outcome;
        ww_users_fact_kind_t fact; /* 0 = none */
        int64_t after;
    } rows[] = {
        {"anna", T1, 0, WW_OK, "", WW_USERS_DEBIT_DEBITED,
         WW_USERS_FACT_BALANCE_CHANGED, 0},
        {"anna", T1, 0, WW_OK, "", WW_USERS_DEBIT_DEBITED, 0, 0},
        {"anna", T2, 0, WW_OK, "", WW_USERS_DEBIT_REJECTED,
         WW_USERS_FACT_BALANCE_REJECTED, 0},
        /* credit arrives later: the rejection stands, no second decision */
        {"anna", T2, 4, WW_OK, "", WW_USERS_DEBIT_REJECTED, 0, 4},
        {"bob", T1, 0, WW_ERR_ALREADY_EXISTS,
         "training " T1 " was already debited from another user", 0, 0, 0},
        {"anna", T3, 0, WW_OK, "", WW_USERS_DEBIT_DEBITED,
         WW_USERS_FACT_BALANCE_CHANGED, 3},
        {"", T3, 0, WW_ERR_INVALID_ARGUMENT, "user_id is empty", 0, 0, 0},
        {"anna", "", 0, WW_ERR_INVALID_ARGUMENT, "training_uuid is empty", 0,
         0, 3},
        {"anna", "t-1", 0, WW_ERR_INVALID_ARGUMENT,
         "training_uuid is not a UUID (8-4-4-4-12 hex digits): \"t-1\"", 0, 0,
         3},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i].topup)
            WW_ASSERT_EQ_INT(
                ww_users_update_balance(s, rows[i].user, rows[i].topup, &err),
                WW_OK);
        ww_users_decision_t d;
        ww_code_t rc = ww_users_decide_debit_for_training(s, rows[i].user,
                                                          rows[i].uuid, &d);
        WW_ASSERT_MSG(rc == rows[i].code, "row %zu: %s \"%s\"", i,
                      ww_code_name(rc), d.err.msg);
        WW_ASSERT_EQ_STR(d.err.msg, rows[i].msg);
        if (rc == WW_OK) WW_ASSERT_EQ_INT(d.outcome, rows[i].outcome);
        WW_ASSERT_EQ_INT(d.n_facts, rows[i].fact ? 1 : 0);
        if (rows[i].fact) {
            WW_ASSERT_EQ_INT(d.facts[0].kind, rows[i].fact);
            WW_ASSERT_EQ_STR(d.facts[0].training_uuid, rows[i].uuid);
            WW_ASSERT_EQ_STR(d.facts[0].user_id, rows[i].user);
            /* a rejection describes the refused debit */
            WW_ASSERT_EQ_INT(d.facts[0].amount_change, -1);
            WW_ASSERT_EQ_INT(d.facts[0].reason,
                             WW_USERS_REASON_TRAINING_DEBIT);
            WW_ASSERT_EQ_INT(d.facts[0].balance_after, rows[i].after);
        }
        WW_ASSERT_EQ_INT(ww_users_apply_decision(s, &d, NULL), WW_OK);
        if (*rows[i].user && rc == WW_OK)
            WW_ASSERT_EQ_INT(balance(s, rows[i].user), rows[i].after);
    }
    WW_ASSERT_EQ_INT(ww_users_training_outcome(s, T1), WW_USERS_DEBIT_DEBITED);
    WW_ASSERT_EQ_INT(ww_users_training_outcome(s, T2), WW_USERS_DEBIT_REJECTED);
    WW_ASSERT_EQ_INT(ww_users_training_outcome(s, "x"), WW_USERS_DEBIT_NONE);
    WW_ASSERT_EQ_INT(ww_users_training_outcome(s, NULL), WW_USERS_DEBIT_NONE);
    ww_users_counts_t c;
    ww_users_counts(s, &c);
    WW_ASSERT_EQ_INT(c.trainings_debited, 2);
    WW_ASSERT_EQ_INT(c.trainings_rejected, 1);
    WW_ASSERT_EQ_INT(c.sum_debits, 2);
    ww_users_state_destroy(s);
}

WW_TEST(refund_pays_once_and_only_for_a_debited_training) {
    ww_users_state_t *s = ww_users_state_new();
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "anna", 2, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "anna", T1, NULL, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "anna", T2, NULL, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "bob", T3, NULL, &err),
                     WW_OK); /* rejected: bob has nothing */
    static const struct {
        const char *user, *uuid;
        int64_t amount;
        ww_code_t code;
        int64_t paid, anna_after;
    } rows[] = {
        {"anna", T1, -1, WW_ERR_INVALID_ARGUMENT, 0, 0},
        {"bob", T1, 1, WW_OK, 0, 0},   /* not bob's training */
        {"anna", T3, 1, WW_OK, 0, 0},  /* not anna's */
        {"bob", T3, 1, WW_OK, 0, 0},   /* rejected, never debited */
        {"anna", "44444444-4444-4444-8444-444444444444", 1, WW_OK, 0, 0},
        {"anna", T1, 0, WW_OK, 0, 0},  /* late attendee cancel: nothing */
        {"anna", T1, 2, WW_OK, 2, 2},  /* trainer's late cancel: 1 + fine */
        {"anna", T1, 2, WW_OK, 0, 2},  /* only once */
        {"anna", T1, 1, WW_OK, 0, 2},
        {"anna", T2, 1, WW_OK, 1, 3},
        {"anna", T2, 1, WW_OK, 0, 3},
        {"", T2, 1, WW_ERR_INVALID_ARGUMENT, 0, 3},
        {"anna", "", 1, WW_ERR_INVALID_ARGUMENT, 0, 3},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_users_decision_t d;
        ww_code_t rc = ww_users_decide_refund_for_training(
            s, rows[i].user, rows[i].uuid, rows[i].amount, &d);
        WW_ASSERT_MSG(rc == rows[i].code, "row %zu: %s \"%s\"", i,
                      ww_code_name(rc), d.err.msg);
        WW_ASSERT_EQ_INT(d.n_facts, rows[i].paid ? 1 : 0);
        if (rc == WW_OK) WW_ASSERT_EQ_INT(d.refunded, rows[i].paid);
        if (rows[i].paid) {
            WW_ASSERT_EQ_INT(d.facts[0].reason,
                             WW_USERS_REASON_TRAINING_REFUND);
            WW_ASSERT_EQ_INT(d.facts[0].amount_change, rows[i].paid);
        }
        WW_ASSERT_EQ_INT(ww_users_apply_decision(s, &d, NULL), WW_OK);
        WW_ASSERT_MSG(balance(s, "anna") == rows[i].anna_after, "row %zu", i);
    }
    ww_users_decision_t d;
    WW_ASSERT_EQ_INT(ww_users_decide_refund_for_training(s, "anna", T1, -5, &d),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(d.err.msg, "refund amount cannot be negative: -5");
    /* a refund that would overflow is refused, nothing paid */
    ww_users_state_t *o = ww_users_state_new();
    WW_ASSERT_EQ_INT(ww_users_update_balance(o, "max", 1, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(o, "max", T1, NULL, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(o, "max", INT64_MAX, &err),
                     WW_OK);
    int64_t paid = -1;
    WW_ASSERT_EQ_INT(
        ww_users_refund_for_training(o, "max", T1, 1, &paid, &err),
        WW_ERR_OUT_OF_RANGE);
    WW_ASSERT_EQ_INT(balance(o, "max"), INT64_MAX);
    ww_users_state_destroy(o);
    ww_users_counts_t c;
    ww_users_counts(s, &c);
    WW_ASSERT_EQ_INT(c.trainings_refunded, 2);
    WW_ASSERT_EQ_INT(c.sum_refunds, 3);
    WW_ASSERT_EQ_INT(c.sum_balances,
                     c.sum_updates + c.sum_refunds - c.sum_debits);
    ww_users_state_destroy(s);
}

static ww_users_fact_t ufact(ww_users_fact_kind_t kind, ww_users_reason_t r,
                             const char *user, const char *uuid,
                             int64_t change) {
    ww_users_fact_t f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.reason = r;
    f.amount_change = change;
    snprintf(f.user_id, sizeof f.user_id, "%s", user);
    snprintf(f.training_uuid, sizeof f.training_uuid, "%s", uuid);
    return f;
}

WW_TEST(apply_refuses_malformed_and_misfit_facts_and_changes_nothing) {
    ww_users_state_t *s = ww_users_state_new();
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "anna", 1, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "anna", T1, NULL, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "rich", INT64_MAX, &err),
                     WW_OK);
    const ww_users_fact_kind_t CH = WW_USERS_FACT_BALANCE_CHANGED,
                               RJ = WW_USERS_FACT_BALANCE_REJECTED;
    const ww_users_reason_t UP = WW_USERS_REASON_UPDATE,
                            DE = WW_USERS_REASON_TRAINING_DEBIT,
                            RE = WW_USERS_REASON_TRAINING_REFUND;
    ww_users_fact_t rows[] = {
        ufact(0, UP, "anna", "", 1),
        ufact(CH, 9, "anna", "", 1),
        ufact(CH, UP, "", "", 1),
        ufact(CH, UP, "anna", "", -1), /* below zero */
        ufact(CH, UP, "rich", "", 1),  /* overflow */
        ufact(CH, DE, "anna", T1, -1), /* debited already */
        ufact(CH, DE, "anna", T2, -2), /* a debit is -1 */
        ufact(CH, DE, "anna", "bad", -1),
        ufact(CH, DE, "nobody", T2, -1), /* no credit */
        ufact(CH, RE, "anna", T2, 1),    /* never debited */
        ufact(CH, RE, "bob", T1, 1),     /* other user */
        ufact(CH, RE, "anna", T1, 0),    /* a refund is positive */
        ufact(RJ, 0, "anna", T1, 0),     /* decided already */
        ufact(RJ, 0, "rich", T2, 0),     /* has credit */
        ufact(RJ, 0, "anna", "", 0),
    };
    static const ww_code_t want[] = {
        WW_ERR_INVALID_ARGUMENT,    WW_ERR_INVALID_ARGUMENT,
        WW_ERR_INVALID_ARGUMENT,    WW_ERR_FAILED_PRECONDITION,
        WW_ERR_OUT_OF_RANGE,        WW_ERR_FAILED_PRECONDITION,
        WW_ERR_INVALID_ARGUMENT,    WW_ERR_INVALID_ARGUMENT,
        WW_ERR_FAILED_PRECONDITION, WW_ERR_FAILED_PRECONDITION,
        WW_ERR_FAILED_PRECONDITION, WW_ERR_INVALID_ARGUMENT,
        WW_ERR_FAILED_PRECONDITION, WW_ERR_FAILED_PRECONDITION,
        WW_ERR_INVALID_ARGUMENT,
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bytes_t before = snap(s);
        ww_code_t rc = ww_users_apply(s, &rows[i], &err);
        WW_ASSERT_MSG(rc == want[i], "row %zu: %s \"%s\"", i,
                      ww_code_name(rc), err.msg);
        WW_ASSERT(same(before, snap(s)));
    }
    ww_users_fact_t unterminated = ufact(CH, UP, "anna", "", 1);
    memset(unterminated.user_id, 'a', sizeof unterminated.user_id);
    WW_ASSERT_EQ_INT(ww_users_apply(s, &unterminated, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_users_state_destroy(s);
}

WW_TEST(fixtures_and_serialisation_layout) {
    ww_users_state_t *s = ww_users_state_new();
    ww_err_t err;
    WW_ASSERT(ww_users_fixture_count() >= 3);
    WW_ASSERT(ww_users_fixture_user(ww_users_fixture_count(), NULL) == NULL);
    WW_ASSERT_EQ_INT(ww_users_fixtures_fill(s, &err), WW_OK);
    int64_t total = 0;
    for (size_t i = 0; i < ww_users_fixture_count(); i++) {
        int64_t credits = 0;
        const char *user = ww_users_fixture_user(i, &credits);
        WW_ASSERT(credits >= 5 && credits <= 10);
        WW_ASSERT_EQ_INT(balance(s, user), credits);
        total += credits;
    }
    ww_users_counts_t c;
    ww_users_counts(s, &c);
    WW_ASSERT_EQ_INT(c.sum_balances, total);
    WW_ASSERT_EQ_INT(c.users, ww_users_fixture_count());
    ww_users_state_destroy(s);

    /* layout: zero balances left out, users and trainings sorted */
    s = ww_users_state_new();
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "zed", 2, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_update_balance(s, "amy", 0, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "zed", T2, NULL, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_debit_for_training(s, "amy", T1, NULL, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_users_refund_for_training(s, "zed", T2, 2, NULL, &err),
                     WW_OK);
    static const uint8_t want[] = {
        'W', 'W', 'U', 'S', 0, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 0, 1,                 /* one user with a balance */
        0, 0, 0, 3, 'z', 'e', 'd', 0, 0, 0, 0, 0, 0, 0, 3,
        0, 0, 0, 0, 0, 0, 0, 2,                 /* two trainings */
        0, 0, 0, 36, '1', '1', '1', '1', '1', '1', '1', '1', '-', '1', '1',
        '1', '1', '-', '4', '1', '1', '1', '-', '8', '1', '1', '1', '-', '1',
        '1', '1', '1', '1', '1', '1', '1', '1', '1', '1', '1',
        0, 0, 0, 3, 'a', 'm', 'y', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 36, '2', '2', '2', '2', '2', '2', '2', '2', '-', '2', '2',
        '2', '2', '-', '4', '2', '2', '2', '-', '8', '2', '2', '2', '-', '2',
        '2', '2', '2', '2', '2', '2', '2', '2', '2', '2', '2',
        0, 0, 0, 3, 'z', 'e', 'd', 1, 1, 0, 0, 0, 0, 0, 0, 0, 2,
        0, 0, 0, 0, 0, 0, 0, 2,                 /* sum_updates */
        0, 0, 0, 0, 0, 0, 0, 1,                 /* sum_debits */
        0, 0, 0, 0, 0, 0, 0, 2,                 /* sum_refunds */
    };
    bytes_t got = snap(s);
    WW_ASSERT_EQ_INT(got.n, sizeof want);
    WW_ASSERT(memcmp(got.b, want, sizeof want) == 0);
    free(got.b);
    ww_users_state_t *copy = ww_users_state_clone(s);
    WW_ASSERT(same(snap(copy), snap(s)));
    WW_ASSERT_EQ_INT(ww_users_update_balance(copy, "amy", 1, &err), WW_OK);
    WW_ASSERT(!same(snap(copy), snap(s)));
    ww_users_state_destroy(copy);
    ww_users_state_destroy(s);
}

/* Cases of test_users_saga.c. */
extern const ww_test_case_t users_saga_cases[];

/* The undo log: random transactions of updates, debits and refunds, each
 * committed or rolled back; a rollback restores the begin point's exact
 * bytes (new users and debits disappear, lookups still work), a commit
 * keeps what a replay of the same facts gives. */
WW_TEST(rollback_restores_the_begin_point_and_commit_keeps_the_changes) {
    static const char *users[] = {"anna", "bob", "celina", "dawid"};
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    ww_users_state_t *s = ww_users_state_new(), *mirror = ww_users_state_new();
    int rolled_back = 0, committed = 0, facts = 0;
    for (int txn = 0; txn < 200; txn++) {
        bytes_t before = snap(s);
        ww_users_fact_t pending[64];
        size_t n = 0;
        ww_users_state_begin(s);
        for (int op = 0; op < 1 + txn % 17 && n < 64; op++) {
            x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
            uint64_t r = x * UINT64_C(2685821657736338717);
            const char *u = users[r % 4];
            char uuid[WW_IDS_UUID_LEN + 1];
            snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d",
                     (int)(r >> 8) % 50);
            ww_users_decision_t d;
            switch ((r >> 20) % 3) {
            case 0:
                ww_users_decide_update_balance(s, u, (int64_t)((r >> 24) % 5) - 1,
                                               &d);
                break;
            case 1: ww_users_decide_debit_for_training(s, u, uuid, &d); break;
            default:
                ww_users_decide_refund_for_training(s, u, uuid,
                                                    (int64_t)((r >> 24) % 3), &d);
                break;
            }
            WW_ASSERT_EQ_INT(ww_users_apply_decision(s, &d, NULL), WW_OK);
            for (size_t i = 0; i < d.n_facts; i++) pending[n++] = d.facts[i];
        }
        facts += (int)n;
        if (txn % 3 == 1) {
            ww_users_state_rollback(s);
            WW_ASSERT(same(before, snap(s)));
            rolled_back++;
        } else {
            free(before.b);
            ww_users_state_commit(s);
            for (size_t i = 0; i < n; i++)
                WW_ASSERT_EQ_INT(ww_users_apply(mirror, &pending[i], NULL), WW_OK);
            committed++;
        }
        WW_ASSERT(same(snap(mirror), snap(s)));
    }
    WW_ASSERT(rolled_back > 50 && committed > 50 && facts > 500);
    ww_users_counts_t c;
    ww_users_counts(s, &c);
    WW_ASSERT_EQ_INT(c.sum_balances, c.sum_updates + c.sum_refunds - c.sum_debits);
    ww_users_state_destroy(mirror);
    ww_users_state_destroy(s);
}

int main(int argc, char **argv) {
    static const ww_test_case_t rules[] = {
        WW_CASE(unknown_user_has_zero_and_bad_ids_are_refused),
        WW_CASE(update_balance_never_goes_below_zero_or_overflows),
        WW_CASE(debit_is_once_per_training_with_its_original_outcome),
        WW_CASE(refund_pays_once_and_only_for_a_debited_training),
        WW_CASE(apply_refuses_malformed_and_misfit_facts_and_changes_nothing),
        WW_CASE(fixtures_and_serialisation_layout),
        WW_CASE(rollback_restores_the_begin_point_and_commit_keeps_the_changes),
        {0}};
    size_t n = 0, m = 0;
    while (rules[n].name) n++;
    while (users_saga_cases[m].name) m++;
    ww_test_case_t *all = calloc(n + m + 1, sizeof *all);
    if (!all) return 1;
    memcpy(all, rules, n * sizeof *all);
    memcpy(all + n, users_saga_cases, m * sizeof *all);
    int rc = ww_test_main(argc, argv, all);
    free(all);
    return rc;
}
