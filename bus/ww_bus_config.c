/* ww_bus_config.c - Kafka client settings: environment plus overrides. */
#include "ww_bus_config.h"

#include "ww_bus_observer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_env.h"
#include "ww_log.h"

typedef struct kv {
    char *key;
    char *value;
} kv_t;

typedef struct kv_list {
    kv_t *items;
    size_t n, cap;
} kv_list_t;

struct ww_bus_config {
    char *brokers;
    char *prefix;
    char *instance_id;
    char *file_path; /* only for messages about the file's properties */
    int session_timeout_ms;
    int transaction_timeout_ms;
    ww_bus_assignor_t assignor;
    kv_list_t file_props;
    kv_list_t extra_props;
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static bool kv_add(kv_list_t *l, const char *k, const char *v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        kv_t *items = realloc(l->items, cap * sizeof *items);
        if (!items) return false;
        l->items = items;
        l->cap = cap;
    }
    char *kc = strdup(k), *vc = strdup(v);
    if (!kc || !vc) {
        free(kc);
        free(vc);
        return false;
    }
    l->items[l->n++] = (kv_t){kc, vc};
    return true;
}

static void kv_free(kv_list_t *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static bool kv_copy(kv_list_t *dst, const kv_list_t *src) {
    for (size_t i = 0; i < src->n; i++)
        if (!kv_add(dst, src->items[i].key, src->items[i].value)) return false;
    return true;
}

static const char *kv_get(const kv_list_t *l, const char *k) {
    const char *v = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i].key, k)) v = l->items[i].value;
    return v;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* The format of librdkafka's own examples and of Java client files: one
 * key=value per line, blank lines and '#' comments ignored. */
static ww_code_t read_properties(const char *path, kv_list_t *out,
                                 ww_err_t *err) {
    FILE *f = fopen(path, "r");
    if (!f)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "WW_KAFKA_CONFIG %s: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0;
    ww_code_t rc = WW_OK;
    while (rc == WW_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                            "WW_KAFKA_CONFIG %s:%d: line longer than %zu "
                            "bytes", path, lineno, sizeof line - 2);
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                            "WW_KAFKA_CONFIG %s:%d: expected key=value, got "
                            "\"%.64s\"", path, lineno, s);
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        if (!*k) {
            rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                            "WW_KAFKA_CONFIG %s:%d: empty key", path, lineno);
            break;
        }
        if (!kv_add(out, k, v))
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    fclose(f);
    return rc;
}

static ww_code_t env_positive_int(const char *name, int fallback, int *out,
                                  ww_err_t *err) {
    const char *v = ww_env_str(name, NULL);
    if (!v) {
        *out = fallback;
        return WW_OK;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n <= 0 || n > 3600000)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s=\"%s\": want milliseconds in 1..3600000", name,
                          v);
    *out = (int)n;
    return WW_OK;
}

ww_bus_config_t *ww_bus_config_new(ww_err_t *err) {
    ww_bus_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    cfg->brokers = dup_or_null(ww_env_str("KAFKA_BROKERS", NULL));
    cfg->prefix = strdup(ww_env_str("WW_TOPIC_PREFIX", ""));
    cfg->instance_id = dup_or_null(ww_env_str("WW_INSTANCE_ID", NULL));
    cfg->assignor = WW_BUS_ASSIGNOR_RANGE;
    if (!cfg->prefix) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    if (env_positive_int("WW_KAFKA_SESSION_TIMEOUT_MS",
                         WW_BUS_DEFAULT_SESSION_TIMEOUT_MS,
                         &cfg->session_timeout_ms, err) ||
        env_positive_int("WW_KAFKA_TRANSACTION_TIMEOUT_MS",
                         WW_BUS_DEFAULT_TRANSACTION_TIMEOUT_MS,
                         &cfg->transaction_timeout_ms, err))
        goto fail;
    if (cfg->transaction_timeout_ms < 2000) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "WW_KAFKA_TRANSACTION_TIMEOUT_MS=%d: want at least 2000, "
                   "message.timeout.ms must fit below it",
                   cfg->transaction_timeout_ms);
        goto fail;
    }
    const char *assignor = ww_env_str("WW_KAFKA_ASSIGNOR", NULL);
    if (assignor) {
        if (!strcmp(assignor, "range")) {
            cfg->assignor = WW_BUS_ASSIGNOR_RANGE;
        } else if (!strcmp(assignor, "roundrobin")) {
            cfg->assignor = WW_BUS_ASSIGNOR_ROUNDROBIN;
        } else {
            ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                       "WW_KAFKA_ASSIGNOR=\"%s\": want range or roundrobin "
                       "(cooperative-sticky is broken in librdkafka 2.0.2)",
                       assignor);
            goto fail;
        }
    }
    const char *path = ww_env_str("WW_KAFKA_CONFIG", NULL);
    if (path) {
        cfg->file_path = strdup(path);
        if (read_properties(path, &cfg->file_props, err)) goto fail;
    }
    return cfg;
fail:
    ww_bus_config_destroy(cfg);
    return NULL;
}

ww_bus_config_t *ww_bus_config_dup(const ww_bus_config_t *src) {
    ww_bus_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    cfg->brokers = dup_or_null(src->brokers);
    cfg->prefix = dup_or_null(src->prefix);
    cfg->instance_id = dup_or_null(src->instance_id);
    cfg->file_path = dup_or_null(src->file_path);
    cfg->session_timeout_ms = src->session_timeout_ms;
    cfg->transaction_timeout_ms = src->transaction_timeout_ms;
    cfg->assignor = src->assignor;
    if ((src->brokers && !cfg->brokers) || !cfg->prefix ||
        (src->instance_id && !cfg->instance_id) ||
        (src->file_path && !cfg->file_path) ||
        !kv_copy(&cfg->file_props, &src->file_props) ||
        !kv_copy(&cfg->extra_props, &src->extra_props)) {
        ww_bus_config_destroy(cfg);
        return NULL;
    }
    return cfg;
}

void ww_bus_config_destroy(ww_bus_config_t *cfg) {
    if (!cfg) return;
    free(cfg->brokers);
    free(cfg->prefix);
    free(cfg->instance_id);
    free(cfg->file_path);
    kv_free(&cfg->file_props);
    kv_free(&cfg->extra_props);
    free(cfg);
}

static ww_code_t replace_str(char **slot, const char *v, bool allow_null,
                             const char *what, ww_err_t *err) {
    if (!v && !allow_null)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s is NULL", what);
    char *copy = NULL;
    if (v && !(copy = strdup(v)))
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    free(*slot);
    *slot = copy;
    return WW_OK;
}

ww_code_t ww_bus_config_set_brokers(ww_bus_config_t *cfg, const char *brokers,
                                    ww_err_t *err) {
    return replace_str(&cfg->brokers, brokers && *brokers ? brokers : NULL,
                       true, "brokers", err);
}

ww_code_t ww_bus_config_set_topic_prefix(ww_bus_config_t *cfg,
                                         const char *prefix, ww_err_t *err) {
    return replace_str(&cfg->prefix, prefix ? prefix : "", false, "prefix",
                       err);
}

ww_code_t ww_bus_config_set_instance_id(ww_bus_config_t *cfg,
                                        const char *instance_id,
                                        ww_err_t *err) {
    return replace_str(&cfg->instance_id,
                       instance_id && *instance_id ? instance_id : NULL, true,
                       "instance id", err);
}

ww_code_t ww_bus_config_set_session_timeout_ms(ww_bus_config_t *cfg, int ms,
                                               ww_err_t *err) {
    if (ms <= 0 || ms > 3600000)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "session timeout %d ms: want 1..3600000", ms);
    cfg->session_timeout_ms = ms;
    return WW_OK;
}

ww_code_t ww_bus_config_set_transaction_timeout_ms(ww_bus_config_t *cfg,
                                                   int ms, ww_err_t *err) {
    if (ms < 2000 || ms > 3600000)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "transaction timeout %d ms: want 2000..3600000", ms);
    cfg->transaction_timeout_ms = ms;
    return WW_OK;
}

ww_code_t ww_bus_config_set_assignor(ww_bus_config_t *cfg,
                                     ww_bus_assignor_t assignor,
                                     ww_err_t *err) {
    if (assignor != WW_BUS_ASSIGNOR_RANGE &&
        assignor != WW_BUS_ASSIGNOR_ROUNDROBIN)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "assignor %d",
                          (int)assignor);
    cfg->assignor = assignor;
    return WW_OK;
}

ww_code_t ww_bus_config_set(ww_bus_config_t *cfg, const char *key,
                            const char *value, ww_err_t *err) {
    if (!key || !*key || !value)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "property key and value are required");
    if (!kv_add(&cfg->extra_props, key, value))
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    return WW_OK;
}

const char *ww_bus_config_brokers(const ww_bus_config_t *cfg) {
    return cfg->brokers;
}
const char *ww_bus_config_topic_prefix(const ww_bus_config_t *cfg) {
    return cfg->prefix;
}
const char *ww_bus_config_instance_id(const ww_bus_config_t *cfg) {
    return cfg->instance_id;
}
int ww_bus_config_session_timeout_ms(const ww_bus_config_t *cfg) {
    return cfg->session_timeout_ms;
}
int ww_bus_config_transaction_timeout_ms(const ww_bus_config_t *cfg) {
    return cfg->transaction_timeout_ms;
}
ww_bus_assignor_t ww_bus_config_assignor(const ww_bus_config_t *cfg) {
    return cfg->assignor;
}

static ww_code_t format_name(char *buf, size_t size, ww_err_t *err,
                             const char *fmt, const char *a, const char *b,
                             const char *c) {
    int n = snprintf(buf, size, fmt, a, b, c);
    if (n < 0 || (size_t)n >= size)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "name \"%s%s\" does not fit %zu bytes", a, b, size);
    return WW_OK;
}

ww_code_t ww_bus_config_topic_name(const ww_bus_config_t *cfg,
                                   const char *name, char *buf, size_t size,
                                   ww_err_t *err) {
    if (!name || !*name)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "empty topic name");
    return format_name(buf, size, err, "%s%s%s", cfg->prefix, name, "");
}

ww_code_t ww_bus_config_group_id(const ww_bus_config_t *cfg, const char *name,
                                 char *buf, size_t size, ww_err_t *err) {
    if (!name || !*name)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "empty group name");
    return format_name(buf, size, err, "%s%s%s", cfg->prefix, name, "");
}

ww_code_t ww_bus_config_transactional_id(const ww_bus_config_t *cfg,
                                         const char *name, char *buf,
                                         size_t size, ww_err_t *err) {
    if (!name || !*name)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "empty transactional name");
    if (!cfg->instance_id)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "transactional id for \"%s\" needs an instance id "
                          "(WW_INSTANCE_ID): fencing a crashed predecessor "
                          "needs an id that survives restarts", name);
    char tail[256];
    int n = snprintf(tail, sizeof tail, ".%s", cfg->instance_id);
    if (n < 0 || (size_t)n >= sizeof tail)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "instance id is longer than %zu bytes",
                          sizeof tail - 2);
    return format_name(buf, size, err, "%s%s%s", cfg->prefix, name, tail);
}

/* ---- building confs ---------------------------------------------------- */

static bool conf_put(rd_kafka_conf_t *conf, const char *k, const char *v,
                     const char *source, ww_err_t *err) {
    char msg[256];
    if (rd_kafka_conf_set(conf, k, v, msg, sizeof msg) == RD_KAFKA_CONF_OK)
        return true;
    ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s: %s=%s: %s", source, k, v,
               msg);
    return false;
}

static bool conf_put_int(rd_kafka_conf_t *conf, const char *k, int v,
                         ww_err_t *err) {
    char num[32];
    snprintf(num, sizeof num, "%d", v);
    return conf_put(conf, k, num, "bus setting", err);
}

/* librdkafka's own log lines, as structured lines of component "kafka"
 * (syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug). */
static void log_to_ww(const rd_kafka_t *rk, int level, const char *fac,
                      const char *buf) {
    ww_log_level_t l = level <= 3   ? WW_LOG_ERROR
                       : level == 4 ? WW_LOG_WARN
                       : level <= 6 ? WW_LOG_INFO
                                    : WW_LOG_DEBUG;
    if (!ww_log_enabled(l)) return;
    ww_log(l, "kafka", "client=%s facility=%s msg=\"%s\"",
           rd_kafka_name(rk), fac, buf);
}

/* Common part: the file, then bootstrap and client id. */
static rd_kafka_conf_t *conf_base(const ww_bus_config_t *cfg, ww_err_t *err) {
    const char *brokers = cfg->brokers;
    if (!brokers) brokers = kv_get(&cfg->file_props, "bootstrap.servers");
    if (!brokers) brokers = kv_get(&cfg->extra_props, "bootstrap.servers");
    if (!brokers) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "no Kafka bootstrap servers: set KAFKA_BROKERS, "
                   "bootstrap.servers in WW_KAFKA_CONFIG, or start the "
                   "embedded broker");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char source[300];
    snprintf(source, sizeof source, "WW_KAFKA_CONFIG %s",
             cfg->file_path ? cfg->file_path : "");
    for (size_t i = 0; i < cfg->file_props.n; i++)
        if (!conf_put(conf, cfg->file_props.items[i].key,
                      cfg->file_props.items[i].value, source, err))
            goto fail;
    if (!conf_put(conf, "bootstrap.servers", brokers, "bootstrap servers",
                  err))
        goto fail;
    char client_id[200];
    snprintf(client_id, sizeof client_id, "ww-%s",
             cfg->instance_id ? cfg->instance_id : "client");
    if (!conf_put(conf, "client.id", client_id, "bus setting", err))
        goto fail;
    rd_kafka_conf_set_log_cb(conf, log_to_ww);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* A consumer's statistics go to the process's bus observer, if any. */
static bool put_observed(rd_kafka_conf_t *conf, ww_err_t *err) {
    char msg[256];
    if (ww_bus_observer_conf(conf, msg, sizeof msg)) return true;
    ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "bus observer: %s", msg);
    return false;
}

static rd_kafka_conf_t *conf_finish(const ww_bus_config_t *cfg,
                                    rd_kafka_conf_t *conf, ww_err_t *err) {
    for (size_t i = 0; i < cfg->extra_props.n; i++)
        if (!conf_put(conf, cfg->extra_props.items[i].key,
                      cfg->extra_props.items[i].value, "explicit setting",
                      err)) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    return conf;
}

static bool put_producer(rd_kafka_conf_t *conf, ww_err_t *err) {
    /* The Java client's partitioner, so a record keyed the same by a Java
     * or Go producer lands on the same partition, and one owner decides
     * all of a key's commands. */
    return conf_put(conf, "enable.idempotence", "true", "bus setting", err) &&
           conf_put(conf, "acks", "all", "bus setting", err) &&
           conf_put(conf, "partitioner", "murmur2_random", "bus setting", err);
}

int32_t ww_bus_config_partition_of(const void *key, size_t key_len,
                                   int32_t partitions) {
    if (!key || partitions <= 0) return -1;
    /* rkt and opaques are unused for a keyed record */
    return rd_kafka_msg_partitioner_murmur2_random(NULL, key, key_len,
                                                   partitions, NULL, NULL);
}

rd_kafka_conf_t *ww_bus_config_producer_conf(const ww_bus_config_t *cfg,
                                             ww_err_t *err) {
    rd_kafka_conf_t *conf = conf_base(cfg, err);
    if (!conf) return NULL;
    if (!put_producer(conf, err)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf_finish(cfg, conf, err);
}

rd_kafka_conf_t *ww_bus_config_transactional_conf(const ww_bus_config_t *cfg,
                                                  const char *txn_name,
                                                  ww_err_t *err) {
    char txid[512];
    if (ww_bus_config_transactional_id(cfg, txn_name, txid, sizeof txid, err))
        return NULL;
    rd_kafka_conf_t *conf = conf_base(cfg, err);
    if (!conf) return NULL;
    int txn_ms = cfg->transaction_timeout_ms;
    /* A record still retrying when the transaction times out would make the
     * commit fail anyway; giving up on it a little earlier leaves time to
     * abort cleanly. */
    int msg_ms = txn_ms - (txn_ms / 10 > 1000 ? txn_ms / 10 : 1000);
    if (!put_producer(conf, err) ||
        !conf_put(conf, "transactional.id", txid, "bus setting", err) ||
        !conf_put_int(conf, "transaction.timeout.ms", txn_ms, err) ||
        !conf_put_int(conf, "message.timeout.ms", msg_ms, err)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf_finish(cfg, conf, err);
}

rd_kafka_conf_t *ww_bus_config_group_conf(const ww_bus_config_t *cfg,
                                          const char *group,
                                          const char *instance_suffix,
                                          ww_err_t *err) {
    char gid[512], member[512];
    if (ww_bus_config_group_id(cfg, group, gid, sizeof gid, err)) return NULL;
    rd_kafka_conf_t *conf = conf_base(cfg, err);
    if (!conf) return NULL;
    int session = cfg->session_timeout_ms;
    int heartbeat = session / 3 > 100 ? session / 3 : 100;
    bool ok =
        conf_put(conf, "group.id", gid, "bus setting", err) &&
        conf_put(conf, "partition.assignment.strategy",
                 cfg->assignor == WW_BUS_ASSIGNOR_ROUNDROBIN ? "roundrobin"
                                                             : "range",
                 "bus setting", err) &&
        conf_put_int(conf, "session.timeout.ms", session, err) &&
        conf_put_int(conf, "heartbeat.interval.ms", heartbeat, err) &&
        conf_put(conf, "auto.offset.reset", "earliest", "bus setting", err) &&
        conf_put(conf, "enable.auto.commit", "false", "bus setting", err) &&
        conf_put(conf, "enable.auto.offset.store", "false", "bus setting",
                 err) &&
        conf_put(conf, "isolation.level", "read_committed", "bus setting",
                 err) &&
        /* librdkafka 2.0.2 stops fetching once queued.min.messages records
         * wait locally and resumes only on a later wakeup, so a consumer
         * faster than that starved (measured: 260k msg/s with the default
         * 100000, 750k+ with 1000000). Memory stays bounded by
         * queued.max.messages.kbytes (64 MiB by default). */
        conf_put(conf, "queued.min.messages", "1000000", "bus setting", err) &&
        put_observed(conf, err);
    if (ok && cfg->instance_id) {
        int n = snprintf(member, sizeof member, "%s%s%s", cfg->instance_id,
                         instance_suffix && *instance_suffix ? "-" : "",
                         instance_suffix ? instance_suffix : "");
        if (n < 0 || (size_t)n >= sizeof member) {
            ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                       "group.instance.id longer than %zu bytes",
                       sizeof member - 1);
            ok = false;
        } else {
            ok = conf_put(conf, "group.instance.id", member, "bus setting",
                          err);
        }
    }
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf_finish(cfg, conf, err);
}

rd_kafka_conf_t *ww_bus_config_reader_conf(const ww_bus_config_t *cfg,
                                           ww_err_t *err) {
    /* librdkafka's consumer calls (assign, consumer_poll) need a group.id
     * even without membership; this one never joins nor commits. */
    char gid[512];
    if (ww_bus_config_group_id(cfg, "ww.reader", gid, sizeof gid, err))
        return NULL;
    rd_kafka_conf_t *conf = conf_base(cfg, err);
    if (!conf) return NULL;
    /* A start offset that retention has deleted means "from the log
     * start", for every reader (replay and tail alike). */
    if (!conf_put(conf, "group.id", gid, "bus setting", err) ||
        !conf_put(conf, "enable.auto.commit", "false", "bus setting", err) ||
        !conf_put(conf, "enable.auto.offset.store", "false", "bus setting",
                  err) ||
        !conf_put(conf, "enable.partition.eof", "true", "bus setting", err) ||
        !conf_put(conf, "auto.offset.reset", "earliest", "bus setting", err) ||
        !conf_put(conf, "isolation.level", "read_committed", "bus setting",
                  err) ||
        !put_observed(conf, err)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf_finish(cfg, conf, err);
}

rd_kafka_t *ww_bus_config_client_new(rd_kafka_type_t type,
                                     rd_kafka_conf_t *conf, const char *what,
                                     ww_err_t *err) {
    char msg[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, msg, sizeof msg);
    if (rk) return rk;
    /* rd_kafka_new takes the conf over only when it succeeds. */
    rd_kafka_conf_destroy(conf);
    ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s: %s", what, msg);
    return NULL;
}
