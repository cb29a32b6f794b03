/* ww_users_codec.c - users facts <-> users.events messages. */
#include "ww_users_codec.h"

#include <string.h>

#include "ww_host_record.h"

/* The event schema's BalanceChangeReason has the domain's numbers. */
static Wildworkouts__Events__V1__BalanceChangeReason
reason_of(ww_users_reason_t r) {
    return (Wildworkouts__Events__V1__BalanceChangeReason)r;
}

const ProtobufCMessage *ww_users_codec_encode(const ww_users_fact_t *f,
                                              const ww_users_codec_context_t *ctx,
                                              ww_users_codec_event_t *out) {
    memset(out, 0, sizeof *out);
    wildworkouts__events__v1__command_position__init(&out->command);
    out->command.partition = ctx->partition;
    out->command.offset = ctx->offset;
    ww_host_record_origin(ctx->meta, ctx->digest, &out->origin);
    char *source = (char *)(ctx->source_event_id ? ctx->source_event_id : "");
    char *trainer = (char *)(ctx->trainer_id ? ctx->trainer_id : "");
    if (f->kind == WW_USERS_FACT_BALANCE_CHANGED) {
        Wildworkouts__Events__V1__TrainingBalanceChanged *e = &out->u.changed;
        wildworkouts__events__v1__training_balance_changed__init(e);
        e->user_id = (char *)f->user_id;
        e->amount_change = f->amount_change;
        e->balance_after = f->balance_after;
        e->reason = reason_of(f->reason);
        e->training_uuid = (char *)f->training_uuid;
        e->source_event_id = source;
        e->command = &out->command;
        e->origin = &out->origin;
        e->trainer_id = trainer;
        return &e->base;
    }
    if (f->kind == WW_USERS_FACT_BALANCE_REJECTED) {
        Wildworkouts__Events__V1__TrainingBalanceRejected *e = &out->u.rejected;
        wildworkouts__events__v1__training_balance_rejected__init(e);
        e->user_id = (char *)f->user_id;
        e->amount_change = f->amount_change;
        e->balance = f->balance_after;
        e->reason = reason_of(f->reason);
        e->training_uuid = (char *)f->training_uuid;
        e->source_event_id = source;
        e->message = "balance cannot be smaller than 0";
        e->command = &out->command;
        e->origin = &out->origin;
        e->trainer_id = trainer;
        return &e->base;
    }
    return NULL;
}

/* The fields both facts share. */
static ww_code_t read_fact(ww_users_codec_fact_t *out, const char *user,
                           const char *uuid, int reason,
                           const Wildworkouts__Events__V1__CommandPosition *at,
                           const Wildworkouts__Events__V1__CommandOrigin *o,
                           ww_err_t *err) {
    ww_users_fact_t *f = &out->fact;
    f->reason = (ww_users_reason_t)reason;
    ww_code_t rc = ww_host_record_copy(f->user_id, sizeof f->user_id, user,
                                       "user_id", err);
    if (rc == WW_OK)
        rc = ww_host_record_copy(f->training_uuid, sizeof f->training_uuid,
                                 uuid, "training_uuid", err);
    if (rc != WW_OK) return rc;
    out->command_offset = at ? at->offset : -1;
    return ww_host_record_read_origin(o, out->caller, out->key, &out->origin,
                                      err);
}

ww_code_t ww_users_codec_decode(const ww_bus_event_t *ev,
                                ww_users_codec_fact_t *out, ww_err_t *err) {
    memset(out, 0, sizeof *out);
    const ProtobufCMessageDescriptor *d = ev->descriptor;
    if (d == &wildworkouts__events__v1__training_balance_changed__descriptor) {
        const Wildworkouts__Events__V1__TrainingBalanceChanged *e =
            (const void *)ev->payload;
        out->fact.kind = WW_USERS_FACT_BALANCE_CHANGED;
        out->fact.amount_change = e->amount_change;
        out->fact.balance_after = e->balance_after;
        return read_fact(out, e->user_id, e->training_uuid, e->reason,
                         e->command, e->origin, err);
    }
    if (d == &wildworkouts__events__v1__training_balance_rejected__descriptor) {
        const Wildworkouts__Events__V1__TrainingBalanceRejected *e =
            (const void *)ev->payload;
        out->fact.kind = WW_USERS_FACT_BALANCE_REJECTED;
        out->fact.amount_change = e->amount_change;
        out->fact.balance_after = e->balance;
        return read_fact(out, e->user_id, e->training_uuid, e->reason,
                         e->command, e->origin, err);
    }
    return ww_err_set(err, WW_ERR_NOT_FOUND, "%s is not a users fact",
                      d ? d->name : "(none)");
}
