/*
 * ww_rpc_status.h - the one mapping between the project's error codes and
 * gRPC status codes. Every ww_code_t maps to exactly one gRPC code and back;
 * gRPC codes without a ww_code_t (UNKNOWN, ABORTED, UNIMPLEMENTED,
 * DATA_LOSS) map to WW_ERR_INTERNAL, and callers that need them read the raw
 * gRPC code (see ww_rpc_client.h). Pure functions, any thread.
 */
#ifndef WW_RPC_STATUS_H
#define WW_RPC_STATUS_H

#include "ww_err.h"

#include <grpc/status.h>

grpc_status_code ww_rpc_status_from_code(ww_code_t code);
ww_code_t ww_rpc_status_to_code(grpc_status_code status);

/* Upper-case gRPC name ("DEADLINE_EXCEEDED"); static storage. */
const char *ww_rpc_status_name(grpc_status_code status);

#endif
