/*
 * ww_host_worker.h - runs one processor (ww_bus_processor.h) in a thread of
 * its own for the life of a service: a partition owner or a translator.
 *
 * When the processor ends by itself (fenced by a newer instance, a fatal
 * broker error), `on_exit` says so from the worker's thread, so the service
 * can stop instead of serving without its worker. A stop asked by
 * ww_host_worker_stop does not call it.
 *
 * Threads: start/stop/destroy from one thread (main).
 */
#ifndef WW_HOST_WORKER_H
#define WW_HOST_WORKER_H

#include "ww_bus_processor.h"
#include "ww_err.h"

typedef struct ww_host_worker ww_host_worker_t;

typedef void (*ww_host_worker_exit_fn)(void *ctx, const char *name,
                                       ww_code_t code, const ww_err_t *err);

/* Starts `p` (borrowed: it must outlive the worker) in a new thread named
 * `name` in logs. */
ww_code_t ww_host_worker_start(ww_bus_processor_t *p, const char *name,
                               ww_host_worker_exit_fn on_exit, void *ctx,
                               ww_host_worker_t **out, ww_err_t *err);

/* Asks the processor to stop (its current batch commits first) and joins
 * the thread; returns how the run ended. NULL is WW_OK. */
ww_code_t ww_host_worker_stop(ww_host_worker_t *w, ww_err_t *err);

#endif
