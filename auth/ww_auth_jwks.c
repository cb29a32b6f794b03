/* ww_auth_jwks.c - JWKS source, cache and rate-limited reload. */
#include "ww_auth_jwks.h"

#include "ww_auth_http.h"
#include "ww_clock.h"
#include "ww_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ww_auth_jwks {
    char *source;
    char *ca_file;
    long refresh_ms, timeout_ms;
    pthread_mutex_t mu;        /* guards `current` and last_attempt_ms */
    pthread_mutex_t reload_mu; /* one reload at a time */
    ww_auth_keyset_t *current;
    long long last_attempt_ms;
    atomic_ulong loads; /* read without the lock, as the verifier's stats */
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

static ww_code_t fetch(const ww_auth_jwks_t *j, char **buf, size_t *len,
                       ww_err_t *err) {
    if (strncmp(j->source, "https://", 8) != 0)
        return read_file(j->source, buf, len, err);
    ww_auth_http_request_t req = {.url = j->source,
                                  .timeout_ms = j->timeout_ms,
                                  .max_bytes = WW_AUTH_JWKS_MAX_BYTES,
                                  .ca_file = j->ca_file};
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
    return WW_OK;
}

/* Fetches and parses; on WW_OK *set is a new reference. */
static ww_code_t load(ww_auth_jwks_t *j, ww_auth_keyset_t **set,
                      ww_err_t *err) {
    char *buf = NULL;
    size_t len = 0;
    atomic_fetch_add(&j->loads, 1);
    pthread_mutex_lock(&j->mu);
    j->last_attempt_ms = ww_clock_mono_ms();
    pthread_mutex_unlock(&j->mu);
    ww_code_t rc = fetch(j, &buf, &len, err);
    if (rc != WW_OK) return rc;
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
    pthread_mutex_init(&j->mu, NULL);
    pthread_mutex_init(&j->reload_mu, NULL);
    atomic_init(&j->loads, 0);
    ww_code_t rc = (!j->source || (opts->ca_file && !j->ca_file))
                       ? ww_err_set(err, WW_ERR_INTERNAL, "out of memory")
                       : load(j, &j->current, err);
    if (rc != WW_OK) {
        ww_auth_jwks_destroy(j);
        return rc;
    }
    ww_log_info("auth", "jwks_loaded source=%s keys=%zu", j->source,
                ww_auth_keyset_count(j->current));
    *out = j;
    return WW_OK;
}

void ww_auth_jwks_destroy(ww_auth_jwks_t *j) {
    if (!j) return;
    ww_auth_keyset_unref(j->current);
    pthread_mutex_destroy(&j->mu);
    pthread_mutex_destroy(&j->reload_mu);
    free(j->source);
    free(j->ca_file);
    free(j);
}

static ww_auth_keyset_t *current_ref(ww_auth_jwks_t *j) {
    pthread_mutex_lock(&j->mu);
    ww_auth_keyset_t *s = ww_auth_keyset_ref(j->current);
    pthread_mutex_unlock(&j->mu);
    return s;
}

ww_code_t ww_auth_jwks_keys(void *ctx, const char *kid, ww_auth_keyset_t **set,
                            ww_err_t *err) {
    (void)err;
    ww_auth_jwks_t *j = ctx;
    ww_auth_keyset_t *s = current_ref(j);
    if (!kid || ww_auth_keyset_find(s, kid)) {
        *set = s;
        return WW_OK;
    }
    ww_auth_keyset_unref(s);

    pthread_mutex_lock(&j->reload_mu);
    s = current_ref(j);
    pthread_mutex_lock(&j->mu);
    long long since = ww_clock_mono_ms() - j->last_attempt_ms;
    pthread_mutex_unlock(&j->mu);
    /* Another thread may have reloaded while this one waited. */
    if (!ww_auth_keyset_find(s, kid) && since >= j->refresh_ms) {
        ww_auth_keyset_t *fresh = NULL;
        ww_err_t lerr;
        if (load(j, &fresh, &lerr) == WW_OK) {
            pthread_mutex_lock(&j->mu);
            ww_auth_keyset_t *old = j->current;
            j->current = fresh;
            pthread_mutex_unlock(&j->mu);
            ww_auth_keyset_unref(old);
            ww_auth_keyset_unref(s);
            s = current_ref(j);
            ww_log_info("auth",
                        "jwks_reloaded source=%s keys=%zu reason=unknown_kid",
                        j->source, ww_auth_keyset_count(s));
        } else {
            ww_log_warn("auth", "jwks_reload_failed source=%s error=\"%s\"",
                        j->source, lerr.msg);
        }
    }
    pthread_mutex_unlock(&j->reload_mu);
    *set = s;
    return WW_OK;
}

unsigned long ww_auth_jwks_load_count(ww_auth_jwks_t *j) {
    return atomic_load(&j->loads);
}
