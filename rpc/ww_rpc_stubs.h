/*
 * ww_rpc_stubs.h - typed client calls for the runtime's own service,
 * grpc.health.v1.Health; see ww_rpc_client.h for ownership and threading.
 * Each application keeps the stubs of its own services beside it.
 */
#ifndef WW_RPC_STUBS_H
#define WW_RPC_STUBS_H

#include "health.pb-c.h"
#include "ww_rpc_client.h"

WW_RPC_CLIENT_METHOD(ww_rpc_stubs_health_check,
                     grpc__health__v1__health__descriptor, "Check",
                     Grpc__Health__V1__HealthCheckRequest,
                     Grpc__Health__V1__HealthCheckResponse)

#endif
