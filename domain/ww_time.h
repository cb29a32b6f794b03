/*
 * ww_time.h - timestamps of the domain: validation, truncation to the hour,
 * the trainer's working hours and an RFC 3339 rendering for messages.
 *
 * A timestamp is google.protobuf.Timestamp's pair (seconds since the Unix
 * epoch, nanos). Valid means: present, nanos in [0, 999999999] and seconds
 * within protobuf's range 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
 * Every invalid timestamp is WW_ERR_INVALID_ARGUMENT "unable to parse time",
 * the original service's message. All functions are pure and reentrant; none
 * allocates or keeps a pointer it was given.
 */
#ifndef WW_TIME_H
#define WW_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"

typedef struct ww_time {
    int64_t seconds; /* since 1970-01-01T00:00:00Z, may be negative */
    int32_t nanos;   /* [0, 999999999] */
} ww_time_t;

#define WW_TIME_MIN_SECONDS INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define WW_TIME_MAX_SECONDS INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define WW_TIME_MAX_NANOS   999999999

/* The trainer's working hours, UTC, both included: nine slots a day. */
#define WW_TIME_FIRST_WORK_HOUR 12
#define WW_TIME_LAST_WORK_HOUR  20
#define WW_TIME_WORK_HOURS_PER_DAY                                           \
    (WW_TIME_LAST_WORK_HOUR - WW_TIME_FIRST_WORK_HOUR + 1)

#define WW_TIME_HOUR_SECONDS INT64_C(3600)
#define WW_TIME_DAY_SECONDS  INT64_C(86400)

/* "YYYY-MM-DDTHH:MM:SSZ" plus its NUL. */
#define WW_TIME_FORMAT_SIZE 21

/* WW_OK when `t` is a valid timestamp; NULL (a missing field) is invalid. */
ww_code_t ww_time_validate(const ww_time_t *t, ww_err_t *err);

/* Validates `t` and stores its start of hour (UTC, seconds) in *hour. On
 * failure *hour is left alone. */
ww_code_t ww_time_to_hour(const ww_time_t *t, int64_t *hour, ww_err_t *err);

/* Floor of `seconds` to its hour / its day (UTC), also for negative seconds. */
int64_t ww_time_truncate_hour(int64_t seconds);
int64_t ww_time_truncate_day(int64_t seconds);

/* Hour of the day (0..23, UTC) of `seconds`. */
int ww_time_hour_of_day(int64_t seconds);

/* True when the hour starting at `hour` (any second within it works) is one
 * of the working hours 12:00..20:00 UTC. Says nothing about validity. */
bool ww_time_hour_in_schedule(int64_t hour);

/* Seconds of the UTC calendar time year-month-day hour:00:00. WW_OK and
 * *seconds set when the date is a real one inside the valid range and
 * hour is 0..23; else WW_ERR_INVALID_ARGUMENT. */
ww_code_t ww_time_from_utc(int year, int month, int day, int hour,
                           int64_t *seconds, ww_err_t *err);

/* Writes `seconds` as "YYYY-MM-DDTHH:MM:SSZ" (ww_rfc3339_format without a
 * fraction) into buf (which must hold WW_TIME_FORMAT_SIZE bytes) and
 * returns buf. Seconds outside the valid range are written as
 * "invalid-time". */
const char *ww_time_format(int64_t seconds, char buf[WW_TIME_FORMAT_SIZE]);

#endif
