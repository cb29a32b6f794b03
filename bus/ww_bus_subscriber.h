/*
 * ww_bus_subscriber.h - at-least-once consumption of events in a consumer
 * group.
 *
 * Each record is decoded (ww_bus_envelope) and given to the handler, which
 * answers:
 *   ACK     done: the record's offset may be committed;
 *   RETRY   try again: the same record comes back after a backoff
 *           (initial, doubling, capped); after max_attempts it goes to the
 *           DLQ;
 *   REJECT  never processable: the record goes to the DLQ at once.
 * A record that does not decode (missing or bad headers, unknown ce_type,
 * payload that does not parse) goes to the DLQ without reaching the
 * handler.
 *
 * The DLQ of topic T is the topic "T.dlq" (create it with the admin module);
 * a DLQ record keeps the original key, value and headers and adds
 *   ww_dlq_reason     why (the decode error or the handler's reason)
 *   ww_dlq_attempts   how many times the handler saw it (0: never)
 *   ww_dlq_topic, ww_dlq_partition, ww_dlq_offset   where it came from
 *   ww_dlq_group      the consumer group
 *   ww_dlq_time       when (RFC 3339)
 * A copy that would not fit is written truncated, and says so (ww_bus_dlq.h).
 * The offset moves past a record only once the broker acknowledged its DLQ
 * copy; while the DLQ cannot be written for a transient reason (broker
 * away, timeouts) the subscriber keeps trying and the partition waits, so
 * nothing is lost. A permanent refusal (unknown DLQ topic, authorization,
 * a truncated copy refused too) is logged as an error and counted
 * (dlq_skipped), and the partition moves on: a poison record never wedges
 * the consumer.
 *
 * Guarantees: an offset is committed only after its record was acked or
 * dead-lettered (offsets are stored then, committed every commit_interval_ms,
 * on partition revocation and on close); records of a partition reach the
 * handler in log order, one at a time. A record not acked when the
 * subscriber closes or loses its partition is delivered again (to this
 * group's next owner of the partition): handlers must be idempotent.
 *
 * Retries hold the whole subscriber (it consumes no other record meanwhile):
 * keep max_attempts x backoff_max_ms well below librdkafka's
 * max.poll.interval.ms (300 s), else the group takes the partitions away and
 * the record is redelivered to their next owner.
 *
 * Threads: ww_bus_subscriber_start runs the subscriber on its own thread;
 * the handler is called on that thread only, never concurrently with
 * itself. close may be called from any thread, more than once, also
 * concurrently; it must not be called from the handler.
 */
#ifndef WW_BUS_SUBSCRIBER_H
#define WW_BUS_SUBSCRIBER_H

#include <stddef.h>
#include <stdint.h>

#include "ww_bus_config.h"
#include "ww_bus_envelope.h"
#include "ww_bus_registry.h"
#include "ww_err.h"

typedef struct ww_bus_subscriber ww_bus_subscriber_t;

typedef enum ww_bus_verdict {
    WW_BUS_ACK = 0,
    WW_BUS_RETRY,
    WW_BUS_REJECT,
} ww_bus_verdict_t;

/* One delivery, valid only during the handler call. */
typedef struct ww_bus_record {
    const ww_bus_event_t *event; /* decoded attributes and payload */
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key; /* NULL when the record has none */
    size_t key_len;
    int attempt; /* 1 on the first delivery to this subscriber */
} ww_bus_record_t;

/* Handles one record. For RETRY and REJECT, fill `reason` (ww_err_set) so
 * the DLQ record explains itself; it starts cleared. */
typedef ww_bus_verdict_t (*ww_bus_handler_fn)(void *opaque,
                                              const ww_bus_record_t *rec,
                                              ww_err_t *reason);

typedef struct ww_bus_subscriber_opts {
    const char *group;            /* required; WW_TOPIC_PREFIX is applied */
    const char *const *topics;    /* required; full names, as given */
    size_t n_topics;
    const ww_bus_registry_t *registry; /* required; borrowed, must outlive
                                          the subscriber */
    ww_bus_handler_fn handler;    /* required */
    void *opaque;                 /* passed to handler */
    /* Appended to the group.instance.id when an instance id is configured
     * (several members of one group in one process). May be NULL. */
    const char *instance_suffix;
    int max_attempts;       /* handler calls before the DLQ; 0: 5 */
    int backoff_initial_ms; /* 0: 100 */
    int backoff_max_ms;     /* 0: 5000 */
    int commit_interval_ms; /* 0: 500 */
} ww_bus_subscriber_opts_t;

/* Creates the group consumer (ww_bus_config_group_conf; cfg only read
 * during the call) and subscribes; records flow once started. NULL with
 * err set on a bad option or a refused conf. Caller owns the result. */
ww_bus_subscriber_t *ww_bus_subscriber_new(const ww_bus_config_t *cfg,
                                           const ww_bus_subscriber_opts_t *opts,
                                           ww_err_t *err);

/* Starts the consuming thread. INVALID_ARGUMENT if already started or
 * closed. */
ww_code_t ww_bus_subscriber_start(ww_bus_subscriber_t *sub, ww_err_t *err);

/* Stops consuming: the record in the handler (if any) finishes, a record
 * waiting for a retry is left uncommitted, stored offsets are committed,
 * the group is left. Idempotent; concurrent calls all return after the
 * close is complete, with the same result. If the consumer had failed
 * fatally (e.g. a newer member took over its group.instance.id), its
 * thread stopped then and close returns FAILED_PRECONDITION naming the
 * cause. */
ww_code_t ww_bus_subscriber_close(ww_bus_subscriber_t *sub, ww_err_t *err);

/* Closes if needed and frees. NULL is ignored. */
void ww_bus_subscriber_destroy(ww_bus_subscriber_t *sub);

/* Counters since creation (for tests and metrics); any thread. */
typedef struct ww_bus_subscriber_stats {
    int64_t acked;
    int64_t retried;      /* RETRY answers */
    int64_t dead_lettered;
    int64_t dlq_skipped;  /* poison records skipped without a dead letter
                             (permanent DLQ error, logged) */
    int64_t commits;      /* successful offset commits */
    int assigned;         /* partitions currently assigned to it */
    bool failed;          /* the consumer failed fatally (see close); a
                             service reports itself unhealthy */
} ww_bus_subscriber_stats_t;
void ww_bus_subscriber_stats(const ww_bus_subscriber_t *sub,
                             ww_bus_subscriber_stats_t *out);

#endif
