/*
 * ww_log.h - structured log lines on stderr, one event per line:
 *   2026-11-26T13:40:00.123Z INFO rpc method=/trainer.TrainerService/... ...
 * Level from WW_LOG_LEVEL (debug, info, warn, error; default info).
 *
 * Values cannot forge lines: the format's literal text is written as it
 * is, and every converted argument (each %s, %d, ...) is escaped: `\`,
 * `"` and control characters become \\ \" \n \r \t \xHH, and so do C1
 * controls, U+2028/U+2029 and bytes that are not well-formed UTF-8. So a
 * value can end neither a quoted `key="..."` nor the line.
 *
 * When the thread has a current trace context (ww_trace_enter), the line
 * ends with ` trace_id=<32 hex>`.
 *
 * WW_LOG_FORMAT=json writes one JSON object per line instead (made with
 * jansson): "time", "level", "module", "message" (the escaped text above),
 * "trace_id" and "span_id" when there is a context, and one member per
 * `key=%conv` (or `key="%conv`) of the format, named by the key, whose
 * value is the argument (a number for %d/%i/%u and the floating
 * conversions, else a string). The per-call line of rpc so carries
 * "method", "status", "code" and "duration_us".
 *
 * Thread-safe: each line is formatted into one buffer and written at once,
 * or, on a thread inside a batch (below), gathered with other whole lines
 * and written with them.
 */
#ifndef WW_LOG_H
#define WW_LOG_H

typedef enum ww_log_level {
    WW_LOG_DEBUG = 0,
    WW_LOG_INFO,
    WW_LOG_WARN,
    WW_LOG_ERROR,
} ww_log_level_t;

/* `component` names the module ("rpc", "bus", "trainer"); the rest is a
 * printf format, by convention key=value pairs; quote string values that
 * may hold spaces (`msg="%s"`). `%n` is ignored. */
void ww_log(ww_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when a line of `level` would be written (skip costly formatting). */
int ww_log_enabled(ww_log_level_t level);

/* Batching for a thread that logs on a hot path (a server's per-call
 * lines): between ww_log_batch_begin() and ww_log_batch_end(), the calling
 * thread's DEBUG and INFO lines are gathered in a buffer of its own (4 KiB)
 * and written whole, several per write(2): when the buffer is full, when
 * its oldest line is 10 ms old at the next line, before any WARN or ERROR
 * line of that thread, on ww_log_batch_flush() and at ww_log_batch_end().
 * A thread that can go idle with lines pending must wake up for them:
 * ww_log_batch_due_ms() is -1 when nothing is pending, else the
 * milliseconds until the oldest pending line is due (0: flush now). All four
 * act on the calling thread only; other threads keep writing line by line. The
 * buffer is owned by the thread and freed by ww_log_batch_end(). */
void ww_log_batch_begin(void);
void ww_log_batch_flush(void);
void ww_log_batch_end(void);
int ww_log_batch_due_ms(void);

#define ww_log_debug(comp, ...) ww_log(WW_LOG_DEBUG, comp, __VA_ARGS__)
#define ww_log_info(comp, ...)  ww_log(WW_LOG_INFO, comp, __VA_ARGS__)
#define ww_log_warn(comp, ...)  ww_log(WW_LOG_WARN, comp, __VA_ARGS__)
#define ww_log_error(comp, ...) ww_log(WW_LOG_ERROR, comp, __VA_ARGS__)

#endif
