/*
 * ww_rfc3339.h - the one text form of an instant: RFC 3339 in UTC, as in
 * log lines, ce_time headers, domain messages and the command line:
 *
 *   2026-11-26T13:40:00Z       seconds
 *   2026-11-26T13:40:00.123Z   with a fraction (here milliseconds)
 *
 * An instant is seconds since 1970-01-01T00:00:00Z (negative before) plus
 * nanoseconds [0, 999999999] within that second: the pair of struct
 * timespec and google.protobuf.Timestamp. Formatting always writes UTC
 * ("Z"); parsing takes any offset and refuses text that names no real
 * instant (February 30, hour 24). Years are 0000..9999, the four digits
 * RFC 3339 has. No locale, no time-zone database, no allocation; every
 * function is reentrant.
 */
#ifndef WW_RFC3339_H
#define WW_RFC3339_H

#include "ww_err.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes of the longest text ww_rfc3339_format writes (nine digits of
 * fraction), with its NUL. */
#define WW_RFC3339_SIZE 31

/* The instants with four-digit years: 0000-01-01T00:00:00Z and
 * 9999-12-31T23:59:59Z. */
#define WW_RFC3339_MIN_SECONDS INT64_C(-62167219200)
#define WW_RFC3339_MAX_SECONDS INT64_C(253402300799)

/* Writes seconds + nanos as "YYYY-MM-DDThh:mm:ss[.f]Z" with `digits`
 * (0..9) digits of fraction, truncated (never rounded into the next
 * second), into buf (size bytes; WW_RFC3339_SIZE always suffice). Returns
 * the length written without the NUL. Returns 0 and writes "" (when size
 * > 0) when seconds is outside WW_RFC3339_MIN/MAX_SECONDS, nanos or digits
 * is out of range, or the text does not fit. */
size_t ww_rfc3339_format(int64_t seconds, int32_t nanos, int digits, char *buf,
                         size_t size);

/* The same for Unix milliseconds, with three digits of fraction. */
size_t ww_rfc3339_format_ms(int64_t unix_ms, char *buf, size_t size);

/* Parses "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" ('T' and 'Z' in
 * either case; fraction digits beyond nine are dropped) into *seconds and
 * *nanos (either may be NULL). INVALID_ARGUMENT, with a message that
 * quotes the text and names the problem, when it is malformed or a field
 * is out of range: month 01..12, day within its month (February 29 in
 * leap years only), hour 00..23, minute and second 00..59 (a leap second
 * has no Unix time), offset at most 23:59. Outputs untouched on failure. */
ww_code_t ww_rfc3339_parse(const char *s, int64_t *seconds, int32_t *nanos,
                           ww_err_t *err);

/* The same into Unix milliseconds (the fraction truncated). */
ww_code_t ww_rfc3339_parse_ms(const char *s, int64_t *unix_ms, ww_err_t *err);

#endif
