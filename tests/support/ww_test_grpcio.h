/*
 * ww_test_grpcio.h - one unary call from grpcio, the Python gRPC library, to
 * show that a client that is not ours gets along with our servers: TLS
 * trusting a test CA and a bearer token, request and reply as protobuf-c
 * messages. tests/support/grpc_call.py makes the call, run by the test venv's
 * Python (scripts/bootstrap.sh installs it).
 *
 * Use from the test's main thread; a client that cannot run, or prints
 * something that is not an outcome, fails the case.
 */
#ifndef WW_TEST_GRPCIO_H
#define WW_TEST_GRPCIO_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct ww_test_grpcio_call {
    const char *target; /* "127.0.0.1:port"; TLS checks the host name */
    const char *ca_pem; /* file of the roots the client trusts */
    const char *token;  /* sent as "authorization: Bearer <token>" */
    const char *method; /* "/pkg.Service/Method" */
    const ProtobufCMessage *request;
    const ProtobufCMessageDescriptor *reply_type;
} ww_test_grpcio_call_t;

/* Makes the call (every field borrowed). The outcome goes to `status`
 * (NUL-terminated, at most size - 1 bytes): "OK", or the status name and its
 * details, e.g. "UNAUTHENTICATED token audience does not match". Returns the
 * reply unpacked as reply_type on OK (the caller frees it with
 * protobuf_c_message_free_unpacked), NULL otherwise. */
ProtobufCMessage *ww_test_grpcio_call(const ww_test_grpcio_call_t *call,
                                      char *status, size_t size);

#endif
