/* ww_time.c - timestamps: validation, hour arithmetic, RFC 3339 text. */
#include "ww_time.h"

#include "ww_clock.h"
#include "ww_rfc3339.h"

#include <stdio.h>

static int64_t floor_mod(int64_t a, int64_t m) {
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

ww_code_t ww_time_validate(const ww_time_t *t, ww_err_t *err) {
    if (!t || t->nanos < 0 || t->nanos > WW_TIME_MAX_NANOS ||
        t->seconds < WW_TIME_MIN_SECONDS || t->seconds > WW_TIME_MAX_SECONDS)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "unable to parse time");
    return WW_OK;
}

ww_code_t ww_time_to_hour(const ww_time_t *t, int64_t *hour, ww_err_t *err) {
    ww_code_t rc = ww_time_validate(t, err);
    if (rc != WW_OK) return rc;
    *hour = ww_time_truncate_hour(t->seconds);
    return WW_OK;
}

int64_t ww_time_truncate_hour(int64_t seconds) {
    return seconds - floor_mod(seconds, WW_TIME_HOUR_SECONDS);
}

int64_t ww_time_truncate_day(int64_t seconds) {
    return seconds - floor_mod(seconds, WW_TIME_DAY_SECONDS);
}

int ww_time_hour_of_day(int64_t seconds) {
    return (int)(floor_mod(seconds, WW_TIME_DAY_SECONDS) /
                 WW_TIME_HOUR_SECONDS);
}

bool ww_time_hour_in_schedule(int64_t hour) {
    int h = ww_time_hour_of_day(hour);
    return h >= WW_TIME_FIRST_WORK_HOUR && h <= WW_TIME_LAST_WORK_HOUR;
}


ww_code_t ww_time_from_utc(int year, int month, int day, int hour,
                           int64_t *seconds, ww_err_t *err) {
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        hour < 0 || hour > 23)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "unable to parse time");
    int max_day = ww_clock_days_in_month(year, month);
    if (day > max_day)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "unable to parse time");
    *seconds =
        ww_clock_days_from_civil(year, month, day) * WW_TIME_DAY_SECONDS +
        hour * WW_TIME_HOUR_SECONDS;
    return WW_OK;
}

const char *ww_time_format(int64_t seconds, char buf[WW_TIME_FORMAT_SIZE]) {
    if (seconds < WW_TIME_MIN_SECONDS || seconds > WW_TIME_MAX_SECONDS ||
        ww_rfc3339_format(seconds, 0, 0, buf, WW_TIME_FORMAT_SIZE) == 0)
        snprintf(buf, WW_TIME_FORMAT_SIZE, "invalid-time");
    return buf;
}
