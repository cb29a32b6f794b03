/*
 * ww_bus_waiters.h - request/reply over Kafka: callers waiting for the reply
 * to a command, keyed by correlation id.
 *
 * The flow: a caller registers a waiter under a fresh correlation id BEFORE
 * it produces the request (so a fast reply can never arrive unclaimed), then
 * produces, then waits. Whoever reads the replies topic (usually one tailing
 * reader per process) calls ww_bus_waiters_complete() for every reply; a
 * reply nobody waits for (another instance's caller, or one that gave up) is
 * dropped and counted. A reply that arrives between register and wait is kept
 * in the waiter, so the order of "reply arrives" and "caller starts waiting"
 * does not matter.
 *
 * Asynchronous waiters (ww_bus_waiters_register_async) are for callers that
 * must not block (a gRPC handler keeps its call and returns): the answer
 * comes through a callback, run by whoever completes, sweeps or fails it.
 *
 * Thread-safety: every function may be called from any thread; one waiter is
 * waited on (or cancelled) by exactly one thread, once. Callbacks run
 * without the registry's lock held, so they may register new waiters.
 */
#ifndef WW_BUS_WAITERS_H
#define WW_BUS_WAITERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"

typedef struct ww_bus_waiters ww_bus_waiters_t;
typedef struct ww_bus_waiter ww_bus_waiter_t;

/* Longest correlation id accepted (bytes, without the terminating NUL). */
#define WW_BUS_WAITERS_MAX_ID 128

typedef struct ww_bus_waiters_stats {
    uint64_t registered;   /* waiters ever registered */
    uint64_t completed;    /* replies handed to a waiter */
    uint64_t unclaimed;    /* replies for an id nobody waits for */
    uint64_t timed_out;    /* waits that ended with DEADLINE_EXCEEDED */
    uint64_t pending;      /* waiters registered and not yet released */
} ww_bus_waiters_stats_t;

/* The answer to an asynchronous waiter: WW_OK with the reply (`payload`,
 * `len`: borrowed for the call; copy what you keep), DEADLINE_EXCEEDED
 * (no reply in time: the outcome is unknown), or the code given to
 * ww_bus_waiters_fail_all. `err` is borrowed for the call. */
typedef void (*ww_bus_waiter_fn)(void *opaque, ww_code_t code,
                                 const void *payload, size_t len,
                                 const ww_err_t *err);

/* A new, empty registry; NULL only when out of memory. */
ww_bus_waiters_t *ww_bus_waiters_new(void);

/* Frees the registry. Waiters still registered must have been waited on or
 * cancelled before (call ww_bus_waiters_fail_all() first on shutdown, then
 * let their threads return from ww_bus_waiter_wait()). NULL is a no-op. */
void ww_bus_waiters_destroy(ww_bus_waiters_t *ws);

/* Registers a waiter for `correlation_id` (copied; 1..WW_BUS_WAITERS_MAX_ID
 * bytes). On WW_OK *out is the caller's waiter, to be passed exactly once to
 * ww_bus_waiter_wait() or ww_bus_waiter_cancel(), which free it.
 * Errors: INVALID_ARGUMENT (empty/too long id), ALREADY_EXISTS (the id is
 * registered already: ids must be unique), UNAVAILABLE (the registry was
 * failed by ww_bus_waiters_fail_all), RESOURCE_EXHAUSTED (no memory). */
ww_code_t ww_bus_waiters_register(ww_bus_waiters_t *ws,
                                  const char *correlation_id,
                                  ww_bus_waiter_t **out, ww_err_t *err);

/* Hands a reply to the waiter registered under `correlation_id`: the payload
 * (len bytes, may be 0) is copied, the caller keeps its buffer. Returns true
 * when a waiter took it; false when nobody waits for that id, or the waiter
 * already has a reply (a duplicate reply: the first one wins). */
bool ww_bus_waiters_complete(ww_bus_waiters_t *ws, const char *correlation_id,
                             const void *payload, size_t len);

/* Blocks until the reply arrives or `timeout_ms` passes (0 = just check,
 * negative = no limit), then unregisters and frees the waiter (in every
 * case). On WW_OK *payload is a malloc'ed copy of the reply (caller frees;
 * NUL-terminated one byte past *len, for text payloads) and *len its length.
 * Errors: DEADLINE_EXCEEDED (no reply in time: the outcome is unknown),
 * or the code given to ww_bus_waiters_fail_all(). */
ww_code_t ww_bus_waiter_wait(ww_bus_waiter_t *w, int timeout_ms,
                             void **payload, size_t *len, ww_err_t *err);

/* Registers an asynchronous waiter for `correlation_id` (copied): `fn` runs
 * exactly once, from the thread that completes it (the reply), from
 * ww_bus_waiters_sweep once `timeout_ms` passed (negative: never), or from
 * ww_bus_waiters_fail_all. The registry owns the waiter: nothing to free.
 * Errors as ww_bus_waiters_register; fn never runs then. */
ww_code_t ww_bus_waiters_register_async(ww_bus_waiters_t *ws,
                                        const char *correlation_id,
                                        int timeout_ms, ww_bus_waiter_fn fn,
                                        void *opaque, ww_err_t *err);

/* Withdraws an asynchronous waiter that was not answered yet (e.g. sending
 * the request failed): fn never runs. False when it was answered already
 * or is unknown. */
bool ww_bus_waiters_withdraw(ww_bus_waiters_t *ws, const char *correlation_id);

/* Answers every asynchronous waiter whose time ran out with
 * DEADLINE_EXCEEDED; returns how many. Call it regularly (e.g. from the
 * idle hook of the reader of replies). */
size_t ww_bus_waiters_sweep(ww_bus_waiters_t *ws);

/* Unregisters and frees a waiter without waiting (e.g. producing the request
 * failed). A reply arriving later is counted as unclaimed. */
void ww_bus_waiter_cancel(ww_bus_waiter_t *w);

/* Shutdown: every current waiter wakes up with `code` (e.g. CANCELLED or
 * UNAVAILABLE) and message `why`, and later registrations fail with
 * UNAVAILABLE. Waiters must still be released by their threads. */
void ww_bus_waiters_fail_all(ww_bus_waiters_t *ws, ww_code_t code,
                             const char *why);

/* A consistent snapshot of the counters. */
ww_bus_waiters_stats_t ww_bus_waiters_stats(ww_bus_waiters_t *ws);

#endif
