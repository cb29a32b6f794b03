/* ww_users_undo.c - the users state's undo log: what each fact of the
 * transaction in progress changed, so an abort restores the state without
 * ever copying it. */
#include "ww_fold.h"
#include "ww_users_domain_int.h"

#include <stdlib.h>
#include <string.h>

void ww_users_state_begin(ww_users_state_t *s) {
    s->recording = true;
}

void ww_users_state_commit(ww_users_state_t *s) {
    s->recording = false;
    s->n_undo = 0;
}

bool ww_users__undo_reserve(ww_users_state_t *s, size_t n) {
    if (!s->recording) return true;
    return ww_fold_grow((void **)&s->undo, &s->cap_undo, s->n_undo + n,
                        sizeof *s->undo);
}

/* Room was reserved by the apply that calls these. */
static ww_users__undo_t *push(ww_users_state_t *s, ww_users__undo_kind_t kind,
                              size_t index) {
    ww_users__undo_t *u = &s->undo[s->n_undo++];
    u->kind = kind;
    u->index = index;
    return u;
}

void ww_users__undo_user_added(ww_users_state_t *s) {
    if (s->recording) push(s, WW_USERS__UNDO_USER_ADDED, s->n_users - 1);
}

void ww_users__undo_user_set(ww_users_state_t *s, const ww_users__user_t *u) {
    if (s->recording)
        push(s, WW_USERS__UNDO_USER_SET, (size_t)(u - s->users))->old.balance =
            u->balance;
}

void ww_users__undo_debit_added(ww_users_state_t *s) {
    if (s->recording) push(s, WW_USERS__UNDO_DEBIT_ADDED, s->n_debits - 1);
}

void ww_users__undo_debit_set(ww_users_state_t *s, const ww_users__debit_t *d) {
    if (s->recording)
        push(s, WW_USERS__UNDO_DEBIT_SET, (size_t)(d - s->debits))->old.debit =
            *d;
}

void ww_users__undo_totals(ww_users_state_t *s) {
    if (!s->recording) return;
    ww_users__undo_t *u = push(s, WW_USERS__UNDO_TOTALS, 0);
    u->old.sums[0] = s->sum_updates;
    u->old.sums[1] = s->sum_debits;
    u->old.sums[2] = s->sum_refunds;
}

void ww_users_state_rollback(ww_users_state_t *s) {
    /* Newest first: an append is undone after every later change of the
     * appended record, so it is always the last element. */
    while (s->n_undo > 0) {
        const ww_users__undo_t *u = &s->undo[--s->n_undo];
        switch (u->kind) {
        case WW_USERS__UNDO_USER_ADDED: {
            ww_users__user_t *rec = &s->users[u->index];
            ww_index_remove(&s->user_ix, ww_index_hash_str(rec->user_id),
                            (uint32_t)u->index);
            free(rec->user_id);
            s->n_users = u->index;
            break;
        }
        case WW_USERS__UNDO_USER_SET:
            s->users[u->index].balance = u->old.balance;
            break;
        case WW_USERS__UNDO_DEBIT_ADDED:
            ww_index_remove(&s->debit_ix,
                            ww_index_hash_str(s->debits[u->index].uuid),
                            (uint32_t)u->index);
            s->n_debits = u->index;
            break;
        case WW_USERS__UNDO_DEBIT_SET:
            s->debits[u->index] = u->old.debit;
            break;
        case WW_USERS__UNDO_TOTALS:
            s->sum_updates = u->old.sums[0];
            s->sum_debits = u->old.sums[1];
            s->sum_refunds = u->old.sums[2];
            break;
        }
    }
    s->recording = false;
}
