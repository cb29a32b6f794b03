/* ww_bus_observer.c - the process's one bus observer and its reports. */
#include "ww_bus_observer.h"

#include <stdatomic.h>
#include <stdio.h>

static _Atomic(const ww_bus_observer_t *) installed;

void ww_bus_observe(const ww_bus_observer_t *obs) {
    atomic_store(&installed, obs);
}

const ww_bus_observer_t *ww_bus_observer(void) {
    return atomic_load_explicit(&installed, memory_order_acquire);
}

void ww_bus_observer_txn(const char *group, bool committed, uint64_t records,
                         int64_t duration_us) {
    const ww_bus_observer_t *o = ww_bus_observer();
    if (o && o->txn) o->txn(o->ctx, group, committed, records, duration_us);
}

void ww_bus_observer_dlq(const char *dlq_topic) {
    const ww_bus_observer_t *o = ww_bus_observer();
    if (o && o->dlq) o->dlq(o->ctx, dlq_topic);
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)opaque;
    const ww_bus_observer_t *o = ww_bus_observer();
    if (o && o->stats) o->stats(o->ctx, rk, json, len);
    return 0; /* librdkafka frees the JSON */
}

bool ww_bus_observer_conf(rd_kafka_conf_t *conf, char *msg, size_t msg_size) {
    const ww_bus_observer_t *o = ww_bus_observer();
    if (!o || !o->stats || o->stats_interval_ms <= 0) return true;
    char v[24];
    snprintf(v, sizeof v, "%d", o->stats_interval_ms);
    if (rd_kafka_conf_set(conf, "statistics.interval.ms", v, msg, msg_size) !=
        RD_KAFKA_CONF_OK)
        return false;
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    return true;
}
