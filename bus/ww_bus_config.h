/*
 * ww_bus_config.h - Kafka client settings for every bus module, built from
 * the environment plus explicit overrides (librdkafka's errors as
 * ww_code_t: ww_bus_err.h).
 *
 * Environment (read once, by ww_bus_config_new):
 *   KAFKA_BROKERS                    bootstrap servers ("host:port,...")
 *   WW_KAFKA_CONFIG                  path of a librdkafka properties file
 *                                    (key=value lines, '#' comments), passed
 *                                    through: SASL/TLS settings live there
 *   WW_TOPIC_PREFIX                  prefix of topics, group ids and
 *                                    transactional ids
 *   WW_INSTANCE_ID                   stable name of this instance: the
 *                                    group.instance.id (static membership)
 *                                    and the suffix of transactional ids
 *   WW_KAFKA_SESSION_TIMEOUT_MS      consumer group session timeout
 *   WW_KAFKA_TRANSACTION_TIMEOUT_MS  producer transaction timeout
 *   WW_KAFKA_ASSIGNOR                "range" or "roundrobin"
 *
 * Precedence when a conf is built (later wins): the properties file, then
 * the settings this module derives (bootstrap, group, timeouts, idempotence,
 * commit mode), then the caller's ww_bus_config_set() entries. Settings the
 * bus's guarantees rest on (enable.auto.commit=false, idempotence, ...) are
 * therefore never taken from the file. A bootstrap.servers in the file is
 * used when KAFKA_BROKERS is unset and none was set explicitly.
 *
 * Thread safety: a ww_bus_config_t is not synchronised; configure it on one
 * thread, after that concurrent const use (building confs, names) is safe.
 */
#ifndef WW_BUS_CONFIG_H
#define WW_BUS_CONFIG_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#include "ww_err.h"

typedef struct ww_bus_config ww_bus_config_t;

/* Partition assignment strategy of consumer groups. The cooperative-sticky
 * assignor is deliberately absent: it loops and hangs close in librdkafka
 * 2.0.2. */
typedef enum ww_bus_assignor {
    WW_BUS_ASSIGNOR_RANGE = 0,
    WW_BUS_ASSIGNOR_ROUNDROBIN,
} ww_bus_assignor_t;

/* Defaults when neither the environment nor a setter says otherwise. */
#define WW_BUS_DEFAULT_SESSION_TIMEOUT_MS 45000
#define WW_BUS_DEFAULT_TRANSACTION_TIMEOUT_MS 60000

/* Reads the environment (see above) into a new config. Fails with
 * INVALID_ARGUMENT when a variable is malformed (a timeout that is not a
 * positive number, an unknown assignor) or the properties file cannot be
 * read or has a line without '='. Returns NULL on failure (err set); the
 * caller owns the result and frees it with ww_bus_config_destroy. */
ww_bus_config_t *ww_bus_config_new(ww_err_t *err);

/* An independent copy (for per-consumer tweaks such as another instance id).
 * NULL only on allocation failure. Caller owns the copy. */
ww_bus_config_t *ww_bus_config_dup(const ww_bus_config_t *cfg);

void ww_bus_config_destroy(ww_bus_config_t *cfg);

/* Explicit overrides of the environment. Strings are copied. NULL clears
 * brokers / instance id. Return INVALID_ARGUMENT for out-of-range values. */
ww_code_t ww_bus_config_set_brokers(ww_bus_config_t *cfg, const char *brokers,
                                    ww_err_t *err);
ww_code_t ww_bus_config_set_topic_prefix(ww_bus_config_t *cfg,
                                         const char *prefix, ww_err_t *err);
ww_code_t ww_bus_config_set_instance_id(ww_bus_config_t *cfg,
                                        const char *instance_id,
                                        ww_err_t *err);
ww_code_t ww_bus_config_set_session_timeout_ms(ww_bus_config_t *cfg, int ms,
                                               ww_err_t *err);
ww_code_t ww_bus_config_set_transaction_timeout_ms(ww_bus_config_t *cfg,
                                                   int ms, ww_err_t *err);
ww_code_t ww_bus_config_set_assignor(ww_bus_config_t *cfg,
                                     ww_bus_assignor_t assignor,
                                     ww_err_t *err);
/* Any librdkafka property, applied last (wins over everything). Checked
 * when a conf is built, where an unknown key or bad value fails. */
ww_code_t ww_bus_config_set(ww_bus_config_t *cfg, const char *key,
                            const char *value, ww_err_t *err);

/* Getters; strings are owned by cfg (valid until the next setter or
 * destroy). brokers/instance id return NULL when unset. */
const char *ww_bus_config_brokers(const ww_bus_config_t *cfg);
const char *ww_bus_config_topic_prefix(const ww_bus_config_t *cfg);
const char *ww_bus_config_instance_id(const ww_bus_config_t *cfg);
int ww_bus_config_session_timeout_ms(const ww_bus_config_t *cfg);
int ww_bus_config_transaction_timeout_ms(const ww_bus_config_t *cfg);
ww_bus_assignor_t ww_bus_config_assignor(const ww_bus_config_t *cfg);

/* Names with the topic prefix applied, written into buf (size bytes).
 * RESOURCE_EXHAUSTED when buf is too small, INVALID_ARGUMENT for an empty
 * name.
 *   topic:            <prefix><name>
 *   group id:         <prefix><name>
 *   transactional id: <prefix><name>.<instance id>; FAILED_PRECONDITION
 *                     without an instance id, because fencing a crashed
 *                     predecessor needs an id that survives restarts. */
ww_code_t ww_bus_config_topic_name(const ww_bus_config_t *cfg,
                                   const char *name, char *buf, size_t size,
                                   ww_err_t *err);
ww_code_t ww_bus_config_group_id(const ww_bus_config_t *cfg, const char *name,
                                 char *buf, size_t size, ww_err_t *err);
ww_code_t ww_bus_config_transactional_id(const ww_bus_config_t *cfg,
                                         const char *name, char *buf,
                                         size_t size, ww_err_t *err);

/* librdkafka confs. Each returns a new rd_kafka_conf_t the caller owns
 * (rd_kafka_new takes it over on success; otherwise rd_kafka_conf_destroy),
 * or NULL with err set: INVALID_ARGUMENT when no bootstrap servers are
 * known or librdkafka rejects a property (the message names the property
 * and where it came from).
 *
 * Every conf: bootstrap.servers, the file's properties, client.id.
 *
 * producer:      enable.idempotence=true, acks=all,
 *                partitioner=murmur2_random (the Java client's).
 * transactional: producer settings plus transactional.id (see
 *                ww_bus_config_transactional_id for `txn_name`),
 *                transaction.timeout.ms, and message.timeout.ms strictly
 *                below it (librdkafka requires <=; below leaves the
 *                transaction time to abort cleanly).
 * group consumer: group.id = prefixed `group`, group.instance.id = the
 *                instance id when set (static membership: a restart within
 *                the session timeout keeps its partitions), the assignor,
 *                session.timeout.ms (heartbeat a third of it),
 *                auto.offset.reset=earliest, enable.auto.commit=false,
 *                enable.auto.offset.store=false, read_committed.
 *                `instance_suffix` (may be NULL) is appended to the
 *                group.instance.id so several members of one group in one
 *                process stay distinct.
 * reader:        no membership (assign only), read_committed,
 *                enable.auto.commit=false, enable.partition.eof=true,
 *                auto.offset.reset=earliest (a start offset deleted by
 *                retention means the log start); its
 *                group.id "<prefix>ww.reader" only satisfies librdkafka
 *                (rd_kafka_assign / consumer_poll refuse to work without
 *                one): a reader never subscribes, so it never joins or
 *                commits. */
rd_kafka_conf_t *ww_bus_config_producer_conf(const ww_bus_config_t *cfg,
                                             ww_err_t *err);
rd_kafka_conf_t *ww_bus_config_transactional_conf(const ww_bus_config_t *cfg,
                                                  const char *txn_name,
                                                  ww_err_t *err);
rd_kafka_conf_t *ww_bus_config_group_conf(const ww_bus_config_t *cfg,
                                          const char *group,
                                          const char *instance_suffix,
                                          ww_err_t *err);
rd_kafka_conf_t *ww_bus_config_reader_conf(const ww_bus_config_t *cfg,
                                           ww_err_t *err);

/* The partition a keyed record goes to among `partitions`, as every
 * producer of the project (and the Java client) picks it: murmur2 of the
 * key. -1 for a NULL key or no partitions. Pure. */
int32_t ww_bus_config_partition_of(const void *key, size_t key_len,
                                   int32_t partitions);

/* rd_kafka_new(type, conf), for these confs or any other. `conf` is always
 * taken: by the new handle on success, destroyed on failure (rd_kafka_new
 * leaves it to the caller then). NULL on failure with INVALID_ARGUMENT
 * "<what>: <librdkafka's reason>". */
rd_kafka_t *ww_bus_config_client_new(rd_kafka_type_t type,
                                     rd_kafka_conf_t *conf, const char *what,
                                     ww_err_t *err);

#endif
