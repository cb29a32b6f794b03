/*
 * The embedded default (librdkafka's mock cluster, no broker needed): the
 * transactional processor, replay and tail run the same code paths there,
 * so the services work on a bare machine. The mock writes no transaction
 * markers, so only runs without aborts are checked here; read_committed
 * behaviour is proven against the real broker by the other bus tests.
 */
#include <pthread.h>

#include "ww_bus_config.h"
#include "ww_bus_embedded.h"
#include "ww_bus_processor.h"
#include "ww_bus_replay.h"
#include "ww_bus_tail.h"
#include "ww_test.h"

enum { N = 200 };

static const char *out_topic;

static ww_code_t handle(void *opaque, ww_bus_processor_t *p,
                        const rd_kafka_message_t *m, ww_err_t *err) {
    (void)opaque;
    char out[32];
    int n = snprintf(out, sizeof out, "out-%.*s", (int)m->len - 3,
                     (const char *)m->payload + 3);
    return ww_bus_processor_produce(p, out_topic, RD_KAFKA_PARTITION_UA,
                                    m->key, m->key_len, out, (size_t)n, NULL,
                                    err);
}

static ww_code_t count(void *opaque, const rd_kafka_message_t *m,
                       ww_err_t *err) {
    int *seen = opaque, id;
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)m->len, (const char *)m->payload);
    if (sscanf(buf, "out-%d", &id) != 1 || id < 0 || id >= N)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "bad %s", buf);
    __atomic_add_fetch(&seen[id], 1, __ATOMIC_SEQ_CST);
    return WW_OK;
}

static void *run(void *arg) {
    ww_err_t err = {0};
    ww_code_t *rc = malloc(sizeof *rc);
    *rc = ww_bus_processor_run(arg, &err);
    if (*rc) fprintf(stderr, "run: %s\n", err.msg);
    return rc;
}

WW_TEST(processor_replay_and_tail_work_on_the_embedded_cluster) {
    ww_err_t err = {0};
    ww_bus_embedded_t *emb = ww_bus_embedded_new(1, &err);
    WW_ASSERT_MSG(emb, "embedded: %s", err.msg);
    WW_ASSERT_EQ_INT(ww_bus_embedded_create_topic(emb, "m-in", 2, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_embedded_create_topic(emb, "m-out", 2, &err),
                     WW_OK);
    out_topic = "m-out";
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    WW_ASSERT_MSG(bus, "%s", err.msg);
    WW_ASSERT_EQ_INT(
        ww_bus_config_set_brokers(bus, ww_bus_embedded_bootstrap(emb), &err),
        WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_config_set_instance_id(bus, "m1", &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_config_set_transaction_timeout_ms(bus, 10000,
                                                              &err),
                     WW_OK);

    rd_kafka_conf_t *pc = ww_bus_config_producer_conf(bus, &err);
    WW_ASSERT_MSG(pc, "%s", err.msg);
    char e[256];
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, e, sizeof e);
    WW_ASSERT_MSG(prod, "%s", e);
    for (int i = 0; i < N; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "in-%d", i);
        WW_ASSERT_EQ_INT(rd_kafka_producev(
                             prod, RD_KAFKA_V_TOPIC("m-in"),
                             RD_KAFKA_V_KEY(key, strlen(key)),
                             RD_KAFKA_V_VALUE(val, strlen(val)),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END),
                         0);
    }
    WW_ASSERT_EQ_INT(rd_kafka_flush(prod, 10000), 0);
    rd_kafka_destroy(prod);

    int *tailed = calloc(N, sizeof *tailed);
    ww_bus_tail_t *tail;
    ww_bus_tail_config_t tc = {.topic = "m-out", .handler = count,
                               .opaque = tailed};
    WW_ASSERT_MSG(ww_bus_tail_start(bus, &tc, &tail, &err) == WW_OK, "%s",
                  err.msg);

    const char *outs[] = {"m-out", NULL};
    ww_bus_processor_config_t cfg = {.input_topic = "m-in", .group = "m-g",
                                     .output_topics = outs,
                                     .max_records = 20, .handle = handle};
    ww_bus_processor_t *p;
    WW_ASSERT_MSG(ww_bus_processor_new(bus, &cfg, &p, &err) == WW_OK, "%s",
                  err.msg);
    pthread_t th;
    pthread_create(&th, NULL, run, p);
    int64_t deadline = ww_test_now_ms() + 60000;
    while (ww_bus_processor_stats(p).records < N &&
           ww_test_now_ms() < deadline)
        usleep(20000);
    ww_bus_processor_stop(p);
    void *rcp;
    pthread_join(th, &rcp);
    ww_code_t rc = *(ww_code_t *)rcp;
    free(rcp);
    WW_ASSERT_EQ_INT(rc, WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_processor_stats(p).records, N);
    WW_ASSERT(ww_bus_processor_stats(p).commits >= N / 20);
    ww_bus_processor_destroy(p);

    WW_ASSERT_MSG(ww_bus_tail_wait_caught_up(tail, 20000, &err) == WW_OK,
                  "%s", err.msg);
    int *replayed = calloc(N, sizeof *replayed);
    ww_bus_replay_config_t rcfg = {.topic = "m-out", .handler = count,
                                   .opaque = replayed, .timeout_ms = 20000};
    WW_ASSERT_MSG(ww_bus_replay_run(bus, &rcfg, NULL, &err) == WW_OK, "%s",
                  err.msg);
    for (int i = 0; i < N; i++) {
        WW_ASSERT_EQ_INT(tailed[i], 1);
        WW_ASSERT_EQ_INT(replayed[i], 1);
    }
    ww_bus_tail_destroy(tail);
    free(tailed);
    free(replayed);
    ww_bus_config_destroy(bus);
    ww_bus_embedded_destroy(emb);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(processor_replay_and_tail_work_on_the_embedded_cluster),
            {0}});
}
