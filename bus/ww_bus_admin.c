/* ww_bus_admin.c - idempotent topic creation with a partition check. */
#include "ww_bus_admin.h"

#include "ww_bus_err.h"
#include "ww_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rd_kafka_t *admin_client(const ww_bus_config_t *cfg, ww_err_t *err) {
    rd_kafka_conf_t *conf = ww_bus_config_producer_conf(cfg, err);
    if (!conf) return NULL;
    return ww_bus_config_client_new(RD_KAFKA_PRODUCER, conf, "admin client",
                                    err);
}

/* Metadata of all topics: asking for one by name could auto-create it on
 * clusters that allow that, which is exactly what must not happen here. */
static ww_code_t partition_count(rd_kafka_t *rk, const char *topic,
                                 int timeout_ms, int *partitions,
                                 ww_err_t *err) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e) {
        char what[300];
        snprintf(what, sizeof what, "metadata for %s", topic);
        return ww_bus_err_from_resp(e, what, err);
    }
    ww_code_t rc = ww_err_set(err, WW_ERR_NOT_FOUND, "topic %s does not exist",
                              topic);
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, topic)) continue;
        if (md->topics[i].err) {
            char what[300];
            snprintf(what, sizeof what, "metadata for %s", topic);
            rc = ww_bus_err_from_resp(md->topics[i].err, what, err);
        } else {
            *partitions = md->topics[i].partition_cnt;
            ww_err_clear(err);
            rc = WW_OK;
        }
        break;
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

ww_code_t ww_bus_admin_partition_count(const ww_bus_config_t *cfg,
                                       const char *topic, int timeout_ms,
                                       int *partitions, ww_err_t *err) {
    rd_kafka_t *rk = admin_client(cfg, err);
    if (!rk) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    ww_code_t rc = partition_count(rk, topic, timeout_ms, partitions, err);
    rd_kafka_destroy(rk);
    return rc;
}

static ww_code_t check_spec(const ww_bus_topic_spec_t *s, ww_err_t *err) {
    if (!s->name || !*s->name)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "topic without name");
    if (s->partitions < 1)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "topic %s: %d partitions, want at least 1", s->name,
                          s->partitions);
    if (s->replication_factor < 1 && s->replication_factor != -1)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "topic %s: replication factor %d, want >= 1 or -1",
                          s->name, s->replication_factor);
    for (size_t i = 0; i < s->n_configs; i++)
        if (!s->configs[i].name || !s->configs[i].value)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "topic %s: config %zu without name or value",
                              s->name, i);
    return WW_OK;
}

/* Waits until the broker's metadata lists every topic of specs and checks
 * its partition count. A topic just created (here or by a concurrent start)
 * is known to the controller before the broker answering metadata lists
 * it; returning earlier would let the caller's first request fail with
 * "unknown topic". */
static ww_code_t await_topics(rd_kafka_t *rk, const ww_bus_topic_spec_t *specs,
                              size_t n_specs, int timeout_ms, ww_err_t *err) {
    int64_t deadline = ww_clock_mono_ms() + timeout_ms;
    for (size_t i = 0; i < n_specs; i++) {
        int have = 0;
        ww_err_t e;
        ww_code_t rc;
        for (;;) {
            int64_t left = deadline - ww_clock_mono_ms();
            rc = partition_count(rk, specs[i].name, left > 0 ? (int)left : 1,
                                 &have, &e);
            /* Not listed yet, or listed without a leader yet: wait. */
            bool settling = rc == WW_ERR_NOT_FOUND || (rc && e.retriable);
            if (!settling || left <= 0) break;
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        if (rc == WW_ERR_NOT_FOUND)
            return ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                        "topic %s created but not in the "
                                        "metadata within %d ms",
                                        specs[i].name, timeout_ms);
        if (rc) {
            if (err) *err = e;
            return rc;
        }
        if (have != specs[i].partitions)
            return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                              "topic %s has %d partitions, want %d (the count "
                              "never changes: keys would move between "
                              "partitions)",
                              specs[i].name, have, specs[i].partitions);
    }
    return WW_OK;
}

ww_code_t ww_bus_admin_ensure_topics(const ww_bus_config_t *cfg,
                                     const ww_bus_topic_spec_t *specs,
                                     size_t n_specs, int timeout_ms,
                                     ww_err_t *err) {
    ww_code_t rc;
    for (size_t i = 0; i < n_specs; i++)
        if ((rc = check_spec(&specs[i], err))) return rc;
    if (n_specs == 0) return WW_OK;
    rd_kafka_t *rk = admin_client(cfg, err);
    if (!rk) return err ? err->code : WW_ERR_INVALID_ARGUMENT;

    rd_kafka_NewTopic_t **nts = calloc(n_specs, sizeof *nts);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    rc = WW_OK;
    if (!nts) {
        rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_specs; i++) {
        char msg[256];
        nts[i] = rd_kafka_NewTopic_new(specs[i].name, specs[i].partitions,
                                       specs[i].replication_factor, msg,
                                       sizeof msg);
        if (!nts[i]) {
            rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "topic %s: %s",
                            specs[i].name, msg);
            goto out;
        }
        for (size_t c = 0; c < specs[i].n_configs; c++) {
            rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(
                nts[i], specs[i].configs[c].name, specs[i].configs[c].value);
            if (e) {
                rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                                "topic %s: config %s=%s: %s", specs[i].name,
                                specs[i].configs[c].name,
                                specs[i].configs[c].value, rd_kafka_err2str(e));
                goto out;
            }
        }
    }
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    char msg[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, msg,
                                              sizeof msg);
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, msg,
                                                sizeof msg);
    rd_kafka_CreateTopics(rk, nts, n_specs, opts, q);
    rd_kafka_AdminOptions_destroy(opts);
    /* The request times out by itself; the extra second covers the queue. */
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        rc = ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                  "create topics: no answer within %d ms",
                                  timeout_ms);
        goto out;
    }
    if (rd_kafka_event_error(ev)) {
        rc = ww_bus_err_from_resp(rd_kafka_event_error(ev), "create topics",
                                  err);
        goto out;
    }
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n && rc == WW_OK; i++) {
        const char *name = rd_kafka_topic_result_name(res[i]);
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            char what[300];
            snprintf(what, sizeof what, "create topic %s (%s)", name,
                     rd_kafka_topic_result_error_string(res[i])
                         ? rd_kafka_topic_result_error_string(res[i])
                         : "");
            rc = ww_bus_err_from_resp(e, what, err);
            break;
        }
    }
    if (rc == WW_OK) rc = await_topics(rk, specs, n_specs, timeout_ms, err);
out:
    if (ev) rd_kafka_event_destroy(ev);
    if (nts) {
        for (size_t i = 0; i < n_specs; i++)
            if (nts[i]) rd_kafka_NewTopic_destroy(nts[i]);
        free(nts);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}
