/*
 * ww_clock.h - time arithmetic every module needs: a monotonic clock for
 * timeouts and deadlines, the wall clock for timestamps, and
 * proleptic-Gregorian day counting for parsing and formatting UTC times
 * without the time-zone machinery of timegm.
 * All functions are safe from any thread.
 */
#ifndef WW_CLOCK_H
#define WW_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds / nanoseconds: for timeouts and
 * durations, which a stepped wall clock must not stretch or cut. */
int64_t ww_clock_mono_ms(void);
int64_t ww_clock_mono_ns(void);

/* CLOCK_REALTIME in Unix milliseconds: for timestamps only. */
int64_t ww_clock_wall_ms(void);

/* The CLOCK_MONOTONIC instant `timeout_ms` from now (now for timeout_ms
 * <= 0), for pthread_cond_timedwait on a condition variable whose clock is
 * CLOCK_MONOTONIC (pthread_condattr_setclock; the default is
 * CLOCK_REALTIME, and the wait would then end at the wrong time). */
struct timespec ww_clock_mono_deadline(int timeout_ms);

/* Days since 1970-01-01 of year-month-day (month 1..12), and back. */
int64_t ww_clock_days_from_civil(int64_t year, int month, int day);
void ww_clock_civil_from_days(int64_t days, int64_t *year, int *month,
                              int *day);

/* Days in `month` (1..12) of `year`: 28..31, February 29 in leap years of
 * the Gregorian rule; 0 for a month out of range. */
int ww_clock_days_in_month(int64_t year, int month);

#endif
