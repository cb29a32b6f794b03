/*
 * ww_trace.h - W3C trace context (traceparent, tracestate): parsing,
 * formatting, new spans, and the calling thread's current context.
 *
 *   traceparent  00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>
 *   tracestate   vendor entries, carried unchanged (at most 512 bytes)
 *
 * A unit of work (a gRPC call, a decided command, a translated fact) is one
 * span: it continues the context it received with a fresh span id, or
 * starts a trace when it received none or a malformed one. While it runs,
 * its context is the thread's current one (ww_trace_enter): ww_log prints
 * the trace id on every line and the bus envelope writes it on every record
 * the work produces.
 *
 * Threads: ww_trace_t is a plain value, copied freely. The current context
 * is per thread (thread-local); nothing here locks. Ids come from a
 * per-thread generator seeded from the kernel's random source.
 */
#ifndef WW_TRACE_H
#define WW_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WW_TRACE_PARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */
#define WW_TRACE_STATE_MAX  512
#define WW_TRACE_ID_HEX     32
#define WW_TRACE_SPAN_HEX   16

typedef struct ww_trace {
    bool valid; /* false: no context (nothing is printed or carried) */
    uint8_t trace_id[16];
    uint8_t span_id[8];   /* this work's span */
    uint8_t parent_id[8]; /* the span that caused it; zero for a root */
    uint8_t flags;        /* trace-flags; bit 0 = sampled */
    char state[WW_TRACE_STATE_MAX + 1]; /* "" when none */
} ww_trace_t;

/* Parses a received context. `traceparent` must follow the W3C rules
 * (version 00 exactly 55 characters; a later version at least 55 with '-'
 * after them; lower-case hex; version ff, an all-zero trace id or parent
 * id refused); `tracestate` (may be NULL) is kept when at most
 * WW_TRACE_STATE_MAX printable ASCII characters, dropped otherwise.
 * Returns false (and out->valid false) for a missing or malformed
 * traceparent; on true out holds the sender's ids: span_id is the
 * sender's span, parent_id zero. */
bool ww_trace_parse(const char *traceparent, const char *tracestate,
                    ww_trace_t *out);

/* The context of new work caused by `from`: the same trace id, flags and
 * state, a fresh span id, parent_id = from's span. `from` NULL or not
 * valid: a new trace (random trace id, sampled flag set, no state). */
void ww_trace_child(const ww_trace_t *from, ww_trace_t *out);

/* Parses `traceparent`/`tracestate` as received and continues them
 * (ww_trace_child); a missing or malformed one starts a new trace. */
void ww_trace_continue(const char *traceparent, const char *tracestate,
                       ww_trace_t *out);

/* Formats the traceparent that work caused by `t` receives (t's trace id
 * and span id): WW_TRACE_PARENT_LEN characters and a NUL into buf
 * (size > WW_TRACE_PARENT_LEN). Returns the length, 0 when t is not valid
 * or buf is too small. */
size_t ww_trace_format(const ww_trace_t *t, char *buf, size_t size);

/* Lower-case hex of t's trace id (33 bytes with NUL) and span id (17). */
void ww_trace_id_hex(const ww_trace_t *t, char out[WW_TRACE_ID_HEX + 1]);
void ww_trace_span_hex(const ww_trace_t *t, char out[WW_TRACE_SPAN_HEX + 1]);

/* The calling thread's current context; never NULL (valid false: none). */
const ww_trace_t *ww_trace_current(void);

/* Makes a copy of `t` (NULL: none) the calling thread's current context
 * and returns the previous one, which the caller restores with
 * ww_trace_leave when the work ends:
 *     ww_trace_t prev = ww_trace_enter(&t); ...; ww_trace_leave(&prev); */
ww_trace_t ww_trace_enter(const ww_trace_t *t);
void ww_trace_leave(const ww_trace_t *prev);

#endif
