/* ww_dedup.c - the idempotency-key table of a shard: entries in one array,
 * a hash index over (caller, key), an undo log of the puts. */
#include "ww_dedup.h"

#include <stdlib.h>
#include <string.h>

#include "ww_canon.h"
#include "ww_fold.h"
#include "ww_index.h"

typedef struct dedup_rec {
    char *caller; /* one allocation: caller, NUL, key, NUL */
    const char *key;
    ww_dedup_entry_t entry;
} dedup_rec_t;

struct ww_dedup {
    dedup_rec_t *recs;
    size_t n, cap;
    ww_index_t ix;
    bool recording;
    size_t first_new; /* recs[first_new..n) were put since begin */
};

typedef struct lookup {
    const char *caller, *key;
} lookup_t;

static uint64_t hash_of(const char *caller, const char *key) {
    /* NUL between the parts, so ("ab","c") and ("a","bc") differ */
    return ww_index_hash_str(caller) * UINT64_C(31) ^ ww_index_hash_str(key);
}

static bool rec_eq(const void *ctx, uint32_t id, const void *k) {
    const ww_dedup_t *d = ctx;
    const lookup_t *l = k;
    return strcmp(d->recs[id].caller, l->caller) == 0 &&
           strcmp(d->recs[id].key, l->key) == 0;
}

static const dedup_rec_t *find(const ww_dedup_t *d, const char *caller,
                               const char *key) {
    lookup_t l = {caller, key};
    int64_t id = ww_index_find(&d->ix, hash_of(caller, key), &l, rec_eq, d);
    return id < 0 ? NULL : &d->recs[id];
}

ww_dedup_t *ww_dedup_new(void) {
    ww_dedup_t *d = calloc(1, sizeof *d);
    if (d) ww_index_init(&d->ix);
    return d;
}

void ww_dedup_destroy(ww_dedup_t *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) free(d->recs[i].caller);
    free(d->recs);
    ww_index_destroy(&d->ix);
    free(d);
}

static char *dup_pair(const char *caller, const char *key, const char **k) {
    size_t a = strlen(caller) + 1, b = strlen(key) + 1;
    char *p = malloc(a + b);
    if (!p) return NULL;
    memcpy(p, caller, a);
    memcpy(p + a, key, b);
    *k = p + a;
    return p;
}

ww_dedup_t *ww_dedup_clone(const ww_dedup_t *d) {
    ww_dedup_t *c = ww_dedup_new();
    if (!c) return NULL;
    if (!ww_fold_grow((void **)&c->recs, &c->cap, d->n, sizeof *c->recs))
        goto fail;
    for (size_t i = 0; i < d->n; i++) {
        dedup_rec_t *r = &c->recs[i];
        r->caller = dup_pair(d->recs[i].caller, d->recs[i].key, &r->key);
        if (!r->caller) goto fail;
        r->entry = d->recs[i].entry;
        c->n = i + 1;
    }
    if (ww_index_clone(&c->ix, &d->ix, NULL) != WW_OK) goto fail;
    return c;
fail:
    ww_dedup_destroy(c);
    return NULL;
}

ww_dedup_verdict_t ww_dedup_check(const ww_dedup_t *d, const char *caller,
                                  const char *key,
                                  const uint8_t digest[WW_DEDUP_DIGEST_LEN],
                                  const ww_dedup_entry_t **entry) {
    if (entry) *entry = NULL;
    if (!key || !*key) return WW_DEDUP_NEW;
    const dedup_rec_t *r = find(d, caller ? caller : "", key);
    if (!r) return WW_DEDUP_NEW;
    if (entry) *entry = &r->entry;
    return memcmp(r->entry.digest, digest, WW_DEDUP_DIGEST_LEN) == 0
               ? WW_DEDUP_REPEAT
               : WW_DEDUP_CONFLICT;
}

ww_code_t ww_dedup_put(ww_dedup_t *d, const char *caller, const char *key,
                       const ww_dedup_entry_t *entry, ww_err_t *err) {
    if (!caller) caller = "";
    if (!key || !*key || strlen(key) > WW_DEDUP_KEY_MAX ||
        strlen(caller) > WW_DEDUP_CALLER_MAX)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "idempotency key must be 1..%d bytes and the caller "
                          "at most %d",
                          WW_DEDUP_KEY_MAX, WW_DEDUP_CALLER_MAX);
    if (find(d, caller, key)) return WW_OK;
    const char *k;
    char *pair = dup_pair(caller, key, &k);
    if (!pair ||
        !ww_fold_grow((void **)&d->recs, &d->cap, d->n + 1, sizeof *d->recs) ||
        ww_index_insert(&d->ix, hash_of(caller, key), (uint32_t)d->n, NULL) !=
            WW_OK) {
        free(pair);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    d->recs[d->n++] = (dedup_rec_t){.caller = pair, .key = k, .entry = *entry};
    return WW_OK;
}

size_t ww_dedup_count(const ww_dedup_t *d) { return d->n; }

/* Entries are only ever appended, so the log is where the appends began. */
void ww_dedup_begin(ww_dedup_t *d) {
    if (d->recording) return;
    d->recording = true;
    d->first_new = d->n;
}

void ww_dedup_commit(ww_dedup_t *d) { d->recording = false; }

void ww_dedup_rollback(ww_dedup_t *d) {
    if (!d->recording) return;
    while (d->n > d->first_new) {
        dedup_rec_t *r = &d->recs[--d->n];
        ww_index_remove(&d->ix, hash_of(r->caller, r->key), (uint32_t)d->n);
        free(r->caller);
    }
    d->recording = false;
}

static int cmp_rec(const void *a, const void *b) {
    const dedup_rec_t *x = *(const dedup_rec_t *const *)a;
    const dedup_rec_t *y = *(const dedup_rec_t *const *)b;
    int c = strcmp(x->caller, y->caller);
    return c ? c : strcmp(x->key, y->key);
}

void ww_dedup_serialize(const ww_dedup_t *d, ww_canon_t *c) {
    const dedup_rec_t **order = malloc((d->n + 1) * sizeof *order);
    if (!order) {
        c->failed = true;
        return;
    }
    for (size_t i = 0; i < d->n; i++) order[i] = &d->recs[i];
    qsort(order, d->n, sizeof *order, cmp_rec);
    ww_canon_u64(c, d->n);
    for (size_t i = 0; i < d->n; i++) {
        ww_canon_str(c, order[i]->caller);
        ww_canon_str(c, order[i]->key);
        ww_canon_bytes(c, order[i]->entry.digest, WW_DEDUP_DIGEST_LEN);
        ww_canon_i64(c, order[i]->entry.command_offset);
        ww_canon_i64(c, order[i]->entry.result);
    }
    free(order);
}

/* Smallest encoding of an entry: empty caller and key. */
#define ENTRY_MIN_BYTES (4 + 4 + WW_DEDUP_DIGEST_LEN + 8 + 8)

/* Reads one entry and puts it; false when it failed the reader. */
static bool read_entry(ww_canon_reader_t *r, ww_dedup_t *d,
                       int64_t last_command, char *prev_caller,
                       char *prev_key) {
    size_t at = ww_canon_reader_pos(r);
    char caller[WW_DEDUP_CALLER_MAX + 1], key[WW_DEDUP_KEY_MAX + 1];
    ww_dedup_entry_t e;
    ww_canon_read_str(r, "caller", caller, WW_DEDUP_CALLER_MAX);
    ww_canon_read_str(r, "idempotency key", key, WW_DEDUP_KEY_MAX);
    ww_canon_read_bytes(r, "request digest", e.digest, sizeof e.digest);
    e.command_offset = ww_canon_read_i64(r, "command offset");
    e.result = ww_canon_read_i64(r, "result");
    if (!ww_canon_reader_ok(r)) return false;
    int order = strcmp(caller, prev_caller);
    if (!order) order = strcmp(key, prev_key);
    if (!*key)
        ww_canon_reader_fail(r, at, "idempotency key",
                             "of caller \"%.64s\" is empty", caller);
    else if (d->n > 0 && order <= 0)
        ww_canon_reader_fail(r, at, "idempotency key",
                             "\"%.64s\" of caller \"%.64s\" %s", key, caller,
                             order == 0 ? "repeats"
                                        : "is not after the key before it "
                                          "(not ascending)");
    else if (e.command_offset > last_command)
        ww_canon_reader_fail(r, at, "idempotency key",
                             "\"%.64s\" was decided at offset %lld, after "
                             "the last command %lld",
                             key, (long long)e.command_offset,
                             (long long)last_command);
    if (!ww_canon_reader_ok(r)) return false;
    if (ww_dedup_put(d, caller, key, &e, NULL) != WW_OK) { /* memory only */
        ww_canon_reader_oom(r);
        return false;
    }
    memcpy(prev_caller, caller, sizeof caller);
    memcpy(prev_key, key, sizeof key);
    return true;
}

ww_code_t ww_dedup_deserialize(ww_canon_reader_t *r, int64_t last_command,
                               ww_dedup_t **out, ww_err_t *err) {
    ww_dedup_t *d = ww_dedup_new();
    if (!d) ww_canon_reader_oom(r);
    uint64_t n = ww_canon_read_count(r, "idempotency keys", ENTRY_MIN_BYTES);
    char prev_caller[WW_DEDUP_CALLER_MAX + 1] = "",
                                           prev_key[WW_DEDUP_KEY_MAX + 1] = "";
    for (uint64_t i = 0; i < n && ww_canon_reader_ok(r); i++)
        if (!read_entry(r, d, last_command, prev_caller, prev_key)) break;
    ww_code_t rc = ww_canon_reader_status(r, err);
    if (rc != WW_OK) {
        ww_dedup_destroy(d);
        return rc;
    }
    *out = d;
    return WW_OK;
}
