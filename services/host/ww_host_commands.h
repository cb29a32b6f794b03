/*
 * ww_host_commands.h - the gRPC edge's way to change state: append a command
 * to <svc>.commands and get its CommandResult from <svc>.replies, without
 * ever blocking the caller's thread on Kafka.
 *
 * A command carries a fresh correlation id (its CommandMeta); the result
 * callback is registered under it before the command is appended, so a
 * fast reply is never missed. The replies reader starts at the end of
 * <svc>.replies when the client is created (it needs only the answers to
 * what this instance asks from then on) and hands each reply to the
 * waiting callback; replies for other instances' commands are dropped.
 *
 * Outcomes, each exactly once through the callback:
 *   WW_OK with the CommandResult (whose status may itself be a refusal);
 *   UNAVAILABLE "could not append" when the command never reached Kafka
 *     (safe to retry);
 *   DEADLINE_EXCEEDED when no reply came in time: the outcome is unknown, a
 *     retry with the same idempotency key returns the original result;
 *   CANCELLED at shutdown.
 *
 * Threads: send may be called from any thread and never blocks (a full
 * local queue is RESOURCE_EXHAUSTED at once, the callback never runs then).
 * Callbacks run on the replies reader's thread or the producer's delivery
 * thread; they must not block for long. destroy from one thread, after the
 * senders stopped.
 */
#ifndef WW_HOST_COMMANDS_H
#define WW_HOST_COMMANDS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "ww_bus_config.h"
#include "ww_err.h"
#include "ww_schemas.h"

typedef struct ww_host_commands ww_host_commands_t;

/* The result of one command. `result` (WW_OK only) and `err` are borrowed
 * for the call. */
typedef void (*ww_host_commands_fn)(
    void *opaque, ww_code_t code, const ww_err_t *err,
    const Wildworkouts__Events__V1__CommandResult *result);

/* A client for the commands of one service: producer to `commands_topic`,
 * replies reader of `replies_topic` positioned at its end before this
 * returns. `source` is the envelope's ce_source ("/wildworkouts/trainer").
 * Errors of the bus (UNAVAILABLE retriable when the broker does not answer
 * yet). The caller owns *out. */
ww_code_t ww_host_commands_new(const ww_bus_config_t *bus,
                               const char *commands_topic,
                               const char *replies_topic, const char *source,
                               ww_host_commands_t **out, ww_err_t *err);

/* Appends `cmd` (a generated command message whose CommandMeta the caller
 * filled, correlation id included) keyed by `key` (NUL-terminated: the
 * entity key of the catalogue). `fn` runs exactly once within about
 * timeout_ms (see the top of this file) unless this returns an error:
 * INVALID_ARGUMENT (no correlation id, bad message), RESOURCE_EXHAUSTED
 * (local queue full; retriable), UNAVAILABLE (shutting down). */
ww_code_t ww_host_commands_send(ww_host_commands_t *c, const char *key,
                                const ProtobufCMessage *cmd,
                                const char *correlation_id, int timeout_ms,
                                ww_host_commands_fn fn, void *opaque,
                                ww_err_t *err);

/* Fresh correlation id (UUIDv4 text) into buf (at least 37 bytes). */
ww_code_t ww_host_commands_new_id(char *buf, ww_err_t *err);

/* Answers every pending command with CANCELLED, stops the reader and the
 * producer (flushing what is queued for up to 2 s) and frees. NULL is a
 * no-op. */
void ww_host_commands_destroy(ww_host_commands_t *c);

#endif
