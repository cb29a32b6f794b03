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
    /* The commit returns once the coordinator logged it; the markers reach
     * the partition (and move its stable end) a moment later, so a wait
     * right after may still capture the end before them. */
    int64_t until = ww_test_now_ms() + 20000;
    do {
        WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
        if (seen_count(&s) >= 85) break;
        usleep(50000);
    } while (ww_test_now_ms() < until);
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

/* Waiting for ends captured earlier: the wait is for those positions, not
 * for what was written since, and a lagging handler times out saying where
 * the tail stands. */
WW_TEST(wait_positions_reaches_the_ends_captured_before) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "tail-positions");
    bt_create_topic(topic, 2);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 0, 40, "m-%d");
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER, .block = 1};
    ww_bus_tail_t *t;
    ww_err_t err = {0};
    ww_bus_tail_config_t cfg = {.topic = topic, .handler = collect,
                                .opaque = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    int64_t ends[2];
    WW_ASSERT_EQ_INT(ww_bus_tail_ends(t, ends, 10000, &err), WW_OK);
    WW_ASSERT_EQ_INT(ends[0] + ends[1], 40);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_positions(t, ends, 200, &err),
                     WW_ERR_DEADLINE_EXCEEDED);
    WW_ASSERT_CONTAINS(err.msg, "partition");
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 100, 20, "n-%d");
    __atomic_store_n(&s.block, 0, __ATOMIC_SEQ_CST);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_positions(t, ends, 20000, &err), WW_OK);
    WW_ASSERT(ww_bus_tail_position(t, 0) >= ends[0]);
    WW_ASSERT(ww_bus_tail_position(t, 1) >= ends[1]);
    WW_ASSERT(seen_count(&s) >= 40);
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

typedef struct answer {
    pthread_mutex_t lock;
    int calls;
    ww_code_t code;
    int seen_then; /* records handled when the answer came */
    seen_t *seen;
} answer_t;

static void on_caught_up(void *opaque, ww_code_t code, const ww_err_t *err) {
    (void)err;
    answer_t *a = opaque;
    int n = seen_count(a->seen);
    pthread_mutex_lock(&a->lock);
    a->calls++;
    a->code = code;
    a->seen_then = n;
    pthread_mutex_unlock(&a->lock);
}

static int answers(answer_t *a, int want, int timeout_ms) {
    for (int i = 0; i < timeout_ms / 10; i++) {
        pthread_mutex_lock(&a->lock);
        int n = a->calls;
        pthread_mutex_unlock(&a->lock);
        if (n >= want) return n;
        usleep(10000);
    }
    pthread_mutex_lock(&a->lock);
    int n = a->calls;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* The asynchronous question: answered once, from the tail's threads, after
 * every record committed before the call; a lagging handler gets a
 * DEADLINE_EXCEEDED answer in time; destroy answers what is left. A tail
 * started from the end sees only what comes after its start. */
WW_TEST(when_caught_up_answers_once_without_blocking_and_from_end_skips_the_past) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "tail-async");
    bt_create_topic(topic, 3);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 0, 40, "m-%d");
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ww_bus_tail_t *t;
    ww_err_t err = {0};
    ww_bus_tail_config_t cfg = {.topic = topic, .handler = collect,
                                .opaque = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &cfg, &t, &err), WW_OK);
    answer_t a = {.lock = PTHREAD_MUTEX_INITIALIZER, .seen = &s};
    WW_ASSERT_EQ_INT(ww_bus_tail_when_caught_up(t, 20000, on_caught_up, &a, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(answers(&a, 1, 20000), 1);
    WW_ASSERT_EQ_INT(a.code, WW_OK);
    WW_ASSERT_EQ_INT(a.seen_then, 40);
    WW_ASSERT_EQ_INT(ww_bus_tail_partitions(t), 3);

    /* A lagging handler: the answer says so within the timeout. */
    __atomic_store_n(&s.block, 1, __ATOMIC_SEQ_CST);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 40, 5, "m-%d");
    answer_t late = {.lock = PTHREAD_MUTEX_INITIALIZER, .seen = &s};
    WW_ASSERT_EQ_INT(
        ww_bus_tail_when_caught_up(t, 300, on_caught_up, &late, &err), WW_OK);
    WW_ASSERT_EQ_INT(answers(&late, 1, 5000), 1);
    WW_ASSERT_EQ_INT(late.code, WW_ERR_DEADLINE_EXCEEDED);
    /* Many questions at once, answered together once it moves again. */
    answer_t many = {.lock = PTHREAD_MUTEX_INITIALIZER, .seen = &s};
    for (int i = 0; i < 20; i++)
        WW_ASSERT_EQ_INT(
            ww_bus_tail_when_caught_up(t, 20000, on_caught_up, &many, &err),
            WW_OK);
    usleep(200000);
    WW_ASSERT_EQ_INT(answers(&many, 20, 0), 0);
    __atomic_store_n(&s.block, 0, __ATOMIC_SEQ_CST);
    WW_ASSERT_EQ_INT(answers(&many, 20, 20000), 20);
    WW_ASSERT_EQ_INT(many.code, WW_OK);
    WW_ASSERT_EQ_INT(many.seen_then, 45);
    /* Destroy answers the questions still open with CANCELLED. */
    __atomic_store_n(&s.block, 1, __ATOMIC_SEQ_CST);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 45, 1, "m-%d");
    answer_t left = {.lock = PTHREAD_MUTEX_INITIALIZER, .seen = &s};
    WW_ASSERT_EQ_INT(
        ww_bus_tail_when_caught_up(t, -1, on_caught_up, &left, &err), WW_OK);
    usleep(200000);
    __atomic_store_n(&s.block, 0, __ATOMIC_SEQ_CST);
    ww_bus_tail_destroy(t);
    WW_ASSERT_EQ_INT(answers(&left, 1, 0), 1);
    WW_ASSERT(left.code == WW_ERR_CANCELLED || left.code == WW_OK);

    /* from_end: none of the 46 old records, then the new ones */
    seen_t fresh = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ww_bus_tail_config_t end_cfg = {.topic = topic, .handler = collect,
                                    .opaque = &fresh, .from_end = true};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(base, &end_cfg, &t, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen_count(&fresh), 0);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 100, 7, "n-%d");
    WW_ASSERT_EQ_INT(ww_bus_tail_wait_caught_up(t, 20000, &err), WW_OK);
    WW_ASSERT_EQ_INT(seen_count(&fresh), 7);
    ww_bus_tail_destroy(t);
    ww_bus_config_destroy(base);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(caught_up_means_everything_committed_before_the_call_was_handled),
            WW_CASE(caught_up_times_out_while_the_handler_lags),
            WW_CASE(wait_positions_reaches_the_ends_captured_before),
            WW_CASE(starts_from_given_offsets_and_an_empty_topic_is_caught_up),
            WW_CASE(commit_marker_before_an_open_transaction_does_not_hold_the_tail),
            WW_CASE(handler_error_stops_the_tail_and_waits_report_it),
            WW_CASE(when_caught_up_answers_once_without_blocking_and_from_end_skips_the_past),
            {0}});
}
