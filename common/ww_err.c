/* ww_err.c - error values. */
#include "ww_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static ww_code_t vset(ww_err_t *err, ww_code_t code, bool retriable,
                      const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        err->retriable = retriable;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

ww_code_t ww_err_set(ww_err_t *err, ww_code_t code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, false, fmt, ap);
    va_end(ap);
    return code;
}

ww_code_t ww_err_set_retriable(ww_err_t *err, ww_code_t code,
                               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, true, fmt, ap);
    va_end(ap);
    return code;
}

void ww_err_clear(ww_err_t *err) {
    if (err) memset(err, 0, sizeof *err);
}

const char *ww_code_name(ww_code_t code) {
    static const char *names[WW_ERR__COUNT] = {
        [WW_OK] = "OK",
        [WW_ERR_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
        [WW_ERR_NOT_FOUND] = "NOT_FOUND",
        [WW_ERR_ALREADY_EXISTS] = "ALREADY_EXISTS",
        [WW_ERR_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
        [WW_ERR_PERMISSION_DENIED] = "PERMISSION_DENIED",
        [WW_ERR_UNAUTHENTICATED] = "UNAUTHENTICATED",
        [WW_ERR_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
        [WW_ERR_UNAVAILABLE] = "UNAVAILABLE",
        [WW_ERR_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
        [WW_ERR_OUT_OF_RANGE] = "OUT_OF_RANGE",
        [WW_ERR_CANCELLED] = "CANCELLED",
        [WW_ERR_INTERNAL] = "INTERNAL",
    };
    return code >= 0 && code < WW_ERR__COUNT ? names[code] : "UNKNOWN";
}
