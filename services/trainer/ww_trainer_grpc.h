/*
 * ww_trainer_grpc.h - the trainer's gRPC edge: trainer.TrainerService and
 * trainings.TrainingsService over the Kafka backbone.
 *
 * Reads answer from this instance's read model (ww_host_model.h), in
 * microseconds: IsHourAvailable, GetTraining. A training this instance
 * does not know yet may have been booked through another one a moment ago:
 * GetTraining (and CancelTraining, which must find the training's trainer)
 * then wait, bounded by the call's deadline, until the model has caught up
 * with the events as of the call, and only then answer NOT_FOUND.
 *
 * Writes become commands on trainer.commands (ww_host_write.h): UpdateHour
 * and the later hour methods, ScheduleTraining, CancelTraining. The call
 * completes once the command's owner decided it and this instance's model
 * holds the facts (read-your-writes). No handler ever blocks on Kafka.
 *
 * The trainer id: one configured trainer today (WW_TRAINER_ID), the key of
 * its commands and facts; the hour methods and ScheduleTraining act on it.
 * Nothing else assumes there is only one: CancelTraining and GetTraining
 * find a training under whichever trainer holds it.
 *
 * Threads: handlers run on the server's queue threads and return at once;
 * calls complete later on bus threads. The adapter must outlive the server.
 */
#ifndef WW_TRAINER_GRPC_H
#define WW_TRAINER_GRPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "ww_err.h"
#include "ww_host_commands.h"
#include "ww_host_model.h"

typedef struct ww_trainer_grpc ww_trainer_grpc_t;

/* The default of WW_TRAINER_ID. */
#define WW_TRAINER_DEFAULT_ID "trainer-1"

/* An adapter for `trainer_id` (copied). INVALID_ARGUMENT for a bad id. */
ww_code_t ww_trainer_grpc_new(const char *trainer_id, ww_trainer_grpc_t **out,
                              ww_err_t *err);

/* Gives the adapter its read model and commands client (borrowed: they
 * must outlive its calls). Before the server starts. */
void ww_trainer_grpc_attach(ww_trainer_grpc_t *g, ww_host_model_t *model,
                            ww_host_commands_t *commands);
void ww_trainer_grpc_destroy(ww_trainer_grpc_t *g);

/* The generated services to add to a server (owned by the adapter). */
ProtobufCService *ww_trainer_grpc_trainer_service(ww_trainer_grpc_t *g);
ProtobufCService *ww_trainer_grpc_trainings_service(ww_trainer_grpc_t *g);

/* Authorization: the runtime applies the role table (ww_host_authz.h)
 * before any handler; CancelTraining and GetTraining add its one check that
 * needs state: a `user` caller touching another user's training gets
 * PERMISSION_DENIED before any command is written or any field answered,
 * and a user's cancel of a training this instance cannot find is NOT_FOUND
 * (never forwarded unchecked). */

#endif
