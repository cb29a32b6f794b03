/*
 * ww_host_model_metrics.h - how far a read model (ww_host_model.h) is, as
 * metrics of the process's registry, per partition of its events topic:
 *
 *   ww_read_model_applied_offset{topic,partition}  the next offset the model
 *                                          handles (every record before it
 *                                          was applied or skipped)
 *   ww_read_model_lag{topic,partition}     committed records not handled
 *                                          yet: the partition's end (last
 *                                          stable offset) minus the offset;
 *                                          0 once caught up
 *   ww_read_model_records_total{topic,outcome}  applied | skipped
 *
 * Read at each scrape; the ends are asked from the broker at most once a
 * second (one round trip, on the scrape's thread), so the lag may trail a
 * write of the last second.
 *
 * Threads: attach/detach on the main thread; the model must outlive the
 * attachment (detach before destroying it).
 */
#ifndef WW_HOST_MODEL_METRICS_H
#define WW_HOST_MODEL_METRICS_H

#include "ww_err.h"
#include "ww_host_model.h"
#include "ww_metrics.h"

typedef struct ww_host_model_metrics ww_host_model_metrics_t;

/* Registers the families and a collector on `reg` for `model` (its events
 * topic `topic`, copied). RESOURCE_EXHAUSTED, INVALID_ARGUMENT. */
ww_code_t ww_host_model_metrics_attach(ww_metrics_t *reg,
                                       ww_host_model_t *model,
                                       const char *topic,
                                       ww_host_model_metrics_t **out,
                                       ww_err_t *err);

/* Removes the collector (waiting for a scrape in progress) and frees.
 * NULL is a no-op. */
void ww_host_model_metrics_detach(ww_host_model_metrics_t *mm);

#endif
