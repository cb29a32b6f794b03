/* ww_bus_processor.c - transactional consume-transform-produce loop.
 *
 * Longer than most files here on purpose: the batch, abort/rewind and
 * fencing-recovery paths are one state machine over one private struct,
 * and splitting them would mean publishing that struct. */
#include "ww_bus_processor.h"

#include "ww_bus_dlq.h"
#include "ww_bus_envelope.h"
#include "ww_bus_err.h"
#include "ww_bus_observer.h"
#include "ww_clock.h"
#include "ww_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where one input partition stands in the transaction in progress. */
typedef struct part_pos {
    bool touched;  /* the transaction read from this partition */
    int64_t first; /* offset of its first record = last committed position */
    int64_t next;  /* offset after its last handled record */
} part_pos_t;

struct ww_bus_processor {
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_topic_t *input;    /* consumer-side handle, for rd_kafka_seek */
    rd_kafka_topic_t **outputs; /* producer-side handles kept known */
    int noutputs;
    char **output_names;            /* to remake the handles with a producer */
    rd_kafka_conf_t *producer_conf; /* a copy, to start a new producer */
    rd_kafka_conf_t *consumer_conf; /* a copy, to start a new consumer */
    char *topic, *group, *txn_id;
    int max_records, max_wait_ms, call_timeout_ms;
    ww_bus_processor_config_t cb; /* callbacks and opaque only */

    part_pos_t *pos;
    int npos;
    bool txn_open;
    int txn_records;
    uint64_t txn_produced;
    bool in_handler;
    bool produce_failed; /* a produce call failed: the batch must abort */
    /* A record of the open transaction was reported delivered without an
     * offset (ww_bus_err_from_delivery): it may be missing, so the batch
     * aborts rather than commit. Set by the delivery reports, which run on
     * this thread (rd_kafka_poll, rd_kafka_flush). */
    bool unconfirmed;
    int64_t txn_start_ns; /* for the bus observer (ww_bus_observer.h) */
    int txn_dlq;          /* dead letters in the open transaction */
    char dlq_topic[512];

    /* Owner-chosen assignment: announced by on_assign, not consumed until
     * ww_bus_processor_assign. */
    rd_kafka_topic_partition_list_t *pending;
    /* rd_kafka_consumer_close is running (on this thread): an assignment
     * it delivers is answered with an unassign, never taken (below). */
    bool closing;

    /* The producer's epoch is spent (fenced). Either a newer instance took
     * this transactional id, or the coordinator aborted a transaction that
     * outlived transaction.timeout.ms (a broker restart does that). run()
     * tells them apart before it starts a new producer. */
    bool fenced; /* (or failed fatally otherwise: a new producer is the cure) */
    rd_kafka_resp_err_t fenced_code;
    char fenced_msg[256];
    int fence_grace_ms; /* how long a newer member needs to show itself */
    /* The consumer was fenced (FENCED_INSTANCE_ID) right after librdkafka
     * lost the assignment to a session timeout of its own: it rejoined
     * under a new member id and its old id's requests are refused. That is
     * not a newer instance, and a new consumer takes over. */
    bool consumer_fenced;
    int64_t trouble_at_ms; /* last lost assignment, retry or abort; 0 = never */
    int64_t recovery_window_start;
    int recoveries;

    bool failed; /* a fatal error ended (or will end) run() */
    ww_err_t failure;
    int stopping; /* atomic */

    pthread_mutex_t stats_lock;
    ww_bus_processor_stats_t stats;
};

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool stop_requested(ww_bus_processor_t *p) {
    return __atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE) != 0;
}

static void fail(ww_bus_processor_t *p, ww_code_t code, const char *what,
                 const char *detail) {
    if (p->failed) return; /* the first cause is the one worth reporting */
    p->failed = true;
    ww_err_set(&p->failure, code, "processor %s: %s: %s", p->txn_id, what,
               detail);
    ww_log_error("bus", "processor txn_id=%s group=%s fatal=\"%s: %s\"",
                 p->txn_id, p->group, what, detail);
}

static bool is_fencing(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR__FENCED ||
           e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
           e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
}

/* The producer's epoch is spent; the consumer's membership is another
 * matter (FENCED_INSTANCE_ID), and that one is final. */
static bool is_producer_fencing(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR__FENCED ||
           e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

static void mark_fenced(ww_bus_processor_t *p, rd_kafka_resp_err_t code,
                        const char *what, const char *detail) {
    if (p->fenced) return;
    p->fenced = true;
    p->fenced_code = code;
    snprintf(p->fenced_msg, sizeof p->fenced_msg, "%.60s: %.190s", what,
             detail);
    ww_log_warn("bus", "processor txn_id=%s op=%s fenced=\"%s\"", p->txn_id,
                what, detail);
}

typedef enum { TXN_OK, TXN_RETRY, TXN_ABORT, TXN_FATAL } txn_outcome_t;

/* Classifies the result of a transactional call the way librdkafka's
 * documentation prescribes and destroys the error. */
/* librdkafka rejoins under a new member id after it timed the session out
 * itself (the coordinator unreachable for that long), and the coordinator
 * then fences the old id: a fencing with coordinator trouble shortly
 * before is presumed to be that. The rebalance that reports the lost
 * assignment is not served while a transactional call blocks, so the
 * retries and aborts of those calls count as trouble too. */
static bool trouble_recently(const ww_bus_processor_t *p) {
    int window = 3 * p->fence_grace_ms > 30000 ? 3 * p->fence_grace_ms : 30000;
    if (p->consumer && rd_kafka_assignment_lost(p->consumer)) return true;
    return p->trouble_at_ms && ww_clock_mono_ms() - p->trouble_at_ms < window;
}

static txn_outcome_t classify(ww_bus_processor_t *p, rd_kafka_error_t *e,
                              const char *what) {
    if (!e) return TXN_OK;
    txn_outcome_t out;
    char fbuf[256];
    rd_kafka_resp_err_t code = rd_kafka_error_code(e);
    if (code == RD_KAFKA_RESP_ERR__FATAL)
        code = rd_kafka_fatal_error(p->producer, fbuf, sizeof fbuf);
    if (is_producer_fencing(code) || rd_kafka_error_is_fatal(e)) {
        /* Ends the batch; run() decides whether a new producer may go on.
         * Other fatal producer errors are cured the same way: librdkafka
         * 2.0.2 fails an abort after an epoch bump with a fatal
         * INVALID_TXN_STATE when the broker was away (message timeouts). */
        mark_fenced(p, code, what, rd_kafka_error_string(e));
        out = TXN_FATAL;
    } else if (code == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID &&
               !rd_kafka_error_is_fatal(e) &&
               rd_kafka_error_txn_requires_abort(e)) {
        /* The offsets' group generation is gone (a rejoin after a session
         * timeout does that); whether the member is, the consumer tells. */
        ww_log_warn("bus", "processor txn_id=%s op=%s abort=\"%s\"", p->txn_id,
                    what, rd_kafka_error_string(e));
        out = TXN_ABORT;
        p->trouble_at_ms = ww_clock_mono_ms();
    } else if (rd_kafka_error_is_fatal(e) || is_fencing(code)) {
        if (is_fencing(code))
            fail(p, WW_ERR_FAILED_PRECONDITION, "fenced by a newer instance",
                 rd_kafka_error_string(e));
        else
            fail(p, WW_ERR_INTERNAL, what, rd_kafka_error_string(e));
        out = TXN_FATAL;
    } else if (rd_kafka_error_txn_requires_abort(e)) {
        ww_log_warn("bus", "processor txn_id=%s op=%s abort=\"%s\"", p->txn_id,
                    what, rd_kafka_error_string(e));
        out = TXN_ABORT;
        p->trouble_at_ms = ww_clock_mono_ms();
    } else if (rd_kafka_error_is_retriable(e)) {
        ww_log_warn("bus", "processor txn_id=%s op=%s retry=\"%s\"", p->txn_id,
                    what, rd_kafka_error_string(e));
        out = TXN_RETRY;
        p->trouble_at_ms = ww_clock_mono_ms();
    } else {
        /* Neither abortable nor retriable: librdkafka gives no way on. */
        fail(p, WW_ERR_INTERNAL, what, rd_kafka_error_string(e));
        out = TXN_FATAL;
    }
    rd_kafka_error_destroy(e);
    return out;
}

static void reset_txn(ww_bus_processor_t *p) {
    for (int i = 0; i < p->npos; i++)
        p->pos[i].touched = false;
    p->txn_open = false;
    p->txn_records = 0;
    p->txn_produced = 0;
    p->produce_failed = false;
    p->unconfirmed = false;
    p->txn_dlq = 0;
}

/* Delivery reports of the producer, on the processor's thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque) {
    (void)rk;
    ww_bus_processor_t *p = opaque;
    ww_err_t err;
    if (!m->err &&
        ww_bus_err_from_delivery(m->err, m->offset, "produce", &err) != WW_OK)
        p->unconfirmed = true;
}

static int64_t txn_age_us(const ww_bus_processor_t *p) {
    return (ww_clock_mono_ns() - p->txn_start_ns) / 1000;
}

/* Aborts the open transaction, tells the owner, and (when `rewind`) seeks
 * every partition the transaction read back to where it started, so the
 * same records come again. Without rewind (the partitions are being
 * revoked) the next owner starts from the committed offsets anyway. */
static void forget_txn(ww_bus_processor_t *p, bool rewind);

static void abort_txn(ww_bus_processor_t *p, bool rewind) {
    /* librdkafka counts a partition as part of the transaction once its
     * AddPartitionsToTxn is sent, not answered, so an abort right after the
     * first produce can reach the coordinator before it and fail with a
     * fatal INVALID_TXN_STATE (librdkafka issue 4849, open upstream). A
     * delivered record proves its partition was registered: deliver them
     * all (into the transaction being aborted) before ending it. */
    if (p->txn_produced > 0 || p->produce_failed)
        rd_kafka_flush(p->producer, p->call_timeout_ms);
    for (;;) {
        txn_outcome_t o = classify(
            p, rd_kafka_abort_transaction(p->producer, p->call_timeout_ms),
            "abort_transaction");
        if (o == TXN_OK) break;
        if (o == TXN_FATAL) {
            if (p->fenced) forget_txn(p, rewind);
            return;
        }
        if (stop_requested(p) && o == TXN_RETRY) {
            /* Leave it: the broker aborts it after transaction.timeout.ms,
             * and init_transactions of the next run aborts it at once. */
            fail(p, WW_ERR_UNAVAILABLE, "abort_transaction",
                 "stopped while the abort kept failing");
            return;
        }
        sleep_ms(100);
    }
    forget_txn(p, rewind);
}

/* What follows an abort, also when the broker did the aborting (a fenced
 * producer's open transaction is aborted by the coordinator, or by the
 * next producer's init_transactions): the owner drops its overlay and the
 * records come again. */
static void forget_txn(ww_bus_processor_t *p, bool rewind) {
    pthread_mutex_lock(&p->stats_lock);
    p->stats.aborts++;
    pthread_mutex_unlock(&p->stats_lock);
    ww_bus_observer_txn(p->group, false, (uint64_t)p->txn_records,
                        txn_age_us(p));
    if (p->cb.on_abort) p->cb.on_abort(p->cb.opaque, p);
    if (rewind) {
        for (int i = 0; i < p->npos; i++) {
            if (!p->pos[i].touched) continue;
            /* rd_kafka_seek (not rd_kafka_seek_partitions, whose timeout
             * is misread in 2.0.2); it also drops prefetched records. */
            rd_kafka_resp_err_t e =
                rd_kafka_seek(p->input, i, p->pos[i].first, 10000);
            if (e == RD_KAFKA_RESP_ERR__STATE ||
                e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
                /* No longer ours: its next owner starts from the committed
                 * offset, which is where this would have gone. */
                ww_log_info("bus",
                            "processor txn_id=%s partition=%d not rewound: %s",
                            p->txn_id, i, rd_kafka_err2str(e));
                continue;
            }
            if (e) {
                fail(p, WW_ERR_INTERNAL, "seek back after abort",
                     rd_kafka_err2str(e));
                break;
            }
        }
    }
    reset_txn(p);
}

static void commit_txn(ww_bus_processor_t *p) {
    if (p->produce_failed) {
        abort_txn(p, true);
        return;
    }
    rd_kafka_topic_partition_list_t *offsets =
        rd_kafka_topic_partition_list_new(p->npos > 0 ? p->npos : 1);
    for (int i = 0; i < p->npos; i++)
        if (p->pos[i].touched)
            rd_kafka_topic_partition_list_add(offsets, p->topic, i)->offset =
                p->pos[i].next;
    txn_outcome_t o;
    for (;;) {
        rd_kafka_consumer_group_metadata_t *md =
            rd_kafka_consumer_group_metadata(p->consumer);
        o = classify(p,
                     rd_kafka_send_offsets_to_transaction(
                         p->producer, offsets, md, p->call_timeout_ms),
                     "send_offsets_to_transaction");
        rd_kafka_consumer_group_metadata_destroy(md);
        if (o != TXN_RETRY) break;
        if (stop_requested(p)) {
            /* Nothing committed: the next owner redoes the batch. */
            fail(p, WW_ERR_UNAVAILABLE, "send_offsets_to_transaction",
                 "stopped while the broker kept failing");
            o = TXN_FATAL;
            break;
        }
        sleep_ms(100);
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    if (o == TXN_OK && p->txn_produced > 0) {
        /* Every delivery report before the commit: commit_transaction
         * would flush too, but then it is too late to refuse one. */
        rd_kafka_flush(p->producer, p->call_timeout_ms);
        if (p->unconfirmed) {
            pthread_mutex_lock(&p->stats_lock);
            p->stats.unconfirmed++;
            pthread_mutex_unlock(&p->stats_lock);
            ww_log_warn("bus",
                        "processor txn_id=%s: a record was reported delivered "
                        "without an offset; aborting the batch to redo it",
                        p->txn_id);
            o = TXN_ABORT;
        }
    }
    while (o == TXN_OK) {
        o = classify(
            p, rd_kafka_commit_transaction(p->producer, p->call_timeout_ms),
            "commit_transaction");
        if (o == TXN_OK) break;
        if (o == TXN_RETRY) {
            if (stop_requested(p)) {
                fail(p, WW_ERR_UNAVAILABLE, "commit_transaction",
                     "stopped while the outcome was unknown");
                o = TXN_FATAL;
                break;
            }
            sleep_ms(100);
            o = TXN_OK; /* commit_transaction may be called again */
            continue;
        }
    }
    if (o == TXN_ABORT) {
        abort_txn(p, true);
        return;
    }
    if (o == TXN_FATAL) {
        if (p->fenced) forget_txn(p, true);
        return;
    }
    pthread_mutex_lock(&p->stats_lock);
    p->stats.commits++;
    p->stats.records += (uint64_t)p->txn_records;
    p->stats.produced += p->txn_produced;
    pthread_mutex_unlock(&p->stats_lock);
    ww_bus_observer_txn(p->group, true, (uint64_t)p->txn_records,
                        txn_age_us(p));
    for (int i = 0; i < p->txn_dlq; i++)
        ww_bus_observer_dlq(p->dlq_topic);
    ww_log_debug(
        "bus", "processor txn_id=%s committed records=%d produced=%llu",
        p->txn_id, p->txn_records, (unsigned long long)p->txn_produced);
    if (p->cb.on_commit) p->cb.on_commit(p->cb.opaque, p);
    reset_txn(p);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    ww_bus_processor_t *p = opaque;
    pthread_mutex_lock(&p->stats_lock);
    p->stats.rebalances++;
    pthread_mutex_unlock(&p->stats_lock);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && p->closing) {
        /* A join that finishes while the consumer closes: librdkafka
         * can wait forever on an assign called now (the close then never
         * returns); an unassign is the answer the close expects. */
        ww_log_info("bus",
                    "processor txn_id=%s assigned=%d while closing: "
                    "unassigned",
                    p->txn_id, parts->cnt);
        rd_kafka_assign(rk, NULL);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        ww_log_info("bus", "processor txn_id=%s assigned=%d%s", p->txn_id,
                    parts->cnt, p->cb.owner_assigns ? " (owner starts)" : "");
        if (p->cb.owner_assigns) {
            /* Heartbeats go on while librdkafka waits for the assign call,
             * so the owner may take its time outside this callback. */
            if (p->pending) rd_kafka_topic_partition_list_destroy(p->pending);
            p->pending = rd_kafka_topic_partition_list_copy(parts);
        } else {
            rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
            if (e) {
                fail(p, WW_ERR_INTERNAL, "assign", rd_kafka_err2str(e));
                return;
            }
        }
        if (p->cb.on_assign && !p->failed) {
            ww_err_t herr = {0};
            ww_code_t rc = p->cb.on_assign(p->cb.opaque, p, parts, &herr);
            if (rc != WW_OK) fail(p, rc, "on_assign", herr.msg);
        }
        return;
    }
    /* Revoked (or the assignment was lost): what the open transaction read
     * may go to another member, so it must not commit. */
    bool lost = rd_kafka_assignment_lost(rk);
    if (lost) p->trouble_at_ms = ww_clock_mono_ms();
    ww_log_info("bus", "processor txn_id=%s revoked=%d%s", p->txn_id,
                parts ? parts->cnt : 0, lost ? " (lost)" : "");
    if (p->txn_open && !p->failed) abort_txn(p, false);
    if (p->pending) {
        rd_kafka_topic_partition_list_destroy(p->pending);
        p->pending = NULL;
    }
    if (p->cb.on_revoke) {
        ww_err_t herr = {0};
        p->cb.on_revoke(p->cb.opaque, p, parts, &herr);
    }
    rd_kafka_assign(rk, NULL);
}

ww_code_t ww_bus_processor_assign(ww_bus_processor_t *p,
                                  const rd_kafka_topic_partition_list_t *parts,
                                  ww_err_t *err) {
    if (!p || !parts || !p->pending)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "processor: no assignment is waiting for its start");
    rd_kafka_resp_err_t e = rd_kafka_assign(p->consumer, parts);
    if (e)
        return ww_err_set(err, WW_ERR_INTERNAL, "processor %s: assign: %s",
                          p->txn_id, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(p->pending);
    p->pending = NULL;
    for (int i = 0; i < parts->cnt; i++)
        ww_log_info("bus", "processor txn_id=%s start partition=%d offset=%lld",
                    p->txn_id, (int)parts->elems[i].partition,
                    (long long)parts->elems[i].offset);
    return WW_OK;
}

bool ww_bus_processor_assign_pending(const ww_bus_processor_t *p) {
    return p && p->pending;
}

ww_code_t ww_bus_processor_committed(ww_bus_processor_t *p,
                                     rd_kafka_topic_partition_list_t *parts,
                                     int timeout_ms, ww_err_t *err) {
    int64_t deadline = ww_clock_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - ww_clock_mono_ms();
        rd_kafka_resp_err_t e =
            rd_kafka_committed(p->consumer, parts, left > 0 ? (int)left : 1);
        if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
            return ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                        "committed offsets of %s: not stable "
                                        "within %d ms",
                                        p->topic, timeout_ms);
        if (e) return ww_bus_err_from_resp(e, "committed offsets", err);
        bool unstable = false;
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_resp_err_t pe = parts->elems[i].err;
            if (pe == RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT)
                unstable = true;
            else if (pe)
                return ww_bus_err_from_resp(pe, "committed offset", err);
        }
        if (!unstable) return WW_OK;
        if (ww_clock_mono_ms() + 50 >= deadline)
            return ww_err_set_retriable(err, WW_ERR_DEADLINE_EXCEEDED,
                                        "committed offsets of %s: a "
                                        "transaction's offset commit is still "
                                        "pending",
                                        p->topic);
        sleep_ms(50);
    }
}

static ww_code_t start_consumer(ww_bus_processor_t *p, ww_err_t *err) {
    char buf[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_dup(p->consumer_conf);
    p->consumer =
        cc ? rd_kafka_new(RD_KAFKA_CONSUMER, cc, buf, sizeof buf) : NULL;
    if (!p->consumer) {
        if (cc) rd_kafka_conf_destroy(cc);
        return ww_err_set(err, WW_ERR_INTERNAL, "processor consumer: %s",
                          cc ? buf : "out of memory");
    }
    rd_kafka_poll_set_consumer(p->consumer);
    p->input = rd_kafka_topic_new(p->consumer, p->topic, NULL);
    return WW_OK;
}

static void stop_consumer(ww_bus_processor_t *p) {
    if (!p->consumer) return;
    /* The revoke during close must not try to commit or abort: there is
     * no transaction open by now. */
    p->closing = true;
    rd_kafka_consumer_close(p->consumer);
    p->closing = false;
    if (p->input) rd_kafka_topic_destroy(p->input);
    p->input = NULL;
    rd_kafka_destroy(p->consumer);
    p->consumer = NULL;
}

/* A producer from the kept configuration, with handles for the outputs
 * (only a warm-up: a missing one costs the first produce a lookup). */
static ww_code_t start_producer(ww_bus_processor_t *p, ww_err_t *err) {
    char buf[512];
    rd_kafka_conf_t *pc = rd_kafka_conf_dup(p->producer_conf);
    p->producer =
        pc ? rd_kafka_new(RD_KAFKA_PRODUCER, pc, buf, sizeof buf) : NULL;
    if (!p->producer) {
        if (pc) rd_kafka_conf_destroy(pc);
        return ww_err_set(err, WW_ERR_INTERNAL, "processor producer: %s",
                          pc ? buf : "out of memory");
    }
    for (int n = 0; p->output_names && p->output_names[n]; n++) {
        rd_kafka_topic_t **o = realloc(p->outputs, (size_t)(n + 1) * sizeof *o);
        if (!o) break;
        p->outputs = o;
        p->outputs[n] =
            rd_kafka_topic_new(p->producer, p->output_names[n], NULL);
        if (!p->outputs[n]) break;
        p->noutputs = n + 1;
    }
    return WW_OK;
}

static void stop_producer(ww_bus_processor_t *p) {
    for (int i = 0; i < p->noutputs; i++)
        rd_kafka_topic_destroy(p->outputs[i]);
    p->noutputs = 0;
    if (p->producer) {
        /* A fenced producer can deliver nothing more: drop what waits. */
        rd_kafka_purge(p->producer,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(p->producer);
        p->producer = NULL;
    }
}

ww_code_t ww_bus_processor_new(const ww_bus_config_t *bus,
                               const ww_bus_processor_config_t *cfg,
                               ww_bus_processor_t **out, ww_err_t *err) {
    if (!bus || !cfg || !out || !cfg->input_topic || !*cfg->input_topic ||
        !cfg->group || !*cfg->group || !cfg->handle)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "processor: bus config, input_topic, group and "
                          "handle are required");
    if (cfg->max_records < 0 || cfg->max_wait_ms < 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "processor: max_records and max_wait_ms must not "
                          "be negative");
    char txn_id[512], group[512];
    ww_code_t rc = ww_bus_config_transactional_id(bus, cfg->group, txn_id,
                                                  sizeof txn_id, err);
    if (!rc)
        rc = ww_bus_config_group_id(bus, cfg->group, group, sizeof group, err);
    if (rc) return rc;

    ww_bus_processor_t *p = calloc(1, sizeof *p);
    if (!p)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "processor: out of memory");
    pthread_mutex_init(&p->stats_lock, NULL);
    p->cb = *cfg;
    p->topic = strdup(cfg->input_topic);
    p->group = strdup(group);
    p->txn_id = strdup(txn_id);
    p->max_records = cfg->max_records ? cfg->max_records : 100;
    p->max_wait_ms = cfg->max_wait_ms ? cfg->max_wait_ms : 50;
    /* A blocking transactional call never needs longer than the transaction
     * may live; past it the broker aborts anyway. */
    p->call_timeout_ms = ww_bus_config_transaction_timeout_ms(bus);
    if (!p->topic || !p->group || !p->txn_id) {
        ww_bus_processor_destroy(p);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                          "processor: out of memory");
    }

    char buf[512];
    rd_kafka_conf_t *cc = ww_bus_config_group_conf(bus, cfg->group, NULL, err);
    if (!cc) {
        ww_bus_processor_destroy(p);
        return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    }
    rd_kafka_conf_set_opaque(cc, p);
    rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
    p->consumer_conf = cc;
    rc = start_consumer(p, err);
    if (rc) {
        ww_bus_processor_destroy(p);
        return rc;
    }

    rd_kafka_conf_t *pc =
        ww_bus_config_transactional_conf(bus, cfg->group, err);
    if (!pc) {
        ww_bus_processor_destroy(p);
        return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    }
    /* Right after a commit the coordinator is still writing the markers,
     * and the next transaction's AddPartitionsToTxn gets
     * CONCURRENT_TRANSACTIONS; librdkafka retries it after
     * retry.backoff.ms, whose default (100 ms) would then dominate every
     * small transaction. The Java client retries this case after 20 ms. */
    if (rd_kafka_conf_set(pc, "retry.backoff.ms", "10", buf, sizeof buf) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(pc);
        ww_bus_processor_destroy(p);
        return ww_err_set(err, WW_ERR_INTERNAL, "processor producer: %s", buf);
    }
    rd_kafka_conf_set_opaque(pc, p);
    rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
    p->producer_conf = pc;
    p->fence_grace_ms = ww_bus_config_session_timeout_ms(bus);
    int n = 0;
    while (cfg->output_topics && cfg->output_topics[n])
        n++;
    p->output_names = calloc((size_t)n + 1, sizeof *p->output_names);
    for (int i = 0; p->output_names && i < n; i++)
        if (!(p->output_names[i] = strdup(cfg->output_topics[i]))) break;
    rc = start_producer(p, err);
    if (rc) {
        ww_bus_processor_destroy(p);
        return rc;
    }
    *out = p;
    return WW_OK;
}

/* Best effort: a topic that does not exist yet fails here and again, with
 * a clear error, when the handler produces to it. */
static void warm_up_outputs(ww_bus_processor_t *p) {
    for (int i = 0; i < p->noutputs; i++) {
        const struct rd_kafka_metadata *md = NULL;
        if (rd_kafka_metadata(p->producer, 0, p->outputs[i], &md, 5000) == 0)
            rd_kafka_metadata_destroy(md);
    }
}

/* The partition's slot, growing the table; NULL when out of memory. */
static part_pos_t *pos_of(ww_bus_processor_t *p, int32_t partition) {
    if (partition < 0) return NULL;
    if (partition >= p->npos) {
        int n = partition + 1 > p->npos * 2 ? partition + 1 : p->npos * 2;
        part_pos_t *np = realloc(p->pos, (size_t)n * sizeof *np);
        if (!np) return NULL;
        memset(np + p->npos, 0, (size_t)(n - p->npos) * sizeof *np);
        p->pos = np;
        p->npos = n;
    }
    return &p->pos[partition];
}

/* Retries init_transactions while it is retriable (coordinator loading, a
 * previous transaction of this id still being aborted). */
static bool init_transactions(ww_bus_processor_t *p) {
    for (;;) {
        txn_outcome_t o = classify(
            p, rd_kafka_init_transactions(p->producer, p->call_timeout_ms),
            "init_transactions");
        if (o == TXN_OK) return true;
        if (o != TXN_RETRY) {
            /* A fresh epoch fenced at once: another instance is using it. */
            if (p->fenced && is_producer_fencing(p->fenced_code))
                fail(p, WW_ERR_FAILED_PRECONDITION,
                     "fenced by a newer instance", p->fenced_msg);
            else if (p->fenced)
                fail(p, WW_ERR_INTERNAL, "init_transactions", p->fenced_msg);
            else if (!p->failed)
                fail(p, WW_ERR_INTERNAL, "init_transactions",
                     "cannot initialise transactions");
            return false;
        }
        if (stop_requested(p)) return false;
        sleep_ms(200);
    }
}

static void consumer_error(ww_bus_processor_t *p, const rd_kafka_message_t *m) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t e =
            rd_kafka_fatal_error(p->consumer, buf, sizeof buf);
        if (e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID && trouble_recently(p)) {
            ww_log_warn("bus",
                        "processor txn_id=%s consumer fenced after it lost "
                        "its assignment: \"%s\"",
                        p->txn_id, buf);
            p->consumer_fenced = true;
        } else if (is_fencing(e))
            fail(p, WW_ERR_FAILED_PRECONDITION,
                 "fenced: a newer member uses group.instance.id", buf);
        else
            fail(p, WW_ERR_INTERNAL, "consumer", buf);
        return;
    }
    /* Everything else (broker down, topic not there yet) is retried by
     * librdkafka itself; say so and carry on. */
    p->trouble_at_ms = ww_clock_mono_ms();
    ww_log_warn("bus", "processor txn_id=%s consumer_error=\"%s\"", p->txn_id,
                rd_kafka_message_errstr(m));
}

/* Handles one record inside the transaction; false when the batch ended
 * (aborted or failed). */
static bool handle_record(ww_bus_processor_t *p, rd_kafka_message_t *m) {
    part_pos_t *pp = pos_of(p, m->partition);
    if (!pp) {
        fail(p, WW_ERR_RESOURCE_EXHAUSTED, "handle", "out of memory");
        return false;
    }
    if (!p->txn_open) {
        txn_outcome_t o = classify(p, rd_kafka_begin_transaction(p->producer),
                                   "begin_transaction");
        if (o != TXN_OK) {
            if (o != TXN_FATAL)
                fail(p, WW_ERR_INTERNAL, "begin_transaction",
                     "unexpected state");
            return false;
        }
        p->txn_open = true;
        p->txn_start_ns = ww_clock_mono_ns();
        ww_log_debug("bus",
                     "processor txn_id=%s begin partition=%d offset=%lld",
                     p->txn_id, (int)m->partition, (long long)m->offset);
    }
    if (!pp->touched) {
        pp->touched = true;
        pp->first = m->offset;
    }
    ww_err_t herr = {0};
    p->in_handler = true;
    ww_code_t rc = p->cb.handle(p->cb.opaque, p, m, &herr);
    p->in_handler = false;
    if (rc == WW_OK) {
        pp->next = m->offset + 1;
        p->txn_records++;
        return true;
    }
    ww_log_warn("bus",
                "processor txn_id=%s partition=%d offset=%lld handler=%s "
                "retriable=%d msg=\"%s\"",
                p->txn_id, (int)m->partition, (long long)m->offset,
                ww_code_name(rc), herr.retriable, herr.msg);
    abort_txn(p, true);
    if (!herr.retriable && !p->fenced) {
        fail(p, rc, "handler", herr.msg);
    } else {
        sleep_ms(100); /* don't spin on a dependency that is down */
    }
    return false;
}

static bool subscribe(ww_bus_processor_t *p) {
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, p->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(p->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) fail(p, WW_ERR_INTERNAL, "subscribe", rd_kafka_err2str(e));
    return !e;
}

/* A new consumer in place of one fenced after it lost its assignment: the
 * owner hears the revoke it may have missed, the new member joins under
 * the same instance id and starts from the committed offsets. */
static bool replace_consumer(ww_bus_processor_t *p) {
    rd_kafka_topic_partition_list_t *held = NULL;
    if (rd_kafka_assignment(p->consumer, &held) == 0 && held && held->cnt > 0)
        rebalance_cb(p->consumer, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, held,
                     p); /* the revoke librdkafka will not deliver now */
    if (held) rd_kafka_topic_partition_list_destroy(held);
    if (p->pending) {
        rd_kafka_topic_partition_list_destroy(p->pending);
        p->pending = NULL;
    }
    stop_consumer(p);
    ww_err_t err = {0};
    if (start_consumer(p, &err)) {
        fail(p, err.code, "new consumer after fencing", err.msg);
        return false;
    }
    p->consumer_fenced = false;
    p->trouble_at_ms = 0;
    return subscribe(p);
}

static bool replace_producer(ww_bus_processor_t *p) {
    stop_producer(p);
    ww_err_t err = {0};
    if (start_producer(p, &err)) {
        fail(p, err.code, "new producer after fencing", err.msg);
        return false;
    }
    p->fenced = false;
    if (!init_transactions(p)) return false;
    warm_up_outputs(p);
    return true;
}

/* After a fencing that need not be final. A fenced producer: waits one
 * session timeout for proof that a newer member holds this instance id
 * (static membership fences a zombie's consumer at its next heartbeat,
 * and that is final). Without such proof the coordinator aborted a
 * transaction that outlived its timeout, and a new producer takes over
 * (its init_transactions aborts whatever was left open). A consumer
 * fenced right after losing its assignment is replaced. Fenced again and
 * again means two live instances share the id: that ends the run. */
static bool recover_from_fencing(ww_bus_processor_t *p) {
    enum { MAX_RECOVERIES = 3, RECOVERY_WINDOW_MS = 10 * 60 * 1000 };
    int64_t now = ww_clock_mono_ms();
    if (p->recoveries == 0 ||
        now - p->recovery_window_start > RECOVERY_WINDOW_MS) {
        p->recovery_window_start = now;
        p->recoveries = 0;
    }
    if (++p->recoveries > MAX_RECOVERIES) {
        fail(p, WW_ERR_FAILED_PRECONDITION,
             "fenced repeatedly: another live instance uses this "
             "transactional id",
             p->fenced ? p->fenced_msg : "consumer fenced");
        return false;
    }
    if (p->txn_open) {
        /* Offsets of a lost generation cannot commit; records of a
         * replaced consumer come again from the committed offsets. */
        if (p->fenced)
            forget_txn(p, !p->consumer_fenced);
        else
            abort_txn(p, !p->consumer_fenced);
        if (p->failed) return false;
    }
    if (p->fenced && !p->consumer_fenced) {
        ww_log_warn("bus",
                    "processor txn_id=%s fenced; checks for %d ms that no "
                    "newer member took this instance id",
                    p->txn_id, p->fence_grace_ms);
        int64_t until = now + p->fence_grace_ms;
        while (ww_clock_mono_ms() < until && !p->consumer_fenced) {
            char buf[256];
            rd_kafka_resp_err_t e =
                rd_kafka_fatal_error(p->consumer, buf, sizeof buf);
            if (e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID &&
                trouble_recently(p)) {
                p->consumer_fenced = true;
            } else if (e) {
                fail(p, WW_ERR_FAILED_PRECONDITION,
                     is_fencing(e)
                         ? "fenced: a newer member uses group.instance.id"
                         : "consumer",
                     buf);
                return false;
            }
            if (stop_requested(p)) return false;
            sleep_ms(100);
        }
    }
    bool consumer = p->consumer_fenced, producer = p->fenced;
    if (consumer && !replace_consumer(p)) return false;
    if (producer && !replace_producer(p)) return false;
    pthread_mutex_lock(&p->stats_lock);
    p->stats.refenced++;
    pthread_mutex_unlock(&p->stats_lock);
    ww_log_warn("bus",
                "processor txn_id=%s event=refenced recoveries=%d "
                "replaced=%s%s%s cause=\"%s\"",
                p->txn_id, p->recoveries, consumer ? "consumer" : "",
                consumer && producer ? "," : "", producer ? "producer" : "",
                producer ? p->fenced_msg
                         : "consumer fenced after a lost "
                           "assignment");
    return true;
}

ww_code_t ww_bus_processor_run(ww_bus_processor_t *p, ww_err_t *err) {
    if (!p) return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "processor: NULL");
    if (!init_transactions(p)) goto out;
    warm_up_outputs(p);

    if (!subscribe(p)) goto out;
    ww_log_info("bus", "processor txn_id=%s group=%s topic=%s started",
                p->txn_id, p->group, p->topic);

    int64_t batch_deadline = 0;
    while (!p->failed && !stop_requested(p)) {
        if (p->fenced || p->consumer_fenced) {
            if (!recover_from_fencing(p)) break;
            continue;
        }
        rd_kafka_poll(p->producer, 0); /* error and log callbacks */
        int timeout = p->pending ? 10 : 100;
        if (p->txn_open) {
            int64_t left = batch_deadline - ww_clock_mono_ms();
            if (p->txn_records >= p->max_records || left <= 0) {
                commit_txn(p);
                continue;
            }
            timeout = (int)left;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, timeout);
        if (!m) {
            if (p->cb.on_idle && !p->failed && !p->txn_open) {
                ww_err_t ierr = {0};
                ww_code_t rc = p->cb.on_idle(p->cb.opaque, p, &ierr);
                if (rc != WW_OK) fail(p, rc, "on_idle", ierr.msg);
            }
            continue;
        }
        if (m->err) {
            consumer_error(p, m);
        } else if (!p->failed) {
            /* A rebalance inside the poll may have aborted the batch; a
             * record always starts or extends the current one. */
            if (!p->txn_open)
                batch_deadline = ww_clock_mono_ms() + p->max_wait_ms;
            handle_record(p, m);
        }
        rd_kafka_message_destroy(m);
    }
    /* A stop lets the records already handled commit. */
    bool usable = !p->failed && !p->fenced && !p->consumer_fenced;
    if (p->txn_open && usable) commit_txn(p);
    if (p->txn_open && usable) abort_txn(p, false);

out:
    if (p->failed) {
        if (err) *err = p->failure;
        return p->failure.code;
    }
    ww_bus_processor_stats_t st = ww_bus_processor_stats(p);
    ww_log_info("bus",
                "processor txn_id=%s stopped commits=%llu records=%llu "
                "produced=%llu aborts=%llu rebalances=%llu unconfirmed=%llu",
                p->txn_id, (unsigned long long)st.commits,
                (unsigned long long)st.records, (unsigned long long)st.produced,
                (unsigned long long)st.aborts,
                (unsigned long long)st.rebalances,
                (unsigned long long)st.unconfirmed);
    return WW_OK;
}

void ww_bus_processor_stop(ww_bus_processor_t *p) {
    if (p) __atomic_store_n(&p->stopping, 1, __ATOMIC_RELEASE);
}

ww_code_t ww_bus_processor_produce(ww_bus_processor_t *p, const char *topic,
                                   int32_t partition, const void *key,
                                   size_t key_len, const void *value,
                                   size_t value_len,
                                   rd_kafka_headers_t *headers, ww_err_t *err) {
    if (!p || !topic || !p->in_handler) {
        if (headers) rd_kafka_headers_destroy(headers);
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "processor: produce only from inside the handler");
    }
    for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY((void *)key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (!e) break;
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p->producer, 50);
            continue;
        }
        if (headers) rd_kafka_headers_destroy(headers);
        p->produce_failed = true;
        /* Refused in an abortable state (or for a moment): abort and redo
         * the batch. Only a fatal producer error ends the processor. */
        char fatal[256];
        rd_kafka_resp_err_t fe =
            rd_kafka_fatal_error(p->producer, fatal, sizeof fatal);
        if (fe) {
            mark_fenced(p, fe, "produce", fatal);
            return ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                        "processor: produce to %s: the "
                                        "producer failed (%s), the batch is "
                                        "redone",
                                        topic, fatal);
        }
        return ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                    "processor: produce to %s: %s", topic,
                                    rd_kafka_err2str(e));
    }
    p->txn_produced++;
    return WW_OK;
}

ww_code_t ww_bus_processor_dlq(ww_bus_processor_t *p,
                               const rd_kafka_message_t *rec,
                               const char *reason, int attempts,
                               ww_err_t *err) {
    if (!p || !rec || !p->in_handler)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "processor: dlq only from inside the handler");
    /* A copy over message.max.bytes would be refused at every redo of the
     * transaction: such a record gets a truncated dead letter instead. */
    ww_bus_dlq_letter_t l;
    ww_bus_dlq_letter(rec, p->group, reason, attempts,
                      ww_bus_dlq_max_bytes(p->producer), false, &l);
    ww_log_warn("bus",
                "processor txn_id=%s dlq=%s partition=%d offset=%lld "
                "bytes=%zu truncated=%s reason=\"%s\"",
                p->txn_id, l.topic, (int)rec->partition, (long long)rec->offset,
                rec->len, l.truncated ? "true" : "false", reason ? reason : "");
    ww_code_t rc = ww_bus_processor_produce(p, l.topic, RD_KAFKA_PARTITION_UA,
                                            l.key, l.key_len, l.value,
                                            l.value_len, l.headers, err);
    if (rc == WW_OK) { /* reported once its transaction commits */
        snprintf(p->dlq_topic, sizeof p->dlq_topic, "%s", l.topic);
        p->txn_dlq++;
    }
    return rc;
}

const char *ww_bus_processor_transactional_id(const ww_bus_processor_t *p) {
    return p ? p->txn_id : NULL;
}

ww_bus_processor_stats_t ww_bus_processor_stats(ww_bus_processor_t *p) {
    ww_bus_processor_stats_t s = {0};
    if (!p) return s;
    pthread_mutex_lock(&p->stats_lock);
    s = p->stats;
    pthread_mutex_unlock(&p->stats_lock);
    return s;
}

void ww_bus_processor_destroy(ww_bus_processor_t *p) {
    if (!p) return;
    stop_consumer(p);
    stop_producer(p);
    free(p->outputs);
    for (int i = 0; p->output_names && p->output_names[i]; i++)
        free(p->output_names[i]);
    free(p->output_names);
    if (p->producer_conf) rd_kafka_conf_destroy(p->producer_conf);
    if (p->consumer_conf) rd_kafka_conf_destroy(p->consumer_conf);
    pthread_mutex_destroy(&p->stats_lock);
    if (p->pending) rd_kafka_topic_partition_list_destroy(p->pending);
    free(p->pos);
    free(p->topic);
    free(p->group);
    free(p->txn_id);
    free(p);
}
