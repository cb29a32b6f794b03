/* ww_trainer_roster.c - trainer id -> trainer state, with an undo log of
 * the trainers a transaction added or touched. */
#include "ww_trainer_roster.h"

#include "ww_canon.h"
#include "ww_fold.h"
#include "ww_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct trainer_rec {
    char *id;
    ww_trainer_state_t *state;
    bool touched; /* begun in the transaction in progress */
} trainer_rec_t;

struct ww_trainer_roster {
    trainer_rec_t *recs;
    size_t n, cap;
    ww_index_t ix;
    bool recording;
    size_t first_new; /* recs[first_new..n) were added since begin */
    size_t *touched;  /* indexes of trainers begun since begin */
    size_t n_touched, cap_touched;
};

static bool id_eq(const void *ctx, uint32_t i, const void *key) {
    return strcmp(((const ww_trainer_roster_t *)ctx)->recs[i].id, key) == 0;
}

static trainer_rec_t *find(const ww_trainer_roster_t *r, const char *id) {
    int64_t i = ww_index_find(&r->ix, ww_index_hash_str(id), id, id_eq, r);
    return i < 0 ? NULL : &r->recs[i];
}

ww_trainer_roster_t *ww_trainer_roster_new(void) {
    ww_trainer_roster_t *r = calloc(1, sizeof *r);
    if (r) ww_index_init(&r->ix);
    return r;
}

void ww_trainer_roster_destroy(ww_trainer_roster_t *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->recs[i].id);
        ww_trainer_state_destroy(r->recs[i].state);
    }
    free(r->recs);
    free(r->touched);
    ww_index_destroy(&r->ix);
    free(r);
}

ww_trainer_roster_t *ww_trainer_roster_clone(const ww_trainer_roster_t *r) {
    ww_trainer_roster_t *c = ww_trainer_roster_new();
    if (!c ||
        !ww_fold_grow((void **)&c->recs, &c->cap, r->n, sizeof *c->recs))
        goto fail;
    for (size_t i = 0; i < r->n; i++) {
        trainer_rec_t *t = &c->recs[c->n];
        t->id = strdup(r->recs[i].id);
        t->state = t->id ? ww_trainer_state_clone(r->recs[i].state) : NULL;
        t->touched = false;
        if (!t->state) {
            free(t->id);
            goto fail;
        }
        c->n++;
    }
    if (ww_index_clone(&c->ix, &r->ix, NULL) != WW_OK) goto fail;
    return c;
fail:
    ww_trainer_roster_destroy(c);
    return NULL;
}

ww_code_t ww_trainer_roster_check_id(const char *trainer_id, ww_err_t *err) {
    if (!trainer_id || !*trainer_id)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "trainer_id is empty");
    if (strlen(trainer_id) > WW_TRAINER_ROSTER_ID_MAX)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "trainer_id is longer than %d bytes",
                          WW_TRAINER_ROSTER_ID_MAX);
    return WW_OK;
}

const ww_trainer_state_t *ww_trainer_roster_get(const ww_trainer_roster_t *r,
                                                const char *trainer_id) {
    /* Built once and never changed: every unknown trainer reads as this. */
    static ww_trainer_state_t *empty;
    const trainer_rec_t *t = trainer_id ? find(r, trainer_id) : NULL;
    if (t) return t->state;
    if (!__atomic_load_n(&empty, __ATOMIC_ACQUIRE)) {
        ww_trainer_state_t *e = ww_trainer_state_new(), *none = NULL;
        if (e && !__atomic_compare_exchange_n(&empty, &none, e, false,
                                              __ATOMIC_ACQ_REL,
                                              __ATOMIC_ACQUIRE))
            ww_trainer_state_destroy(e);
    }
    return __atomic_load_n(&empty, __ATOMIC_ACQUIRE);
}

/* The trainer's record, added (and begun) when absent; NULL when out of
 * memory, with nothing changed. */
static trainer_rec_t *get_or_add(ww_trainer_roster_t *r, const char *id,
                                 ww_err_t *err) {
    trainer_rec_t *t = find(r, id);
    if (!t) {
        char *copy = strdup(id);
        ww_trainer_state_t *st = ww_trainer_state_new();
        if (!copy || !st ||
            !ww_fold_grow((void **)&r->recs, &r->cap, r->n + 1,
                          sizeof *r->recs) ||
            ww_index_insert(&r->ix, ww_index_hash_str(id), (uint32_t)r->n,
                            NULL) != WW_OK) {
            free(copy);
            ww_trainer_state_destroy(st);
            ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
            return NULL;
        }
        t = &r->recs[r->n++];
        *t = (trainer_rec_t){.id = copy, .state = st};
    }
    if (r->recording && !t->touched) {
        if (!ww_fold_grow((void **)&r->touched, &r->cap_touched,
                          r->n_touched + 1, sizeof *r->touched)) {
            ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
            return NULL; /* an added trainer stays: empty, it changes nothing */
        }
        r->touched[r->n_touched++] = (size_t)(t - r->recs);
        t->touched = true;
        ww_trainer_state_begin(t->state);
    }
    return t;
}

ww_code_t ww_trainer_roster_apply(ww_trainer_roster_t *r,
                                  const char *trainer_id,
                                  const ww_trainer_fact_t *f, ww_err_t *err) {
    ww_code_t rc = ww_trainer_roster_check_id(trainer_id, err);
    if (rc != WW_OK) return rc;
    trainer_rec_t *t = get_or_add(r, trainer_id, err);
    if (!t) return WW_ERR_RESOURCE_EXHAUSTED;
    return ww_trainer_apply(t->state, f, err);
}

ww_code_t ww_trainer_roster_find_training(const ww_trainer_roster_t *r,
                                          const char *uuid,
                                          const char **trainer_id,
                                          ww_trainer_training_view_t *view,
                                          ww_err_t *err) {
    ww_code_t rc = ww_ids_check_training_uuid(uuid, err);
    if (rc != WW_OK) return rc;
    /* The smallest trainer id wins when two trainers have the uuid, so the
     * answer depends on the trainers, not on the order they appeared in. */
    const trainer_rec_t *best = NULL;
    for (size_t i = 0; i < r->n; i++) {
        ww_trainer_training_view_t v;
        if ((!best || strcmp(r->recs[i].id, best->id) < 0) &&
            ww_trainer_get_training(r->recs[i].state, uuid, &v, NULL) ==
                WW_OK) {
            best = &r->recs[i];
            *view = v;
        }
    }
    if (!best)
        return ww_err_set(err, WW_ERR_NOT_FOUND, "training %s not found", uuid);
    if (trainer_id) *trainer_id = best->id;
    return WW_OK;
}

size_t ww_trainer_roster_count(const ww_trainer_roster_t *r) { return r->n; }

void ww_trainer_roster_counts(const ww_trainer_roster_t *r,
                              ww_trainer_counts_t *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < r->n; i++) {
        ww_trainer_counts_t one;
        ww_trainer_counts(r->recs[i].state, &one);
        c->hours_available += one.hours_available;
        c->hours_scheduled += one.hours_scheduled;
        c->hours_held += one.hours_held;
        c->trainings += one.trainings;
        c->trainings_pending += one.trainings_pending;
        c->trainings_scheduled += one.trainings_scheduled;
        c->trainings_canceled += one.trainings_canceled;
        c->trainings_rejected += one.trainings_rejected;
        c->refunds_decided += one.refunds_decided;
    }
}

void ww_trainer_roster_begin(ww_trainer_roster_t *r) {
    if (r->recording) return;
    r->recording = true;
    r->first_new = r->n;
    r->n_touched = 0;
}

/* Ends the transaction of every touched trainer with `end`. */
static void end_touched(ww_trainer_roster_t *r,
                        void (*end)(ww_trainer_state_t *)) {
    for (size_t i = 0; i < r->n_touched; i++) {
        trainer_rec_t *t = &r->recs[r->touched[i]];
        end(t->state);
        t->touched = false;
    }
    r->n_touched = 0;
    r->recording = false;
}

void ww_trainer_roster_commit(ww_trainer_roster_t *r) {
    end_touched(r, ww_trainer_state_commit);
}

void ww_trainer_roster_rollback(ww_trainer_roster_t *r) {
    if (!r->recording) return;
    end_touched(r, ww_trainer_state_rollback);
    while (r->n > r->first_new) {
        trainer_rec_t *t = &r->recs[--r->n];
        ww_index_remove(&r->ix, ww_index_hash_str(t->id), (uint32_t)r->n);
        free(t->id);
        ww_trainer_state_destroy(t->state);
    }
}

static int cmp_rec(const void *a, const void *b) {
    return strcmp((*(const trainer_rec_t *const *)a)->id,
                  (*(const trainer_rec_t *const *)b)->id);
}

ww_code_t ww_trainer_roster_serialize(const ww_trainer_roster_t *r,
                                      uint8_t **out, size_t *len,
                                      ww_err_t *err) {
    ww_canon_t c;
    ww_canon_init(&c);
    const trainer_rec_t **order = malloc((r->n + 1) * sizeof *order);
    if (!order) c.failed = true;
    for (size_t i = 0; order && i < r->n; i++) order[i] = &r->recs[i];
    if (order) qsort(order, r->n, sizeof *order, cmp_rec);
    ww_canon_bytes(&c, "WWRS", 4);
    ww_canon_u32(&c, 1);
    ww_canon_u64(&c, r->n);
    for (size_t i = 0; order && i < r->n; i++) {
        uint8_t *bytes;
        size_t n;
        ww_canon_str(&c, order[i]->id);
        if (ww_trainer_state_serialize(order[i]->state, &bytes, &n, NULL) !=
            WW_OK) {
            c.failed = true;
            break;
        }
        ww_canon_u64(&c, n);
        ww_canon_bytes(&c, bytes, n);
        free(bytes);
    }
    free(order);
    return ww_canon_finish(&c, out, len, err);
}

/* Smallest encoding of a trainer: an empty id and an empty state. */
#define TRAINER_MIN_BYTES (4 + 8)

/* Reads one trainer (id, then its state's bytes) and adds it; false when
 * it failed the reader. */
static bool read_trainer(ww_canon_reader_t *rd, ww_trainer_roster_t *r,
                         char prev[WW_TRAINER_ROSTER_ID_MAX + 1]) {
    size_t at = ww_canon_reader_pos(rd);
    char id[WW_TRAINER_ROSTER_ID_MAX + 1];
    ww_canon_read_str(rd, "trainer_id", id, WW_TRAINER_ROSTER_ID_MAX);
    size_t n, at_state = ww_canon_reader_pos(rd) + 8;
    const uint8_t *bytes = ww_canon_read_blob(rd, "trainer state", &n);
    if (!ww_canon_reader_ok(rd)) return false;
    ww_err_t e;
    int order = strcmp(id, prev);
    if (ww_trainer_roster_check_id(id, &e) != WW_OK)
        ww_canon_reader_fail(rd, at, "trainer", "%s", e.msg);
    else if (r->n > 0 && order <= 0)
        ww_canon_reader_fail(rd, at, "trainer", "\"%s\" %s", id,
                             order == 0 ? "repeats"
                                        : "is not after the trainer before "
                                          "it (not ascending)");
    if (!ww_canon_reader_ok(rd)) return false;
    ww_trainer_state_t *st = NULL;
    ww_code_t rc = ww_trainer_state_deserialize(bytes, n, &st, &e);
    if (rc != WW_OK) {
        char what[WW_TRAINER_ROSTER_ID_MAX + 32];
        snprintf(what, sizeof what, "state of trainer \"%s\"", id);
        if (rc == WW_ERR_RESOURCE_EXHAUSTED)
            ww_canon_reader_oom(rd);
        else
            ww_canon_reader_fail(rd, at_state, what, "%s", e.msg);
        return false;
    }
    char *copy = strdup(id);
    if (!copy || ww_index_insert(&r->ix, ww_index_hash_str(id), (uint32_t)r->n,
                                 NULL) != WW_OK) {
        free(copy);
        ww_trainer_state_destroy(st);
        ww_canon_reader_oom(rd);
        return false;
    }
    r->recs[r->n++] = (trainer_rec_t){.id = copy, .state = st};
    memcpy(prev, id, WW_TRAINER_ROSTER_ID_MAX + 1);
    return true;
}

ww_code_t ww_trainer_roster_deserialize(const uint8_t *buf, size_t len,
                                        ww_trainer_roster_t **out,
                                        ww_err_t *err) {
    ww_canon_reader_t rd;
    ww_canon_reader_init(&rd, buf, len);
    ww_trainer_roster_t *r = ww_trainer_roster_new();
    if (!r) ww_canon_reader_oom(&rd);
    ww_canon_read_header(&rd, "WWRS", 1);
    uint64_t n = ww_canon_read_count(&rd, "trainers", TRAINER_MIN_BYTES);
    if (ww_canon_reader_ok(&rd) &&
        !ww_fold_grow((void **)&r->recs, &r->cap, (size_t)n, sizeof *r->recs))
        ww_canon_reader_oom(&rd);
    char prev[WW_TRAINER_ROSTER_ID_MAX + 1] = "";
    for (uint64_t i = 0; i < n && ww_canon_reader_ok(&rd); i++)
        if (!read_trainer(&rd, r, prev)) break;
    ww_code_t rc = ww_canon_reader_finish(&rd, err);
    if (rc != WW_OK) {
        ww_trainer_roster_destroy(r);
        return rc;
    }
    *out = r;
    return WW_OK;
}

static void *roster_clone(const void *r) { return ww_trainer_roster_clone(r); }
static void roster_destroy(void *r) { ww_trainer_roster_destroy(r); }
static void roster_begin(void *r) { ww_trainer_roster_begin(r); }
static void roster_commit(void *r) { ww_trainer_roster_commit(r); }
static void roster_rollback(void *r) { ww_trainer_roster_rollback(r); }
static ww_code_t roster_serialize(const void *r, uint8_t **out, size_t *len,
                                  ww_err_t *err) {
    return ww_trainer_roster_serialize(r, out, len, err);
}
static ww_code_t roster_deserialize(const uint8_t *buf, size_t len,
                                    void **state, ww_err_t *err) {
    ww_trainer_roster_t *r;
    ww_code_t rc = ww_trainer_roster_deserialize(buf, len, &r, err);
    if (rc == WW_OK) *state = r;
    return rc;
}

const ww_shard_ops_t ww_trainer_roster_shard_ops = {
    .magic = "WWTS",
    .clone = roster_clone,
    .destroy = roster_destroy,
    .begin = roster_begin,
    .commit = roster_commit,
    .rollback = roster_rollback,
    .serialize = roster_serialize,
    .deserialize = roster_deserialize,
};
