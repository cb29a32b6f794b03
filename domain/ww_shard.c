/* ww_shard.c - a partition's state: domain state + idempotency keys +
 * last command position, in one transaction. */
#include "ww_shard.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ww_canon.h"

struct ww_shard {
    const ww_shard_ops_t *ops;
    void *state;
    ww_dedup_t *dedup;
    int64_t last_command;
    bool recording;
    int64_t last_command_at_begin;
};

ww_shard_t *ww_shard_new(const ww_shard_ops_t *ops, void *state) {
    ww_shard_t *s = calloc(1, sizeof *s);
    ww_dedup_t *d = s ? ww_dedup_new() : NULL;
    if (!d) {
        free(s);
        if (state) ops->destroy(state);
        return NULL;
    }
    *s = (ww_shard_t){
        .ops = ops, .state = state, .dedup = d, .last_command = -1};
    return s;
}

void ww_shard_destroy(ww_shard_t *s) {
    if (!s) return;
    s->ops->destroy(s->state);
    ww_dedup_destroy(s->dedup);
    free(s);
}

ww_shard_t *ww_shard_clone(const ww_shard_t *s) {
    void *state = s->ops->clone(s->state);
    if (!state) return NULL;
    ww_shard_t *c = ww_shard_new(s->ops, state);
    if (!c) return NULL;
    ww_dedup_destroy(c->dedup);
    c->dedup = ww_dedup_clone(s->dedup);
    if (!c->dedup) {
        s->ops->destroy(c->state);
        free(c);
        return NULL;
    }
    c->last_command = s->last_command;
    return c;
}

void *ww_shard_state(ww_shard_t *s) { return s->state; }
const void *ww_shard_state_const(const ww_shard_t *s) { return s->state; }
const ww_dedup_t *ww_shard_dedup(const ww_shard_t *s) { return s->dedup; }
int64_t ww_shard_last_command(const ww_shard_t *s) { return s->last_command; }

ww_code_t ww_shard_record(ww_shard_t *s, int64_t command_offset,
                          const ww_shard_origin_t *origin, int64_t result,
                          ww_err_t *err) {
    if (origin && origin->key && *origin->key) {
        ww_dedup_entry_t e = {.command_offset = command_offset,
                              .result = result};
        memcpy(e.digest, origin->digest, sizeof e.digest);
        ww_code_t rc = ww_dedup_put(s->dedup, origin->caller, origin->key, &e,
                                    err);
        if (rc != WW_OK) return rc;
    }
    if (command_offset > s->last_command) s->last_command = command_offset;
    return WW_OK;
}

void ww_shard_begin(ww_shard_t *s) {
    if (s->recording) return;
    s->recording = true;
    s->last_command_at_begin = s->last_command;
    s->ops->begin(s->state);
    ww_dedup_begin(s->dedup);
}

void ww_shard_commit(ww_shard_t *s) {
    if (!s->recording) return;
    s->recording = false;
    s->ops->commit(s->state);
    ww_dedup_commit(s->dedup);
}

void ww_shard_rollback(ww_shard_t *s) {
    if (!s->recording) return;
    s->recording = false;
    s->ops->rollback(s->state);
    ww_dedup_rollback(s->dedup);
    s->last_command = s->last_command_at_begin;
}

ww_code_t ww_shard_serialize(const ww_shard_t *s, uint8_t **out, size_t *len,
                             ww_err_t *err) {
    uint8_t *state;
    size_t n;
    ww_code_t rc = s->ops->serialize(s->state, &state, &n, err);
    if (rc != WW_OK) return rc;
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, s->ops->magic, 4);
    ww_canon_u32(&c, 1);
    ww_canon_i64(&c, s->last_command);
    ww_canon_u64(&c, n);
    ww_canon_bytes(&c, state, n);
    free(state);
    ww_dedup_serialize(s->dedup, &c);
    return ww_canon_finish(&c, out, len, err);
}
