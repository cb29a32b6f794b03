/*
 * ww_host_digest.h - what an idempotency key stands for: the SHA-256 of a
 * command's type name and its fields without its CommandMeta (the meta
 * differs between a request and its retry: correlation id, issue time).
 *
 * Deterministic for one build (protobuf-c packs fields in number order);
 * the digest is only ever compared with digests this code computed. Pure
 * and thread-safe.
 */
#ifndef WW_HOST_DIGEST_H
#define WW_HOST_DIGEST_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "ww_dedup.h"
#include "ww_err.h"

/* Digest of `cmd` (a generated command whose field `meta` is left out; not
 * changed). RESOURCE_EXHAUSTED when out of memory. */
ww_code_t ww_host_digest_command(const ProtobufCMessage *cmd,
                                 uint8_t out[WW_DEDUP_DIGEST_LEN],
                                 ww_err_t *err);

#endif
