/*
 * ww_trainer_worker.h - what the trainer does with Kafka records, as the
 * operations of ww_host_service.h:
 *
 *   fold       trainer.events -> the read model's shards (a roster of
 *              trainers per partition): decode, apply, record the command
 *              position and idempotency key; an event that does not decode
 *              or does not apply is skipped and counted.
 *   decide     trainer.commands -> facts on trainer.events and one
 *              CommandResult on trainer.replies, over the partition's
 *              decision shard: ChangeHourCommand (the hour-only methods),
 *              ScheduleTrainingCommand, CancelTrainingCommand (the 24-hour
 *              rule at the command's issued_at), SettleTrainingCommand (the
 *              users' verdict). A repeated idempotency key answers the
 *              original result (duplicate); the same key with another
 *              request is INVALID_ARGUMENT. An undecodable command goes to
 *              trainer.commands.dlq, answered INVALID_ARGUMENT when its
 *              correlation id can be read.
 *   translate  users.events -> SettleTrainingCommand: a training debit
 *              (TrainingBalanceChanged with reason TRAINING_DEBIT) confirms,
 *              its refusal (TrainingBalanceRejected) releases; every other
 *              users fact is skipped.
 *
 * Threads: each operation runs on the thread its host module calls it
 * from; the registries are read-only after new.
 */
#ifndef WW_TRAINER_WORKER_H
#define WW_TRAINER_WORKER_H

#include "ww_err.h"
#include "ww_host_service.h"
#include "ww_trainer_metrics.h"

typedef struct ww_trainer_worker ww_trainer_worker_t;

ww_code_t ww_trainer_worker_new(ww_trainer_worker_t **out, ww_err_t *err);
void ww_trainer_worker_destroy(ww_trainer_worker_t *w);

/* The fold reports every fact it applied to `tm` (borrowed; NULL: none).
 * Before the service is built. */
void ww_trainer_worker_set_metrics(ww_trainer_worker_t *w,
                                   ww_trainer_metrics_t *tm);

/* The service configuration for ww_host_service_new: the three operations
 * with `w` as their context (w must outlive the service). */
ww_host_service_config_t ww_trainer_worker_service(ww_trainer_worker_t *w,
                                                   const ww_host_backbone_t *bb);

/* The trainer's ce_source. */
#define WW_TRAINER_SOURCE "/wildworkouts/trainer"

#endif
