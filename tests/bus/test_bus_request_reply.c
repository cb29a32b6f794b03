/*
 * Request/reply over Kafka end to end: callers register a waiter, produce a
 * request with their correlation id, a transactional processor answers on
 * a replies topic, and a tailing reader of the replies completes the
 * waiters. Every caller gets its own reply; a request nobody answers times
 * out with DEADLINE_EXCEEDED.
 */
#include <pthread.h>

#include "bus_txn_support.h"
#include "ww_bus_processor.h"
#include "ww_bus_tail.h"
#include "ww_bus_waiters.h"
#include "ww_test.h"

static const char *replies_topic;

/* The responder: answers "req <n>" with "answer <n*2>", keyed by the
 * correlation id (the request's key); ignores "silent" requests. */
static ww_code_t respond(void *opaque, ww_bus_processor_t *p,
                         const rd_kafka_message_t *m, ww_err_t *err) {
    (void)opaque;
    int n;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)m->len, (const char *)m->payload);
    if (sscanf(buf, "req %d", &n) != 1) return WW_OK;
    int len = snprintf(buf, sizeof buf, "answer %d", n * 2);
    return ww_bus_processor_produce(p, replies_topic, RD_KAFKA_PARTITION_UA,
                                    m->key, m->key_len, buf, (size_t)len,
                                    NULL, err);
}

static ww_code_t on_reply(void *opaque, const rd_kafka_message_t *m,
                          ww_err_t *err) {
    (void)err;
    char id[WW_BUS_WAITERS_MAX_ID + 1];
    snprintf(id, sizeof id, "%.*s", (int)m->key_len, (const char *)m->key);
    ww_bus_waiters_complete(opaque, id, m->payload, m->len);
    return WW_OK; /* a reply for nobody is normal (another instance's) */
}

enum { CALLERS = 4, CALLS = 10 };

static struct {
    ww_bus_waiters_t *ws;
    rd_kafka_t *producer;
    const char *requests;
    int wrong;
} rr;

static void *caller(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < CALLS; i++) {
        int n = me * 100 + i;
        char id[32], req[32], want[32];
        snprintf(id, sizeof id, "corr-%d", n);
        ww_bus_waiter_t *w;
        if (ww_bus_waiters_register(rr.ws, id, &w, NULL) != WW_OK) {
            __atomic_add_fetch(&rr.wrong, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        int len = snprintf(req, sizeof req, "req %d", n);
        if (rd_kafka_producev(rr.producer, RD_KAFKA_V_TOPIC(rr.requests),
                              RD_KAFKA_V_KEY(id, strlen(id)),
                              RD_KAFKA_V_VALUE(req, (size_t)len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) != 0) {
            ww_bus_waiter_cancel(w);
            __atomic_add_fetch(&rr.wrong, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        rd_kafka_flush(rr.producer, 0);
        void *p = NULL;
        size_t plen;
        snprintf(want, sizeof want, "answer %d", n * 2);
        if (ww_bus_waiter_wait(w, 30000, &p, &plen, NULL) != WW_OK ||
            strcmp(p, want) != 0)
            __atomic_add_fetch(&rr.wrong, 1, __ATOMIC_SEQ_CST);
        free(p);
    }
    return NULL;
}

static void *serve(void *arg) {
    ww_err_t err = {0};
    ww_bus_processor_run(arg, &err);
    return NULL;
}

WW_TEST(each_caller_gets_its_own_reply_through_kafka) {
    char req[128], rep[128], group[128];
    ww_test_unique_name(req, sizeof req, "rr-requests");
    ww_test_unique_name(rep, sizeof rep, "rr-replies");
    ww_test_unique_name(group, sizeof group, "rr-responder");
    bt_create_topic(req, 2);
    bt_create_topic(rep, 2);
    replies_topic = rep;
    rr.requests = req;
    rr.ws = ww_bus_waiters_new();

    ww_bus_config_t *bus = bt_bus("responder-1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    ww_bus_tail_t *tail;
    ww_bus_tail_config_t tc = {.topic = rep, .handler = on_reply,
                               .opaque = rr.ws};
    WW_ASSERT_EQ_INT(ww_bus_tail_start(bus, &tc, &tail, &err), WW_OK);
    const char *outs[] = {rep, NULL};
    ww_bus_processor_config_t pc = {.input_topic = req, .group = group,
                                    .output_topics = outs, .max_records = 20,
                                    .max_wait_ms = 2, .handle = respond};
    ww_bus_processor_t *proc;
    WW_ASSERT_EQ_INT(ww_bus_processor_new(bus, &pc, &proc, &err), WW_OK);
    pthread_t server;
    pthread_create(&server, NULL, serve, proc);

    char e[256];
    rd_kafka_conf_t *c = bt_conf();
    rd_kafka_conf_set(c, "linger.ms", "0", e, sizeof e);
    rr.producer = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    WW_ASSERT_MSG(rr.producer, "%s", e);
    pthread_t th[CALLERS];
    for (int i = 0; i < CALLERS; i++)
        pthread_create(&th[i], NULL, caller, (void *)(intptr_t)i);
    for (int i = 0; i < CALLERS; i++) pthread_join(th[i], NULL);
    WW_ASSERT_EQ_INT(rr.wrong, 0);
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(rr.ws).completed, CALLERS * CALLS);

    /* Nobody answers this one: the caller learns it from the deadline. */
    ww_bus_waiter_t *w;
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(rr.ws, "corr-silent", &w, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(rd_kafka_producev(rr.producer, RD_KAFKA_V_TOPIC(req),
                                       RD_KAFKA_V_KEY("corr-silent", 11),
                                       RD_KAFKA_V_VALUE("silent", 6),
                                       RD_KAFKA_V_END),
                     0);
    rd_kafka_flush(rr.producer, 5000);
    void *p = NULL;
    size_t plen;
    WW_ASSERT_EQ_INT(ww_bus_waiter_wait(w, 500, &p, &plen, &err),
                     WW_ERR_DEADLINE_EXCEEDED);

    ww_bus_processor_stop(proc);
    pthread_join(server, NULL);
    ww_bus_processor_destroy(proc);
    ww_bus_tail_destroy(tail);
    rd_kafka_destroy(rr.producer);
    ww_bus_waiters_destroy(rr.ws);
    ww_bus_config_destroy(bus);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(each_caller_gets_its_own_reply_through_kafka), {0}});
}
