/*
 * ww_host_state.h - the digest of a service's state, as operators compare
 * it (docs/domain.md, "State digests"): the SHA-256 of each partition's
 * canonical bytes (ww_shard_serialize: domain state, idempotency keys, last
 * command position), and for a whole service the SHA-256 of its
 * partitions' digests in partition order. Equal states give equal digests
 * however they were built (a live read model, a replay, a snapshot).
 *
 * Pure and thread-safe.
 */
#ifndef WW_HOST_STATE_H
#define WW_HOST_STATE_H

#include "ww_err.h"
#include "ww_shard.h"

#include <stdint.h>

enum { WW_HOST_STATE_DIGEST_LEN = 32, WW_HOST_STATE_HEX_LEN = 64 };

typedef struct ww_host_state_digest {
    uint8_t bytes[WW_HOST_STATE_DIGEST_LEN];
} ww_host_state_digest_t;

/* SHA-256 of `len` bytes. */
void ww_host_state_sha256(const void *data, size_t len,
                          ww_host_state_digest_t *out);

/* The digest of a shard's canonical bytes. RESOURCE_EXHAUSTED when out of
 * memory (the bytes are built, hashed and freed). */
ww_code_t ww_host_state_shard_digest(const ww_shard_t *shard,
                                     ww_host_state_digest_t *out,
                                     ww_err_t *err);

/* The digest of a service: over parts[0..n) in order. */
void ww_host_state_combine(const ww_host_state_digest_t *parts, int n,
                           ww_host_state_digest_t *out);

/* Lowercase hex, NUL-terminated. */
void ww_host_state_hex(const ww_host_state_digest_t *d,
                       char out[WW_HOST_STATE_HEX_LEN + 1]);

#endif
