/*
 * ww_auth_b64url.h - strict base64url (RFC 4648 §5, no padding) decoding for
 * JWS segments and JWK members.
 *
 * OpenSSL 3.0 has no base64url decoder, and the issue forbids a hand-rolled
 * table, so this module checks that every character belongs to the URL-safe
 * alphabet, translates '-' '_' to '+' '/', restores the '=' padding and lets
 * EVP_DecodeBlock do the decoding. The up-front check matters: EVP_DecodeBlock
 * itself skips surrounding whitespace and accepts '=' in the middle of the
 * input, which a signed token must never be allowed to carry.
 *
 * Pure, thread-safe, no global state.
 */
#ifndef WW_AUTH_B64URL_H
#define WW_AUTH_B64URL_H

#include "ww_err.h"

#include <stddef.h>

/* Decodes `len` characters of `in` (no NUL needed). On WW_OK *out is a
 * malloc'd buffer of *out_len bytes plus a NUL byte (so decoded JSON can be
 * used as a string); the caller frees it. On failure *out is NULL and err is
 * INVALID_ARGUMENT naming the problem. `what` names the segment in messages
 * ("header", "payload", "signature", "n"). An empty input decodes to an empty
 * buffer. */
ww_code_t ww_auth_b64url_decode(const char *in, size_t len, const char *what,
                                unsigned char **out, size_t *out_len,
                                ww_err_t *err);

/* Encodes `len` bytes as unpadded base64url into a malloc'd NUL-terminated
 * string (tests and the fuzzer build tokens with it); NULL on allocation
 * failure. The caller frees it. */
char *ww_auth_b64url_encode(const unsigned char *in, size_t len);

#endif
