/*
 * Static membership (group.instance.id from WW_INSTANCE_ID): a member that
 * crashed and comes back under the same instance id gets its partitions at
 * once instead of after the session timeout, which is what lets a killed
 * service instance resume within seconds; and a second live member under
 * the same id fences the first, which stops and says so (label kafka).
 */
#include <signal.h>
#include <sys/wait.h>

#include "bus_test_util.h"

enum { SESSION_MS = 6000 };

static ww_bus_config_t *member_config(const char *instance) {
    ww_bus_config_t *cfg = bt_config(getenv("KAFKA_BROKERS"));
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_config_set_session_timeout_ms(cfg, SESSION_MS,
                                                          &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_config_set_instance_id(cfg, instance, &err), WW_OK);
    return cfg;
}

/* The child's handler: acks until record 50, then dies without closing. */
static int crash_fd = -1;
static ww_bus_verdict_t crash_at_50(void *opaque, const ww_bus_record_t *rec,
                                    ww_err_t *reason) {
    (void)opaque;
    (void)reason;
    if (bt_event_number(rec->event) >= 50) {
        ssize_t w = write(crash_fd, "x", 1);
        (void)w;
        for (;;) pause(); /* the parent kills us: a crash, no LeaveGroup */
    }
    return WW_BUS_ACK;
}

/* Starts a member in a child, lets it consume until record 50 and kills it
 * with SIGKILL; returns the ms the parent's member then needed to receive
 * its first record. */
static int64_t crash_and_rejoin(const char *topic, const char *group,
                                const char *child_instance,
                                const char *parent_instance, bt_tally_t *t) {
    int fds[2];
    WW_ASSERT(pipe(fds) == 0);
    pid_t pid = fork();
    WW_ASSERT(pid >= 0);
    if (pid == 0) {
        crash_fd = fds[1];
        ww_bus_config_t *cfg = member_config(child_instance);
        const char *topics[] = {topic};
        ww_bus_subscriber_opts_t o = {.group = group, .topics = topics,
                                      .n_topics = 1, .registry = bt_registry(),
                                      .handler = crash_at_50,
                                      .commit_interval_ms = 50};
        ww_err_t err = {0};
        ww_bus_subscriber_t *sub = ww_bus_subscriber_new(cfg, &o, &err);
        if (!sub || ww_bus_subscriber_start(sub, &err)) _exit(2);
        for (;;) pause();
    }
    char c;
    struct timeval tv = {60, 0};
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    WW_ASSERT_MSG(select(fds[0] + 1, &rd, NULL, NULL, &tv) == 1,
                  "the child member never reached record 50");
    WW_ASSERT_EQ_INT(read(fds[0], &c, 1), 1);
    usleep(200 * 1000); /* let its commits of 0..49 land */
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(fds[0]);
    close(fds[1]);

    ww_bus_config_t *cfg = member_config(parent_instance);
    int64_t t0 = ww_test_now_ms();
    ww_bus_subscriber_t *sub = bt_subscribe(cfg, group, topic, bt_ack_handler,
                                            t);
    WW_ASSERT_MSG(bt_tally_wait(t, 1, 60000), "nothing after the crash");
    int64_t first = ww_test_now_ms() - t0;
    /* Records before 50 may come again (acked, not yet committed). */
    WW_ASSERT_MSG(bt_tally_wait_range(t, 50, 100, 60000),
                  "not all of the 50 records left arrived");
    bt_close_sub(sub);
    ww_bus_config_destroy(cfg);
    bt_tally_expect(t, 50, 100, false);
    return first;
}

static void publish_100(const char *topic) {
    ww_bus_config_t *cfg = bt_config(getenv("KAFKA_BROKERS"));
    bt_create_topic(cfg, topic, 2);
    ww_bus_publisher_t *pub = bt_publisher(cfg);
    bt_publish_range(pub, topic, topic, 0, 100, 0);
    bt_close_pub(pub);
    ww_bus_config_destroy(cfg);
}

WW_TEST(a_crashed_static_member_resumes_without_waiting_for_its_session) {
    ww_test_kafka_brokers();
    char topic[128], group[128], instance[64];
    ww_test_unique_name(topic, sizeof topic, "static");
    ww_test_unique_name(group, sizeof group, "static-g");
    snprintf(instance, sizeof instance, "svc-%d", (int)getpid());
    publish_100(topic);
    bt_tally_t t;
    bt_tally_init(&t, topic, 100, 0);
    int64_t ms = crash_and_rejoin(topic, group, instance, instance, &t);
    fprintf(stderr, "  static member resumed after %lld ms\n", (long long)ms);
    WW_ASSERT_MSG(ms < SESSION_MS / 2,
                  "resumed after %lld ms: the session timeout was waited out",
                  (long long)ms);
    bt_tally_free(&t);
}

/* The control: without static membership the same crash holds the
 * partitions until the session times out. */
WW_TEST(a_crashed_dynamic_member_holds_its_partitions_for_the_session) {
    char topic[128], group[128];
    ww_test_unique_name(topic, sizeof topic, "dynamic");
    ww_test_unique_name(group, sizeof group, "dynamic-g");
    publish_100(topic);
    bt_tally_t t;
    bt_tally_init(&t, topic, 100, 0);
    int64_t ms = crash_and_rejoin(topic, group, NULL, NULL, &t);
    fprintf(stderr, "  dynamic member resumed after %lld ms\n", (long long)ms);
    WW_ASSERT(ms >= SESSION_MS - 1500);
    bt_tally_free(&t);
}

WW_TEST(a_second_member_with_the_same_instance_id_fences_the_first) {
    char topic[128], group[128], instance[64];
    ww_test_unique_name(topic, sizeof topic, "fence");
    ww_test_unique_name(group, sizeof group, "fence-g");
    snprintf(instance, sizeof instance, "twin-%d", (int)getpid());
    publish_100(topic);
    ww_bus_config_t *cfg = member_config(instance);
    bt_tally_t ta, tb;
    bt_tally_init(&ta, topic, 100, 0);
    bt_tally_init(&tb, topic, 100, 0);
    ww_bus_subscriber_t *a = bt_subscribe(cfg, group, topic, bt_ack_handler,
                                          &ta);
    WW_ASSERT(bt_tally_wait(&ta, 100, 30000));
    ww_bus_subscriber_t *b = bt_subscribe(cfg, group, topic, bt_ack_handler,
                                          &tb);
    ww_bus_subscriber_stats_t st = {0};
    int64_t deadline = ww_test_now_ms() + 30000;
    while (ww_test_now_ms() < deadline) {
        ww_bus_subscriber_stats(a, &st);
        if (st.failed) break;
        usleep(50000);
    }
    WW_ASSERT_MSG(st.failed, "the first member was never fenced");
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_subscriber_close(a, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(err.msg, "failed fatally");
    ww_bus_subscriber_destroy(a);
    bt_close_sub(b);
    ww_bus_config_destroy(cfg);
    bt_tally_free(&ta);
    bt_tally_free(&tb);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(a_crashed_static_member_resumes_without_waiting_for_its_session),
            WW_CASE(a_crashed_dynamic_member_holds_its_partitions_for_the_session),
            WW_CASE(a_second_member_with_the_same_instance_id_fences_the_first),
            {0}});
}
