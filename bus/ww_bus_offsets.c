/* ww_bus_offsets.c - partition counts and begin/end/time offsets. */
#include "ww_bus_offsets.h"

#include "ww_clock.h"

#include <stdlib.h>
#include <time.h>

/* One question to the broker; retry_within asks it again. */
typedef struct query {
    rd_kafka_t *rk;
    const char *topic;
    int *count_out; /* count_once: the answer */
    int count;      /* lookup_once: partitions 0..count-1 */
    int64_t when;   /* lookup_once: a timestamp or a logical offset */
    int64_t *out;   /* lookup_once: count answers */
} query_t;

static ww_code_t count_once(const query_t *q, int timeout_ms, ww_err_t *err) {
    rd_kafka_t *rk = q->rk;
    const char *topic = q->topic;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "topic %s: %s", topic,
                          rd_kafka_err2str(rd_kafka_last_error()));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e)
        return ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                    "metadata for %s: %s", topic,
                                    rd_kafka_err2str(e));
    ww_code_t rc = WW_OK;
    if (md->topic_cnt != 1 || md->topics[0].err ||
        md->topics[0].partition_cnt <= 0) {
        rd_kafka_resp_err_t te = md->topic_cnt == 1
                                     ? md->topics[0].err
                                     : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        if (te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
            te == RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = ww_err_set(err, WW_ERR_NOT_FOUND, "topic %s does not exist",
                            topic);
        else
            rc = ww_err_set_retriable(err, WW_ERR_UNAVAILABLE, "topic %s: %s",
                                      topic, rd_kafka_err2str(te));
    } else {
        *q->count_out = md->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

static ww_code_t lookup_once(const query_t *q, int timeout_ms, ww_err_t *err) {
    const char *topic = q->topic;
    int count = q->count;
    int64_t when = q->when, *out = q->out;
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(count);
    for (int p = 0; p < count; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = when;
    rd_kafka_resp_err_t e =
        rd_kafka_offsets_for_times(q->rk, parts, timeout_ms);
    ww_code_t rc = WW_OK;
    if (e) {
        rc = ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                  "list offsets of %s: %s", topic,
                                  rd_kafka_err2str(e));
    } else {
        for (int i = 0; i < parts->cnt && rc == WW_OK; i++) {
            const rd_kafka_topic_partition_t *tp = &parts->elems[i];
            if (tp->err)
                rc = ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                          "list offsets of %s [%d]: %s", topic,
                                          (int)tp->partition,
                                          rd_kafka_err2str(tp->err));
            else if (tp->partition >= 0 && tp->partition < count)
                out[tp->partition] = tp->offset;
        }
        /* A timestamp after the last record answers -1 (no such record):
         * reading from there means reading nothing, i.e. from the end. */
        if (rc == WW_OK && when >= 0) {
            bool need_end = false;
            for (int p = 0; p < count; p++) need_end |= out[p] < 0;
            if (need_end) {
                int64_t *ends = malloc((size_t)count * sizeof *ends);
                if (!ends) {
                    rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED,
                                    "out of memory");
                } else {
                    query_t end = *q;
                    end.when = RD_KAFKA_OFFSET_END;
                    end.out = ends;
                    rc = lookup_once(&end, timeout_ms, err);
                    for (int p = 0; p < count && rc == WW_OK; p++)
                        if (out[p] < 0) out[p] = ends[p];
                    free(ends);
                }
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

/* Right after a topic is created its leaders are not elected yet and the
 * broker answers with retriable errors for a moment: asks again, 100 ms
 * apart, within the caller's time. */
typedef ww_code_t (*attempt_fn)(const query_t *q, int timeout_ms,
                                ww_err_t *err);

static ww_code_t retry_within(attempt_fn once, const query_t *q,
                              int timeout_ms, ww_err_t *err) {
    int64_t deadline = ww_clock_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - ww_clock_mono_ms();
        ww_err_t e = {0};
        ww_code_t rc = once(q, left > 0 ? (int)left : 1, &e);
        if (rc == WW_OK) return rc;
        if (!e.retriable || ww_clock_mono_ms() + 100 >= deadline) {
            if (err) *err = e;
            return rc;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

ww_code_t ww_bus_offsets_lookup(rd_kafka_t *rk, const char *topic, int count,
                                int64_t when, int timeout_ms, int64_t *out,
                                ww_err_t *err) {
    query_t q = {.rk = rk, .topic = topic, .count = count, .when = when,
                 .out = out};
    return retry_within(lookup_once, &q, timeout_ms, err);
}

ww_code_t ww_bus_offsets_partition_count(rd_kafka_t *rk, const char *topic,
                                         int timeout_ms, int *count,
                                         ww_err_t *err) {
    query_t q = {.rk = rk, .topic = topic, .count_out = count};
    return retry_within(count_once, &q, timeout_ms, err);
}
