/*
 * Poison records: a record without headers, one of an unknown type, one
 * whose payload does not parse, one the handler rejects and one that keeps
 * failing all reach <topic>.dlq with headers saying why, how often it was
 * tried and where it came from; the records after them are delivered in
 * order, and the group's offset moves past all of them.
 * Built twice: real broker (label kafka) and embedded mock (BT_MOCK).
 */
#include "bus_test_util.h"
#include "ww_bus_dlq.h"

static ww_bus_config_t *cfg;

static void produce_raw(rd_kafka_t *rk, const char *topic, const char *key,
                        const void *value, size_t len,
                        rd_kafka_headers_t *h) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    WW_ASSERT_MSG(e == 0, "produce: %s", rd_kafka_err2str(e));
}

/* Headers of a valid event of `type`. */
static rd_kafka_headers_t *valid_headers(const char *id, const char *type) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
    rd_kafka_header_add(h, "ce_id", -1, id, -1);
    rd_kafka_header_add(h, "ce_type", -1, type, -1);
    rd_kafka_header_add(h, "ce_source", -1, "/foreign", -1);
    rd_kafka_header_add(h, "ce_time", -1, "2026-11-26T13:00:00Z", -1);
    rd_kafka_header_add(h, "content-type", -1, "application/protobuf", -1);
    return h;
}

/* Event 1 is rejected, event 2 always fails; the rest is acked. */
static ww_bus_verdict_t picky_handler(void *opaque, const ww_bus_record_t *rec,
                                      ww_err_t *reason) {
    int n = bt_event_number(rec->event);
    if (n == 1) {
        ww_err_set(reason, WW_ERR_FAILED_PRECONDITION, "refused %d", n);
        return WW_BUS_REJECT;
    }
    if (n == 2) {
        ww_err_set(reason, WW_ERR_UNAVAILABLE, "still failing %d", n);
        return WW_BUS_RETRY;
    }
    bt_tally_add(opaque, rec);
    return WW_BUS_ACK;
}

WW_TEST(poison_records_reach_the_dlq_and_the_partition_moves_on) {
    char topic[128], group[128], dlq[160];
    ww_test_unique_name(topic, sizeof topic, "poison");
    ww_test_unique_name(group, sizeof group, "poison-g");
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    bt_create_topic(cfg, topic, 1);

    ww_bus_publisher_t *pub = bt_publisher(cfg);
    rd_kafka_t *raw = ww_bus_publisher_handle(pub);
    bt_publish_range(pub, topic, topic, 0, 1, 1);               /* offset 0 */
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_publisher_flush(pub, 30000, &err), WW_OK);
    produce_raw(raw, topic, "k", "garbage", 7, NULL);           /* 1 */
    WW_ASSERT_EQ_INT(rd_kafka_flush(raw, 30000), 0);
    produce_raw(raw, topic, "k", "", 0,
                valid_headers("u-1", "acme.v9.Unknown"));       /* 2 */
    const unsigned char bad[] = {0x0a, 0x64, 'x'};
    produce_raw(raw, topic, "k", bad, sizeof bad,
                valid_headers("b-1", "wildworkouts.events.v1."
                                     "TrainingScheduled"));     /* 3 */
    WW_ASSERT_EQ_INT(rd_kafka_flush(raw, 30000), 0);
    bt_publish_range(pub, topic, topic, 1, 10, 1);              /* 4..12 */
    bt_close_pub(pub);

    bt_tally_t t;
    bt_tally_init(&t, topic, 10, 1);
    const char *topics[] = {topic};
    ww_bus_subscriber_opts_t o = {.group = group, .topics = topics,
                                  .n_topics = 1, .registry = bt_registry(),
                                  .handler = picky_handler, .opaque = &t,
                                  .max_attempts = 3, .backoff_initial_ms = 10,
                                  .backoff_max_ms = 20,
                                  .commit_interval_ms = 100};
    ww_bus_subscriber_t *sub = bt_subscribe_opts(cfg, &o);
    bool all = bt_tally_wait(&t, 8, 30000);
    ww_bus_subscriber_stats_t st;
    ww_bus_subscriber_stats(sub, &st);
    bt_close_sub(sub);
    WW_ASSERT_MSG(all, "got %d of 8 good records", t.distinct);
    for (int n = 0; n < 10; n++)
        WW_ASSERT_EQ_INT(t.count[n], n == 1 || n == 2 ? 0 : 1);
    WW_ASSERT_EQ_INT(t.order_violations, 0);
    WW_ASSERT_EQ_INT(st.dead_lettered, 5);
    WW_ASSERT_EQ_INT(bt_committed(cfg, group, topic, 0), 13);

    bt_records_t r = bt_read_all(cfg, dlq, 0, 5, 30000);
    rd_kafka_message_t **dl = r.msgs;
    WW_ASSERT_EQ_INT(r.n, 5);
    struct {
        const char *offset, *attempts, *reason;
    } want[] = {
        {"1", "0", "missing header ce_specversion"},
        {"2", "0", "unknown ce_type \"acme.v9.Unknown\""},
        {"3", "0", "does not parse as wildworkouts.events.v1.TrainingScheduled"},
        {"4", "1", "rejected by handler: refused 1"},
        {"5", "3", "gave up after 3 attempts: still failing 2"},
    };
    for (int i = 0; i < 5; i++) {
        WW_ASSERT_EQ_STR(bt_header(dl[i], "ww_dlq_topic"), topic);
        WW_ASSERT_EQ_STR(bt_header(dl[i], "ww_dlq_partition"), "0");
        WW_ASSERT_EQ_STR(bt_header(dl[i], "ww_dlq_offset"), want[i].offset);
        WW_ASSERT_EQ_STR(bt_header(dl[i], "ww_dlq_attempts"), want[i].attempts);
        WW_ASSERT_CONTAINS(bt_header(dl[i], "ww_dlq_reason"), want[i].reason);
        WW_ASSERT_EQ_STR(bt_header(dl[i], "ww_dlq_group"), group);
        WW_ASSERT(bt_header(dl[i], "ww_dlq_time") != NULL);
        WW_ASSERT_EQ_INT(dl[i]->key_len, i < 3 ? 1 : 5);
    }
    /* The original value and headers travel along unchanged. */
    WW_ASSERT_EQ_INT(dl[0]->len, 7);
    WW_ASSERT(!memcmp(dl[0]->payload, "garbage", 7));
    WW_ASSERT_EQ_STR(bt_header(dl[1], "ce_id"), "u-1");
    WW_ASSERT_EQ_INT(dl[2]->len, sizeof bad);
    char id1[160];
    bt_event_id(id1, sizeof id1, topic, 1);
    WW_ASSERT_EQ_STR(bt_header(dl[3], "ce_id"), id1);
    bt_records_free(&r);
    bt_tally_free(&t);
}

/* The trigger of issue 12: an undecodable record of about 999,500 bytes.
 * Its dead letter (the record plus the DLQ headers) is over the producer's
 * message.max.bytes, which librdkafka refused every time, so the partition
 * stopped for good. Now the DLQ gets a truncated copy that says so, and
 * the records after it are handled. */
WW_TEST(a_poison_record_too_large_to_copy_is_dead_lettered_truncated) {
    char topic[128], group[128], dlq[160];
    ww_test_unique_name(topic, sizeof topic, "huge");
    ww_test_unique_name(group, sizeof group, "huge-g");
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    bt_create_topic(cfg, topic, 1);
    enum { HUGE = 999500 };
    /* 0xff forever: a varint that never ends, so the payload does not
     * parse; its CloudEvents headers and a padding header make the record
     * fit in message.max.bytes (1,000,000) and its dead letter not. */
    char *huge = malloc(HUGE);
    WW_ASSERT(huge);
    memset(huge, 0xff, HUGE);
    char pad[201];
    memset(pad, 'p', 200);
    pad[200] = '\0';
    rd_kafka_headers_t *h =
        valid_headers("huge-1", "wildworkouts.events.v1.TrainingScheduled");
    rd_kafka_header_add(h, "x-padding", -1, pad, -1);
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    rd_kafka_t *raw = ww_bus_publisher_handle(pub);
    produce_raw(raw, topic, "k", huge, HUGE, h); /* offset 0 */
    WW_ASSERT_EQ_INT(rd_kafka_flush(raw, 30000), 0);
    bt_publish_range(pub, topic, topic, 0, 5, 1); /* 1..5 */
    bt_close_pub(pub);

    bt_tally_t t;
    bt_tally_init(&t, topic, 5, 1);
    const char *topics[] = {topic};
    ww_bus_subscriber_opts_t o = {.group = group,
                                  .topics = topics,
                                  .n_topics = 1,
                                  .registry = bt_registry(),
                                  .handler = bt_ack_handler,
                                  .opaque = &t,
                                  .backoff_initial_ms = 100,
                                  .backoff_max_ms = 200,
                                  .commit_interval_ms = 100};
    ww_bus_subscriber_t *sub = bt_subscribe_opts(cfg, &o);
    bool all = bt_tally_wait(&t, 5, 60000);
    ww_bus_subscriber_stats_t st;
    ww_bus_subscriber_stats(sub, &st);
    bt_close_sub(sub);
    WW_ASSERT_MSG(all, "got %d of 5 records after the poison one", t.distinct);
    bt_tally_expect(&t, 0, 5, true);
    WW_ASSERT_EQ_INT(st.dead_lettered, 1);
    WW_ASSERT_EQ_INT(st.dlq_skipped, 0);
    WW_ASSERT_EQ_INT(bt_committed(cfg, group, topic, 0), 6);

    bt_records_t r = bt_read_all(cfg, dlq, 0, 1, 30000);
    WW_ASSERT_EQ_INT(r.n, 1);
    rd_kafka_message_t *d = r.msgs[0];
    WW_ASSERT_EQ_STR(bt_header(d, "ww_dlq_truncated"), "true");
    WW_ASSERT_EQ_STR(bt_header(d, "ww_dlq_original_bytes"), "999500");
    WW_ASSERT_EQ_STR(bt_header(d, "ww_dlq_offset"), "0");
    WW_ASSERT_CONTAINS(bt_header(d, "ww_dlq_reason"), "undecodable");
    WW_ASSERT_CONTAINS(bt_header(d, "ww_dlq_reason"), "does not parse");
    WW_ASSERT_EQ_STR(bt_header(d, "ce_id"), "huge-1"); /* small headers kept */
    WW_ASSERT_CONTAINS(bt_header(d, "ww_dlq_reason"),
                       "dead letter truncated: value 65536 of 999500 bytes");
    WW_ASSERT_EQ_INT(d->len, WW_BUS_DLQ_TRUNCATED_VALUE);
    WW_ASSERT(!memcmp(d->payload, huge, d->len)); /* the value's start */
    WW_ASSERT_EQ_INT(d->key_len, 1);
    bt_records_free(&r);
    bt_tally_free(&t);
    free(huge);
}

#ifndef BT_MOCK
/* While the DLQ write fails for a transient reason (here: it times out
 * before the producer learns the topic is missing) the partition waits
 * (nothing committed past the poison record, nothing after it handled);
 * once the DLQ exists the record lands there and the partition moves on. */
WW_TEST(an_unwritable_dlq_holds_the_partition_without_losing_anything) {
    char topic[128], group[128], dlq[160];
    ww_test_unique_name(topic, sizeof topic, "nodlq");
    ww_test_unique_name(group, sizeof group, "nodlq-g");
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    ww_bus_topic_spec_t only_topic = {.name = topic, .partitions = 1,
                                      .replication_factor = 1};
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_admin_ensure_topics(cfg, &only_topic, 1, 30000,
                                                &err), WW_OK);
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    produce_raw(ww_bus_publisher_handle(pub), topic, "k", "poison", 6, NULL);
    WW_ASSERT_EQ_INT(rd_kafka_flush(ww_bus_publisher_handle(pub), 30000), 0);
    bt_publish_range(pub, topic, topic, 0, 5, 1);
    bt_close_pub(pub);

    bt_tally_t t;
    bt_tally_init(&t, topic, 5, 1);
    ww_bus_config_t *short_cfg = ww_bus_config_dup(cfg);
    /* Fail the DLQ writes fast instead of after the default 30 s. */
    WW_ASSERT_EQ_INT(ww_bus_config_set(short_cfg, "message.timeout.ms", "1000",
                                       &err), WW_OK);
    const char *topics[] = {topic};
    ww_bus_subscriber_opts_t o = {.group = group, .topics = topics,
                                  .n_topics = 1, .registry = bt_registry(),
                                  .handler = bt_ack_handler, .opaque = &t,
                                  .backoff_initial_ms = 100,
                                  .backoff_max_ms = 200,
                                  .commit_interval_ms = 100};
    ww_bus_subscriber_t *sub = bt_subscribe_opts(short_cfg, &o);
    sleep(4);
    WW_ASSERT_EQ_INT(t.total, 0);
    WW_ASSERT_EQ_INT(bt_committed(cfg, group, topic, 0), RD_KAFKA_OFFSET_INVALID);

    ww_bus_topic_spec_t dlq_spec = {.name = dlq, .partitions = 1,
                                    .replication_factor = 1};
    WW_ASSERT_EQ_INT(ww_bus_admin_ensure_topics(cfg, &dlq_spec, 1, 30000,
                                                &err), WW_OK);
    bool all = bt_tally_wait(&t, 5, 60000);
    bt_close_sub(sub);
    ww_bus_config_destroy(short_cfg);
    WW_ASSERT_MSG(all, "got %d of 5 after the DLQ appeared", t.distinct);
    bt_tally_expect(&t, 0, 5, true);
    WW_ASSERT_EQ_INT(bt_committed(cfg, group, topic, 0), 6);
    bt_records_t r = bt_read_all(cfg, dlq, 0, 1, 30000);
    WW_ASSERT(r.n >= 1); /* a retry after a lost acknowledgement may add one */
    WW_ASSERT_EQ_STR(bt_header(r.msgs[0], "ww_dlq_offset"), "0");
    bt_records_free(&r);
    bt_tally_free(&t);
}

/* A permanent DLQ error (the producer learns the DLQ topic does not
 * exist) does not hold the partition: the record is skipped, counted and
 * logged, and the records after it are handled. */
WW_TEST(a_missing_dlq_topic_is_skipped_with_a_counter) {
    char topic[128], group[128];
    ww_test_unique_name(topic, sizeof topic, "gonedlq");
    ww_test_unique_name(group, sizeof group, "gonedlq-g");
    ww_bus_topic_spec_t only_topic = {
        .name = topic, .partitions = 1, .replication_factor = 1};
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(
        ww_bus_admin_ensure_topics(cfg, &only_topic, 1, 30000, &err), WW_OK);
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    produce_raw(ww_bus_publisher_handle(pub), topic, "k", "poison", 6, NULL);
    WW_ASSERT_EQ_INT(rd_kafka_flush(ww_bus_publisher_handle(pub), 30000), 0);
    bt_publish_range(pub, topic, topic, 0, 5, 1);
    bt_close_pub(pub);

    bt_tally_t t;
    bt_tally_init(&t, topic, 5, 1);
    ww_bus_config_t *c2 = ww_bus_config_dup(cfg);
    /* Decide "no such topic" after 1 s instead of 30 s. */
    WW_ASSERT_EQ_INT(ww_bus_config_set(c2, "topic.metadata.propagation.max.ms",
                                       "1000", &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_config_set(c2, "message.timeout.ms", "60000", &err),
                     WW_OK);
    const char *topics[] = {topic};
    ww_bus_subscriber_opts_t o = {.group = group,
                                  .topics = topics,
                                  .n_topics = 1,
                                  .registry = bt_registry(),
                                  .handler = bt_ack_handler,
                                  .opaque = &t,
                                  .commit_interval_ms = 100};
    ww_bus_subscriber_t *sub = bt_subscribe_opts(c2, &o);
    bool all = bt_tally_wait(&t, 5, 60000);
    ww_bus_subscriber_stats_t st;
    ww_bus_subscriber_stats(sub, &st);
    bt_close_sub(sub);
    ww_bus_config_destroy(c2);
    WW_ASSERT_MSG(all, "got %d of 5 after the poison record", t.distinct);
    bt_tally_expect(&t, 0, 5, true);
    WW_ASSERT_EQ_INT(st.dlq_skipped, 1);
    WW_ASSERT_EQ_INT(st.dead_lettered, 0);
    WW_ASSERT_EQ_INT(bt_committed(cfg, group, topic, 0), 6);
    bt_tally_free(&t);
}
#endif

int main(int argc, char **argv) {
#ifdef BT_MOCK
    ww_err_t err = {0};
    bt_embedded = ww_bus_embedded_new(1, &err);
    if (!bt_embedded) {
        fprintf(stderr, "embedded broker: %s\n", err.msg);
        return 1;
    }
    cfg = bt_config(ww_bus_embedded_bootstrap(bt_embedded));
#else
    cfg = bt_config(getenv("KAFKA_BROKERS") ? getenv("KAFKA_BROKERS") : "");
#endif
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(poison_records_reach_the_dlq_and_the_partition_moves_on),
            WW_CASE(
                a_poison_record_too_large_to_copy_is_dead_lettered_truncated),
#ifndef BT_MOCK
            WW_CASE(
                an_unwritable_dlq_holds_the_partition_without_losing_anything),
            WW_CASE(a_missing_dlq_topic_is_skipped_with_a_counter),
#endif
            {0}});
    ww_bus_config_destroy(cfg);
#ifdef BT_MOCK
    ww_bus_embedded_destroy(bt_embedded);
#endif
    return rc;
}
