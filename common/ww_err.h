/*
 * ww_err.h - the project's one error model: a code (0 = OK) plus a message.
 *
 * The codes carry the meaning the callers act on; the gRPC adapter maps them
 * one to one onto gRPC status codes, the bus maps librdkafka errors onto
 * them and sets `retriable` so a caller decides retries without parsing text.
 * Functions that can fail return ww_code_t and, when given a non-NULL
 * ww_err_t *, fill it; the struct is caller-owned (usually on the stack).
 */
#ifndef WW_ERR_H
#define WW_ERR_H

#include <stdbool.h>

typedef enum ww_code {
    WW_OK = 0,
    WW_ERR_INVALID_ARGUMENT,    /* the caller sent something malformed */
    WW_ERR_NOT_FOUND,           /* the entity does not exist */
    WW_ERR_ALREADY_EXISTS,      /* same key, other content */
    WW_ERR_FAILED_PRECONDITION, /* a domain rule refused the change */
    WW_ERR_PERMISSION_DENIED,   /* authenticated, but not allowed */
    WW_ERR_UNAUTHENTICATED,     /* no or bad credentials */
    WW_ERR_DEADLINE_EXCEEDED,   /* outcome unknown once a write was accepted */
    WW_ERR_UNAVAILABLE,         /* a dependency is down or not caught up */
    WW_ERR_RESOURCE_EXHAUSTED,  /* too large, too many */
    WW_ERR_OUT_OF_RANGE,        /* a number would overflow its type */
    WW_ERR_CANCELLED,           /* the caller or a shutdown gave up */
    WW_ERR_INTERNAL,            /* a bug or an unexpected failure */
    WW_ERR__COUNT
} ww_code_t;

typedef struct ww_err {
    ww_code_t code;
    bool retriable; /* the same call may succeed if tried again */
    char msg[256];
} ww_err_t;

/* Sets *err (if not NULL) and returns `code`, so a failure path is one line:
 *     return ww_err_set(err, WW_ERR_NOT_FOUND, "hour %s", iso); */
ww_code_t ww_err_set(ww_err_t *err, ww_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with `retriable` set to true. */
ww_code_t ww_err_set_retriable(ww_err_t *err, ww_code_t code,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears *err to WW_OK with an empty message. */
void ww_err_clear(ww_err_t *err);

/* Upper-case name of a code ("FAILED_PRECONDITION"); static storage. */
const char *ww_code_name(ww_code_t code);

#endif
