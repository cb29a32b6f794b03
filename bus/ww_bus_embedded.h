/*
 * ww_bus_embedded.h - an in-process Kafka for machines without a broker:
 * librdkafka's mock cluster, reachable over loopback TCP by any librdkafka
 * client (also in other processes, as long as this one lives).
 *
 * Limits of the mock in librdkafka 2.0.2 (they decide what may run on it):
 *   - EndTxn writes no transaction markers: read_committed is NOT enforced,
 *     records of aborted transactions stay visible. Exactly-once holds on a
 *     real broker only.
 *   - no admin API (create topics with ww_bus_embedded_create_topic; topics
 *     a client asks for are otherwise auto-created with the mock's default
 *     partition count), no compaction, no retention, memory only.
 *   - produce, fetch, consumer groups, idempotence and the transaction
 *     calls work.
 *
 * Thread safety: create and destroy on one thread; bootstrap and
 * create_topic may be called from any thread in between.
 */
#ifndef WW_BUS_EMBEDDED_H
#define WW_BUS_EMBEDDED_H

#include "ww_err.h"

typedef struct ww_bus_embedded ww_bus_embedded_t;

/* Starts a mock cluster of `brokers` (1..9) brokers on 127.0.0.1. NULL with
 * err set on failure. Caller owns the result. */
ww_bus_embedded_t *ww_bus_embedded_new(int brokers, ww_err_t *err);

/* The bootstrap servers ("127.0.0.1:port,..."), owned by the cluster, valid
 * until destroy. Give it to ww_bus_config_set_brokers or KAFKA_BROKERS. */
const char *ww_bus_embedded_bootstrap(const ww_bus_embedded_t *emb);

/* Creates topic with `partitions` partitions (replication 1). */
ww_code_t ww_bus_embedded_create_topic(ww_bus_embedded_t *emb,
                                       const char *topic, int partitions,
                                       ww_err_t *err);

/* Stops the cluster; clients still connected see their brokers go down.
 * NULL is ignored. */
void ww_bus_embedded_destroy(ww_bus_embedded_t *emb);

#endif
