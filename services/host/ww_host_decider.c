/* ww_host_decider.c - partition ownership over the transactional
 * processor: stable handover, decision shards in transactions. */
#include "ww_host_decider.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_clock.h"
#include "ww_host_digest.h"
#include "ww_host_record.h"
#include "ww_log.h"
#include "ww_rpc_status.h"
#include "ww_schemas.h"

struct ww_host_decider {
    ww_bus_processor_t *proc;
    char *service, *source;
    ww_host_model_t *model;
    const ww_host_decider_ops_t *ops;
    void *ctx;
    char *commands, *events, *replies;
    int n;
    ww_shard_t **shards; /* decision state of owned partitions, else NULL */
    int *touched;        /* partitions the open transaction decided in */
    int n_touched;
    bool *in_txn;
    /* The handover in progress (see the header), step by step. */
    rd_kafka_topic_partition_list_t *prep;
    int64_t prep_since; /* monotonic ms of the announcement */
    bool committed_known;
    int64_t *ends; /* NULL until captured */
    ww_shard_t **ready; /* copies made so far, by partition */
    atomic_int owned;
    atomic_bool *owns; /* per partition, for other threads */
    atomic_ullong handovers, resumed_past;
};

static void drop_shards(ww_shard_t **shards, int n) {
    for (int i = 0; i < n; i++) {
        ww_shard_destroy(shards[i]);
        shards[i] = NULL;
    }
}

static void reset_prep(ww_host_decider_t *d) {
    if (d->prep) rd_kafka_topic_partition_list_destroy(d->prep);
    d->prep = NULL;
    d->committed_known = false;
    free(d->ends);
    d->ends = NULL;
    drop_shards(d->ready, d->n);
}

static ww_code_t on_assign(void *opaque, ww_bus_processor_t *p,
                           const rd_kafka_topic_partition_list_t *parts,
                           ww_err_t *err) {
    (void)p, (void)err;
    ww_host_decider_t *d = opaque;
    reset_prep(d);
    d->prep = rd_kafka_topic_partition_list_copy(parts);
    d->prep_since = ww_clock_mono_ms();
    return d->prep ? WW_OK
                   : ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "no memory");
}

static ww_code_t on_revoke(void *opaque, ww_bus_processor_t *p,
                           const rd_kafka_topic_partition_list_t *parts,
                           ww_err_t *err) {
    (void)p, (void)parts, (void)err;
    ww_host_decider_t *d = opaque;
    reset_prep(d);
    /* Another member may decide them next: this state is stale from now. */
    drop_shards(d->shards, d->n);
    atomic_store(&d->owned, 0);
    for (int i = 0; i < d->n; i++) atomic_store(&d->owns[i], false);
    return WW_OK;
}

/* Step 4 for one partition: where deciding resumes. */
static int64_t start_of(ww_host_decider_t *d, int32_t p, int64_t committed) {
    int64_t last = ww_shard_last_command(d->ready[p]);
    if (committed == RD_KAFKA_OFFSET_INVALID) committed = 0;
    if (last < committed) return committed;
    atomic_fetch_add(&d->resumed_past, 1);
    ww_log_error("decider",
                 "event=facts_past_committed topic=%s partition=%d "
                 "committed=%lld last_decided=%lld msg=\"the facts record a "
                 "command at or past the committed position (offsets lost or "
                 "reset?): resuming after the last decided command, so none "
                 "is decided twice\"",
                 d->commands, (int)p, (long long)committed, (long long)last);
    return last + 1;
}

/* Moves the handover on; returns WW_OK also while it must wait. */
static ww_code_t on_idle(void *opaque, ww_bus_processor_t *p, ww_err_t *err) {
    ww_host_decider_t *d = opaque;
    if (!d->prep || !ww_bus_processor_assign_pending(p)) return WW_OK;
    ww_err_t e = {0};
    if (!d->committed_known) {
        /* Step 1: stable committed offsets (short tries, so the loop keeps
         * serving rebalances while a zombie's transaction is pending). */
        ww_code_t rc = ww_bus_processor_committed(p, d->prep, 500, &e);
        if (rc != WW_OK) {
            if (!e.retriable) {
                if (err) *err = e;
                return rc;
            }
            ww_log_debug("decider", "event=handover_wait step=committed "
                                    "msg=\"%s\"", e.msg);
            return WW_OK;
        }
        d->committed_known = true;
    }
    if (!d->ends) {
        /* Step 2: the events' ends, captured after step 1. */
        int64_t *ends = malloc((size_t)d->n * sizeof *ends);
        if (!ends) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "no memory");
        if (ww_host_model_ends(d->model, ends, 10000, &e) != WW_OK) {
            free(ends);
            ww_log_warn("decider", "event=handover_wait step=ends msg=\"%s\"",
                        e.msg);
            return WW_OK;
        }
        d->ends = ends;
    }
    /* Step 3: the read model reached the ends; copy each shard. */
    for (int i = 0; i < d->prep->cnt; i++) {
        int32_t part = d->prep->elems[i].partition;
        if (part < 0 || part >= d->n)
            return ww_err_set(err, WW_ERR_INTERNAL,
                              "assigned partition %d of %d", (int)part, d->n);
        if (d->ready[part]) continue;
        ww_code_t rc =
            ww_host_model_clone_at(d->model, part, d->ends[part],
                                   &d->ready[part], &e);
        if (rc == WW_ERR_UNAVAILABLE) return WW_OK; /* still reading */
        if (rc != WW_OK) {
            if (err) *err = e;
            return rc;
        }
    }
    /* Step 4: start each partition where its decisions resume. */
    for (int i = 0; i < d->prep->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &d->prep->elems[i];
        tp->offset = start_of(d, tp->partition, tp->offset);
    }
    ww_code_t rc = ww_bus_processor_assign(p, d->prep, err);
    if (rc != WW_OK) return rc;
    for (int i = 0; i < d->prep->cnt; i++) {
        int32_t part = d->prep->elems[i].partition;
        ww_shard_destroy(d->shards[part]);
        d->shards[part] = d->ready[part];
        d->ready[part] = NULL;
        atomic_store(&d->owns[part], true);
        ww_log_info("decider",
                    "event=owner topic=%s partition=%d start=%lld "
                    "events_end=%lld last_decided=%lld handover_ms=%lld",
                    d->commands, (int)part, (long long)d->prep->elems[i].offset,
                    (long long)d->ends[part],
                    (long long)ww_shard_last_command(d->shards[part]),
                    (long long)(ww_clock_mono_ms() - d->prep_since));
    }
    atomic_store(&d->owned, d->prep->cnt);
    atomic_fetch_add(&d->handovers, (unsigned long long)d->prep->cnt);
    reset_prep(d);
    return WW_OK;
}

static ww_code_t handle(void *opaque, ww_bus_processor_t *p,
                        const rd_kafka_message_t *rec, ww_err_t *err) {
    (void)p;
    ww_host_decider_t *d = opaque;
    int32_t part = rec->partition;
    if (part < 0 || part >= d->n || !d->shards[part])
        return ww_err_set(err, WW_ERR_INTERNAL,
                          "a command of partition %d this owner does not hold",
                          (int)part);
    ww_shard_t *shard = d->shards[part];
    if (!d->in_txn[part]) {
        ww_shard_begin(shard);
        d->in_txn[part] = true;
        d->touched[d->n_touched++] = part;
    }
    /* Deciding is one span of the command's trace: the facts and the
     * result it writes carry it, and so do its log lines. */
    ww_trace_t span;
    ww_bus_envelope_trace(rec, &span);
    ww_trace_t prev = ww_trace_enter(&span);
    ww_code_t rc = d->ops->decide(d->ctx, d, shard, rec, err);
    if (ww_log_enabled(WW_LOG_DEBUG)) {
        char type[WW_BUS_TYPE_MAX + 1];
        ww_host_record_header(rec, WW_BUS_H_TYPE, type, sizeof type);
        ww_log_debug("decider",
                     "event=decided topic=%s partition=%d offset=%lld "
                     "type=%s rc=%s",
                     d->commands, (int)part, (long long)rec->offset, type,
                     ww_code_name(rc));
    }
    ww_trace_leave(&prev);
    return rc;
}

static void end_txn(ww_host_decider_t *d, bool commit) {
    for (int i = 0; i < d->n_touched; i++) {
        int part = d->touched[i];
        d->in_txn[part] = false;
        if (!d->shards[part]) continue; /* revoked meanwhile */
        if (commit)
            ww_shard_commit(d->shards[part]);
        else
            ww_shard_rollback(d->shards[part]);
    }
    d->n_touched = 0;
}

static void on_commit(void *opaque, ww_bus_processor_t *p) {
    (void)p;
    end_txn(opaque, true);
}

static void on_abort(void *opaque, ww_bus_processor_t *p) {
    (void)p;
    end_txn(opaque, false);
}

ww_code_t ww_host_decider_new(const ww_bus_config_t *bus,
                              const ww_host_decider_config_t *cfg,
                              ww_host_decider_t **out, ww_err_t *err) {
    *out = NULL;
    ww_host_decider_t *d = calloc(1, sizeof *d);
    if (!d) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    d->model = cfg->model;
    d->ops = cfg->ops;
    d->ctx = cfg->ctx;
    d->n = ww_host_model_partitions(cfg->model);
    d->service = strdup(cfg->service ? cfg->service : "svc");
    d->source = strdup(cfg->source ? cfg->source : "/wildworkouts");
    d->commands = strdup(cfg->commands_topic);
    d->events = strdup(cfg->events_topic);
    d->replies = strdup(cfg->replies_topic);
    d->shards = calloc((size_t)d->n, sizeof *d->shards);
    d->ready = calloc((size_t)d->n, sizeof *d->ready);
    d->touched = calloc((size_t)d->n, sizeof *d->touched);
    d->in_txn = calloc((size_t)d->n, sizeof *d->in_txn);
    d->owns = calloc((size_t)d->n, sizeof *d->owns);
    if (!d->service || !d->source || !d->commands || !d->events ||
        !d->replies || !d->shards || !d->ready || !d->touched || !d->in_txn ||
        !d->owns) {
        ww_host_decider_destroy(d);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    const char *outputs[] = {d->events, d->replies, NULL};
    ww_bus_processor_config_t pc = {
        .input_topic = d->commands,
        .group = cfg->group,
        .output_topics = outputs,
        .max_records = cfg->max_records ? cfg->max_records : 500,
        .max_wait_ms = cfg->max_wait_ms ? cfg->max_wait_ms : 2,
        .handle = handle,
        .on_assign = on_assign,
        .on_revoke = on_revoke,
        .on_abort = on_abort,
        .on_commit = on_commit,
        .on_idle = on_idle,
        .owner_assigns = true,
        .opaque = d,
    };
    ww_code_t rc = ww_bus_processor_new(bus, &pc, &d->proc, err);
    if (rc != WW_OK) {
        ww_host_decider_destroy(d);
        return rc;
    }
    *out = d;
    return WW_OK;
}

ww_bus_processor_t *ww_host_decider_processor(ww_host_decider_t *d) {
    return d->proc;
}

const char *ww_host_decider_events_topic(const ww_host_decider_t *d) {
    return d->events;
}

const char *ww_host_decider_replies_topic(const ww_host_decider_t *d) {
    return d->replies;
}

ww_code_t ww_host_decider_produce(ww_bus_processor_t *p, const char *topic,
                                  int32_t partition, const char *key,
                                  const ProtobufCMessage *msg,
                                  const ww_bus_envelope_meta_t *meta,
                                  char *id_out, ww_err_t *err) {
    rd_kafka_headers_t *h;
    void *value;
    size_t len;
    ww_code_t rc =
        ww_bus_envelope_encode(msg, meta, &h, &value, &len, id_out, err);
    if (rc != WW_OK) return rc;
    rc = ww_bus_processor_produce(p, topic, partition, key,
                                  key ? strlen(key) : 0, value, len, h, err);
    free(value);
    return rc;
}

void ww_host_decider_fact_id(const ww_host_decider_t *d, int32_t p,
                             int64_t offset, int i,
                             char buf[WW_BUS_ID_MAX + 1]) {
    snprintf(buf, WW_BUS_ID_MAX + 1, "%s-%d-%lld-%d", d->service, (int)p,
             (long long)offset, i);
}

ww_bus_envelope_meta_t ww_host_decider_fact_meta(
    const ww_host_decider_t *d, const rd_kafka_message_t *rec, int i,
    const char *correlation_id, const char *causation_id,
    char id_buf[WW_BUS_ID_MAX + 1]) {
    ww_host_decider_fact_id(d, rec->partition, rec->offset, i, id_buf);
    return (ww_bus_envelope_meta_t){
        .source = d->source,
        .id = id_buf,
        .correlation_id =
            correlation_id && *correlation_id ? correlation_id : NULL,
        .causation_id = causation_id && *causation_id ? causation_id : NULL,
    };
}

ww_code_t ww_host_decider_reply(ww_host_decider_t *d,
                                const rd_kafka_message_t *rec,
                                const char *key, const char *correlation_id,
                                const char *causation_id,
                                const char *command_type,
                                const ww_host_outcome_t *o, ww_err_t *err) {
    enum { MAX_IDS = 4 };
    char ids[MAX_IDS][WW_BUS_ID_MAX + 1];
    char *id_ptrs[MAX_IDS];
    int n = o->n_facts < MAX_IDS ? o->n_facts : MAX_IDS;
    for (int i = 0; i < n; i++) {
        ww_host_decider_fact_id(d, rec->partition, o->facts_of, i, ids[i]);
        id_ptrs[i] = ids[i];
    }
    Wildworkouts__Events__V1__CommandPosition at =
        WILDWORKOUTS__EVENTS__V1__COMMAND_POSITION__INIT;
    at.partition = rec->partition;
    at.offset = rec->offset;
    Wildworkouts__Events__V1__CommandPosition of =
        WILDWORKOUTS__EVENTS__V1__COMMAND_POSITION__INIT;
    of.partition = rec->partition;
    of.offset = n > 0 ? o->facts_of : rec->offset;
    Wildworkouts__Events__V1__CommandResult r =
        WILDWORKOUTS__EVENTS__V1__COMMAND_RESULT__INIT;
    r.correlation_id = (char *)(correlation_id ? correlation_id : "");
    r.status_code = (int32_t)ww_rpc_status_from_code(o->code);
    r.message = (char *)(o->message ? o->message : "");
    r.command_type = (char *)(command_type ? command_type : "");
    r.command = &at;
    r.duplicate = o->duplicate;
    r.training_uuid = (char *)(o->training_uuid ? o->training_uuid : "");
    r.balance_refund = o->balance_refund;
    r.balance = o->balance;
    r.n_event_ids = (size_t)n;
    r.event_ids = id_ptrs;
    r.facts_of = &of;
    char id[WW_BUS_ID_MAX + 1];
    snprintf(id, sizeof id, "%s-%d-%lld-r", d->service, (int)rec->partition,
             (long long)rec->offset);
    ww_bus_envelope_meta_t meta = {
        .source = d->source,
        .id = id,
        .correlation_id =
            correlation_id && *correlation_id ? correlation_id : NULL,
        .causation_id = causation_id && *causation_id ? causation_id : NULL,
    };
    return ww_host_decider_produce(d->proc, d->replies, rec->partition, key,
                                   &r.base, &meta, NULL, err);
}

/* Longest record key answered (keys are entity ids). */
enum { KEY_MAX = 256 };

ww_code_t ww_host_decider_poison(ww_host_decider_t *d,
                                 const rd_kafka_message_t *rec,
                                 const ww_err_t *why, ww_err_t *err) {
    char reason[300];
    snprintf(reason, sizeof reason, "undecodable: %s", why->msg);
    ww_code_t rc = ww_bus_processor_dlq(d->proc, rec, reason, 0, err);
    if (rc != WW_OK) return rc;
    char corr[WW_BUS_ID_MAX + 1], key[KEY_MAX];
    ww_host_record_header(rec, WW_BUS_H_CORRELATION_ID, corr, sizeof corr);
    if (!corr[0]) return WW_OK;
    ww_host_record_key(rec, key, sizeof key);
    ww_host_outcome_t o = {.code = WW_ERR_INVALID_ARGUMENT,
                           .message = reason,
                           .facts_of = -1};
    return ww_host_decider_reply(d, rec, key, corr, NULL, "", &o, err);
}

static ww_code_t answer(ww_host_decider_t *d, const rd_kafka_message_t *rec,
                        const ww_bus_event_t *ev, const ww_host_outcome_t *o,
                        ww_err_t *err) {
    char key[KEY_MAX];
    ww_host_record_key(rec, key, sizeof key);
    return ww_host_decider_reply(d, rec, key, ev->correlation_id, ev->id,
                                 ev->descriptor->name, o, err);
}

ww_code_t ww_host_decider_refuse(ww_host_decider_t *d,
                                 const rd_kafka_message_t *rec,
                                 const ww_bus_event_t *ev, const ww_err_t *why,
                                 ww_err_t *err) {
    ww_host_outcome_t o = {.code = why->code, .message = why->msg,
                           .facts_of = -1};
    return answer(d, rec, ev, &o, err);
}

ww_code_t ww_host_decider_dedup(ww_host_decider_t *d, const ww_shard_t *shard,
                                const rd_kafka_message_t *rec,
                                const ww_bus_event_t *ev, bool *answered,
                                ww_shard_origin_t *origin, ww_err_t *err) {
    *answered = false;
    memset(origin, 0, sizeof *origin);
    const Wildworkouts__Events__V1__CommandMeta *meta =
        ww_host_record_meta(ev->payload);
    const char *key = meta ? meta->idempotency_key : NULL;
    if (!key || !*key) return WW_OK;
    origin->caller = meta->caller ? meta->caller : "";
    origin->key = key;
    ww_code_t rc = ww_host_digest_command(ev->payload, origin->digest, err);
    if (rc != WW_OK) return rc;
    const ww_dedup_entry_t *e = NULL;
    switch (ww_dedup_check(ww_shard_dedup(shard), origin->caller, key,
                           origin->digest, &e)) {
    case WW_DEDUP_NEW:
        return WW_OK;
    case WW_DEDUP_REPEAT: {
        *answered = true;
        ww_host_outcome_t o = {.code = WW_OK,
                               .message = "",
                               .duplicate = true,
                               .balance_refund = e->result,
                               .facts_of = e->command_offset,
                               .n_facts = 1};
        return answer(d, rec, ev, &o, err);
    }
    case WW_DEDUP_CONFLICT:
        break;
    }
    *answered = true;
    ww_err_t why;
    ww_err_set(&why, WW_ERR_INVALID_ARGUMENT,
               "idempotency-key \"%s\" was used for another request", key);
    return ww_host_decider_refuse(d, rec, ev, &why, err);
}

bool ww_host_decider_owns(ww_host_decider_t *d, int32_t p) {
    return p >= 0 && p < d->n && atomic_load(&d->owns[p]);
}

ww_host_decider_stats_t ww_host_decider_stats(ww_host_decider_t *d) {
    return (ww_host_decider_stats_t){atomic_load(&d->owned),
                                     atomic_load(&d->handovers),
                                     atomic_load(&d->resumed_past)};
}

void ww_host_decider_destroy(ww_host_decider_t *d) {
    if (!d) return;
    ww_bus_processor_destroy(d->proc); /* its revoke drops the shards */
    if (d->shards) drop_shards(d->shards, d->n);
    if (d->ready) reset_prep(d);
    free(d->shards);
    free(d->ready);
    free(d->touched);
    free(d->in_txn);
    free(d->owns);
    free(d->service);
    free(d->source);
    free(d->commands);
    free(d->events);
    free(d->replies);
    free(d);
}
