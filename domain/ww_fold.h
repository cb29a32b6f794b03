/*
 * ww_fold.h - the shape both domains share: a decision carries a few facts,
 * a state is nothing but the fold of its facts, and growing arrays hold a
 * state's records.
 *
 * Pure; nothing here keeps state.
 */
#ifndef WW_FOLD_H
#define WW_FOLD_H

#include "ww_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Defines `name(state, decision, err)`, which applies decision->facts in
 * order with `apply(state, fact, err)` and stops at the first refusal
 * (earlier facts stay applied). Typed: a decision of another domain does
 * not compile. */
#define WW_FOLD_DEFINE_APPLY_DECISION(name, state_t, decision_t, apply)        \
    ww_code_t name(state_t *s, const decision_t *d, ww_err_t *err) {           \
        for (size_t i = 0; i < d->n_facts; i++) {                              \
            ww_code_t rc = apply(s, &d->facts[i], err);                        \
            if (rc != WW_OK) return rc;                                        \
        }                                                                      \
        return WW_OK;                                                          \
    }

/* Makes room for `need` elements of `elem` bytes in *arr (capacity *cap,
 * doubled from 64). False when out of memory, with *arr unchanged. */
static inline bool ww_fold_grow(void **arr, size_t *cap, size_t need,
                                size_t elem) {
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p) return false;
    *arr = p;
    *cap = ncap;
    return true;
}

#endif
