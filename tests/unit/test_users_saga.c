/* test_users_saga.c - the booking saga across both domains, with events
 * delivered late, interleaved and redelivered: every scheduled training
 * costs one credit, refunds are paid once and only for debited trainings,
 * balances never go negative and credits are conserved. */
#include <stdlib.h>

#include "ww_test.h"
#include "ww_trainer_domain.h"
#include "ww_users_domain.h"

enum { POOL = 40, USERS = 5, OPS = 3000 };

typedef struct {
    ww_trainer_fact_t *v;
    size_t n, cap, next; /* next = the consumer's position */
} tq_t;

typedef struct {
    ww_users_fact_t *v;
    size_t n, cap, next;
} uq_t;

typedef struct saga {
    ww_trainer_state_t *tr;
    ww_users_state_t *us;
    tq_t tq; /* trainer.events */
    uq_t uq; /* users.events */
    uint64_t x;
} saga_t;

/* The fixture users plus one who never has credit. */
static const char *users[USERS] = {"demo-anna", "demo-bartek", "broke",
                                   "demo-celina", "demo-dawid"};

static uint64_t rnd(saga_t *g) {
    g->x ^= g->x >> 12;
    g->x ^= g->x << 25;
    g->x ^= g->x >> 27;
    return g->x * UINT64_C(2685821657736338717);
}

#define PUSH(q, item)                                                        \
    do {                                                                     \
        if ((q)->n == (q)->cap) {                                            \
            (q)->cap = (q)->cap ? (q)->cap * 2 : 256;                        \
            (q)->v = realloc((q)->v, (q)->cap * sizeof *(q)->v);             \
            WW_ASSERT((q)->v);                                               \
        }                                                                    \
        (q)->v[(q)->n++] = (item);                                           \
    } while (0)

static void trainer_decided(saga_t *g, ww_trainer_decision_t *d) {
    WW_ASSERT_EQ_INT(ww_trainer_apply_decision(g->tr, d, NULL), WW_OK);
    for (size_t i = 0; i < d->n_facts; i++) PUSH(&g->tq, d->facts[i]);
}

static void users_decided(saga_t *g, ww_users_decision_t *d) {
    WW_ASSERT_EQ_INT(ww_users_apply_decision(g->us, d, NULL), WW_OK);
    for (size_t i = 0; i < d->n_facts; i++) PUSH(&g->uq, d->facts[i]);
}

/* The users worker consuming one trainer fact. */
static void users_consume(saga_t *g, const ww_trainer_fact_t *f) {
    ww_users_decision_t d;
    ww_code_t rc = WW_OK;
    if (f->kind == WW_TRAINER_FACT_TRAINING_SCHEDULED)
        rc = ww_users_decide_debit_for_training(g->us, f->user_id,
                                                f->training_uuid, &d);
    else if (f->kind == WW_TRAINER_FACT_TRAINING_CANCELED)
        rc = ww_users_decide_refund_for_training(
            g->us, f->user_id, f->training_uuid, f->balance_refund, &d);
    else
        return;
    WW_ASSERT_MSG(rc == WW_OK, "users refused a trainer fact: %s", d.err.msg);
    users_decided(g, &d);
}

/* The trainer worker consuming one users fact. */
static void trainer_consume(saga_t *g, const ww_users_fact_t *f) {
    ww_trainer_decision_t d;
    ww_code_t rc = WW_OK;
    if (f->kind == WW_USERS_FACT_BALANCE_REJECTED)
        rc = ww_trainer_decide_balance_rejected(g->tr, f->training_uuid, &d);
    else if (f->reason == WW_USERS_REASON_TRAINING_DEBIT)
        rc = ww_trainer_decide_balance_debited(g->tr, f->training_uuid, &d);
    else
        return;
    WW_ASSERT_MSG(rc == WW_OK, "trainer refused a users fact: %s", d.err.msg);
    trainer_decided(g, &d);
}

/* Sums over the users' facts themselves (not the state's counters). */
typedef struct {
    int64_t updates, debits, refunds;
} fact_sums_t;

static fact_sums_t sums_of_facts(const uq_t *q) {
    fact_sums_t s = {0};
    for (size_t i = 0; i < q->n; i++) {
        const ww_users_fact_t *f = &q->v[i];
        if (f->kind != WW_USERS_FACT_BALANCE_CHANGED) continue;
        if (f->reason == WW_USERS_REASON_UPDATE) s.updates += f->amount_change;
        if (f->reason == WW_USERS_REASON_TRAINING_DEBIT)
            s.debits -= f->amount_change;
        if (f->reason == WW_USERS_REASON_TRAINING_REFUND)
            s.refunds += f->amount_change;
    }
    return s;
}

static void check_money(saga_t *g) {
    ww_users_counts_t c;
    ww_users_counts(g->us, &c);
    int64_t sum = 0;
    for (int i = 0; i < USERS; i++) {
        int64_t b = -1;
        WW_ASSERT_EQ_INT(ww_users_get_balance(g->us, users[i], &b, NULL),
                         WW_OK);
        WW_ASSERT_MSG(b >= 0, "%s has %lld", users[i], (long long)b);
        sum += b;
    }
    WW_ASSERT_EQ_INT(c.sum_balances, sum);
    fact_sums_t f = sums_of_facts(&g->uq);
    WW_ASSERT_EQ_INT(sum, f.updates + f.refunds - f.debits);
    WW_ASSERT_EQ_INT(c.sum_debits, f.debits);
    WW_ASSERT_EQ_INT(c.sum_refunds, f.refunds);
    WW_ASSERT_EQ_INT(c.sum_updates, f.updates);
    ww_trainer_counts_t t;
    ww_trainer_counts(g->tr, &t);
    WW_ASSERT_EQ_INT(t.hours_held, t.trainings_pending + t.trainings_scheduled);
}

static void step(saga_t *g, int64_t day0) {
    char uuid[WW_IDS_UUID_LEN + 1];
    snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d",
             (int)(rnd(g) % POOL));
    const char *user = users[rnd(g) % USERS];
    ww_time_t t = {day0 + (int64_t)(rnd(g) % 2) * WW_TIME_DAY_SECONDS +
                       (12 + (int64_t)(rnd(g) % 9)) * WW_TIME_HOUR_SECONDS,
                   0};
    ww_trainer_decision_t td;
    ww_users_decision_t ud;
    switch (rnd(g) % 10) {
    case 0:
    case 1:
        ww_trainer_decide_schedule_training(g->tr, uuid, user, &t, "", &td);
        trainer_decided(g, &td);
        break;
    case 2: {
        ww_time_t now = {t.seconds - 86400 * 2 + (int64_t)(rnd(g) % 86400 * 3),
                         0};
        ww_trainer_decide_cancel_training(g->tr, uuid, rnd(g) & 1, &now, &td);
        trainer_decided(g, &td);
        break;
    }
    case 3: /* an operator adds or removes credits */
        ww_users_decide_update_balance(g->us, user,
                                       (int64_t)(rnd(g) % 5) - 2, &ud);
        users_decided(g, &ud);
        break;
    case 4: /* redelivery of something already consumed */
        if (g->tq.next) users_consume(g, &g->tq.v[rnd(g) % g->tq.next]);
        if (g->uq.next) trainer_consume(g, &g->uq.v[rnd(g) % g->uq.next]);
        break;
    case 5:
    case 6:
        if (g->tq.next < g->tq.n) users_consume(g, &g->tq.v[g->tq.next++]);
        break;
    default:
        if (g->uq.next < g->uq.n) trainer_consume(g, &g->uq.v[g->uq.next++]);
        break;
    }
}

WW_TEST(saga_conserves_credits_under_redelivery) {
    int64_t day0 = 0;
    WW_ASSERT_EQ_INT(ww_time_from_utc(2030, 3, 4, 0, &day0, NULL), WW_OK);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        saga_t g = {.tr = ww_trainer_state_new(),
                    .us = ww_users_state_new(),
                    .x = seed * UINT64_C(0x9e3779b97f4a7c15)};
        ww_err_t err;
        ww_time_t first = {day0, 0};
        WW_ASSERT_EQ_INT(ww_trainer_fixtures_fill(g.tr, &first, 2, &err),
                         WW_OK);
        for (size_t i = 0; i < ww_users_fixture_count(); i++) {
            int64_t credits;
            const char *u = ww_users_fixture_user(i, &credits);
            ww_users_decision_t d;
            WW_ASSERT_EQ_INT(
                ww_users_decide_update_balance(g.us, u, credits, &d), WW_OK);
            users_decided(&g, &d);
        }
        for (int op = 0; op < OPS; op++) {
            step(&g, day0);
            check_money(&g);
        }
        /* drain both topics */
        while (g.tq.next < g.tq.n || g.uq.next < g.uq.n) {
            if (g.tq.next < g.tq.n) users_consume(&g, &g.tq.v[g.tq.next++]);
            if (g.uq.next < g.uq.n) trainer_consume(&g, &g.uq.v[g.uq.next++]);
        }
        check_money(&g);
        /* per training: both sides agree */
        int64_t want_refunds = 0, debited = 0, seen = 0, rejected = 0;
        for (int i = 0; i < POOL; i++) {
            char uuid[WW_IDS_UUID_LEN + 1];
            snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
            ww_trainer_training_view_t v;
            if (ww_trainer_get_training(g.tr, uuid, &v, NULL) != WW_OK) {
                WW_ASSERT_EQ_INT(ww_users_training_outcome(g.us, uuid),
                                 WW_USERS_DEBIT_NONE);
                continue;
            }
            seen++;
            ww_users_debit_outcome_t o = ww_users_training_outcome(g.us, uuid);
            WW_ASSERT(o != WW_USERS_DEBIT_NONE);
            WW_ASSERT(v.status != WW_TRAINER_TRAINING_PENDING);
            if (v.status == WW_TRAINER_TRAINING_SCHEDULED)
                WW_ASSERT(o == WW_USERS_DEBIT_DEBITED && v.debited);
            if (v.status == WW_TRAINER_TRAINING_REJECTED)
                WW_ASSERT(o == WW_USERS_DEBIT_REJECTED);
            if (o == WW_USERS_DEBIT_DEBITED) debited++;
            if (o == WW_USERS_DEBIT_REJECTED) rejected++;
            if (v.status == WW_TRAINER_TRAINING_CANCELED &&
                o == WW_USERS_DEBIT_DEBITED)
                want_refunds += v.balance_refund;
        }
        ww_users_counts_t c;
        ww_users_counts(g.us, &c);
        WW_ASSERT_EQ_INT(c.sum_debits, debited);
        WW_ASSERT_EQ_INT(c.sum_refunds, want_refunds);
        WW_ASSERT_MSG(seen > 10 && rejected > 0 && want_refunds > 0,
                      "seed %llu exercised too little: %lld trainings, "
                      "%lld rejected, %lld refunded",
                      (unsigned long long)seed, (long long)seen,
                      (long long)rejected, (long long)want_refunds);
        /* replay of users.events from offset 0 reaches the same bytes */
        ww_users_state_t *replay = ww_users_state_new();
        for (size_t i = 0; i < g.uq.n; i++)
            WW_ASSERT_EQ_INT(ww_users_apply(replay, &g.uq.v[i], NULL), WW_OK);
        uint8_t *a, *b;
        size_t na, nb;
        WW_ASSERT_EQ_INT(ww_users_state_serialize(replay, &a, &na, NULL),
                         WW_OK);
        WW_ASSERT_EQ_INT(ww_users_state_serialize(g.us, &b, &nb, NULL), WW_OK);
        WW_ASSERT(na == nb && memcmp(a, b, na) == 0);
        free(a);
        free(b);
        ww_users_state_destroy(replay);
        ww_trainer_state_destroy(g.tr);
        ww_users_state_destroy(g.us);
        free(g.tq.v);
        free(g.uq.v);
    }
}

const ww_test_case_t users_saga_cases[] = {
    WW_CASE(saga_conserves_credits_under_redelivery), {0}};
