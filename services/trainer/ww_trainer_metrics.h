/*
 * ww_trainer_metrics.h - the trainer's domain as metrics of the process's
 * registry (ww_host_metrics.h):
 *
 *   ww_trainings{status}                        trainings in the read model
 *                                               by status (PENDING,
 *                                               SCHEDULED, CANCELED,
 *                                               REJECTED), at scrape
 *   ww_trainings_oldest_pending_age_seconds     now minus the time of the
 *                                               TrainingScheduled of the
 *                                               oldest training still
 *                                               PENDING (0: none)
 *   ww_saga_completions_total{outcome}          sagas this instance saw end
 *                                               since it started: scheduled
 *                                               (TrainingConfirmed) or
 *                                               rejected (TrainingReleased)
 *
 * The read model's fold reports every fact it applied (ww_trainer_metrics
 * _fact), so pending trainings are known with the time of their fact; one
 * restored from a snapshot counts from the start of this process. Every
 * instance folds every fact, so each counts every completion: aggregate
 * instances with max, not sum. Completions replayed from before the start
 * are not counted.
 *
 * Threads: new/attach/detach/destroy on the main thread; _fact from the
 * model's thread; the collector on a scrape's.
 */
#ifndef WW_TRAINER_METRICS_H
#define WW_TRAINER_METRICS_H

#include "ww_err.h"
#include "ww_host_model.h"
#include "ww_metrics.h"
#include "ww_trainer_domain.h"

#include <stdint.h>

typedef struct ww_trainer_metrics ww_trainer_metrics_t;

/* Registers the families on `reg` (borrowed, must outlive the metrics).
 * RESOURCE_EXHAUSTED, INVALID_ARGUMENT. */
ww_code_t ww_trainer_metrics_new(ww_metrics_t *reg, ww_trainer_metrics_t **out,
                                 ww_err_t *err);

/* A fact the model applied, with its record's timestamp (ms since the
 * epoch). NULL tm: nothing. */
void ww_trainer_metrics_fact(ww_trainer_metrics_t *tm,
                             const ww_trainer_fact_t *f, int64_t ts_ms);

/* Starts counting the trainings of `model` at every scrape (borrowed:
 * detach before destroying it). RESOURCE_EXHAUSTED. */
ww_code_t ww_trainer_metrics_attach(ww_trainer_metrics_t *tm,
                                    ww_host_model_t *model, ww_err_t *err);
void ww_trainer_metrics_detach(ww_trainer_metrics_t *tm);

/* Frees (detached first). NULL is a no-op. */
void ww_trainer_metrics_destroy(ww_trainer_metrics_t *tm);

#endif
