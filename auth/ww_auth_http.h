/*
 * ww_auth_http.h - one bounded HTTP(S) GET over libcurl, shared by the JWKS
 * loader and the metadata-server token source.
 *
 * Every request has a connect and a total timeout and a body size limit, so
 * a slow or hostile peer costs at most `timeout_ms` and `max_bytes`.
 * Redirects are not followed (a token or key set must come from the address
 * configured). Thread-safe: each call uses its own curl handle; the
 * process-wide curl initialisation happens once, behind pthread_once.
 * Blocking: call it from a thread that may wait `timeout_ms`.
 */
#ifndef WW_AUTH_HTTP_H
#define WW_AUTH_HTTP_H

#include "ww_err.h"

#include <stdatomic.h>
#include <stddef.h>

typedef struct ww_auth_http_request {
    const char *url; /* http:// or https:// only */
    const char *const
        *headers;        /* "Name: value" lines, NULL-terminated; may be NULL */
    long timeout_ms;     /* whole request, connect included; > 0 */
    size_t max_bytes;    /* larger bodies fail with RESOURCE_EXHAUSTED */
    const char *ca_file; /* PEM roots for https; NULL = system roots */
    int no_proxy; /* 1: never use a proxy (metadata server is link-local) */
    const atomic_int *cancel; /* NULL, or: non-zero abandons the request
                                 within about a second (UNAVAILABLE) */
} ww_auth_http_request_t;

typedef struct ww_auth_http_response {
    long status;    /* HTTP status code */
    char *body;     /* NUL-terminated, malloc'd; owned by the response */
    size_t len;     /* body bytes, without the NUL */
    long max_age_s; /* Cache-Control max-age; 0 for no-store/no-cache;
                       -1 when the response sets neither */
} ww_auth_http_response_t;

/* Performs the GET. On WW_OK *resp holds the status and body (any status;
 * the caller judges it) and must be released with ww_auth_http_response_free.
 * On failure *resp is empty and err says why: UNAVAILABLE (connect refused,
 * DNS, TLS), DEADLINE_EXCEEDED (timeout), RESOURCE_EXHAUSTED (too large),
 * INVALID_ARGUMENT (bad URL or scheme). */
ww_code_t ww_auth_http_get(const ww_auth_http_request_t *req,
                           ww_auth_http_response_t *resp, ww_err_t *err);

/* Frees the body; safe on an empty or already freed response. */
void ww_auth_http_response_free(ww_auth_http_response_t *resp);

#endif
