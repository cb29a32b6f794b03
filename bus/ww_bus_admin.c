/* ww_bus_admin.c - idempotent topic creation with a partition check, and
 * topic settings read and replaced. */
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

/* Options of one admin request: it and its operation on the broker end
 * within timeout_ms. */
static rd_kafka_AdminOptions_t *
admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms) {
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
    char msg[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, msg,
                                              sizeof msg);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, msg,
                                                    sizeof msg);
    return opts;
}

/* The answer of the admin request sent to q, or NULL with err set when
 * there is none or it failed as a whole. The request times out by itself;
 * the extra second covers the queue. */
static rd_kafka_event_t *await_result(rd_kafka_queue_t *q, const char *what,
                                      int timeout_ms, ww_err_t *err) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                             "%s: no answer within %d ms", what, timeout_ms);
        return NULL;
    }
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    if (e) {
        char full[300];
        snprintf(full, sizeof full, "%s (%s)", what,
                 rd_kafka_event_error_string(ev));
        ww_bus_err_from_resp(e, full, err);
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
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
    ww_code_t rc =
        ww_err_set(err, WW_ERR_NOT_FOUND, "topic %s does not exist", topic);
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
        nts[i] =
            rd_kafka_NewTopic_new(specs[i].name, specs[i].partitions,
                                  specs[i].replication_factor, msg, sizeof msg);
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
        admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
    rd_kafka_CreateTopics(rk, nts, n_specs, opts, q);
    rd_kafka_AdminOptions_destroy(opts);
    if (!(ev = await_result(q, "create topics", timeout_ms, err))) {
        rc = err ? err->code : WW_ERR_UNAVAILABLE;
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

ww_code_t ww_bus_admin_is_mock(const ww_bus_config_t *cfg, int timeout_ms,
                               bool *mock, ww_err_t *err) {
    rd_kafka_t *rk = admin_client(cfg, err);
    if (!rk) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    ww_code_t rc = WW_OK;
    char *id = rd_kafka_clusterid(rk, timeout_ms);
    if (!id) {
        rc = ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                  "the cluster did not say its id within %d "
                                  "ms",
                                  timeout_ms);
    } else {
        /* rd_kafka_mock_cluster_new: "mockCluster%lx". */
        *mock = strncmp(id, "mockCluster", strlen("mockCluster")) == 0;
        rd_kafka_mem_free(rk, id);
    }
    rd_kafka_destroy(rk);
    return rc;
}

const char *ww_bus_admin_source_name(ww_bus_admin_source_t source) {
    switch (source) {
    case WW_BUS_ADMIN_SOURCE_TOPIC:
        return "topic";
    case WW_BUS_ADMIN_SOURCE_BROKER:
        return "broker";
    case WW_BUS_ADMIN_SOURCE_DEFAULT:
        return "default";
    case WW_BUS_ADMIN_SOURCE_UNKNOWN:
        break;
    }
    return "unknown";
}

static ww_bus_admin_source_t source_of(rd_kafka_ConfigSource_t s) {
    switch (s) {
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG:
        return WW_BUS_ADMIN_SOURCE_TOPIC;
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG:
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG:
    case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG:
        return WW_BUS_ADMIN_SOURCE_BROKER;
    case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG:
        return WW_BUS_ADMIN_SOURCE_DEFAULT;
    default:
        return WW_BUS_ADMIN_SOURCE_UNKNOWN;
    }
}

typedef struct topic_settings {
    ww_bus_admin_setting_t *settings;
    size_t n;
} topic_settings_t;

struct ww_bus_admin_configs {
    topic_settings_t *topics;
    size_t n_topics;
};

void ww_bus_admin_configs_destroy(ww_bus_admin_configs_t *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_topics; i++) {
        for (size_t j = 0; j < c->topics[i].n; j++) {
            free((char *)c->topics[i].settings[j].name);
            free((char *)c->topics[i].settings[j].value);
        }
        free(c->topics[i].settings);
    }
    free(c->topics);
    free(c);
}

const ww_bus_admin_setting_t *
ww_bus_admin_configs_topic(const ww_bus_admin_configs_t *c, size_t i,
                           size_t *n) {
    if (i >= c->n_topics) {
        *n = 0;
        return NULL;
    }
    *n = c->topics[i].n;
    return c->topics[i].settings;
}

const ww_bus_admin_setting_t *
ww_bus_admin_configs_find(const ww_bus_admin_configs_t *c, size_t i,
                          const char *name) {
    size_t n;
    const ww_bus_admin_setting_t *s = ww_bus_admin_configs_topic(c, i, &n);
    for (size_t j = 0; j < n; j++)
        if (!strcmp(s[j].name, name)) return &s[j];
    return NULL;
}

/* Copies the entries of one described topic into *t. */
static ww_code_t copy_settings(const rd_kafka_ConfigResource_t *res,
                               topic_settings_t *t, ww_err_t *err) {
    size_t n;
    const rd_kafka_ConfigEntry_t **entries =
        rd_kafka_ConfigResource_configs(res, &n);
    if (n && !(t->settings = calloc(n, sizeof *t->settings)))
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t j = 0; j < n; j++) {
        const char *name = rd_kafka_ConfigEntry_name(entries[j]);
        const char *value = rd_kafka_ConfigEntry_value(entries[j]);
        ww_bus_admin_setting_t *s = &t->settings[t->n++];
        s->source = source_of(rd_kafka_ConfigEntry_source(entries[j]));
        s->sensitive = rd_kafka_ConfigEntry_is_sensitive(entries[j]);
        if (!(s->name = strdup(name ? name : "")) ||
            (value && !(s->value = strdup(value))))
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    return WW_OK;
}

/* Takes the settings of each topic asked for out of DescribeConfigs'
 * answer (which need not keep the order of the request). */
static ww_code_t collect_configs(rd_kafka_event_t *ev,
                                 const char *const *topics,
                                 ww_bus_admin_configs_t *c, ww_err_t *err) {
    size_t n;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &n);
    for (size_t i = 0; i < c->n_topics; i++) {
        const rd_kafka_ConfigResource_t *r = NULL;
        for (size_t k = 0; k < n && !r; k++)
            if (!strcmp(rd_kafka_ConfigResource_name(res[k]), topics[i]))
                r = res[k];
        if (!r)
            return ww_err_set(err, WW_ERR_INTERNAL,
                              "describe settings: no answer for topic %s",
                              topics[i]);
        rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(r);
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            return ww_err_set(err, WW_ERR_NOT_FOUND, "topic %s does not exist",
                              topics[i]);
        if (e) {
            char what[400];
            const char *why = rd_kafka_ConfigResource_error_string(r);
            snprintf(what, sizeof what, "describe settings of topic %s (%s)",
                     topics[i], why ? why : "");
            return ww_bus_err_from_resp(e, what, err);
        }
        ww_code_t rc = copy_settings(r, &c->topics[i], err);
        if (rc) return rc;
    }
    return WW_OK;
}

/* One DescribeConfigs request for topics into c. */
static ww_code_t describe(rd_kafka_t *rk, const char *const *topics,
                          int timeout_ms, ww_bus_admin_configs_t *c,
                          ww_err_t *err) {
    rd_kafka_ConfigResource_t **res = calloc(c->n_topics, sizeof *res);
    if (!res)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < c->n_topics; i++)
        res[i] =
            rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topics[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
    rd_kafka_DescribeConfigs(rk, res, c->n_topics, opts, q);
    rd_kafka_AdminOptions_destroy(opts);
    ww_code_t rc;
    rd_kafka_event_t *ev =
        await_result(q, "describe topic settings", timeout_ms, err);
    if (!ev) {
        rc = err ? err->code : WW_ERR_UNAVAILABLE;
    } else {
        rc = collect_configs(ev, topics, c, err);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy_array(res, c->n_topics);
    free(res);
    return rc;
}

ww_code_t ww_bus_admin_describe_configs(const ww_bus_config_t *cfg,
                                        const char *const *topics,
                                        size_t n_topics, int timeout_ms,
                                        ww_bus_admin_configs_t **out,
                                        ww_err_t *err) {
    *out = NULL;
    if (n_topics == 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "describe settings: no topic named");
    for (size_t i = 0; i < n_topics; i++)
        if (!topics[i] || !*topics[i])
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "describe settings: topic %zu without name", i);
    ww_bus_admin_configs_t *c = calloc(1, sizeof *c);
    if (!c || !(c->topics = calloc(n_topics, sizeof *c->topics))) {
        free(c);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    c->n_topics = n_topics;
    ww_code_t rc;
    rd_kafka_t *rk = admin_client(cfg, err);
    if (!rk) {
        rc = err ? err->code : WW_ERR_INVALID_ARGUMENT;
    } else {
        rc = describe(rk, topics, timeout_ms, c, err);
        rd_kafka_destroy(rk);
    }
    if (rc) {
        ww_bus_admin_configs_destroy(c);
        return rc;
    }
    *out = c;
    return WW_OK;
}

ww_code_t ww_bus_admin_alter_configs(const ww_bus_config_t *cfg,
                                     const char *topic,
                                     const ww_bus_topic_config_t *configs,
                                     size_t n, int timeout_ms, ww_err_t *err) {
    if (!topic || !*topic)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "alter settings: topic without name");
    for (size_t i = 0; i < n; i++)
        if (!configs[i].name || !*configs[i].name || !configs[i].value)
            return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                              "alter settings of topic %s: config %zu without "
                              "name or value",
                              topic, i);
    rd_kafka_t *rk = admin_client(cfg, err);
    if (!rk) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    rd_kafka_ConfigResource_t *res =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    ww_code_t rc = WW_OK;
    for (size_t i = 0; i < n && rc == WW_OK; i++) {
        rd_kafka_resp_err_t e = rd_kafka_ConfigResource_set_config(
            res, configs[i].name, configs[i].value);
        if (e)
            rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                            "alter settings of topic %s: %s=%s: %s", topic,
                            configs[i].name, configs[i].value,
                            rd_kafka_err2str(e));
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    char what[300];
    snprintf(what, sizeof what, "alter settings of topic %s", topic);
    if (rc == WW_OK) {
        rd_kafka_AdminOptions_t *opts =
            admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout_ms);
        rd_kafka_AlterConfigs(rk, &res, 1, opts, q);
        rd_kafka_AdminOptions_destroy(opts);
        if (!(ev = await_result(q, what, timeout_ms, err)))
            rc = err ? err->code : WW_ERR_UNAVAILABLE;
    }
    if (ev) {
        size_t nr;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_AlterConfigs_result_resources(
                rd_kafka_event_AlterConfigs_result(ev), &nr);
        rd_kafka_resp_err_t e = nr == 1 ? rd_kafka_ConfigResource_error(rs[0])
                                        : RD_KAFKA_RESP_ERR__BAD_MSG;
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rc = ww_err_set(err, WW_ERR_NOT_FOUND, "topic %s does not exist",
                            topic);
        } else if (e) {
            const char *why =
                nr == 1 ? rd_kafka_ConfigResource_error_string(rs[0]) : NULL;
            char full[600];
            snprintf(full, sizeof full, "%s (%s)", what,
                     why ? why : "no answer for the topic");
            rc = ww_bus_err_from_resp(e, full, err);
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_destroy(rk);
    return rc;
}
