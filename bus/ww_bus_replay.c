/* ww_bus_replay.c - bounded read_committed replay of a topic, no group. */
#include "ww_bus_replay.h"

#include "ww_clock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_bus_config.h"
#include "ww_bus_offsets.h"
#include "ww_log.h"

enum { LOOKUP_TIMEOUT_MS = 15000 };

/* The state of one replay, freed in one place. */
typedef struct replay {
    rd_kafka_t *rk;
    int count;       /* partitions of the topic */
    int64_t *start;  /* per partition */
    int64_t *end;    /* per partition, captured before reading */
    bool *done;      /* per partition; true also for not-selected ones */
    int remaining;   /* selected partitions not done */
} replay_t;

static void mark_done(replay_t *r, int32_t p) {
    if (p < 0 || p >= r->count || r->done[p]) return;
    r->done[p] = true;
    r->remaining--;
}

/* The high watermarks of `topic` into ends[0..count): asked with a
 * read_uncommitted handle of its own, since ListOffsets answers with the
 * isolation level of the asking client. */
static ww_code_t high_watermarks(const ww_bus_config_t *bus, const char *topic,
                                 int count, int64_t *ends, ww_err_t *err) {
    rd_kafka_conf_t *conf = ww_bus_config_reader_conf(bus, err);
    if (!conf) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    char msg[256];
    if (rd_kafka_conf_set(conf, "isolation.level", "read_uncommitted", msg,
                          sizeof msg) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return ww_err_set(err, WW_ERR_INTERNAL, "replay: %s", msg);
    }
    rd_kafka_t *rk = ww_bus_config_client_new(RD_KAFKA_CONSUMER, conf,
                                              "replay watermarks", err);
    if (!rk) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    ww_code_t rc = ww_bus_offsets_lookup(rk, topic, count, RD_KAFKA_OFFSET_END,
                                         LOOKUP_TIMEOUT_MS, ends, err);
    rd_kafka_destroy(rk);
    return rc;
}

/* Captures ends and computes starts; marks partitions with nothing to read
 * as done. */
static ww_code_t plan(replay_t *r, const ww_bus_config_t *bus,
                      const ww_bus_replay_config_t *cfg, ww_err_t *err) {
    ww_code_t rc = ww_bus_offsets_partition_count(
        r->rk, cfg->topic, LOOKUP_TIMEOUT_MS, &r->count, err);
    if (rc) return rc;
    if (cfg->one_partition &&
        (cfg->partition < 0 || cfg->partition >= r->count))
        return ww_err_set(err, WW_ERR_NOT_FOUND,
                          "replay: %s has %d partitions, no partition %d",
                          cfg->topic, r->count, (int)cfg->partition);
    size_t n = (size_t)r->count;
    r->start = calloc(n, sizeof *r->start);
    r->end = calloc(n, sizeof *r->end);
    r->done = calloc(n, sizeof *r->done);
    int64_t *begin = calloc(n, sizeof *begin);
    if (!r->start || !r->end || !r->done || !begin) {
        free(begin);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    /* The end first: everything before it is what "the log as of the
     * start" means. */
    rc = cfg->settled ? high_watermarks(bus, cfg->topic, r->count, r->end, err)
                      : ww_bus_offsets_lookup(r->rk, cfg->topic, r->count,
                                              RD_KAFKA_OFFSET_END,
                                              LOOKUP_TIMEOUT_MS, r->end, err);
    if (!rc)
        rc = ww_bus_offsets_lookup(r->rk, cfg->topic, r->count,
                                   RD_KAFKA_OFFSET_BEGINNING,
                                   LOOKUP_TIMEOUT_MS, begin, err);
    if (!rc && cfg->from == WW_BUS_REPLAY_FROM_TIMESTAMP)
        rc = ww_bus_offsets_lookup(r->rk, cfg->topic, r->count,
                                   cfg->timestamp_ms, LOOKUP_TIMEOUT_MS,
                                   r->start, err);
    if (rc) {
        free(begin);
        return rc;
    }
    for (int p = 0; p < r->count; p++) {
        if (cfg->from == WW_BUS_REPLAY_FROM_BEGINNING) {
            r->start[p] = begin[p];
        } else if (cfg->from == WW_BUS_REPLAY_FROM_OFFSET) {
            int64_t o = cfg->offset;
            if (cfg->offsets) o = p < cfg->offsets_cnt ? cfg->offsets[p] : 0;
            r->start[p] = o < begin[p] ? begin[p] : o;
        }
        bool selected = !cfg->one_partition || p == cfg->partition;
        if (selected && r->start[p] < r->end[p]) {
            r->remaining++;
        } else {
            r->done[p] = true;
        }
    }
    free(begin);
    return WW_OK;
}

ww_code_t ww_bus_replay_run(const ww_bus_config_t *bus,
                            const ww_bus_replay_config_t *cfg,
                            ww_bus_replay_stats_t *stats, ww_err_t *err) {
    ww_bus_replay_stats_t local = {0};
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!bus || !cfg || !cfg->topic || !*cfg->topic || !cfg->handler ||
        cfg->from > WW_BUS_REPLAY_FROM_TIMESTAMP || cfg->timeout_ms < 0 ||
        (cfg->offsets && cfg->offsets_cnt < 0))
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "replay: bus config, topic and handler are "
                          "required, start and timeout must be valid");
    int64_t t0 = ww_clock_mono_ms();
    int64_t deadline = cfg->timeout_ms ? t0 + cfg->timeout_ms : 0;

    /* The reader conf: read_committed, no commits, EOF events, a
     * never-joined group.id, a deleted start offset meaning the log start. */
    rd_kafka_conf_t *conf = ww_bus_config_reader_conf(bus, err);
    if (!conf) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    replay_t r = {0};
    r.rk = ww_bus_config_client_new(RD_KAFKA_CONSUMER, conf,
                                    "replay consumer", err);
    if (!r.rk) return err ? err->code : WW_ERR_INVALID_ARGUMENT;
    rd_kafka_poll_set_consumer(r.rk);

    ww_code_t rc = plan(&r, bus, cfg, err);
    rd_kafka_topic_partition_list_t *assign = NULL;
    if (!rc && r.remaining > 0) {
        assign = rd_kafka_topic_partition_list_new(r.remaining);
        for (int p = 0; p < r.count; p++)
            if (!r.done[p])
                rd_kafka_topic_partition_list_add(assign, cfg->topic, p)
                    ->offset = r.start[p];
        rd_kafka_resp_err_t e = rd_kafka_assign(r.rk, assign);
        if (e) rc = ww_err_set(err, WW_ERR_INTERNAL, "replay: assign: %s",
                               rd_kafka_err2str(e));
        stats->partitions = assign->cnt;
    }

    while (!rc && r.remaining > 0) {
        int timeout = 100;
        if (deadline) {
            int64_t left = deadline - ww_clock_mono_ms();
            if (left <= 0) {
                rc = ww_err_set(err, WW_ERR_DEADLINE_EXCEEDED,
                                "replay of %s: %d partition(s) not at their "
                                "end after %d ms",
                                cfg->topic, r.remaining, cfg->timeout_ms);
                break;
            }
            if (left < timeout) timeout = (int)left;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r.rk, timeout);
        if (!m) continue;
        int32_t p = m->partition;
        bool known = p >= 0 && p < r.count;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* The EOF event's offset is the position reached; markers
             * after the last record count as read. */
            if (known && m->offset >= r.end[p]) mark_done(&r, p);
        } else if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__FATAL ||
                m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
                rc = ww_err_set(err, WW_ERR_UNAVAILABLE, "replay of %s: %s",
                                cfg->topic, rd_kafka_message_errstr(m));
            else /* librdkafka retries transport errors itself */
                ww_log_warn("bus", "replay topic=%s error=\"%s\"", cfg->topic,
                            rd_kafka_message_errstr(m));
        } else if (known && !r.done[p]) {
            if (m->offset >= r.end[p]) {
                /* Produced after the start: not part of this replay. */
                mark_done(&r, p);
            } else {
                ww_err_t herr = {0};
                ww_code_t hrc = cfg->handler(cfg->opaque, m, &herr);
                if (hrc != WW_OK) {
                    rc = hrc;
                    if (err) *err = herr;
                } else {
                    stats->records++;
                    stats->bytes += m->len + m->key_len;
                    if (m->offset + 1 >= r.end[p]) mark_done(&r, p);
                }
            }
        }
        rd_kafka_message_destroy(m);
    }

    if (assign) {
        rd_kafka_assign(r.rk, NULL);
        rd_kafka_topic_partition_list_destroy(assign);
    }
    rd_kafka_consumer_close(r.rk);
    rd_kafka_destroy(r.rk);
    free(r.start);
    free(r.end);
    free(r.done);
    stats->elapsed_ms = ww_clock_mono_ms() - t0;
    return rc;
}
