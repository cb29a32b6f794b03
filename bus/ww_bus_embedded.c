/* ww_bus_embedded.c - librdkafka's mock cluster as the embedded broker. */
#include "ww_bus_embedded.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ww_bus_config.h"
#include "ww_bus_err.h"

struct ww_bus_embedded {
    rd_kafka_t *rk; /* the mock cluster lives on this handle's threads */
    rd_kafka_mock_cluster_t *mcluster;
    char *bootstrap;
};

ww_bus_embedded_t *ww_bus_embedded_new(int brokers, ww_err_t *err) {
    if (brokers < 1 || brokers > 9) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "embedded broker count %d, want 1..9", brokers);
        return NULL;
    }
    ww_bus_embedded_t *emb = calloc(1, sizeof *emb);
    if (!emb) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char msg[256];
    /* The handle only hosts the cluster; it never connects anywhere. */
    if (rd_kafka_conf_set(conf, "log_level", "3", msg, sizeof msg)) {
        rd_kafka_conf_destroy(conf);
        free(emb);
        ww_err_set(err, WW_ERR_INTERNAL, "embedded broker: %s", msg);
        return NULL;
    }
    emb->rk = ww_bus_config_client_new(RD_KAFKA_PRODUCER, conf,
                                       "embedded broker", err);
    if (!emb->rk) {
        free(emb);
        return NULL;
    }
    emb->mcluster = rd_kafka_mock_cluster_new(emb->rk, brokers);
    if (!emb->mcluster) {
        ww_bus_embedded_destroy(emb);
        ww_err_set(err, WW_ERR_UNAVAILABLE,
                   "embedded broker: mock cluster did not start");
        return NULL;
    }
    emb->bootstrap = strdup(rd_kafka_mock_cluster_bootstraps(emb->mcluster));
    if (!emb->bootstrap) {
        ww_bus_embedded_destroy(emb);
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    return emb;
}

const char *ww_bus_embedded_bootstrap(const ww_bus_embedded_t *emb) {
    return emb->bootstrap;
}

ww_code_t ww_bus_embedded_create_topic(ww_bus_embedded_t *emb,
                                       const char *topic, int partitions,
                                       ww_err_t *err) {
    if (!topic || !*topic || partitions < 1)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "topic name and at least one partition required");
    rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(emb->mcluster, topic, partitions, 1);
    char what[300];
    snprintf(what, sizeof what, "embedded create topic %s", topic);
    return ww_bus_err_from_resp(e, what, err);
}

void ww_bus_embedded_destroy(ww_bus_embedded_t *emb) {
    if (!emb) return;
    if (emb->mcluster) rd_kafka_mock_cluster_destroy(emb->mcluster);
    if (emb->rk) rd_kafka_destroy(emb->rk);
    free(emb->bootstrap);
    free(emb);
}
