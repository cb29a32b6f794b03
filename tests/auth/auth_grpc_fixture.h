/*
 * auth_grpc_fixture.h - a minimal gRPC core server and client, so the auth
 * tests and the benchmark exercise real TLS and real metadata without the
 * service runtime (which lives on its own branch until integration).
 *
 * The server answers every method: it runs the verifier (when given) on the
 * `authorization` metadata exactly as the runtime's authenticate hook, and
 * only then the "handler", which counts itself and replies "hello <identity>"
 * as message and status details. One thread drains its completion queue.
 * Single-threaded use from the test's main thread; failures end the case.
 */
#ifndef AUTH_GRPC_FIXTURE_H
#define AUTH_GRPC_FIXTURE_H

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ww_auth_verifier.h"

#define METHOD "/test.Echo/Call"

typedef struct fxg_server {
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t thread;
    int port;
    ww_auth_verifier_t *verifier; /* NULL: no authentication (records only) */
    atomic_int handler_runs;
    atomic_int saw_authorization;
    atomic_int shut_down;
} fxg_server_t;

typedef struct fxg_result {
    grpc_status_code status;
    char details[512];
    int64_t took_ms;
} fxg_result_t;

/* Listens on 127.0.0.1 (free port). `creds` is consumed (NULL =
 * plaintext); `verifier` is borrowed (NULL = no authentication, the server
 * only records whether an authorization header arrived). */
fxg_server_t *fxg_server_start(grpc_server_credentials *creds, ww_auth_verifier_t *verifier);
void fxg_server_stop(fxg_server_t *ts);

/* A channel to 127.0.0.1:port (borrowed creds); grpc_channel_destroy it. */
grpc_channel *fxg_channel(grpc_channel_credentials *chan_creds, int port);
/* One unary call on `ch`; `call_creds` (optional) set on the call itself. */
fxg_result_t fxg_call(grpc_channel *ch, grpc_call_credentials *call_creds, int deadline_ms);
/* The same on a channel of its own (new connection, new handshake). */
fxg_result_t fxg_call_once(grpc_channel_credentials *chan_creds, grpc_call_credentials *call_creds, int port,
                           int deadline_ms);

#endif
