/*
 * auth_grpc_fixture.h - the auth module behind our gRPC runtime, wired as
 * the services wire it (services/host/ww_host_security.c), so the auth tests
 * and the benchmark exercise real TLS and real metadata on the code that
 * serves them in production:
 *
 *   server: ww_rpc_server with TLS credentials from ww_auth_tls and
 *           ww_auth_verifier_authenticate as its authenticate hook, serving
 *           trainings.TrainingsService: GetTraining (FXG_METHOD) counts its
 *           runs and answers a Training whose user_id is the caller identity
 *           the runtime handed it; the other methods fail
 * (FAILED_PRECONDITION). Without a verifier the hook lets every call through
 * (identity
 *           "") and only records whether an `authorization` header came.
 *   client: ww_rpc_client with the channel and call credentials a case
 *           chooses, calling GetTraining.
 *
 * Single-threaded use from the test's main thread (the handler and the hook
 * run on the server's threads and only touch the atomics); failures end the
 * case.
 */
#ifndef AUTH_GRPC_FIXTURE_H
#define AUTH_GRPC_FIXTURE_H

#include "trainings.pb-c.h"
#include "ww_auth_verifier.h"
#include "ww_rpc_client.h"
#include "ww_rpc_server.h"

#include <grpc/grpc_security.h>
#include <stdatomic.h>
#include <stdint.h>

#define FXG_METHOD "/trainings.TrainingsService/GetTraining"

typedef struct fxg_server {
    Trainings__TrainingsService_Service service; /* first: see the .c */
    ww_rpc_server_t *server;
    int port;
    atomic_int handler_runs;
    atomic_int saw_authorization;
} fxg_server_t;

typedef struct fxg_result {
    grpc_status_code status;
    char details[512];  /* not OK: the client's "<STATUS>: <details>" */
    char identity[256]; /* OK: the caller identity the handler was given */
    int64_t took_ms;
} fxg_result_t;

/* Listens on 127.0.0.1 (a free port). `creds` is consumed (NULL =
 * plaintext); `verifier` is borrowed and must outlive the server (NULL = no
 * authentication, the server only records whether a token arrived). */
fxg_server_t *fxg_server_start(grpc_server_credentials *creds,
                               ww_auth_verifier_t *verifier);
void fxg_server_stop(fxg_server_t *fs);

/* A client to 127.0.0.1:port; both credentials are borrowed (NULL:
 * plaintext / none) and the call credentials must outlive the client. Free
 * it with ww_rpc_client_destroy. */
ww_rpc_client_t *fxg_client(grpc_channel_credentials *chan_creds,
                            grpc_call_credentials *call_creds, int port);
/* One GetTraining call on `c`. */
fxg_result_t fxg_call(ww_rpc_client_t *c, int deadline_ms);
/* The same on a client of its own (new channel, new handshake). */
fxg_result_t fxg_call_once(grpc_channel_credentials *chan_creds,
                           grpc_call_credentials *call_creds, int port,
                           int deadline_ms);

#endif
