/* ww_auth_http.c - bounded GET over libcurl. */
#include "ww_auth_http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe in every build; run it once. It is
 * never undone: other threads may still use curl at exit. */
static void http_global_init(void) {
    http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct http_sink {
    char *buf;
    size_t len, cap, max;
    int too_large;
} http_sink_t;

static size_t http_write(char *data, size_t size, size_t nmemb, void *userp) {
    http_sink_t *s = userp;
    size_t n = size * nmemb;
    if (s->len + n > s->max) {
        s->too_large = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

/* Cache-Control (RFC 9111 §5.2): the smallest max-age, 0 for no-store or
 * no-cache; other directives are ignored. `line` is one raw header line. */
static void cache_control(const char *line, size_t n, long *max_age) {
    static const char name[] = "cache-control:";
    if (n < sizeof name - 1 || strncasecmp(line, name, sizeof name - 1)) return;
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    size_t i = sizeof name - 1;
    while (i < n) {
        while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == ','))
            i++;
        size_t start = i;
        while (i < n && line[i] != ',')
            i++;
        size_t len = i - start;
        const char *d = line + start;
        long v = -1;
        if (len >= 8 && !strncasecmp(d, "max-age=", 8)) {
            v = 0;
            size_t k = 8;
            if (k < len && d[k] == '"') k++;
            if (k >= len || !isdigit((unsigned char)d[k])) continue;
            for (; k < len && isdigit((unsigned char)d[k]); k++)
                v = v > 100000000 ? v : v * 10 + (d[k] - '0');
        } else if ((len == 8 && !strncasecmp(d, "no-store", 8)) ||
                   (len == 8 && !strncasecmp(d, "no-cache", 8))) {
            v = 0;
        }
        if (v >= 0 && (*max_age < 0 || v < *max_age)) *max_age = v;
    }
}

static size_t http_header(char *data, size_t size, size_t nmemb, void *userp) {
    cache_control(data, size * nmemb, userp);
    return size * nmemb;
}

static int http_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow,
                         curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load((const atomic_int *)userp) != 0;
}

ww_code_t ww_auth_http_get(const ww_auth_http_request_t *req,
                           ww_auth_http_response_t *resp, ww_err_t *err) {
    memset(resp, 0, sizeof *resp);
    if (!req->url ||
        (strncmp(req->url, "http://", 7) && strncmp(req->url, "https://", 8)))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "only http:// and https:// URLs are supported");
    pthread_once(&http_once, http_global_init);
    if (http_init_rc != CURLE_OK)
        return ww_err_set(err, WW_ERR_INTERNAL, "curl_global_init: %s",
                          curl_easy_strerror(http_init_rc));

    CURL *c = curl_easy_init();
    if (!c) return ww_err_set(err, WW_ERR_INTERNAL, "curl_easy_init failed");
    struct curl_slist *hdrs = NULL;
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *n = curl_slist_append(hdrs, *h);
        if (!n) {
            curl_slist_free_all(hdrs);
            curl_easy_cleanup(c);
            return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
        }
        hdrs = n;
    }
    http_sink_t sink = {.max = req->max_bytes};
    long max_age = -1;
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    /* Threads: no SIGALRM for DNS timeouts. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    if (req->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
    if (req->no_proxy) curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &max_age);
    if (req->cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)req->cancel);
    }

    CURLcode rc = curl_easy_perform(c);
    ww_code_t code = WW_OK;
    if (rc != CURLE_OK) {
        const char *why = curl_err[0] ? curl_err : curl_easy_strerror(rc);
        if (sink.too_large)
            code = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                              "response from %s larger than %zu bytes",
                              req->url, req->max_bytes);
        else if (rc == CURLE_ABORTED_BY_CALLBACK)
            code =
                ww_err_set(err, WW_ERR_UNAVAILABLE, "%s: cancelled", req->url);
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            code = ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                        "%s: no answer within %ld ms (%s)",
                                        req->url, req->timeout_ms, why);
        else
            code = ww_err_set_retriable(err, WW_ERR_UNAVAILABLE, "%s: %s",
                                        req->url, why);
        free(sink.buf);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
        if (!sink.buf) sink.buf = calloc(1, 1);
        if (!sink.buf) {
            code = ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
        } else {
            resp->body = sink.buf;
            resp->len = sink.len;
            resp->max_age_s = max_age;
        }
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return code;
}

void ww_auth_http_response_free(ww_auth_http_response_t *resp) {
    if (!resp) return;
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}
