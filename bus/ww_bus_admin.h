/*
 * ww_bus_admin.h - the topics a program needs, on start: creating them
 * idempotently (a topic that already exists is fine when its partition
 * count is the one asked for; a different count is an error, because keys
 * would map to other partitions than the ones the program's state was built
 * on), and reading and replacing their settings (retention, cleanup
 * policy, ...). Which settings a topic must have is the caller's rule.
 *
 * Topic names are used as given (apply WW_TOPIC_PREFIX with
 * ww_bus_config_topic_name first). Calls block the calling thread; they
 * keep no state between calls and are safe from any thread.
 *
 * librdkafka's mock cluster (ww_bus_embedded) has no admin API: settings
 * cannot be read or changed there (DescribeConfigs and AlterConfigs wait
 * for a controller it does not name until they time out). Ask
 * ww_bus_admin_is_mock first.
 */
#ifndef WW_BUS_ADMIN_H
#define WW_BUS_ADMIN_H

#include "ww_bus_config.h"
#include "ww_err.h"

#include <stdbool.h>
#include <stddef.h>

/* A topic-level setting, e.g. {"retention.ms", "-1"}. */
typedef struct ww_bus_topic_config {
    const char *name;
    const char *value;
} ww_bus_topic_config_t;

/* What a program needs of one topic. All pointers are borrowed. */
typedef struct ww_bus_topic_spec {
    const char *name;
    int partitions;                       /* >= 1 */
    int replication_factor;               /* >= 1; -1: the broker's default */
    const ww_bus_topic_config_t *configs; /* NULL or n_configs entries */
    size_t n_configs;
} ww_bus_topic_spec_t;

/* Creates every missing topic of specs and checks the partition count of
 * those that exist. Settings of an existing topic are left as they are.
 * Returns WW_OK once every topic is listed in the metadata with the count
 * asked for (a new topic is waited for, within timeout_ms). Otherwise the
 * first problem:
 *   FAILED_PRECONDITION  "topic X has N partitions, want M"
 *   INVALID_ARGUMENT     a bad spec, or the broker refused one (bad config,
 *                        replication above the broker count, ...)
 *   UNAVAILABLE / DEADLINE_EXCEEDED (retriable)  broker not reachable
 *                        within timeout_ms */
ww_code_t ww_bus_admin_ensure_topics(const ww_bus_config_t *cfg,
                                     const ww_bus_topic_spec_t *specs,
                                     size_t n_specs, int timeout_ms,
                                     ww_err_t *err);

/* The partition count of topic into *partitions; NOT_FOUND when the topic
 * does not exist. */
ww_code_t ww_bus_admin_partition_count(const ww_bus_config_t *cfg,
                                       const char *topic, int timeout_ms,
                                       int *partitions, ww_err_t *err);

/* True in *mock when cfg's cluster is librdkafka's mock cluster (in this
 * process or another one, e.g. tools/ww-embedded-kafka): the mock names
 * itself "mockCluster<hex>" where a real cluster has a 22-character UUID.
 * UNAVAILABLE / DEADLINE_EXCEEDED (retriable) when the cluster did not say
 * its id within timeout_ms. */
ww_code_t ww_bus_admin_is_mock(const ww_bus_config_t *cfg, int timeout_ms,
                               bool *mock, ww_err_t *err);

/* Where the value of a topic's setting comes from. */
typedef enum ww_bus_admin_source {
    WW_BUS_ADMIN_SOURCE_UNKNOWN = 0,
    WW_BUS_ADMIN_SOURCE_TOPIC,   /* the topic's own override */
    WW_BUS_ADMIN_SOURCE_BROKER,  /* a broker setting, static or dynamic, of
                                    one broker or the cluster's default */
    WW_BUS_ADMIN_SOURCE_DEFAULT, /* Kafka's built-in default */
} ww_bus_admin_source_t;

/* "topic", "broker", "default", "unknown"; static storage. */
const char *ww_bus_admin_source_name(ww_bus_admin_source_t source);

/* One setting of a topic as the cluster reports it. */
typedef struct ww_bus_admin_setting {
    const char *name;
    const char *value; /* NULL: none, or a sensitive one (not disclosed) */
    ww_bus_admin_source_t source;
    bool sensitive;
} ww_bus_admin_setting_t;

/* The settings of some topics (DescribeConfigs' answer). */
typedef struct ww_bus_admin_configs ww_bus_admin_configs_t;

/* Reads every setting of each of topics[0..n_topics-1] in one request. On
 * success *out holds them (the caller owns it: ww_bus_admin_configs_destroy);
 * otherwise *out is NULL and:
 *   INVALID_ARGUMENT     no topic, or one without a name
 *   NOT_FOUND            "topic X does not exist" (the first such topic)
 *   UNAVAILABLE / DEADLINE_EXCEEDED (retriable)  no answer within timeout_ms
 *   other codes          the broker refused (e.g. PERMISSION_DENIED) */
ww_code_t ww_bus_admin_describe_configs(const ww_bus_config_t *cfg,
                                        const char *const *topics,
                                        size_t n_topics, int timeout_ms,
                                        ww_bus_admin_configs_t **out,
                                        ww_err_t *err);

/* The settings of topics[i] of the describe call (*n of them, in the
 * broker's order), owned by c; NULL with *n = 0 when i is out of range. */
const ww_bus_admin_setting_t *
ww_bus_admin_configs_topic(const ww_bus_admin_configs_t *c, size_t i,
                           size_t *n);

/* The setting `name` of topics[i]; NULL when the broker reported none. */
const ww_bus_admin_setting_t *
ww_bus_admin_configs_find(const ww_bus_admin_configs_t *c, size_t i,
                          const char *name);

/* NULL is ignored. */
void ww_bus_admin_configs_destroy(ww_bus_admin_configs_t *c);

/* Makes configs[0..n-1] the topic's own overrides, all of them and only
 * them: librdkafka 2.0.2 has only the non-incremental AlterConfigs, so an
 * override the topic has and configs lacks goes back to the broker's value.
 * To change one setting, resend the others too (the describe entries with
 * source WW_BUS_ADMIN_SOURCE_TOPIC). Errors: INVALID_ARGUMENT (a config
 * without name or value, or one the broker refused), NOT_FOUND (no such
 * topic), retriable UNAVAILABLE / DEADLINE_EXCEEDED (no answer within
 * timeout_ms: the change may or may not have been made). */
ww_code_t ww_bus_admin_alter_configs(const ww_bus_config_t *cfg,
                                     const char *topic,
                                     const ww_bus_topic_config_t *configs,
                                     size_t n, int timeout_ms, ww_err_t *err);

#endif
