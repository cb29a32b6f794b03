/*
 * ww_trainer_grpc.h - the trainer's gRPC adapter: trainer.TrainerService and
 * trainings.TrainingsService over the in-memory trainer domain
 * (ww_trainer_domain.h). It converts messages to domain calls and domain
 * results to statuses; every rule lives in the domain.
 *
 * State: one ww_trainer_state_t owned by the adapter, guarded by a
 * reader-writer lock (reads share it, writes are serialised); the event
 * store replaces it later behind the same handlers.
 *
 * Threads: handlers run on the server's queue threads and complete before
 * they return. The adapter must outlive the server it is added to.
 */
#ifndef WW_TRAINER_GRPC_H
#define WW_TRAINER_GRPC_H

#include "ww_err.h"
#include "ww_trainer_domain.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

typedef struct ww_trainer_grpc ww_trainer_grpc_t;

/* An adapter over an empty state; with `fixtures`, the demo hours
 * (30 days from today, UTC) are made available first. */
ww_code_t ww_trainer_grpc_new(bool fixtures, ww_trainer_grpc_t **out,
                              ww_err_t *err);
void ww_trainer_grpc_destroy(ww_trainer_grpc_t *g);

/* The generated services to add to a server (owned by the adapter). */
ProtobufCService *ww_trainer_grpc_trainer_service(ww_trainer_grpc_t *g);
ProtobufCService *ww_trainer_grpc_trainings_service(ww_trainer_grpc_t *g);

/* Who may cancel with by_trainer = true. With `enforce` (authentication
 * on), only a caller whose identity (ww_rpc_call_identity) is in
 * `trainer_callers` (NULL-terminated, borrowed: must outlive the adapter;
 * NULL = nobody); anyone else gets PERMISSION_DENIED before the domain is
 * asked. Without `enforce` (local mode, no identities) the flag is taken as
 * sent. Call before the server starts. */
void ww_trainer_grpc_set_trainer_callers(ww_trainer_grpc_t *g, bool enforce,
                                         const char *const *trainer_callers);

/* Current counts, under the lock (for logs and tests). */
void ww_trainer_grpc_counts(ww_trainer_grpc_t *g, ww_trainer_counts_t *c);

#endif
