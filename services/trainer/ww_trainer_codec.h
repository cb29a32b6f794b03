/*
 * ww_trainer_codec.h - the trainer's facts as the events of trainer.events
 * (schemas/wildworkouts/events/v1/trainer_events.proto) and back.
 *
 * Encoding fills a caller-owned ww_trainer_codec_event_t (no allocation):
 * the fact's fields, the trainer id (the record key), the position of the
 * command it decided and its CommandOrigin. Decoding checks every string
 * against the domain's limits, so a record that does not fit is refused
 * with a message (a reader skips it) instead of being cut.
 *
 * Pure functions; thread-safe.
 */
#ifndef WW_TRAINER_CODEC_H
#define WW_TRAINER_CODEC_H

#include <stdint.h>

#include "ww_bus_envelope.h"
#include "ww_dedup.h"
#include "ww_err.h"
#include "ww_schemas.h"
#include "ww_shard.h"
#include "ww_trainer_domain.h"
#include "ww_trainer_roster.h"

/* Storage for one encoded event (it points into itself and at `ctx`). */
typedef struct ww_trainer_codec_event {
    union {
        ProtobufCMessage base;
        Wildworkouts__Events__V1__HourAvailabilityChanged hour;
        Wildworkouts__Events__V1__TrainingScheduled scheduled;
        Wildworkouts__Events__V1__TrainingConfirmed confirmed;
        Wildworkouts__Events__V1__TrainingCanceled canceled;
        Wildworkouts__Events__V1__TrainingReleased released;
    } u;
    Google__Protobuf__Timestamp time, canceled_at;
    Wildworkouts__Events__V1__CommandPosition command;
    Wildworkouts__Events__V1__CommandOrigin origin;
} ww_trainer_codec_event_t;

/* What a fact's event carries besides the fact (all borrowed). */
typedef struct ww_trainer_codec_context {
    const char *trainer_id;
    int32_t partition; /* of the command decided */
    int64_t offset;
    const Wildworkouts__Events__V1__CommandMeta *meta; /* may be NULL */
    const uint8_t *digest; /* WW_DEDUP_DIGEST_LEN bytes, or NULL */
    const char *balance_event_id; /* TrainingConfirmed / TrainingReleased */
    const char *reason;           /* TrainingReleased */
} ww_trainer_codec_context_t;

/* The event of fact `f`, built in *out (valid while *out and ctx are). */
const ProtobufCMessage *
ww_trainer_codec_encode(const ww_trainer_fact_t *f,
                        const ww_trainer_codec_context_t *ctx,
                        ww_trainer_codec_event_t *out);

/* A fact read back from trainer.events, with what the shard records. */
typedef struct ww_trainer_codec_fact {
    ww_trainer_fact_t fact;
    char trainer_id[WW_TRAINER_ROSTER_ID_MAX + 1];
    int32_t partition;      /* of the command it decided */
    int64_t command_offset; /* -1 when the event carries none */
    char caller[WW_DEDUP_CALLER_MAX + 1];
    char key[WW_DEDUP_KEY_MAX + 1];
    ww_shard_origin_t origin; /* points at caller/key above */
} ww_trainer_codec_fact_t;

/* Reads a decoded trainer event (ww_bus_envelope_decode with the trainer
 * events' registry). INVALID_ARGUMENT naming the field that does not fit;
 * NOT_FOUND for a payload that is not a trainer fact. */
ww_code_t ww_trainer_codec_decode(const ww_bus_event_t *ev,
                                  ww_trainer_codec_fact_t *out,
                                  ww_err_t *err);

#endif
