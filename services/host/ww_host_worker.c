/* ww_host_worker.c - a processor's run loop in its own thread. */
#include "ww_host_worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ww_log.h"

struct ww_host_worker {
    ww_bus_processor_t *p;
    char name[64];
    ww_host_worker_exit_fn on_exit;
    void *ctx;
    pthread_t thread;
    atomic_bool stopping;
    ww_code_t rc;
    ww_err_t err;
};

static void *worker_main(void *arg) {
    ww_host_worker_t *w = arg;
    w->rc = ww_bus_processor_run(w->p, &w->err);
    if (!atomic_load(&w->stopping)) {
        ww_log_error("worker", "event=worker_ended worker=%s code=%s msg=\"%s\"",
                     w->name, ww_code_name(w->rc), w->err.msg);
        if (w->on_exit) w->on_exit(w->ctx, w->name, w->rc, &w->err);
    }
    return NULL;
}

ww_code_t ww_host_worker_start(ww_bus_processor_t *p, const char *name,
                               ww_host_worker_exit_fn on_exit, void *ctx,
                               ww_host_worker_t **out, ww_err_t *err) {
    ww_host_worker_t *w = calloc(1, sizeof *w);
    if (!w) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    w->p = p;
    snprintf(w->name, sizeof w->name, "%s", name);
    w->on_exit = on_exit;
    w->ctx = ctx;
    atomic_init(&w->stopping, false);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        free(w);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "cannot start the %s thread", name);
    }
    *out = w;
    return WW_OK;
}

ww_code_t ww_host_worker_stop(ww_host_worker_t *w, ww_err_t *err) {
    if (!w) return WW_OK;
    atomic_store(&w->stopping, true);
    ww_bus_processor_stop(w->p);
    pthread_join(w->thread, NULL);
    ww_code_t rc = w->rc;
    if (rc != WW_OK && err) *err = w->err;
    free(w);
    return rc;
}
