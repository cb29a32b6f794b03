/*
 * ww_host_observe.h - gRPC calls and the Kafka bus measured into a metrics
 * registry, through the runtime's observer hook (ww_rpc_server.h) and the
 * bus observer (ww_bus_observer.h).
 *
 * gRPC, with go-grpc-prometheus' names, labels and default buckets, every
 * registered method's series present from the start:
 *   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
 *   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
 *   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}
 * Kafka (`group` is the consumer group id as Kafka knows it, with
 * WW_TOPIC_PREFIX; `topic` the full topic name):
 *   ww_kafka_transactions_total{group,outcome}      committed | aborted
 *   ww_kafka_transaction_duration_seconds{group}    first record to end
 *   ww_kafka_transaction_records{group}             input records per commit
 *   ww_kafka_dlq_records_total{topic}               dead letters committed
 *   ww_kafka_consumer_lag{group,topic,partition}    end - position
 *   ww_kafka_consumer_position{group,topic,partition}
 *   ww_kafka_client_replyq{client}                  ops waiting to be served
 *   ww_kafka_client_rtt_seconds{client}             worst broker's average
 *   ww_kafka_client_tx_bytes / rx_bytes{client}     since the client started
 *   ww_kafka_client_fetchq_messages{client}         prefetched, not consumed
 * (the last five from librdkafka's statistics, statistics.interval.ms =
 * WW_KAFKA_STATS_INTERVAL_MS, default 5000; consumers only).
 *
 * Hot path: a call's two updates find their series in a table filled at
 * start (no lock, no allocation), then bump atomics.
 *
 * Threads: new/destroy on the main thread; the observers from any thread.
 */
#ifndef WW_HOST_OBSERVE_H
#define WW_HOST_OBSERVE_H

#include "ww_bus_observer.h"
#include "ww_err.h"
#include "ww_metrics.h"
#include "ww_rpc_server.h"

typedef struct ww_host_observe ww_host_observe_t;

/* Registers the families on `reg` (borrowed; must outlive it).
 * RESOURCE_EXHAUSTED, INVALID_ARGUMENT. */
ww_code_t ww_host_observe_new(ww_metrics_t *reg, int stats_interval_ms,
                              ww_host_observe_t **out, ww_err_t *err);

/* The observers (owned by o, valid until destroy). */
const ww_rpc_observer_t *ww_host_observe_rpc(ww_host_observe_t *o);
const ww_bus_observer_t *ww_host_observe_bus(ww_host_observe_t *o);

/* Frees; the observers must be uninstalled and no longer running. */
void ww_host_observe_destroy(ww_host_observe_t *o);

/* Reduces one librdkafka statistics JSON of a consumer of group `group`
 * into the registry's gauges (what the bus observer does with each). For
 * tests. WW_OK, INVALID_ARGUMENT (not the JSON librdkafka writes). */
ww_code_t ww_host_observe_stats(ww_host_observe_t *o, const char *group,
                                const char *json, size_t len, ww_err_t *err);

#endif
