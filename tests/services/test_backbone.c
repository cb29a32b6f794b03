/*
 * A service's topics at start (ww_host_backbone): created with one partition
 * count on a real broker, accepted again on restart, refused when a topic
 * has another count, an embedded cluster when KAFKA_BROKERS is unset, and a
 * bounded wait for a broker that never answers.
 */
#include "ww_host_backbone.h"
#include "ww_bus_admin.h"
#include "ww_test.h"

/* Each case gets its own prefix so runs on one broker never meet. */
static void fresh_prefix(const char *what) {
    char prefix[128];
    ww_test_unique_name(prefix, sizeof prefix, what);
    strcat(prefix, ".");
    setenv("WW_TOPIC_PREFIX", prefix, 1);
}

static int partitions_of(const ww_host_backbone_t *bb, ww_host_backbone_topic_t t) {
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
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) == WW_OK, "%s",
                  err.msg);
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
    WW_ASSERT_CONTAINS(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_COMMANDS_DLQ),
                       "trainer.commands.dlq");
    WW_ASSERT_CONTAINS(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_PEER_EVENTS),
                       "users.events");
    WW_ASSERT_CONTAINS(
        ww_host_backbone_topic(bb, WW_HOST_BACKBONE_PEER_EVENTS_DLQ),
        "users.events.dlq");
    ww_host_backbone_destroy(bb);
    /* without a peer: no peer topics */
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", NULL, NULL, &bb, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT(ww_host_backbone_topic(bb, WW_HOST_BACKBONE_PEER_EVENTS) == NULL);
    ww_host_backbone_destroy(bb);

    /* A restart finds them as they are. */
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) == WW_OK, "%s",
                  err.msg);
    ww_host_backbone_destroy(bb);
}

WW_TEST(refuses_a_topic_with_another_partition_count) {
    setenv("KAFKA_BROKERS", ww_test_kafka_brokers(), 1);
    fresh_prefix("bb-mismatch");
    setenv("WW_KAFKA_PARTITIONS", "2", 1);
    ww_host_backbone_t *bb;
    ww_err_t err;
    WW_ASSERT_MSG(ww_host_backbone_open("users", NULL, NULL, &bb, &err) == WW_OK, "%s",
                  err.msg);
    ww_host_backbone_destroy(bb);

    setenv("WW_KAFKA_PARTITIONS", "4", 1);
    WW_ASSERT_EQ_INT(ww_host_backbone_open("users", "trainer", NULL, &bb, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT(bb == NULL);
    WW_ASSERT_CONTAINS(err.msg, "users.commands has 2 partitions, want 4");
}

WW_TEST(starts_an_embedded_cluster_without_kafka_brokers) {
    unsetenv("KAFKA_BROKERS");
    fresh_prefix("bb-embedded");
    setenv("WW_KAFKA_PARTITIONS", "2", 1);
    ww_host_backbone_t *bb;
    ww_err_t err;
    WW_ASSERT_MSG(ww_host_backbone_open("trainer", "users", NULL, &bb, &err) == WW_OK, "%s",
                  err.msg);
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
            WW_CASE(starts_an_embedded_cluster_without_kafka_brokers),
            WW_CASE(gives_up_on_a_silent_broker_within_the_start_timeout),
            WW_CASE(rejects_a_partition_count_that_is_not_a_number),
            {0}});
}
