/*
 * ww_host_admin.h - wildworkouts.admin.v1.AdminService for one service
 * instance: GetDigest answers the digest of the instance's read model
 * (ww_host_state.h), per events partition with the offsets it covers.
 *
 * The service is added to the gRPC server like the service's own (and so
 * authenticated like them); until a read model is attached it answers
 * UNAVAILABLE.
 *
 * Threads: handlers run on the server's queue threads; attach may be
 * called from any thread, once, before or after the server started. The
 * adapter must outlive the server; the model must outlive its calls.
 */
#ifndef WW_HOST_ADMIN_H
#define WW_HOST_ADMIN_H

#include "admin.pb-c.h"
#include "ww_err.h"
#include "ww_host_model.h"
#include "ww_rpc_client.h"

#include <protobuf-c/protobuf-c.h>

typedef struct ww_host_admin ww_host_admin_t;

/* `service` ("trainer") is copied. RESOURCE_EXHAUSTED. */
ww_code_t ww_host_admin_new(const char *service, ww_host_admin_t **out,
                            ww_err_t *err);
void ww_host_admin_destroy(ww_host_admin_t *a);

/* The read model to answer from and this instance's id (copied). */
ww_code_t ww_host_admin_attach(ww_host_admin_t *a, ww_host_model_t *model,
                               const char *instance_id, ww_err_t *err);

/* The generated service to add to a server (owned by the adapter). */
ProtobufCService *ww_host_admin_service(ww_host_admin_t *a);

/* The typed client call, for tools and tests (ww_rpc_client.h). */
WW_RPC_CLIENT_METHOD(ww_host_admin_get_digest,
                     wildworkouts__admin__v1__admin_service__descriptor,
                     "GetDigest", Wildworkouts__Admin__V1__GetDigestRequest,
                     Wildworkouts__Admin__V1__GetDigestResponse)

#endif
