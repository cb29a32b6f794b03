/* ww_bus_err.c - librdkafka errors as ww_code_t, retriable and fatal. */
#include "ww_bus_err.h"

static ww_code_t map_code(rd_kafka_resp_err_t e, bool *retriable) {
    *retriable = false;
    switch (e) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return WW_OK;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
        *retriable = true;
        return WW_ERR_UNAVAILABLE;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        *retriable = true;
        return WW_ERR_DEADLINE_EXCEEDED;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        *retriable = true;
        return WW_ERR_RESOURCE_EXHAUSTED;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        return WW_ERR_RESOURCE_EXHAUSTED;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
        return WW_ERR_NOT_FOUND;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
        return WW_ERR_ALREADY_EXISTS;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__CONFLICT:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT:
    case RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT:
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        return WW_ERR_INVALID_ARGUMENT;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return WW_ERR_PERMISSION_DENIED;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
        return WW_ERR_UNAUTHENTICATED;
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR_INVALID_TXN_STATE:
        return WW_ERR_FAILED_PRECONDITION;
    case RD_KAFKA_RESP_ERR__DESTROY:
        return WW_ERR_CANCELLED;
    default:
        return WW_ERR_INTERNAL;
    }
}

ww_code_t ww_bus_err_from_resp(rd_kafka_resp_err_t code, const char *what,
                               ww_err_t *err) {
    bool retriable;
    ww_code_t c = map_code(code, &retriable);
    if (c == WW_OK) {
        ww_err_clear(err);
        return WW_OK;
    }
    if (retriable)
        return ww_err_set_retriable(err, c, "%s: %s (%s)", what,
                                    rd_kafka_err2str(code),
                                    rd_kafka_err2name(code));
    return ww_err_set(err, c, "%s: %s (%s)", what, rd_kafka_err2str(code),
                      rd_kafka_err2name(code));
}

ww_code_t ww_bus_err_from_error(const rd_kafka_error_t *error,
                                const char *what, bool *fatal,
                                ww_err_t *err) {
    if (fatal) *fatal = false;
    if (!error) {
        ww_err_clear(err);
        return WW_OK;
    }
    bool code_retriable;
    ww_code_t c = map_code(rd_kafka_error_code(error), &code_retriable);
    if (c == WW_OK) c = WW_ERR_INTERNAL; /* an error object always failed */
    bool is_fatal = rd_kafka_error_is_fatal(error);
    bool needs_abort = rd_kafka_error_txn_requires_abort(error);
    /* Only the transactional API sets the retriable flag; other error
     * objects fall back to what their code says. A call whose transaction
     * must be aborted is not retried as such. */
    bool retriable = !is_fatal && !needs_abort &&
                     (rd_kafka_error_is_retriable(error) || code_retriable);
    const char *note = is_fatal ? " [fatal: the client must be recreated]"
                       : needs_abort ? " [transaction must be aborted]"
                           : "";
    if (fatal) *fatal = is_fatal;
    if (retriable)
        return ww_err_set_retriable(err, c, "%s: %s (%s)%s", what,
                                    rd_kafka_error_string(error),
                                    rd_kafka_error_name(error), note);
    return ww_err_set(err, c, "%s: %s (%s)%s", what,
                      rd_kafka_error_string(error),
                      rd_kafka_error_name(error), note);
}

ww_code_t ww_bus_err_from_delivery(rd_kafka_resp_err_t code, int64_t offset,
                                   const char *what, ww_err_t *err) {
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
        return ww_bus_err_from_resp(code, what, err);
    if (offset < 0)
        return ww_err_set_retriable(
            err, WW_ERR_UNAVAILABLE,
            "%s: not confirmed by the broker (reported delivered without an "
            "offset, after a later record's success): send it again",
            what);
    ww_err_clear(err);
    return WW_OK;
}
