/*
 * bus_txn_support.h - broker helpers shared by the transaction, replay and
 * tail tests (raw librdkafka, so the helpers never depend on the code under
 * test). Every helper fails the running case on error.
 */
#ifndef BUS_TXN_SUPPORT_H
#define BUS_TXN_SUPPORT_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "ww_bus_config.h"

/* Bus settings for the test broker (caller destroys them), with an
 * instance id when `instance` is not NULL. */
ww_bus_config_t *bt_bus(const char *instance);

/* A fresh configuration for the test broker (caller owns it). */
rd_kafka_conf_t *bt_conf(void);

/* Creates `topic` with `partitions` partitions (replication 1). */
void bt_create_topic(const char *topic, int partitions);

/* Produces values fmt % i for i in [from, from+n) with key "k<i>" to
 * partition `partition` (RD_KAFKA_PARTITION_UA: by key), idempotent, and
 * waits for every delivery. */
void bt_produce(const char *topic, int32_t partition, int from, int n,
                const char *fmt);

/* Same inside one transaction that is committed (commit=true) or aborted;
 * with leave_open the transaction is neither: the producer is returned
 * (caller destroys it) and the transaction stays open. */
rd_kafka_t *bt_produce_txn(const char *topic, int32_t partition, int from,
                           int n, const char *fmt, bool commit,
                           bool leave_open);

/* Milliseconds since the epoch (record timestamps). */
int64_t bt_wall_ms(void);

#endif
