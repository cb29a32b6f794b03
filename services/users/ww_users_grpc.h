/*
 * ww_users_grpc.h - the users' gRPC adapter: users.UsersService over the
 * in-memory users domain (ww_users_domain.h). Every rule lives in the
 * domain; this converts messages and statuses.
 *
 * State: one ww_users_state_t owned by the adapter behind a reader-writer
 * lock; the event store replaces it later behind the same handlers.
 * Threads: handlers run on the server's queue threads and complete before
 * they return. The adapter must outlive the server it is added to.
 */
#ifndef WW_USERS_GRPC_H
#define WW_USERS_GRPC_H

#include "ww_err.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ww_users_grpc ww_users_grpc_t;

/* An adapter over an empty state; with `fixtures`, the demo users and their
 * credits are loaded first. */
ww_code_t ww_users_grpc_new(bool fixtures, ww_users_grpc_t **out,
                            ww_err_t *err);
void ww_users_grpc_destroy(ww_users_grpc_t *g);

/* The generated service to add to a server (owned by the adapter). */
ProtobufCService *ww_users_grpc_service(ww_users_grpc_t *g);

#endif
