/*
 * Errors: librdkafka's codes and error objects map onto ww_code_t with
 * the right retriable and fatal flags and a message naming the operation.
 */
#include <librdkafka/rdkafka.h>

#include "ww_bus_err.h"
#include "ww_test.h"

WW_TEST(maps_kafka_errors_with_retriable_flag) {
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR__TRANSPORT,
                                          "produce", &err),
                     WW_ERR_UNAVAILABLE);
    WW_ASSERT(err.retriable);
    WW_ASSERT_CONTAINS(err.msg, "produce: ");
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                                          "x", &err),
                     WW_ERR_DEADLINE_EXCEEDED);
    WW_ASSERT(err.retriable);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR__QUEUE_FULL, "x",
                                          &err),
                     WW_ERR_RESOURCE_EXHAUSTED);
    WW_ASSERT(err.retriable);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                          "x", &err),
                     WW_ERR_RESOURCE_EXHAUSTED);
    WW_ASSERT(!err.retriable);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                                          "x", &err),
                     WW_ERR_ALREADY_EXISTS);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                          "x", &err),
                     WW_ERR_NOT_FOUND);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
                                          "x", &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT(!err.retriable);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(
                         RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "x",
                         &err),
                     WW_ERR_PERMISSION_DENIED);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR__AUTHENTICATION,
                                          "x", &err),
                     WW_ERR_UNAUTHENTICATED);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS,
                                          "x", &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR__DESTROY, "x",
                                          &err),
                     WW_ERR_CANCELLED);
    WW_ASSERT_EQ_INT(ww_bus_err_from_resp(RD_KAFKA_RESP_ERR_NO_ERROR, "x",
                                          &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(err.code, WW_OK);

    bool fatal = true;
    WW_ASSERT_EQ_INT(ww_bus_err_from_error(NULL, "x", &fatal, &err), WW_OK);
    WW_ASSERT(!fatal);
    rd_kafka_error_t *e =
        rd_kafka_error_new(RD_KAFKA_RESP_ERR__TIMED_OUT, "took %d s", 3);
    WW_ASSERT_EQ_INT(ww_bus_err_from_error(e, "commit", &fatal, &err),
                     WW_ERR_DEADLINE_EXCEEDED);
    WW_ASSERT(!fatal);
    WW_ASSERT(err.retriable);
    WW_ASSERT_CONTAINS(err.msg, "took 3 s");
    rd_kafka_error_destroy(e);
}

WW_TEST(a_delivery_counts_only_with_an_offset) {
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_err_from_delivery(RD_KAFKA_RESP_ERR_NO_ERROR, 0,
                                              "publish to t", &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(err.code, WW_OK);
    /* librdkafka 2.0.2's implicit ack: success, but no offset */
    WW_ASSERT_EQ_INT(ww_bus_err_from_delivery(RD_KAFKA_RESP_ERR_NO_ERROR,
                                              RD_KAFKA_OFFSET_INVALID,
                                              "publish to t", &err),
                     WW_ERR_UNAVAILABLE);
    WW_ASSERT(err.retriable);
    WW_ASSERT_CONTAINS(err.msg, "publish to t: not confirmed by the broker");
    /* a failure is the failure, whatever the offset */
    WW_ASSERT_EQ_INT(ww_bus_err_from_delivery(
                         RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                         RD_KAFKA_OFFSET_INVALID, "publish to t", &err),
                     WW_ERR_RESOURCE_EXHAUSTED);
    WW_ASSERT(!err.retriable);
}

int main(int argc, char **argv) {
    return ww_test_main(argc, argv,
                        (ww_test_case_t[]){
                            WW_CASE(maps_kafka_errors_with_retriable_flag),
                            WW_CASE(a_delivery_counts_only_with_an_offset),
                            {0}});
}
