/* ww_host_commands.c - commands appended without blocking, answered by
 * the reply with their correlation id. */
#include "ww_host_commands.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ww_bus_envelope.h"
#include "ww_bus_publisher.h"
#include "ww_bus_tail.h"
#include "ww_bus_uuid.h"
#include "ww_bus_waiters.h"
#include "ww_log.h"

struct ww_host_commands {
    ww_bus_publisher_t *pub;
    ww_bus_waiters_t *waiters;
    ww_bus_tail_t *replies;
    char *topic, *source;
};

/* One command in flight: referenced by its waiter and its delivery. */
typedef struct sent {
    atomic_int refs;
    ww_host_commands_t *c;
    ww_host_commands_fn fn;
    void *opaque;
    char id[WW_BUS_WAITERS_MAX_ID + 1];
} sent_t;

static void sent_unref(sent_t *s) {
    if (atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

/* The waiter's answer: a reply, a timeout or a shutdown. */
static void on_answer(void *opaque, ww_code_t code, const void *payload,
                      size_t len, const ww_err_t *err) {
    sent_t *s = opaque;
    if (code != WW_OK) {
        ww_err_t e = err ? *err : (ww_err_t){.code = code};
        if (code == WW_ERR_DEADLINE_EXCEEDED)
            ww_err_set(&e, code,
                       "no result in time: the outcome is unknown (retry with "
                       "the same idempotency-key)");
        s->fn(s->opaque, code, &e, NULL);
        sent_unref(s);
        return;
    }
    Wildworkouts__Events__V1__CommandResult *r =
        wildworkouts__events__v1__command_result__unpack(NULL, len, payload);
    if (!r) {
        ww_err_t e;
        ww_err_set(&e, WW_ERR_INTERNAL, "the command's result does not decode");
        s->fn(s->opaque, WW_ERR_INTERNAL, &e, NULL);
    } else {
        s->fn(s->opaque, WW_OK, NULL, r);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    sent_unref(s);
}

/* The producer's answer: only a failure matters (the reply follows a
 * success); if the waiter is still there, nobody will answer it. */
static void on_delivery(void *opaque, const ww_bus_delivery_t *d) {
    sent_t *s = opaque;
    if (d->code != WW_OK && ww_bus_waiters_withdraw(s->c->waiters, s->id)) {
        ww_err_t e;
        ww_err_set(&e, WW_ERR_UNAVAILABLE, "could not append the command: %s",
                   d->err ? d->err->msg : ww_code_name(d->code));
        s->fn(s->opaque, WW_ERR_UNAVAILABLE, &e, NULL);
        sent_unref(s); /* the waiter's reference */
    }
    sent_unref(s);
}

/* Replies reader: the correlation id is a header, so replies for other
 * instances are dropped without decoding them. */
static ww_code_t on_reply(void *opaque, const rd_kafka_message_t *rec,
                          ww_err_t *err) {
    (void)err;
    ww_host_commands_t *c = opaque;
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t n = 0;
    if (rd_kafka_message_headers(rec, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, WW_BUS_H_CORRELATION_ID, &v, &n) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        n == 0 || n > WW_BUS_WAITERS_MAX_ID)
        return WW_OK; /* not ours to answer */
    char id[WW_BUS_WAITERS_MAX_ID + 1];
    memcpy(id, v, n);
    id[n] = '\0';
    ww_bus_waiters_complete(c->waiters, id, rec->payload, rec->len);
    return WW_OK;
}

static void on_idle(void *opaque) {
    ww_host_commands_t *c = opaque;
    ww_bus_waiters_sweep(c->waiters);
}

ww_code_t ww_host_commands_new(const ww_bus_config_t *bus,
                               const char *commands_topic,
                               const char *replies_topic, const char *source,
                               ww_host_commands_t **out, ww_err_t *err) {
    *out = NULL;
    ww_host_commands_t *c = calloc(1, sizeof *c);
    if (!c) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    c->topic = strdup(commands_topic);
    c->source = strdup(source);
    c->waiters = ww_bus_waiters_new();
    ww_code_t rc = WW_OK;
    if (!c->topic || !c->source || !c->waiters) {
        rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    /* A command waits for no batch: a caller is blocked on it. */
    ww_bus_config_t *cfg = ww_bus_config_dup(bus);
    if (!cfg ||
        (rc = ww_bus_config_set(cfg, "linger.ms", "1", err)) != WW_OK) {
        if (!cfg) rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "no memory");
        ww_bus_config_destroy(cfg);
        goto fail;
    }
    c->pub = ww_bus_publisher_new(cfg, err);
    ww_bus_config_destroy(cfg);
    if (!c->pub) {
        rc = err ? err->code : WW_ERR_INTERNAL;
        goto fail;
    }
    ww_bus_tail_config_t tc = {.topic = replies_topic,
                               .handler = on_reply,
                               .opaque = c,
                               .from_end = true,
                               .on_idle = on_idle};
    if ((rc = ww_bus_tail_start(bus, &tc, &c->replies, err)) != WW_OK)
        goto fail;
    *out = c;
    return WW_OK;
fail:
    ww_host_commands_destroy(c);
    return rc;
}

ww_code_t ww_host_commands_new_id(char *buf, ww_err_t *err) {
    return ww_bus_uuid4(buf, err);
}

ww_code_t ww_host_commands_send(ww_host_commands_t *c, const char *key,
                                const ProtobufCMessage *cmd,
                                const char *correlation_id, int timeout_ms,
                                ww_host_commands_fn fn, void *opaque,
                                ww_err_t *err) {
    if (!correlation_id || !*correlation_id ||
        strlen(correlation_id) > WW_BUS_WAITERS_MAX_ID || !fn || !key)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "a command needs a key, a correlation id and a "
                          "callback");
    sent_t *s = calloc(1, sizeof *s);
    if (!s) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    atomic_init(&s->refs, 2); /* the waiter and the delivery */
    s->c = c;
    s->fn = fn;
    s->opaque = opaque;
    memcpy(s->id, correlation_id, strlen(correlation_id) + 1);
    ww_code_t rc = ww_bus_waiters_register_async(c->waiters, correlation_id,
                                                 timeout_ms, on_answer, s, err);
    if (rc != WW_OK) {
        free(s);
        return rc;
    }
    ww_bus_envelope_meta_t meta = {.source = c->source,
                                   .correlation_id = correlation_id};
    rc = ww_bus_publisher_publish_nowait(c->pub, c->topic, key, strlen(key),
                                         cmd, &meta, on_delivery, s, NULL,
                                         err);
    if (rc != WW_OK) {
        if (ww_bus_waiters_withdraw(c->waiters, correlation_id))
            free(s);
        else
            sent_unref(s); /* answered meanwhile (a shutdown); no delivery */
        return rc;
    }
    return WW_OK;
}

void ww_host_commands_destroy(ww_host_commands_t *c) {
    if (!c) return;
    if (c->waiters)
        ww_bus_waiters_fail_all(c->waiters, WW_ERR_CANCELLED,
                                "the service is stopping");
    ww_bus_tail_destroy(c->replies);
    if (c->pub) {
        ww_err_t e;
        ww_bus_publisher_close(c->pub, 2000, &e);
        ww_bus_publisher_destroy(c->pub);
    }
    ww_bus_waiters_destroy(c->waiters);
    free(c->topic);
    free(c->source);
    free(c);
}
