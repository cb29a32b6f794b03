/*
 * ww_host_write.h - a gRPC write, end to end, without blocking a
 * completion-queue thread: fill the command's CommandMeta from the call,
 * append the command, wait (asynchronously) for its CommandResult, then
 * for this instance's read model to hold the command's facts
 * (read-your-writes), then answer the call.
 *
 *   - CommandMeta: the caller's `idempotency-key` (none: ""), issued_at
 *     from this edge's clock (the 24-hour cancel rule uses it), a fresh
 *     correlation id, and the caller identity (ww_rpc_call_identity: the
 *     token's iss + sub, "<iss>|<sub>"; "" in local mode), so every fact
 *     the command causes records who asked for it.
 *   - The call's deadline bounds the wait (WW_COMMAND_TIMEOUT_MS, default
 *     30000, when the client set none). Once the command is appended,
 *     DEADLINE_EXCEEDED means "outcome unknown": a retry with the same
 *     idempotency key returns the original result.
 *   - A refused command answers its status and message; an OK one answers
 *     through `respond` with the CommandResult's fields.
 *   - The command carries the call's trace context (ww_rpc_call_trace),
 *     from whichever thread it is sent.
 *
 * Threads: ww_host_write_send from a handler (any thread); `respond` runs
 * on a bus thread (replies reader, events tail) or inside the send.
 */
#ifndef WW_HOST_WRITE_H
#define WW_HOST_WRITE_H

#include <protobuf-c/protobuf-c.h>

#include "ww_err.h"
#include "ww_host_commands.h"
#include "ww_host_model.h"
#include "ww_rpc_call.h"
#include "ww_schemas.h"

/* Answers an OK write: fills the method's response from `result` and
 * completes the call through `done` (the handler's typed closure). */
typedef void (*ww_host_write_respond_fn)(
    ww_rpc_call_t *call, ProtobufCClosure done,
    const Wildworkouts__Events__V1__CommandResult *result);

/* The CommandMeta of a write, with storage for its strings. */
typedef struct ww_host_write_meta {
    Wildworkouts__Events__V1__CommandMeta meta;
    Google__Protobuf__Timestamp issued_at;
    char correlation_id[40];
} ww_host_write_meta_t;

/* Fills *m from the call (see above); the command points its `meta` at
 * &m->meta. The strings borrow the call: use it before completing it.
 * INTERNAL when no correlation id could be drawn. */
ww_code_t ww_host_write_meta(ww_rpc_call_t *call, ww_host_write_meta_t *m,
                             ww_err_t *err);

/* Appends `cmd` (its meta from ww_host_write_meta) keyed by `key` and
 * completes `call` later, exactly once: respond(), the result's refusal, or
 * the error (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED). `model`
 * partition `partition` is where the command's facts land (the key's
 * partition). */
void ww_host_write_send(ww_host_commands_t *commands, ww_host_model_t *model,
                        int32_t partition, ww_rpc_call_t *call,
                        ProtobufCClosure done, const char *key,
                        const ProtobufCMessage *cmd,
                        const char *correlation_id,
                        ww_host_write_respond_fn respond);

#endif
