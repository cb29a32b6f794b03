/* ww_log.c - structured log lines. */
#include "ww_log.h"

#include <stdarg.h>
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

void ww_log(ww_log_level_t level, const char *component, const char *fmt,
            ...) {
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (!ww_log_enabled(level)) return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     names[level], component);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    /* One write(2) per line keeps lines whole across threads. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
