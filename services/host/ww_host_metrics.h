/*
 * ww_host_metrics.h - a service's Prometheus endpoint: the metrics registry
 * (ww_metrics.h) of the process, served over HTTP by libmicrohttpd on
 * WW_METRICS_ADDR (host:port; unset: no endpoint, no registry, nothing
 * measured).
 *
 * Only GET and HEAD of /metrics are answered (200, text format 0.0.4);
 * another path is 404, another method on /metrics 405 with `Allow`.
 * Scrapes are answered by a small pool of the library's threads, one
 * render at a time; they never touch a gRPC or Kafka thread.
 *
 * What it measures: gRPC calls and Kafka (ww_host_observe.h), the process
 * (process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds,
 * process_cpu_seconds_total), and what modules register on the registry
 * (the read model, the trainer's trainings). docs/operations.md lists them.
 *
 * One per process: ww_host_metrics_current() gives it to the modules that
 * add their own metrics (NULL when metrics are off).
 *
 * Threads: new/destroy on the main thread, before and after every other
 * user; the rest from any thread.
 */
#ifndef WW_HOST_METRICS_H
#define WW_HOST_METRICS_H

#include "ww_err.h"
#include "ww_metrics.h"
#include "ww_rpc_server.h"

typedef struct ww_host_metrics ww_host_metrics_t;

/* From the environment: WW_METRICS_ADDR unset or empty gives *out = NULL
 * and WW_OK (metrics off). Else binds it (port 0 picks a free one), starts
 * serving and installs the gRPC and Kafka observers. INVALID_ARGUMENT (not
 * host:port), UNAVAILABLE (cannot listen), RESOURCE_EXHAUSTED. `service`
 * ("trainer") names the log lines. */
ww_code_t ww_host_metrics_new(const char *service, ww_host_metrics_t **out,
                              ww_err_t *err);

/* The process's one instance, NULL when metrics are off. */
ww_host_metrics_t *ww_host_metrics_current(void);

ww_metrics_t *ww_host_metrics_registry(ww_host_metrics_t *m);

/* Sets the server's observer (the gRPC metrics). NULL m: nothing. */
void ww_host_metrics_apply(ww_host_metrics_t *m, ww_rpc_server_config_t *cfg);

/* The port the endpoint listens on. */
int ww_host_metrics_port(const ww_host_metrics_t *m);

/* Stops serving, uninstalls the observers, frees. NULL is a no-op. */
void ww_host_metrics_destroy(ww_host_metrics_t *m);

#endif
