/*
 * ww_bus_admin.h - creating the topics a program needs, idempotently, on
 * start: a topic that already exists is fine when its partition count is
 * the one asked for; a different count is an error, because keys would map
 * to other partitions than the ones the program's state was built on.
 *
 * Topic names are used as given (apply WW_TOPIC_PREFIX with
 * ww_bus_config_topic_name first). Calls block the calling thread; they
 * keep no state between calls and are safe from any thread.
 */
#ifndef WW_BUS_ADMIN_H
#define WW_BUS_ADMIN_H

#include <stddef.h>

#include "ww_bus_config.h"
#include "ww_err.h"

/* A topic-level setting, e.g. {"retention.ms", "-1"}. */
typedef struct ww_bus_topic_config {
    const char *name;
    const char *value;
} ww_bus_topic_config_t;

/* What a program needs of one topic. All pointers are borrowed. */
typedef struct ww_bus_topic_spec {
    const char *name;
    int partitions;         /* >= 1 */
    int replication_factor; /* >= 1; -1: the broker's default */
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

#endif
