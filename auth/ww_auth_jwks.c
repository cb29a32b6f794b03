/* ww_auth_jwks.c - JWKS source, cache and background refresh. */
#include "ww_auth_jwks.h"

#include "ww_auth_http.h"
#include "ww_clock.h"
#include "ww_cond.h"
#include "ww_log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ww_auth_jwks {
    char *source;
    char *ca_file;
    long refresh_ms, timeout_ms, ttl_ms;
    pthread_mutex_t mu;    /* guards everything below but the atomics */
    pthread_cond_t wake;   /* the refresh thread: a request or stop */
    pthread_cond_t loaded; /* waiters: a load attempt finished */
    ww_auth_keyset_t *current;
    long current_ttl_ms;       /* of `current` */
    long long last_attempt_ms; /* start of the newest load attempt */
    long long next_refresh_ms; /* when the thread refreshes on its own */
    int requested, refreshing;
    unsigned long finished; /* load attempts done */
    pthread_t thread;
    int started;
    atomic_int stop;    /* also cancels an HTTP fetch in flight */
    atomic_ulong loads; /* read without the lock, as the verifier's stats */
    _Atomic uint64_t generation; /* a key was removed or replaced */
};

static ww_code_t read_file(const char *path, char **buf, size_t *len,
                           ww_err_t *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return ww_err_set(err, WW_ERR_UNAVAILABLE, "JWKS %s: %s", path,
                          strerror(errno));
    char *b = malloc(WW_AUTH_JWKS_MAX_BYTES + 1);
    size_t n = b ? fread(b, 1, WW_AUTH_JWKS_MAX_BYTES + 1, f) : 0;
    int bad = !b || ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return ww_err_set(err, WW_ERR_UNAVAILABLE, "JWKS %s: read failed",
                          path);
    }
    if (n > WW_AUTH_JWKS_MAX_BYTES) {
        free(b);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "JWKS %s: larger than %d bytes", path,
                          WW_AUTH_JWKS_MAX_BYTES);
    }
    *buf = b;
    *len = n;
    return WW_OK;
}

/* *max_age_s: the response's Cache-Control max-age, -1 without one. */
static ww_code_t fetch(ww_auth_jwks_t *j, char **buf, size_t *len,
                       long *max_age_s, ww_err_t *err) {
    *max_age_s = -1;
    if (strncmp(j->source, "https://", 8) != 0)
        return read_file(j->source, buf, len, err);
    ww_auth_http_request_t req = {.url = j->source,
                                  .timeout_ms = j->timeout_ms,
                                  .max_bytes = WW_AUTH_JWKS_MAX_BYTES,
                                  .ca_file = j->ca_file,
                                  .cancel = &j->stop};
    ww_auth_http_response_t resp;
    ww_code_t rc = ww_auth_http_get(&req, &resp, err);
    if (rc != WW_OK) return rc;
    if (resp.status != 200) {
        ww_auth_http_response_free(&resp);
        return ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                    "JWKS %s: HTTP %ld", j->source,
                                    resp.status);
    }
    *buf = resp.body;
    *len = resp.len;
    *max_age_s = resp.max_age_s;
    return WW_OK;
}

/* The TTL a set fetched with this max-age gets: the configured TTL, or a
 * shorter max-age, but never below the refresh interval (a max-age of 0
 * must not become a fetch loop). */
static long ttl_for(const ww_auth_jwks_t *j, long max_age_s) {
    long ttl = j->ttl_ms;
    if (max_age_s >= 0 && max_age_s < ttl / 1000) ttl = max_age_s * 1000;
    return ttl < j->refresh_ms ? j->refresh_ms : ttl;
}

/* Fetches and parses; on WW_OK *set is a new reference and *ttl_ms its
 * TTL. Marks the attempt's start in last_attempt_ms. */
static ww_code_t load(ww_auth_jwks_t *j, ww_auth_keyset_t **set, long *ttl_ms,
                      ww_err_t *err) {
    char *buf = NULL;
    size_t len = 0;
    long max_age_s = -1;
    atomic_fetch_add(&j->loads, 1);
    pthread_mutex_lock(&j->mu);
    j->last_attempt_ms = ww_clock_mono_ms();
    pthread_mutex_unlock(&j->mu);
    ww_code_t rc = fetch(j, &buf, &len, &max_age_s, err);
    if (rc != WW_OK) return rc;
    *ttl_ms = ttl_for(j, max_age_s);
    ww_err_t perr;
    rc = ww_auth_keyset_parse(buf, len, set, &perr);
    free(buf);
    if (rc != WW_OK)
        return ww_err_set(err, rc, "JWKS %s: %s", j->source, perr.msg);
    if (ww_auth_keyset_count(*set) == 0) {
        ww_auth_keyset_unref(*set);
        *set = NULL;
        return ww_err_set(
            err, WW_ERR_INVALID_ARGUMENT,
            "JWKS %s: no usable key (RSA >= 2048 bits or EC P-256, use=sig)",
            j->source);
    }
    return WW_OK;
}

/* The refresh thread: waits for the TTL or a request, loads, swaps. */
static void *refresh_main(void *arg) {
    ww_auth_jwks_t *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!atomic_load(&j->stop) && !j->requested &&
               ww_clock_mono_ms() < j->next_refresh_ms) {
            long long left = j->next_refresh_ms - ww_clock_mono_ms();
            /* The loop looks again after a wake-up, so a minute is enough. */
            struct timespec until =
                ww_clock_mono_deadline(left > 60000 ? 60000 : (int)left);
            pthread_cond_timedwait(&j->wake, &j->mu, &until);
        }
        if (atomic_load(&j->stop)) break;
        const char *reason = j->requested ? "unknown_kid" : "ttl";
        j->requested = 0;
        j->refreshing = 1;
        pthread_mutex_unlock(&j->mu);

        ww_auth_keyset_t *fresh = NULL;
        long ttl = 0;
        ww_err_t lerr = {0};
        ww_code_t rc = load(j, &fresh, &ttl, &lerr);
        pthread_mutex_lock(&j->mu);
        ww_auth_keyset_t *old = NULL;
        if (rc == WW_OK) {
            old = j->current;
            /* Before the swap is visible: a token verified with the new set
             * must not be stamped with the old generation. */
            if (!ww_auth_keyset_keeps(old, fresh))
                atomic_fetch_add(&j->generation, 1);
            j->current = fresh;
            j->current_ttl_ms = ttl;
            j->next_refresh_ms = j->last_attempt_ms + ttl;
        } else {
            /* Keep the set; try again after the refresh interval. */
            j->next_refresh_ms = j->last_attempt_ms + j->refresh_ms;
        }
        j->refreshing = 0;
        j->finished++;
        pthread_cond_broadcast(&j->loaded);
        pthread_mutex_unlock(&j->mu);
        if (rc == WW_OK)
            ww_log_info("auth",
                        "jwks_reloaded source=%s keys=%zu ttl_ms=%ld reason=%s",
                        j->source, ww_auth_keyset_count(fresh), ttl, reason);
        else if (!atomic_load(&j->stop))
            ww_log_warn("auth",
                        "jwks_reload_failed source=%s reason=%s error=\"%s\"",
                        j->source, reason, lerr.msg);
        ww_auth_keyset_unref(old);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

ww_code_t ww_auth_jwks_new(const ww_auth_jwks_opts_t *opts,
                           ww_auth_jwks_t **out, ww_err_t *err) {
    *out = NULL;
    if (!opts->source || !*opts->source)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "JWKS source is empty");
    if (!strncmp(opts->source, "http://", 7))
        return ww_err_set(
            err, WW_ERR_INVALID_ARGUMENT,
            "JWKS %s: plain http is refused, keys must come over https",
            opts->source);
    ww_auth_jwks_t *j = calloc(1, sizeof *j);
    if (!j) return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    j->source = strdup(opts->source);
    j->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
    j->refresh_ms = opts->refresh_interval_ms > 0
                        ? opts->refresh_interval_ms
                        : WW_AUTH_JWKS_DEFAULT_REFRESH_MS;
    j->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms
                                         : WW_AUTH_JWKS_DEFAULT_TIMEOUT_MS;
    j->ttl_ms = opts->ttl_ms > 0 ? opts->ttl_ms : WW_AUTH_JWKS_DEFAULT_TTL_MS;
    if (j->ttl_ms < j->refresh_ms) j->ttl_ms = j->refresh_ms;
    pthread_mutex_init(&j->mu, NULL);
    ww_cond_init_mono(&j->wake);
    ww_cond_init_mono(&j->loaded);
    atomic_init(&j->loads, 0);
    atomic_init(&j->stop, 0);
    atomic_init(&j->generation, 0);
    ww_code_t rc = (!j->source || (opts->ca_file && !j->ca_file))
                       ? ww_err_set(err, WW_ERR_INTERNAL, "out of memory")
                       : load(j, &j->current, &j->current_ttl_ms, err);
    if (rc == WW_OK) {
        j->finished = 1;
        j->next_refresh_ms = j->last_attempt_ms + j->current_ttl_ms;
        if (pthread_create(&j->thread, NULL, refresh_main, j) != 0)
            rc = ww_err_set(err, WW_ERR_INTERNAL,
                            "JWKS %s: cannot start the refresh thread",
                            j->source);
        else
            j->started = 1;
    }
    if (rc != WW_OK) {
        ww_auth_jwks_destroy(j);
        return rc;
    }
    ww_log_info("auth", "jwks_loaded source=%s keys=%zu ttl_ms=%ld", j->source,
                ww_auth_keyset_count(j->current), j->current_ttl_ms);
    *out = j;
    return WW_OK;
}

void ww_auth_jwks_destroy(ww_auth_jwks_t *j) {
    if (!j) return;
    if (j->started) {
        pthread_mutex_lock(&j->mu);
        atomic_store(&j->stop, 1);
        pthread_cond_signal(&j->wake);
        pthread_mutex_unlock(&j->mu);
        pthread_join(j->thread, NULL);
    }
    ww_auth_keyset_unref(j->current);
    pthread_cond_destroy(&j->wake);
    pthread_cond_destroy(&j->loaded);
    pthread_mutex_destroy(&j->mu);
    free(j->source);
    free(j->ca_file);
    free(j);
}

ww_code_t ww_auth_jwks_keys(void *ctx, const char *kid, ww_auth_keyset_t **set,
                            ww_err_t *err) {
    (void)err;
    ww_auth_jwks_t *j = ctx;
    pthread_mutex_lock(&j->mu);
    ww_auth_keyset_t *s = ww_auth_keyset_ref(j->current);
    /* An unknown kid asks for a refresh and fails now with this set: the
     * caller (a completion-queue thread) never waits for the fetch. */
    if (kid && !ww_auth_keyset_find(s, kid) && !j->refreshing &&
        !j->requested &&
        ww_clock_mono_ms() - j->last_attempt_ms >= j->refresh_ms) {
        j->requested = 1;
        pthread_cond_signal(&j->wake);
    }
    pthread_mutex_unlock(&j->mu);
    *set = s;
    return WW_OK;
}

unsigned long ww_auth_jwks_load_count(ww_auth_jwks_t *j) {
    return atomic_load(&j->loads);
}

int ww_auth_jwks_wait_loads(ww_auth_jwks_t *j, unsigned long n,
                            long timeout_ms) {
    struct timespec until = ww_clock_mono_deadline(
        timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
    pthread_mutex_lock(&j->mu);
    while (j->finished < n)
        if (pthread_cond_timedwait(&j->loaded, &j->mu, &until)) break;
    int ok = j->finished >= n;
    pthread_mutex_unlock(&j->mu);
    return ok;
}

uint64_t ww_auth_jwks_generation(ww_auth_jwks_t *j) {
    return atomic_load(&j->generation);
}

long ww_auth_jwks_ttl_ms(ww_auth_jwks_t *j) {
    pthread_mutex_lock(&j->mu);
    long ttl = j->current_ttl_ms;
    pthread_mutex_unlock(&j->mu);
    return ttl;
}
