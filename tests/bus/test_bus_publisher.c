/*
 * Publisher and admin on the real broker (label kafka): delivery results
 * reach the caller (callback and sync), failures are reported rather than
 * lost, close is idempotent and cancels what cannot be delivered, and topic
 * creation is idempotent but refuses a partition count that differs.
 * With BT_MOCK the publisher cases run on the embedded cluster too.
 */
#include "bus_test_util.h"

static ww_bus_config_t *cfg;

static void event(Wildworkouts__Events__V1__TrainingScheduled *ev) {
    *ev = (Wildworkouts__Events__V1__TrainingScheduled)
        WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
    ev->trainer_id = "trainer-1";
    ev->training_uuid = "t-1";
}

WW_TEST(publish_sync_reports_partition_and_offset) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "sync");
    bt_create_topic(cfg, topic, 4);
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    Wildworkouts__Events__V1__TrainingScheduled ev;
    event(&ev);
    ww_bus_envelope_meta_t meta = {.source = "/test"};
    ww_err_t err = {0};
    int32_t p1 = -1, p2 = -1;
    int64_t o1 = -1, o2 = -1;
    char id1[WW_BUS_ID_MAX + 1], id2[WW_BUS_ID_MAX + 1];
    WW_ASSERT_MSG(ww_bus_publisher_publish_sync(pub, topic, "same", 4,
                                                &ev.base, &meta, 10000, &p1,
                                                &o1, id1, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT_MSG(ww_bus_publisher_publish_sync(pub, topic, "same", 4,
                                                &ev.base, &meta, 10000, &p2,
                                                &o2, id2, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT(p1 >= 0 && p1 < 4);
    WW_ASSERT_EQ_INT(p2, p1); /* one key, one partition */
    WW_ASSERT_EQ_INT(o1, 0);
    WW_ASSERT_EQ_INT(o2, 1);
    WW_ASSERT(strcmp(id1, id2) != 0);
    bt_close_pub(pub);
}

typedef struct deliveries {
    pthread_mutex_t mu;
    int n, failed;
    ww_code_t last_code;
    char ids[200][WW_BUS_ID_MAX + 1];
    int64_t offsets[200];
    pthread_t thread;
} deliveries_t;

static void on_delivery(void *opaque, const ww_bus_delivery_t *d) {
    deliveries_t *c = opaque;
    pthread_mutex_lock(&c->mu);
    if (c->n < 200) {
        snprintf(c->ids[c->n], sizeof c->ids[0], "%s", d->event_id);
        c->offsets[c->n] = d->offset;
    }
    c->n++;
    if (d->code) c->failed++;
    c->last_code = d->code;
    c->thread = pthread_self();
    pthread_mutex_unlock(&c->mu);
}

WW_TEST(delivery_callback_reports_each_record) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "dr");
    bt_create_topic(cfg, topic, 1);
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    static deliveries_t c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    static char sent[100][WW_BUS_ID_MAX + 1];
    Wildworkouts__Events__V1__TrainingScheduled ev;
    event(&ev);
    ww_bus_envelope_meta_t meta = {.source = "/test"};
    ww_err_t err = {0};
    for (int i = 0; i < 100; i++)
        WW_ASSERT_EQ_INT(ww_bus_publisher_publish(pub, topic, "k", 1, &ev.base,
                                                  &meta, on_delivery, &c,
                                                  sent[i], &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_publisher_flush(pub, 30000, &err), WW_OK);
    pthread_mutex_lock(&c.mu);
    WW_ASSERT_EQ_INT(c.n, 100);
    WW_ASSERT_EQ_INT(c.failed, 0);
    /* In order, one partition: offsets 0..99 and ids as sent. */
    for (int i = 0; i < 100; i++) {
        WW_ASSERT_EQ_INT(c.offsets[i], i);
        WW_ASSERT_EQ_STR(c.ids[i], sent[i]);
    }
    WW_ASSERT(!pthread_equal(c.thread, pthread_self()));
    pthread_mutex_unlock(&c.mu);
    bt_close_pub(pub);
    pthread_mutex_destroy(&c.mu);
}

WW_TEST(undeliverable_records_are_reported_and_close_is_idempotent) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "missing-topic");
    ww_bus_config_t *short_cfg = ww_bus_config_dup(cfg);
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_config_set(short_cfg, "message.timeout.ms", "1500",
                                       &err), WW_OK);
    ww_err_t perr = {0};
    ww_bus_publisher_t *pub = ww_bus_publisher_new(short_cfg, &perr);
    WW_ASSERT_MSG(pub, "%s", perr.msg);
    static deliveries_t c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    Wildworkouts__Events__V1__TrainingScheduled ev;
    event(&ev);
    ww_bus_envelope_meta_t meta = {.source = "/test"};
    WW_ASSERT_EQ_INT(ww_bus_publisher_publish(pub, topic, "k", 1, &ev.base,
                                              &meta, on_delivery, &c, NULL,
                                              &err), WW_OK);
    /* The sync variant reports the same failure as its result. */
    ww_code_t rc = ww_bus_publisher_publish_sync(pub, topic, "k", 1, &ev.base,
                                                 &meta, 20000, NULL, NULL,
                                                 NULL, &err);
    WW_ASSERT_MSG(rc != WW_OK, "publish to a missing topic succeeded");
    WW_ASSERT_CONTAINS(err.msg, topic);
    WW_ASSERT_EQ_INT(ww_bus_publisher_flush(pub, 20000, &err), WW_OK);
    pthread_mutex_lock(&c.mu);
    WW_ASSERT_EQ_INT(c.n, 1);
    WW_ASSERT_EQ_INT(c.failed, 1);
    pthread_mutex_unlock(&c.mu);

    WW_ASSERT_EQ_INT(ww_bus_publisher_close(pub, 1000, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_publisher_close(pub, 1000, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_publisher_publish(pub, topic, NULL, 0, &ev.base,
                                              &meta, on_delivery, &c, NULL,
                                              &err), WW_ERR_CANCELLED);
    ww_bus_publisher_destroy(pub);
    pthread_mutex_lock(&c.mu);
    WW_ASSERT_EQ_INT(c.n, 1); /* no callback for the refused publish */
    pthread_mutex_unlock(&c.mu);
    ww_bus_config_destroy(short_cfg);
    pthread_mutex_destroy(&c.mu);
}

WW_TEST(close_cancels_what_it_cannot_deliver_and_calls_back) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "never");
    ww_err_t err = {0};
    ww_bus_publisher_t *pub = bt_publisher(cfg); /* 5 min message timeout */
    static deliveries_t c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    Wildworkouts__Events__V1__TrainingScheduled ev;
    event(&ev);
    ww_bus_envelope_meta_t meta = {.source = "/test"};
    for (int i = 0; i < 3; i++)
        WW_ASSERT_EQ_INT(ww_bus_publisher_publish(pub, topic, "k", 1, &ev.base,
                                                  &meta, on_delivery, &c, NULL,
                                                  &err), WW_OK);
    int64_t t0 = ww_test_now_ms();
    WW_ASSERT_EQ_INT(ww_bus_publisher_close(pub, 500, &err),
                     WW_ERR_DEADLINE_EXCEEDED);
    WW_ASSERT_CONTAINS(err.msg, "3 records");
    WW_ASSERT(ww_test_now_ms() - t0 < 10000);
    pthread_mutex_lock(&c.mu);
    WW_ASSERT_EQ_INT(c.n, 3);
    WW_ASSERT_EQ_INT(c.last_code, WW_ERR_CANCELLED);
    pthread_mutex_unlock(&c.mu);
    ww_bus_publisher_destroy(pub);
    pthread_mutex_destroy(&c.mu);
}

WW_TEST(publish_refuses_bad_input_without_calling_back) {
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    Wildworkouts__Events__V1__TrainingScheduled ev;
    event(&ev);
    ww_bus_envelope_meta_t no_source = {0};
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_publisher_publish(pub, "t", NULL, 0, &ev.base,
                                              &no_source, NULL, NULL, NULL,
                                              &err), WW_ERR_INVALID_ARGUMENT);
    ww_bus_envelope_meta_t meta = {.source = "/test"};
    WW_ASSERT_EQ_INT(ww_bus_publisher_publish(pub, "", NULL, 0, &ev.base,
                                              &meta, NULL, NULL, NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);
    bt_close_pub(pub);
}

#ifndef BT_MOCK
WW_TEST(ensure_topics_is_idempotent_and_checks_partitions) {
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "admin");
    ww_bus_topic_config_t forever[] = {{"retention.ms", "-1"}};
    ww_bus_topic_spec_t spec = {.name = topic, .partitions = 6,
                                .replication_factor = 1, .configs = forever,
                                .n_configs = 1};
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_admin_ensure_topics(cfg, &spec, 1, 30000, &err) ==
                      WW_OK, "%s", err.msg);
    WW_ASSERT_MSG(ww_bus_admin_ensure_topics(cfg, &spec, 1, 30000, &err) ==
                      WW_OK, "second time: %s", err.msg);
    int parts = 0;
    WW_ASSERT_EQ_INT(ww_bus_admin_partition_count(cfg, topic, 10000, &parts,
                                                  &err), WW_OK);
    WW_ASSERT_EQ_INT(parts, 6);
    spec.partitions = 8;
    WW_ASSERT_EQ_INT(ww_bus_admin_ensure_topics(cfg, &spec, 1, 30000, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(err.msg, "has 6 partitions, want 8");

    /* The retention setting reached the broker. */
    char msg[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER,
                                  ww_bus_config_producer_conf(cfg, NULL), msg,
                                  sizeof msg);
    WW_ASSERT_MSG(rk, "%s", msg);
    rd_kafka_ConfigResource_t *res =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    WW_ASSERT(ev && !rd_kafka_event_error(ev));
    size_t n;
    const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev), &n);
    WW_ASSERT_EQ_INT(n, 1);
    size_t nc;
    const rd_kafka_ConfigEntry_t **entries =
        rd_kafka_ConfigResource_configs(rs[0], &nc);
    const char *retention = NULL;
    for (size_t i = 0; i < nc; i++)
        if (!strcmp(rd_kafka_ConfigEntry_name(entries[i]), "retention.ms"))
            retention = rd_kafka_ConfigEntry_value(entries[i]);
    WW_ASSERT_EQ_STR(retention, "-1");
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

WW_TEST(admin_reports_missing_topics_and_bad_specs) {
    ww_err_t err = {0};
    int parts = -1;
    WW_ASSERT_EQ_INT(ww_bus_admin_partition_count(cfg, "no-such-topic-ever",
                                                  10000, &parts, &err),
                     WW_ERR_NOT_FOUND);
    ww_bus_topic_spec_t bad = {.name = "x", .partitions = 0,
                               .replication_factor = 1};
    WW_ASSERT_EQ_INT(ww_bus_admin_ensure_topics(cfg, &bad, 1, 1000, &err),
                     WW_ERR_INVALID_ARGUMENT);
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "admin-bad");
    ww_bus_topic_config_t nonsense[] = {{"retention.ms", "soon"}};
    ww_bus_topic_spec_t refused = {.name = topic, .partitions = 1,
                                   .replication_factor = 1,
                                   .configs = nonsense, .n_configs = 1};
    WW_ASSERT_EQ_INT(ww_bus_admin_ensure_topics(cfg, &refused, 1, 30000, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, topic);
    ww_bus_topic_spec_t too_many = {.name = topic, .partitions = 1,
                                    .replication_factor = 3};
    WW_ASSERT(ww_bus_admin_ensure_topics(cfg, &too_many, 1, 30000, &err) !=
              WW_OK);
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
            WW_CASE(publish_sync_reports_partition_and_offset),
            WW_CASE(delivery_callback_reports_each_record),
#ifndef BT_MOCK
            /* The mock auto-creates unknown topics. */
            WW_CASE(undeliverable_records_are_reported_and_close_is_idempotent),
            WW_CASE(close_cancels_what_it_cannot_deliver_and_calls_back),
            WW_CASE(ensure_topics_is_idempotent_and_checks_partitions),
            WW_CASE(admin_reports_missing_topics_and_bad_specs),
#endif
            WW_CASE(publish_refuses_bad_input_without_calling_back),
            {0}});
    ww_bus_config_destroy(cfg);
#ifdef BT_MOCK
    ww_bus_embedded_destroy(bt_embedded);
#endif
    return rc;
}
