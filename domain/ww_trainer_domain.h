/*
 * ww_trainer_domain.h - the trainer's rules: the trainer's hours and the
 * trainings booked on them (TrainerService and TrainingsService), as pure C.
 *
 * Event-sourced shape. Every operation is a *decision* over the current
 * state: ww_trainer_decide_*() reads the state, never changes it, and fills
 * a ww_trainer_decision_t with the result (code + message + result fields)
 * and the facts it produces (0 or 1 today). ww_trainer_apply() folds one
 * fact into the state; the state is nothing but the fold of its facts, so a
 * replay of the same facts gives the same state (and the same digest). The
 * wrappers without `decide_` (ww_trainer_update_hour(), ...) decide and apply
 * in one call for the in-memory mode. A refusal or a no-op produces no fact.
 *
 * Hours. An hour (UTC, truncated to the full hour) is available, not
 * available, or has a training scheduled; working hours are 12:00..20:00
 * UTC of any date. The state is sparse: a working hour never touched is
 * "not available". A scheduled hour may be *held* by a TrainingsService
 * training (PENDING or SCHEDULED); no hour-only method frees or changes a
 * held hour.
 *
 * Trainings: PENDING (hour held, credit not yet confirmed) -> SCHEDULED
 * (users debited one credit) or REJECTED (no credit: the hour is released);
 * PENDING or SCHEDULED -> CANCELED (hour freed, refund decided).
 *
 * Times: commands carry their own timestamp (`now` of CancelTraining); the
 * domain never reads a clock. Invalid timestamps are INVALID_ARGUMENT
 * "unable to parse time" (see ww_time.h).
 *
 * Memory: the state is owned by the caller (_new/_destroy). Strings passed
 * in are copied; nothing passed in is kept. Decisions and facts are plain
 * caller-owned structs with fixed buffers (no pointers). Views returned by
 * ww_trainer_get_training() borrow the state's strings, valid until the next
 * apply or destroy.
 *
 * Threads: no internal locking and no globals. Any thread may use a state;
 * the caller serialises writers against readers (const functions may run
 * concurrently with each other).
 */
#ifndef WW_TRAINER_DOMAIN_H
#define WW_TRAINER_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"
#include "ww_ids.h"
#include "ww_time.h"

typedef struct ww_trainer_state ww_trainer_state_t;

/* Numbers equal trainings.proto's TrainingStatus. */
typedef enum ww_trainer_training_status {
    WW_TRAINER_TRAINING_UNSPECIFIED = 0,
    WW_TRAINER_TRAINING_PENDING = 1,
    WW_TRAINER_TRAINING_SCHEDULED = 2,
    WW_TRAINER_TRAINING_CANCELED = 3,
    WW_TRAINER_TRAINING_REJECTED = 4,
} ww_trainer_training_status_t;

/* ------------------------------------------------------------------ facts */

typedef enum ww_trainer_fact_kind {
    /* An hour-only change: the hour's new flags (available,
     * has_training_scheduled). Never concerns a held hour. */
    WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED = 1,
    /* A TrainingsService training holds `hour`: training_uuid, user_id,
     * hour, notes; status PENDING. */
    WW_TRAINER_FACT_TRAINING_SCHEDULED = 2,
    /* The next three name the training by training_uuid; they also repeat
     * its user_id and hour for readers (the users side pays a refund to
     * user_id without a lookup); apply uses only the uuid. */
    /* Users debited the credit: PENDING -> SCHEDULED. */
    WW_TRAINER_FACT_TRAINING_CONFIRMED = 3,
    /* Cancelled: -> CANCELED, the hour is available again. Also
     * balance_refund and by_trainer. */
    WW_TRAINER_FACT_TRAINING_CANCELED = 4,
    /* Users had no credit: PENDING -> REJECTED, the hour is available again
     * (the compensation). */
    WW_TRAINER_FACT_TRAINING_RELEASED = 5,
} ww_trainer_fact_kind_t;

/* One fact. Fields a kind does not use are zero. Strings are NUL-terminated
 * within their buffers (ww_trainer_apply refuses a fact whose are not). */
typedef struct ww_trainer_fact {
    ww_trainer_fact_kind_t kind;
    int64_t hour; /* start of the hour, seconds since the epoch, UTC */
    bool available;
    bool has_training_scheduled;
    bool by_trainer;
    int64_t balance_refund;
    char training_uuid[WW_IDS_UUID_LEN + 1];
    char user_id[WW_IDS_USER_ID_MAX + 1];
    char notes[WW_IDS_NOTES_MAX + 1];
} ww_trainer_fact_t;

#define WW_TRAINER_DECISION_MAX_FACTS 1

/* The outcome of one decision. err.code is the decision's result (WW_OK for
 * success and for no-ops); facts[0..n_facts) are to be applied in order. */
typedef struct ww_trainer_decision {
    ww_err_t err;
    size_t n_facts;
    ww_trainer_fact_t facts[WW_TRAINER_DECISION_MAX_FACTS];
    /* Result fields, meaningful when err.code == WW_OK: */
    bool is_available;      /* IsHourAvailable */
    int64_t balance_refund; /* CancelTraining (also on a repeated cancel) */
} ww_trainer_decision_t;

/* ------------------------------------------------------------------ state */

/* An empty state, or NULL when out of memory. */
ww_trainer_state_t *ww_trainer_state_new(void);
void ww_trainer_state_destroy(ww_trainer_state_t *s);

/* A deep copy (e.g. the overlay of a transaction in progress, dropped on
 * abort), or NULL when out of memory. */
ww_trainer_state_t *ww_trainer_state_clone(const ww_trainer_state_t *s);

/* Transactions over a state: the decision state of a partition's owner is
 * the committed facts plus the facts of the transaction in progress.
 * After ww_trainer_state_begin, every fact applied is recorded in an undo
 * log (a few dozen bytes per fact, never a copy of the state);
 * ww_trainer_state_rollback puts the state back exactly as it was at begin
 * (in time proportional to the facts applied since) and
 * ww_trainer_state_commit keeps them; both end the transaction. begin on a
 * state already in one keeps the earlier start. Applying can then also
 * fail with RESOURCE_EXHAUSTED when the log cannot grow (nothing changed). */
void ww_trainer_state_begin(ww_trainer_state_t *s);
void ww_trainer_state_commit(ww_trainer_state_t *s);
void ww_trainer_state_rollback(ww_trainer_state_t *s);

/* Folds one fact into the state. WW_OK; or, with the state unchanged,
 * WW_ERR_INVALID_ARGUMENT for a malformed fact (unknown kind, unterminated
 * or invalid string, hour outside the schedule), WW_ERR_FAILED_PRECONDITION
 * for a fact that does not fit the state (e.g. TrainingConfirmed of a
 * training that is not PENDING, a second TrainingScheduled of a uuid, an
 * hour change of a held hour), WW_ERR_RESOURCE_EXHAUSTED when out of
 * memory. Facts produced by a decision over the same state always apply.
 * A replaying reader skips a refused fact and counts it. */
ww_code_t ww_trainer_apply(ww_trainer_state_t *s, const ww_trainer_fact_t *f,
                           ww_err_t *err);

/* Applies d->facts in order; stops at the first failure (returned). */
ww_code_t ww_trainer_apply_decision(ww_trainer_state_t *s,
                                    const ww_trainer_decision_t *d,
                                    ww_err_t *err);

/* --------------------------------------------- TrainerService (hour-only) */

/* is_available = available && no training scheduled; an hour outside the
 * schedule is simply not available (WW_OK). Errors: INVALID_ARGUMENT
 * "unable to parse time". Never produces a fact. */
ww_code_t ww_trainer_decide_is_hour_available(const ww_trainer_state_t *s,
                                              const ww_time_t *t,
                                              ww_trainer_decision_t *d);

/* The seed's UpdateHour. Checks, in the seed's order:
 *   INVALID_ARGUMENT    "unable to parse time"
 *   NOT_FOUND           "<RFC 3339 hour> hour not found in schedule"
 *   FAILED_PRECONDITION "hour <time> is held by training <uuid>"
 *   FAILED_PRECONDITION "hour is not available for training"
 *                       (has_training_scheduled && !hour.available)
 *   FAILED_PRECONDITION "cannot set hour as available when it have training
 *                       scheduled" (available && has_training_scheduled)
 *   FAILED_PRECONDITION "cannot set hour as unavailable when it have no
 *                       training scheduled" (!available && !has_training_...)
 *   FAILED_PRECONDITION "hour HasTrainingScheduled is already true"
 *                       (has_training_scheduled && hour already scheduled)
 * then sets both flags (fact HOUR_AVAILABILITY_CHANGED, none if unchanged).
 * As in the seed, a double booking answers "hour is not available for
 * training": a scheduled hour is never available (apply refuses a fact
 * that would make it both), so the last check is kept for parity only. */
ww_code_t ww_trainer_decide_update_hour(const ww_trainer_state_t *s,
                                        const ww_time_t *t,
                                        bool has_training_scheduled,
                                        bool available,
                                        ww_trainer_decision_t *d);

/* The later original's hour-only methods. Each: INVALID_ARGUMENT "unable to
 * parse time"; NOT_FOUND "<time> hour not found in schedule";
 * FAILED_PRECONDITION "hour <time> is held by training <uuid>"; then:
 *   schedule_training:  FAILED_PRECONDITION "hour is not available" unless
 *                       available and not scheduled; marks it scheduled.
 *   cancel_training:    FAILED_PRECONDITION "training is not scheduled"
 *                       unless scheduled; makes it available.
 *   make_available:     FAILED_PRECONDITION "unable to modify hour, because
 *                       scheduled training" if scheduled; else available
 *                       (no fact if it already was).
 *   make_unavailable:   same refusal; else not available (no fact if it
 *                       already was). */
ww_code_t ww_trainer_decide_schedule_hour(const ww_trainer_state_t *s,
                                          const ww_time_t *t,
                                          ww_trainer_decision_t *d);
ww_code_t ww_trainer_decide_cancel_hour(const ww_trainer_state_t *s,
                                        const ww_time_t *t,
                                        ww_trainer_decision_t *d);
ww_code_t ww_trainer_decide_make_hour_available(const ww_trainer_state_t *s,
                                                const ww_time_t *t,
                                                ww_trainer_decision_t *d);
ww_code_t ww_trainer_decide_make_hour_unavailable(const ww_trainer_state_t *s,
                                                  const ww_time_t *t,
                                                  ww_trainer_decision_t *d);

/* ------------------------------------------------------- TrainingsService */

/* ScheduleTraining. Checks, in this order:
 *   INVALID_ARGUMENT    training_uuid / user_id messages of ww_ids.h,
 *                       "unable to parse time", notes message of ww_ids.h
 *   OK, no fact         same uuid, same user_id, hour and notes (a retry,
 *                       whatever the training's status is now)
 *   ALREADY_EXISTS      "training <uuid> already exists with other content"
 *   FAILED_PRECONDITION "hour <time> is not in the schedule"
 *   FAILED_PRECONDITION "hour <time> is not available"
 * else fact TRAINING_SCHEDULED (status PENDING, the hour held).
 * `notes` may be NULL (= empty). The time is truncated to the hour, so two
 * requests within the same hour have the same content. */
ww_code_t ww_trainer_decide_schedule_training(const ww_trainer_state_t *s,
                                              const char *training_uuid,
                                              const char *user_id,
                                              const ww_time_t *t,
                                              const char *notes,
                                              ww_trainer_decision_t *d);

/* The users side debited the credit: a PENDING training -> fact
 * TRAINING_CONFIRMED. Any other case (not PENDING any more, unknown uuid)
 * is WW_OK with no fact, so a late or repeated outcome never stalls. */
ww_code_t ww_trainer_decide_balance_debited(const ww_trainer_state_t *s,
                                            const char *training_uuid,
                                            ww_trainer_decision_t *d);

/* The users side rejected the debit: a PENDING training -> fact
 * TRAINING_RELEASED (REJECTED, the hour available again). Otherwise WW_OK
 * with no fact. */
ww_code_t ww_trainer_decide_balance_rejected(const ww_trainer_state_t *s,
                                             const char *training_uuid,
                                             ww_trainer_decision_t *d);

/* CancelTraining at command time `now`. Checks, in this order:
 *   INVALID_ARGUMENT    training_uuid messages; "unable to parse time" (now)
 *   NOT_FOUND           "training <uuid> not found"
 *   OK, no fact         already CANCELED: balance_refund = the original one
 *   FAILED_PRECONDITION "training <uuid> was rejected and cannot be canceled"
 * else fact TRAINING_CANCELED with balance_refund: 1 when the training starts
 * more than 24 h after `now`; otherwise 0 for the attendee, 2 for the
 * trainer (1 + fine). d->balance_refund carries the refund. */
ww_code_t ww_trainer_decide_cancel_training(const ww_trainer_state_t *s,
                                            const char *training_uuid,
                                            bool by_trainer,
                                            const ww_time_t *now,
                                            ww_trainer_decision_t *d);

/* A training as GetTraining shows it. Strings borrow the state. */
typedef struct ww_trainer_training_view {
    const char *training_uuid;
    const char *user_id;
    const char *notes; /* "" when none */
    int64_t hour;      /* the training's time: start of its hour, UTC */
    ww_trainer_training_status_t status;
    int64_t balance_refund; /* set once CANCELED, else 0 */
    bool debited;           /* the users side confirmed the debit */
    bool canceled_by_trainer;
} ww_trainer_training_view_t;

/* An hour as the state holds it. */
typedef struct ww_trainer_hour_view {
    int64_t hour; /* start of the hour, UTC */
    bool in_schedule;
    bool available;
    bool has_training_scheduled;
    const char *held_by; /* training uuid (borrowed), NULL when not held */
} ww_trainer_hour_view_t;

/* Fills *view for the hour containing `hour` (seconds; truncated). A
 * working hour never touched, or one outside the schedule, reads as not
 * available and not scheduled. Never fails. */
void ww_trainer_get_hour(const ww_trainer_state_t *s, int64_t hour,
                         ww_trainer_hour_view_t *view);

/* WW_OK and *view; INVALID_ARGUMENT (training_uuid messages); NOT_FOUND
 * "training <uuid> not found". */
ww_code_t ww_trainer_get_training(const ww_trainer_state_t *s,
                                  const char *training_uuid,
                                  ww_trainer_training_view_t *view,
                                  ww_err_t *err);

/* ------------------------------------- in-memory mode: decide + apply */

/* Each decides, applies the facts, and returns the decision's code (or the
 * apply's, if applying failed, which only happens when out of memory). */
ww_code_t ww_trainer_is_hour_available(const ww_trainer_state_t *s,
                                       const ww_time_t *t, bool *available,
                                       ww_err_t *err);
ww_code_t ww_trainer_update_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                 bool has_training_scheduled, bool available,
                                 ww_err_t *err);
ww_code_t ww_trainer_schedule_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                   ww_err_t *err);
ww_code_t ww_trainer_cancel_hour(ww_trainer_state_t *s, const ww_time_t *t,
                                 ww_err_t *err);
ww_code_t ww_trainer_make_hour_available(ww_trainer_state_t *s,
                                         const ww_time_t *t, ww_err_t *err);
ww_code_t ww_trainer_make_hour_unavailable(ww_trainer_state_t *s,
                                           const ww_time_t *t, ww_err_t *err);
ww_code_t ww_trainer_schedule_training(ww_trainer_state_t *s,
                                       const char *training_uuid,
                                       const char *user_id,
                                       const ww_time_t *t, const char *notes,
                                       ww_err_t *err);
ww_code_t ww_trainer_balance_debited(ww_trainer_state_t *s,
                                     const char *training_uuid,
                                     ww_err_t *err);
ww_code_t ww_trainer_balance_rejected(ww_trainer_state_t *s,
                                      const char *training_uuid,
                                      ww_err_t *err);
/* *balance_refund (may be NULL) receives the refund on WW_OK. */
ww_code_t ww_trainer_cancel_training(ww_trainer_state_t *s,
                                     const char *training_uuid,
                                     bool by_trainer, const ww_time_t *now,
                                     int64_t *balance_refund, ww_err_t *err);

/* ------------------------------------------------ fixtures, counts, digest */

/* Demo fixtures: makes available, for `days` days starting with the UTC
 * day of `first_day`, the working hours chosen by a fixed pattern (about
 * two thirds of them; ww_trainer_fixture_hour_available() says which).
 * Hours already held or scheduled are left alone. WW_OK, INVALID_ARGUMENT
 * (bad time, days outside 1..3660, or a day past 9999-12-31), or the code
 * of a failed apply. */
ww_code_t ww_trainer_fixtures_fill(ww_trainer_state_t *s,
                                   const ww_time_t *first_day, int days,
                                   ww_err_t *err);

/* The fixture pattern: true when the fixtures make the working hour
 * `hour_of_day` of the `day_index`-th day (0-based) available. */
bool ww_trainer_fixture_hour_available(int day_index, int hour_of_day);

typedef struct ww_trainer_counts {
    size_t hours_available;  /* available, no training */
    size_t hours_scheduled;  /* training scheduled (held or hour-only) */
    size_t hours_held;       /* scheduled and held by a training */
    size_t trainings;        /* all statuses */
    size_t trainings_pending;
    size_t trainings_scheduled;
    size_t trainings_canceled;
    size_t trainings_rejected;
    int64_t refunds_decided; /* sum of balance_refund over CANCELED */
} ww_trainer_counts_t;

void ww_trainer_counts(const ww_trainer_state_t *s, ww_trainer_counts_t *c);

/* Canonical serialisation of the state, the input of its SHA-256 digest.
 * Equal states give equal bytes, however they were built (replay, clone,
 * snapshot): only the observable state is written, sorted.
 *
 * All integers are big-endian, fixed width; a string is a u32 length
 * followed by its bytes (no NUL).
 *   magic    4 bytes "WWTR"
 *   version  u32 = 1
 *   n_hours  u64, then per hour whose state is not the default "not
 *            available, no training" (ascending by hour):
 *              hour i64 | available u8 | has_training_scheduled u8 |
 *              holder string (training uuid, empty when not held)
 *   n_trainings u64, then per training (ascending by uuid, bytewise):
 *              uuid string | user_id string | hour i64 | notes string |
 *              status u8 (TrainingStatus) | debited u8 |
 *              canceled_by_trainer u8 | balance_refund i64
 * On WW_OK *out is a malloc'd buffer the caller frees with free(), *len its
 * size. WW_ERR_RESOURCE_EXHAUSTED when out of memory (*out untouched). */
ww_code_t ww_trainer_state_serialize(const ww_trainer_state_t *s,
                                     uint8_t **out, size_t *len,
                                     ww_err_t *err);

/* The inverse: rebuilds the state buf[0..len) describes (a snapshot), with
 * its indexes, no transaction and an empty undo log, so it answers every
 * lookup and folds later facts exactly as the state that wrote the bytes.
 * Only canonical bytes are accepted: the rebuilt state must serialise to
 * exactly buf (entries sorted, no duplicates, no default-valued hours).
 * Refused with WW_ERR_INVALID_ARGUMENT and a message naming the problem
 * and its byte offset: another magic or version, truncated or trailing
 * bytes; an hour that is not the start of a working hour, available and
 * scheduled at once, held but not scheduled, or with a holder that is not
 * a PENDING or SCHEDULED training of that hour; a training with an
 * invalid uuid, user_id (ww_ids.h), hour or notes length, a status out of
 * range, fields its status cannot have (debited unless SCHEDULED or
 * CANCELED, a refund or by_trainer unless CANCELED, a negative refund), or
 * PENDING/SCHEDULED without holding its hour; a boolean other than 0/1.
 * WW_ERR_RESOURCE_EXHAUSTED when out of memory. On WW_OK *out is a new
 * state (the caller destroys it); on failure nothing is allocated and *out
 * is untouched. */
ww_code_t ww_trainer_state_deserialize(const uint8_t *buf, size_t len,
                                       ww_trainer_state_t **out, ww_err_t *err);

/* Upper-case name of a status ("PENDING"); static storage. */
const char *ww_trainer_training_status_name(ww_trainer_training_status_t st);

#endif
