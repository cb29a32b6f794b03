/* ww_trainer_codec.c - trainer facts <-> trainer.events messages. */
#include "ww_trainer_codec.h"

#include <stdio.h>
#include <string.h>

#include "ww_host_record.h"

const ProtobufCMessage *
ww_trainer_codec_encode(const ww_trainer_fact_t *f,
                        const ww_trainer_codec_context_t *ctx,
                        ww_trainer_codec_event_t *out) {
    memset(out, 0, sizeof *out);
    google__protobuf__timestamp__init(&out->time);
    out->time.seconds = f->hour;
    wildworkouts__events__v1__command_position__init(&out->command);
    out->command.partition = ctx->partition;
    out->command.offset = ctx->offset;
    ww_host_record_origin(ctx->meta, ctx->digest, &out->origin);
    char *trainer = (char *)ctx->trainer_id;
    char *uuid = (char *)f->training_uuid, *user = (char *)f->user_id;
    char *balance_event =
        (char *)(ctx->balance_event_id ? ctx->balance_event_id : "");
    switch (f->kind) {
    case WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED: {
        Wildworkouts__Events__V1__HourAvailabilityChanged *e = &out->u.hour;
        wildworkouts__events__v1__hour_availability_changed__init(e);
        e->trainer_id = trainer;
        e->hour = &out->time;
        e->available = f->available;
        e->has_training_scheduled = f->has_training_scheduled;
        e->command = &out->command;
        e->origin = &out->origin;
        break;
    }
    case WW_TRAINER_FACT_TRAINING_SCHEDULED: {
        Wildworkouts__Events__V1__TrainingScheduled *e = &out->u.scheduled;
        wildworkouts__events__v1__training_scheduled__init(e);
        e->trainer_id = trainer;
        e->training_uuid = uuid;
        e->user_id = user;
        e->time = &out->time;
        e->notes = (char *)f->notes;
        e->command = &out->command;
        e->origin = &out->origin;
        break;
    }
    case WW_TRAINER_FACT_TRAINING_CONFIRMED: {
        Wildworkouts__Events__V1__TrainingConfirmed *e = &out->u.confirmed;
        wildworkouts__events__v1__training_confirmed__init(e);
        e->trainer_id = trainer;
        e->training_uuid = uuid;
        e->user_id = user;
        e->time = &out->time;
        e->balance_event_id = balance_event;
        e->command = &out->command;
        e->origin = &out->origin;
        break;
    }
    case WW_TRAINER_FACT_TRAINING_CANCELED: {
        Wildworkouts__Events__V1__TrainingCanceled *e = &out->u.canceled;
        wildworkouts__events__v1__training_canceled__init(e);
        e->trainer_id = trainer;
        e->training_uuid = uuid;
        e->user_id = user;
        e->time = &out->time;
        e->by_trainer = f->by_trainer;
        e->refund = f->balance_refund;
        if (ctx->meta && ctx->meta->issued_at) {
            out->canceled_at = *ctx->meta->issued_at;
            e->canceled_at = &out->canceled_at;
        }
        e->command = &out->command;
        e->origin = &out->origin;
        break;
    }
    case WW_TRAINER_FACT_TRAINING_RELEASED: {
        Wildworkouts__Events__V1__TrainingReleased *e = &out->u.released;
        wildworkouts__events__v1__training_released__init(e);
        e->trainer_id = trainer;
        e->training_uuid = uuid;
        e->user_id = user;
        e->time = &out->time;
        e->reason = (char *)(ctx->reason ? ctx->reason : "");
        e->balance_event_id = balance_event;
        e->command = &out->command;
        e->origin = &out->origin;
        break;
    }
    default:
        return NULL;
    }
    return &out->u.base;
}

static ww_code_t read_time(const Google__Protobuf__Timestamp *ts,
                           int64_t *seconds, ww_err_t *err) {
    if (!ts)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "the time is missing");
    *seconds = ts->seconds;
    return WW_OK;
}

/* The parts every trainer fact shares. */
static ww_code_t read_common(ww_trainer_codec_fact_t *out, const char *trainer,
                             const Wildworkouts__Events__V1__CommandPosition *at,
                             const Wildworkouts__Events__V1__CommandOrigin *o,
                             ww_err_t *err) {
    ww_code_t rc = ww_host_record_copy(out->trainer_id, sizeof out->trainer_id, trainer,
                        "trainer_id", err);
    if (rc != WW_OK) return rc;
    out->partition = at ? at->partition : -1;
    out->command_offset = at ? at->offset : -1;
    return ww_host_record_read_origin(o, out->caller, out->key, &out->origin,
                                      err);
}

/* The training fields lifecycle facts repeat. */
static ww_code_t read_training(ww_trainer_fact_t *f, const char *uuid,
                               const char *user,
                               const Google__Protobuf__Timestamp *time,
                               ww_err_t *err) {
    ww_code_t rc = ww_host_record_copy(f->training_uuid, sizeof f->training_uuid, uuid,
                        "training_uuid", err);
    if (rc == WW_OK)
        rc = ww_host_record_copy(f->user_id, sizeof f->user_id, user, "user_id", err);
    if (rc == WW_OK) rc = read_time(time, &f->hour, err);
    return rc;
}

ww_code_t ww_trainer_codec_decode(const ww_bus_event_t *ev,
                                  ww_trainer_codec_fact_t *out,
                                  ww_err_t *err) {
    memset(out, 0, sizeof *out);
    ww_trainer_fact_t *f = &out->fact;
    const ProtobufCMessageDescriptor *d = ev->descriptor;
    ww_code_t rc;
    if (d == &wildworkouts__events__v1__hour_availability_changed__descriptor) {
        const Wildworkouts__Events__V1__HourAvailabilityChanged *e =
            (const void *)ev->payload;
        f->kind = WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED;
        f->available = e->available;
        f->has_training_scheduled = e->has_training_scheduled;
        if ((rc = read_time(e->hour, &f->hour, err)) != WW_OK) return rc;
        return read_common(out, e->trainer_id, e->command, e->origin, err);
    }
    if (d == &wildworkouts__events__v1__training_scheduled__descriptor) {
        const Wildworkouts__Events__V1__TrainingScheduled *e =
            (const void *)ev->payload;
        f->kind = WW_TRAINER_FACT_TRAINING_SCHEDULED;
        if ((rc = read_training(f, e->training_uuid, e->user_id, e->time,
                                err)) != WW_OK ||
            (rc = ww_host_record_copy(f->notes, sizeof f->notes, e->notes, "notes", err)) !=
                WW_OK)
            return rc;
        return read_common(out, e->trainer_id, e->command, e->origin, err);
    }
    if (d == &wildworkouts__events__v1__training_confirmed__descriptor) {
        const Wildworkouts__Events__V1__TrainingConfirmed *e =
            (const void *)ev->payload;
        f->kind = WW_TRAINER_FACT_TRAINING_CONFIRMED;
        if ((rc = read_training(f, e->training_uuid, e->user_id, e->time,
                                err)) != WW_OK)
            return rc;
        return read_common(out, e->trainer_id, e->command, e->origin, err);
    }
    if (d == &wildworkouts__events__v1__training_canceled__descriptor) {
        const Wildworkouts__Events__V1__TrainingCanceled *e =
            (const void *)ev->payload;
        f->kind = WW_TRAINER_FACT_TRAINING_CANCELED;
        f->by_trainer = e->by_trainer;
        f->balance_refund = e->refund;
        if ((rc = read_training(f, e->training_uuid, e->user_id, e->time,
                                err)) != WW_OK)
            return rc;
        return read_common(out, e->trainer_id, e->command, e->origin, err);
    }
    if (d == &wildworkouts__events__v1__training_released__descriptor) {
        const Wildworkouts__Events__V1__TrainingReleased *e =
            (const void *)ev->payload;
        f->kind = WW_TRAINER_FACT_TRAINING_RELEASED;
        if ((rc = read_training(f, e->training_uuid, e->user_id, e->time,
                                err)) != WW_OK)
            return rc;
        return read_common(out, e->trainer_id, e->command, e->origin, err);
    }
    return ww_err_set(err, WW_ERR_NOT_FOUND, "%s is not a trainer fact",
                      d ? d->name : "(none)");
}
