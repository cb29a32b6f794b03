/*
 * ww_trainer_domain_int.h - private: the trainer state's layout, shared by
 * the files of the ww_trainer_ domain module (ww_trainer_domain.c: state,
 * decisions, fold, counts; ww_trainer_undo.c: the undo log;
 * ww_trainer_canon.c: canonical bytes written and read). Not for use
 * outside domain/. Names carry the module prefix with a double underscore
 * (private).
 */
#ifndef WW_TRAINER_DOMAIN_INT_H
#define WW_TRAINER_DOMAIN_INT_H

#include "ww_index.h"
#include "ww_trainer_domain.h"

#define WW_TRAINER__NO_HOLDER (-1)

typedef struct ww_trainer__hour {
    int64_t hour;
    bool available;
    bool scheduled;
    int64_t holder; /* index into trainings, or WW_TRAINER__NO_HOLDER */
} ww_trainer__hour_t;

typedef struct ww_trainer__training {
    char uuid[WW_IDS_UUID_LEN + 1];
    char *user_id;
    char *notes;
    int64_t hour;
    ww_trainer_training_status_t status;
    bool debited;
    bool by_trainer;
    int64_t refund;
} ww_trainer__training_t;

/* One entry of the undo log (ww_trainer_undo.c): what a fact changed. */
typedef enum ww_trainer__undo_kind {
    WW_TRAINER__UNDO_HOUR_ADDED,     /* the last hour record was appended */
    WW_TRAINER__UNDO_HOUR_SET,       /* hours[index] was `old.hour` */
    WW_TRAINER__UNDO_TRAINING_ADDED, /* the last training was appended */
    WW_TRAINER__UNDO_TRAINING_SET,   /* trainings[index] was `old.training` */
} ww_trainer__undo_kind_t;

typedef struct ww_trainer__undo {
    ww_trainer__undo_kind_t kind;
    size_t index;
    union {
        ww_trainer__hour_t hour;
        ww_trainer__training_t training; /* strings are never changed */
    } old;
} ww_trainer__undo_t;

struct ww_trainer_state {
    ww_trainer__hour_t *hours;
    size_t n_hours, cap_hours;
    ww_index_t hour_ix;
    ww_trainer__training_t *trainings;
    size_t n_trainings, cap_trainings;
    ww_index_t training_ix;
    /* The undo log of the transaction in progress (ww_trainer_state_begin). */
    bool recording;
    ww_trainer__undo_t *undo;
    size_t n_undo, cap_undo;
};

/* A fact changes at most this many records. */
#define WW_TRAINER__UNDO_PER_FACT 3

/* While recording: room for `n` more entries, so the changes that follow
 * cannot fail half-way. False when out of memory; always true when not
 * recording. */
bool ww_trainer__undo_reserve(ww_trainer_state_t *s, size_t n);
/* While recording, each notes what is about to change (after a reserve). */
void ww_trainer__undo_hour_added(ww_trainer_state_t *s);
void ww_trainer__undo_hour_set(ww_trainer_state_t *s,
                               const ww_trainer__hour_t *h);
void ww_trainer__undo_training_added(ww_trainer_state_t *s);
void ww_trainer__undo_training_set(ww_trainer_state_t *s,
                                   const ww_trainer__training_t *t);

/* The record of an hour / a training, or NULL. */
ww_trainer__hour_t *ww_trainer__find_hour(const ww_trainer_state_t *s,
                                          int64_t hour);
ww_trainer__training_t *ww_trainer__find_training(const ww_trainer_state_t *s,
                                                  const char *uuid);

/* True for the start of a working hour within the valid time range. */
bool ww_trainer__is_working_hour(int64_t hour);

/* The record of `hour`, added "not available" when absent; NULL when out
 * of memory (err set, nothing changed). */
ww_trainer__hour_t *ww_trainer__hour_get_or_add(ww_trainer_state_t *s,
                                                int64_t hour, ww_err_t *err);

/* Appends a PENDING training (holding nothing yet) whose uuid the caller
 * knows to be valid and absent; copies the strings. NULL when out of
 * memory (err set, nothing changed). */
ww_trainer__training_t *
ww_trainer__training_add(ww_trainer_state_t *s, const char *uuid,
                         const char *user_id, int64_t hour, const char *notes,
                         ww_err_t *err);

#endif
