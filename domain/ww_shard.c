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

/* Reads the domain state's bytes with ops->deserialize; NULL when it (or
 * the reader before it) failed, with the reader failed. */
static void *read_state(ww_canon_reader_t *r, const ww_shard_ops_t *ops) {
    size_t n, at = ww_canon_reader_pos(r) + 8;
    const uint8_t *bytes = ww_canon_read_blob(r, "state", &n);
    if (!ww_canon_reader_ok(r)) return NULL;
    void *state = NULL;
    ww_err_t e;
    ww_code_t rc = ops->deserialize(bytes, n, &state, &e);
    if (rc == WW_ERR_RESOURCE_EXHAUSTED)
        ww_canon_reader_oom(r);
    else if (rc != WW_OK)
        ww_canon_reader_fail(r, at, "state", "%s", e.msg);
    return rc == WW_OK ? state : NULL;
}

ww_code_t ww_shard_deserialize(const ww_shard_ops_t *ops, const uint8_t *buf,
                               size_t len, ww_shard_t **out, ww_err_t *err) {
    ww_canon_reader_t r;
    ww_canon_reader_init(&r, buf, len);
    ww_canon_read_header(&r, ops->magic, 1);
    size_t at = ww_canon_reader_pos(&r);
    int64_t last = ww_canon_read_i64(&r, "last command");
    if (ww_canon_reader_ok(&r) && last < -1)
        ww_canon_reader_fail(&r, at, "last command", "%lld is below -1 (none)",
                             (long long)last);
    /* No Kafka offset reaches it, and the next command would overflow. */
    if (ww_canon_reader_ok(&r) && last == INT64_MAX)
        ww_canon_reader_fail(&r, at, "last command",
                             "%lld leaves no offset after it", (long long)last);
    void *state = ww_canon_reader_ok(&r) ? read_state(&r, ops) : NULL;
    ww_dedup_t *d = NULL;
    if (ww_canon_reader_ok(&r)) ww_dedup_deserialize(&r, last, &d, NULL);
    ww_code_t rc = ww_canon_reader_finish(&r, err);
    ww_shard_t *s = NULL;
    if (rc == WW_OK) {
        s = ww_shard_new(ops, state); /* takes the state, also on failure */
        state = NULL;
        if (!s)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (rc != WW_OK) {
        if (state) ops->destroy(state);
        ww_dedup_destroy(d);
        return rc;
    }
    ww_dedup_destroy(s->dedup);
    s->dedup = d;
    s->last_command = last;
    *out = s;
    return WW_OK;
}
