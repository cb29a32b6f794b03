/* ww_host_backbone.c - a service's topics on the Kafka backbone, at start. */
#include "ww_host_backbone.h"

#include "ww_bus_embedded.h"
#include "ww_clock.h"
#include "ww_env.h"
#include "ww_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ww_host_backbone {
    ww_bus_config_t *cfg;
    ww_bus_embedded_t *embedded; /* NULL with a configured cluster */
    int partitions;
    char topics[WW_HOST_BACKBONE__TOPICS][256];
};

/* Facts are the source of truth and must outlive every consumer, and so
 * must dead letters until an operator looked at them; replies only matter
 * while their caller waits. */
static const ww_bus_topic_config_t forever[] = {{"retention.ms", "-1"}};
static const ww_bus_topic_config_t replies_configs[] = {
    {"retention.ms", "3600000"}};

static const struct {
    bool peer; /* the peer's topic, not the service's */
    const char *suffix;
    const ww_bus_topic_config_t *configs;
} topics[WW_HOST_BACKBONE__TOPICS] = {
    [WW_HOST_BACKBONE_COMMANDS] = {false, ".commands", NULL},
    [WW_HOST_BACKBONE_EVENTS] = {false, ".events", forever},
    [WW_HOST_BACKBONE_REPLIES] = {false, ".replies", replies_configs},
    [WW_HOST_BACKBONE_COMMANDS_DLQ] = {false, ".commands.dlq", forever},
    [WW_HOST_BACKBONE_PEER_EVENTS] = {true, ".events", forever},
    [WW_HOST_BACKBONE_PEER_EVENTS_DLQ] = {true, ".events.dlq", forever},
};

ww_code_t ww_host_backbone_partitions_from_env(int *partitions, ww_err_t *err) {
    const char *v = ww_env_str("WW_KAFKA_PARTITIONS", NULL);
    if (!v) {
        *partitions = WW_HOST_BACKBONE_DEFAULT_PARTITIONS;
        return WW_OK;
    }
    long n = ww_env_long("WW_KAFKA_PARTITIONS", -1);
    if (n < 1 || n > 10000)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "WW_KAFKA_PARTITIONS=%s: want a number in 1..10000",
                          v);
    *partitions = (int)n;
    return WW_OK;
}

ww_code_t ww_host_backbone_topic_specs(
    const ww_bus_config_t *cfg, const char *svc, const char *peer,
    int partitions, char names[WW_HOST_BACKBONE__TOPICS][256],
    ww_bus_topic_spec_t specs[WW_HOST_BACKBONE__TOPICS], int *count,
    ww_err_t *err) {
    int n = 0;
    for (int t = 0; t < WW_HOST_BACKBONE__TOPICS; t++) {
        if (topics[t].peer && !peer) continue;
        char base[160];
        snprintf(base, sizeof base, "%s%s", topics[t].peer ? peer : svc,
                 topics[t].suffix);
        ww_code_t rc = ww_bus_config_topic_name(cfg, base, names[t], 256, err);
        if (rc) return rc;
        specs[n++] = (ww_bus_topic_spec_t){
            .name = names[t],
            .partitions = partitions,
            .replication_factor = -1,
            .configs = topics[t].configs,
            .n_configs = topics[t].configs ? 1 : 0,
        };
    }
    *count = n;
    return WW_OK;
}

/* Existing topics must all have `partitions`; missing ones are created
 * (ww_bus_admin_ensure_topics checks the count of any that a concurrent
 * start created meanwhile). */
static ww_code_t check_or_create(ww_host_backbone_t *bb,
                                 const ww_bus_topic_spec_t *specs, int count,
                                 int timeout_ms, ww_err_t *err) {
    bool missing = false;
    for (int t = 0; t < count; t++) {
        int have = 0;
        ww_code_t rc = ww_bus_admin_partition_count(bb->cfg, specs[t].name,
                                                    timeout_ms, &have, err);
        if (rc == WW_ERR_NOT_FOUND) {
            missing = true;
            continue;
        }
        if (rc) return rc;
        if (have != bb->partitions)
            return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                              "topic %s has %d partitions, want %d (the "
                              "topics of a service share one count, and it "
                              "never changes)",
                              specs[t].name, have, bb->partitions);
    }
    if (!missing) return WW_OK;
    return ww_bus_admin_ensure_topics(bb->cfg, specs, count, timeout_ms, err);
}

/* The instance name when WW_INSTANCE_ID says none. */
static ww_code_t default_instance(ww_bus_config_t *cfg, const char *svc,
                                  const char *listen_addr, ww_err_t *err) {
    char host[128] = "localhost", id[256];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    const char *colon = listen_addr ? strrchr(listen_addr, ':') : NULL;
    if (colon && colon[1])
        snprintf(id, sizeof id, "%s-%s-%s", svc, host, colon + 1);
    else
        snprintf(id, sizeof id, "%s-%s-pid%d", svc, host, (int)getpid());
    ww_log_warn(svc,
                "event=instance_id id=%s msg=\"WW_INSTANCE_ID is not set: "
                "derived from host and port; set a stable, unique one per "
                "instance in production\"",
                id);
    return ww_bus_config_set_instance_id(cfg, id, err);
}

ww_code_t ww_host_backbone_open(const char *svc, const char *peer,
                                const char *listen_addr,
                                ww_host_backbone_t **out, ww_err_t *err) {
    *out = NULL;
    ww_host_backbone_t *bb = calloc(1, sizeof *bb);
    if (!bb) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    ww_code_t rc = ww_host_backbone_partitions_from_env(&bb->partitions, err);
    if (rc) goto fail;
    if (!(bb->cfg = ww_bus_config_new(err))) {
        rc = err ? err->code : WW_ERR_INVALID_ARGUMENT;
        goto fail;
    }
    if (!ww_bus_config_instance_id(bb->cfg) &&
        (rc = default_instance(bb->cfg, svc, listen_addr, err)))
        goto fail;
    ww_bus_topic_spec_t specs[WW_HOST_BACKBONE__TOPICS];
    int count = 0;
    if ((rc = ww_host_backbone_topic_specs(bb->cfg, svc, peer, bb->partitions,
                                           bb->topics, specs, &count, err)))
        goto fail;

    const char *brokers = ww_bus_config_brokers(bb->cfg);
    if (!brokers || !*brokers) {
        if (!(bb->embedded = ww_bus_embedded_new(1, err))) {
            rc = err ? err->code : WW_ERR_INTERNAL;
            goto fail;
        }
        brokers = ww_bus_embedded_bootstrap(bb->embedded);
        if ((rc = ww_bus_config_set_brokers(bb->cfg, brokers, err))) goto fail;
        for (int t = 0; t < count; t++)
            if ((rc = ww_bus_embedded_create_topic(bb->embedded, specs[t].name,
                                                   bb->partitions, err)))
                goto fail;
        ww_log_warn(svc,
                    "event=embedded_kafka brokers=%s msg=\"KAFKA_BROKERS "
                    "is not set: started an embedded Kafka (librdkafka "
                    "mock cluster) in this process; no other process "
                    "sees it, and it writes no transaction markers, so "
                    "exactly-once holds on a real broker only\"",
                    brokers);
    }

    int64_t deadline =
        ww_clock_mono_ms() + ww_env_long("WW_KAFKA_START_TIMEOUT_MS", 30000);
    for (;;) {
        /* Each attempt gets what is left, within 1..10 s. */
        int64_t left = deadline - ww_clock_mono_ms();
        int attempt_ms = left < 1000    ? 1000
                         : left > 10000 ? 10000
                                        : (int)left;
        rc = check_or_create(bb, specs, count, attempt_ms, err);
        if (rc == WW_OK || !err || !err->retriable ||
            ww_clock_mono_ms() >= deadline)
            break;
        ww_log_warn(svc, "event=kafka_retry brokers=%s msg=\"%s\"", brokers,
                    err->msg);
        struct timespec pause = {0, 500 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (rc) goto fail;
    ww_log_info(svc,
                "event=backbone brokers=%s instance=%s partitions=%d "
                "topics=%s,%s,%s (+ dead letters)",
                brokers,
                ww_bus_config_instance_id(bb->cfg)
                    ? ww_bus_config_instance_id(bb->cfg)
                    : "-",
                bb->partitions, bb->topics[0], bb->topics[1], bb->topics[2]);
    *out = bb;
    return WW_OK;
fail:
    ww_host_backbone_destroy(bb);
    return rc;
}

const ww_bus_config_t *ww_host_backbone_config(const ww_host_backbone_t *bb) {
    return bb->cfg;
}

const char *ww_host_backbone_topic(const ww_host_backbone_t *bb,
                                   ww_host_backbone_topic_t t) {
    return t >= 0 && t < WW_HOST_BACKBONE__TOPICS && bb->topics[t][0]
               ? bb->topics[t]
               : NULL;
}

int ww_host_backbone_partitions(const ww_host_backbone_t *bb) {
    return bb->partitions;
}

bool ww_host_backbone_is_embedded(const ww_host_backbone_t *bb) {
    return bb->embedded != NULL;
}

void ww_host_backbone_destroy(ww_host_backbone_t *bb) {
    if (!bb) return;
    ww_bus_config_destroy(bb->cfg);
    ww_bus_embedded_destroy(bb->embedded);
    free(bb);
}
