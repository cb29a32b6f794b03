/*
 * ww_users_codec.h - the users' facts as the events of users.events
 * (schemas/wildworkouts/events/v1/users_events.proto) and back.
 *
 * Encoding fills a caller-owned ww_users_codec_event_t (no allocation);
 * decoding checks every string against the domain's limits and refuses a
 * record that does not fit (a reader skips it). Pure; thread-safe.
 */
#ifndef WW_USERS_CODEC_H
#define WW_USERS_CODEC_H

#include <stdint.h>

#include "ww_bus_envelope.h"
#include "ww_dedup.h"
#include "ww_err.h"
#include "ww_schemas.h"
#include "ww_shard.h"
#include "ww_users_domain.h"

/* Storage for one encoded event (it points into itself and at `ctx`). */
typedef struct ww_users_codec_event {
    union {
        ProtobufCMessage base;
        Wildworkouts__Events__V1__TrainingBalanceChanged changed;
        Wildworkouts__Events__V1__TrainingBalanceRejected rejected;
    } u;
    Wildworkouts__Events__V1__CommandPosition command;
    Wildworkouts__Events__V1__CommandOrigin origin;
} ww_users_codec_event_t;

/* What a fact's event carries besides the fact (all borrowed). */
typedef struct ww_users_codec_context {
    int32_t partition; /* of the command decided */
    int64_t offset;
    const Wildworkouts__Events__V1__CommandMeta *meta; /* may be NULL */
    const uint8_t *digest; /* WW_DEDUP_DIGEST_LEN bytes, or NULL */
    const char *source_event_id; /* debits and refunds */
    const char *trainer_id;      /* debits and refunds */
} ww_users_codec_context_t;

const ProtobufCMessage *ww_users_codec_encode(const ww_users_fact_t *f,
                                              const ww_users_codec_context_t *ctx,
                                              ww_users_codec_event_t *out);

/* A fact read back from users.events, with what the shard records. */
typedef struct ww_users_codec_fact {
    ww_users_fact_t fact;
    int64_t command_offset; /* -1 when the event carries none */
    char caller[WW_DEDUP_CALLER_MAX + 1];
    char key[WW_DEDUP_KEY_MAX + 1];
    ww_shard_origin_t origin; /* points at caller/key above */
} ww_users_codec_fact_t;

/* Reads a decoded users event. INVALID_ARGUMENT naming what does not fit;
 * NOT_FOUND for a payload that is not a users fact. */
ww_code_t ww_users_codec_decode(const ww_bus_event_t *ev,
                                ww_users_codec_fact_t *out, ww_err_t *err);

#endif
