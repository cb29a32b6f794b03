/*
 * The tailing reader against the real broker: it delivers old and new
 * records of every partition without a group, read_committed, and its
 * caught-up signal means "everything committed before the call was
 * handled" even with transaction markers, aborted and open transactions.
 */
#include <pthread.h>

#include "bus_txn_support.h"
#include "ww_bus_tail.h"
#include "ww_test.h"

typedef struct seen {
    pthread_mutex_t lock;
    int n;
    int aborted_seen;
    int open_seen;
    volatile int block; /* handler waits while set */
    int fail_at;        /* handler fails on this record number (1-based) */
} seen_t;

static ww_code_t collect(void *opaque, const rd_kafka_message_t *m,
                         ww_err_t *err) {
    seen_t *s = opaque;
    while (__atomic_load_n(&s->block, __ATOMIC_SEQ_CST)) usleep(1000);
    pthread_mutex_lock(&s->lock);
    int n = ++s->n;
    if (m->len >= 2 && memcmp(m->payload, "x-", 2) == 0) s->aborted_seen++;
    if (m->len >= 2 && memcmp(m->payload, "o-", 2) == 0) s->open_seen++;
    pthread_mutex_unlock(&s->lock);
    if (s->fail_at && n == s->fail_at)
        return ww_err_set(err, WW_ERR_INTERNAL, "cannot apply record %d", n);
    return WW_OK;
}

static int seen_count(seen_t *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

WW_TEST(caught_up_means_everything_committed_before_the_call_was_handled) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "tail-caught-up");
    bt_create_topic(topic, 2);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 0, 50, "m-%d");
    bt_produce_txn(topic, 0, 0, 10, "c-%d", true, false);
    bt_produce_txn(topic, 1, 0, 10, "x-%d", false, false); /* aborted */

    ww_bus_config_t *base = bt_bus(NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ww_bus_tail_t *t;
    ww_err_t err = {0};
    ww_bus_tail_config_t cfg = {.topic = topic, .handler = collect,
                                .opaque = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    /* Exactly at the end: both markers passed, nothing aborted. */
    WW_ASSERT_EQ_INT(seen_count(&s), 60);
    WW_ASSERT_EQ_INT(s.aborted_seen, 0);
    WW_ASSERT_EQ_INT(ww_bus_tail_stats(t).records, 60);

    /* New records: the next wait covers them too. */
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 100, 20, "n-%d");
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen_count(&s), 80);

    /* An open transaction holds the end before it: caught up without it,
     * and its records arrive once it commits. */
    rd_kafka_t *open = bt_produce_txn(topic, 1, 0, 5, "o-%d", false, true);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    WW_ASSERT_EQ_INT(s.open_seen, 0);
    rd_kafka_error_t *e = rd_kafka_commit_transaction(open, 30000);
    WW_ASSERT_MSG(!e, "commit: %s", e ? rd_kafka_error_string(e) : "");
    rd_kafka_destroy(open);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen_count(&s), 85);
    WW_ASSERT_EQ_INT(s.open_seen, 5);
    WW_ASSERT(ww_bus_tail_position(t, 0) + ww_bus_tail_position(t, 1) >= 85);
    WW_ASSERT_EQ_INT(ww_bus_tail_position(t, 2), -1);
    ww_bus_tail_destroy(t);
    ww_bus_config_destroy(base);
}

WW_TEST(caught_up_times_out_while_the_handler_lags) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "tail-lag");
    bt_create_topic(topic, 1);
    bt_produce(topic, 0, 0, 5, "m-%d");
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER, .block = 1};
    ww_bus_tail_t *t;
    ww_err_t err = {0};
    ww_bus_tail_config_t cfg = {.topic = topic, .handler = collect,
                                .opaque = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 300, &err),
                     WW_ERR_DEADLINE_EXCEEDED);
    WW_ASSERT_CONTAINS(err.msg, "partition 0");
    __atomic_store_n(&s.block, 0, __ATOMIC_SEQ_CST);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen_count(&s), 5);
    ww_bus_tail_destroy(t);
    ww_bus_config_destroy(base);
}

WW_TEST(starts_from_given_offsets_and_an_empty_topic_is_caught_up) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "tail-offsets");
    bt_create_topic(topic, 2);
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ww_bus_tail_t *t;
    ww_err_t err = {0};
    ww_bus_tail_config_t cfg = {.topic = topic, .handler = collect,
                                .opaque = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 5000, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen_count(&s), 0);
    ww_bus_tail_destroy(t);

    bt_produce(topic, 0, 0, 10, "a-%d");
    bt_produce(topic, 1, 0, 10, "b-%d");
    int64_t offsets[2] = {7, 2}; /* as after a snapshot */
    cfg.offsets = offsets;
    cfg.offsets_cnt = 2;
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen_count(&s), 3 + 8);
    ww_bus_tail_destroy(t);
    ww_bus_config_destroy(base);
}

/* The last committed thing before an open transaction is a commit marker:
 * the tail's last record is one offset short of the stable end, and only
 * the partition-EOF position can say it is caught up. */
WW_TEST(commit_marker_before_an_open_transaction_does_not_hold_the_tail) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "tail-marker");
    bt_create_topic(topic, 1);
    bt_produce_txn(topic, 0, 0, 5, "c-%d", true, false);
    rd_kafka_t *open = bt_produce_txn(topic, 0, 0, 3, "o-%d", false, true);
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ww_bus_tail_t *t;
    ww_err_t err = {0};
    ww_bus_tail_config_t cfg = {.topic = topic, .handler = collect,
                                .opaque = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    WW_ASSERT_MSG(ww_bus_tail_wait_caught_up(t, 10000, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT_EQ_INT(seen_count(&s), 5);
    WW_ASSERT_EQ_INT(ww_bus_tail_position(t, 0), 6); /* past the marker */
    rd_kafka_error_t *e = rd_kafka_abort_transaction(open, 30000);
    WW_ASSERT_MSG(!e, "abort: %s", e ? rd_kafka_error_string(e) : "");
    rd_kafka_destroy(open);
    WW_ASSERT_MSG(ww_bus_tail_wait_caught_up(t, 10000, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT_EQ_INT(seen_count(&s), 5);
    WW_ASSERT_EQ_INT(s.open_seen, 0);
    WW_ASSERT_EQ_INT(ww_bus_tail_position(t, 0), 10); /* 5+1+3+1 */
    ww_bus_tail_destroy(t);
    ww_bus_config_destroy(base);
}

WW_TEST(handler_error_stops_the_tail_and_waits_report_it) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "tail-err");
    bt_create_topic(topic, 1);
    bt_produce(topic, 0, 0, 10, "m-%d");
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER, .fail_at = 4};
    ww_bus_tail_t *t;
    ww_err_t err = {0};
    ww_bus_tail_config_t cfg = {.topic = topic, .handler = collect,
                                .opaque = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err),
                     WW_ERR_INTERNAL);
    WW_ASSERT_CONTAINS(err.msg, "cannot apply record 4");
    WW_ASSERT_EQ_INT(seen_count(&s), 4);
    WW_ASSERT_EQ_INT(ww_bus_tail_position(t, 0), 3);
    ww_bus_tail_destroy(t);

    cfg.topic = "tail-no-such-topic";
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err),
                     WW_ERR_NOT_FOUND);
    ww_bus_config_destroy(base);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(caught_up_means_everything_committed_before_the_call_was_handled),
            WW_CASE(caught_up_times_out_while_the_handler_lags),
            WW_CASE(starts_from_given_offsets_and_an_empty_topic_is_caught_up),
            WW_CASE(commit_marker_before_an_open_transaction_does_not_hold_the_tail),
            WW_CASE(handler_error_stops_the_tail_and_waits_report_it),
            {0}});
}
