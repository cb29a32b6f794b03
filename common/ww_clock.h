/*
 * ww_clock.h - time arithmetic every module needs: a monotonic clock for
 * timeouts and deadlines, and proleptic-Gregorian day counting for parsing
 * and formatting UTC times without the time-zone machinery of timegm.
 * Pure functions, safe from any thread.
 */
#ifndef WW_CLOCK_H
#define WW_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds / nanoseconds. */
int64_t ww_clock_mono_ms(void);
int64_t ww_clock_mono_ns(void);

/* The CLOCK_MONOTONIC instant `timeout_ms` from now (now for timeout_ms
 * <= 0), for pthread_cond_timedwait on a condition variable whose clock is
 * CLOCK_MONOTONIC. */
struct timespec ww_clock_mono_deadline(int timeout_ms);

/* Days since 1970-01-01 of year-month-day (month 1..12), and back. */
int64_t ww_clock_days_from_civil(int64_t year, int month, int day);
void ww_clock_civil_from_days(int64_t days, int64_t *year, int *month,
                              int *day);

#endif
