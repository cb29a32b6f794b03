/*
 * A service's topics at start (ww_host_backbone): created with one partition
 * count on a real broker, accepted again on restart, refused when a topic
 * has another count or settings other than the catalogue's (fixed with
 * WW_KAFKA_FIX_TOPICS, other overrides kept), an embedded cluster when
 * KAFKA_BROKERS is unset (settings not checked there), and a bounded wait
 * for a broker that never answers.
 */
#include "ww_bus_admin.h"
#include "ww_host_backbone.h"
#include "ww_test.h"

/* Each case gets its own prefix so runs on one broker never meet. */
static void fresh_prefix(const char *what) {
    char prefix[128];
    ww_test_unique_name(prefix, sizeof prefix, what);
    strcat(prefix, ".");
    setenv("WW_TOPIC_PREFIX", prefix, 1);
}

static int partitions_of(const ww_host_backbone_t *bb,
                         ww_host_backbone_topic_t t) {
    int n = -1;
    ww_err_t err;
    WW_ASSERT_MSG(ww_bus_admin_partition_count(ww_host_backbone_config(bb),
                                               ww_host_backbone_topic(bb, t),
                                               10000, &n, &err) == WW_OK,
                  "%s", err.msg);
    return n;
}

WW_TEST(creates_every_topic_with_one_partition_count) {
    setenv("KAFKA_BROKERS", ww_test_kafka_brokers(), 1);
    fresh_prefix("bb-create");
    setenv("WW_KAFKA_PARTITIONS", "3", 1);
    ww_host_backbone_t *bb;
    ww_err_t err;
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT(!ww_host_backbone_is_embedded(bb));
    WW_ASSERT_EQ_INT(ww_host_backbone_partitions(bb), 3);
    WW_ASSERT_CONTAINS(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_EVENTS),
                       "trainer.events");
    WW_ASSERT(!strncmp(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_COMMANDS),
                       getenv("WW_TOPIC_PREFIX"),
                       strlen(getenv("WW_TOPIC_PREFIX"))));
    for (int t = 0; t < WW_HOST_BACKBONE__TOPICS; t++)
        WW_ASSERT_EQ_INT(partitions_of(bb, t), 3);
    /* the dead letters of both consumed topics, and the peer's facts */
    WW_ASSERT_CONTAINS(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_SNAPSHOTS),
                       "trainer.snapshots");
    WW_ASSERT_CONTAINS(
        ww_host_backbone_topic(bb, WW_HOST_BACKBONE_COMMANDS_DLQ),
        "trainer.commands.dlq");
    WW_ASSERT_CONTAINS(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_PEER_EVENTS),
                       "users.events");
    WW_ASSERT_CONTAINS(
        ww_host_backbone_topic(bb, WW_HOST_BACKBONE_PEER_EVENTS_DLQ),
        "users.events.dlq");
    ww_host_backbone_destroy(bb);
    /* without a peer: no peer topics */
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", NULL, NULL, &bb, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_PEER_EVENTS) == NULL);
    ww_host_backbone_destroy(bb);

    /* A restart finds them as they are. */
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) ==
                      WW_OK,
                  "%s", err.msg);
    ww_host_backbone_destroy(bb);
}

WW_TEST(refuses_a_topic_with_another_partition_count) {
    setenv("KAFKA_BROKERS", ww_test_kafka_brokers(), 1);
    fresh_prefix("bb-mismatch");
    setenv("WW_KAFKA_PARTITIONS", "2", 1);
    ww_host_backbone_t *bb;
    ww_err_t err;
    WW_ASSERT_MSG(ww_host_backbone_open("users", NULL, NULL, &bb, &err) ==
                      WW_OK,
                  "%s", err.msg);
    ww_host_backbone_destroy(bb);

    setenv("WW_KAFKA_PARTITIONS", "4", 1);
    WW_ASSERT_EQ_INT(ww_host_backbone_open("users", "trainer", NULL, &bb, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT(bb == NULL);
    WW_ASSERT_CONTAINS(err.msg, "users.commands has 2 partitions, want 4");
}

/* The topic's own value of setting `name`, or a marker when it has none of
 * its own (inherited from the broker). */
static const char *own_setting(const ww_host_backbone_t *bb, const char *topic,
                               const char *name, char *buf, size_t size) {
    ww_bus_admin_configs_t *c;
    ww_err_t err;
    WW_ASSERT_MSG(ww_bus_admin_describe_configs(ww_host_backbone_config(bb),
                                                &topic, 1, 10000, &c,
                                                &err) == WW_OK,
                  "%s", err.msg);
    const ww_bus_admin_setting_t *s = ww_bus_admin_configs_find(c, 0, name);
    snprintf(buf, size, "%s",
             s && s->source == WW_BUS_ADMIN_SOURCE_TOPIC
                 ? s->value
                 : "(not the topic's own)");
    ww_bus_admin_configs_destroy(c);
    return buf;
}

WW_TEST(refuses_settings_other_than_the_catalogue_unless_told_to_fix) {
    setenv("KAFKA_BROKERS", ww_test_kafka_brokers(), 1);
    fresh_prefix("bb-settings");
    setenv("WW_KAFKA_PARTITIONS", "2", 1);
    unsetenv("WW_KAFKA_FIX_TOPICS");
    ww_host_backbone_t *bb;
    ww_err_t err;
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) ==
                      WW_OK,
                  "%s", err.msg);
    char buf[64], events[256], snapshots[256];
    snprintf(events, sizeof events, "%s",
             ww_host_backbone_topic(bb, WW_HOST_BACKBONE_EVENTS));
    snprintf(snapshots, sizeof snapshots, "%s",
             ww_host_backbone_topic(bb, WW_HOST_BACKBONE_SNAPSHOTS));
    WW_ASSERT_EQ_STR(
        own_setting(bb, snapshots, "cleanup.policy", buf, sizeof buf),
        "compact");
    WW_ASSERT_EQ_STR(
        own_setting(bb, events, "retention.bytes", buf, sizeof buf), "-1");
    /* Someone shortens the facts' retention and adds a setting of theirs. */
    ww_bus_topic_config_t wrong[] = {{"cleanup.policy", "delete"},
                                     {"retention.ms", "1000"},
                                     {"retention.bytes", "-1"},
                                     {"max.message.bytes", "2000000"}};
    WW_ASSERT_MSG(ww_bus_admin_alter_configs(ww_host_backbone_config(bb),
                                             events, wrong, 4, 10000,
                                             &err) == WW_OK,
                  "%s", err.msg);
    ww_host_backbone_destroy(bb);

    WW_ASSERT_EQ_INT(ww_host_backbone_open("trainer", "users", NULL, &bb, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT(bb == NULL);
    WW_ASSERT_CONTAINS(err.msg, "1 topic is not as the catalogue says");
    WW_ASSERT_CONTAINS(err.msg, events);
    WW_ASSERT_CONTAINS(err.msg, "WW_KAFKA_FIX_TOPICS=1");

    setenv("WW_KAFKA_FIX_TOPICS", "1", 1);
    ww_code_t rc = ww_host_backbone_open("trainer", "users", NULL, &bb, &err);
    unsetenv("WW_KAFKA_FIX_TOPICS");
    WW_ASSERT_MSG(rc == WW_OK, "%s", err.msg);
    WW_ASSERT_EQ_STR(own_setting(bb, events, "retention.ms", buf, sizeof buf),
                     "-1");
    WW_ASSERT_EQ_STR(
        own_setting(bb, events, "max.message.bytes", buf, sizeof buf),
        "2000000");
    ww_host_backbone_destroy(bb);
    /* fixed for good: the next start needs no flag */
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) ==
                      WW_OK,
                  "%s", err.msg);
    ww_host_backbone_destroy(bb);
}

WW_TEST(starts_an_embedded_cluster_without_kafka_brokers) {
    unsetenv("KAFKA_BROKERS");
    fresh_prefix("bb-embedded");
    setenv("WW_KAFKA_PARTITIONS", "2", 1);
    ww_host_backbone_t *bb;
    ww_err_t err;
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT(ww_host_backbone_is_embedded(bb));
    WW_ASSERT_CONTAINS(ww_bus_config_brokers(ww_host_backbone_config(bb)),
                       "127.0.0.1:");
    for (int t = 0; t < WW_HOST_BACKBONE__TOPICS; t++)
        WW_ASSERT_EQ_INT(partitions_of(bb, t), 2);
    ww_host_backbone_destroy(bb);
}

WW_TEST(gives_up_on_a_silent_broker_within_the_start_timeout) {
    /* A port nobody listens on: refused at once, retried until the limit. */
    setenv("KAFKA_BROKERS", "127.0.0.1:1", 1);
    fresh_prefix("bb-down");
    setenv("WW_KAFKA_START_TIMEOUT_MS", "1500", 1);
    ww_host_backbone_t *bb;
    ww_err_t err;
    int64_t t0 = ww_test_now_ms();
    ww_code_t rc = ww_host_backbone_open("trainer", "users", NULL, &bb, &err);
    int64_t took = ww_test_now_ms() - t0;
    unsetenv("WW_KAFKA_START_TIMEOUT_MS");
    WW_ASSERT(rc != WW_OK);
    WW_ASSERT(bb == NULL);
    WW_ASSERT(err.retriable);
    WW_ASSERT_MSG(took >= 1000 && took < 15000, "gave up after %lld ms",
                  (long long)took);
}

WW_TEST(rejects_a_partition_count_that_is_not_a_number) {
    setenv("WW_KAFKA_PARTITIONS", "many", 1);
    ww_host_backbone_t *bb;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_host_backbone_open("users", "trainer", NULL, &bb, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "WW_KAFKA_PARTITIONS=many");
    unsetenv("WW_KAFKA_PARTITIONS");
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(creates_every_topic_with_one_partition_count),
            WW_CASE(refuses_a_topic_with_another_partition_count),
            WW_CASE(
                refuses_settings_other_than_the_catalogue_unless_told_to_fix),
            WW_CASE(starts_an_embedded_cluster_without_kafka_brokers),
            WW_CASE(gives_up_on_a_silent_broker_within_the_start_timeout),
            WW_CASE(rejects_a_partition_count_that_is_not_a_number),
            {0}});
}
