/*
 * ww_users_worker.h - what users does with Kafka records, as the
 * operations of ww_host_service.h:
 *
 *   fold       users.events -> the read model's shards (the balances of the
 *              partition's users); an event that does not decode or does
 *              not apply is skipped and counted.
 *   decide     users.commands -> facts on users.events and one
 *              CommandResult on users.replies: ChangeBalanceCommand
 *              (UpdateTrainingBalance; never below 0), DebitTrainingCommand
 *              (one credit per training, or its refusal), RefundTraining-
 *              Command (once, only for a debited training). Repeated
 *              idempotency keys answer the original result; an undecodable
 *              command goes to users.commands.dlq.
 *   translate  trainer.events -> users.commands: TrainingScheduled becomes
 *              a debit, TrainingCanceled with a refund becomes a refund;
 *              every other trainer fact is skipped.
 *
 * Threads: each operation runs on the thread its host module calls it
 * from; the registries are read-only after new.
 */
#ifndef WW_USERS_WORKER_H
#define WW_USERS_WORKER_H

#include "ww_err.h"
#include "ww_host_service.h"

typedef struct ww_users_worker ww_users_worker_t;

ww_code_t ww_users_worker_new(ww_users_worker_t **out, ww_err_t *err);
void ww_users_worker_destroy(ww_users_worker_t *w);

/* The service configuration for ww_host_service_new (w must outlive the
 * service). */
ww_host_service_config_t ww_users_worker_service(ww_users_worker_t *w,
                                                 const ww_host_backbone_t *bb);

#define WW_USERS_SOURCE "/wildworkouts/users"

#endif
