/* ww_host_gate.c - NOT_SERVING and UNAVAILABLE until the service is ready,
 * then SERVING. */
#include "ww_host_gate.h"

#include "ww_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct ww_host_gate {
    char name[32];
    atomic_bool open;
    pthread_mutex_t mu; /* guards server and progress */
    ww_rpc_server_t *server;
    char progress[201];
};

static ww_code_t admit(void *ctx, const char *method, ww_err_t *err) {
    (void)method;
    ww_host_gate_t *g = ctx;
    if (atomic_load_explicit(&g->open, memory_order_acquire)) return WW_OK;
    pthread_mutex_lock(&g->mu);
    ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                         "%s is catching up (%s): not serving yet, retry "
                         "shortly",
                         g->name, g->progress);
    pthread_mutex_unlock(&g->mu);
    return WW_ERR_UNAVAILABLE;
}

ww_code_t ww_host_gate_new(const char *name, ww_host_gate_t **out,
                           ww_err_t *err) {
    *out = NULL;
    ww_host_gate_t *g = calloc(1, sizeof *g);
    if (!g) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(g->name, sizeof g->name, "%s", name ? name : "service");
    snprintf(g->progress, sizeof g->progress, "starting");
    atomic_init(&g->open, false);
    pthread_mutex_init(&g->mu, NULL);
    *out = g;
    return WW_OK;
}

void ww_host_gate_apply(ww_host_gate_t *g, ww_rpc_server_config_t *cfg) {
    cfg->start_not_serving = true;
    cfg->admit = admit;
    cfg->admit_ctx = g;
}

/* With g->mu held. */
static void serve(ww_host_gate_t *g) {
    ww_err_t err;
    if (g->server && ww_rpc_server_set_serving(g->server, WW_RPC_HEALTH_SERVING,
                                               &err) != WW_OK)
        ww_log_error(g->name, "event=health_not_set msg=\"%s\"", err.msg);
}

void ww_host_gate_attach(ww_host_gate_t *g, ww_rpc_server_t *server) {
    pthread_mutex_lock(&g->mu);
    g->server = server;
    if (atomic_load(&g->open)) serve(g);
    pthread_mutex_unlock(&g->mu);
}

void ww_host_gate_progress(ww_host_gate_t *g, const char *fmt, ...) {
    char buf[sizeof g->progress];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&g->mu);
    snprintf(g->progress, sizeof g->progress, "%s", buf);
    pthread_mutex_unlock(&g->mu);
}

void ww_host_gate_open(ww_host_gate_t *g) {
    pthread_mutex_lock(&g->mu);
    bool was = atomic_exchange_explicit(&g->open, true, memory_order_acq_rel);
    if (!was) serve(g);
    pthread_mutex_unlock(&g->mu);
    if (!was) ww_log_info(g->name, "event=serving");
}

bool ww_host_gate_is_open(ww_host_gate_t *g) {
    return atomic_load_explicit(&g->open, memory_order_acquire);
}

void ww_host_gate_detach(ww_host_gate_t *g) {
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->server = NULL;
    pthread_mutex_unlock(&g->mu);
}

void ww_host_gate_destroy(ww_host_gate_t *g) {
    if (!g) return;
    pthread_mutex_destroy(&g->mu);
    free(g);
}
