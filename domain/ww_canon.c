/* ww_canon.c - canonical bytes: the writer and the reader. */
#include "ww_canon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ww_canon_init(ww_canon_t *c) {
    memset(c, 0, sizeof *c);
}

void ww_canon_bytes(ww_canon_t *c, const void *p, size_t n) {
    if (c->failed) return;
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + n)
            cap *= 2;
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

void ww_canon_u8(ww_canon_t *c, uint8_t v) {
    ww_canon_bytes(c, &v, 1);
}

static void put_be(ww_canon_t *c, uint64_t v, int width) {
    uint8_t b[8];
    for (int i = 0; i < width; i++)
        b[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    ww_canon_bytes(c, b, (size_t)width);
}

void ww_canon_u32(ww_canon_t *c, uint32_t v) {
    put_be(c, v, 4);
}
void ww_canon_u64(ww_canon_t *c, uint64_t v) {
    put_be(c, v, 8);
}
void ww_canon_i64(ww_canon_t *c, int64_t v) {
    put_be(c, (uint64_t)v, 8);
}

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

/* ------------------------------------------------------------- reader */

void ww_canon_reader_init(ww_canon_reader_t *r, const void *buf, size_t len) {
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->len = buf ? len : 0;
}

bool ww_canon_reader_ok(const ww_canon_reader_t *r) {
    return r->err.code == WW_OK;
}

size_t ww_canon_reader_pos(const ww_canon_reader_t *r) {
    return r->pos;
}

size_t ww_canon_reader_left(const ww_canon_reader_t *r) {
    return r->len - r->pos;
}

void ww_canon_reader_fail(ww_canon_reader_t *r, size_t at, const char *what,
                          const char *fmt, ...) {
    if (r->err.code != WW_OK) return;
    char problem[sizeof r->err.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    ww_err_set(&r->err, WW_ERR_INVALID_ARGUMENT, "%s at byte offset %zu: %s",
               what, at, problem);
}

bool ww_canon_check_order(ww_canon_reader_t *r, size_t at, const char *what,
                          int order, const char *key_fmt, ...) {
    if (order > 0) return ww_canon_reader_ok(r);
    char key[160]; /* the longest key: a quoted 128-byte user id */
    va_list ap;
    va_start(ap, key_fmt);
    vsnprintf(key, sizeof key, key_fmt, ap);
    va_end(ap);
    if (order == 0)
        ww_canon_reader_fail(r, at, what, "%s repeats", key);
    else
        ww_canon_reader_fail(r, at, what,
                             "%s is not after the %s before it (not "
                             "ascending)",
                             key, what);
    return false;
}

void ww_canon_reader_oom(ww_canon_reader_t *r) {
    if (r->err.code == WW_OK)
        ww_err_set(&r->err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
}

/* The next n bytes (advancing past them), or NULL when failed/truncated. */
static const uint8_t *take(ww_canon_reader_t *r, const char *what, size_t n) {
    if (r->err.code != WW_OK) return NULL;
    if (n > r->len - r->pos) {
        ww_canon_reader_fail(r, r->pos, what,
                             "truncated: %zu bytes needed, %zu left", n,
                             r->len - r->pos);
        return NULL;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

static uint64_t get_be(ww_canon_reader_t *r, const char *what, int width) {
    const uint8_t *p = take(r, what, (size_t)width);
    uint64_t v = 0;
    for (int i = 0; p && i < width; i++)
        v = v << 8 | p[i];
    return v;
}

uint8_t ww_canon_read_u8(ww_canon_reader_t *r, const char *what) {
    return (uint8_t)get_be(r, what, 1);
}

uint32_t ww_canon_read_u32(ww_canon_reader_t *r, const char *what) {
    return (uint32_t)get_be(r, what, 4);
}

uint64_t ww_canon_read_u64(ww_canon_reader_t *r, const char *what) {
    return get_be(r, what, 8);
}

int64_t ww_canon_read_i64(ww_canon_reader_t *r, const char *what) {
    return (int64_t)get_be(r, what, 8);
}

bool ww_canon_read_bool(ww_canon_reader_t *r, const char *what) {
    size_t at = r->pos;
    uint8_t v = ww_canon_read_u8(r, what);
    if (v > 1)
        ww_canon_reader_fail(r, at, what, "%u is not a boolean (0 or 1)", v);
    return v == 1;
}

void ww_canon_read_bytes(ww_canon_reader_t *r, const char *what, void *dst,
                         size_t n) {
    const uint8_t *p = take(r, what, n);
    if (p)
        memcpy(dst, p, n);
    else if (n)
        memset(dst, 0, n);
}

const uint8_t *ww_canon_read_blob(ww_canon_reader_t *r, const char *what,
                                  size_t *n) {
    size_t at = r->pos;
    uint64_t len = ww_canon_read_u64(r, what);
    *n = 0;
    if (r->err.code != WW_OK) return NULL;
    if (len > r->len - r->pos) {
        ww_canon_reader_fail(r, at, what,
                             "length %llu runs past the end (%zu bytes left)",
                             (unsigned long long)len, r->len - r->pos);
        return NULL;
    }
    *n = (size_t)len;
    return take(r, what, (size_t)len);
}

size_t ww_canon_read_str(ww_canon_reader_t *r, const char *what, char *dst,
                         size_t max) {
    size_t at = r->pos;
    uint32_t n = ww_canon_read_u32(r, what);
    dst[0] = '\0';
    if (r->err.code != WW_OK) return 0;
    if (n > max) {
        ww_canon_reader_fail(r, at, what, "length %u is over the limit %zu", n,
                             max);
        return 0;
    }
    const uint8_t *p = take(r, what, n);
    if (!p) return 0;
    const uint8_t *nul = memchr(p, '\0', n);
    if (nul) {
        ww_canon_reader_fail(r, at, what, "has a NUL byte at byte offset %zu",
                             at + 4 + (size_t)(nul - p));
        return 0;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return n;
}

uint64_t ww_canon_read_count(ww_canon_reader_t *r, const char *what,
                             size_t min_entry) {
    size_t at = r->pos;
    uint64_t n = ww_canon_read_u64(r, what);
    if (r->err.code != WW_OK) return 0;
    if (min_entry == 0) min_entry = 1;
    if (n > (r->len - r->pos) / min_entry) {
        ww_canon_reader_fail(r, at, what,
                             "%llu entries of at least %zu bytes do not fit "
                             "in the %zu bytes left",
                             (unsigned long long)n, min_entry, r->len - r->pos);
        return 0;
    }
    return n;
}

/* The 4 bytes as text, '?' for the unprintable ones. */
static void printable(const uint8_t *p, char out[5]) {
    for (int i = 0; i < 4; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    out[4] = '\0';
}

void ww_canon_read_header(ww_canon_reader_t *r, const char magic[4],
                          uint32_t version) {
    size_t at = r->pos;
    const uint8_t *p = take(r, "magic", 4);
    if (p && memcmp(p, magic, 4) != 0) {
        char got[5];
        printable(p, got);
        ww_canon_reader_fail(r, at, "magic", "\"%s\" is not \"%.4s\"", got,
                             magic);
    }
    at = r->pos;
    uint32_t v = ww_canon_read_u32(r, "version");
    if (r->err.code == WW_OK && v != version)
        ww_canon_reader_fail(r, at, "version", "%u is not supported (only %u)",
                             v, version);
}

ww_code_t ww_canon_reader_status(const ww_canon_reader_t *r, ww_err_t *err) {
    if (r->err.code != WW_OK && err) *err = r->err;
    return r->err.code;
}

ww_code_t ww_canon_reader_finish(ww_canon_reader_t *r, ww_err_t *err) {
    if (r->err.code == WW_OK && r->pos != r->len)
        ww_err_set(&r->err, WW_ERR_INVALID_ARGUMENT,
                   "trailing bytes at byte offset %zu: %zu bytes after the "
                   "end",
                   r->pos, r->len - r->pos);
    return ww_canon_reader_status(r, err);
}

ww_code_t ww_canon_check_same(const char *what, const uint8_t *bytes,
                              size_t len, const uint8_t *canon, size_t n,
                              ww_err_t *err) {
    size_t i = 0;
    while (i < len && i < n && bytes[i] == canon[i])
        i++;
    if (i == len && i == n) return WW_OK;
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                      "%s is not in canonical form: byte offset %zu differs",
                      what, i);
}

ww_code_t ww_canon_reader_end(ww_canon_reader_t *r, const char *what,
                              const void *state,
                              ww_canon_serialize_fn serialize, ww_err_t *err) {
    ww_code_t rc = ww_canon_reader_finish(r, err);
    if (rc != WW_OK) return rc;
    uint8_t *canon = NULL;
    size_t n = 0;
    rc = serialize(state, &canon, &n, err);
    if (rc == WW_OK)
        rc = ww_canon_check_same(what, r->buf, r->len, canon, n, err);
    free(canon);
    return rc;
}
