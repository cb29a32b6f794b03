/*
 * ww_trainer_roster.h - the trainers of one shard: each trainer's hours and
 * trainings (a ww_trainer_state_t) under its trainer id, the key of the
 * trainer's facts. Nothing assumes there is only one trainer.
 *
 * A trainer appears with its first fact. Training uuids are unique per
 * trainer; ww_trainer_roster_find_training looks through every trainer.
 *
 * Transactions as in ww_trainer_domain.h: after ww_trainer_roster_begin,
 * trainers added and facts applied are recorded (only the trainers a fact
 * touches record anything); rollback restores the begin point, commit
 * keeps the changes.
 *
 * Memory: the roster owns its trainer states and ids; states returned are
 * borrowed, valid until the next change or destroy. Threads: none; the
 * owner serialises writers against readers.
 */
#ifndef WW_TRAINER_ROSTER_H
#define WW_TRAINER_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"
#include "ww_shard.h"
#include "ww_trainer_domain.h"

/* Longest trainer id accepted (bytes). */
#define WW_TRAINER_ROSTER_ID_MAX 128

typedef struct ww_trainer_roster ww_trainer_roster_t;

ww_trainer_roster_t *ww_trainer_roster_new(void); /* NULL: out of memory */
void ww_trainer_roster_destroy(ww_trainer_roster_t *r);
ww_trainer_roster_t *ww_trainer_roster_clone(const ww_trainer_roster_t *r);

/* WW_OK, or INVALID_ARGUMENT "trainer_id is empty" / "... longer than". */
ww_code_t ww_trainer_roster_check_id(const char *trainer_id, ww_err_t *err);

/* The trainer's state, or an empty state (shared, never changed) when the
 * trainer has no fact yet: decisions over an unknown trainer see nothing
 * available. */
const ww_trainer_state_t *ww_trainer_roster_get(const ww_trainer_roster_t *r,
                                                const char *trainer_id);

/* Folds one fact of `trainer_id` into its state (the trainer appears with
 * its first fact). Errors as ww_trainer_apply, plus INVALID_ARGUMENT for a
 * bad trainer id; the roster is unchanged on error. */
ww_code_t ww_trainer_roster_apply(ww_trainer_roster_t *r,
                                  const char *trainer_id,
                                  const ww_trainer_fact_t *f, ww_err_t *err);

/* The training `uuid` of whichever trainer has it (of two trainers with the
 * same uuid, the smallest trainer id bytewise): WW_OK with *trainer_id
 * (borrowed) and *view; NOT_FOUND "training <uuid> not found";
 * INVALID_ARGUMENT for a bad uuid. */
ww_code_t ww_trainer_roster_find_training(const ww_trainer_roster_t *r,
                                          const char *uuid,
                                          const char **trainer_id,
                                          ww_trainer_training_view_t *view,
                                          ww_err_t *err);

size_t ww_trainer_roster_count(const ww_trainer_roster_t *r);

/* Counts summed over every trainer. */
void ww_trainer_roster_counts(const ww_trainer_roster_t *r,
                              ww_trainer_counts_t *c);

void ww_trainer_roster_begin(ww_trainer_roster_t *r);
void ww_trainer_roster_commit(ww_trainer_roster_t *r);
void ww_trainer_roster_rollback(ww_trainer_roster_t *r);

/* Canonical bytes: "WWRS", u32 version 1, u64 trainers, then per trainer
 * ascending by id (bytewise): id string | u64 length | the trainer state's
 * canonical bytes (ww_trainer_state_serialize). *out malloc'd (caller
 * frees); RESOURCE_EXHAUSTED when out of memory. */
ww_code_t ww_trainer_roster_serialize(const ww_trainer_roster_t *r,
                                      uint8_t **out, size_t *len,
                                      ww_err_t *err);

/* The inverse: rebuilds the roster buf[0..len) describes (a snapshot), no
 * transaction in progress. Canonical bytes only: trainer ids valid and
 * strictly ascending, each state accepted by ww_trainer_state_deserialize
 * (whose byte offsets, quoted in the message, count from that state's
 * first byte), nothing after the last trainer; so the rebuilt roster
 * serialises to exactly buf. WW_ERR_INVALID_ARGUMENT with a message naming
 * the problem and its byte offset, WW_ERR_RESOURCE_EXHAUSTED when out of
 * memory. On WW_OK *out is a new roster (the caller destroys it); on
 * failure nothing is allocated and *out is untouched. */
ww_code_t ww_trainer_roster_deserialize(const uint8_t *buf, size_t len,
                                        ww_trainer_roster_t **out,
                                        ww_err_t *err);

/* The roster as the state of a ww_shard_t (magic "WWTS"). */
extern const ww_shard_ops_t ww_trainer_roster_shard_ops;

#endif
