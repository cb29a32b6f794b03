/*
 * ww_rpc_idempotency.h - the server's memory of `idempotency-key` results: a
 * repeated key (same method, same caller identity, same request bytes) gets
 * the first call's status, details and response bytes instead of running
 * the handler again; the same key with other request bytes is a conflict
 * (the server answers INVALID_ARGUMENT), the rule the services' facts apply
 * too (domain/ww_dedup.h).
 *
 * Rules:
 *   - Only results a handler decided are handed in (the server's job):
 *     refusals made before the handler never are. Transient outcomes
 *     (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, INTERNAL,
 *     RESOURCE_EXHAUSTED, UNAUTHENTICATED, UNKNOWN) are never remembered
 *     either, so a retry really retries. The first result for a key wins.
 *   - An entry lives `ttl_ms` (its age is counted from when it was
 *     remembered); an expired entry is forgotten.
 *   - Each identity holds at most `per_identity` entries: its own oldest
 *     goes first. When the whole cache (`capacity`) is full, the oldest
 *     entry of the identity holding the most goes. So a caller flooding
 *     the cache with fresh keys only ever evicts its own entries while any
 *     other caller holds fewer than it.
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
#include <stdint.h>

#define WW_RPC_IDEMPOTENCY_DEFAULT_TTL_MS (10 * 60 * 1000)

typedef struct ww_rpc_idempotency ww_rpc_idempotency_t;

typedef struct ww_rpc_idempotency_opts {
    size_t capacity;         /* entries in all; > 0 */
    size_t per_identity;     /* 0: capacity / 8 (at least 1) */
    int64_t ttl_ms;          /* 0: WW_RPC_IDEMPOTENCY_DEFAULT_TTL_MS */
    int64_t (*now_ms)(void); /* monotonic clock; NULL: CLOCK_MONOTONIC */
} ww_rpc_idempotency_opts_t;

/* Which call a result belongs to; everything borrowed. */
typedef struct ww_rpc_idempotency_key {
    const char *method;   /* "/users.UsersService/UpdateTrainingBalance" */
    const char *identity; /* the authenticated caller, "" without a hook */
    const char *key;      /* the `idempotency-key` value */
    const unsigned char *digest; /* of the request bytes, 32 bytes */
} ww_rpc_idempotency_key_t;

/* A remembered result, as handed back by ww_rpc_idempotency_find. */
typedef struct ww_rpc_idempotency_result {
    grpc_status_code code;
    char details[256];          /* "" when the status carried none */
    grpc_byte_buffer *response; /* the caller's own copy; NULL when none */
} ww_rpc_idempotency_result_t;

typedef enum ww_rpc_idempotency_verdict {
    WW_RPC_IDEMPOTENCY_MISS = 0, /* not remembered (or expired): run it */
    WW_RPC_IDEMPOTENCY_HIT,      /* the same request: *out is its result */
    WW_RPC_IDEMPOTENCY_CONFLICT, /* the key stands for other request bytes */
} ww_rpc_idempotency_verdict_t;

/* An empty cache. On failure *out is NULL and err says why
 * (INVALID_ARGUMENT for a zero capacity). */
ww_code_t ww_rpc_idempotency_new(const ww_rpc_idempotency_opts_t *opts,
                                 ww_rpc_idempotency_t **out, ww_err_t *err);

/* Frees the cache and every remembered response. NULL is a no-op. */
void ww_rpc_idempotency_destroy(ww_rpc_idempotency_t *cache);

/* The verdict for `key`; for HIT *out is filled and out->response belongs
 * to the caller (grpc_byte_buffer_destroy). Otherwise *out is untouched. */
ww_rpc_idempotency_verdict_t
ww_rpc_idempotency_find(ww_rpc_idempotency_t *cache,
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

/* Entries held now: in all (identity NULL) or by `identity`. */
size_t ww_rpc_idempotency_count(ww_rpc_idempotency_t *cache,
                                const char *identity);

#endif
