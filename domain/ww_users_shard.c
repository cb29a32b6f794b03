/* ww_users_shard.c - the users state as a shard: undo, clone and its
 * canonical bytes, for ww_shard (decision state and snapshots). */
#include "ww_users_domain.h"

static void *state_clone(const void *s) {
    return ww_users_state_clone(s);
}
static void state_destroy(void *s) {
    ww_users_state_destroy(s);
}
static void state_begin(void *s) {
    ww_users_state_begin(s);
}
static void state_commit(void *s) {
    ww_users_state_commit(s);
}
static void state_rollback(void *s) {
    ww_users_state_rollback(s);
}
static ww_code_t state_serialize(const void *s, uint8_t **out, size_t *len,
                                 ww_err_t *err) {
    return ww_users_state_serialize(s, out, len, err);
}
static ww_code_t state_deserialize(const uint8_t *buf, size_t len, void **state,
                                   ww_err_t *err) {
    ww_users_state_t *s;
    ww_code_t rc = ww_users_state_deserialize(buf, len, &s, err);
    if (rc == WW_OK) *state = s;
    return rc;
}

const ww_shard_ops_t ww_users_shard_ops = {
    .magic = "WWUP",
    .clone = state_clone,
    .destroy = state_destroy,
    .begin = state_begin,
    .commit = state_commit,
    .rollback = state_rollback,
    .serialize = state_serialize,
    .deserialize = state_deserialize,
};
