/*
 * ww_users_domain_int.h - private: the users state's layout, shared by the
 * files of the ww_users_ domain module (ww_users_domain.c: state,
 * decisions, fold; ww_users_undo.c: the undo log; ww_users_canon.c:
 * canonical bytes written and read; ww_users_shard.c, which needs only the
 * public header: the shard operations). Not for use outside
 * domain/; names carry the module prefix with a double underscore.
 */
#ifndef WW_USERS_DOMAIN_INT_H
#define WW_USERS_DOMAIN_INT_H

#include "ww_index.h"
#include "ww_users_domain.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ww_users__user {
    char *user_id;
    int64_t balance;
} ww_users__user_t;

/* The debit decided for one training. */
typedef struct ww_users__debit {
    char uuid[WW_IDS_UUID_LEN + 1];
    uint32_t user; /* index into users */
    ww_users_debit_outcome_t outcome;
    bool refunded;
    int64_t refund;
} ww_users__debit_t;

/* One entry of the undo log (ww_users_undo.c): what a fact changed. */
typedef enum ww_users__undo_kind {
    WW_USERS__UNDO_USER_ADDED,  /* the last user record was appended */
    WW_USERS__UNDO_USER_SET,    /* users[index].balance was `old.balance` */
    WW_USERS__UNDO_DEBIT_ADDED, /* the last debit record was appended */
    WW_USERS__UNDO_DEBIT_SET,   /* debits[index] was `old.debit` */
    WW_USERS__UNDO_TOTALS,      /* the three sums were `old.sums` */
} ww_users__undo_kind_t;

typedef struct ww_users__undo {
    ww_users__undo_kind_t kind;
    size_t index;
    union {
        int64_t balance;
        ww_users__debit_t debit;
        uint64_t sums[3]; /* sum_updates, sum_debits, sum_refunds */
    } old;
} ww_users__undo_t;

struct ww_users_state {
    ww_users__user_t *users;
    size_t n_users, cap_users;
    ww_index_t user_ix;
    ww_users__debit_t *debits;
    size_t n_debits, cap_debits;
    ww_index_t debit_ix;
    /* Totals of applied facts; unsigned so they wrap instead of overflowing
     * (the conservation equation then holds modulo 2^64). */
    uint64_t sum_updates, sum_debits, sum_refunds;
    /* The undo log of the transaction in progress (ww_users_state_begin). */
    bool recording;
    ww_users__undo_t *undo;
    size_t n_undo, cap_undo;
};

/* A fact changes at most this many records. */
#define WW_USERS__UNDO_PER_FACT 4

/* While recording: room for `n` more entries, so the changes that follow
 * cannot fail half-way. False when out of memory; true when not recording. */
bool ww_users__undo_reserve(ww_users_state_t *s, size_t n);
/* While recording, each notes what is about to change (after a reserve). */
void ww_users__undo_user_added(ww_users_state_t *s);
void ww_users__undo_user_set(ww_users_state_t *s, const ww_users__user_t *u);
void ww_users__undo_debit_added(ww_users_state_t *s);
void ww_users__undo_debit_set(ww_users_state_t *s, const ww_users__debit_t *d);
void ww_users__undo_totals(ww_users_state_t *s);

/* The record of a user / of a training's debit, or NULL. */
ww_users__user_t *ww_users__find_user(const ww_users_state_t *s,
                                      const char *user_id);
ww_users__debit_t *ww_users__find_debit(const ww_users_state_t *s,
                                        const char *uuid);

/* The user's record, added with balance 0 when absent; NULL when out of
 * memory (err set, nothing changed). */
ww_users__user_t *ww_users__user_get_or_add(ww_users_state_t *s,
                                            const char *user_id, ww_err_t *err);

/* Records the debit outcome of a training whose uuid is known absent (not
 * refunded). Reserves everything first, so RESOURCE_EXHAUSTED changes
 * nothing. */
ww_code_t ww_users__add_debit(ww_users_state_t *s, const char *uuid,
                              ww_users_debit_outcome_t outcome,
                              const ww_users__user_t *u, ww_err_t *err);

#endif
