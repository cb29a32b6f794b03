/* ww_users_worker.c - the users' fold, decisions and reactions over Kafka
 * records. */
#include "ww_users_worker.h"

#include "ww_bus_envelope.h"
#include "ww_bus_registry.h"
#include "ww_host_record.h"
#include "ww_schemas.h"
#include "ww_users_codec.h"
#include "ww_users_domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ww_users_worker {
    /* users.commands, users.events, trainer.events */
    ww_host_record_vocab_t vocab;
};

/* --------------------------------------------------------------- fold */

static void *new_state(void) {
    return ww_users_state_new();
}

static ww_code_t fold(void *ctx, ww_shard_t *shard,
                      const rd_kafka_message_t *rec, bool *skipped,
                      ww_err_t *err) {
    ww_users_worker_t *w = ctx;
    ww_bus_event_t ev = {0};
    ww_users_codec_fact_t f;
    ww_code_t rc =
        ww_bus_envelope_decode_message(rec, w->vocab.events, &ev, err);
    if (rc == WW_OK) rc = ww_users_codec_decode(&ev, &f, err);
    if (rc == WW_OK) rc = ww_users_apply(ww_shard_state(shard), &f.fact, err);
    ww_bus_event_clear(&ev);
    if (rc == WW_ERR_RESOURCE_EXHAUSTED) return rc;
    if (rc != WW_OK) {
        *skipped = true; /* the same on every replica */
        return WW_OK;
    }
    return ww_shard_record(shard, f.command_offset, &f.origin, 0, err);
}

/* ------------------------------------------------------------- decide */

/* Folds the decision's facts into the shard, produces them and the reply. */
static ww_code_t commit_decision(ww_host_decider_t *d, ww_shard_t *shard,
                                 const rd_kafka_message_t *rec,
                                 const ww_bus_event_t *ev,
                                 const ww_users_decision_t *dec,
                                 const ww_shard_origin_t *origin,
                                 ww_err_t *err) {
    if (dec->err.code != WW_OK)
        return ww_host_decider_refuse(d, rec, ev, &dec->err, err);
    const ProtobufCMessage *m = ev->payload;
    ww_users_codec_context_t cc = {
        .partition = rec->partition,
        .offset = rec->offset,
        .meta = ww_host_record_meta(m),
        .digest = origin && origin->key ? origin->digest : NULL,
        .source_event_id = ww_host_record_string(m, "source_event_id"),
        .trainer_id = ww_host_record_string(m, "trainer_id"),
    };
    for (size_t i = 0; i < dec->n_facts; i++) {
        const ww_users_fact_t *f = &dec->facts[i];
        ww_code_t rc = ww_users_apply(ww_shard_state(shard), f, err);
        if (rc == WW_OK)
            rc = ww_shard_record(shard, rec->offset,
                                 origin && origin->key ? origin : NULL, 0, err);
        if (rc != WW_OK) {
            err->retriable = true; /* only memory fails here: redo */
            return rc;
        }
        ww_users_codec_event_t storage;
        const ProtobufCMessage *event = ww_users_codec_encode(f, &cc, &storage);
        char id[WW_BUS_ID_MAX + 1];
        ww_bus_envelope_meta_t meta = ww_host_decider_fact_meta(
            d, rec, (int)i, ev->correlation_id, ev->id, id);
        rc = ww_host_decider_produce(
            ww_host_decider_processor(d), ww_host_decider_events_topic(d),
            rec->partition, f->user_id, event, &meta, NULL, err);
        if (rc != WW_OK) return rc;
    }
    ww_host_outcome_t o = {.code = WW_OK,
                           .message = "",
                           .balance = dec->balance,
                           .facts_of = rec->offset,
                           .n_facts = (int)dec->n_facts};
    char key[WW_IDS_USER_ID_MAX + 1];
    ww_host_record_key(rec, key, sizeof key);
    return ww_host_decider_reply(d, rec, key, ev->correlation_id, ev->id,
                                 m->descriptor->name, &o, err);
}

static void decide_command(const ProtobufCMessage *m,
                           const ww_users_state_t *st,
                           ww_users_decision_t *dec) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &wildworkouts__events__v1__change_balance_command__descriptor) {
        const Wildworkouts__Events__V1__ChangeBalanceCommand *x =
            (const void *)m;
        ww_users_decide_update_balance(st, x->user_id, x->amount_change, dec);
    } else if (d ==
               &wildworkouts__events__v1__debit_training_command__descriptor) {
        const Wildworkouts__Events__V1__DebitTrainingCommand *x =
            (const void *)m;
        ww_users_decide_debit_for_training(st, x->user_id, x->training_uuid,
                                           dec);
    } else {
        const Wildworkouts__Events__V1__RefundTrainingCommand *x =
            (const void *)m;
        ww_users_decide_refund_for_training(st, x->user_id, x->training_uuid,
                                            x->refund, dec);
    }
}

static ww_code_t decide(void *ctx, ww_host_decider_t *d, ww_shard_t *shard,
                        const rd_kafka_message_t *rec, ww_err_t *err) {
    ww_users_worker_t *w = ctx;
    ww_bus_event_t ev = {0};
    ww_err_t why = {0};
    if (ww_bus_envelope_decode_message(rec, w->vocab.commands, &ev, &why) !=
        WW_OK) {
        ww_bus_event_clear(&ev);
        return ww_host_decider_poison(d, rec, &why, err);
    }
    ww_shard_origin_t origin;
    bool answered = false;
    ww_code_t rc =
        ww_host_decider_dedup(d, shard, rec, &ev, &answered, &origin, err);
    if (rc == WW_OK && !answered) {
        ww_users_decision_t dec;
        decide_command(ev.payload, ww_shard_state(shard), &dec);
        rc = commit_decision(d, shard, rec, &ev, &dec, &origin, err);
    }
    ww_bus_event_clear(&ev);
    return rc;
}

/* ---------------------------------------------------------- translate */

/* A scheduled training becomes its debit, a canceled one its refund. */
static ww_code_t translate(void *ctx, ww_host_fact_t *fact, ww_err_t *err) {
    (void)ctx;
    const ww_bus_event_t *ev = fact->event;
    Wildworkouts__Events__V1__DebitTrainingCommand debit =
        WILDWORKOUTS__EVENTS__V1__DEBIT_TRAINING_COMMAND__INIT;
    Wildworkouts__Events__V1__RefundTrainingCommand refund =
        WILDWORKOUTS__EVENTS__V1__REFUND_TRAINING_COMMAND__INIT;
    const ProtobufCMessage *cmd = NULL;
    const char *user = NULL;
    if (ev->descriptor ==
        &wildworkouts__events__v1__training_scheduled__descriptor) {
        const Wildworkouts__Events__V1__TrainingScheduled *e =
            (const void *)ev->payload;
        debit.meta = &fact->meta;
        debit.user_id = e->user_id;
        user = e->user_id;
        debit.training_uuid = e->training_uuid;
        debit.source_event_id = (char *)ev->id;
        debit.trainer_id = e->trainer_id;
        cmd = &debit.base;
    } else if (ev->descriptor ==
               &wildworkouts__events__v1__training_canceled__descriptor) {
        const Wildworkouts__Events__V1__TrainingCanceled *e =
            (const void *)ev->payload;
        if (e->refund > 0) { /* no refund: nothing to pay */
            refund.meta = &fact->meta;
            refund.user_id = e->user_id;
            user = e->user_id;
            refund.training_uuid = e->training_uuid;
            refund.refund = e->refund;
            refund.source_event_id = (char *)ev->id;
            refund.trainer_id = e->trainer_id;
            cmd = &refund.base;
        }
    }
    if (!cmd) return WW_OK; /* not a fact the users service reacts to */
    if (!user || !*user)
        return ww_host_translator_refuse(
            fact, "a training fact without user_id", err);
    return ww_host_translator_react(fact, user, cmd, err);
}

/* ---------------------------------------------------------- lifecycle */

static const ww_host_model_ops_t model_ops = {
    .shard_ops = &ww_users_shard_ops,
    .new_state = new_state,
    .apply = fold,
};

static const ww_host_decider_ops_t decider_ops = {.decide = decide};

ww_code_t ww_users_worker_new(ww_users_worker_t **out, ww_err_t *err) {
    ww_users_worker_t *w = calloc(1, sizeof *w);
    if (!w) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    ww_code_t rc = ww_host_record_vocab_init(
        &w->vocab, ww_schemas_users_commands, ww_schemas_users_events,
        ww_schemas_trainer_events, err);
    if (rc != WW_OK) {
        free(w);
        return rc;
    }
    *out = w;
    return WW_OK;
}

void ww_users_worker_destroy(ww_users_worker_t *w) {
    if (!w) return;
    ww_host_record_vocab_clear(&w->vocab);
    free(w);
}

ww_host_service_config_t ww_users_worker_service(ww_users_worker_t *w,
                                                 const ww_host_backbone_t *bb) {
    return (ww_host_service_config_t){
        .name = "users",
        .source = WW_USERS_SOURCE,
        .backbone = bb,
        .model_ops = &model_ops,
        .decider_ops = &decider_ops,
        .translate = translate,
        .peer_types = w->vocab.peer,
        .ctx = w,
    };
}
