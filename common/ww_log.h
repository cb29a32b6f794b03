/*
 * ww_log.h - structured log lines on stderr, one event per line:
 *   2026-11-26T13:40:00.123Z INFO rpc method=/trainer.TrainerService/... ...
 * Level from WW_LOG_LEVEL (debug, info, warn, error; default info).
 * Thread-safe: each line is formatted into one buffer and written at once.
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
 * printf format, by convention key=value pairs. */
void ww_log(ww_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when a line of `level` would be written (skip costly formatting). */
int ww_log_enabled(ww_log_level_t level);

#define ww_log_debug(comp, ...) ww_log(WW_LOG_DEBUG, comp, __VA_ARGS__)
#define ww_log_info(comp, ...)  ww_log(WW_LOG_INFO, comp, __VA_ARGS__)
#define ww_log_warn(comp, ...)  ww_log(WW_LOG_WARN, comp, __VA_ARGS__)
#define ww_log_error(comp, ...) ww_log(WW_LOG_ERROR, comp, __VA_ARGS__)

#endif
