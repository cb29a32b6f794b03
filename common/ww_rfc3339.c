/* ww_rfc3339.c - RFC 3339 UTC text of an instant, written and read. */
#include "ww_rfc3339.h"

#include "ww_clock.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Digits by hand and civil-day arithmetic instead of gmtime_r, snprintf
 * and timegm: the bus formats and parses one per record, and these went
 * through the time-zone machinery and the locale every time. */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

/* Writes v as exactly n digits (v >= 0, fits in n digits). */
static void put_digits(char *p, int n, int64_t v) {
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDThh:mm:ss" of a second within the four-digit years. */
static void write_seconds(int64_t seconds, char text[19]) {
    int64_t days = floor_div(seconds, 86400);
    int64_t sod = seconds - days * 86400;
    int64_t year;
    int month, day;
    ww_clock_civil_from_days(days, &year, &month, &day);
    put_digits(text, 4, year);
    text[4] = '-';
    put_digits(text + 5, 2, month);
    text[7] = '-';
    put_digits(text + 8, 2, day);
    text[10] = 'T';
    put_digits(text + 11, 2, sod / 3600);
    text[13] = ':';
    put_digits(text + 14, 2, sod / 60 % 60);
    text[16] = ':';
    put_digits(text + 17, 2, sod % 60);
}

/* The text up to the seconds changes once a second, and the bus (per
 * record) and the log (per line) ask for the same second many times in a
 * row: each thread keeps the last one it wrote. */
static _Thread_local struct {
    int64_t seconds;
    bool valid;
    char text[19];
} last;

size_t ww_rfc3339_format(int64_t seconds, int32_t nanos, int digits, char *buf,
                         size_t size) {
    bool valid = seconds >= WW_RFC3339_MIN_SECONDS &&
                 seconds <= WW_RFC3339_MAX_SECONDS && nanos >= 0 &&
                 nanos <= 999999999 && digits >= 0 && digits <= 9;
    /* "YYYY-MM-DDThh:mm:ss" + ".f..." + "Z" */
    size_t len = 20 + (digits > 0 ? 1 + (size_t)digits : 0);
    if (!valid || size < len + 1) {
        if (size > 0) buf[0] = '\0';
        return 0;
    }
    if (!last.valid || last.seconds != seconds) {
        write_seconds(seconds, last.text);
        last.seconds = seconds;
        last.valid = true;
    }
    memcpy(buf, last.text, sizeof last.text);
    char *p = buf + 19;
    if (digits > 0) {
        static const int32_t pow10[10] = {
            1,      10,      100,      1000,      10000,
            100000, 1000000, 10000000, 100000000, 1000000000};
        *p++ = '.';
        put_digits(p, digits, nanos / pow10[9 - digits]);
        p += digits;
    }
    p[0] = 'Z';
    p[1] = '\0';
    return len;
}

size_t ww_rfc3339_format_ms(int64_t unix_ms, char *buf, size_t size) {
    int64_t seconds = floor_div(unix_ms, 1000);
    int32_t nanos = (int32_t)(unix_ms - seconds * 1000) * 1000000;
    return ww_rfc3339_format(seconds, nanos, 3, buf, size);
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c) {
    if (**p != c) return false;
    (*p)++;
    return true;
}

static bool expect_either(const char **p, char a, char b) {
    return expect(p, a) || expect(p, b);
}

/* INVALID_ARGUMENT quoting the text (cut to 40 bytes) and saying what is
 * wrong with it. */
__attribute__((format(printf, 3, 4))) static ww_code_t
bad(ww_err_t *err, const char *s, const char *fmt, ...) {
    char why[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "time \"%.40s\": %s", s,
                      why);
}

static const char *const month_names[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

ww_code_t ww_rfc3339_parse(const char *s, int64_t *seconds, int32_t *nanos,
                           ww_err_t *err) {
    if (!s) s = "";
    const char *p = s;
    int year, month, day, hour, minute, second;
    if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &month) ||
        !expect(&p, '-') || !digits(&p, 2, &day) ||
        !expect_either(&p, 'T', 't') || !digits(&p, 2, &hour) ||
        !expect(&p, ':') || !digits(&p, 2, &minute) || !expect(&p, ':') ||
        !digits(&p, 2, &second))
        return bad(err, s, "not RFC 3339 (YYYY-MM-DDThh:mm:ss[.fff]Z)");
    int32_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 9) frac = frac * 10 + (*p - '0');
        if (n == 0) return bad(err, s, "no digits after the '.'");
        for (; n < 9; n++)
            frac *= 10;
    }
    int offset_min = 0;
    if (expect_either(&p, 'Z', 'z')) {
        /* UTC */
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
            return bad(err, s, "UTC offset is not +hh:mm or -hh:mm");
        if (oh > 23 || om > 59)
            return bad(err, s, "UTC offset %02d:%02d is beyond 23:59", oh, om);
        offset_min = sign * (oh * 60 + om);
    } else {
        return bad(err, s, "no time zone (Z or +hh:mm)");
    }
    if (*p) return bad(err, s, "trailing characters");
    if (month < 1 || month > 12)
        return bad(err, s, "month %02d is not 01..12", month);
    int last = ww_clock_days_in_month(year, month);
    if (day < 1 || day > last)
        return bad(err, s, "day %02d is not in %s %04d (01..%02d)", day,
                   month_names[month - 1], year, last);
    if (hour > 23) return bad(err, s, "hour %02d is not 00..23", hour);
    if (minute > 59) return bad(err, s, "minute %02d is not 00..59", minute);
    if (second == 60) return bad(err, s, "a leap second (60) has no Unix time");
    if (second > 59) return bad(err, s, "second %02d is not 00..59", second);
    int64_t t = ww_clock_days_from_civil(year, month, day) * 86400 +
                hour * 3600 + minute * 60 + second;
    if (seconds) *seconds = t - (int64_t)offset_min * 60;
    if (nanos) *nanos = frac;
    return WW_OK;
}

ww_code_t ww_rfc3339_parse_ms(const char *s, int64_t *unix_ms, ww_err_t *err) {
    int64_t seconds;
    int32_t nanos;
    ww_code_t rc = ww_rfc3339_parse(s, &seconds, &nanos, err);
    if (rc == WW_OK && unix_ms) *unix_ms = seconds * 1000 + nanos / 1000000;
    return rc;
}
