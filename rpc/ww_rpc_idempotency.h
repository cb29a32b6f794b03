/*
 * ww_rpc_idempotency.h - the server's memory of `idempotency-key` results: a
 * repeated key (same method, same caller identity) gets the first call's
 * status, details and response bytes instead of running the handler again.
 *
 * Rules: transient outcomes (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED,
 * INTERNAL, RESOURCE_EXHAUSTED, UNAUTHENTICATED, UNKNOWN) are never
 * remembered, so a retry really retries; the first result for a key wins
 * (a later one is dropped); at most `capacity` keys are kept, the oldest is
 * forgotten first (insertion order, a ring).
 *
 * Thread-safety: every function may be called from any thread (all queue
 * threads and the threads handlers complete on); one mutex guards the table.
 */
#ifndef WW_RPC_IDEMPOTENCY_H
#define WW_RPC_IDEMPOTENCY_H

#include "ww_err.h"

#include <grpc/byte_buffer.h>
#include <grpc/status.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ww_rpc_idempotency ww_rpc_idempotency_t;

/* Which call a result belongs to; all three strings are borrowed. */
typedef struct ww_rpc_idempotency_key {
    const char *method;   /* "/users.UsersService/UpdateTrainingBalance" */
    const char *identity; /* the authenticated caller, "" without a hook */
    const char *key;      /* the `idempotency-key` value */
} ww_rpc_idempotency_key_t;

/* A remembered result, as handed back by ww_rpc_idempotency_find. */
typedef struct ww_rpc_idempotency_result {
    grpc_status_code code;
    char details[256];          /* "" when the status carried none */
    grpc_byte_buffer *response; /* the caller's own copy; NULL when none */
} ww_rpc_idempotency_result_t;

/* An empty cache for `capacity` (> 0) keys. On failure *out is NULL and err
 * says why. */
ww_code_t ww_rpc_idempotency_new(size_t capacity, ww_rpc_idempotency_t **out,
                                 ww_err_t *err);

/* Frees the cache and every remembered response. NULL is a no-op. */
void ww_rpc_idempotency_destroy(ww_rpc_idempotency_t *cache);

/* True and *out filled if `key` is remembered; out->response then belongs
 * to the caller (grpc_byte_buffer_destroy). False leaves *out untouched. */
bool ww_rpc_idempotency_find(ww_rpc_idempotency_t *cache,
                             const ww_rpc_idempotency_key_t *key,
                             ww_rpc_idempotency_result_t *out);

/* Remembers the result of `key` unless its code is transient or the key is
 * already remembered. `details` (NULL = none) and `response` (NULL = none)
 * are borrowed and copied. Allocation failure forgets silently: the next
 * call with the key then runs again. */
void ww_rpc_idempotency_remember(ww_rpc_idempotency_t *cache,
                                 const ww_rpc_idempotency_key_t *key,
                                 grpc_status_code code, const char *details,
                                 grpc_byte_buffer *response);

#endif
