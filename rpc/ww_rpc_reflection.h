/*
 * ww_rpc_reflection.h - gRPC server reflection, grpc.reflection.v1 and
 * grpc.reflection.v1alpha (ServerReflectionInfo, a bidirectional stream), so
 * grpcurl, grpcui, Postman or evans find a server's services and messages
 * without .proto files.
 *
 * It answers from a serialized google.protobuf.FileDescriptorSet (what
 * `protoc --descriptor_set_out --include_imports` writes; the build embeds
 * one per binary, see cmake/WwProtobufC.cmake):
 *   list_services                  the services the server serves (health
 *                                  and reflection included), by name
 *   file_by_filename               that file and every file it imports
 *   file_containing_symbol         the file defining a message, enum, enum
 *                                  value, field, oneof, service, method or
 *                                  extension, and its imports
 *   file_containing_extension      the file extending that type with that
 *                                  number (NOT_FOUND when none does)
 *   all_extension_numbers_of_type  the type's extension numbers (empty for
 *                                  a type nobody extends)
 * A question it cannot answer gets an error_response (NOT_FOUND naming what
 * was missing, UNIMPLEMENTED for a request naming no question) and the
 * stream goes on; each request gets exactly one response, in order.
 * The two versions are wire-identical: one implementation serves both.
 *
 * Reflection is an ordinary method to the server: authenticated like every
 * other call and admitted by the owner (ww_rpc_server.h).
 *
 * Threads: new, add and destroy on one thread; answering runs on the
 * server's queue threads and only reads.
 */
#ifndef WW_RPC_REFLECTION_H
#define WW_RPC_REFLECTION_H

#include "ww_err.h"
#include "ww_rpc_server.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ww_rpc_reflection ww_rpc_reflection_t;

/* Indexes the descriptor set (`set`, `len` bytes; copied). Fails with
 * WW_ERR_INVALID_ARGUMENT when the bytes are not a FileDescriptorSet or a
 * file imports one the set lacks. */
ww_code_t ww_rpc_reflection_new(const uint8_t *set, size_t len,
                                ww_rpc_reflection_t **out, ww_err_t *err);

/* Serves both reflection services on `server` (before it starts; the
 * reflection must outlive the server) and checks that every service added
 * so far, health and reflection included, is defined in the set: a served
 * service reflection could not describe is WW_ERR_FAILED_PRECONDITION,
 * naming it. */
ww_code_t ww_rpc_reflection_add_to(ww_rpc_reflection_t *refl,
                                   ww_rpc_server_t *server, ww_err_t *err);

/* After the server is destroyed. NULL is a no-op. */
void ww_rpc_reflection_destroy(ww_rpc_reflection_t *refl);

#endif
