/* ww_trace.c - W3C trace context and the thread's current one. */
#include "ww_trace.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static _Thread_local ww_trace_t current;

/* Per-thread xoshiro256** seeded once from getrandom (with the clock and
 * the thread's address mixed in should it fail): ids must be unique, not
 * secret, and the hot path must not make a system call per span. */
static _Thread_local uint64_t rng[4];
static _Thread_local bool rng_seeded;

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t next_random(void) {
    if (!rng_seeded) {
        uint64_t seed[4] = {0};
        if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t x =
                ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
                (uint64_t)(uintptr_t)&current ^ ((uint64_t)getpid() << 32);
            for (int i = 0; i < 4; i++)
                seed[i] = splitmix(&x);
        }
        memcpy(rng, seed, sizeof rng);
        if (!(rng[0] | rng[1] | rng[2] | rng[3])) rng[0] = 1;
        rng_seeded = true;
    }
    uint64_t result = rotl(rng[1] * 5, 7) * 9;
    uint64_t t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return result;
}

/* Fills `n` bytes with random ones, never all zero (an invalid id). */
static void random_id(uint8_t *out, size_t n) {
    for (;;) {
        bool zero = true;
        for (size_t i = 0; i < n; i += 8) {
            uint64_t r = next_random();
            size_t k = n - i < 8 ? n - i : 8;
            memcpy(out + i, &r, k);
        }
        for (size_t i = 0; i < n; i++)
            zero = zero && out[i] == 0;
        if (!zero) return;
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* upper case is refused, as the spec says */
}

/* Reads 2n lower-case hex characters into n bytes; false on anything else
 * or when all of them are zero and `nonzero` is asked. */
static bool read_hex(const char *s, uint8_t *out, size_t n, bool nonzero) {
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = (uint8_t)(hi << 4 | lo);
        any = any || out[i] != 0;
    }
    return any || !nonzero;
}

static bool state_ok(const char *s, size_t *len) {
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= WW_TRACE_STATE_MAX) return false;
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
            return false;
    }
    *len = n;
    return true;
}

bool ww_trace_parse(const char *traceparent, const char *tracestate,
                    ww_trace_t *out) {
    memset(out, 0, offsetof(ww_trace_t, state));
    out->state[0] = '\0';
    if (!traceparent) return false;
    size_t len = strlen(traceparent);
    if (len < WW_TRACE_PARENT_LEN) return false;
    uint8_t version;
    if (!read_hex(traceparent, &version, 1, false) || version == 0xff)
        return false;
    if (version == 0 ? len != WW_TRACE_PARENT_LEN
                     : len > WW_TRACE_PARENT_LEN &&
                           traceparent[WW_TRACE_PARENT_LEN] != '-')
        return false;
    if (traceparent[2] != '-' || traceparent[35] != '-' ||
        traceparent[52] != '-')
        return false;
    if (!read_hex(traceparent + 3, out->trace_id, 16, true) ||
        !read_hex(traceparent + 36, out->span_id, 8, true) ||
        !read_hex(traceparent + 53, &out->flags, 1, false)) {
        memset(out, 0, offsetof(ww_trace_t, state));
        return false;
    }
    size_t slen;
    if (tracestate && state_ok(tracestate, &slen))
        memcpy(out->state, tracestate, slen + 1);
    out->valid = true;
    return true;
}

void ww_trace_child(const ww_trace_t *from, ww_trace_t *out) {
    if (from && from->valid) {
        if (out != from) {
            memcpy(out->trace_id, from->trace_id, sizeof out->trace_id);
            out->flags = from->flags;
            memcpy(out->state, from->state, strlen(from->state) + 1);
        }
        memcpy(out->parent_id, from->span_id, sizeof out->parent_id);
    } else {
        random_id(out->trace_id, sizeof out->trace_id);
        memset(out->parent_id, 0, sizeof out->parent_id);
        out->flags = 0x01;
        out->state[0] = '\0';
    }
    random_id(out->span_id, sizeof out->span_id);
    out->valid = true;
}

void ww_trace_continue(const char *traceparent, const char *tracestate,
                       ww_trace_t *out) {
    ww_trace_t got;
    if (ww_trace_parse(traceparent, tracestate, &got))
        ww_trace_child(&got, out);
    else
        ww_trace_child(NULL, out);
}

static void to_hex(const uint8_t *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

size_t ww_trace_format(const ww_trace_t *t, char *buf, size_t size) {
    if (!t || !t->valid || size <= WW_TRACE_PARENT_LEN) {
        if (size) buf[0] = '\0';
        return 0;
    }
    memcpy(buf, "00-", 3);
    to_hex(t->trace_id, 16, buf + 3);
    buf[35] = '-';
    to_hex(t->span_id, 8, buf + 36);
    buf[52] = '-';
    to_hex(&t->flags, 1, buf + 53);
    return WW_TRACE_PARENT_LEN;
}

void ww_trace_id_hex(const ww_trace_t *t, char out[WW_TRACE_ID_HEX + 1]) {
    to_hex(t->trace_id, 16, out);
}

void ww_trace_span_hex(const ww_trace_t *t, char out[WW_TRACE_SPAN_HEX + 1]) {
    to_hex(t->span_id, 8, out);
}

const ww_trace_t *ww_trace_current(void) {
    return &current;
}

static void copy_trace(ww_trace_t *dst, const ww_trace_t *src) {
    memcpy(dst, src, offsetof(ww_trace_t, state));
    memcpy(dst->state, src->state, strlen(src->state) + 1);
}

ww_trace_t ww_trace_enter(const ww_trace_t *t) {
    ww_trace_t prev;
    copy_trace(&prev, &current);
    if (t)
        copy_trace(&current, t);
    else
        current.valid = false, current.state[0] = '\0';
    return prev;
}

void ww_trace_leave(const ww_trace_t *prev) {
    if (prev)
        copy_trace(&current, prev);
    else
        current.valid = false;
}
