/*
 * ww_trainer_domain_int.h - private: the trainer state's layout, shared by
 * the files of the ww_trainer_ domain module (ww_trainer_domain.c: state,
 * decisions, fold; ww_trainer_digest.c: fixtures, counts, serialisation).
 * Not for use outside services/trainer.
 */
#ifndef WW_TRAINER_DOMAIN_INT_H
#define WW_TRAINER_DOMAIN_INT_H

#include "ww_index.h"
#include "ww_trainer_domain.h"

#define NO_HOLDER (-1)

typedef struct hour_rec {
    int64_t hour;
    bool available;
    bool scheduled;
    int64_t holder; /* index into trainings, or NO_HOLDER */
} hour_rec_t;

typedef struct training_rec {
    char uuid[WW_IDS_UUID_LEN + 1];
    char *user_id;
    char *notes;
    int64_t hour;
    ww_trainer_training_status_t status;
    bool debited;
    bool by_trainer;
    int64_t refund;
} training_rec_t;

struct ww_trainer_state {
    hour_rec_t *hours;
    size_t n_hours, cap_hours;
    ww_index_t hour_ix;
    training_rec_t *trainings;
    size_t n_trainings, cap_trainings;
    ww_index_t training_ix;
};

/* The record of an hour / a training, or NULL. */
hour_rec_t *ww_trainer__find_hour(const ww_trainer_state_t *s, int64_t hour);
training_rec_t *ww_trainer__find_training(const ww_trainer_state_t *s,
                                         const char *uuid);

#endif
