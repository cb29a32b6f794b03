/* bus_test_util.c - see bus_test_util.h. */
#include "bus_test_util.h"

ww_bus_config_t *bt_config(const char *brokers) {
    ww_err_t err = {0};
    unsetenv("WW_INSTANCE_ID");
    unsetenv("WW_TOPIC_PREFIX");
    ww_bus_config_t *cfg = ww_bus_config_new(&err);
    WW_ASSERT_MSG(cfg, "%s", err.msg);
    WW_ASSERT_EQ_INT(ww_bus_config_set_brokers(cfg, brokers, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_config_set_session_timeout_ms(cfg, 6000, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_config_set_transaction_timeout_ms(cfg, 10000,
                                                              &err), WW_OK);
    return cfg;
}

ww_bus_embedded_t *bt_embedded;

void bt_create_topic(ww_bus_config_t *cfg, const char *topic, int partitions) {
    char dlq[256];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    if (bt_embedded) {
        ww_err_t err = {0};
        WW_ASSERT_MSG(ww_bus_embedded_create_topic(bt_embedded, topic,
                                                   partitions, &err) == WW_OK,
                      "%s", err.msg);
        WW_ASSERT_MSG(ww_bus_embedded_create_topic(bt_embedded, dlq, 1,
                                                   &err) == WW_OK,
                      "%s", err.msg);
        return;
    }
    ww_bus_topic_spec_t specs[] = {
        {.name = topic, .partitions = partitions, .replication_factor = 1},
        {.name = dlq, .partitions = 1, .replication_factor = 1},
    };
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_admin_ensure_topics(cfg, specs, 2, 30000, &err) ==
                      WW_OK,
                  "create %s: %s", topic, err.msg);
}

static ww_bus_registry_t *registry;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static void registry_init(void) {
    registry = ww_bus_registry_new();
    size_t n;
    const ProtobufCMessageDescriptor *const *d = ww_schemas_trainer_events(&n);
    ww_bus_registry_add_all(registry, d, n, NULL);
}

const ww_bus_registry_t *bt_registry(void) {
    pthread_once(&registry_once, registry_init);
    return registry;
}

void bt_event_id(char *buf, size_t size, const char *run, int n) {
    snprintf(buf, size, "%s-%d", run, n);
}

void bt_publish_range(ww_bus_publisher_t *pub, const char *topic,
                      const char *run, int from, int to, int keys) {
    ww_err_t err = {0};
    for (int n = from; n < to; n++) {
        char id[128], key[32], notes[32], uuid[64];
        bt_event_id(id, sizeof id, run, n);
        snprintf(key, sizeof key, "key-%d", keys ? n % keys : 0);
        snprintf(notes, sizeof notes, "%d", n);
        snprintf(uuid, sizeof uuid, "training-%d", n);
        Wildworkouts__Events__V1__TrainingScheduled ev =
            WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
        ev.trainer_id = "trainer-1";
        ev.training_uuid = uuid;
        ev.user_id = key;
        ev.notes = notes;
        ww_bus_envelope_meta_t meta = {.source = "/test", .id = id};
        WW_ASSERT_MSG(ww_bus_publisher_publish(pub, topic, keys ? key : NULL,
                                               strlen(key), &ev.base, &meta,
                                               NULL, NULL, NULL, &err) == WW_OK,
                      "publish %d: %s", n, err.msg);
    }
}

int bt_event_number(const ww_bus_event_t *ev) {
    if (ev->descriptor !=
        &wildworkouts__events__v1__training_scheduled__descriptor)
        return -1;
    const Wildworkouts__Events__V1__TrainingScheduled *p =
        (const Wildworkouts__Events__V1__TrainingScheduled *)ev->payload;
    if (!p->notes || !*p->notes) return -1;
    return atoi(p->notes);
}

void bt_tally_init(bt_tally_t *t, const char *run, int cap, int keys) {
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->cap = cap;
    t->count = calloc((size_t)cap, sizeof *t->count);
    t->keys = keys;
    t->last_per_key = malloc((size_t)(keys ? keys : 1) * sizeof(int));
    for (int i = 0; i < (keys ? keys : 1); i++) t->last_per_key[i] = -1;
    snprintf(t->run, sizeof t->run, "%s", run);
}

void bt_tally_free(bt_tally_t *t) {
    free(t->count);
    free(t->last_per_key);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
}

int bt_tally_add(bt_tally_t *t, const ww_bus_record_t *rec) {
    int n = bt_event_number(rec->event);
    char want[128];
    if (n >= 0) bt_event_id(want, sizeof want, t->run, n);
    pthread_mutex_lock(&t->mu);
    if (n < 0 || n >= t->cap || strcmp(rec->event->id, want)) {
        t->foreign++;
        pthread_mutex_unlock(&t->mu);
        return -1;
    }
    t->total++;
    if (t->count[n]++ == 0) t->distinct++;
    if (t->keys) {
        int k = n % t->keys;
        /* A redelivery after a rebalance may step back; a fresh number
         * below the last one of its key would be a reordering. */
        if (n < t->last_per_key[k] && t->count[n] == 1) t->order_violations++;
        if (n > t->last_per_key[k]) t->last_per_key[k] = n;
    }
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return n;
}

bool bt_tally_wait(bt_tally_t *t, int distinct, int timeout_ms) {
    int64_t deadline = ww_test_now_ms() + timeout_ms;
    pthread_mutex_lock(&t->mu);
    while (t->distinct < distinct) {
        int64_t left = deadline - ww_test_now_ms();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(left < 100 ? left : 100) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    bool ok = t->distinct >= distinct;
    pthread_mutex_unlock(&t->mu);
    return ok;
}

bool bt_tally_wait_range(bt_tally_t *t, int from, int to, int timeout_ms) {
    int64_t deadline = ww_test_now_ms() + timeout_ms;
    for (;;) {
        int missing = 0;
        pthread_mutex_lock(&t->mu);
        for (int n = from; n < to; n++) missing += t->count[n] == 0;
        pthread_mutex_unlock(&t->mu);
        if (!missing) return true;
        if (ww_test_now_ms() >= deadline) return false;
        usleep(20000);
    }
}

void bt_tally_expect(bt_tally_t *t, int from, int to, bool exactly_once) {
    pthread_mutex_lock(&t->mu);
    int missing = 0, dup = 0, first_missing = -1, first_dup = -1;
    for (int n = from; n < to; n++) {
        if (t->count[n] == 0 && missing++ == 0) first_missing = n;
        if (t->count[n] > 1 && dup++ == 0) first_dup = n;
    }
    int foreign = t->foreign;
    pthread_mutex_unlock(&t->mu);
    WW_ASSERT_MSG(missing == 0, "%d of %d messages lost (first: %d)", missing,
                  to - from, first_missing);
    WW_ASSERT_MSG(!exactly_once || dup == 0,
                  "%d messages delivered more than once (first: %d)", dup,
                  first_dup);
    WW_ASSERT_EQ_INT(foreign, 0);
}

ww_bus_verdict_t bt_ack_handler(void *opaque, const ww_bus_record_t *rec,
                                ww_err_t *reason) {
    (void)reason;
    bt_tally_add(opaque, rec);
    return WW_BUS_ACK;
}

ww_bus_subscriber_t *bt_subscribe_opts(ww_bus_config_t *cfg,
                                       const ww_bus_subscriber_opts_t *o) {
    ww_err_t err = {0};
    ww_bus_subscriber_t *sub = ww_bus_subscriber_new(cfg, o, &err);
    WW_ASSERT_MSG(sub, "subscriber: %s", err.msg);
    WW_ASSERT_EQ_INT(ww_bus_subscriber_start(sub, &err), WW_OK);
    return sub;
}

void bt_close_sub(ww_bus_subscriber_t *sub) {
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_subscriber_close(sub, &err) == WW_OK, "%s", err.msg);
    ww_bus_subscriber_destroy(sub);
}

ww_bus_publisher_t *bt_publisher(ww_bus_config_t *cfg) {
    ww_err_t err = {0};
    ww_bus_publisher_t *pub = ww_bus_publisher_new(cfg, &err);
    WW_ASSERT_MSG(pub, "publisher: %s", err.msg);
    return pub;
}

void bt_close_pub(ww_bus_publisher_t *pub) {
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_publisher_close(pub, 30000, &err) == WW_OK, "%s",
                  err.msg);
    ww_bus_publisher_destroy(pub);
}

int64_t bt_committed(ww_bus_config_t *cfg, const char *group,
                     const char *topic, int partition) {
    ww_err_t err = {0};
    rd_kafka_conf_t *conf = ww_bus_config_group_conf(cfg, group, NULL, &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    char msg[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    WW_ASSERT_MSG(rk, "%s", msg);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 10000);
    int64_t off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    WW_ASSERT_MSG(e == 0, "committed: %s", rd_kafka_err2str(e));
    return off;
}

bt_records_t bt_read_all(ww_bus_config_t *cfg, const char *topic,
                         int partition, int want, int timeout_ms) {
    ww_err_t err = {0};
    rd_kafka_conf_t *conf = ww_bus_config_reader_conf(cfg, &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    char msg[256];
    bt_records_t r = {0};
    r.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    WW_ASSERT_MSG(r.rk, "%s", msg);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(r.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    r.msgs = calloc((size_t)want + 1, sizeof *r.msgs);
    int64_t deadline = ww_test_now_ms() + timeout_ms;
    while (r.n < want && ww_test_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r.rk, 100);
        if (!m) continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        r.msgs[r.n++] = m;
    }
    return r;
}

void bt_records_free(bt_records_t *r) {
    for (int i = 0; i < r->n; i++) rd_kafka_message_destroy(r->msgs[i]);
    free(r->msgs);
    if (r->rk) {
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    memset(r, 0, sizeof *r);
}

const char *bt_header(const rd_kafka_message_t *m, const char *name) {
    static char buf[512];
    rd_kafka_headers_t *h;
    const void *v;
    size_t n;
    if (rd_kafka_message_headers(m, &h) ||
        rd_kafka_header_get_last(h, name, &v, &n))
        return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)n, (const char *)v);
    return buf;
}

ww_bus_subscriber_t *bt_subscribe(ww_bus_config_t *cfg, const char *group,
                                  const char *topic, ww_bus_handler_fn fn,
                                  void *opaque) {
    const char *topics[] = {topic};
    ww_bus_subscriber_opts_t o = {
        .group = group,
        .topics = topics,
        .n_topics = 1,
        .registry = bt_registry(),
        .handler = fn,
        .opaque = opaque,
        .max_attempts = 5,
        .backoff_initial_ms = 20,
        .backoff_max_ms = 200,
        .commit_interval_ms = 100,
    };
    return bt_subscribe_opts(cfg, &o);
}
