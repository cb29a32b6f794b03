/*
 * ww_cond.h - condition variables whose timed waits count on
 * CLOCK_MONOTONIC, the clock of ww_clock_mono_deadline. The default clock
 * of a condition variable is CLOCK_REALTIME: a deadline taken from the
 * monotonic clock would then end at the wrong time, and one taken from the
 * wall clock is stretched or cut when NTP or an operator steps it.
 *
 * Thread safety: as pthread_cond_init.
 */
#ifndef WW_COND_H
#define WW_COND_H

#include <pthread.h>

/* pthread_cond_init with CLOCK_MONOTONIC for pthread_cond_timedwait.
 * Returns 0 or an errno value, as pthread_cond_init; pthread_cond_destroy
 * frees it. */
int ww_cond_init_mono(pthread_cond_t *cv);

#endif
