/*
 * ww_host_decider.h - the owner of a service's command partitions: decides
 * the commands of partition p in log order, exactly once, with the facts,
 * the CommandResult and its input offsets in one Kafka transaction.
 *
 * Decision state: per owned partition, the committed facts plus the facts
 * of the open transaction (a ww_shard_t in a transaction: an undo log, never
 * a copy per transaction). On commit the facts stay; on abort the shard is
 * rolled back and the processor rewinds to the last committed position.
 *
 * Handover, when partitions are assigned (outside the rebalance callback,
 * step by step from the processor's idle hook, so heartbeats and other
 * rebalances go on):
 *   1. the group's committed offsets of the partitions, *stable*: a
 *      transactional offset commit still pending (a stalled old owner, a
 *      zombie, whose transaction may still commit) is waited for;
 *   2. the ends of the events partitions, captured after that;
 *   3. this instance's read model reaches those ends, and each partition's
 *      shard is copied from it (the model already folds every fact);
 *   4. the start: the committed position, checked against the last command
 *      position the facts record (never at or past it). If the facts
 *      record a later command (offsets lost or reset), deciding resumes
 *      after it instead and says so: nothing is ever decided twice.
 * Only then are the partitions consumed. A zombie whose transaction commits
 * during the handover is therefore either waited for in step 1 (its offsets
 * were pending) or fenced (its late offset commit is refused by the group,
 * so it aborts): no fact is lost or duplicated.
 *
 * Trace context: each command is decided in a span of its own trace (its
 * ce_traceparent continued, or a new trace), so its facts, its result and
 * the log lines of deciding it carry that trace (ww_trace.h).
 *
 * Output partitions: the facts and the result of a command of commands
 * partition p go to partition p of the events and replies topics (same
 * count and partitioner: the same keys).
 *
 * Threads: the processor's thread calls everything here (handle and hooks);
 * ww_host_decider_produce only from inside ops.decide.
 */
#ifndef WW_HOST_DECIDER_H
#define WW_HOST_DECIDER_H

#include <protobuf-c/protobuf-c.h>

#include "ww_bus_config.h"
#include "ww_bus_envelope.h"
#include "ww_bus_processor.h"
#include "ww_err.h"
#include "ww_host_model.h"
#include "ww_shard.h"

typedef struct ww_host_decider ww_host_decider_t;

typedef struct ww_host_decider_ops {
    /* Decides the command record `rec` over `shard` (the decision state of
     * rec's partition, in the open transaction): folds its facts into the
     * shard and produces them and one CommandResult through
     * ww_host_decider_produce. A record that cannot be decoded goes to the
     * DLQ (ww_bus_processor_dlq). Errors as a processor handler's. */
    ww_code_t (*decide)(void *ctx, ww_host_decider_t *d, ww_shard_t *shard,
                        const rd_kafka_message_t *rec, ww_err_t *err);
} ww_host_decider_ops_t;

typedef struct ww_host_decider_config {
    const char *service;        /* "trainer": prefix of derived event ids */
    const char *source;         /* ce_source, "/wildworkouts/trainer" */
    const char *commands_topic; /* full names */
    const char *events_topic;
    const char *replies_topic;
    const char *group;        /* unprefixed, e.g. "trainer.decider" */
    int max_records;          /* per transaction; 0: 500 */
    int max_wait_ms;          /* batch window; 0: 2 ms */
    ww_host_model_t *model;   /* borrowed: this instance's read model */
    const ww_host_decider_ops_t *ops; /* borrowed */
    void *ctx;
} ww_host_decider_config_t;

ww_code_t ww_host_decider_new(const ww_bus_config_t *bus,
                              const ww_host_decider_config_t *cfg,
                              ww_host_decider_t **out, ww_err_t *err);

/* The processor to run (ww_host_worker_start). */
ww_bus_processor_t *ww_host_decider_processor(ww_host_decider_t *d);

/* Produces `msg` in the open transaction to `topic` partition `partition`
 * (RD_KAFKA_PARTITION_UA: by key), keyed by `key`, enveloped with `meta`
 * (id_out, if not NULL, receives ce_id). Only from inside ops.decide (or a
 * translator's handler). */
ww_code_t ww_host_decider_produce(ww_bus_processor_t *p, const char *topic,
                                  int32_t partition, const char *key,
                                  const ProtobufCMessage *msg,
                                  const ww_bus_envelope_meta_t *meta,
                                  char *id_out, ww_err_t *err);

/* What a decision answers, as CommandResult carries it. */
typedef struct ww_host_outcome {
    ww_code_t code;
    const char *message;       /* "" for OK */
    bool duplicate;            /* a repeated idempotency key */
    const char *training_uuid; /* may be NULL */
    int64_t balance_refund;
    int64_t balance;
    /* The command whose facts carry this result (this one, or the original
     * of a duplicate) and how many facts it produced; 0 facts: the caller
     * completes at once. */
    int64_t facts_of;
    int n_facts;
} ww_host_outcome_t;

/* Produces the CommandResult of the command record `rec` (to partition
 * rec->partition of the replies topic, keyed by `key`), with its
 * correlation id, the command's type and position, and the derived ids of
 * the facts o->facts_of decided. Only from inside ops.decide. */
ww_code_t ww_host_decider_reply(ww_host_decider_t *d,
                                const rd_kafka_message_t *rec,
                                const char *key, const char *correlation_id,
                                const char *causation_id,
                                const char *command_type,
                                const ww_host_outcome_t *o, ww_err_t *err);

/* The ce_id of fact `i` of the command at `offset` of commands partition
 * `p`: derived, "<service>-<p>-<offset>-<i>", so a redone transaction
 * writes the same ids and a duplicate's reply names the original facts. */
void ww_host_decider_fact_id(const ww_host_decider_t *d, int32_t p,
                             int64_t offset, int i,
                             char buf[WW_BUS_ID_MAX + 1]);

/* The envelope meta of fact `i` of the command record `rec`: source,
 * derived id (written into id_buf), correlation and causation ids. */
ww_bus_envelope_meta_t ww_host_decider_fact_meta(
    const ww_host_decider_t *d, const rd_kafka_message_t *rec, int i,
    const char *correlation_id, const char *causation_id,
    char id_buf[WW_BUS_ID_MAX + 1]);

/* The steps every decide shares, for a command record `rec` decoded into
 * `ev` (ww_bus_envelope_decode_message):
 *
 * ww_host_decider_poison: the record did not decode (`why`): it goes to
 * "<commands>.dlq" in the transaction, and when its ce_correlationid
 * header can be read, the waiting caller is answered INVALID_ARGUMENT.
 *
 * ww_host_decider_dedup: idempotency. Without a key in the command's meta
 * nothing happens (*answered false, origin->key NULL). With one: a repeat
 * of the request it stands for is answered with the original result
 * (duplicate, its facts named for read-your-writes), another request under
 * it is refused INVALID_ARGUMENT; both set *answered. Otherwise *origin is
 * filled (caller, key, digest) for the facts of the new decision.
 *
 * ww_host_decider_refuse: answers the command with `why` (no facts). */
ww_code_t ww_host_decider_poison(ww_host_decider_t *d,
                                 const rd_kafka_message_t *rec,
                                 const ww_err_t *why, ww_err_t *err);
ww_code_t ww_host_decider_dedup(ww_host_decider_t *d, const ww_shard_t *shard,
                                const rd_kafka_message_t *rec,
                                const ww_bus_event_t *ev, bool *answered,
                                ww_shard_origin_t *origin, ww_err_t *err);
ww_code_t ww_host_decider_refuse(ww_host_decider_t *d,
                                 const rd_kafka_message_t *rec,
                                 const ww_bus_event_t *ev, const ww_err_t *why,
                                 ww_err_t *err);

/* The events and replies topics (owned). */
const char *ww_host_decider_events_topic(const ww_host_decider_t *d);
const char *ww_host_decider_replies_topic(const ww_host_decider_t *d);

typedef struct ww_host_decider_stats {
    int owned;            /* partitions decided by this instance now */
    uint64_t handovers;   /* partitions taken over */
    uint64_t resumed_past_committed; /* start moved after the facts */
} ww_host_decider_stats_t;

/* Whether this owner decides commands partition p now (it completed the
 * handover and was not revoked since). Any thread. */
bool ww_host_decider_owns(ww_host_decider_t *d, int32_t p);

ww_host_decider_stats_t ww_host_decider_stats(ww_host_decider_t *d);

/* After the processor's run returned. */
void ww_host_decider_destroy(ww_host_decider_t *d);

#endif
