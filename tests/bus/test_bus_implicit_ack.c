/*
 * librdkafka 2.0.2's "implicit ack", made to happen on a mock cluster: a
 * partition's batch is refused with NOT_LEADER while the next batch is in
 * flight, the next one succeeds, and librdkafka reports the refused record
 * as delivered, without an offset, although it is not in the log. A real
 * broker does the same to the first batches of a topic this new
 * (test_bus_restart met it). The publisher must not count such a record:
 * it reports it UNAVAILABLE (retriable), the next record OK with its
 * offset, and the log holds only the next one.
 *
 * The processor's guard (it aborts and redoes a batch with such a record,
 * ww_bus_processor_stats_t.unconfirmed) cannot be shown here: the mock
 * checks a transactional producer's sequence numbers strictly and refuses
 * the next batch too, where a real broker accepts it from a producer id
 * new to the partition.
 */
#include "bus_test_util.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>

enum { API_PRODUCE = 0, RTT_MS = 300 };

/* A mock cluster of one broker, and the handle that owns it. */
typedef struct mock {
    rd_kafka_t *owner;
    rd_kafka_mock_cluster_t *mc;
} mock_t;

static void mock_start(mock_t *m) {
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", e, sizeof e);
    m->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    WW_ASSERT_MSG(m->owner, "%s", e);
    m->mc = rd_kafka_mock_cluster_new(m->owner, 1);
    WW_ASSERT(m->mc);
}

static void mock_stop(mock_t *m) {
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->owner);
}

/* The next Produce request, whoever sends it, is refused with NOT_LEADER
 * after RTT_MS, so a record produced meanwhile goes in a request of its
 * own and is answered first. */
static void refuse_next_produce(rd_kafka_mock_cluster_t *mc) {
    rd_kafka_mock_broker_set_rtt(mc, 1, RTT_MS);
    rd_kafka_mock_push_request_errors(
        mc, API_PRODUCE, 1, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
}

/* ------------------------------------------------------------ publisher */

typedef struct outcome {
    pthread_mutex_t mu;
    bool done;
    ww_code_t code;
    bool retriable;
    char msg[256];
    int64_t offset;
} outcome_t;

static void on_delivery(void *opaque, const ww_bus_delivery_t *d) {
    outcome_t *o = opaque;
    pthread_mutex_lock(&o->mu);
    o->done = true;
    o->code = d->code;
    o->retriable = d->err && d->err->retriable;
    snprintf(o->msg, sizeof o->msg, "%s", d->err ? d->err->msg : "");
    o->offset = d->offset;
    pthread_mutex_unlock(&o->mu);
}

static void publish(ww_bus_publisher_t *pub, const char *topic,
                    const char *notes, outcome_t *o) {
    ww_err_t err = {0};
    Wildworkouts__Events__V1__TrainingScheduled ev =
        WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
    ev.notes = (char *)notes;
    char id[64];
    snprintf(id, sizeof id, "implicit-%s", notes);
    ww_bus_envelope_meta_t meta = {.source = "/test", .id = id};
    pthread_mutex_init(&o->mu, NULL);
    WW_ASSERT_MSG(ww_bus_publisher_publish(pub, topic, "k", 1, &ev.base, &meta,
                                           on_delivery, o, NULL, &err) == WW_OK,
                  "%s", err.msg);
}

WW_TEST(the_publisher_reports_an_implicitly_acked_record_as_failed) {
    mock_t m;
    mock_start(&m);
    WW_ASSERT_EQ_INT(rd_kafka_mock_topic_create(m.mc, "ia-pub", 1, 1), 0);
    ww_bus_config_t *cfg = bt_config(rd_kafka_mock_cluster_bootstraps(m.mc));
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    ww_err_t err = {0};

    outcome_t warm = {0}, a = {0}, b = {0};
    publish(pub, "ia-pub", "warm", &warm); /* the PID, the metadata */
    WW_ASSERT_EQ_INT(ww_bus_publisher_flush(pub, 10000, &err), WW_OK);
    WW_ASSERT_EQ_INT(warm.code, WW_OK);

    refuse_next_produce(m.mc);
    publish(pub, "ia-pub", "a", &a);
    usleep(RTT_MS * 1000 / 6); /* a is on the wire */
    publish(pub, "ia-pub", "b", &b);
    WW_ASSERT_EQ_INT(ww_bus_publisher_flush(pub, 20000, &err), WW_OK);
    bt_close_pub(pub);

    WW_ASSERT(a.done && b.done);
    WW_ASSERT_MSG(a.code == WW_ERR_UNAVAILABLE, "a: %s (offset %lld)",
                  ww_code_name(a.code), (long long)a.offset);
    WW_ASSERT(a.retriable);
    WW_ASSERT_CONTAINS(a.msg, "not confirmed by the broker");
    WW_ASSERT_EQ_INT(b.code, WW_OK);
    WW_ASSERT_EQ_INT((int)b.offset, 1);
    /* what librdkafka called delivered is not in the log: warm and b are */
    char e[256];
    rd_kafka_conf_t *qc = rd_kafka_conf_new();
    WW_ASSERT_EQ_INT(rd_kafka_conf_set(qc, "bootstrap.servers",
                                       rd_kafka_mock_cluster_bootstraps(m.mc),
                                       e, sizeof e),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *q = rd_kafka_new(RD_KAFKA_PRODUCER, qc, e, sizeof e);
    WW_ASSERT_MSG(q, "%s", e);
    int64_t low = -1, high = -1;
    WW_ASSERT_EQ_INT(
        rd_kafka_query_watermark_offsets(q, "ia-pub", 0, &low, &high, 10000),
        0);
    rd_kafka_destroy(q);
    WW_ASSERT_EQ_INT((int)high, 2);
    ww_bus_config_destroy(cfg);
    mock_stop(&m);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(the_publisher_reports_an_implicitly_acked_record_as_failed),
            {0}});
}
