/* ww_trainer_undo.c - the trainer state's undo log: what each fact of the
 * transaction in progress changed, so an abort restores the state without
 * ever copying it. */
#include "ww_fold.h"
#include "ww_trainer_domain_int.h"

#include <stdlib.h>
#include <string.h>

void ww_trainer_state_begin(ww_trainer_state_t *s) {
    s->recording = true;
}

void ww_trainer_state_commit(ww_trainer_state_t *s) {
    s->recording = false;
    s->n_undo = 0;
}

bool ww_trainer__undo_reserve(ww_trainer_state_t *s, size_t n) {
    if (!s->recording) return true;
    return ww_fold_grow((void **)&s->undo, &s->cap_undo, s->n_undo + n,
                        sizeof *s->undo);
}

/* Room was reserved by the apply that calls these. */
static ww_trainer__undo_t *push(ww_trainer_state_t *s,
                                ww_trainer__undo_kind_t kind, size_t index) {
    ww_trainer__undo_t *u = &s->undo[s->n_undo++];
    u->kind = kind;
    u->index = index;
    return u;
}

void ww_trainer__undo_hour_added(ww_trainer_state_t *s) {
    if (s->recording) push(s, WW_TRAINER__UNDO_HOUR_ADDED, s->n_hours - 1);
}

void ww_trainer__undo_hour_set(ww_trainer_state_t *s,
                               const ww_trainer__hour_t *h) {
    if (s->recording)
        push(s, WW_TRAINER__UNDO_HOUR_SET, (size_t)(h - s->hours))->old.hour =
            *h;
}

void ww_trainer__undo_training_added(ww_trainer_state_t *s) {
    if (s->recording)
        push(s, WW_TRAINER__UNDO_TRAINING_ADDED, s->n_trainings - 1);
}

void ww_trainer__undo_training_set(ww_trainer_state_t *s,
                                   const ww_trainer__training_t *t) {
    if (s->recording)
        push(s, WW_TRAINER__UNDO_TRAINING_SET, (size_t)(t - s->trainings))
            ->old.training = *t;
}

void ww_trainer_state_rollback(ww_trainer_state_t *s) {
    /* Newest first: an append is undone only after every later change of
     * the appended record, so it is always the last element. */
    while (s->n_undo > 0) {
        const ww_trainer__undo_t *u = &s->undo[--s->n_undo];
        switch (u->kind) {
        case WW_TRAINER__UNDO_HOUR_ADDED: {
            const ww_trainer__hour_t *h = &s->hours[u->index];
            ww_index_remove(&s->hour_ix, ww_index_hash_i64(h->hour),
                            (uint32_t)u->index);
            s->n_hours = u->index;
            break;
        }
        case WW_TRAINER__UNDO_HOUR_SET:
            s->hours[u->index] = u->old.hour;
            break;
        case WW_TRAINER__UNDO_TRAINING_ADDED: {
            ww_trainer__training_t *t = &s->trainings[u->index];
            ww_index_remove(&s->training_ix, ww_index_hash_str(t->uuid),
                            (uint32_t)u->index);
            free(t->user_id);
            free(t->notes);
            s->n_trainings = u->index;
            break;
        }
        case WW_TRAINER__UNDO_TRAINING_SET:
            s->trainings[u->index] = u->old.training;
            break;
        }
    }
    s->recording = false;
}
