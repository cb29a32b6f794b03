/* snapshot_test_util.h - realistic states of both services and of their
 * shards, built through decisions as the services build them, for the
 * snapshot tests (test_snapshots.c, test_snapshots_bad.c). */
#ifndef SNAPSHOT_TEST_UTIL_H
#define SNAPSHOT_TEST_UTIL_H

#include "trainer_test_util.h"
#include "ww_canon.h"
#include "ww_dedup.h"
#include "ww_shard.h"
#include "ww_trainer_roster.h"
#include "ww_users_domain.h"

#include <stdint.h>

#define T_PEND  "a0000000-0000-4000-8000-000000000001"
#define T_SCHED "a0000000-0000-4000-8000-000000000002"
#define T_REJ   "a0000000-0000-4000-8000-000000000003"
#define T_CANP  "a0000000-0000-4000-8000-000000000004"
#define T_CANS  "a0000000-0000-4000-8000-000000000005"
#define T_AGAIN "A0000000-0000-4000-8000-00000000000F" /* upper case */
#define T_NEW   "b0000000-0000-4000-8000-000000000001"
#define T_NEW2  "b0000000-0000-4000-8000-000000000002"
#define T_NONE  "c0000000-0000-4000-8000-000000000000"

/* One trainer decision, run the same way over any state. */
typedef enum step_op {
    AVAIL,
    UNAVAIL,
    SCHED_HOUR,
    CANCEL_HOUR,
    UPDATE_HOUR, /* flag = has_training_scheduled, flag2 = available */
    BOOK,
    DEBITED,
    REJECTED,
    CANCEL, /* flag = by_trainer; `now` = day now_day, hour now_hour */
} step_op_t;

typedef struct step {
    step_op_t op;
    int day, hour;
    const char *uuid, *user, *notes;
    bool flag, flag2;
    int now_day, now_hour;
} step_t;

/* Steps, by kind. */
#define S_HOUR(op_, d, h)                                                      \
    { .op = (op_), .day = (d), .hour = (h) }
#define S_BOOK(d, h, u, who, text)                                             \
    {                                                                          \
        .op = BOOK, .day = (d), .hour = (h), .uuid = (u), .user = (who),       \
        .notes = (text)                                                        \
    }
#define S_OUTCOME(op_, u)                                                      \
    { .op = (op_), .uuid = (u) }
#define S_CANCEL(u, by, nd, nh)                                                \
    {                                                                          \
        .op = CANCEL, .uuid = (u), .flag = (by), .now_day = (nd),              \
        .now_hour = (nh)                                                       \
    }
#define S_UPDATE(d, h, has, avail)                                             \
    {                                                                          \
        .op = UPDATE_HOUR, .day = (d), .hour = (h), .flag = (has),             \
        .flag2 = (avail)                                                       \
    }

ww_code_t step_decide(const ww_trainer_state_t *s, const step_t *st,
                      ww_trainer_decision_t *d);

/* A trainer state or one trainer of a roster, as the target of steps. */
typedef struct target {
    ww_trainer_state_t *state;
    ww_trainer_roster_t *roster;
    const char *trainer_id;
} target_t;

const ww_trainer_state_t *target_state(const target_t *t);
/* Decides `st` over the target and applies what it decided; the code. */
ww_code_t target_do(target_t *t, const step_t *st, ww_err_t *err);

/* Hours in every state and trainings in every status (steps below). */
extern const step_t trainer_build[];
extern const size_t trainer_build_n;
/* Later decisions: facts, refusals and no-ops over the built state. */
extern const step_t trainer_later[];
extern const size_t trainer_later_n;
/* Every training uuid the steps mention, and one never booked. */
extern const char *const trainer_uuids[];
extern const size_t trainer_uuids_n;

ww_trainer_state_t *trainer_built(void);
/* tom: trainer_build; ola: a few hours and T_PEND booked as well; zoe: a
 * trainer whose only fact was refused (present, empty). */
ww_trainer_roster_t *roster_built(void);

/* Users with balances (one at INT64_MAX, so the sums wrap), trainings
 * debited, rejected, refunded, a debited user down to 0, a user back to
 * 0 with no debit. */
ww_users_state_t *users_built(void);
extern const char *const users_ids[];
extern const size_t users_ids_n;
extern const char *const users_uuids[];
extern const size_t users_uuids_n;

/* Idempotency keys of two callers and the local caller "", last command
 * 41, over `state` (taken over). */
ww_shard_t *shard_built(const ww_shard_ops_t *ops, void *state);
extern const char *const shard_callers[];
extern const size_t shard_callers_n;
extern const char *const shard_keys[];
extern const size_t shard_keys_n;
void shard_digest(const char *text, uint8_t d[WW_DEDUP_DIGEST_LEN]);

bytes_t shard_bytes(const ww_shard_t *s);
bytes_t roster_bytes(const ww_trainer_roster_t *r);
bytes_t users_bytes(const ww_users_state_t *s);
bytes_t writer_bytes(ww_canon_t *c);

#endif
