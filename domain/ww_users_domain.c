/* ww_users_domain.c - the users' decisions and their fold. */
#include "ww_users_domain.h"

#include "ww_fold.h"
#include "ww_index.h"
#include "ww_users_domain_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ lookups */

static bool user_eq(const void *ctx, uint32_t id, const void *key) {
    const ww_users_state_t *s = ctx;
    return strcmp(s->users[id].user_id, key) == 0;
}

static bool debit_eq(const void *ctx, uint32_t id, const void *key) {
    const ww_users_state_t *s = ctx;
    return strcmp(s->debits[id].uuid, key) == 0;
}

ww_users__user_t *ww_users__find_user(const ww_users_state_t *s,
                                      const char *user_id) {
    int64_t id = ww_index_find(&s->user_ix, ww_index_hash_str(user_id),
                               user_id, user_eq, s);
    return id < 0 ? NULL : &s->users[id];
}

ww_users__debit_t *ww_users__find_debit(const ww_users_state_t *s,
                                        const char *uuid) {
    int64_t id = ww_index_find(&s->debit_ix, ww_index_hash_str(uuid), uuid,
                               debit_eq, s);
    return id < 0 ? NULL : &s->debits[id];
}

static int64_t balance_of(const ww_users_state_t *s, const char *user_id) {
    const ww_users__user_t *u = ww_users__find_user(s, user_id);
    return u ? u->balance : 0;
}

/* ------------------------------------------------------------- state */

ww_users_state_t *ww_users_state_new(void) {
    ww_users_state_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    ww_index_init(&s->user_ix);
    ww_index_init(&s->debit_ix);
    return s;
}

void ww_users_state_destroy(ww_users_state_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_users; i++) free(s->users[i].user_id);
    free(s->users);
    free(s->debits);
    free(s->undo);
    ww_index_destroy(&s->user_ix);
    ww_index_destroy(&s->debit_ix);
    free(s);
}

ww_users_state_t *ww_users_state_clone(const ww_users_state_t *s) {
    ww_users_state_t *c = ww_users_state_new();
    if (!c) return NULL;
    if (s->n_users) {
        c->users = calloc(s->n_users, sizeof *c->users);
        if (!c->users) goto fail;
        c->cap_users = s->n_users;
        for (size_t i = 0; i < s->n_users; i++) {
            c->users[i].balance = s->users[i].balance;
            c->users[i].user_id = strdup(s->users[i].user_id);
            c->n_users = i + 1; /* so destroy frees what exists */
            if (!c->users[i].user_id) goto fail;
        }
    }
    if (s->n_debits) {
        c->debits = malloc(s->n_debits * sizeof *c->debits);
        if (!c->debits) goto fail;
        memcpy(c->debits, s->debits, s->n_debits * sizeof *c->debits);
        c->n_debits = c->cap_debits = s->n_debits;
    }
    if (ww_index_clone(&c->user_ix, &s->user_ix, NULL) != WW_OK ||
        ww_index_clone(&c->debit_ix, &s->debit_ix, NULL) != WW_OK)
        goto fail;
    c->sum_updates = s->sum_updates;
    c->sum_debits = s->sum_debits;
    c->sum_refunds = s->sum_refunds;
    return c;
fail:
    ww_users_state_destroy(c);
    return NULL;
}

ww_users__user_t *ww_users__user_get_or_add(ww_users_state_t *s,
                                            const char *user_id,
                                            ww_err_t *err) {
    ww_users__user_t *u = ww_users__find_user(s, user_id);
    if (u) return u;
    char *copy = strdup(user_id);
    if (!copy ||
        !ww_fold_grow((void **)&s->users, &s->cap_users, s->n_users + 1,
              sizeof *s->users) ||
        ww_index_insert(&s->user_ix, ww_index_hash_str(user_id),
                        (uint32_t)s->n_users, NULL) != WW_OK) {
        free(copy);
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    u = &s->users[s->n_users++];
    *u = (ww_users__user_t){.user_id = copy};
    ww_users__undo_user_added(s);
    return u;
}

ww_code_t ww_users__add_debit(ww_users_state_t *s, const char *uuid,
                              ww_users_debit_outcome_t outcome,
                              const ww_users__user_t *u, ww_err_t *err) {
    if (!ww_fold_grow((void **)&s->debits, &s->cap_debits, s->n_debits + 1,
              sizeof *s->debits) ||
        ww_index_insert(&s->debit_ix, ww_index_hash_str(uuid),
                        (uint32_t)s->n_debits, NULL) != WW_OK)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    ww_users__debit_t *d = &s->debits[s->n_debits++];
    *d = (ww_users__debit_t){.user = (uint32_t)(u - s->users), .outcome = outcome};
    memcpy(d->uuid, uuid, sizeof d->uuid);
    ww_users__undo_debit_added(s);
    return WW_OK;
}

/* ------------------------------------------------------------- apply */

static bool terminated(const char *buf, size_t size) {
    return memchr(buf, '\0', size) != NULL;
}

static ww_code_t apply_changed(ww_users_state_t *s, const ww_users_fact_t *f,
                               ww_err_t *err) {
    int64_t cur = balance_of(s, f->user_id), next;
    ww_users__debit_t *rec = NULL;
    bool training = f->reason == WW_USERS_REASON_TRAINING_DEBIT ||
                    f->reason == WW_USERS_REASON_TRAINING_REFUND;
    if (f->reason != WW_USERS_REASON_UPDATE && !training)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has unknown reason %d", (int)f->reason);
    if (training && !ww_ids_is_uuid(f->training_uuid))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has an invalid training_uuid");
    if (f->reason == WW_USERS_REASON_TRAINING_DEBIT) {
        if (f->amount_change != -1)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "a training debit is -1, not %lld",
                              (long long)f->amount_change);
        if (ww_users__find_debit(s, f->training_uuid))
            return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                              "training %s was debited already",
                              f->training_uuid);
    }
    if (f->reason == WW_USERS_REASON_TRAINING_REFUND) {
        if (f->amount_change <= 0)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "a refund is positive, not %lld",
                              (long long)f->amount_change);
        rec = ww_users__find_debit(s, f->training_uuid);
        if (!rec || rec->outcome != WW_USERS_DEBIT_DEBITED || rec->refunded ||
            strcmp(s->users[rec->user].user_id, f->user_id) != 0)
            return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                              "training %s is not refundable to %s",
                              f->training_uuid, f->user_id);
    }
    if (__builtin_add_overflow(cur, f->amount_change, &next))
        return ww_err_set(err, WW_ERR_OUT_OF_RANGE,
                          "balance %lld + %lld overflows int64",
                          (long long)cur, (long long)f->amount_change);
    if (next < 0)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "balance cannot be smaller than 0");
    ww_users__user_t *u = ww_users__user_get_or_add(s, f->user_id, err);
    if (!u) return WW_ERR_RESOURCE_EXHAUSTED;
    if (f->reason == WW_USERS_REASON_TRAINING_DEBIT) {
        ww_code_t rc = ww_users__add_debit(s, f->training_uuid,
                                           WW_USERS_DEBIT_DEBITED, u, err);
        if (rc != WW_OK) return rc;
        ww_users__undo_totals(s);
        s->sum_debits += 1;
    } else if (rec) {
        ww_users__undo_debit_set(s, rec);
        ww_users__undo_totals(s);
        rec->refunded = true;
        rec->refund = f->amount_change;
        s->sum_refunds += (uint64_t)f->amount_change;
    } else {
        ww_users__undo_totals(s);
        s->sum_updates += (uint64_t)f->amount_change;
    }
    ww_users__undo_user_set(s, u);
    u->balance = next;
    return WW_OK;
}

static ww_code_t apply_rejected(ww_users_state_t *s, const ww_users_fact_t *f,
                                ww_err_t *err) {
    if (!ww_ids_is_uuid(f->training_uuid))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has an invalid training_uuid");
    if (ww_users__find_debit(s, f->training_uuid))
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "training %s was debited already", f->training_uuid);
    if (balance_of(s, f->user_id) >= 1)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "user %s has credit, the debit cannot be rejected",
                          f->user_id);
    ww_users__user_t *u = ww_users__user_get_or_add(s, f->user_id, err);
    if (!u) return WW_ERR_RESOURCE_EXHAUSTED;
    return ww_users__add_debit(s, f->training_uuid, WW_USERS_DEBIT_REJECTED, u,
                               err);
}

ww_code_t ww_users_apply(ww_users_state_t *s, const ww_users_fact_t *f,
                         ww_err_t *err) {
    if (!terminated(f->user_id, sizeof f->user_id) ||
        !terminated(f->training_uuid, sizeof f->training_uuid) ||
        ww_ids_check_user_id(f->user_id, NULL) != WW_OK)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fact has an invalid user_id or an unterminated "
                          "string");
    if (!ww_users__undo_reserve(s, WW_USERS__UNDO_PER_FACT))
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    switch (f->kind) {
    case WW_USERS_FACT_BALANCE_CHANGED: return apply_changed(s, f, err);
    case WW_USERS_FACT_BALANCE_REJECTED: return apply_rejected(s, f, err);
    }
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "unknown fact kind %d",
                      (int)f->kind);
}

WW_FOLD_DEFINE_APPLY_DECISION(ww_users_apply_decision, ww_users_state_t,
                              ww_users_decision_t, ww_users_apply)

/* ---------------------------------------------------------- decisions */

/* Every decision starts from "OK, no fact, no result". */
static void decision_reset(ww_users_decision_t *d) { memset(d, 0, sizeof *d); }

/* Adds the decision's fact: a balance change (or its refusal) of user_id by
 * amount_change for `reason`, leaving the balance at balance_after. */
static void emit(ww_users_decision_t *d, ww_users_fact_kind_t kind,
                 const char *user_id, const char *training_uuid,
                 ww_users_reason_t reason, int64_t amount_change,
                 int64_t balance_after) {
    ww_users_fact_t *f = &d->facts[d->n_facts++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    memcpy(f->user_id, user_id, strlen(user_id) + 1);
    if (training_uuid)
        memcpy(f->training_uuid, training_uuid, sizeof f->training_uuid);
    f->reason = reason;
    f->amount_change = amount_change;
    f->balance_after = balance_after;
}

ww_code_t ww_users_get_balance(const ww_users_state_t *s, const char *user_id,
                               int64_t *amount, ww_err_t *err) {
    ww_code_t rc = ww_ids_check_user_id(user_id, err);
    if (rc != WW_OK) return rc;
    *amount = balance_of(s, user_id);
    return WW_OK;
}

ww_code_t ww_users_decide_update_balance(const ww_users_state_t *s,
                                         const char *user_id,
                                         int64_t amount_change,
                                         ww_users_decision_t *d) {
    decision_reset(d);
    ww_code_t rc = ww_ids_check_user_id(user_id, &d->err);
    if (rc != WW_OK) return rc;
    int64_t cur = balance_of(s, user_id), next;
    if (__builtin_add_overflow(cur, amount_change, &next))
        return ww_err_set(&d->err, WW_ERR_OUT_OF_RANGE,
                          "balance %lld + %lld overflows int64",
                          (long long)cur, (long long)amount_change);
    if (next < 0)
        return ww_err_set(&d->err, WW_ERR_FAILED_PRECONDITION,
                          "balance cannot be smaller than 0");
    d->balance = next;
    if (amount_change == 0) return WW_OK;
    emit(d, WW_USERS_FACT_BALANCE_CHANGED, user_id, NULL,
         WW_USERS_REASON_UPDATE, amount_change, next);
    return WW_OK;
}

/* Every saga decision starts with a clean decision and valid ids. */
static ww_code_t saga_start(ww_users_decision_t *d, const char *user_id,
                            const char *training_uuid) {
    decision_reset(d);
    ww_code_t rc = ww_ids_check_user_id(user_id, &d->err);
    if (rc == WW_OK) rc = ww_ids_check_training_uuid(training_uuid, &d->err);
    return rc;
}

ww_code_t ww_users_decide_debit_for_training(const ww_users_state_t *s,
                                             const char *user_id,
                                             const char *training_uuid,
                                             ww_users_decision_t *d) {
    ww_code_t rc = saga_start(d, user_id, training_uuid);
    if (rc != WW_OK) return rc;
    int64_t cur = balance_of(s, user_id);
    d->balance = cur;
    const ww_users__debit_t *rec = ww_users__find_debit(s, training_uuid);
    if (rec) {
        if (strcmp(s->users[rec->user].user_id, user_id) != 0)
            return ww_err_set(&d->err, WW_ERR_ALREADY_EXISTS,
                              "training %s was already debited from another "
                              "user",
                              training_uuid);
        d->outcome = rec->outcome;
        return WW_OK;
    }
    if (cur >= 1) {
        emit(d, WW_USERS_FACT_BALANCE_CHANGED, user_id, training_uuid,
             WW_USERS_REASON_TRAINING_DEBIT, -1, cur - 1);
        d->balance = cur - 1;
        d->outcome = WW_USERS_DEBIT_DEBITED;
    } else {
        /* the fact describes the change that was refused */
        emit(d, WW_USERS_FACT_BALANCE_REJECTED, user_id, training_uuid,
             WW_USERS_REASON_TRAINING_DEBIT, -1, cur);
        d->outcome = WW_USERS_DEBIT_REJECTED;
    }
    return WW_OK;
}

ww_code_t ww_users_decide_refund_for_training(const ww_users_state_t *s,
                                              const char *user_id,
                                              const char *training_uuid,
                                              int64_t amount,
                                              ww_users_decision_t *d) {
    ww_code_t rc = saga_start(d, user_id, training_uuid);
    if (rc != WW_OK) return rc;
    if (amount < 0)
        return ww_err_set(&d->err, WW_ERR_INVALID_ARGUMENT,
                          "refund amount cannot be negative: %lld",
                          (long long)amount);
    int64_t cur = balance_of(s, user_id), next;
    d->balance = cur;
    const ww_users__debit_t *rec = ww_users__find_debit(s, training_uuid);
    if (amount == 0 || !rec || rec->outcome != WW_USERS_DEBIT_DEBITED ||
        rec->refunded || strcmp(s->users[rec->user].user_id, user_id) != 0)
        return WW_OK;
    if (__builtin_add_overflow(cur, amount, &next))
        return ww_err_set(&d->err, WW_ERR_OUT_OF_RANGE,
                          "balance %lld + %lld overflows int64",
                          (long long)cur, (long long)amount);
    emit(d, WW_USERS_FACT_BALANCE_CHANGED, user_id, training_uuid,
         WW_USERS_REASON_TRAINING_REFUND, amount, next);
    d->balance = next;
    d->refunded = amount;
    return WW_OK;
}

ww_users_debit_outcome_t
ww_users_training_outcome(const ww_users_state_t *s,
                          const char *training_uuid) {
    if (!training_uuid) return WW_USERS_DEBIT_NONE;
    const ww_users__debit_t *rec = ww_users__find_debit(s, training_uuid);
    return rec ? rec->outcome : WW_USERS_DEBIT_NONE;
}

/* ------------------------------------------------- decide + apply */

static ww_code_t finish(ww_users_state_t *s, ww_users_decision_t *d,
                        ww_code_t rc, ww_err_t *err) {
    if (rc == WW_OK) rc = ww_users_apply_decision(s, d, &d->err);
    if (err) *err = d->err;
    return rc;
}

ww_code_t ww_users_update_balance(ww_users_state_t *s, const char *user_id,
                                  int64_t amount_change, ww_err_t *err) {
    ww_users_decision_t d;
    ww_code_t rc = ww_users_decide_update_balance(s, user_id, amount_change,
                                                  &d);
    return finish(s, &d, rc, err);
}

ww_code_t ww_users_debit_for_training(ww_users_state_t *s,
                                      const char *user_id,
                                      const char *training_uuid,
                                      ww_users_debit_outcome_t *outcome,
                                      ww_err_t *err) {
    ww_users_decision_t d;
    ww_code_t rc =
        ww_users_decide_debit_for_training(s, user_id, training_uuid, &d);
    rc = finish(s, &d, rc, err);
    if (rc == WW_OK && outcome) *outcome = d.outcome;
    return rc;
}

ww_code_t ww_users_refund_for_training(ww_users_state_t *s,
                                       const char *user_id,
                                       const char *training_uuid,
                                       int64_t amount, int64_t *refunded,
                                       ww_err_t *err) {
    ww_users_decision_t d;
    ww_code_t rc = ww_users_decide_refund_for_training(s, user_id,
                                                       training_uuid, amount,
                                                       &d);
    rc = finish(s, &d, rc, err);
    if (rc == WW_OK && refunded) *refunded = d.refunded;
    return rc;
}

/* ------------------------------------------- fixtures, counts, digest */

static const struct {
    const char *user_id;
    int64_t credits;
} fixtures[] = {
    {"demo-anna", 10},
    {"demo-bartek", 5},
    {"demo-celina", 8},
    {"demo-dawid", 6},
};

size_t ww_users_fixture_count(void) {
    return sizeof fixtures / sizeof fixtures[0];
}

const char *ww_users_fixture_user(size_t i, int64_t *credits) {
    if (i >= ww_users_fixture_count()) return NULL;
    if (credits) *credits = fixtures[i].credits;
    return fixtures[i].user_id;
}

ww_code_t ww_users_fixtures_fill(ww_users_state_t *s, ww_err_t *err) {
    for (size_t i = 0; i < ww_users_fixture_count(); i++) {
        ww_code_t rc = ww_users_update_balance(s, fixtures[i].user_id,
                                               fixtures[i].credits, err);
        if (rc != WW_OK) return rc;
    }
    return WW_OK;
}

void ww_users_counts(const ww_users_state_t *s, ww_users_counts_t *c) {
    memset(c, 0, sizeof *c);
    uint64_t sum = 0;
    for (size_t i = 0; i < s->n_users; i++) {
        c->users += s->users[i].balance != 0;
        sum += (uint64_t)s->users[i].balance;
    }
    c->sum_balances = (int64_t)sum;
    for (size_t i = 0; i < s->n_debits; i++) {
        const ww_users__debit_t *d = &s->debits[i];
        if (d->outcome == WW_USERS_DEBIT_DEBITED) c->trainings_debited++;
        if (d->outcome == WW_USERS_DEBIT_REJECTED) c->trainings_rejected++;
        if (d->refunded) c->trainings_refunded++;
    }
    c->sum_updates = (int64_t)s->sum_updates;
    c->sum_debits = (int64_t)s->sum_debits;
    c->sum_refunds = (int64_t)s->sum_refunds;
}
