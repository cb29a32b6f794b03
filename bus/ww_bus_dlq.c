/* ww_bus_dlq.c - dead-letter topic name, headers and truncated copies. */
#include "ww_bus_dlq.h"

#include "ww_clock.h"
#include "ww_rfc3339.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(rd_kafka_headers_t *h, const char *name, const char *value) {
    rd_kafka_header_add(h, name, -1, value, -1);
}

/* The record's own headers, or NULL. */
static rd_kafka_headers_t *orig_headers(const rd_kafka_message_t *rec) {
    rd_kafka_headers_t *orig = NULL;
    if (rd_kafka_message_headers(rec, &orig) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    return orig;
}

/* Bytes the headers take on the wire, with room for the varints. */
static size_t headers_bytes(const rd_kafka_headers_t *h, size_t *count) {
    size_t total = 0, n = 0;
    const char *name;
    const void *value;
    size_t len;
    while (h && !rd_kafka_header_get_all(h, n, &name, &value, &len)) {
        total += strlen(name) + len + 12;
        n++;
    }
    if (count) *count = n;
    return total;
}

/* The ww_dlq_* headers on `h`. */
static void add_dlq(rd_kafka_headers_t *h, const rd_kafka_message_t *rec,
                    const char *group, const char *reason, int attempts) {
    char num[32], when[40];
    add(h, WW_BUS_DLQ_H_REASON, reason ? reason : "");
    snprintf(num, sizeof num, "%d", attempts);
    add(h, WW_BUS_DLQ_H_ATTEMPTS, num);
    add(h, WW_BUS_DLQ_H_TOPIC, rd_kafka_topic_name(rec->rkt));
    snprintf(num, sizeof num, "%d", (int)rec->partition);
    add(h, WW_BUS_DLQ_H_PARTITION, num);
    snprintf(num, sizeof num, "%lld", (long long)rec->offset);
    add(h, WW_BUS_DLQ_H_OFFSET, num);
    add(h, WW_BUS_DLQ_H_GROUP, group ? group : "");
    ww_rfc3339_format_ms(ww_clock_wall_ms(), when, sizeof when);
    add(h, WW_BUS_DLQ_H_TIME, when);
}

rd_kafka_headers_t *ww_bus_dlq_headers(const rd_kafka_message_t *rec,
                                       const char *group, const char *reason,
                                       int attempts, char *dlq_topic,
                                       size_t size) {
    snprintf(dlq_topic, size, "%s" WW_BUS_DLQ_SUFFIX,
             rd_kafka_topic_name(rec->rkt));
    rd_kafka_headers_t *orig = orig_headers(rec);
    rd_kafka_headers_t *h =
        orig ? rd_kafka_headers_copy(orig) : rd_kafka_headers_new(8);
    add_dlq(h, rec, group, reason, attempts);
    return h;
}

void ww_bus_dlq_letter(const rd_kafka_message_t *rec, const char *group,
                       const char *reason, int attempts, size_t max_bytes,
                       bool truncate, ww_bus_dlq_letter_t *out) {
    memset(out, 0, sizeof *out);
    out->headers = ww_bus_dlq_headers(rec, group, reason, attempts, out->topic,
                                      sizeof out->topic);
    out->key = rec->key;
    out->key_len = rec->key_len;
    out->value = rec->payload;
    out->value_len = rec->len;
    size_t full = rec->key_len + rec->len + headers_bytes(out->headers, NULL);
    if (!truncate && full <= max_bytes) return;

    /* The truncated copy: bounded key, value and headers, and says so. */
    rd_kafka_headers_destroy(out->headers);
    size_t n_orig = 0;
    rd_kafka_headers_t *orig = orig_headers(rec);
    size_t orig_bytes = headers_bytes(orig, &n_orig);
    bool keep_headers = orig && orig_bytes <= WW_BUS_DLQ_TRUNCATED_HEADERS;
    out->headers =
        keep_headers ? rd_kafka_headers_copy(orig) : rd_kafka_headers_new(12);
    out->truncated = true;
    if (out->key_len > WW_BUS_DLQ_TRUNCATED_KEY)
        out->key_len = WW_BUS_DLQ_TRUNCATED_KEY;
    if (out->value_len > WW_BUS_DLQ_TRUNCATED_VALUE)
        out->value_len = WW_BUS_DLQ_TRUNCATED_VALUE;
    size_t why_len = (reason ? strlen(reason) : 0) + 200;
    char *why = malloc(why_len);
    if (why)
        snprintf(why, why_len,
                 "%s (dead letter truncated: value %zu of %zu bytes, key %zu "
                 "of %zu, %s; the full copy does not fit)",
                 reason ? reason : "", out->value_len, rec->len, out->key_len,
                 rec->key_len,
                 keep_headers ? "original headers kept"
                              : "original headers dropped");
    add_dlq(out->headers, rec, group, why ? why : reason, attempts);
    free(why);
    char num[32];
    add(out->headers, WW_BUS_DLQ_H_TRUNCATED, "true");
    snprintf(num, sizeof num, "%zu", rec->len);
    add(out->headers, WW_BUS_DLQ_H_ORIGINAL_BYTES, num);
    snprintf(num, sizeof num, "%zu", rec->key_len);
    add(out->headers, WW_BUS_DLQ_H_ORIGINAL_KEY_BYTES, num);
    snprintf(num, sizeof num, "%zu", n_orig);
    add(out->headers, WW_BUS_DLQ_H_ORIGINAL_HEADERS, num);
}

size_t ww_bus_dlq_max_bytes(rd_kafka_t *producer) {
    char buf[32];
    size_t len = sizeof buf;
    const rd_kafka_conf_t *conf = rd_kafka_conf(producer);
    if (!conf || rd_kafka_conf_get(conf, "message.max.bytes", buf, &len) !=
                     RD_KAFKA_CONF_OK)
        return 1000000;
    long v = strtol(buf, NULL, 10);
    return v > 0 ? (size_t)v : 1000000;
}
