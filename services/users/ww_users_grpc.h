/*
 * ww_users_grpc.h - users' gRPC edge: users.UsersService over the Kafka
 * backbone.
 *
 * GetTrainingBalance answers from this instance's read model of
 * users.events (0 for a user without facts). UpdateTrainingBalance becomes
 * a ChangeBalanceCommand keyed by the user id on users.commands; the call
 * completes once the owner of its partition decided it and this
 * instance's model holds the fact (read-your-writes). No handler ever
 * blocks on Kafka.
 *
 * Threads: handlers run on the server's queue threads and return at once;
 * calls complete later on bus threads. The adapter must outlive the server.
 */
#ifndef WW_USERS_GRPC_H
#define WW_USERS_GRPC_H

#include <protobuf-c/protobuf-c.h>

#include "ww_err.h"
#include "ww_host_commands.h"
#include "ww_host_model.h"

typedef struct ww_users_grpc ww_users_grpc_t;

ww_code_t ww_users_grpc_new(ww_users_grpc_t **out, ww_err_t *err);
void ww_users_grpc_destroy(ww_users_grpc_t *g);

/* Gives the adapter its read model and commands client (borrowed: they
 * must outlive its calls). Before the server starts. */
void ww_users_grpc_attach(ww_users_grpc_t *g, ww_host_model_t *model,
                          ww_host_commands_t *commands);

/* The generated service to add to a server (owned by the adapter). */
ProtobufCService *ww_users_grpc_service(ww_users_grpc_t *g);

#endif
