/*
 * ww_bus_observer.h - what the bus reports to whoever watches it (the
 * services' metrics): transactions ended, dead letters written, and
 * librdkafka's own statistics. One observer per process, installed before
 * the bus creates its clients; none installed: nothing is reported and no
 * statistics are asked for.
 *
 * Threads: the callbacks run on the bus's threads (a processor's loop, a
 * subscriber's, a consumer's poll for the statistics), so they must be
 * thread-safe, must not block and must not call back into the bus.
 */
#ifndef WW_BUS_OBSERVER_H
#define WW_BUS_OBSERVER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ww_bus_observer {
    /* A processor's transaction ended: committed (records = input records
     * it covered) or aborted; `group` is the processor's group id as Kafka
     * knows it (with WW_TOPIC_PREFIX); duration from its first record to
     * the end. */
    void (*txn)(void *ctx, const char *group, bool committed, uint64_t records,
                int64_t duration_us);
    /* One record was written to the dead-letter topic `dlq_topic` (full
     * name), by a processor (inside its transaction) or a subscriber. */
    void (*dlq)(void *ctx, const char *dlq_topic);
    /* librdkafka's statistics JSON of consumer `rk` (borrowed for the call),
     * every stats_interval_ms. */
    void (*stats)(void *ctx, rd_kafka_t *rk, const char *json, size_t len);
    void *ctx;
    int stats_interval_ms; /* 0: no statistics */
} ww_bus_observer_t;

/* Installs `obs` (borrowed until ww_bus_observe(NULL); NULL uninstalls).
 * Clients created afterwards report to it. */
void ww_bus_observe(const ww_bus_observer_t *obs);

/* The observer installed, or NULL. */
const ww_bus_observer_t *ww_bus_observer(void);

/* Reports, for the bus's own modules; no-ops without an observer. */
void ww_bus_observer_txn(const char *group, bool committed, uint64_t records,
                         int64_t duration_us);
void ww_bus_observer_dlq(const char *dlq_topic);

/* Asks `conf` (a consumer's) for statistics every stats_interval_ms and
 * routes them to the observer; nothing without one. Returns false with
 * librdkafka's reason in msg when the setting is refused. */
bool ww_bus_observer_conf(rd_kafka_conf_t *conf, char *msg, size_t msg_size);

#endif
