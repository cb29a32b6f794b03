/*
 * ww_users_domain.h - the users' rules: training credits (UsersService) and
 * the users' side of the booking saga (debit per training, refunds), as
 * pure C.
 *
 * Event-sourced shape, as in ww_trainer_domain.h: ww_users_decide_*() reads
 * the state and fills a ww_users_decision_t (result + 0 or 1 fact);
 * ww_users_apply() folds a fact into the state; the state is the fold of its
 * facts. The wrappers without `decide_` decide and apply in one call for the
 * in-memory mode. A refusal or a no-op produces no fact.
 *
 * Rules. A user unknown to the state has balance 0. A balance is never
 * negative. Each training is debited at most once (idempotent per training
 * uuid) and refunded at most once, and only if it was debited, to the user
 * it was debited from.
 *
 * Memory: the state is owned by the caller (_new/_destroy); strings passed
 * in are copied, nothing passed in is kept; decisions and facts are plain
 * caller-owned structs with fixed buffers.
 *
 * Threads: no internal locking and no globals; the caller serialises
 * writers against readers (const functions may run concurrently).
 */
#ifndef WW_USERS_DOMAIN_H
#define WW_USERS_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"
#include "ww_ids.h"
#include "ww_shard.h"

typedef struct ww_users_state ww_users_state_t;

/* ------------------------------------------------------------------ facts */

typedef enum ww_users_fact_kind {
    /* user_id's balance changed by amount_change (reason below). */
    WW_USERS_FACT_BALANCE_CHANGED = 1,
    /* The debit for training_uuid was refused: user_id had no credit.
     * reason TRAINING_DEBIT, amount_change -1 and balance_after (the
     * unchanged balance) describe the refused change for readers; apply
     * uses only user_id and training_uuid. */
    WW_USERS_FACT_BALANCE_REJECTED = 2,
} ww_users_fact_kind_t;

/* Numbers equal the event schema's BalanceChangeReason (UPDATE = MANUAL). */
typedef enum ww_users_reason {
    WW_USERS_REASON_NONE = 0,
    WW_USERS_REASON_UPDATE = 1,          /* UpdateTrainingBalance */
    WW_USERS_REASON_TRAINING_DEBIT = 2,  /* -1 for training_uuid */
    WW_USERS_REASON_TRAINING_REFUND = 3, /* +refund for training_uuid */
} ww_users_reason_t;

/* One fact; unused fields are zero, strings NUL-terminated in their
 * buffers (ww_users_apply refuses a fact whose are not). */
typedef struct ww_users_fact {
    ww_users_fact_kind_t kind;
    ww_users_reason_t reason;
    int64_t amount_change;
    /* The balance after the change, as decided; informational for event
     * readers (apply recomputes it from the state). */
    int64_t balance_after;
    char user_id[WW_IDS_USER_ID_MAX + 1];
    char training_uuid[WW_IDS_UUID_LEN + 1]; /* empty for REASON_UPDATE */
} ww_users_fact_t;

/* The outcome of a training's debit. */
typedef enum ww_users_debit_outcome {
    WW_USERS_DEBIT_NONE = 0, /* no debit decided for this training */
    WW_USERS_DEBIT_DEBITED = 1,
    WW_USERS_DEBIT_REJECTED = 2,
} ww_users_debit_outcome_t;

#define WW_USERS_DECISION_MAX_FACTS 1

typedef struct ww_users_decision {
    ww_err_t err; /* the decision's result; WW_OK also for no-ops */
    size_t n_facts;
    ww_users_fact_t facts[WW_USERS_DECISION_MAX_FACTS];
    /* Result fields, meaningful when err.code == WW_OK: */
    int64_t balance;                  /* the user's balance afterwards */
    ww_users_debit_outcome_t outcome; /* DebitForTraining */
    int64_t refunded;                 /* RefundForTraining: paid now */
} ww_users_decision_t;

/* ------------------------------------------------------------------ state */

ww_users_state_t *ww_users_state_new(void); /* NULL when out of memory */
void ww_users_state_destroy(ww_users_state_t *s);
/* A deep copy, or NULL when out of memory. */
ww_users_state_t *ww_users_state_clone(const ww_users_state_t *s);

/* Transactions over a state, as in ww_trainer_domain.h: after
 * ww_users_state_begin every applied fact is recorded in an undo log;
 * ww_users_state_rollback restores the state of the begin point exactly,
 * ww_users_state_commit keeps the changes; both end the transaction, and
 * begin inside one keeps the earlier start. Applying may then also fail
 * with RESOURCE_EXHAUSTED when the log cannot grow (nothing changed). */
void ww_users_state_begin(ww_users_state_t *s);
void ww_users_state_commit(ww_users_state_t *s);
void ww_users_state_rollback(ww_users_state_t *s);

/* Folds one fact in. WW_OK; or, with the state unchanged:
 * INVALID_ARGUMENT for a malformed fact (unknown kind or reason, bad or
 * unterminated ids, a debit other than -1, a negative refund),
 * FAILED_PRECONDITION when it does not fit the state (a negative result, a
 * second debit of a training, a refund of a training not debited from that
 * user or already refunded), OUT_OF_RANGE on int64 overflow,
 * RESOURCE_EXHAUSTED when out of memory. Facts decided over the same state
 * always apply; a replaying reader skips a refused fact and counts it. */
ww_code_t ww_users_apply(ww_users_state_t *s, const ww_users_fact_t *f,
                         ww_err_t *err);
ww_code_t ww_users_apply_decision(ww_users_state_t *s,
                                  const ww_users_decision_t *d,
                                  ww_err_t *err);

/* ---------------------------------------------------------- UsersService */

/* GetTrainingBalance: WW_OK and *amount (0 for an unknown user), or
 * INVALID_ARGUMENT (user_id messages of ww_ids.h). */
ww_code_t ww_users_get_balance(const ww_users_state_t *s, const char *user_id,
                               int64_t *amount, ww_err_t *err);

/* UpdateTrainingBalance. Checks, in this order:
 *   INVALID_ARGUMENT    "user_id is empty" / "user_id is longer than ..."
 *   OUT_OF_RANGE        "balance <b> + <change> overflows int64"
 *   FAILED_PRECONDITION "balance cannot be smaller than 0"
 * else fact BALANCE_CHANGED (REASON_UPDATE); none for a change of 0. */
ww_code_t ww_users_decide_update_balance(const ww_users_state_t *s,
                                         const char *user_id,
                                         int64_t amount_change,
                                         ww_users_decision_t *d);

/* ----------------------------------------------------------------- saga */

/* "Debit 1 for training X" (from TrainingScheduled). INVALID_ARGUMENT for a
 * bad user_id or training_uuid. A training already decided: WW_OK with the
 * original outcome and no fact, or ALREADY_EXISTS "training <uuid> was
 * already debited from another user" when the user differs. Else balance
 * >= 1: fact BALANCE_CHANGED(-1, TRAINING_DEBIT), outcome DEBITED; else
 * fact BALANCE_REJECTED, outcome REJECTED. Both outcomes are WW_OK: a
 * rejection is a business result, not a failed command. */
ww_code_t ww_users_decide_debit_for_training(const ww_users_state_t *s,
                                             const char *user_id,
                                             const char *training_uuid,
                                             ww_users_decision_t *d);

/* "Refund <amount> for training X" (from TrainingCanceled). INVALID_ARGUMENT
 * for bad ids or amount < 0. Pays (fact BALANCE_CHANGED(+amount,
 * TRAINING_REFUND), d->refunded = amount) only when the training was
 * debited from this user and not refunded yet, and amount > 0; every other
 * case is WW_OK with no fact and refunded 0. OUT_OF_RANGE if the balance
 * would overflow. */
ww_code_t ww_users_decide_refund_for_training(const ww_users_state_t *s,
                                              const char *user_id,
                                              const char *training_uuid,
                                              int64_t amount,
                                              ww_users_decision_t *d);

/* The debit outcome recorded for a training (NONE when unknown). */
ww_users_debit_outcome_t
ww_users_training_outcome(const ww_users_state_t *s,
                          const char *training_uuid);

/* ------------------------------------- in-memory mode: decide + apply */

ww_code_t ww_users_update_balance(ww_users_state_t *s, const char *user_id,
                                  int64_t amount_change, ww_err_t *err);
/* *outcome may be NULL. */
ww_code_t ww_users_debit_for_training(ww_users_state_t *s,
                                      const char *user_id,
                                      const char *training_uuid,
                                      ww_users_debit_outcome_t *outcome,
                                      ww_err_t *err);
/* *refunded (may be NULL) receives what was paid now (0 for a no-op). */
ww_code_t ww_users_refund_for_training(ww_users_state_t *s,
                                       const char *user_id,
                                       const char *training_uuid,
                                       int64_t amount, int64_t *refunded,
                                       ww_err_t *err);

/* ------------------------------------------------ fixtures, counts, digest */

/* Demo fixtures: a few named users with 5..10 credits each. Adds each
 * fixture user's credits (an UpdateTrainingBalance per user), so call it
 * on a fresh state. WW_OK or the failed decision's/apply's code. */
ww_code_t ww_users_fixtures_fill(ww_users_state_t *s, ww_err_t *err);

/* The fixture table: ww_users_fixture_count() entries; entry i's user id
 * (static storage) and credits. */
size_t ww_users_fixture_count(void);
const char *ww_users_fixture_user(size_t i, int64_t *credits);

typedef struct ww_users_counts {
    size_t users;             /* users whose balance is not 0 */
    size_t trainings_debited; /* debit decided DEBITED */
    size_t trainings_rejected;
    size_t trainings_refunded;
    int64_t sum_balances;
    /* Totals over all applied facts, so credits are conserved:
     * sum_balances == sum_updates + sum_refunds - sum_debits. The sums are
     * kept modulo 2^64 (they only wrap past int64, where the equation
     * still holds modulo 2^64). */
    int64_t sum_updates; /* net of UpdateTrainingBalance changes */
    int64_t sum_debits;  /* credits debited for trainings (positive) */
    int64_t sum_refunds; /* credits refunded for trainings */
} ww_users_counts_t;

void ww_users_counts(const ww_users_state_t *s, ww_users_counts_t *c);

/* Canonical serialisation of the state, the input of its SHA-256 digest;
 * equal states give equal bytes however they were built. Integers are
 * big-endian, fixed width; a string is a u32 length then its bytes.
 *   magic    4 bytes "WWUS"
 *   version  u32 = 1
 *   n_users  u64, then per user with a non-zero balance (ascending by
 *            user_id, bytewise): user_id string | balance i64
 *   n_trainings u64, then per training with a decided debit (ascending by
 *            uuid, bytewise): uuid string | user_id string |
 *            outcome u8 (1 debited, 2 rejected) | refunded u8 | refund i64
 *   totals   sum_updates i64 | sum_debits i64 | sum_refunds i64
 * On WW_OK *out is malloc'd (caller frees with free()), *len its size;
 * WW_ERR_RESOURCE_EXHAUSTED when out of memory. */
ww_code_t ww_users_state_serialize(const ww_users_state_t *s, uint8_t **out,
                                   size_t *len, ww_err_t *err);

/* The inverse: rebuilds the state buf[0..len) describes (a snapshot), with
 * its indexes, no transaction and an empty undo log, so it answers every
 * lookup and folds later facts exactly as the state that wrote the bytes.
 * Only canonical bytes are accepted: the rebuilt state must serialise to
 * exactly buf (entries sorted, no duplicates, no zero balances). Refused
 * with WW_ERR_INVALID_ARGUMENT and a message naming the problem and its
 * byte offset: another magic or version, truncated or trailing bytes; an
 * invalid user_id or training uuid (ww_ids.h); a balance of 0 or below; an
 * outcome other than 1 or 2; a refund of a rejected training, a refunded
 * training without a positive refund or a refund without `refunded`; a
 * boolean other than 0/1; totals the entries do not add up to (sum_debits
 * = trainings debited, sum_refunds = the refunds, sum_updates = balances
 * - refunds + debits, modulo 2^64). WW_ERR_RESOURCE_EXHAUSTED when out of
 * memory. On WW_OK *out is a new state (the caller destroys it); on
 * failure nothing is allocated and *out is untouched. */
ww_code_t ww_users_state_deserialize(const uint8_t *buf, size_t len,
                                     ww_users_state_t **out, ww_err_t *err);

/* The users state as the state of a ww_shard_t (magic "WWUP"). */
extern const ww_shard_ops_t ww_users_shard_ops;

#endif
