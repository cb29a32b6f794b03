/*
 * test_bus_redrive.c - dead letters read back and sent back on the real
 * broker: a scan finds every dead letter with its ww_dlq_* headers; a
 * redrive re-appends the original record (key, value, original headers,
 * ww_redriven_from, its old partition) and a marker, so the dead letter
 * counts as redriven and a second redrive is refused; --all takes the rest
 * once; two redrives of one dead letter at once commit one copy; a
 * truncated dead letter is never sent back.
 */
#include "bus_txn_support.h"
#include "ww_bus_dlq.h"
#include "ww_bus_redrive.h"
#include "ww_bus_replay.h"
#include "ww_test.h"

#include <pthread.h>

/* Records read back from a topic (copies of what the handler saw). */
typedef struct seen {
    int n;
    char val[64][48], key[64][16], hdr_from[64][200], hdr_h1[64][16];
    int32_t part[64];
    int64_t off[64];
    int dlq_headers[64];
    /* dead-lettering: where to put a dead letter of each record seen */
    rd_kafka_t *dlq_producer;
} seen_t;

static void header_text(const rd_kafka_message_t *m, const char *name,
                        char *buf, size_t size) {
    rd_kafka_headers_t *h;
    const void *v;
    size_t n;
    buf[0] = '\0';
    if (!rd_kafka_message_headers(m, &h) &&
        !rd_kafka_header_get_last(h, name, &v, &n) && v)
        snprintf(buf, size, "%.*s", (int)n, (const char *)v);
}

static ww_code_t collect(void *opaque, const rd_kafka_message_t *m,
                         ww_err_t *err) {
    seen_t *s = opaque;
    if (s->n >= 64) return ww_err_set(err, WW_ERR_INTERNAL, "too many");
    int i = s->n++;
    snprintf(s->val[i], sizeof s->val[i], "%.*s", (int)m->len,
             (const char *)m->payload);
    snprintf(s->key[i], sizeof s->key[i], "%.*s", (int)m->key_len,
             (const char *)m->key);
    header_text(m, WW_BUS_REDRIVE_H_FROM, s->hdr_from[i],
                sizeof s->hdr_from[i]);
    header_text(m, "h1", s->hdr_h1[i], sizeof s->hdr_h1[i]);
    rd_kafka_headers_t *h;
    const char *name;
    const void *v;
    size_t n;
    if (!rd_kafka_message_headers(m, &h))
        for (size_t k = 0; !rd_kafka_header_get_all(h, k, &name, &v, &n); k++)
            if (strncmp(name, "ww_dlq_", 7) == 0) s->dlq_headers[i]++;
    s->part[i] = m->partition;
    s->off[i] = m->offset;
    if (s->dlq_producer) { /* as a group consumer giving up on it */
        char dlq[256];
        rd_kafka_headers_t *dh = ww_bus_dlq_headers(
            m, "test.group", "rejected by handler: x", 3, dlq, sizeof dlq);
        rd_kafka_resp_err_t e =
            rd_kafka_producev(s->dlq_producer, RD_KAFKA_V_TOPIC(dlq),
                              RD_KAFKA_V_PARTITION(m->partition),
                              RD_KAFKA_V_KEY(m->key, m->key_len),
                              RD_KAFKA_V_VALUE(m->payload, m->len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(dh), RD_KAFKA_V_END);
        if (e) return ww_err_set(err, WW_ERR_INTERNAL, "dlq produce");
    }
    return WW_OK;
}

static void read_all(ww_bus_config_t *bus, const char *topic, seen_t *s,
                     rd_kafka_t *dlq_producer) {
    memset(s, 0, sizeof *s);
    s->dlq_producer = dlq_producer;
    ww_bus_replay_config_t rc = {
        .topic = topic, .handler = collect, .opaque = s, .timeout_ms = 30000};
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_replay_run(bus, &rc, NULL, &err) == WW_OK,
                  "replay %s: %s", topic, err.msg);
}

/* `n` originals on `topic` (keys k<i>, header h1=v<i>), each dead-lettered
 * to `topic`.dlq with ww_bus_dlq_headers. */
static void dead_letters(ww_bus_config_t *bus, const char *topic, int n) {
    char dlq[256];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    bt_create_topic(topic, 3);
    bt_create_topic(dlq, 3);
    char errs[256];
    rd_kafka_t *p =
        rd_kafka_new(RD_KAFKA_PRODUCER, bt_conf(), errs, sizeof errs);
    WW_ASSERT(p);
    for (int i = 0; i < n; i++) {
        char key[16], val[32], h1[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "orig-%d", i);
        snprintf(h1, sizeof h1, "v%d", i);
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "h1", -1, h1, -1);
        WW_ASSERT(!rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                     RD_KAFKA_V_PARTITION(i % 3),
                                     RD_KAFKA_V_KEY(key, strlen(key)),
                                     RD_KAFKA_V_VALUE(val, strlen(val)),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END));
    }
    WW_ASSERT_EQ_INT(rd_kafka_flush(p, 30000), 0);
    seen_t *s = calloc(1, sizeof *s);
    read_all(bus, topic, s, p);
    WW_ASSERT_EQ_INT(s->n, n);
    WW_ASSERT_EQ_INT(rd_kafka_flush(p, 30000), 0);
    rd_kafka_destroy(p);
    free(s);
}

typedef struct done {
    int calls;
    char to_topic[256];
    int32_t to_partition;
    int64_t to_offset;
} done_t;

static void on_done(void *opaque, const ww_bus_redrive_letter_t *l,
                    const char *topic, int32_t p, int64_t o) {
    (void)l;
    done_t *d = opaque;
    d->calls++;
    snprintf(d->to_topic, sizeof d->to_topic, "%s", topic);
    d->to_partition = p;
    d->to_offset = o;
}

static int count_value(const seen_t *s, const char *val) {
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += strcmp(s->val[i], val) == 0;
    return n;
}

WW_TEST(scan_then_redrive_one_exactly_once_then_the_rest) {
    char topic[128], dlq[140];
    ww_test_unique_name(topic, sizeof topic, "redrive");
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    ww_bus_config_t *bus = bt_bus(NULL);
    dead_letters(bus, topic, 4);

    ww_bus_redrive_scan_t *scan;
    ww_err_t err = {0};
    WW_ASSERT_MSG(
        ww_bus_redrive_scan_new(bus, dlq, false, 30000, &scan, &err) == WW_OK,
        "scan: %s", err.msg);
    WW_ASSERT_EQ_INT(ww_bus_redrive_scan_count(scan), 4);
    const ww_bus_redrive_letter_t *l = ww_bus_redrive_scan_at(scan, 0);
    WW_ASSERT_EQ_STR(l->reason, "rejected by handler: x");
    WW_ASSERT_EQ_INT(l->attempts, 3);
    WW_ASSERT_EQ_STR(l->origin_topic, topic);
    WW_ASSERT_EQ_STR(l->group, "test.group");
    WW_ASSERT(l->origin_offset >= 0 && l->origin_partition >= 0);
    WW_ASSERT(!l->redriven && l->time[0]);
    /* the one to redrive: origin k1 (partition 1 of the topic) */
    const ww_bus_redrive_letter_t *one = NULL;
    for (size_t i = 0; i < 4; i++) {
        const ww_bus_redrive_letter_t *x = ww_bus_redrive_scan_at(scan, i);
        if (x->key_len == 2 && memcmp(x->key, "k1", 2) == 0) one = x;
    }
    WW_ASSERT(one && one->len == 6 && memcmp(one->value, "orig-1", 6) == 0);
    WW_ASSERT_EQ_INT(one->origin_partition, 1);
    int32_t dp = one->partition;
    int64_t doff = one->offset;
    ww_bus_redrive_scan_destroy(scan);

    done_t d = {0};
    ww_bus_redrive_config_t rc = {.dlq_topic = dlq,
                                  .partition = dp,
                                  .offset = doff,
                                  .timeout_ms = 30000,
                                  .on_redriven = on_done,
                                  .opaque = &d};
    ww_bus_redrive_stats_t st;
    WW_ASSERT_MSG(ww_bus_redrive_run(bus, &rc, &st, &err) == WW_OK,
                  "redrive: %s", err.msg);
    WW_ASSERT_EQ_INT(st.redriven, 1);
    WW_ASSERT_EQ_INT(st.dead_letters, 4);
    WW_ASSERT_EQ_INT(d.calls, 1);
    WW_ASSERT_EQ_STR(d.to_topic, topic);
    WW_ASSERT_EQ_INT(d.to_partition, 1); /* where it came from */

    seen_t *s = calloc(1, sizeof *s);
    read_all(bus, topic, s, NULL);
    WW_ASSERT_EQ_INT(s->n, 5);
    WW_ASSERT_EQ_INT(count_value(s, "orig-1"), 2);
    int copy = s->n - 1; /* the last record of partition 1 */
    for (int i = 0; i < s->n; i++)
        if (s->part[i] == 1 && s->off[i] == d.to_offset) copy = i;
    char from[200];
    snprintf(from, sizeof from, "%s/%d/%lld", dlq, (int)dp, (long long)doff);
    WW_ASSERT_EQ_STR(s->hdr_from[copy], from);
    WW_ASSERT_EQ_STR(s->hdr_h1[copy], "v1"); /* original headers kept */
    WW_ASSERT_EQ_STR(s->key[copy], "k1");
    WW_ASSERT_EQ_INT(s->dlq_headers[copy], 0); /* ww_dlq_* left out */

    /* The marker: the dead letter is redriven, the marker is no letter. */
    WW_ASSERT_EQ_INT(
        ww_bus_redrive_scan_new(bus, dlq, false, 30000, &scan, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_redrive_scan_count(scan), 4);
    WW_ASSERT_EQ_INT(ww_bus_redrive_scan_markers(scan), 1);
    l = ww_bus_redrive_scan_find(scan, dp, doff);
    WW_ASSERT(l && l->redriven);
    char to[200];
    snprintf(to, sizeof to, "%s/1/%lld", topic, (long long)d.to_offset);
    WW_ASSERT_EQ_STR(l->redriven_to, to);
    WW_ASSERT(l->redriven_at[0]);
    ww_bus_redrive_scan_destroy(scan);

    /* Again: refused, saying where it went; nothing more appended. */
    WW_ASSERT_EQ_INT(ww_bus_redrive_run(bus, &rc, &st, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(err.msg, "redriven already");
    WW_ASSERT_CONTAINS(err.msg, to);
    /* Without a partition: offset doff may be held by several. */
    rc.partition = -1;
    rc.offset = 999;
    WW_ASSERT_EQ_INT(ww_bus_redrive_run(bus, &rc, &st, &err), WW_ERR_NOT_FOUND);
    rc.offset = 0; /* each partition of the dlq has a letter at 0 */
    WW_ASSERT_EQ_INT(ww_bus_redrive_run(bus, &rc, &st, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "say which partition");

    /* --all: the three others, once. */
    rc.all = true;
    d.calls = 0;
    WW_ASSERT_MSG(ww_bus_redrive_run(bus, &rc, &st, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT_EQ_INT(st.redriven, 3);
    WW_ASSERT_EQ_INT(st.already_redriven, 1);
    WW_ASSERT_EQ_INT(d.calls, 3);
    WW_ASSERT_EQ_INT(ww_bus_redrive_run(bus, &rc, &st, &err), WW_OK);
    WW_ASSERT_EQ_INT(st.redriven, 0);
    WW_ASSERT_EQ_INT(st.already_redriven, 4);
    read_all(bus, topic, s, NULL);
    WW_ASSERT_EQ_INT(s->n, 8);
    for (int i = 0; i < 4; i++) {
        char v[32];
        snprintf(v, sizeof v, "orig-%d", i);
        WW_ASSERT_EQ_INT(count_value(s, v), 2);
    }
    rc.dlq_topic = topic; /* not a dead-letter topic */
    WW_ASSERT_EQ_INT(ww_bus_redrive_run(bus, &rc, &st, &err),
                     WW_ERR_INVALID_ARGUMENT);
    free(s);
    ww_bus_config_destroy(bus);
}

typedef struct racer {
    ww_bus_config_t *bus;
    ww_bus_redrive_config_t rc;
    ww_code_t code;
    ww_err_t err;
} racer_t;

static void *race(void *arg) {
    racer_t *r = arg;
    r->code = ww_bus_redrive_run(r->bus, &r->rc, NULL, &r->err);
    return NULL;
}

WW_TEST(two_redrives_at_once_commit_one_copy) {
    char topic[128], dlq[140];
    ww_test_unique_name(topic, sizeof topic, "redrive-race");
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    ww_bus_config_t *bus = bt_bus(NULL);
    dead_letters(bus, topic, 1);
    for (int round = 0; round < 3; round++) {
        racer_t r[2];
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            r[i] = (racer_t){
                .bus = bus,
                .rc = {.dlq_topic = dlq, .all = true, .timeout_ms = 30000}};
            WW_ASSERT(pthread_create(&th[i], NULL, race, &r[i]) == 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < 2; i++)
            WW_ASSERT_MSG(r[i].code == WW_OK ||
                              r[i].code == WW_ERR_FAILED_PRECONDITION,
                          "racer %d: %s", i, r[i].err.msg);
    }
    seen_t *s = calloc(1, sizeof *s);
    read_all(bus, topic, s, NULL);
    WW_ASSERT_EQ_INT(count_value(s, "orig-0"), 2); /* original + one copy */
    free(s);
    ww_bus_config_destroy(bus);
}

/* Dead-letters what it reads as a truncated copy (ww_bus_dlq_letter). */
static ww_code_t truncate_to_dlq(void *opaque, const rd_kafka_message_t *m,
                                 ww_err_t *err) {
    ww_bus_dlq_letter_t l;
    ww_bus_dlq_letter(m, "test.group", "undecodable: x", 0, 1000000, true, &l);
    if (rd_kafka_producev(opaque, RD_KAFKA_V_TOPIC(l.topic),
                          RD_KAFKA_V_PARTITION(m->partition),
                          RD_KAFKA_V_KEY((void *)l.key, l.key_len),
                          RD_KAFKA_V_VALUE((void *)l.value, l.value_len),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_HEADERS(l.headers), RD_KAFKA_V_END))
        return ww_err_set(err, WW_ERR_INTERNAL, "dlq produce");
    return WW_OK;
}

/* A truncated dead letter holds only the start of its record: sending it
 * back would replace the original by a cut copy, so it is refused alone
 * and left out (counted) by --all, and nothing reaches the topic. */
WW_TEST(a_truncated_dead_letter_is_not_sent_back) {
    char topic[128], dlq[140], errs[256];
    ww_test_unique_name(topic, sizeof topic, "redrive-cut");
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    ww_bus_config_t *bus = bt_bus(NULL);
    bt_create_topic(topic, 1);
    bt_create_topic(dlq, 1);
    enum { BIG = 100000 };
    char *big = malloc(BIG);
    WW_ASSERT(big);
    memset(big, 'b', BIG);
    rd_kafka_t *p =
        rd_kafka_new(RD_KAFKA_PRODUCER, bt_conf(), errs, sizeof errs);
    WW_ASSERT(p);
    WW_ASSERT(!rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_VALUE(big, BIG), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_END));
    WW_ASSERT_EQ_INT(rd_kafka_flush(p, 30000), 0);
    free(big);
    ww_bus_replay_config_t rc = {.topic = topic,
                                 .handler = truncate_to_dlq,
                                 .opaque = p,
                                 .timeout_ms = 30000};
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(bus, &rc, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(rd_kafka_flush(p, 30000), 0);
    rd_kafka_destroy(p);

    ww_bus_redrive_config_t one = {
        .dlq_topic = dlq, .partition = 0, .offset = 0, .timeout_ms = 30000};
    ww_code_t r1 = ww_bus_redrive_run(bus, &one, NULL, &err);
    char msg1[256];
    snprintf(msg1, sizeof msg1, "%s", err.msg);
    ww_bus_redrive_config_t all = {
        .dlq_topic = dlq, .all = true, .timeout_ms = 30000};
    ww_bus_redrive_stats_t st = {0};
    ww_code_t r2 = ww_bus_redrive_run(bus, &all, &st, &err);
    seen_t *s = calloc(1, sizeof *s);
    read_all(bus, topic, s, NULL);
    int n = s->n;
    free(s);
    ww_bus_config_destroy(bus);
    WW_ASSERT_EQ_INT(r1, WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(
        msg1, "is a truncated dead letter (65536 bytes of the value kept)");
    WW_ASSERT_MSG(r2 == WW_OK, "--all: %s", err.msg); /* left out, counted */
    WW_ASSERT_EQ_INT(st.truncated, 1);
    WW_ASSERT_EQ_INT(st.redriven, 0);
    WW_ASSERT_EQ_INT(n, 1); /* the original only */
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(scan_then_redrive_one_exactly_once_then_the_rest),
            WW_CASE(two_redrives_at_once_commit_one_copy),
            WW_CASE(a_truncated_dead_letter_is_not_sent_back),
            {0}});
}
