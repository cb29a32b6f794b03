/*
 * Proves that Debian's librdkafka works with the pinned broker: topic
 * creation through the admin API, produce, consume in a consumer group with a
 * commit read back from the broker, and a committed plus an aborted
 * transaction read back with isolation.level=read_committed.
 */
#include <librdkafka/rdkafka.h>

#include "ww_test.h"

static rd_kafka_conf_t *conf_new(const char *brokers) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    WW_ASSERT_MSG(rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err,
                                    sizeof err) == RD_KAFKA_CONF_OK,
                  "%s", err);
    return conf;
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v) {
    char err[256];
    WW_ASSERT_MSG(rd_kafka_conf_set(conf, k, v, err, sizeof err) ==
                      RD_KAFKA_CONF_OK,
                  "%s=%s: %s", k, v, err);
}

static void create_topic(const char *brokers, const char *topic) {
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf_new(brokers), err,
                                  sizeof err);
    WW_ASSERT_MSG(rk, "%s", err);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, err,
                                                    sizeof err);
    WW_ASSERT_MSG(nt, "%s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    WW_ASSERT_MSG(ev, "CreateTopics timed out");
    WW_ASSERT_MSG(rd_kafka_event_error(ev) == 0, "CreateTopics: %s",
                  rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(ev), &n);
    WW_ASSERT_EQ_INT(n, 1);
    WW_ASSERT_MSG(rd_kafka_topic_result_error(res[0]) == 0, "%s: %s", topic,
                  rd_kafka_topic_result_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static void produce(rd_kafka_t *rk, const char *topic, const char *value) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE((void *)value,
                                                      strlen(value)),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    WW_ASSERT_MSG(e == 0, "produce: %s", rd_kafka_err2str(e));
}

/* Reads values from the consumer until `want` arrived or 30 s passed;
 * returns how many were read into out[] (each strdup'ed). */
static int consume_n(rd_kafka_t *c, char **out, int want) {
    int got = 0;
    int64_t deadline = ww_test_now_ms() + 30000;
    while (got < want && ww_test_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || m->err) {
            WW_ASSERT_MSG(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF,
                          "consume: %s", rd_kafka_message_errstr(m));
        } else {
            out[got++] = strndup(m->payload, m->len);
        }
        rd_kafka_message_destroy(m);
    }
    return got;
}

WW_TEST(produce_then_consume_in_a_group_and_commit) {
    const char *brokers = ww_test_kafka_brokers();
    char topic[128], group[128], err[256], val[32];
    ww_test_unique_name(topic, sizeof topic, "smoke-plain");
    ww_test_unique_name(group, sizeof group, "smoke-group");
    create_topic(brokers, topic);

    rd_kafka_conf_t *pc = conf_new(brokers);
    conf_set(pc, "enable.idempotence", "true");
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    WW_ASSERT_MSG(p, "%s", err);
    for (int i = 0; i < 10; i++) {
        snprintf(val, sizeof val, "m%d", i);
        produce(p, topic, val);
    }
    WW_ASSERT_EQ_INT(rd_kafka_flush(p, 30000), 0);
    rd_kafka_destroy(p);

    rd_kafka_conf_t *cc = conf_new(brokers);
    conf_set(cc, "group.id", group);
    conf_set(cc, "auto.offset.reset", "earliest");
    conf_set(cc, "enable.auto.commit", "false");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    WW_ASSERT_MSG(c, "%s", err);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *sub =
        rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    WW_ASSERT_EQ_INT(rd_kafka_subscribe(c, sub), 0);
    rd_kafka_topic_partition_list_destroy(sub);

    char *got[10];
    int n = consume_n(c, got, 10);
    WW_ASSERT_EQ_INT(n, 10);
    for (int i = 0; i < n; i++) {
        snprintf(val, sizeof val, "m%d", i);
        WW_ASSERT_EQ_STR(got[i], val);
        free(got[i]);
    }
    WW_ASSERT_EQ_INT(rd_kafka_commit(c, NULL, 0), 0);

    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0);
    WW_ASSERT_EQ_INT(rd_kafka_committed(c, parts, 10000), 0);
    WW_ASSERT_EQ_INT(parts->elems[0].offset, 10);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

static void txn_ok(rd_kafka_error_t *e, const char *what) {
    if (e) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        WW__FAIL("%s: %s", what, msg);
    }
}

WW_TEST(read_committed_sees_committed_and_not_aborted_transactions) {
    const char *brokers = ww_test_kafka_brokers();
    char topic[128], txid[128], err[256], val[32];
    ww_test_unique_name(topic, sizeof topic, "smoke-txn");
    ww_test_unique_name(txid, sizeof txid, "smoke-txid");
    create_topic(brokers, topic);

    rd_kafka_conf_t *pc = conf_new(brokers);
    conf_set(pc, "transactional.id", txid);
    conf_set(pc, "transaction.timeout.ms", "10000");
    conf_set(pc, "message.timeout.ms", "9000");
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    WW_ASSERT_MSG(p, "%s", err);
    txn_ok(rd_kafka_init_transactions(p, 30000), "init_transactions");

    txn_ok(rd_kafka_begin_transaction(p), "begin");
    for (int i = 0; i < 5; i++) {
        snprintf(val, sizeof val, "committed-%d", i);
        produce(p, topic, val);
    }
    txn_ok(rd_kafka_commit_transaction(p, 30000), "commit");

    txn_ok(rd_kafka_begin_transaction(p), "begin");
    for (int i = 0; i < 5; i++) {
        snprintf(val, sizeof val, "aborted-%d", i);
        produce(p, topic, val);
    }
    WW_ASSERT_EQ_INT(rd_kafka_flush(p, 30000), 0);
    txn_ok(rd_kafka_abort_transaction(p, 30000), "abort");

    txn_ok(rd_kafka_begin_transaction(p), "begin");
    produce(p, topic, "after");
    txn_ok(rd_kafka_commit_transaction(p, 30000), "commit");
    rd_kafka_destroy(p);

    rd_kafka_conf_t *cc = conf_new(brokers);
    conf_set(cc, "group.id", "unused-assign-only");
    conf_set(cc, "isolation.level", "read_committed");
    conf_set(cc, "enable.partition.eof", "true");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    WW_ASSERT_MSG(c, "%s", err);
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    WW_ASSERT_EQ_INT(rd_kafka_assign(c, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);

    /* Read to the partition's end: the aborted records must never appear. */
    const char *want[] = {"committed-0", "committed-1", "committed-2",
                          "committed-3", "committed-4", "after"};
    int got = 0;
    bool eof = false;
    int64_t deadline = ww_test_now_ms() + 30000;
    while (!eof && ww_test_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof = got == 6;
        } else {
            WW_ASSERT_MSG(!m->err, "consume: %s", rd_kafka_message_errstr(m));
            char *v = strndup(m->payload, m->len);
            WW_ASSERT_MSG(got < 6, "unexpected extra record \"%s\"", v);
            WW_ASSERT_EQ_STR(v, want[got]);
            free(v);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    WW_ASSERT_EQ_INT(got, 6);
    WW_ASSERT(eof);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(produce_then_consume_in_a_group_and_commit),
            WW_CASE(read_committed_sees_committed_and_not_aborted_transactions),
            {0}});
}
