/* ww_auth_token_source.c - metadata-server identity tokens for gRPC calls. */
#include "ww_auth_token_source.h"

#include "ww_auth_http.h"
#include "ww_auth_jwt.h"
#include "ww_clock.h"
#include "ww_cond.h"
#include "ww_env.h"
#include "ww_log.h"

#include <curl/curl.h>
#include <errno.h>
#include <grpc/support/alloc.h>
#include <grpc/support/string_util.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDENTITY_PATH                                                          \
    "/computeMetadata/v1/instance/service-accounts/default/identity"
/* A token this close to exp is no longer handed out at all. */
#define MIN_REMAINING_S 10

typedef struct pending {
    grpc_credentials_plugin_metadata_cb cb;
    void *user_data;
    struct pending *next;
} pending_t;

struct ww_auth_token_source {
    atomic_int refs;
    char *url;
    long timeout_ms, margin_s, retry_ms;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t idle;
    char *bearer; /* "Bearer <token>" or NULL */
    int64_t exp, refresh_at;
    int64_t fail_until_ms;
    ww_err_t last_err;
    int fetching;
    pending_t *pending;
    atomic_ulong fetches; /* read without the lock, as the verifier's stats */
};

static int64_t wall_s(void) {
    return (int64_t)time(NULL);
}

ww_code_t ww_auth_audience_for_target(const char *target, char *buf,
                                      size_t size, ww_err_t *err) {
    if (!target)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "no target to derive an audience from");
    const char *t = target;
    static const char *const schemes[] = {"dns:///", "dns:", "ipv4:", "ipv6:"};
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (!strncmp(t, schemes[i], strlen(schemes[i]))) {
            t += strlen(schemes[i]);
            break;
        }
    size_t n;
    if (*t == '[') {
        const char *close = strchr(t, ']');
        n = close ? (size_t)(close - t) + 1 : 0;
    } else {
        n = strcspn(t, ":/,");
    }
    if (n == 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "no host in target \"%.100s\"", target);
    if ((size_t)snprintf(buf, size, "https://%.*s", (int)n, t) >= size)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "target host too long");
    return WW_OK;
}

static int host_ok(const char *h) {
    if (!*h) return 0;
    for (; *h; h++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
                    "6789.-:[]",
                    *h))
            return 0;
    return 1;
}

ww_code_t ww_auth_token_source_new(const ww_auth_token_source_opts_t *opts,
                                   ww_auth_token_source_t **out,
                                   ww_err_t *err) {
    *out = NULL;
    char audience[512];
    if (opts->audience) {
        if ((size_t)snprintf(audience, sizeof audience, "%s", opts->audience) >=
            sizeof audience)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "audience too long");
    } else {
        ww_code_t rc = ww_auth_audience_for_target(opts->target, audience,
                                                   sizeof audience, err);
        if (rc != WW_OK) return rc;
    }
    const char *host =
        opts->metadata_host
            ? opts->metadata_host
            : ww_env_str("GCE_METADATA_HOST", "metadata.google.internal");
    if (!host_ok(host))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "metadata host \"%.100s\" is not a host[:port]",
                          host);
    char *escaped = curl_easy_escape(NULL, audience, 0);
    if (!escaped) return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    ww_auth_token_source_t *ts = calloc(1, sizeof *ts);
    size_t url_len = strlen(host) + strlen(escaped) +
                     sizeof "http://" IDENTITY_PATH "?audience=";
    if (ts) ts->url = malloc(url_len);
    if (!ts || !ts->url) {
        curl_free(escaped);
        free(ts);
        return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    }
    snprintf(ts->url, url_len, "http://%s" IDENTITY_PATH "?audience=%s", host,
             escaped);
    curl_free(escaped);
    atomic_init(&ts->refs, 1);
    atomic_init(&ts->fetches, 0);
    ts->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms
                                          : WW_AUTH_TOKEN_DEFAULT_TIMEOUT_MS;
    ts->margin_s = opts->refresh_margin_s > 0 ? opts->refresh_margin_s
                                              : WW_AUTH_TOKEN_DEFAULT_MARGIN_S;
    ts->retry_ms = opts->retry_after_ms > 0 ? opts->retry_after_ms
                                            : WW_AUTH_TOKEN_DEFAULT_RETRY_MS;
    pthread_mutex_init(&ts->mu, NULL);
    /* Waits for `idle` count on the monotonic clock: a stepped wall clock
     * must not stretch or cut them. */
    ww_cond_init_mono(&ts->idle);
    *out = ts;
    return WW_OK;
}

static ww_auth_token_source_t *ts_ref(ww_auth_token_source_t *ts) {
    atomic_fetch_add(&ts->refs, 1);
    return ts;
}

void ww_auth_token_source_release(ww_auth_token_source_t *ts) {
    if (!ts || atomic_fetch_sub(&ts->refs, 1) != 1) return;
    pthread_mutex_destroy(&ts->mu);
    pthread_cond_destroy(&ts->idle);
    free(ts->bearer);
    free(ts->url);
    free(ts);
}

/* Validates a metadata answer; on WW_OK *bearer is "Bearer <token>". */
static ww_code_t parse_answer(ww_auth_token_source_t *ts,
                              const ww_auth_http_response_t *resp,
                              char **bearer, int64_t *exp, ww_err_t *err) {
    if (resp->status != 200)
        return ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                    "metadata server answered HTTP %ld for %s",
                                    resp->status, ts->url);
    size_t len = resp->len;
    while (len && (resp->body[len - 1] == '\n' || resp->body[len - 1] == '\r' ||
                   resp->body[len - 1] == ' '))
        len--;
    ww_err_t why;
    if (ww_auth_jwt_peek_exp(resp->body, len, exp, &why) != WW_OK)
        return ww_err_set(err, WW_ERR_UNAUTHENTICATED,
                          "metadata server returned no identity token (%s)",
                          why.msg);
    if (*exp - MIN_REMAINING_S <= wall_s())
        return ww_err_set(err, WW_ERR_UNAUTHENTICATED,
                          "metadata server returned an expired identity token");
    *bearer = malloc(len + 8);
    if (!*bearer) return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    memcpy(*bearer, "Bearer ", 7);
    memcpy(*bearer + 7, resp->body, len);
    (*bearer)[len + 7] = '\0';
    return WW_OK;
}

static void complete(pending_t *list, const char *bearer,
                     const ww_err_t *failure) {
    while (list) {
        pending_t *next = list->next;
        if (bearer) {
            grpc_metadata md = {
                .key = grpc_slice_from_static_string("authorization"),
                .value = grpc_slice_from_copied_string(bearer)};
            list->cb(list->user_data, &md, 1, GRPC_STATUS_OK, NULL);
            grpc_slice_unref(md.value);
        } else {
            grpc_status_code st = failure->code == WW_ERR_UNAUTHENTICATED
                                      ? GRPC_STATUS_UNAUTHENTICATED
                                      : GRPC_STATUS_UNAVAILABLE;
            list->cb(list->user_data, NULL, 0, st, failure->msg);
        }
        free(list);
        list = next;
    }
}

static void *fetch_main(void *arg) {
    ww_auth_token_source_t *ts = arg;
    const char *headers[] = {"Metadata-Flavor: Google", NULL};
    ww_auth_http_request_t req = {.url = ts->url,
                                  .headers = headers,
                                  .timeout_ms = ts->timeout_ms,
                                  .max_bytes = WW_AUTH_TOKEN_MAX_BYTES,
                                  .no_proxy = 1};
    ww_auth_http_response_t resp;
    ww_err_t err = {0};
    char *bearer = NULL;
    int64_t exp = 0;
    ww_code_t rc = ww_auth_http_get(&req, &resp, &err);
    if (rc == WW_OK) {
        rc = parse_answer(ts, &resp, &bearer, &exp, &err);
        ww_auth_http_response_free(&resp);
    } else {
        ww_err_t inner = err;
        ww_err_set(&err, inner.code, "metadata server %s: %s",
                   inner.code == WW_ERR_DEADLINE_EXCEEDED ? "too slow"
                                                          : "unreachable",
                   inner.msg);
    }

    pthread_mutex_lock(&ts->mu);
    atomic_fetch_add(&ts->fetches, 1);
    if (rc == WW_OK) {
        free(ts->bearer);
        ts->bearer = bearer;
        ts->exp = exp;
        int64_t now = wall_s();
        /* Short-lived tokens are refreshed after half their remaining life. */
        ts->refresh_at = exp - ts->margin_s;
        if (ts->refresh_at < now + (exp - now) / 2)
            ts->refresh_at = now + (exp - now) / 2;
        ts->fail_until_ms = 0;
    } else {
        ts->last_err = err;
        ts->fail_until_ms = ww_clock_mono_ms() + ts->retry_ms;
        ww_log_warn("auth", "identity_token_fetch_failed error=\"%s\"",
                    err.msg);
    }
    /* Calls are completed outside the lock; calls arriving meanwhile are
     * answered synchronously from the state just set, and `fetching` stays
     * set until every queued call has had its answer. */
    for (;;) {
        pending_t *waiting = ts->pending;
        ts->pending = NULL;
        if (!waiting) break;
        char *copy = rc == WW_OK ? strdup(ts->bearer) : NULL;
        pthread_mutex_unlock(&ts->mu);
        ww_err_t failure = err;
        if (rc == WW_OK && !copy)
            ww_err_set(&failure, WW_ERR_INTERNAL, "out of memory");
        complete(waiting, copy, &failure);
        free(copy);
        pthread_mutex_lock(&ts->mu);
    }
    ts->fetching = 0;
    pthread_cond_broadcast(&ts->idle);
    pthread_mutex_unlock(&ts->mu);
    ww_auth_token_source_release(ts);
    return NULL;
}

/* With ts->mu held: starts a fetch thread unless one runs. 0 on failure. */
static int start_fetch_locked(ww_auth_token_source_t *ts) {
    if (ts->fetching) return 1;
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ts_ref(ts);
    int rc = pthread_create(&th, &attr, fetch_main, ts);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_fetch_sub(&ts->refs, 1); /* the caller still holds one */
        return 0;
    }
    ts->fetching = 1;
    return 1;
}

typedef enum { ANSWER_TOKEN, ANSWER_FAIL, ANSWER_WAIT } answer_t;

/* With ts->mu held: what a call can get right now. */
static answer_t answer_locked(ww_auth_token_source_t *ts) {
    int64_t now = wall_s();
    if (ts->bearer && now < ts->refresh_at) return ANSWER_TOKEN;
    int failing = ts->fail_until_ms && ww_clock_mono_ms() < ts->fail_until_ms;
    /* A failed background refresh must not fail calls while the token is
     * still valid: serve it, and try again once the retry window passed. */
    if (ts->bearer && now < ts->exp - MIN_REMAINING_S) {
        if (!failing) start_fetch_locked(ts);
        return ANSWER_TOKEN;
    }
    return failing ? ANSWER_FAIL : ANSWER_WAIT;
}

static int plugin_get_metadata(
    void *state, grpc_auth_metadata_context context,
    grpc_credentials_plugin_metadata_cb cb, void *user_data,
    grpc_metadata creds_md[GRPC_METADATA_CREDENTIALS_PLUGIN_SYNC_MAX],
    size_t *num_creds_md, grpc_status_code *status,
    const char **error_details) {
    (void)context;
    ww_auth_token_source_t *ts = state;
    pthread_mutex_lock(&ts->mu);
    answer_t a = answer_locked(ts);
    if (a == ANSWER_TOKEN) {
        creds_md[0].key = grpc_slice_from_static_string("authorization");
        creds_md[0].value = grpc_slice_from_copied_string(ts->bearer);
        *num_creds_md = 1;
        *status = GRPC_STATUS_OK;
        *error_details = NULL;
        pthread_mutex_unlock(&ts->mu);
        return 1;
    }
    pending_t *p = a == ANSWER_WAIT ? malloc(sizeof *p) : NULL;
    if (p && start_fetch_locked(ts)) {
        p->cb = cb;
        p->user_data = user_data;
        p->next = ts->pending;
        ts->pending = p;
        pthread_mutex_unlock(&ts->mu);
        return 0; /* fetch_main completes it from its own thread */
    }
    free(p);
    *num_creds_md = 0;
    if (a == ANSWER_FAIL) {
        *status = ts->last_err.code == WW_ERR_UNAUTHENTICATED
                      ? GRPC_STATUS_UNAUTHENTICATED
                      : GRPC_STATUS_UNAVAILABLE;
        *error_details = gpr_strdup(ts->last_err.msg);
    } else {
        *status = GRPC_STATUS_UNAVAILABLE;
        *error_details =
            gpr_strdup("identity token fetch could not be started");
    }
    pthread_mutex_unlock(&ts->mu);
    return 1;
}

static char *plugin_debug_string(void *state) {
    (void)state;
    return gpr_strdup("ww_auth_token_source(metadata server identity token)");
}

static void plugin_destroy(void *state) {
    ww_auth_token_source_release(state);
}

grpc_call_credentials *
ww_auth_token_source_call_credentials(ww_auth_token_source_t *ts) {
    grpc_metadata_credentials_plugin plugin = {
        .get_metadata = plugin_get_metadata,
        .debug_string = plugin_debug_string,
        .destroy = plugin_destroy,
        .state = ts_ref(ts),
        .type = "ww_auth_metadata_identity",
    };
    grpc_call_credentials *creds = grpc_metadata_credentials_create_from_plugin(
        plugin, GRPC_PRIVACY_AND_INTEGRITY, NULL);
    if (!creds) ww_auth_token_source_release(ts);
    return creds;
}

/* The monotonic instant `ms` from now, for waits on ts->idle. */
static struct timespec deadline_in(long ms) {
    return ww_clock_mono_deadline(ms > INT_MAX ? INT_MAX : (int)ms);
}

/* With ts->mu held: waits until no fetch is in flight or `deadline`
 * passes; 1 when idle. fetch_main broadcasts `idle` when it is done. */
static int wait_idle_locked(ww_auth_token_source_t *ts,
                            const struct timespec *deadline) {
    while (ts->fetching)
        if (pthread_cond_timedwait(&ts->idle, &ts->mu, deadline)) break;
    return !ts->fetching;
}

ww_code_t ww_auth_token_source_token(ww_auth_token_source_t *ts, char *buf,
                                     size_t size, ww_err_t *err) {
    ww_code_t rc = WW_OK;
    /* The fetch gives up after timeout_ms; a second more lets it say so. */
    struct timespec give_up = deadline_in(ts->timeout_ms + 1000);
    pthread_mutex_lock(&ts->mu);
    for (;;) {
        answer_t a = answer_locked(ts);
        if (a == ANSWER_TOKEN) {
            const char *token = ts->bearer + 7;
            if (strlen(token) >= size)
                rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                                "token buffer too small");
            else
                strcpy(buf, token);
            break;
        }
        if (a == ANSWER_FAIL) {
            rc = ww_err_set(err, ts->last_err.code, "%s", ts->last_err.msg);
            break;
        }
        if (!start_fetch_locked(ts)) {
            rc = ww_err_set(err, WW_ERR_UNAVAILABLE,
                            "identity token fetch could not be started");
            break;
        }
        if (!wait_idle_locked(ts, &give_up)) {
            rc = ww_err_set(err, WW_ERR_DEADLINE_EXCEEDED,
                            "identity token fetch did not finish in time");
            break;
        }
    }
    pthread_mutex_unlock(&ts->mu);
    return rc;
}

int ww_auth_token_source_wait_idle(ww_auth_token_source_t *ts,
                                   long timeout_ms) {
    struct timespec give_up = deadline_in(timeout_ms);
    pthread_mutex_lock(&ts->mu);
    int idle = wait_idle_locked(ts, &give_up);
    pthread_mutex_unlock(&ts->mu);
    return idle;
}

unsigned long ww_auth_token_source_fetch_count(ww_auth_token_source_t *ts) {
    return atomic_load(&ts->fetches);
}
