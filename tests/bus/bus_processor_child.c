/*
 * bus_processor_child - a transactional processor as its own process, for
 * the exactly-once chaos test, which kills it with SIGKILL at random points
 * and starts it again.
 *   bus_processor_child IN_TOPIC OUT_TOPIC GROUP INSTANCE MAX_RECORDS
 * Brokers from KAFKA_BROKERS. For each input "in-<n>" it produces
 * "out-<n>" with the same key. SIGTERM stops it cleanly (exit 0).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_bus_config.h"
#include "ww_bus_processor.h"

static ww_bus_processor_t *proc;
static const char *out_topic;

static void on_term(int sig) {
    (void)sig;
    ww_bus_processor_stop(proc); /* an atomic store */
}

static ww_code_t handle(void *opaque, ww_bus_processor_t *p,
                        const rd_kafka_message_t *m, ww_err_t *err) {
    (void)opaque;
    char out[64];
    int n = snprintf(out, sizeof out, "out-%.*s",
                     m->len > 3 ? (int)m->len - 3 : 0,
                     m->len > 3 ? (const char *)m->payload + 3 : "");
    return ww_bus_processor_produce(p, out_topic, RD_KAFKA_PARTITION_UA,
                                    m->key, m->key_len, out, (size_t)n, NULL,
                                    err);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s IN OUT GROUP INSTANCE MAX_RECORDS\n",
                argv[0]);
        return 2;
    }
    out_topic = argv[2];
    ww_err_t err = {0};
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    if (!bus || ww_bus_config_set_instance_id(bus, argv[4], &err) ||
        ww_bus_config_set_transaction_timeout_ms(bus, 5000, &err) ||
        ww_bus_config_set_session_timeout_ms(bus, 6000, &err)) {
        fprintf(stderr, "child: config: %s\n", err.msg);
        ww_bus_config_destroy(bus);
        return 1;
    }
    const char *outputs[] = {argv[2], NULL};
    ww_bus_processor_config_t cfg = {.input_topic = argv[1],
                                     .output_topics = outputs,
                                     .group = argv[3],
                                     .max_records = atoi(argv[5]),
                                     .max_wait_ms = 20,
                                     .handle = handle};
    if (ww_bus_processor_new(bus, &cfg, &proc, &err)) {
        fprintf(stderr, "child: %s\n", err.msg);
        ww_bus_config_destroy(bus);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    ww_code_t rc = ww_bus_processor_run(proc, &err);
    if (rc) fprintf(stderr, "child: run: %s\n", err.msg);
    ww_bus_processor_destroy(proc);
    ww_bus_config_destroy(bus);
    return rc ? 1 : 0;
}
