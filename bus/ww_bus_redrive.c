/* ww_bus_redrive.c - dead letters read back and sent back, at most once. */
#include "ww_bus_redrive.h"

#include "ww_bus_dlq.h"
#include "ww_bus_err.h"
#include "ww_bus_offsets.h"
#include "ww_bus_replay.h"
#include "ww_clock.h"
#include "ww_rfc3339.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_TIMEOUT_MS = 30000 };

/* A dead letter with the storage its public view points into. */
typedef struct letter {
    ww_bus_redrive_letter_t pub;
    void *key, *value;
    rd_kafka_headers_t *headers;
    char *reason, *origin_topic, *group, *time, *redriven_to, *redriven_at;
} letter_t;

/* A redrive marker: which dead letter, where its copy went, when. */
typedef struct marker {
    int32_t partition;
    int64_t offset;
    char *to, *at;
} marker_t;

struct ww_bus_redrive_scan {
    const char *topic;
    letter_t *letters;
    size_t n, cap;
    marker_t *markers;
    size_t n_markers, cap_markers;
    bool oom;
};

/* ---------- reading ---------- */

/* The last value of header `name` as a new string ("" when absent); NULL
 * only when memory runs out. */
static char *header_dup(const rd_kafka_headers_t *h, const char *name) {
    const void *v = NULL;
    size_t size = 0;
    if (!h || rd_kafka_header_get_last(h, name, &v, &size) || !v)
        return strdup("");
    return strndup(v, size);
}

static bool parse_i64(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end) return false;
    *out = v;
    return true;
}

/* "<topic>/<partition>/<offset>" naming a record of `topic`. */
static bool parse_position(const char *s, const char *topic, int32_t *p,
                           int64_t *o) {
    size_t tl = strlen(topic);
    if (strncmp(s, topic, tl) != 0 || s[tl] != '/') return false;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s + tl + 1);
    char *slash = strchr(buf, '/');
    if (!slash) return false;
    *slash = '\0';
    int64_t part;
    if (!parse_i64(buf, &part) || part < 0 || part > INT32_MAX ||
        !parse_i64(slash + 1, o) || *o < 0)
        return false;
    *p = (int32_t)part;
    return true;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t size) {
    if (n < *cap) return true;
    size_t c = *cap ? *cap * 2 : 16;
    void *a = realloc(*arr, c * size);
    if (!a) return false;
    *arr = a;
    *cap = c;
    return true;
}

static ww_code_t add_marker(ww_bus_redrive_scan_t *s,
                            const rd_kafka_headers_t *h, const char *of) {
    marker_t m = {0};
    if (!parse_position(of, s->topic, &m.partition, &m.offset))
        return WW_OK; /* names another topic, or garbled: not ours */
    if (!grow((void **)&s->markers, &s->cap_markers, s->n_markers, sizeof m) ||
        !(m.to = header_dup(h, WW_BUS_REDRIVE_H_TO)) ||
        !(m.at = header_dup(h, WW_BUS_REDRIVE_H_TIME))) {
        free(m.to);
        s->oom = true;
        return WW_ERR_RESOURCE_EXHAUSTED;
    }
    s->markers[s->n_markers++] = m;
    return WW_OK;
}

static ww_code_t collect(void *opaque, const rd_kafka_message_t *m,
                         ww_err_t *err) {
    ww_bus_redrive_scan_t *s = opaque;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h)) h = NULL;
    const void *of = NULL;
    size_t of_len = 0;
    if (h && !rd_kafka_header_get_last(h, WW_BUS_REDRIVE_H_OF, &of, &of_len) &&
        of) {
        char pos[600];
        snprintf(pos, sizeof pos, "%.*s", (int)of_len, (const char *)of);
        if (add_marker(s, h, pos) != WW_OK)
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return WW_OK;
    }
    if (!grow((void **)&s->letters, &s->cap, s->n, sizeof *s->letters)) {
        s->oom = true;
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    letter_t *l = &s->letters[s->n++];
    memset(l, 0, sizeof *l);
    l->pub.partition = m->partition;
    l->pub.offset = m->offset;
    l->pub.timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    l->pub.key_len = m->key ? m->key_len : 0;
    l->pub.len = m->payload ? m->len : 0;
    if (m->key && (l->key = malloc(m->key_len ? m->key_len : 1)))
        memcpy(l->key, m->key, m->key_len);
    if (m->payload && (l->value = malloc(m->len ? m->len : 1)))
        memcpy(l->value, m->payload, m->len);
    if (h) l->headers = rd_kafka_headers_copy(h);
    l->reason = header_dup(h, WW_BUS_DLQ_H_REASON);
    l->origin_topic = header_dup(h, WW_BUS_DLQ_H_TOPIC);
    l->group = header_dup(h, WW_BUS_DLQ_H_GROUP);
    l->time = header_dup(h, WW_BUS_DLQ_H_TIME);
    char *num[3] = {header_dup(h, WW_BUS_DLQ_H_ATTEMPTS),
                    header_dup(h, WW_BUS_DLQ_H_PARTITION),
                    header_dup(h, WW_BUS_DLQ_H_OFFSET)};
    int64_t v[3] = {-1, -1, -1};
    for (int i = 0; i < 3; i++) {
        if (!num[i] || !parse_i64(num[i], &v[i]) || v[i] < 0 ||
            (i < 2 && v[i] > INT32_MAX))
            v[i] = -1;
        free(num[i]);
    }
    l->pub.attempts = (int)v[0];
    l->pub.origin_partition = (int32_t)v[1];
    l->pub.origin_offset = v[2];
    if ((m->key && !l->key) || (m->payload && !l->value) ||
        (h && !l->headers) || !l->reason || !l->origin_topic || !l->group ||
        !l->time) {
        s->oom = true;
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    return WW_OK;
}

static int by_position(const void *a, const void *b) {
    const letter_t *x = a, *y = b;
    if (x->pub.partition != y->pub.partition)
        return x->pub.partition < y->pub.partition ? -1 : 1;
    return x->pub.offset < y->pub.offset ? -1 : x->pub.offset > y->pub.offset;
}

static letter_t *find(ww_bus_redrive_scan_t *s, int32_t p, int64_t o) {
    letter_t key = {.pub = {.partition = p, .offset = o}};
    return bsearch(&key, s->letters, s->n, sizeof *s->letters, by_position);
}

/* Sorts, matches markers (the first one naming a letter wins) and points
 * the public views at their storage. */
static void finish_scan(ww_bus_redrive_scan_t *s) {
    if (s->n) qsort(s->letters, s->n, sizeof *s->letters, by_position);
    for (size_t i = 0; i < s->n_markers; i++) {
        letter_t *l = find(s, s->markers[i].partition, s->markers[i].offset);
        if (!l || l->redriven_to) continue;
        l->redriven_to = s->markers[i].to;
        l->redriven_at = s->markers[i].at;
        s->markers[i].to = s->markers[i].at = NULL; /* moved */
    }
    for (size_t i = 0; i < s->n; i++) {
        letter_t *l = &s->letters[i];
        ww_bus_redrive_letter_t *p = &l->pub;
        p->key = l->key;
        p->value = l->value;
        p->headers = l->headers;
        p->reason = l->reason;
        p->origin_topic = l->origin_topic;
        p->group = l->group;
        p->time = l->time;
        p->redriven = l->redriven_to != NULL;
        p->redriven_to = l->redriven_to ? l->redriven_to : "";
        p->redriven_at = l->redriven_at ? l->redriven_at : "";
    }
}

void ww_bus_redrive_scan_destroy(ww_bus_redrive_scan_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        letter_t *l = &s->letters[i];
        free(l->key);
        free(l->value);
        if (l->headers) rd_kafka_headers_destroy(l->headers);
        free(l->reason);
        free(l->origin_topic);
        free(l->group);
        free(l->time);
        free(l->redriven_to);
        free(l->redriven_at);
    }
    for (size_t i = 0; i < s->n_markers; i++) {
        free(s->markers[i].to);
        free(s->markers[i].at);
    }
    free(s->letters);
    free(s->markers);
    free((char *)s->topic);
    free(s);
}

ww_code_t ww_bus_redrive_scan_new(const ww_bus_config_t *cfg,
                                  const char *dlq_topic, bool settled,
                                  int timeout_ms, ww_bus_redrive_scan_t **out,
                                  ww_err_t *err) {
    *out = NULL;
    if (!cfg || !dlq_topic || !*dlq_topic || timeout_ms < 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "redrive scan: settings and a topic are required");
    ww_bus_redrive_scan_t *s = calloc(1, sizeof *s);
    if (!s || !(s->topic = strdup(dlq_topic))) {
        free(s);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    ww_bus_replay_config_t rc = {.topic = dlq_topic,
                                 .handler = collect,
                                 .opaque = s,
                                 .timeout_ms = timeout_ms,
                                 .settled = settled};
    ww_code_t code = ww_bus_replay_run(cfg, &rc, NULL, err);
    if (code != WW_OK) {
        ww_bus_redrive_scan_destroy(s);
        return code;
    }
    finish_scan(s);
    *out = s;
    return WW_OK;
}

size_t ww_bus_redrive_scan_count(const ww_bus_redrive_scan_t *s) {
    return s ? s->n : 0;
}

const ww_bus_redrive_letter_t *
ww_bus_redrive_scan_at(const ww_bus_redrive_scan_t *s, size_t i) {
    return s && i < s->n ? &s->letters[i].pub : NULL;
}

const ww_bus_redrive_letter_t *
ww_bus_redrive_scan_find(const ww_bus_redrive_scan_t *s, int32_t partition,
                         int64_t offset) {
    letter_t *l =
        s ? find((ww_bus_redrive_scan_t *)s, partition, offset) : NULL;
    return l ? &l->pub : NULL;
}

size_t ww_bus_redrive_scan_markers(const ww_bus_redrive_scan_t *s) {
    return s ? s->n_markers : 0;
}

/* ---------- sending back ---------- */

/* What the delivery report of one produced record said. */
typedef struct slot {
    bool done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
} slot_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque) {
    (void)rk;
    (void)opaque;
    slot_t *s = m->_private;
    if (!s) return;
    s->done = true;
    s->err = m->err;
    s->partition = m->partition;
    s->offset = m->offset;
}

/* One redrive: its client, the letters it sends and their reports. */
typedef struct run {
    const ww_bus_redrive_config_t *rc;
    int timeout_ms;
    char *origin;   /* the dead-letter topic without ".dlq" */
    char txid[512]; /* "<dlq topic>.redrive" */
    ww_bus_config_t *bus;
    rd_kafka_t *rk;
    ww_bus_redrive_scan_t *scan;
    const ww_bus_redrive_letter_t **pick;
    size_t n_pick;
    slot_t *copies, *markers;
    int origin_partitions;
} run_t;

static bool is_fencing(rd_kafka_resp_err_t ec) {
    return ec == RD_KAFKA_RESP_ERR__FENCED ||
           ec == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           ec == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

static ww_code_t fenced(const run_t *r, const char *detail, ww_err_t *err) {
    return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                      "another redrive of %s took over (%s): nothing of this "
                      "one is committed",
                      r->rc->dlq_topic, detail);
}

/* A produce that failed because the handle was fenced says so; any other
 * failure keeps `code`. */
static ww_code_t unless_fenced(const run_t *r, ww_code_t code, ww_err_t *err) {
    char why[256];
    rd_kafka_resp_err_t ec = rd_kafka_fatal_error(r->rk, why, sizeof why);
    return is_fencing(ec) ? fenced(r, why, err) : code;
}

/* rd_kafka_error_t (taken) to err; WW_OK for NULL. */
static ww_code_t txn_step(rd_kafka_error_t *e, const char *what, run_t *r,
                          ww_err_t *err) {
    if (!e) return WW_OK;
    char op[600];
    snprintf(op, sizeof op, "%s (transactional id %s)", what, r->txid);
    ww_code_t code = ww_bus_err_from_error(e, op, NULL, err);
    if (is_fencing(rd_kafka_error_code(e)))
        code = fenced(r, rd_kafka_error_string(e), err);
    rd_kafka_error_destroy(e);
    return code;
}

static ww_code_t open_producer(run_t *r, const ww_bus_config_t *cfg,
                               ww_err_t *err) {
    snprintf(r->txid, sizeof r->txid, "%s.redrive", r->rc->dlq_topic);
    r->bus = ww_bus_config_dup(cfg);
    if (!r->bus)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    /* One transactional id per dead-letter topic, whoever redrives: the
     * instance id only satisfies the conf builder, the id is set outright. */
    ww_code_t code = ww_bus_config_set_instance_id(r->bus, "redrive", err);
    if (!code)
        code = ww_bus_config_set(r->bus, "transactional.id", r->txid, err);
    if (code) return code;
    rd_kafka_conf_t *conf =
        ww_bus_config_transactional_conf(r->bus, "redrive", err);
    if (!conf) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    r->rk = ww_bus_config_client_new(RD_KAFKA_PRODUCER, conf,
                                     "redrive producer", err);
    if (!r->rk) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    /* Fences an earlier redrive of this topic and completes its
     * transaction, so the scan after this sees all it committed. */
    return txn_step(rd_kafka_init_transactions(r->rk, r->timeout_ms),
                    "init transactions", r, err);
}

/* Checks that a letter came from the topic this dead-letter topic is for. */
static ww_code_t check_origin(const run_t *r, const ww_bus_redrive_letter_t *l,
                              ww_err_t *err) {
    if (!*l->origin_topic || strcmp(l->origin_topic, r->origin) == 0)
        return WW_OK;
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                      "%s/%d/%lld names topic %s, not %s: not redriven",
                      r->rc->dlq_topic, (int)l->partition, (long long)l->offset,
                      l->origin_topic, r->origin);
}

/* A truncated dead letter (ww_bus_dlq.h) holds only the start of its
 * record: sending it back would replace the original by a cut copy. */
static bool truncated(const ww_bus_redrive_letter_t *l) {
    const void *v = NULL;
    size_t size = 0;
    return l->headers &&
           !rd_kafka_header_get_last(l->headers, WW_BUS_DLQ_H_TRUNCATED, &v,
                                     &size) &&
           v && size == 4 && !memcmp(v, "true", 4);
}

static ww_code_t refuse_truncated(const run_t *r,
                                  const ww_bus_redrive_letter_t *l,
                                  ww_err_t *err) {
    return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                      "%s/%d/%lld is a truncated dead letter (%zu bytes of "
                      "the value kept): the original cannot be sent back",
                      r->rc->dlq_topic, (int)l->partition, (long long)l->offset,
                      l->len);
}

static ww_code_t select_letters(run_t *r, ww_bus_redrive_stats_t *st,
                                ww_err_t *err) {
    size_t n = ww_bus_redrive_scan_count(r->scan);
    r->pick = calloc(n ? n : 1, sizeof *r->pick);
    if (!r->pick)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    const ww_bus_redrive_config_t *rc = r->rc;
    const ww_bus_redrive_letter_t *one = NULL;
    int holders = 0;
    for (size_t i = 0; i < n; i++) {
        const ww_bus_redrive_letter_t *l = ww_bus_redrive_scan_at(r->scan, i);
        st->dead_letters++;
        if (l->redriven) st->already_redriven++;
        if (rc->all) {
            if (l->redriven) continue;
            if (truncated(l)) {
                st->truncated++;
                continue;
            }
            ww_code_t code = check_origin(r, l, err);
            if (code) return code;
            r->pick[r->n_pick++] = l;
        } else if (l->offset == rc->offset &&
                   (rc->partition < 0 || l->partition == rc->partition)) {
            one = l;
            holders++;
        }
    }
    if (rc->all) return WW_OK;
    if (holders == 0)
        return ww_err_set(
            err, WW_ERR_NOT_FOUND, "%s holds no dead letter at offset %lld%s",
            rc->dlq_topic, (long long)rc->offset,
            rc->partition < 0 ? " in any partition" : " of that partition");
    if (holders > 1)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%d partitions of %s hold a dead letter at offset "
                          "%lld: say which partition",
                          holders, rc->dlq_topic, (long long)rc->offset);
    if (one->redriven)
        return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                          "%s/%d/%lld was redriven already, to %s at %s",
                          rc->dlq_topic, (int)one->partition,
                          (long long)one->offset, one->redriven_to,
                          one->redriven_at);
    if (truncated(one)) return refuse_truncated(r, one, err);
    ww_code_t code = check_origin(r, one, err);
    if (code) return code;
    r->pick[r->n_pick++] = one;
    return WW_OK;
}

/* The original headers of a dead letter (ww_dlq_* and an older
 * ww_redriven_from left out) plus ww_redriven_from = `from`. */
static rd_kafka_headers_t *copy_headers(const ww_bus_redrive_letter_t *l,
                                        const char *from) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(16);
    const char *name;
    const void *v;
    size_t size;
    for (size_t i = 0; l->headers && !rd_kafka_header_get_all(l->headers, i,
                                                              &name, &v, &size);
         i++) {
        if (strncmp(name, WW_BUS_DLQ_H_PREFIX,
                    sizeof WW_BUS_DLQ_H_PREFIX - 1) == 0 ||
            strcmp(name, WW_BUS_REDRIVE_H_FROM) == 0)
            continue;
        rd_kafka_header_add(h, name, -1, v, v ? (ssize_t)size : 0);
    }
    rd_kafka_header_add(h, WW_BUS_REDRIVE_H_FROM, -1, from, -1);
    return h;
}

static ww_code_t produce(run_t *r, const char *topic, int32_t partition,
                         const ww_bus_redrive_letter_t *l, const void *value,
                         size_t len, rd_kafka_headers_t *h, slot_t *slot,
                         ww_err_t *err) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        r->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(l->key, l->key_len),
        RD_KAFKA_V_VALUE((void *)value, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
    if (!e) return WW_OK;
    rd_kafka_headers_destroy(h);
    char what[600];
    snprintf(what, sizeof what, "produce to %s", topic);
    return unless_fenced(r, ww_bus_err_from_resp(e, what, err), err);
}

/* Waits for the reports of `n` records in `slots`. */
static ww_code_t delivered(run_t *r, slot_t *slots, size_t n, const char *topic,
                           ww_err_t *err) {
    rd_kafka_flush(r->rk, r->timeout_ms);
    for (size_t i = 0; i < n; i++) {
        char what[600];
        snprintf(what, sizeof what, "produce to %s", topic);
        if (!slots[i].done)
            return ww_err_set(err, WW_ERR_DEADLINE_EXCEEDED,
                              "%s: no delivery report within %d ms", what,
                              r->timeout_ms);
        ww_code_t c =
            ww_bus_err_from_delivery(slots[i].err, slots[i].offset, what, err);
        if (c) return unless_fenced(r, c, err);
    }
    return WW_OK;
}

/* The copies, then the markers naming where each copy went, then the
 * commit; an abort on any failure. */
static ww_code_t send_back(run_t *r, ww_err_t *err) {
    r->copies = calloc(r->n_pick, sizeof *r->copies);
    r->markers = calloc(r->n_pick, sizeof *r->markers);
    if (!r->copies || !r->markers)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    ww_code_t code = txn_step(rd_kafka_begin_transaction(r->rk),
                              "begin transaction", r, err);
    if (code) return code;
    const char *dlq = r->rc->dlq_topic;
    char pos[600], to[600], when[40];
    for (size_t i = 0; i < r->n_pick && !code; i++) {
        const ww_bus_redrive_letter_t *l = r->pick[i];
        snprintf(pos, sizeof pos, "%s/%d/%lld", dlq, (int)l->partition,
                 (long long)l->offset);
        int32_t p = l->origin_partition >= 0 &&
                            l->origin_partition < r->origin_partitions
                        ? l->origin_partition
                        : RD_KAFKA_PARTITION_UA;
        code = produce(r, r->origin, p, l, l->value, l->len,
                       copy_headers(l, pos), &r->copies[i], err);
    }
    if (!code) code = delivered(r, r->copies, r->n_pick, r->origin, err);
    ww_rfc3339_format_ms(ww_clock_wall_ms(), when, sizeof when);
    for (size_t i = 0; i < r->n_pick && !code; i++) {
        const ww_bus_redrive_letter_t *l = r->pick[i];
        snprintf(pos, sizeof pos, "%s/%d/%lld", dlq, (int)l->partition,
                 (long long)l->offset);
        snprintf(to, sizeof to, "%s/%d/%lld", r->origin,
                 (int)r->copies[i].partition, (long long)r->copies[i].offset);
        rd_kafka_headers_t *h = rd_kafka_headers_new(3);
        rd_kafka_header_add(h, WW_BUS_REDRIVE_H_OF, -1, pos, -1);
        rd_kafka_header_add(h, WW_BUS_REDRIVE_H_TO, -1, to, -1);
        rd_kafka_header_add(h, WW_BUS_REDRIVE_H_TIME, -1, when, -1);
        code =
            produce(r, dlq, l->partition, l, NULL, 0, h, &r->markers[i], err);
    }
    if (!code) code = delivered(r, r->markers, r->n_pick, dlq, err);
    if (!code)
        code = txn_step(rd_kafka_commit_transaction(r->rk, r->timeout_ms),
                        "commit", r, err);
    if (code) {
        rd_kafka_error_t *e = rd_kafka_abort_transaction(r->rk, r->timeout_ms);
        if (e) rd_kafka_error_destroy(e);
    }
    return code;
}

ww_code_t ww_bus_redrive_run(const ww_bus_config_t *cfg,
                             const ww_bus_redrive_config_t *rc,
                             ww_bus_redrive_stats_t *stats, ww_err_t *err) {
    ww_bus_redrive_stats_t local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    size_t sl = sizeof WW_BUS_DLQ_SUFFIX - 1;
    size_t tl = rc && rc->dlq_topic ? strlen(rc->dlq_topic) : 0;
    if (!cfg || !rc || tl <= sl || rc->timeout_ms < 0 ||
        strcmp(rc->dlq_topic + tl - sl, WW_BUS_DLQ_SUFFIX) != 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "redrive: a dead-letter topic (<topic>%s) is "
                          "required",
                          WW_BUS_DLQ_SUFFIX);
    run_t r = {.rc = rc,
               .timeout_ms =
                   rc->timeout_ms ? rc->timeout_ms : DEFAULT_TIMEOUT_MS};
    ww_code_t code =
        (r.origin = strndup(rc->dlq_topic, tl - sl))
            ? open_producer(&r, cfg, err)
            : ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    if (!code)
        code = ww_bus_redrive_scan_new(cfg, rc->dlq_topic, true, r.timeout_ms,
                                       &r.scan, err);
    if (!code) code = select_letters(&r, stats, err);
    if (!code && r.n_pick)
        code = ww_bus_offsets_partition_count(r.rk, r.origin, r.timeout_ms,
                                              &r.origin_partitions, err);
    if (!code && r.n_pick) code = send_back(&r, err);
    if (!code) {
        stats->redriven = r.n_pick;
        for (size_t i = 0; i < r.n_pick && rc->on_redriven; i++)
            rc->on_redriven(rc->opaque, r.pick[i], r.origin,
                            r.copies[i].partition, r.copies[i].offset);
    }
    free(r.copies);
    free(r.markers);
    free(r.pick);
    ww_bus_redrive_scan_destroy(r.scan);
    if (r.rk) rd_kafka_destroy(r.rk);
    ww_bus_config_destroy(r.bus);
    free(r.origin);
    return code;
}
