/* bus_txn_support.c - raw librdkafka helpers for the bus tests. */
#include "bus_txn_support.h"

#include <sys/time.h>

#include "ww_test.h"

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
    char err[256];
    WW_ASSERT_MSG(rd_kafka_conf_set(c, k, v, err, sizeof err) ==
                      RD_KAFKA_CONF_OK,
                  "%s=%s: %s", k, v, err);
}

rd_kafka_conf_t *bt_conf(void) {
    const char *brokers = ww_test_kafka_brokers();
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    set(c, "bootstrap.servers", brokers);
    return c;
}

ww_bus_config_t *bt_bus(const char *instance) {
    const char *brokers = ww_test_kafka_brokers();
    ww_err_t err = {0};
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    WW_ASSERT_MSG(bus, "bus config: %s", err.msg);
    WW_ASSERT_MSG(ww_bus_config_set_brokers(bus, brokers, &err) == WW_OK,
                  "%s", err.msg);
    if (instance)
        WW_ASSERT_MSG(ww_bus_config_set_instance_id(bus, instance, &err) ==
                          WW_OK,
                      "%s", err.msg);
    return bus;
}

int64_t bt_wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void bt_create_topic(const char *topic, int partitions) {
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, bt_conf(), err,
                                  sizeof err);
    WW_ASSERT_MSG(rk, "%s", err);
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    WW_ASSERT_MSG(nt, "%s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    WW_ASSERT_MSG(ev, "CreateTopics timed out");
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(ev), &n);
    WW_ASSERT_MSG(rd_kafka_event_error(ev) == 0 && n == 1 &&
                      rd_kafka_topic_result_error(res[0]) == 0,
                  "create %s: %s", topic,
                  n == 1 ? rd_kafka_topic_result_error_string(res[0])
                         : rd_kafka_event_error_string(ev));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    /* Created is not yet visible: a reader started at once may find no
     * such topic in the metadata. Wait until the partitions show. */
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        const rd_kafka_metadata_t *md = NULL;
        if (rd_kafka_metadata(rk, 0, t, &md, 5000) == 0) {
            seen = md->topic_cnt == 1 && !md->topics[0].err &&
                   md->topics[0].partition_cnt == partitions;
            rd_kafka_metadata_destroy(md);
        }
        if (!seen) usleep(50000);
    }
    rd_kafka_topic_destroy(t);
    WW_ASSERT_MSG(seen, "%s never showed %d partitions", topic, partitions);
    rd_kafka_destroy(rk);
}

static void produce_range(rd_kafka_t *rk, const char *topic,
                          int32_t partition, int from, int n,
                          const char *fmt) {
    for (int i = from; i < from + n; i++) {
        char key[32], val[128];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, fmt, i);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(val, strlen(val)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 50);
        WW_ASSERT_MSG(e == 0, "produce: %s", rd_kafka_err2str(e));
    }
}

static int failed_deliveries;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op) {
    (void)rk;
    (void)op;
    if (m->err) __atomic_add_fetch(&failed_deliveries, 1, __ATOMIC_SEQ_CST);
}

void bt_produce(const char *topic, int32_t partition, int from, int n,
                const char *fmt) {
    char err[256];
    rd_kafka_conf_t *c = bt_conf();
    set(c, "enable.idempotence", "true");
    set(c, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    WW_ASSERT_MSG(rk, "%s", err);
    failed_deliveries = 0;
    produce_range(rk, topic, partition, from, n, fmt);
    WW_ASSERT_EQ_INT(rd_kafka_flush(rk, 30000), 0);
    WW_ASSERT_EQ_INT(failed_deliveries, 0);
    rd_kafka_destroy(rk);
}

static void txn_ok(rd_kafka_error_t *e, const char *what) {
    if (!e) return;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    WW__FAIL("%s: %s", what, msg);
}

rd_kafka_t *bt_produce_txn(const char *topic, int32_t partition, int from,
                           int n, const char *fmt, bool commit,
                           bool leave_open) {
    char err[256], txid[128];
    rd_kafka_conf_t *c = bt_conf();
    ww_test_unique_name(txid, sizeof txid, "bt-txid");
    set(c, "transactional.id", txid);
    set(c, "transaction.timeout.ms", "10000");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    WW_ASSERT_MSG(rk, "%s", err);
    txn_ok(rd_kafka_init_transactions(rk, 30000), "init_transactions");
    txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction");
    produce_range(rk, topic, partition, from, n, fmt);
    if (leave_open) {
        WW_ASSERT_EQ_INT(rd_kafka_flush(rk, 30000), 0);
        return rk;
    }
    if (commit)
        txn_ok(rd_kafka_commit_transaction(rk, 30000), "commit_transaction");
    else
        txn_ok(rd_kafka_abort_transaction(rk, 30000), "abort_transaction");
    rd_kafka_destroy(rk);
    return NULL;
}
