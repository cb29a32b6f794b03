/*
 * An assignment that arrives while the processor's consumer closes: the
 * group's SyncGroup answer is held back on a mock cluster until the
 * processor's run loop has stopped polling, so the assignment waits in the
 * consumer's queue and rd_kafka_consumer_close delivers it. An assign
 * called then can leave the close waiting forever (librdkafka's own issue
 * tracker has it; a trainer stopped just after it started hung so once);
 * the processor answers with an unassign, and the close ends. Whether
 * librdkafka hangs on the assign is a race this test cannot force: what it
 * pins is the answer the close gets (with an assign instead it fails on
 * the log line).
 */
#include "bus_test_util.h"
#include "ww_bus_processor.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <unistd.h>

enum { API_SYNC_GROUP = 14, SYNC_DELAY_MS = 3000 };

static ww_code_t handle(void *opaque, ww_bus_processor_t *p,
                        const rd_kafka_message_t *rec, ww_err_t *err) {
    (void)opaque, (void)p, (void)rec, (void)err;
    return WW_OK;
}

typedef struct closer {
    ww_bus_processor_t *p;
    int done; /* atomic */
} closer_t;

static void *destroy_main(void *arg) {
    closer_t *c = arg;
    ww_bus_processor_destroy(c->p);
    __atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *run_main(void *arg) {
    ww_err_t err = {0};
    ww_bus_processor_run(arg, &err);
    return NULL;
}

WW_TEST(an_assignment_during_the_close_is_unassigned_and_the_close_ends) {
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", e, sizeof e);
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    WW_ASSERT_MSG(owner, "%s", e);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(owner, 1);
    WW_ASSERT(mc);
    WW_ASSERT_EQ_INT(rd_kafka_mock_topic_create(mc, "ca-in", 2, 1), 0);
    ww_bus_config_t *bus = bt_config(rd_kafka_mock_cluster_bootstraps(mc));
    ww_err_t err = {0};
    /* static membership, as the services run */
    WW_ASSERT_EQ_INT(ww_bus_config_set_instance_id(bus, "ca-1", &err), WW_OK);
    /* the join's SyncGroup is answered only after the close began */
    WW_ASSERT_EQ_INT(rd_kafka_mock_broker_push_request_error_rtts(
                         mc, 1, API_SYNC_GROUP, 1, RD_KAFKA_RESP_ERR_NO_ERROR,
                         SYNC_DELAY_MS),
                     0);

    ww_bus_processor_config_t cfg = {
        .input_topic = "ca-in", .group = "ca", .handle = handle};
    ww_bus_processor_t *p = NULL;
    WW_ASSERT_MSG(ww_bus_processor_new(bus, &cfg, &p, &err) == WW_OK, "%s",
                  err.msg);
    pthread_t runner;
    pthread_create(&runner, NULL, run_main, p);
    /* the mock answers a new group's JoinGroup after about 3 s; stopped
     * then, the run loop polls no more while SyncGroup is held back */
    usleep(4500 * 1000);
    ww_bus_processor_stop(p);
    pthread_join(runner, NULL);
    WW_ASSERT_EQ_INT((int)ww_bus_processor_stats(p).rebalances, 0);
    /* the assignment arrives now and waits in the consumer's queue: the
     * close serves it */
    usleep((SYNC_DELAY_MS + 1000) * 1000);

    /* the processor's log lines, to see the close's assignment */
    char path[] = "/tmp/ww-close-assign-XXXXXX";
    int fd = mkstemp(path);
    WW_ASSERT(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    closer_t c = {.p = p};
    pthread_t closer;
    pthread_create(&closer, NULL, destroy_main, &c);
    int64_t deadline = ww_test_now_ms() + 4 * SYNC_DELAY_MS + 10000;
    while (!__atomic_load_n(&c.done, __ATOMIC_SEQ_CST) &&
           ww_test_now_ms() < deadline)
        usleep(20000);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    bool done = __atomic_load_n(&c.done, __ATOMIC_SEQ_CST);
    char log[8192] = "";
    ssize_t n = pread(fd, log, sizeof log - 1, 0);
    if (n > 0) log[n] = '\0';
    close(fd);
    unlink(path);
    fprintf(stderr, "%s", log);
    WW_ASSERT_MSG(done, "the close did not end:\n%s", log);
    pthread_join(closer, NULL);
    WW_ASSERT_CONTAINS(log, "assigned=2 while closing: unassigned");
    ww_bus_config_destroy(bus);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(
                an_assignment_during_the_close_is_unassigned_and_the_close_ends),
            {0}});
}
