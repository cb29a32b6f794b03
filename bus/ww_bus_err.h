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
#include <stdint.h>

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

/* The outcome of one produced record from its delivery report (`code`
 * and `offset` as in rd_kafka_message_t). Besides a failure, a record
 * reported delivered without an offset is refused, UNAVAILABLE and
 * retriable ("<what>: not confirmed by the broker ..."): librdkafka 2.0.2
 * counts a record as delivered when a later batch to its partition
 * succeeds ("implicitly acked"), even after the broker answered that this
 * one was not written. That happens when a partition's first batch gets
 * NOT_LEADER (a new topic, a leader moving) while the next is in flight:
 * the broker takes the next as the first of a producer it did not know,
 * and the record is missing from the log. Only a broker-assigned offset
 * proves the record is there; sending it again at worst duplicates it. */
ww_code_t ww_bus_err_from_delivery(rd_kafka_resp_err_t code, int64_t offset,
                                   const char *what, ww_err_t *err);

/* Same for an rd_kafka_error_t (not destroyed; NULL means success). Its own
 * flags win: rd_kafka_error_is_retriable sets retriable; a fatal error is
 * never retriable and *fatal (if not NULL) is set, as the handle must then
 * be recreated; the message says "fatal" or "transaction must be aborted"
 * when librdkafka says so. */
ww_code_t ww_bus_err_from_error(const rd_kafka_error_t *error,
                                const char *what, bool *fatal,
                                ww_err_t *err);

#endif
