/* ww_trainer_worker.c - the trainer's fold, decisions and reactions over
 * Kafka records. */
#include "ww_trainer_worker.h"

#include "ww_bus_envelope.h"
#include "ww_bus_registry.h"
#include "ww_host_record.h"
#include "ww_schemas.h"
#include "ww_trainer_codec.h"
#include "ww_trainer_roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ww_trainer_worker {
    /* trainer.commands, trainer.events, users.events */
    ww_host_record_vocab_t vocab;
    ww_trainer_metrics_t *metrics; /* NULL: metrics off */
};

typedef Wildworkouts__Events__V1__CommandMeta meta_t;

/* ------------------------------------------------------------ helpers */

static const ww_time_t *to_time(const Google__Protobuf__Timestamp *ts,
                                ww_time_t *buf) {
    if (!ts) return NULL;
    *buf = (ww_time_t){ts->seconds, ts->nanos};
    return buf;
}

/* --------------------------------------------------------------- fold */

static void *new_roster(void) {
    return ww_trainer_roster_new();
}

static ww_code_t fold(void *ctx, ww_shard_t *shard,
                      const rd_kafka_message_t *rec, bool *skipped,
                      ww_err_t *err) {
    ww_trainer_worker_t *w = ctx;
    ww_bus_event_t ev = {0};
    ww_trainer_codec_fact_t f;
    ww_code_t rc =
        ww_bus_envelope_decode_message(rec, w->vocab.events, &ev, err);
    if (rc == WW_OK) rc = ww_trainer_codec_decode(&ev, &f, err);
    if (rc == WW_OK)
        rc = ww_trainer_roster_apply(ww_shard_state(shard), f.trainer_id,
                                     &f.fact, err);
    if (rc == WW_OK)
        ww_trainer_metrics_fact(w->metrics, &f.fact,
                                rd_kafka_message_timestamp(rec, NULL));
    ww_bus_event_clear(&ev);
    if (rc == WW_ERR_RESOURCE_EXHAUSTED) return rc;
    if (rc != WW_OK) {
        *skipped = true; /* the same on every replica */
        return WW_OK;
    }
    return ww_shard_record(shard, f.command_offset, &f.origin,
                           f.fact.balance_refund, err);
}

/* ------------------------------------------------------------- decide */

/* One command being decided: what the reply and the facts need. */
typedef struct decision_ctx {
    ww_host_decider_t *d;
    ww_shard_t *shard;
    const rd_kafka_message_t *rec;
    const ww_bus_event_t *ev;
    const meta_t *meta;
    const char *trainer_id;
    const char *type;
    const char *balance_event_id; /* settle */
    const char *reason;           /* settle */
} decision_ctx_t;

static ww_code_t reply(const decision_ctx_t *c, const ww_host_outcome_t *o,
                       ww_err_t *err) {
    char key[WW_TRAINER_ROSTER_ID_MAX + 1];
    ww_host_record_key(c->rec, key, sizeof key);
    return ww_host_decider_reply(c->d, c->rec, key, c->ev->correlation_id,
                                 c->ev->id, c->type, o, err);
}

/* Folds the decision's facts into the shard, produces them and the reply. */
static ww_code_t commit_decision(const decision_ctx_t *c,
                                 const ww_trainer_decision_t *dec,
                                 const ww_shard_origin_t *origin,
                                 const uint8_t *digest, ww_err_t *err) {
    if (dec->err.code != WW_OK)
        return ww_host_decider_refuse(c->d, c->rec, c->ev, &dec->err, err);
    ww_bus_processor_t *p = ww_host_decider_processor(c->d);
    for (size_t i = 0; i < dec->n_facts; i++) {
        ww_code_t rc = ww_trainer_roster_apply(
            ww_shard_state(c->shard), c->trainer_id, &dec->facts[i], err);
        if (rc == WW_OK)
            rc = ww_shard_record(c->shard, c->rec->offset, origin,
                                 dec->balance_refund, err);
        if (rc != WW_OK) {
            /* A decided fact always applies: only memory can fail here.
             * Abort and redo the batch. */
            err->retriable = true;
            return rc;
        }
        ww_trainer_codec_context_t cc = {
            .trainer_id = c->trainer_id,
            .partition = c->rec->partition,
            .offset = c->rec->offset,
            .meta = c->meta,
            .digest = digest,
            .balance_event_id = c->balance_event_id,
            .reason = c->reason,
        };
        ww_trainer_codec_event_t storage;
        const ProtobufCMessage *event =
            ww_trainer_codec_encode(&dec->facts[i], &cc, &storage);
        char id[WW_BUS_ID_MAX + 1];
        ww_bus_envelope_meta_t meta = ww_host_decider_fact_meta(
            c->d, c->rec, (int)i, c->ev->correlation_id, c->ev->id, id);
        rc = ww_host_decider_produce(p, ww_host_decider_events_topic(c->d),
                                     c->rec->partition, c->trainer_id, event,
                                     &meta, NULL, err);
        if (rc != WW_OK) return rc;
    }
    ww_host_outcome_t o = {
        .code = WW_OK,
        .message = "",
        .balance_refund = dec->balance_refund,
        .facts_of = c->rec->offset,
        .n_facts = (int)dec->n_facts,
    };
    return reply(c, &o, err);
}

/* The command's decision over the trainer's state. */
static void decide_command(const decision_ctx_t *c, const ProtobufCMessage *m,
                           const ww_trainer_state_t *st,
                           ww_trainer_decision_t *dec) {
    ww_time_t t;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &wildworkouts__events__v1__change_hour_command__descriptor) {
        const Wildworkouts__Events__V1__ChangeHourCommand *x = (const void *)m;
        const ww_time_t *at = to_time(x->hour, &t);
        switch (x->operation) {
        case WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_UPDATE:
            ww_trainer_decide_update_hour(st, at, x->has_training_scheduled,
                                          x->available, dec);
            return;
        case WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_SCHEDULE:
            ww_trainer_decide_schedule_hour(st, at, dec);
            return;
        case WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_CANCEL:
            ww_trainer_decide_cancel_hour(st, at, dec);
            return;
        case WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_MAKE_AVAILABLE:
            ww_trainer_decide_make_hour_available(st, at, dec);
            return;
        case WILDWORKOUTS__EVENTS__V1__HOUR_OPERATION__HOUR_OPERATION_MAKE_UNAVAILABLE:
            ww_trainer_decide_make_hour_unavailable(st, at, dec);
            return;
        default:
            memset(dec, 0, sizeof *dec);
            ww_err_set(&dec->err, WW_ERR_INVALID_ARGUMENT,
                       "unknown hour operation %d", (int)x->operation);
            return;
        }
    }
    if (d == &wildworkouts__events__v1__schedule_training_command__descriptor) {
        const Wildworkouts__Events__V1__ScheduleTrainingCommand *x =
            (const void *)m;
        ww_trainer_decide_schedule_training(st, x->training_uuid, x->user_id,
                                            to_time(x->time, &t), x->notes,
                                            dec);
        return;
    }
    if (d == &wildworkouts__events__v1__cancel_training_command__descriptor) {
        const Wildworkouts__Events__V1__CancelTrainingCommand *x =
            (const void *)m;
        /* The 24-hour rule runs on the edge's clock, never ours. */
        ww_trainer_decide_cancel_training(
            st, x->training_uuid, x->by_trainer,
            to_time(c->meta ? c->meta->issued_at : NULL, &t), dec);
        return;
    }
    const Wildworkouts__Events__V1__SettleTrainingCommand *x = (const void *)m;
    if (x->debited)
        ww_trainer_decide_balance_debited(st, x->training_uuid, dec);
    else
        ww_trainer_decide_balance_rejected(st, x->training_uuid, dec);
}

static ww_code_t decide(void *ctx, ww_host_decider_t *d, ww_shard_t *shard,
                        const rd_kafka_message_t *rec, ww_err_t *err) {
    ww_trainer_worker_t *w = ctx;
    ww_bus_event_t ev = {0};
    ww_err_t why = {0};
    if (ww_bus_envelope_decode_message(rec, w->vocab.commands, &ev, &why) !=
        WW_OK) {
        ww_bus_event_clear(&ev);
        return ww_host_decider_poison(d, rec, &why, err);
    }
    const ProtobufCMessage *m = ev.payload;
    decision_ctx_t c = {
        .d = d,
        .shard = shard,
        .rec = rec,
        .ev = &ev,
        .meta = ww_host_record_meta(m),
        .trainer_id = ww_host_record_string(m, "trainer_id"),
        .type = m->descriptor->name,
        .balance_event_id = ww_host_record_string(m, "balance_event_id"),
        .reason = ww_host_record_string(m, "reason"),
    };
    ww_shard_origin_t origin;
    bool answered = false;
    ww_code_t rc;
    if (ww_trainer_roster_check_id(c.trainer_id, &why) != WW_OK)
        rc = ww_host_decider_refuse(d, rec, &ev, &why, err);
    else if ((rc = ww_host_decider_dedup(d, shard, rec, &ev, &answered, &origin,
                                         err)) == WW_OK &&
             !answered) {
        ww_trainer_decision_t dec;
        decide_command(
            &c, m, ww_trainer_roster_get(ww_shard_state(shard), c.trainer_id),
            &dec);
        rc = commit_decision(&c, &dec, origin.key ? &origin : NULL,
                             origin.key ? origin.digest : NULL, err);
    }
    ww_bus_event_clear(&ev);
    return rc;
}

/* ---------------------------------------------------------- translate */

/* The users' answer to a training's debit becomes its settlement. */
static ww_code_t translate(void *ctx, ww_host_fact_t *fact, ww_err_t *err) {
    (void)ctx;
    const ww_bus_event_t *ev = fact->event;
    Wildworkouts__Events__V1__SettleTrainingCommand cmd =
        WILDWORKOUTS__EVENTS__V1__SETTLE_TRAINING_COMMAND__INIT;
    const ProtobufCMessageDescriptor *d = ev->descriptor;
    const char *trainer = NULL;
    bool react = false;
    if (d == &wildworkouts__events__v1__training_balance_changed__descriptor) {
        const Wildworkouts__Events__V1__TrainingBalanceChanged *e =
            (const void *)ev->payload;
        react =
            e->reason ==
            WILDWORKOUTS__EVENTS__V1__BALANCE_CHANGE_REASON__BALANCE_CHANGE_REASON_TRAINING_DEBIT;
        cmd.training_uuid = e->training_uuid;
        cmd.debited = true;
        trainer = e->trainer_id;
    } else if (
        d == &wildworkouts__events__v1__training_balance_rejected__descriptor) {
        const Wildworkouts__Events__V1__TrainingBalanceRejected *e =
            (const void *)ev->payload;
        react =
            e->reason ==
            WILDWORKOUTS__EVENTS__V1__BALANCE_CHANGE_REASON__BALANCE_CHANGE_REASON_TRAINING_DEBIT;
        cmd.training_uuid = e->training_uuid;
        cmd.debited = false;
        cmd.reason = e->message;
        trainer = e->trainer_id;
    }
    if (!react) return WW_OK; /* not a fact the trainer reacts to */
    if (!trainer || !*trainer)
        return ww_host_translator_refuse(
            fact, "a training debit without trainer_id", err);
    cmd.meta = &fact->meta;
    cmd.trainer_id = (char *)trainer;
    cmd.balance_event_id = (char *)ev->id;
    return ww_host_translator_react(fact, trainer, &cmd.base, err);
}

/* ---------------------------------------------------------- lifecycle */

static const ww_host_model_ops_t model_ops = {
    .shard_ops = &ww_trainer_roster_shard_ops,
    .new_state = new_roster,
    .apply = fold,
};

static const ww_host_decider_ops_t decider_ops = {.decide = decide};

ww_code_t ww_trainer_worker_new(ww_trainer_worker_t **out, ww_err_t *err) {
    ww_trainer_worker_t *w = calloc(1, sizeof *w);
    if (!w) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    ww_code_t rc = ww_host_record_vocab_init(
        &w->vocab, ww_schemas_trainer_commands, ww_schemas_trainer_events,
        ww_schemas_users_events, err);
    if (rc != WW_OK) {
        free(w);
        return rc;
    }
    *out = w;
    return WW_OK;
}

void ww_trainer_worker_set_metrics(ww_trainer_worker_t *w,
                                   ww_trainer_metrics_t *tm) {
    w->metrics = tm;
}

void ww_trainer_worker_destroy(ww_trainer_worker_t *w) {
    if (!w) return;
    ww_host_record_vocab_clear(&w->vocab);
    free(w);
}

ww_host_service_config_t
ww_trainer_worker_service(ww_trainer_worker_t *w,
                          const ww_host_backbone_t *bb) {
    return (ww_host_service_config_t){
        .name = "trainer",
        .source = WW_TRAINER_SOURCE,
        .backbone = bb,
        .model_ops = &model_ops,
        .decider_ops = &decider_ops,
        .translate = translate,
        .peer_types = w->vocab.peer,
        .ctx = w,
    };
}
