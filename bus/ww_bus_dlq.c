/* ww_bus_dlq.c - dead-letter topic name and headers. */
#include "ww_bus_dlq.h"

#include <stdio.h>

#include "ww_clock.h"
#include "ww_rfc3339.h"

static void add(rd_kafka_headers_t *h, const char *name, const char *value) {
    rd_kafka_header_add(h, name, -1, value, -1);
}

rd_kafka_headers_t *ww_bus_dlq_headers(const rd_kafka_message_t *rec,
                                       const char *group, const char *reason,
                                       int attempts, char *dlq_topic,
                                       size_t size) {
    const char *topic = rd_kafka_topic_name(rec->rkt);
    snprintf(dlq_topic, size, "%s" WW_BUS_DLQ_SUFFIX, topic);
    rd_kafka_headers_t *orig = NULL;
    rd_kafka_headers_t *h =
        rd_kafka_message_headers(rec, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR
            ? rd_kafka_headers_copy(orig)
            : rd_kafka_headers_new(8);
    char num[32], when[40];
    add(h, WW_BUS_DLQ_H_REASON, reason ? reason : "");
    snprintf(num, sizeof num, "%d", attempts);
    add(h, WW_BUS_DLQ_H_ATTEMPTS, num);
    add(h, WW_BUS_DLQ_H_TOPIC, topic);
    snprintf(num, sizeof num, "%d", (int)rec->partition);
    add(h, WW_BUS_DLQ_H_PARTITION, num);
    snprintf(num, sizeof num, "%lld", (long long)rec->offset);
    add(h, WW_BUS_DLQ_H_OFFSET, num);
    add(h, WW_BUS_DLQ_H_GROUP, group ? group : "");
    ww_rfc3339_format_ms(ww_clock_wall_ms(), when, sizeof when);
    add(h, WW_BUS_DLQ_H_TIME, when);
    return h;
}
