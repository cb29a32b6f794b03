/* ww_log.c - structured log lines: text or JSON, every value escaped. */
#include "ww_log.h"

#include "ww_rfc3339.h"
#include "ww_trace.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int threshold(void) {
    static int level = -1; /* racy first read is benign: same value */
    if (level < 0) {
        const char *v = getenv("WW_LOG_LEVEL");
        if (!v || !*v)
            level = WW_LOG_INFO;
        else if (!strcasecmp(v, "debug"))
            level = WW_LOG_DEBUG;
        else if (!strcasecmp(v, "warn"))
            level = WW_LOG_WARN;
        else if (!strcasecmp(v, "error"))
            level = WW_LOG_ERROR;
        else
            level = WW_LOG_INFO;
    }
    return level;
}

static bool json_format(void) {
    static int json = -1; /* racy first read is benign: same value */
    if (json < 0) {
        const char *v = getenv("WW_LOG_FORMAT");
        json = v && !strcasecmp(v, "json");
        if (v && *v && !json && strcasecmp(v, "text"))
            ww_log_warn("log",
                        "event=unknown_log_format WW_LOG_FORMAT=\"%s\" "
                        "msg=\"not text or json: writing text\"",
                        v);
    }
    return json;
}

int ww_log_enabled(ww_log_level_t level) {
    return (int)level >= threshold();
}

/* Per-thread batch of whole lines (see ww_log_batch_begin). PIPE_BUF-sized
 * so that one write(2) of it stays atomic on a pipe too. */
#define WW_LOG_BATCH_BYTES      4096
#define WW_LOG_BATCH_MAX_AGE_NS 10000000 /* 10 ms */

typedef struct ww_log_batch {
    size_t len;
    int64_t oldest_ns; /* CLOCK_REALTIME of the oldest pending line */
    char buf[WW_LOG_BATCH_BYTES];
} ww_log_batch_t;

static _Thread_local ww_log_batch_t *batch;

static void write_lines(const char *p, size_t len) {
    /* One write(2) per chunk of whole lines keeps lines whole across
     * threads; a short write (full disk, closed pipe) drops the rest. */
    ssize_t w = write(STDERR_FILENO, p, len);
    (void)w;
}

void ww_log_batch_flush(void) {
    if (!batch || batch->len == 0) return;
    write_lines(batch->buf, batch->len);
    batch->len = 0;
    batch->oldest_ns = 0;
}

void ww_log_batch_begin(void) {
    if (batch) return;
    batch = calloc(1, sizeof *batch); /* on failure lines go out unbatched */
}

void ww_log_batch_end(void) {
    ww_log_batch_flush();
    free(batch);
    batch = NULL;
}

int ww_log_batch_due_ms(void) {
    if (!batch || batch->len == 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t age =
        (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - batch->oldest_ns;
    if (age < 0) age = 0; /* the clock stepped back: count from now */
    if (age >= WW_LOG_BATCH_MAX_AGE_NS) return 0;
    return (int)((WW_LOG_BATCH_MAX_AGE_NS - age + 999999) / 1000000);
}

/* ---------- escaping ---------- */

/* A bounded output buffer; what does not fit is dropped. */
typedef struct out {
    char *p;
    size_t len, cap; /* cap counts the NUL */
} out_t;

static void put(out_t *o, const char *s, size_t n) {
    if (o->len + 1 >= o->cap) return;
    size_t room = o->cap - 1 - o->len;
    if (n > room) n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put_hex_byte(out_t *o, unsigned char c) {
    static const char digits[] = "0123456789abcdef";
    char e[4] = {'\\', 'x', digits[c >> 4], digits[c & 15]};
    put(o, e, 4);
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 when
 * it is not one (overlong, surrogate, beyond U+10FFFF, cut short). Sets
 * *cp to the code point. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char c = s[0];
    size_t k;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return k;
}

/* Appends value bytes. `quote` (text lines): backslash, double quote and
 * control characters become escapes (\\ \" \n \r \t \xHH), and so do C1
 * controls and the Unicode line and paragraph separators, so no value can
 * end a quoted string or a line. Always: bytes that are not well-formed
 * UTF-8 become \xHH, so every line is valid UTF-8 (JSON needs it). */
static void put_value(out_t *o, const char *s, size_t n, bool quote) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: bytes at i - run.. to copy as they are */
    while (i < n) {
        unsigned char c = u[i];
        const char *esc = NULL;
        size_t k = 1;
        if (c < 0x80) {
            if (quote) {
                if (c == '"')
                    esc = "\\\"";
                else if (c == '\\')
                    esc = "\\\\";
                else if (c == '\n')
                    esc = "\\n";
                else if (c == '\r')
                    esc = "\\r";
                else if (c == '\t')
                    esc = "\\t";
                else if (c < 0x20 || c == 0x7f)
                    esc = "x";
            }
        } else {
            uint32_t cp = 0;
            k = utf8_len(u + i, n - i, &cp);
            if (k == 0) {
                esc = "x", k = 1;
            } else if (quote && ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
                                 cp == 0x2029)) {
                esc = "u";
            }
        }
        if (!esc) {
            run += k;
            i += k;
            continue;
        }
        put(o, s + i - run, run);
        run = 0;
        if (esc[0] == 'x') {
            put_hex_byte(o, c);
        } else if (esc[0] == 'u') {
            for (size_t j = 0; j < k; j++)
                put_hex_byte(o, u[i + j]);
        } else {
            put(o, esc, strlen(esc));
        }
        i += k;
    }
    put(o, s + i - run, run);
}

/* ---------- formatting: literal text as is, every conversion escaped ---- */

#define WW_LOG_MAX_FIELDS 16

typedef enum { F_STRING, F_INT, F_REAL } field_kind_t;

typedef struct field {
    char key[48];
    field_kind_t kind;
    size_t at, len; /* the raw value in the fields buffer */
} field_t;

typedef struct fmt_state {
    out_t msg; /* the escaped message */
    out_t raw; /* JSON only: raw values of the fields, NUL-separated */
    bool want_fields;
    field_t fields[WW_LOG_MAX_FIELDS];
    int n_fields;
} fmt_state_t;

static bool key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* The key of a conversion whose literal text [lit, conv) ends in `key=`
 * or `key="`, with the key at the start of the format or after a space. */
static bool field_key(const char *fmt, const char *lit, const char *conv,
                      char *key, size_t size) {
    const char *e = conv;
    if (e > lit && e[-1] == '"') e--;
    if (e <= lit || e[-1] != '=') return false;
    e--;
    const char *b = e;
    while (b > lit && key_char(b[-1]))
        b--;
    if (b == e || (size_t)(e - b) >= size) return false;
    if (b > fmt && b[-1] != ' ') return false;
    if (b == lit && lit != fmt) return false; /* glued to a value */
    memcpy(key, b, (size_t)(e - b));
    key[e - b] = '\0';
    return true;
}

/* One value, formatted: escaped into the message and, when it names a
 * field, kept raw for JSON. */
static void add_value(fmt_state_t *st, const char *v, size_t n, const char *key,
                      field_kind_t kind) {
    put_value(&st->msg, v, n, true);
    if (!key || !st->want_fields || st->n_fields == WW_LOG_MAX_FIELDS) return;
    field_t *f = &st->fields[st->n_fields];
    f->at = st->raw.len;
    put(&st->raw, v, n);
    f->len = st->raw.len - f->at;
    put(&st->raw, "", 1); /* keeps values apart; not always room */
    if (st->raw.len + 1 >= st->raw.cap) return;
    snprintf(f->key, sizeof f->key, "%s", key);
    f->kind = kind;
    st->n_fields++;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* Formats one argument with the conversion `spec` (as written, stars
 * resolved by the caller into w/p). */
#define ONE(T)                                                                 \
    do {                                                                       \
        T v_ = va_arg(*ap, T);                                                 \
        if (nstar == 0)                                                        \
            m = snprintf(tmp, sizeof tmp, spec, v_);                           \
        else if (nstar == 1)                                                   \
            m = snprintf(tmp, sizeof tmp, spec, s1, v_);                       \
        else                                                                   \
            m = snprintf(tmp, sizeof tmp, spec, s1, s2, v_);                   \
    } while (0)

static void format_into(fmt_state_t *st, const char *fmt, va_list *ap) {
    const char *lit = fmt;
    const char *p = fmt;
    while (*p) {
        if (*p != '%') {
            p++;
            continue;
        }
        if (p[1] == '%') {
            put(&st->msg, lit, (size_t)(p - lit) + 1);
            p += 2;
            lit = p;
            continue;
        }
        put(&st->msg, lit, (size_t)(p - lit));
        const char *q = p + 1;
        int nstar = 0, s1 = 0, s2 = 0;
        while (*q && strchr("-+ #0'", *q))
            q++;
        if (*q == '*') {
            s1 = va_arg(*ap, int);
            nstar++;
            q++;
        } else {
            while (*q >= '0' && *q <= '9')
                q++;
        }
        if (*q == '.') {
            q++;
            if (*q == '*') {
                int v = va_arg(*ap, int);
                if (nstar)
                    s2 = v;
                else
                    s1 = v;
                nstar++;
                q++;
            } else {
                while (*q >= '0' && *q <= '9')
                    q++;
            }
        }
        int lng = 0; /* 1 h, 2 hh, 3 l, 4 ll, 5 j, 6 z, 7 t, 8 L */
        if (q[0] == 'h')
            lng = q[1] == 'h' ? 2 : 1;
        else if (q[0] == 'l')
            lng = q[1] == 'l' ? 4 : 3;
        else if (q[0] == 'j')
            lng = 5;
        else if (q[0] == 'z')
            lng = 6;
        else if (q[0] == 't')
            lng = 7;
        else if (q[0] == 'L')
            lng = 8;
        q += lng == 2 || lng == 4 ? 2 : lng ? 1 : 0;
        char conv = *q;
        if (!conv) break; /* a cut-off conversion: the rest is dropped */
        char spec[32];
        size_t slen = (size_t)(q - p) + 1;
        if (slen >= sizeof spec) slen = sizeof spec - 1;
        memcpy(spec, p, slen);
        spec[slen] = '\0';
        char key[48];
        bool keyed = field_key(fmt, lit, p, key, sizeof key);
        char tmp[1024];
        int m = 0;
        field_kind_t kind = F_STRING;
        switch (conv) {
        case 'd':
        case 'i':
            kind = F_INT;
            if (lng == 3)
                ONE(long);
            else if (lng == 4)
                ONE(long long);
            else if (lng == 5)
                ONE(intmax_t);
            else if (lng == 6)
                ONE(ssize_t);
            else if (lng == 7)
                ONE(ptrdiff_t);
            else
                ONE(int);
            break;
        case 'u':
        case 'o':
        case 'x':
        case 'X':
            kind = conv == 'u' ? F_INT : F_STRING;
            if (lng == 3)
                ONE(unsigned long);
            else if (lng == 4)
                ONE(unsigned long long);
            else if (lng == 5)
                ONE(uintmax_t);
            else if (lng == 6)
                ONE(size_t);
            else if (lng == 7)
                ONE(ptrdiff_t);
            else
                ONE(unsigned);
            break;
        case 'c':
            ONE(int);
            break;
        case 'p':
            ONE(void *);
            break;
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
        case 'a':
        case 'A':
            kind = F_REAL;
            if (lng == 8)
                ONE(long double);
            else
                ONE(double);
            break;
        case 's': {
            const char *s = va_arg(*ap, const char *);
            if (slen == 2) { /* plain %s: no copy, no length limit */
                if (!s) s = "(null)";
                add_value(st, s, strlen(s), keyed ? key : NULL, F_STRING);
                m = -1;
            } else if (nstar == 0) {
                m = snprintf(tmp, sizeof tmp, spec, s);
            } else if (nstar == 1) {
                m = snprintf(tmp, sizeof tmp, spec, s1, s);
            } else {
                m = snprintf(tmp, sizeof tmp, spec, s1, s2, s);
            }
            break;
        }
        case 'n':
            (void)va_arg(*ap, int *);
            m = -1;
            break;
        default:
            m = -1;
            break; /* unknown: nothing to print */
        }
        if (m >= 0) {
            size_t n = (size_t)m < sizeof tmp ? (size_t)m : sizeof tmp - 1;
            add_value(st, tmp, n, keyed ? key : NULL, kind);
        }
        p = q + 1;
        lit = p;
    }
    put(&st->msg, lit, (size_t)(p - lit));
}

#pragma GCC diagnostic pop

/* ---------- lines ---------- */

static const char *level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static bool reserved(const char *key) {
    return !strcmp(key, "time") || !strcmp(key, "level") ||
           !strcmp(key, "module") || !strcmp(key, "message") ||
           !strcmp(key, "trace_id") || !strcmp(key, "span_id");
}

static json_t *field_json(const fmt_state_t *st, const field_t *f) {
    const char *v = st->raw.p + f->at;
    if (f->kind != F_STRING && f->len > 0) {
        char *end = NULL;
        if (f->kind == F_INT) {
            long long x = strtoll(v, &end, 10);
            if (end == v + f->len) return json_integer(x);
        } else {
            double x = strtod(v, &end);
            if (end == v + f->len) return json_real(x);
        }
    }
    /* Raw bytes, with ill-formed UTF-8 escaped: jansson escapes the rest. */
    char buf[1100];
    out_t o = {buf, 0, sizeof buf};
    buf[0] = '\0';
    put_value(&o, v, f->len, false);
    return json_stringn(buf, o.len);
}

/* One JSON object into line (cap bytes, newline included); its length. */
static size_t json_line(const char *when, ww_log_level_t level,
                        const char *component, const fmt_state_t *st,
                        const ww_trace_t *tr, char *line, size_t cap) {
    json_t *o = json_object();
    if (!o) return 0;
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "level", json_string(level_names[level]));
    char comp[64];
    out_t c = {comp, 0, sizeof comp};
    comp[0] = '\0';
    put_value(&c, component, strlen(component), true);
    json_object_set_new(o, "module", json_stringn(comp, c.len));
    json_object_set_new(o, "message", json_stringn(st->msg.p, st->msg.len));
    if (tr->valid) {
        char id[WW_TRACE_ID_HEX + 1], span[WW_TRACE_SPAN_HEX + 1];
        ww_trace_id_hex(tr, id);
        ww_trace_span_hex(tr, span);
        json_object_set_new(o, "trace_id", json_string(id));
        json_object_set_new(o, "span_id", json_string(span));
    }
    for (int i = 0; i < st->n_fields; i++) {
        const field_t *f = &st->fields[i];
        if (reserved(f->key) || json_object_get(o, f->key)) continue;
        json_t *v = field_json(st, f);
        if (v) json_object_set_new(o, f->key, v);
    }
    size_t n =
        json_dumpb(o, line, cap - 1,
                   JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (n == 0 || n > cap - 1) return 0;
    line[n++] = '\n';
    return n;
}

static void emit(ww_log_level_t level, const char *line, size_t len,
                 const struct timespec *ts) {
    if (!batch || level >= WW_LOG_WARN || len > sizeof batch->buf) {
        /* Warnings and errors go out at once, after what is pending, so
         * that they are never held back and the order stays the same. */
        ww_log_batch_flush();
        write_lines(line, len);
        return;
    }
    int64_t now_ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
    if (batch->len + len > sizeof batch->buf) ww_log_batch_flush();
    memcpy(batch->buf + batch->len, line, len);
    batch->len += len;
    if (batch->oldest_ns == 0) batch->oldest_ns = now_ns;
    if (now_ns - batch->oldest_ns >= WW_LOG_BATCH_MAX_AGE_NS)
        ww_log_batch_flush();
}

void ww_log(ww_log_level_t level, const char *component, const char *fmt, ...) {
    if (!ww_log_enabled(level)) return;
    if ((unsigned)level > WW_LOG_ERROR) level = WW_LOG_ERROR;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    size_t wn =
        ww_rfc3339_format(ts.tv_sec, (int32_t)ts.tv_nsec, 3, when, sizeof when);
    when[wn < sizeof when ? wn : sizeof when - 1] = '\0';
    const ww_trace_t *tr = ww_trace_current();
    bool json = json_format();

    char msg[2048], raw[2048];
    fmt_state_t st = {.msg = {msg, 0, sizeof msg},
                      .raw = {raw, 0, sizeof raw},
                      .want_fields = json};
    msg[0] = raw[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    format_into(&st, fmt ? fmt : "", &ap);
    va_end(ap);

    if (json) {
        char line[16384];
        size_t len = json_line(when, level, component ? component : "", &st, tr,
                               line, sizeof line);
        if (len == 0) {
            /* Too long: the fields go, the message is cut at 1 KiB (on a
             * character boundary), which always fits. */
            st.n_fields = 0;
            size_t cut = st.msg.len < 1024 ? st.msg.len : 1024;
            while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
                cut--;
            st.msg.len = cut;
            len = json_line(when, level, component ? component : "", &st, tr,
                            line, sizeof line);
        }
        if (len > 0) emit(level, line, len, &ts);
        return;
    }
    char line[2304];
    out_t o = {line, 0, sizeof line - 1}; /* room for the newline */
    line[0] = '\0';
    put(&o, when, strlen(when));
    put(&o, " ", 1);
    put(&o, level_names[level], strlen(level_names[level]));
    put(&o, " ", 1);
    put_value(&o, component ? component : "", component ? strlen(component) : 0,
              true);
    put(&o, " ", 1);
    put(&o, st.msg.p, st.msg.len);
    if (tr->valid) {
        char id[WW_TRACE_ID_HEX + 1];
        ww_trace_id_hex(tr, id);
        put(&o, " trace_id=", 10);
        put(&o, id, WW_TRACE_ID_HEX);
    }
    line[o.len++] = '\n';
    emit(level, line, o.len, &ts);
}
