/* ww_log.c - structured log lines. */
#include "ww_log.h"

#include "ww_rfc3339.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int threshold(void) {
    static int level = -1; /* racy first read is benign: same value */
    if (level < 0) {
        const char *v = getenv("WW_LOG_LEVEL");
        if (!v || !*v) level = WW_LOG_INFO;
        else if (!strcasecmp(v, "debug")) level = WW_LOG_DEBUG;
        else if (!strcasecmp(v, "warn")) level = WW_LOG_WARN;
        else if (!strcasecmp(v, "error")) level = WW_LOG_ERROR;
        else level = WW_LOG_INFO;
    }
    return level;
}

int ww_log_enabled(ww_log_level_t level) {
    return (int)level >= threshold();
}

/* Per-thread batch of whole lines (see ww_log_batch_begin). PIPE_BUF-sized
 * so that one write(2) of it stays atomic on a pipe too. */
#define WW_LOG_BATCH_BYTES 4096
#define WW_LOG_BATCH_MAX_AGE_NS 10000000 /* 10 ms */

typedef struct ww_log_batch {
    size_t len;
    int64_t oldest_ns; /* CLOCK_REALTIME of the oldest pending line */
    char buf[WW_LOG_BATCH_BYTES];
} ww_log_batch_t;

static _Thread_local ww_log_batch_t *batch;

static void write_lines(const char *p, size_t len) {
    /* One write(2) per chunk of whole lines keeps lines whole across
     * threads; a short write (full disk, closed pipe) drops the rest. */
    ssize_t w = write(STDERR_FILENO, p, len);
    (void)w;
}

void ww_log_batch_flush(void) {
    if (!batch || batch->len == 0) return;
    write_lines(batch->buf, batch->len);
    batch->len = 0;
    batch->oldest_ns = 0;
}

void ww_log_batch_begin(void) {
    if (batch) return;
    batch = calloc(1, sizeof *batch); /* on failure lines go out unbatched */
}

void ww_log_batch_end(void) {
    ww_log_batch_flush();
    free(batch);
    batch = NULL;
}

int ww_log_batch_due_ms(void) {
    if (!batch || batch->len == 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t age =
        (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - batch->oldest_ns;
    if (age < 0) age = 0; /* the clock stepped back: count from now */
    if (age >= WW_LOG_BATCH_MAX_AGE_NS) return 0;
    return (int)((WW_LOG_BATCH_MAX_AGE_NS - age + 999999) / 1000000);
}

void ww_log(ww_log_level_t level, const char *component, const char *fmt,
            ...) {
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (!ww_log_enabled(level)) return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    size_t n = ww_rfc3339_format(ts.tv_sec, (int32_t)ts.tv_nsec, 3, line,
                                 sizeof line);
    int c = snprintf(line + n, sizeof line - n, " %s %s ", names[level],
                     component);
    if (c > 0) n += (size_t)c;
    if (n > sizeof line - 2) n = sizeof line - 2;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    size_t len = n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    if (!batch || level >= WW_LOG_WARN) {
        /* Warnings and errors go out at once, after what is pending, so
         * that they are never held back and the order stays the same. */
        ww_log_batch_flush();
        write_lines(line, len);
        return;
    }
    int64_t now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (batch->len + len > sizeof batch->buf) ww_log_batch_flush();
    memcpy(batch->buf + batch->len, line, len);
    batch->len += len;
    if (batch->oldest_ns == 0) batch->oldest_ns = now_ns;
    if (now_ns - batch->oldest_ns >= WW_LOG_BATCH_MAX_AGE_NS)
        ww_log_batch_flush();
}
