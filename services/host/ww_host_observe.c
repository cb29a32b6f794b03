/* ww_host_observe.c - gRPC and Kafka observers feeding the metrics registry. */
#include "ww_host_observe.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METHOD_SLOTS 128 /* twice the runtime's method limit */
#define N_CODES      17

/* codes.Code.String() of grpc-go, which go-grpc-prometheus labels with. */
static const char *const code_names[N_CODES] = {"OK",
                                                "Canceled",
                                                "Unknown",
                                                "InvalidArgument",
                                                "DeadlineExceeded",
                                                "NotFound",
                                                "AlreadyExists",
                                                "PermissionDenied",
                                                "ResourceExhausted",
                                                "FailedPrecondition",
                                                "Aborted",
                                                "OutOfRange",
                                                "Unimplemented",
                                                "Internal",
                                                "Unavailable",
                                                "DataLoss",
                                                "Unauthenticated"};

typedef struct method_entry {
    uint64_t hash;
    char *path;
    ww_metrics_series_t *started, *seconds;
    ww_metrics_series_t *handled[N_CODES];
} method_entry_t;

struct ww_host_observe {
    ww_metrics_t *reg;
    ww_rpc_observer_t rpc;
    ww_bus_observer_t bus;
    _Atomic(method_entry_t *) methods[METHOD_SLOTS];
    ww_metrics_family_t *started, *handled, *seconds;
    ww_metrics_family_t *txns, *txn_seconds, *txn_records, *dlq;
    ww_metrics_family_t *lag, *position;
    ww_metrics_family_t *replyq, *rtt, *tx_bytes, *rx_bytes, *fetchq;
};

static uint64_t hash_path(const char *p) {
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static method_entry_t *lookup(ww_host_observe_t *o, const char *path) {
    uint64_t h = hash_path(path);
    for (size_t i = 0; i < METHOD_SLOTS; i++) {
        method_entry_t *e = atomic_load_explicit(
            &o->methods[(h + i) % METHOD_SLOTS], memory_order_acquire);
        if (!e) return NULL;
        if (e->hash == h && strcmp(e->path, path) == 0) return e;
    }
    return NULL;
}

/* "/pkg.Service/Method" -> "pkg.Service", "Method" (in buf). */
static bool split_path(const char *path, char *buf, size_t size,
                       const char **service, const char **method) {
    if (path[0] != '/' || strlen(path) >= size) return false;
    snprintf(buf, size, "%s", path + 1);
    char *slash = strchr(buf, '/');
    if (!slash) return false;
    *slash = '\0';
    *service = buf;
    *method = slash + 1;
    return true;
}

static void on_method(void *ctx, const char *path, const char *type) {
    ww_host_observe_t *o = ctx;
    if (lookup(o, path)) return;
    char buf[200];
    const char *svc, *meth;
    if (!split_path(path, buf, sizeof buf, &svc, &meth)) return;
    method_entry_t *e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path))) {
        free(e);
        return;
    }
    e->hash = hash_path(path);
    const char *v3[] = {type, svc, meth};
    e->started = ww_metrics_series(o->started, v3);
    e->seconds = ww_metrics_series(o->seconds, v3);
    for (int c = 0; c < N_CODES; c++) {
        const char *v4[] = {type, svc, meth, code_names[c]};
        e->handled[c] = ww_metrics_series(o->handled, v4);
    }
    for (size_t i = 0; i < METHOD_SLOTS; i++) {
        method_entry_t *none = NULL;
        if (atomic_compare_exchange_strong(
                &o->methods[(e->hash + i) % METHOD_SLOTS], &none, e))
            return;
    }
    free(e->path); /* the table is full: the method goes unmeasured */
    free(e);
}

static void on_started(void *ctx, const char *path) {
    method_entry_t *e = lookup(ctx, path);
    if (e) ww_metrics_inc(e->started);
}

static void on_handled(void *ctx, const char *path, grpc_status_code code,
                       int64_t duration_us) {
    method_entry_t *e = lookup(ctx, path);
    if (!e) return; /* an unknown method: never started, not labelled */
    int c = code >= 0 && code < N_CODES ? (int)code : 2 /* Unknown */;
    ww_metrics_inc(e->handled[c]);
    ww_metrics_observe(e->seconds, (double)duration_us / 1e6);
}

/* ---------- Kafka ---------- */

static void on_txn(void *ctx, const char *group, bool committed,
                   uint64_t records, int64_t duration_us) {
    ww_host_observe_t *o = ctx;
    const char *v2[] = {group, committed ? "committed" : "aborted"};
    ww_metrics_inc(ww_metrics_series(o->txns, v2));
    const char *v1[] = {group};
    ww_metrics_observe(ww_metrics_series(o->txn_seconds, v1),
                       (double)duration_us / 1e6);
    if (committed)
        ww_metrics_observe(ww_metrics_series(o->txn_records, v1),
                           (double)records);
}

static void on_dlq(void *ctx, const char *topic) {
    ww_host_observe_t *o = ctx;
    const char *v[] = {topic};
    ww_metrics_inc(ww_metrics_series(o->dlq, v));
}

static void on_stats(void *ctx, rd_kafka_t *rk, const char *json, size_t len) {
    char group[256] = "";
    size_t size = sizeof group;
    if (rd_kafka_conf_get(rd_kafka_conf(rk), "group.id", group, &size) !=
        RD_KAFKA_CONF_OK)
        snprintf(group, sizeof group, "-");
    ww_err_t err;
    ww_host_observe_stats(ctx, group, json, len, &err);
}

static int64_t int_of(json_t *obj, const char *key, int64_t fallback) {
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

static void set_partition(ww_host_observe_t *o, const char *group,
                          const char *topic, json_t *p, int64_t *fetchq) {
    int64_t part = int_of(p, "partition", -1);
    json_t *state = json_object_get(p, "fetch_state");
    if (part < 0 || !json_is_string(state) ||
        strcmp(json_string_value(state), "active") != 0)
        return; /* the internal UA partition, or one not consumed here */
    *fetchq += int_of(p, "fetchq_cnt", 0);
    /* read_committed: the end is the last stable offset. */
    int64_t end = int_of(p, "ls_offset", -1);
    if (end < 0) end = int_of(p, "hi_offset", -1);
    /* Where the consumer stands: what it handed to the application, else
     * its committed offset, else where it fetches next (a partition that
     * never had a record nor a commit). */
    int64_t pos = int_of(p, "app_offset", -1);
    if (pos < 0) pos = int_of(p, "committed_offset", -1);
    if (pos < 0) pos = int_of(p, "next_offset", -1);
    if (pos < 0 || end < 0) return;
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%lld", (long long)part);
    const char *v[] = {group, topic, pbuf};
    ww_metrics_set(ww_metrics_series(o->position, v), (double)pos);
    ww_metrics_set(ww_metrics_series(o->lag, v),
                   (double)(end > pos ? end - pos : 0));
}

ww_code_t ww_host_observe_stats(ww_host_observe_t *o, const char *group,
                                const char *json, size_t len, ww_err_t *err) {
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    json_t *name = json_object_get(root, "name");
    if (!json_is_object(root) || !json_is_string(name)) {
        json_decref(root);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "librdkafka statistics: not an object with a "
                          "name (%s)",
                          jerr.text);
    }
    const char *client[] = {json_string_value(name)};
    ww_metrics_set(ww_metrics_series(o->replyq, client),
                   (double)int_of(root, "replyq", 0));
    ww_metrics_set(ww_metrics_series(o->tx_bytes, client),
                   (double)int_of(root, "tx_bytes", 0));
    ww_metrics_set(ww_metrics_series(o->rx_bytes, client),
                   (double)int_of(root, "rx_bytes", 0));
    int64_t rtt = 0;
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(root, "brokers"), key, val) {
        int64_t avg = int_of(json_object_get(val, "rtt"), "avg", 0);
        if (avg > rtt) rtt = avg;
    }
    ww_metrics_set(ww_metrics_series(o->rtt, client), (double)rtt / 1e6);
    int64_t fetchq = 0;
    json_t *topic;
    json_object_foreach(json_object_get(root, "topics"), key, topic) {
        const char *pkey;
        json_t *p;
        json_object_foreach(json_object_get(topic, "partitions"), pkey, p)
            set_partition(o, group, key, p, &fetchq);
    }
    ww_metrics_set(ww_metrics_series(o->fetchq, client), (double)fetchq);
    json_decref(root);
    return WW_OK;
}

/* ---------- lifecycle ---------- */

typedef struct family_spec {
    ww_metrics_family_t **out;
    ww_metrics_type_t type;
    const char *name, *help;
    const char *labels[5];
    const double *buckets;
    size_t n_buckets;
} family_spec_t;

static const double record_buckets[] = {1,  2,   5,   10,  20,
                                        50, 100, 200, 500, 1000};

ww_code_t ww_host_observe_new(ww_metrics_t *reg, int stats_interval_ms,
                              ww_host_observe_t **out, ww_err_t *err) {
    *out = NULL;
    ww_host_observe_t *o = calloc(1, sizeof *o);
    if (!o) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    o->reg = reg;
    const double *db = ww_metrics_default_buckets;
    const size_t ndb = 11;
    const family_spec_t specs[] = {
        {&o->started,
         WW_METRICS_COUNTER,
         "grpc_server_started_total",
         "Total number of RPCs started on the server.",
         {"grpc_type", "grpc_service", "grpc_method"},
         NULL,
         0},
        {&o->handled,
         WW_METRICS_COUNTER,
         "grpc_server_handled_total",
         "Total number of RPCs completed on the server, regardless of "
         "success or failure.",
         {"grpc_type", "grpc_service", "grpc_method", "grpc_code"},
         NULL,
         0},
        {&o->seconds,
         WW_METRICS_HISTOGRAM,
         "grpc_server_handling_seconds",
         "Histogram of response latency (seconds) of gRPC that had been "
         "application-level handled by the server.",
         {"grpc_type", "grpc_service", "grpc_method"},
         db,
         ndb},
        {&o->txns,
         WW_METRICS_COUNTER,
         "ww_kafka_transactions_total",
         "Kafka transactions of a processor group, by outcome (committed, "
         "aborted).",
         {"group", "outcome"},
         NULL,
         0},
        {&o->txn_seconds,
         WW_METRICS_HISTOGRAM,
         "ww_kafka_transaction_duration_seconds",
         "Time from a transaction's first record to its commit or abort.",
         {"group"},
         db,
         ndb},
        {&o->txn_records,
         WW_METRICS_HISTOGRAM,
         "ww_kafka_transaction_records",
         "Input records per committed transaction.",
         {"group"},
         record_buckets,
         sizeof record_buckets / sizeof *record_buckets},
        {&o->dlq,
         WW_METRICS_COUNTER,
         "ww_kafka_dlq_records_total",
         "Records written to a dead-letter topic (committed).",
         {"topic"},
         NULL,
         0},
        {&o->lag,
         WW_METRICS_GAUGE,
         "ww_kafka_consumer_lag",
         "Records between a consumer's position and the partition's end "
         "(last stable offset), from librdkafka's statistics.",
         {"group", "topic", "partition"},
         NULL,
         0},
        {&o->position,
         WW_METRICS_GAUGE,
         "ww_kafka_consumer_position",
         "The next offset a consumer hands to the application.",
         {"group", "topic", "partition"},
         NULL,
         0},
        {&o->replyq,
         WW_METRICS_GAUGE,
         "ww_kafka_client_replyq",
         "librdkafka operations waiting to be served by the client.",
         {"client"},
         NULL,
         0},
        {&o->rtt,
         WW_METRICS_GAUGE,
         "ww_kafka_client_rtt_seconds",
         "Average broker round trip of the client's slowest broker.",
         {"client"},
         NULL,
         0},
        {&o->tx_bytes,
         WW_METRICS_GAUGE,
         "ww_kafka_client_tx_bytes",
         "Bytes the client sent to brokers since it started.",
         {"client"},
         NULL,
         0},
        {&o->rx_bytes,
         WW_METRICS_GAUGE,
         "ww_kafka_client_rx_bytes",
         "Bytes the client received from brokers since it started.",
         {"client"},
         NULL,
         0},
        {&o->fetchq,
         WW_METRICS_GAUGE,
         "ww_kafka_client_fetchq_messages",
         "Records fetched and not yet consumed by the application.",
         {"client"},
         NULL,
         0},
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        ww_code_t rc = ww_metrics_family_new(
            reg, specs[i].type, specs[i].name, specs[i].help, specs[i].labels,
            specs[i].buckets, specs[i].n_buckets, specs[i].out, err);
        if (rc != WW_OK) {
            free(o);
            return rc;
        }
    }
    o->rpc = (ww_rpc_observer_t){.method = on_method,
                                 .started = on_started,
                                 .handled = on_handled,
                                 .ctx = o};
    o->bus = (ww_bus_observer_t){.txn = on_txn,
                                 .dlq = on_dlq,
                                 .stats = on_stats,
                                 .ctx = o,
                                 .stats_interval_ms = stats_interval_ms};
    *out = o;
    return WW_OK;
}

const ww_rpc_observer_t *ww_host_observe_rpc(ww_host_observe_t *o) {
    return &o->rpc;
}

const ww_bus_observer_t *ww_host_observe_bus(ww_host_observe_t *o) {
    return &o->bus;
}

void ww_host_observe_destroy(ww_host_observe_t *o) {
    if (!o) return;
    for (size_t i = 0; i < METHOD_SLOTS; i++) {
        method_entry_t *e = atomic_load(&o->methods[i]);
        if (!e) continue;
        free(e->path);
        free(e);
    }
    free(o);
}
