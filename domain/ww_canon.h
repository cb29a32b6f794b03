/*
 * ww_canon.h - the writer of the canonical state serialisations (the input
 * of state digests): big-endian fixed-width integers and length-prefixed
 * strings appended to a growing buffer.
 *
 * Out of memory is latched: appends after a failure do nothing and
 * ww_canon_finish reports it, so a serialiser checks once at the end.
 * Single-threaded; the writer is caller-owned (usually on the stack).
 */
#ifndef WW_CANON_H
#define WW_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"

typedef struct ww_canon {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
} ww_canon_t;

void ww_canon_init(ww_canon_t *c);
void ww_canon_bytes(ww_canon_t *c, const void *p, size_t n);
void ww_canon_u8(ww_canon_t *c, uint8_t v);
void ww_canon_u32(ww_canon_t *c, uint32_t v);
void ww_canon_u64(ww_canon_t *c, uint64_t v);
void ww_canon_i64(ww_canon_t *c, int64_t v); /* two's complement, as u64 */
/* u32 length, then the bytes of NUL-terminated `s` (without the NUL). */
void ww_canon_str(ww_canon_t *c, const char *s);

/* WW_OK: *out receives the malloc'd buffer (the caller frees it), *len its
 * size. After an allocation failure: WW_ERR_RESOURCE_EXHAUSTED, the buffer
 * is freed and *out untouched. Either way the writer is empty afterwards. */
ww_code_t ww_canon_finish(ww_canon_t *c, uint8_t **out, size_t *len,
                          ww_err_t *err);

#endif
