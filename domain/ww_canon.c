/* ww_canon.c - canonical byte writer. */
#include "ww_canon.h"

#include <stdlib.h>
#include <string.h>

void ww_canon_init(ww_canon_t *c) { memset(c, 0, sizeof *c); }

void ww_canon_bytes(ww_canon_t *c, const void *p, size_t n) {
    if (c->failed) return;
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + n) cap *= 2;
        uint8_t *b = realloc(c->buf, cap);
        if (!b) {
            c->failed = true;
            return;
        }
        c->buf = b;
        c->cap = cap;
    }
    if (n) memcpy(c->buf + c->len, p, n);
    c->len += n;
}

void ww_canon_u8(ww_canon_t *c, uint8_t v) { ww_canon_bytes(c, &v, 1); }

static void put_be(ww_canon_t *c, uint64_t v, int width) {
    uint8_t b[8];
    for (int i = 0; i < width; i++)
        b[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    ww_canon_bytes(c, b, (size_t)width);
}

void ww_canon_u32(ww_canon_t *c, uint32_t v) { put_be(c, v, 4); }
void ww_canon_u64(ww_canon_t *c, uint64_t v) { put_be(c, v, 8); }
void ww_canon_i64(ww_canon_t *c, int64_t v) { put_be(c, (uint64_t)v, 8); }

void ww_canon_str(ww_canon_t *c, const char *s) {
    size_t n = strlen(s);
    ww_canon_u32(c, (uint32_t)n);
    ww_canon_bytes(c, s, n);
}

ww_code_t ww_canon_finish(ww_canon_t *c, uint8_t **out, size_t *len,
                          ww_err_t *err) {
    if (c->failed) {
        free(c->buf);
        ww_canon_init(c);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    *out = c->buf;
    *len = c->len;
    ww_canon_init(c);
    return WW_OK;
}
