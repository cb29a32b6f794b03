/*
 * Replay against the real broker: from the beginning, an offset or a
 * timestamp up to exactly the end as of the start; records of aborted and
 * still-open transactions are never delivered; records produced during the
 * replay are not delivered; a reader without a group gets old messages.
 */
#include <pthread.h>

#include "bus_txn_support.h"
#include "ww_bus_replay.h"
#include "ww_test.h"

typedef struct seen {
    int n;
    char vals[512][48];
    int32_t part[512];
    int64_t off[512];
    const char *late_topic; /* produce here on the first record */
} seen_t;

static ww_code_t collect(void *opaque, const rd_kafka_message_t *m,
                         ww_err_t *err) {
    seen_t *s = opaque;
    if (s->n >= 512)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "too many records");
    snprintf(s->vals[s->n], sizeof s->vals[0], "%.*s", (int)m->len,
             (const char *)m->payload);
    s->part[s->n] = m->partition;
    s->off[s->n] = m->offset;
    s->n++;
    if (s->late_topic && s->n == 1) {
        /* Written after the end was captured: must not show up. */
        bt_produce(s->late_topic, 2, 0, 5, "late-%d");
    }
    return WW_OK;
}

static int count_prefix(const seen_t *s, const char *prefix) {
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (strncmp(s->vals[i], prefix, strlen(prefix)) == 0) n++;
    return n;
}

WW_TEST(from_beginning_stops_at_the_end_as_of_start_and_skips_aborted) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-begin");
    bt_create_topic(topic, 3);
    bt_produce(topic, 0, 0, 10, "a-%d");
    bt_produce_txn(topic, 1, 0, 5, "c-%d", true, false);
    bt_produce_txn(topic, 1, 0, 5, "x-%d", false, false); /* aborted */
    bt_produce(topic, 1, 5, 2, "c-%d");                   /* after markers */
    bt_produce(topic, 2, 0, 7, "b-%d");
    /* An open transaction on p0 holds its last stable offset at 10. */
    rd_kafka_t *open = bt_produce_txn(topic, 0, 0, 3, "o-%d", false, true);

    ww_bus_config_t *base = bt_bus(NULL);
    seen_t *s = calloc(1, sizeof *s);
    s->late_topic = topic;
    ww_bus_replay_config_t cfg = {.topic = topic, .handler = collect,
                                  .opaque = s, .timeout_ms = 30000};
    ww_bus_replay_stats_t st;
    ww_err_t err = {0};
    ww_code_t rc = ww_bus_replay_run(base, &cfg, &st, &err);
    WW_ASSERT_MSG(rc == WW_OK, "replay: %s", err.msg);
    WW_ASSERT_EQ_INT(s->n, 10 + 7 + 7);
    WW_ASSERT_EQ_INT(st.records, 24);
    WW_ASSERT_EQ_INT(st.partitions, 3);
    WW_ASSERT_EQ_INT(count_prefix(s, "a-"), 10);
    WW_ASSERT_EQ_INT(count_prefix(s, "c-"), 7);
    WW_ASSERT_EQ_INT(count_prefix(s, "b-"), 7);
    WW_ASSERT_EQ_INT(count_prefix(s, "x-"), 0);
    WW_ASSERT_EQ_INT(count_prefix(s, "o-"), 0);
    WW_ASSERT_EQ_INT(count_prefix(s, "late-"), 0);
    /* Offset order within each partition. */
    int64_t last[3] = {-1, -1, -1};
    for (int i = 0; i < s->n; i++) {
        WW_ASSERT_MSG(s->off[i] > last[s->part[i]], "p%d offset %lld after %lld",
                      (int)s->part[i], (long long)s->off[i],
                      (long long)last[s->part[i]]);
        last[s->part[i]] = s->off[i];
    }

    /* Once the open transaction commits, a second replay sees it, the
     * late records, and still nothing aborted. */
    rd_kafka_error_t *e = rd_kafka_commit_transaction(open, 30000);
    WW_ASSERT_MSG(!e, "commit: %s", e ? rd_kafka_error_string(e) : "");
    rd_kafka_destroy(open);
    memset(s, 0, sizeof *s);
    rc = ww_bus_replay_run(base, &cfg, &st, &err);
    WW_ASSERT_MSG(rc == WW_OK, "replay: %s", err.msg);
    WW_ASSERT_EQ_INT(s->n, 24 + 3 + 5);
    WW_ASSERT_EQ_INT(count_prefix(s, "o-"), 3);
    WW_ASSERT_EQ_INT(count_prefix(s, "late-"), 5);
    WW_ASSERT_EQ_INT(count_prefix(s, "x-"), 0);
    free(s);
    ww_bus_config_destroy(base);
}

WW_TEST(from_offset_starts_there_in_every_or_each_partition) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-offset");
    bt_create_topic(topic, 2);
    bt_produce(topic, 0, 0, 20, "p0-%d");
    bt_produce(topic, 1, 0, 20, "p1-%d");
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t *s = calloc(1, sizeof *s);
    ww_err_t err = {0};

    ww_bus_replay_config_t cfg = {.topic = topic, .handler = collect,
                                  .opaque = s,
                                  .from = WW_BUS_REPLAY_FROM_OFFSET,
                                  .offset = 12, .timeout_ms = 30000};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 16);
    WW_ASSERT_EQ_INT(count_prefix(s, "p0-1"), 8); /* p0-12 .. p0-19 */
    for (int i = 0; i < s->n; i++) WW_ASSERT(s->off[i] >= 12);

    /* Per-partition start points, one partition only, past the end. */
    memset(s, 0, sizeof *s);
    int64_t offsets[2] = {18, 5};
    cfg.offsets = offsets;
    cfg.offsets_cnt = 2;
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 2 + 15);
    memset(s, 0, sizeof *s);
    cfg.one_partition = true;
    cfg.partition = 1;
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 15);
    WW_ASSERT_EQ_STR(s->vals[0], "p1-5");
    WW_ASSERT_EQ_STR(s->vals[14], "p1-19");
    memset(s, 0, sizeof *s);
    cfg.offsets = NULL;
    cfg.offset = 1000;
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 0);
    cfg.partition = 7;
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err),
                     WW_ERR_NOT_FOUND);
    free(s);
    ww_bus_config_destroy(base);
}

WW_TEST(from_timestamp_starts_at_the_first_record_at_or_after_it) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-time");
    bt_create_topic(topic, 2);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 0, 10, "old-%d");
    usleep(30000);
    int64_t t = bt_wall_ms();
    usleep(30000);
    bt_produce(topic, RD_KAFKA_PARTITION_UA, 0, 10, "new-%d");
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t *s = calloc(1, sizeof *s);
    ww_err_t err = {0};
    ww_bus_replay_config_t cfg = {.topic = topic, .handler = collect,
                                  .opaque = s,
                                  .from = WW_BUS_REPLAY_FROM_TIMESTAMP,
                                  .timestamp_ms = t, .timeout_ms = 30000};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 10);
    WW_ASSERT_EQ_INT(count_prefix(s, "new-"), 10);
    /* A time after every record: nothing to read, and no waiting. */
    memset(s, 0, sizeof *s);
    cfg.timestamp_ms = bt_wall_ms() + 3600 * 1000;
    int64_t t0 = ww_test_now_ms();
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 0);
    WW_ASSERT(ww_test_now_ms() - t0 < 10000);
    free(s);
    ww_bus_config_destroy(base);
}

WW_TEST(reader_without_group_receives_old_messages) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-old");
    bt_create_topic(topic, 1);
    bt_produce(topic, 0, 0, 50, "m-%d");
    sleep(1); /* old: produced well before the reader exists */
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t *s = calloc(1, sizeof *s);
    ww_err_t err = {0};
    ww_bus_replay_config_t cfg = {.topic = topic, .handler = collect,
                                  .opaque = s, .timeout_ms = 30000};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 50);
    for (int i = 0; i < 50; i++) {
        char want[16];
        snprintf(want, sizeof want, "m-%d", i);
        WW_ASSERT_EQ_STR(s->vals[i], want);
    }
    free(s);
    ww_bus_config_destroy(base);
}

/* A settled replay: the end is the high watermark as of the start, so a
 * transaction open then is waited for, and what it commits is delivered,
 * with the records after it; what it aborts is not. */
typedef struct settle_run {
    ww_bus_config_t *bus;
    ww_bus_replay_config_t cfg;
    ww_code_t rc;
    ww_err_t err;
} settle_run_t;

static void *settle_thread(void *arg) {
    settle_run_t *r = arg;
    r->rc = ww_bus_replay_run(r->bus, &r->cfg, NULL, &r->err);
    return NULL;
}

static void settled_replay_around(const char *topic, bool commit, seen_t *s) {
    rd_kafka_t *open = bt_produce_txn(topic, 0, 0, 3, "o-%d", false, true);
    bt_produce(topic, 0, 5, 2, "c-%d"); /* behind the open transaction */
    settle_run_t r = {.bus = bt_bus(NULL),
                      .cfg = {.topic = topic,
                              .handler = collect,
                              .opaque = s,
                              .timeout_ms = 60000,
                              .settled = true}};
    pthread_t th;
    WW_ASSERT(pthread_create(&th, NULL, settle_thread, &r) == 0);
    sleep(1); /* the replay captured its ends (if not, it only sees more) */
    rd_kafka_error_t *e = commit ? rd_kafka_commit_transaction(open, 30000)
                                 : rd_kafka_abort_transaction(open, 30000);
    WW_ASSERT_MSG(!e, "end txn: %s", e ? rd_kafka_error_string(e) : "");
    rd_kafka_destroy(open);
    pthread_join(th, NULL);
    ww_bus_config_destroy(r.bus);
    WW_ASSERT_MSG(r.rc == WW_OK, "settled replay: %s", r.err.msg);
}

WW_TEST(settled_waits_for_transactions_open_at_the_start) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-settled");
    bt_create_topic(topic, 2);
    bt_produce(topic, 0, 0, 5, "a-%d");
    seen_t *s = calloc(1, sizeof *s);
    settled_replay_around(topic, true, s);
    WW_ASSERT_EQ_INT(count_prefix(s, "a-"), 5);
    WW_ASSERT_EQ_INT(count_prefix(s, "o-"), 3);
    WW_ASSERT_EQ_INT(count_prefix(s, "c-"), 2);
    WW_ASSERT_EQ_INT(s->n, 10);
    memset(s, 0, sizeof *s);
    settled_replay_around(topic, false, s); /* aborted: not delivered */
    WW_ASSERT_EQ_INT(count_prefix(s, "o-"), 3);
    WW_ASSERT_EQ_INT(count_prefix(s, "c-"), 4);
    WW_ASSERT_EQ_INT(s->n, 5 + 3 + 2 + 2);
    free(s);
}

WW_TEST(empty_and_missing_topics) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-empty");
    bt_create_topic(topic, 4);
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t *s = calloc(1, sizeof *s);
    ww_err_t err = {0};
    ww_bus_replay_config_t cfg = {.topic = topic, .handler = collect,
                                  .opaque = s, .timeout_ms = 30000};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(s->n, 0);
    cfg.topic = "replay-no-such-topic-anywhere";
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err),
                     WW_ERR_NOT_FOUND);
    WW_ASSERT_CONTAINS(err.msg, "replay-no-such-topic-anywhere");
    cfg.handler = NULL;
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);
    free(s);
    ww_bus_config_destroy(base);
}

static ww_code_t fail_on_third(void *opaque, const rd_kafka_message_t *m,
                               ww_err_t *err) {
    (void)m;
    int *n = opaque;
    if (++*n == 3) return ww_err_set(err, WW_ERR_INTERNAL, "bad record");
    return WW_OK;
}

/* The end captured at the start sits right after a commit marker (an open
 * transaction follows): the replay must finish there, promptly, from the
 * EOF position rather than from a record. */
WW_TEST(end_after_a_commit_marker_is_reached_without_waiting) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-marker");
    bt_create_topic(topic, 1);
    bt_produce_txn(topic, 0, 0, 5, "c-%d", true, false);
    rd_kafka_t *open = bt_produce_txn(topic, 0, 0, 3, "o-%d", false, true);
    ww_bus_config_t *base = bt_bus(NULL);
    seen_t *s = calloc(1, sizeof *s);
    ww_err_t err = {0};
    ww_bus_replay_config_t cfg = {.topic = topic, .handler = collect,
                                  .opaque = s, .timeout_ms = 10000};
    int64_t t0 = ww_test_now_ms();
    WW_ASSERT_MSG(ww_bus_replay_run(base, &cfg, NULL, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT(ww_test_now_ms() - t0 < 5000);
    WW_ASSERT_EQ_INT(s->n, 5);
    WW_ASSERT_EQ_INT(count_prefix(s, "o-"), 0);
    rd_kafka_error_t *e = rd_kafka_abort_transaction(open, 30000);
    WW_ASSERT_MSG(!e, "abort: %s", e ? rd_kafka_error_string(e) : "");
    rd_kafka_destroy(open);
    /* Now the log ends with an abort marker after aborted records. */
    memset(s, 0, sizeof *s);
    WW_ASSERT_MSG(ww_bus_replay_run(base, &cfg, NULL, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT_EQ_INT(s->n, 5);
    free(s);
    ww_bus_config_destroy(base);
}

WW_TEST(handler_error_stops_the_replay_with_that_error) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "replay-err");
    bt_create_topic(topic, 1);
    bt_produce(topic, 0, 0, 10, "m-%d");
    ww_bus_config_t *base = bt_bus(NULL);
    int n = 0;
    ww_err_t err = {0};
    ww_bus_replay_config_t cfg = {.topic = topic, .handler = fail_on_third,
                                  .opaque = &n, .timeout_ms = 30000};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(base, &cfg, NULL, &err),
                     WW_ERR_INTERNAL);
    WW_ASSERT_EQ_STR(err.msg, "bad record");
    WW_ASSERT_EQ_INT(n, 3);
    ww_bus_config_destroy(base);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(
                from_beginning_stops_at_the_end_as_of_start_and_skips_aborted),
            WW_CASE(from_offset_starts_there_in_every_or_each_partition),
            WW_CASE(from_timestamp_starts_at_the_first_record_at_or_after_it),
            WW_CASE(reader_without_group_receives_old_messages),
            WW_CASE(empty_and_missing_topics),
            WW_CASE(settled_waits_for_transactions_open_at_the_start),
            WW_CASE(end_after_a_commit_marker_is_reached_without_waiting),
            WW_CASE(handler_error_stops_the_replay_with_that_error),
            {0}});
}
