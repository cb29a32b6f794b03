/*
 * ww_bus_err.h - librdkafka's errors in the project's error model: a
 * ww_code_t, a message naming the failed operation, and whether the same
 * call may succeed if tried again (retriable) or the handle is lost
 * (fatal), so callers decide without parsing librdkafka's text.
 *
 * Thread safety: reentrant; no state.
 */
#ifndef WW_BUS_ERR_H
#define WW_BUS_ERR_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "ww_err.h"

/* `what` names the failed operation for the message
 * ("produce to trainer.events"). The mapping (code, retriable):
 *   broker unreachable, leader or coordinator moving  UNAVAILABLE, yes
 *   timeouts (outcome unknown)                        DEADLINE_EXCEEDED, yes
 *   local queue full                                  RESOURCE_EXHAUSTED, yes
 *   message too large                                 RESOURCE_EXHAUSTED, no
 *   unknown topic/partition                           NOT_FOUND, no
 *   topic already exists                              ALREADY_EXISTS, no
 *   invalid request/config/partitions/replication     INVALID_ARGUMENT, no
 *   authorization failures                            PERMISSION_DENIED, no
 *   SASL/TLS authentication                           UNAUTHENTICATED, no
 *   fenced producer/instance, invalid epoch           FAILED_PRECONDITION, no
 *   handle being destroyed                            CANCELLED, no
 *   anything else                                     INTERNAL, no
 * Returns the code (WW_OK for RD_KAFKA_RESP_ERR_NO_ERROR, err cleared). */
ww_code_t ww_bus_err_from_resp(rd_kafka_resp_err_t code, const char *what,
                               ww_err_t *err);

/* Same for an rd_kafka_error_t (not destroyed; NULL means success). Its own
 * flags win: rd_kafka_error_is_retriable sets retriable; a fatal error is
 * never retriable and *fatal (if not NULL) is set, as the handle must then
 * be recreated; the message says "fatal" or "transaction must be aborted"
 * when librdkafka says so. */
ww_code_t ww_bus_err_from_error(const rd_kafka_error_t *error,
                                const char *what, bool *fatal,
                                ww_err_t *err);

#endif
