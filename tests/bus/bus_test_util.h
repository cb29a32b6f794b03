/*
 * bus_test_util.h - shared pieces of the bus tests: a config for the test
 * broker, topic creation, numbered test events, and a thread-safe tally of
 * what a handler received, compared by event id with what was sent.
 */
#ifndef BUS_TEST_UTIL_H
#define BUS_TEST_UTIL_H

#include <pthread.h>
#include <stdatomic.h>

#include "ww_bus_admin.h"
#include "ww_bus_config.h"
#include "ww_bus_publisher.h"
#include "ww_bus_registry.h"
#include "ww_bus_subscriber.h"
#include "ww_schemas.h"
#include "ww_test.h"

#include "ww_bus_embedded.h"

/* When set (mock runs), topics are created on this embedded cluster. */
extern ww_bus_embedded_t *bt_embedded;

/* Config for `brokers` with test timeouts (6 s sessions); caller destroys. */
ww_bus_config_t *bt_config(const char *brokers);

/* Creates topic (and topic.dlq) with `partitions` partitions on the test
 * broker (or bt_embedded), failing the case on error. */
void bt_create_topic(ww_bus_config_t *cfg, const char *topic, int partitions);

/* The trainer events registry (shared, never freed). */
const ww_bus_registry_t *bt_registry(void);

/* Event ids are "<run>-<n>"; the key is "key-<n % keys>" (or none when keys
 * is 0); the payload is a TrainingScheduled whose notes carry n. */
void bt_event_id(char *buf, size_t size, const char *run, int n);
void bt_publish_range(ww_bus_publisher_t *pub, const char *topic,
                      const char *run, int from, int to, int keys);
/* Number carried by a received event (its notes), -1 if none. */
int bt_event_number(const ww_bus_event_t *ev);

/* What handlers saw: per number (0..cap-1) a count, plus the order per key. */
typedef struct bt_tally {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int cap;
    int *count;     /* deliveries per number */
    int distinct;   /* numbers seen at least once */
    int total;      /* deliveries */
    int keys;
    int *last_per_key; /* last number seen per key, for order checks */
    int order_violations;
    char run[64];
    int foreign; /* events of another run or without a number */
} bt_tally_t;

void bt_tally_init(bt_tally_t *t, const char *run, int cap, int keys);
void bt_tally_free(bt_tally_t *t);
/* Records one delivery; returns the number. */
int bt_tally_add(bt_tally_t *t, const ww_bus_record_t *rec);
/* Waits until `distinct` numbers were seen or timeout_ms passed. */
bool bt_tally_wait(bt_tally_t *t, int distinct, int timeout_ms);
/* Waits until every number in from..to-1 was seen or timeout_ms passed. */
bool bt_tally_wait_range(bt_tally_t *t, int from, int to, int timeout_ms);
/* Fails the case unless numbers from..to-1 were each seen at least once
 * (and at most once when exactly_once). */
void bt_tally_expect(bt_tally_t *t, int from, int to, bool exactly_once);

/* A handler that acks and tallies (opaque = bt_tally_t *). */
ww_bus_verdict_t bt_ack_handler(void *opaque, const ww_bus_record_t *rec,
                                ww_err_t *reason);

/* Starts a subscriber, failing the case on error. */
ww_bus_subscriber_t *bt_subscribe(ww_bus_config_t *cfg, const char *group,
                                  const char *topic, ww_bus_handler_fn fn,
                                  void *opaque);
/* Same with every option given. */
ww_bus_subscriber_t *bt_subscribe_opts(ww_bus_config_t *cfg,
                                       const ww_bus_subscriber_opts_t *o);

/* Closes and destroys, failing the case if close fails. */
void bt_close_sub(ww_bus_subscriber_t *sub);
ww_bus_publisher_t *bt_publisher(ww_bus_config_t *cfg);
void bt_close_pub(ww_bus_publisher_t *pub);

/* The group's committed offset of topic/partition (-1001 when none). */
int64_t bt_committed(ww_bus_config_t *cfg, const char *group,
                     const char *topic, int partition);

/* Records read from one partition; messages keep references into the
 * reading client, so both go away together in bt_records_free. */
typedef struct bt_records {
    rd_kafka_t *rk;
    rd_kafka_message_t **msgs;
    int n;
} bt_records_t;

/* Reads records of topic/partition from the start until `want` arrived or
 * timeout_ms passed. */
bt_records_t bt_read_all(ww_bus_config_t *cfg, const char *topic,
                         int partition, int want, int timeout_ms);
void bt_records_free(bt_records_t *r);

/* Value of header `name` of m as a string in a static buffer, or NULL. */
const char *bt_header(const rd_kafka_message_t *m, const char *name);

#endif
