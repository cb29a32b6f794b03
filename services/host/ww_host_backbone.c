/* ww_host_backbone.c - a service's topics on the Kafka backbone, at start. */
#include "ww_host_backbone.h"

#include "ww_bus_embedded.h"
#include "ww_clock.h"
#include "ww_env.h"
#include "ww_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ww_host_backbone {
    char svc[32]; /* the log lines' component */
    ww_bus_config_t *cfg;
    ww_bus_embedded_t *embedded; /* NULL with a configured cluster */
    int partitions;
    char topics[WW_HOST_BACKBONE__TOPICS][256];
};

/* The settings the catalogue (schemas/README.md) fixes, by kind of topic.
 * Facts are the source of truth and must outlive every consumer, and so
 * must dead letters until an operator looked at them: neither time nor size
 * may delete them, and compaction would keep only the last record of each
 * key. Snapshots are kept the same way, compacted: the newest one of each
 * key stays. Replies only matter while their caller waits; Kafka deletes
 * only closed segments, so a segment is closed every hour too, or "one
 * hour" would mean up to the default segment.ms of 7 days. Commands keep
 * the broker's defaults and are not checked. */
static const ww_bus_topic_config_t forever[] = {
    {"cleanup.policy", "delete"},
    {"retention.ms", "-1"},
    {"retention.bytes", "-1"},
};
static const ww_bus_topic_config_t compacted[] = {
    {"cleanup.policy", "compact"},
    {"retention.ms", "-1"},
    {"retention.bytes", "-1"},
    /* a snapshot is one record of a whole partition's state */
    {"max.message.bytes", WW_HOST_BACKBONE_SNAPSHOT_MAX_BYTES_TEXT},
};
static const ww_bus_topic_config_t short_lived[] = {
    {"cleanup.policy", "delete"},
    {"retention.ms", "3600000"},
    {"segment.ms", "3600000"},
};
#define RULE(a) a, sizeof a / sizeof *a

static const struct {
    bool peer; /* the peer's topic, not the service's */
    const char *suffix;
    const ww_bus_topic_config_t *configs; /* NULL: the broker's defaults */
    size_t n_configs;
} topics[WW_HOST_BACKBONE__TOPICS] = {
    [WW_HOST_BACKBONE_COMMANDS] = {false, ".commands", NULL, 0},
    [WW_HOST_BACKBONE_EVENTS] = {false, ".events", RULE(forever)},
    [WW_HOST_BACKBONE_REPLIES] = {false, ".replies", RULE(short_lived)},
    [WW_HOST_BACKBONE_SNAPSHOTS] = {false, ".snapshots", RULE(compacted)},
    [WW_HOST_BACKBONE_COMMANDS_DLQ] = {false, ".commands.dlq", RULE(forever)},
    [WW_HOST_BACKBONE_PEER_EVENTS] = {true, ".events", RULE(forever)},
    [WW_HOST_BACKBONE_PEER_EVENTS_DLQ] = {true, ".events.dlq", RULE(forever)},
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
            .n_configs = topics[t].n_configs,
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

/* Appends printf output to buf (size bytes), cut off when full. */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...) {
    size_t len = strlen(buf);
    if (len + 1 >= size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* True when topic i of c has `want` as its own setting; *found receives
 * what the broker reported (NULL: nothing). A right value inherited from a
 * broker setting is not enough: a broker-wide change would apply to the
 * topic. */
static bool setting_is_right(const ww_bus_admin_configs_t *c, size_t i,
                             const ww_bus_topic_config_t *want,
                             const ww_bus_admin_setting_t **found) {
    *found = ww_bus_admin_configs_find(c, i, want->name);
    return *found && (*found)->source == WW_BUS_ADMIN_SOURCE_TOPIC &&
           (*found)->value && !strcmp((*found)->value, want->value);
}

/* How many settings of topic i of c differ from spec's; with `report`, one
 * ERROR line each. */
static size_t differences(const ww_host_backbone_t *bb,
                          const ww_bus_admin_configs_t *c, size_t i,
                          const ww_bus_topic_spec_t *spec, bool report) {
    size_t wrong = 0;
    for (size_t k = 0; k < spec->n_configs; k++) {
        const ww_bus_admin_setting_t *found;
        if (setting_is_right(c, i, &spec->configs[k], &found)) continue;
        wrong++;
        if (!report) continue;
        bool inherited = found && found->value &&
                         !strcmp(found->value, spec->configs[k].value);
        ww_log_error(bb->svc,
                     "event=topic_setting_wrong topic=%s setting=%s found=%s "
                     "from=%s want=%s%s",
                     spec->name, spec->configs[k].name,
                     found && found->value ? found->value : "none",
                     found ? ww_bus_admin_source_name(found->source) : "none",
                     spec->configs[k].value,
                     inherited ? " msg=\"the right value, but not the "
                                 "topic's own: a broker-wide change would "
                                 "apply to it\""
                               : "");
    }
    return wrong;
}

/* Gives topic i of c the settings of spec with one AlterConfigs. It
 * replaces all of the topic's own settings, so the others it has are sent
 * again unchanged; a setting whose value the broker does not disclose
 * cannot be, and the topic is then left alone. */
static ww_code_t fix_topic(const ww_host_backbone_t *bb,
                           const ww_bus_admin_configs_t *c, size_t i,
                           const ww_bus_topic_spec_t *spec, int timeout_ms,
                           ww_err_t *err) {
    size_t n;
    const ww_bus_admin_setting_t *have = ww_bus_admin_configs_topic(c, i, &n);
    ww_bus_topic_config_t *set = calloc(n + spec->n_configs, sizeof *set);
    if (!set)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    size_t m = 0;
    char changed[512] = "", kept[512] = "";
    for (size_t k = 0; k < spec->n_configs; k++) {
        const ww_bus_admin_setting_t *found;
        if (!setting_is_right(c, i, &spec->configs[k], &found))
            append(changed, sizeof changed, "%s%s %s (%s) -> %s",
                   *changed ? "; " : "", spec->configs[k].name,
                   found && found->value ? found->value : "none",
                   found ? ww_bus_admin_source_name(found->source) : "none",
                   spec->configs[k].value);
        set[m++] = spec->configs[k];
    }
    ww_code_t rc = WW_OK;
    for (size_t j = 0; j < n && rc == WW_OK; j++) {
        if (have[j].source != WW_BUS_ADMIN_SOURCE_TOPIC) continue;
        bool ruled = false;
        for (size_t k = 0; k < spec->n_configs && !ruled; k++)
            ruled = !strcmp(have[j].name, spec->configs[k].name);
        if (ruled) continue;
        if (!have[j].value) {
            rc = ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                            "topic %s: cannot fix its settings without "
                            "losing its setting %s, whose value the broker "
                            "does not disclose; fix them by hand",
                            spec->name, have[j].name);
            break;
        }
        set[m++] = (ww_bus_topic_config_t){have[j].name, have[j].value};
        append(kept, sizeof kept, "%s%s=%s", *kept ? "; " : "", have[j].name,
               have[j].value);
    }
    if (rc == WW_OK)
        rc = ww_bus_admin_alter_configs(bb->cfg, spec->name, set, m, timeout_ms,
                                        err);
    if (rc == WW_OK)
        ww_log_warn(bb->svc,
                    "event=topic_fixed topic=%s changed=\"%s\" kept=\"%s\" "
                    "msg=\"WW_KAFKA_FIX_TOPICS: settings as the catalogue "
                    "says\"",
                    spec->name, changed, *kept ? kept : "-");
    free(set);
    return rc;
}

/* Describes the topics of specs that the catalogue fixes settings of
 * (their indexes into specs: idx[0..*n-1]). */
static ww_code_t describe_ruled(const ww_host_backbone_t *bb,
                                const ww_bus_topic_spec_t *specs, int count,
                                int timeout_ms, size_t *idx, size_t *n,
                                ww_bus_admin_configs_t **out, ww_err_t *err) {
    const char *names[WW_HOST_BACKBONE__TOPICS];
    *n = 0;
    for (int t = 0; t < count; t++)
        if (specs[t].n_configs) {
            idx[*n] = (size_t)t;
            names[(*n)++] = specs[t].name;
        }
    return ww_bus_admin_describe_configs(bb->cfg, names, *n, timeout_ms, out,
                                         err);
}

/* Reads the settings back until every topic has the catalogue's (the
 * broker that answers may see a change a moment after the controller
 * took it), within timeout_ms; then reports what still differs. */
static ww_code_t await_fixed(const ww_host_backbone_t *bb,
                             const ww_bus_topic_spec_t *specs, int count,
                             int timeout_ms, ww_err_t *err) {
    int64_t deadline = ww_clock_mono_ms() + timeout_ms;
    for (;;) {
        size_t idx[WW_HOST_BACKBONE__TOPICS], n, wrong = 0;
        ww_bus_admin_configs_t *c;
        ww_code_t rc =
            describe_ruled(bb, specs, count, timeout_ms, idx, &n, &c, err);
        if (rc) return rc;
        bool last = ww_clock_mono_ms() >= deadline;
        const char *first = NULL;
        for (size_t i = 0; i < n; i++)
            if (differences(bb, c, i, &specs[idx[i]], last)) {
                wrong++;
                if (!first) first = specs[idx[i]].name;
            }
        if (wrong)
            ww_err_set(err, WW_ERR_INTERNAL,
                       "topic %s: the broker accepted the catalogue's "
                       "settings but does not report them within %d ms",
                       first, timeout_ms);
        ww_bus_admin_configs_destroy(c);
        if (!wrong) return WW_OK;
        if (last) return WW_ERR_INTERNAL;
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/* The settings the catalogue fixes, checked on every topic that has them:
 * the wrong ones are reported and refused, or with WW_KAFKA_FIX_TOPICS set
 * fixed and checked again. Not on librdkafka's mock cluster, which has no
 * admin API (and keeps nothing beyond its process anyway). */
static ww_code_t check_settings(ww_host_backbone_t *bb,
                                const ww_bus_topic_spec_t *specs, int count,
                                int timeout_ms, ww_err_t *err) {
    bool mock = false;
    ww_code_t rc = ww_bus_admin_is_mock(bb->cfg, timeout_ms, &mock, err);
    if (rc) return rc;
    if (mock) {
        ww_log_warn(bb->svc,
                    "event=topic_settings_unchecked msg=\"the cluster is "
                    "librdkafka's mock, which has no DescribeConfigs and "
                    "keeps nothing beyond its process: retention and "
                    "cleanup policy of the topics are not checked\"");
        return WW_OK;
    }
    size_t idx[WW_HOST_BACKBONE__TOPICS], n;
    ww_bus_admin_configs_t *c;
    if ((rc = describe_ruled(bb, specs, count, timeout_ms, idx, &n, &c, err)))
        return rc;
    bool fix = ww_env_bool("WW_KAFKA_FIX_TOPICS");
    size_t wrong = 0;
    char names[200] = "";
    for (size_t i = 0; i < n && rc == WW_OK; i++) {
        if (!differences(bb, c, i, &specs[idx[i]], !fix)) continue;
        wrong++;
        append(names, sizeof names, "%s%s", *names ? ", " : "",
               specs[idx[i]].name);
        if (fix) rc = fix_topic(bb, c, i, &specs[idx[i]], timeout_ms, err);
    }
    ww_bus_admin_configs_destroy(c);
    if (rc || !wrong) return rc;
    if (!fix)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "%zu topic%s not as the catalogue says (one "
                          "topic_setting_wrong line per setting above); start "
                          "once with WW_KAFKA_FIX_TOPICS=1 to fix: %s",
                          wrong, wrong == 1 ? " is" : "s are", names);
    return await_fixed(bb, specs, count, timeout_ms, err);
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
    snprintf(bb->svc, sizeof bb->svc, "%s", svc);
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
        int attempt_ms = left < 1000 ? 1000 : left > 10000 ? 10000 : (int)left;
        rc = check_or_create(bb, specs, count, attempt_ms, err);
        if (rc == WW_OK) rc = check_settings(bb, specs, count, attempt_ms, err);
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
                "topics=%s,%s,%s,%s (+ dead letters)",
                brokers,
                ww_bus_config_instance_id(bb->cfg)
                    ? ww_bus_config_instance_id(bb->cfg)
                    : "-",
                bb->partitions, bb->topics[WW_HOST_BACKBONE_COMMANDS],
                bb->topics[WW_HOST_BACKBONE_EVENTS],
                bb->topics[WW_HOST_BACKBONE_REPLIES],
                bb->topics[WW_HOST_BACKBONE_SNAPSHOTS]);
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
