/*
 * ww_bus_processor.h - exactly-once consume-transform-produce.
 *
 * A processor is one member of a consumer group on one input topic plus one
 * transactional producer. It reads records (isolation.level=read_committed),
 * hands each to the handler, which may produce output and DLQ records through
 * the processor, and commits the outputs together with the consumer offsets
 * in one Kafka transaction per batch (up to `max_records` records or
 * `max_wait_ms` after the first record of the batch).
 *
 * Errors are handled as librdkafka documents for transactions:
 *   - retriable: the same call is retried (with a short backoff);
 *   - txn_requires_abort: the transaction is aborted, on_abort tells the
 *     owner to drop what the aborted transaction decided, every partition the
 *     transaction read is sought back to the position it started from (the
 *     last committed one) and processing goes on from there;
 *   - producer fenced (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH) or failed
 *     fatally otherwise: either a newer instance took the transactional.id,
 *     or the broker was away for longer than transaction.timeout.ms (the
 *     coordinator aborts the transaction and bumps the epoch; librdkafka
 *     2.0.2 may also fail the abort after timed-out messages with a fatal
 *     INVALID_TXN_STATE). The open transaction is forgotten as after an
 *     abort (on_abort, rewind); the processor then watches its consumer for
 *     one session timeout: a newer member with the same group.instance.id
 *     fences it there (fatal, below). Without one, a new producer takes
 *     over (init_transactions aborts what was left open) and processing
 *     goes on.
 *   - consumer fenced (FENCED_INSTANCE_ID) shortly after coordinator
 *     trouble (a lost assignment, transactional retries or aborts):
 *     librdkafka timed the session out itself and rejoined under a new
 *     member id, so its old id is refused. The owner hears the revoke, and
 *     a new consumer joins under the same instance id.
 *   - each recovery logs WARN `event=refenced` and counts in
 *     stats.refenced; more than 3 within 10 minutes means two live
 *     instances share the id, and run() returns FAILED_PRECONDITION
 *     ("fenced repeatedly").
 *   - fatal (a newer member with the same group.instance.id while the
 *     coordinator is healthy, a fresh producer refused at once, a fatal
 *     consumer error): ww_bus_processor_run() returns FAILED_PRECONDITION
 *     ("fenced") or INTERNAL with the broker's message; nothing is committed
 *     any more, the owner must stop using the state it built.
 *
 * Settings come from the bus configuration (ww_bus_config.h): the group
 * consumer conf (group id <prefix><group>, group.instance.id = the instance
 * id for static membership, so a restart within the session timeout gets
 * its partitions back without a rebalance; range or roundrobin assignor;
 * session timeout; earliest; no auto commit; read_committed) and the
 * transactional conf (transactional.id <prefix><group>.<instance id>, so a
 * restarted instance fences its predecessor and aborts its open
 * transaction; transaction timeout). An instance id is therefore required.
 * Records are consumed one at a time (rd_kafka_consumer_poll), never with
 * the batch API, whose 2.0.2 implementation can skip offsets.
 *
 * Threads: ww_bus_processor_run() runs the loop in the calling thread and
 * every callback (handle, on_assign, on_revoke, on_abort, on_commit) is
 * called from that thread, one at a time. ww_bus_processor_stop() and
 * ww_bus_processor_stats() may be called from any thread.
 */
#ifndef WW_BUS_PROCESSOR_H
#define WW_BUS_PROCESSOR_H

#include "ww_bus_config.h"
#include "ww_err.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ww_bus_processor ww_bus_processor_t;

/* Handles one input record (borrowed: valid during the call only). Output
 * goes through ww_bus_processor_produce()/_dlq() during the call.
 * WW_OK: the record is done; its offset is committed with the batch.
 * An error with err->retriable set: the transaction is aborted and rewound,
 * and the record is handled again after a backoff (a handler that can never
 * succeed must send the record to the DLQ instead).
 * An error without retriable: the transaction is aborted and
 * ww_bus_processor_run() returns that error. */
typedef ww_code_t (*ww_bus_processor_handle_fn)(void *opaque,
                                                ww_bus_processor_t *p,
                                                const rd_kafka_message_t *rec,
                                                ww_err_t *err);

/* Partitions were assigned (on_assign) or are being revoked (on_revoke:
 * the open transaction, if any, was aborted before). `parts` is borrowed.
 * An error from on_assign stops the processor with that error. Both run in
 * the consumer's rebalance callback: keep them short.
 *
 * on_assign, without `owner_assigns`: the assignment already took effect
 * (from the committed offsets) and no record of those partitions reached
 * the handler yet. With `owner_assigns`: nothing is consumed yet; the owner
 * prepares (typically: ww_bus_processor_committed, then rebuild its state
 * for the partitions) and calls ww_bus_processor_assign with the offsets to
 * start from, from a later callback (on_idle). */
typedef ww_code_t (*ww_bus_processor_parts_fn)(
    void *opaque, ww_bus_processor_t *p,
    const rd_kafka_topic_partition_list_t *parts, ww_err_t *err);

/* The transaction in progress was aborted (on_abort: forget everything the
 * handler decided since the last commit) or committed (on_commit: what it
 * decided is now durable). */
typedef void (*ww_bus_processor_txn_fn)(void *opaque, ww_bus_processor_t *p);

/* Called from the loop whenever a poll returned no record, at least every
 * 100 ms (every 10 ms while an owner-chosen assignment is pending), outside
 * any transaction's record handling: where an owner makes progress on work
 * that must not run in the rebalance callback. An error stops the
 * processor with that error. */
typedef ww_code_t (*ww_bus_processor_idle_fn)(void *opaque,
                                              ww_bus_processor_t *p,
                                              ww_err_t *err);

typedef struct ww_bus_processor_config {
    const char
        *input_topic;  /* required, full name (ww_bus_config_topic_name) */
    const char *group; /* required, unprefixed group name */
    /* Topics the handler produces to (NULL-terminated, may be NULL). Their
     * metadata is fetched before the first record: otherwise librdkafka
     * asks for a new topic only on its next periodic scan, which adds up
     * to a second to the first transaction after every (re)start. */
    const char *const *output_topics;
    int max_records; /* per transaction; 0: 100 */
    int max_wait_ms; /* batch window after its first record; 0: 50 */
    ww_bus_processor_handle_fn handle; /* required */
    ww_bus_processor_parts_fn on_assign;
    ww_bus_processor_parts_fn on_revoke;
    ww_bus_processor_txn_fn on_abort;
    ww_bus_processor_txn_fn on_commit;
    ww_bus_processor_idle_fn on_idle;
    /* The owner chooses when and where assigned partitions start (see
     * on_assign and ww_bus_processor_assign). */
    bool owner_assigns;
    void *opaque; /* passed to every callback */
} ww_bus_processor_config_t;

typedef struct ww_bus_processor_stats {
    uint64_t records;    /* records handled in committed transactions */
    uint64_t produced;   /* records produced in committed transactions */
    uint64_t commits;    /* transactions committed */
    uint64_t aborts;     /* transactions aborted (then rewound) */
    uint64_t rebalances; /* assign + revoke events */
    uint64_t refenced;   /* producers replaced after a fencing */
    /* of the aborts: batches with a record reported delivered without an
     * offset (ww_bus_err_from_delivery), redone rather than committed */
    uint64_t unconfirmed;
} ww_bus_processor_stats_t;

/* Creates the consumer and the transactional producer from `bus` and `cfg`
 * (both borrowed for the call; strings are copied). Nothing is contacted
 * yet. Errors: INVALID_ARGUMENT (missing topic/group/handler, bad setting),
 * FAILED_PRECONDITION (no instance id: set WW_INSTANCE_ID), INTERNAL
 * (librdkafka refused the configuration). */
ww_code_t ww_bus_processor_new(const ww_bus_config_t *bus,
                               const ww_bus_processor_config_t *cfg,
                               ww_bus_processor_t **out, ww_err_t *err);

/* Initialises transactions (fencing any older producer with the same
 * transactional.id and aborting its open transaction), joins the group and
 * processes until ww_bus_processor_stop() or a fatal error. A stop lets the
 * current batch commit first. Returns WW_OK after a stop, else the error
 * that ended it (see the top of this file); a stop while the broker keeps
 * failing the commit returns UNAVAILABLE (that batch was not committed and
 * is redone by the next owner). Call at most once. */
ww_code_t ww_bus_processor_run(ww_bus_processor_t *p, ww_err_t *err);

/* Asks run() to finish (thread-safe, async-signal-unsafe, idempotent). */
void ww_bus_processor_stop(ww_bus_processor_t *p);

/* Produces one output record in the transaction in progress. Only from
 * inside the handler. key/value are copied; `headers` (may be NULL) is taken
 * over in every case. partition: RD_KAFKA_PARTITION_UA for the partitioner
 * (murmur2_random, as every producer of the project and Java's).
 * Errors: FAILED_PRECONDITION (called outside the handler); UNAVAILABLE,
 * retriable, when librdkafka refused the record (e.g. the transaction is in
 * an abortable state): the handler returns it, the batch aborts and is
 * handled again (also when the producer was fenced or failed fatally:
 * run() then decides whether a new producer may go on). */
ww_code_t ww_bus_processor_produce(ww_bus_processor_t *p, const char *topic,
                                   int32_t partition, const void *key,
                                   size_t key_len, const void *value,
                                   size_t value_len,
                                   rd_kafka_headers_t *headers, ww_err_t *err);

/* Sends the input record `rec` (borrowed) to "<its topic>.dlq" inside the
 * transaction in progress, so the dead letter and the move past the record
 * commit together (and vanish together on abort). Only from inside the
 * handler, which then returns WW_OK for the record. The DLQ record keeps
 * key, value and headers and adds the same headers as the subscriber's DLQ
 * (ww_bus_dlq.h): ww_dlq_reason (`reason`), ww_dlq_attempts
 * (`attempts`), ww_dlq_topic, ww_dlq_partition, ww_dlq_offset,
 * ww_dlq_group, ww_dlq_time. Errors as ww_bus_processor_produce(). */
ww_code_t ww_bus_processor_dlq(ww_bus_processor_t *p,
                               const rd_kafka_message_t *rec,
                               const char *reason, int attempts, ww_err_t *err);

/* Owner-chosen assignment (config.owner_assigns), only from the processor's
 * thread (its callbacks): starts consuming exactly `parts` (borrowed), each
 * from its offset (RD_KAFKA_OFFSET_INVALID: the committed one). The list
 * must be the one on_assign announced, or a subset of it; a later
 * rebalance replaces it as usual. Errors: FAILED_PRECONDITION (nothing is
 * pending, or it was revoked meanwhile), INTERNAL (librdkafka refused). */
ww_code_t ww_bus_processor_assign(ww_bus_processor_t *p,
                                  const rd_kafka_topic_partition_list_t *parts,
                                  ww_err_t *err);

/* True while an assignment announced by on_assign waits for the owner. */
bool ww_bus_processor_assign_pending(const ww_bus_processor_t *p);

/* The group's committed offsets of `parts` (offsets filled in; INVALID
 * when none), stable: a partition with a transactional offset commit still
 * pending is asked again until that transaction ended, so every record
 * whose consumption was committed is accounted for (KIP-447; librdkafka
 * asks with require_stable under read_committed). From the processor's
 * thread. Errors: DEADLINE_EXCEEDED (not stable within timeout_ms;
 * retriable), UNAVAILABLE (retriable), INTERNAL. */
ww_code_t ww_bus_processor_committed(ww_bus_processor_t *p,
                                     rd_kafka_topic_partition_list_t *parts,
                                     int timeout_ms, ww_err_t *err);

/* The transactional id in use (owned by the processor). */
const char *ww_bus_processor_transactional_id(const ww_bus_processor_t *p);

/* A consistent snapshot of the counters (any thread). */
ww_bus_processor_stats_t ww_bus_processor_stats(ww_bus_processor_t *p);

/* Closes the consumer (leaving the group is up to static membership: the
 * partitions move on after the session timeout) and frees everything. Only
 * after run() returned or was never called. Closing revokes the partitions,
 * so on_revoke is called once more, from the calling thread: keep `opaque`
 * alive until this returns. NULL is a no-op. */
void ww_bus_processor_destroy(ww_bus_processor_t *p);

#endif
