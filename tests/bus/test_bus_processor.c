/*
 * The transactional processor against the real broker: N inputs give
 * exactly N outputs to a read_committed reader with 1, 10 and 100 records
 * per transaction; a handler failure aborts, rewinds and reprocesses with
 * the output still exactly once and the owner's overlay dropped; a second
 * processor with the same transactional id fences the first, which stops
 * with a clear error; a producer fenced with no newer member is replaced
 * (and the run ends when that keeps happening); ownership hooks run before
 * records.
 */
#include "bus_txn_support.h"
#include "ww_bus_dlq.h"
#include "ww_bus_processor.h"
#include "ww_bus_replay.h"
#include "ww_test.h"

#include <pthread.h>

enum { MAX_IDS = 2000 };

/* The owner's state, as a service would keep it: ids decided in committed
 * transactions, plus an overlay for the transaction in progress. */
typedef struct owner {
    const char *out_topic;
    int assigned[16];  /* partitions currently owned */
    int before_assign; /* records seen for a partition not assigned */
    int committed[MAX_IDS];
    int overlay[MAX_IDS];
    int overlay_n;
    int aborts_seen;
    int commits_seen;
    int fail_id; /* this input fails once (retriable) */
    int failed_once;
    int fatal_id;         /* this input fails for good */
    char poison[MAX_IDS]; /* these inputs go to the DLQ */
} owner_t;

static ww_code_t handle(void *opaque, ww_bus_processor_t *p,
                        const rd_kafka_message_t *m, ww_err_t *err) {
    owner_t *o = opaque;
    if (m->partition >= 16 || !o->assigned[m->partition]) o->before_assign++;
    int id;
    if (sscanf((const char *)m->payload, "in-%d", &id) != 1 || id < 0 ||
        id >= MAX_IDS)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "bad input");
    if (o->poison[id]) {
        char reason[64];
        snprintf(reason, sizeof reason, "poison %d", id);
        return ww_bus_processor_dlq(p, m, reason, 1, err);
    }
    char out[32];
    int n = snprintf(out, sizeof out, "out-%d", id);
    ww_code_t rc =
        ww_bus_processor_produce(p, o->out_topic, RD_KAFKA_PARTITION_UA, m->key,
                                 m->key_len, out, (size_t)n, NULL, err);
    if (rc) return rc;
    /* Fail after producing, so the aborted transaction did write output. */
    if (id == o->fail_id && !o->failed_once) {
        o->failed_once = 1;
        return ww_err_set_retriable(err, WW_ERR_UNAVAILABLE,
                                    "dependency down for %d", id);
    }
    if (id == o->fatal_id)
        return ww_err_set(err, WW_ERR_INTERNAL, "cannot handle %d", id);
    o->overlay[id]++;
    o->overlay_n++;
    return WW_OK;
}

static ww_code_t on_assign(void *opaque, ww_bus_processor_t *p,
                           const rd_kafka_topic_partition_list_t *parts,
                           ww_err_t *err) {
    (void)p;
    (void)err;
    owner_t *o = opaque;
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].partition < 16)
            o->assigned[parts->elems[i].partition] = 1;
    return WW_OK;
}

static ww_code_t on_revoke(void *opaque, ww_bus_processor_t *p,
                           const rd_kafka_topic_partition_list_t *parts,
                           ww_err_t *err) {
    (void)p;
    (void)err;
    owner_t *o = opaque;
    for (int i = 0; parts && i < parts->cnt; i++)
        if (parts->elems[i].partition < 16)
            o->assigned[parts->elems[i].partition] = 0;
    return WW_OK;
}

static void on_abort(void *opaque, ww_bus_processor_t *p) {
    (void)p;
    owner_t *o = opaque;
    memset(o->overlay, 0, sizeof o->overlay);
    o->overlay_n = 0;
    o->aborts_seen++;
}

static void on_commit(void *opaque, ww_bus_processor_t *p) {
    (void)p;
    owner_t *o = opaque;
    for (int i = 0; i < MAX_IDS; i++)
        o->committed[i] += o->overlay[i];
    memset(o->overlay, 0, sizeof o->overlay);
    o->overlay_n = 0;
    o->commits_seen++;
}

typedef struct runner {
    ww_bus_processor_t *p;
    pthread_t th;
    ww_code_t rc;
    ww_err_t err;
    int done;
} runner_t;

static void *run_main(void *arg) {
    runner_t *r = arg;
    r->rc = ww_bus_processor_run(r->p, &r->err);
    __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static ww_bus_processor_t *new_processor(ww_bus_config_t *bus, const char *in,
                                         const char *group, int max_records,
                                         owner_t *o) {
    ww_bus_processor_config_t cfg = {.input_topic = in,
                                     .group = group,
                                     .max_records = max_records,
                                     .max_wait_ms = 20,
                                     .handle = handle,
                                     .on_assign = on_assign,
                                     .on_revoke = on_revoke,
                                     .on_abort = on_abort,
                                     .on_commit = on_commit,
                                     .opaque = o};
    ww_bus_processor_t *p = NULL;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_processor_new(bus, &cfg, &p, &err) == WW_OK,
                  "processor_new: %s", err.msg);
    return p;
}

static void wait_records(ww_bus_processor_t *p, runner_t *r, uint64_t n) {
    int64_t deadline = ww_test_now_ms() + 60000;
    while (ww_bus_processor_stats(p).records < n &&
           !__atomic_load_n(&r->done, __ATOMIC_SEQ_CST) &&
           ww_test_now_ms() < deadline)
        usleep(20000);
    WW_ASSERT_MSG(!__atomic_load_n(&r->done, __ATOMIC_SEQ_CST),
                  "processor ended early: %s", r->err.msg);
    WW_ASSERT_MSG(ww_bus_processor_stats(p).records >= n,
                  "only %llu of %llu records processed",
                  (unsigned long long)ww_bus_processor_stats(p).records,
                  (unsigned long long)n);
}

static ww_code_t count_out(void *opaque, const rd_kafka_message_t *m,
                           ww_err_t *err) {
    int *counts = opaque, id;
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)m->len, (const char *)m->payload);
    if (sscanf(buf, "out-%d", &id) != 1 || id < 0 || id >= MAX_IDS)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "bad output %s", buf);
    counts[id]++;
    return WW_OK;
}

/* Reads the whole output read_committed and checks ids 0..n-1 (but those
 * in `skip`, may be NULL) appear exactly once each and nothing else. */
static void assert_exactly_once_but(ww_bus_config_t *bus, const char *out,
                                    int n, const char *skip) {
    int *counts = calloc(MAX_IDS, sizeof *counts);
    ww_bus_replay_config_t rc = {.topic = out,
                                 .handler = count_out,
                                 .opaque = counts,
                                 .timeout_ms = 30000};
    ww_bus_replay_stats_t st;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_replay_run(bus, &rc, &st, &err) == WW_OK, "%s",
                  err.msg);
    int total = 0;
    for (int i = 0; i < MAX_IDS; i++) {
        int want = i < n && !(skip && skip[i]) ? 1 : 0;
        total += want;
        if (counts[i] != want) {
            int got = counts[i];
            free(counts);
            WW__FAIL("output %d seen %d times, want %d", i, got, want);
        }
    }
    free(counts);
    WW_ASSERT_EQ_INT(st.records, total);
}

static void assert_exactly_once(ww_bus_config_t *bus, const char *out, int n) {
    assert_exactly_once_but(bus, out, n, NULL);
}

typedef struct dlq_seen {
    int n;
    char values[8][32];
    char reasons[8][64];
    char offsets[8][32];
    char topics[8][128];
    char truncated[8][8];
    size_t lens[8];
} dlq_seen_t;

static void header_str(const rd_kafka_message_t *m, const char *name, char *buf,
                       size_t size) {
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t len = 0;
    buf[0] = '\0';
    if (rd_kafka_message_headers(m, &h) == 0 &&
        rd_kafka_header_get_last(h, name, &v, &len) == 0)
        snprintf(buf, size, "%.*s", (int)len, (const char *)v);
}

static ww_code_t collect_dlq(void *opaque, const rd_kafka_message_t *m,
                             ww_err_t *err) {
    dlq_seen_t *d = opaque;
    if (d->n >= 8) return ww_err_set(err, WW_ERR_INTERNAL, "too many");
    snprintf(d->values[d->n], 32, "%.*s", (int)m->len,
             (const char *)m->payload);
    header_str(m, "ww_dlq_reason", d->reasons[d->n], 64);
    header_str(m, "ww_dlq_offset", d->offsets[d->n], 32);
    header_str(m, "ww_dlq_topic", d->topics[d->n], 128);
    header_str(m, "ww_dlq_truncated", d->truncated[d->n], 8);
    d->lens[d->n] = m->len;
    d->n++;
    return WW_OK;
}

static void n_in_n_out(int per_txn, int n) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-in");
    ww_test_unique_name(out, sizeof out, "proc-out");
    ww_test_unique_name(group, sizeof group, "proc-group");
    bt_create_topic(in, 3);
    bt_create_topic(out, 3);
    bt_produce(in, RD_KAFKA_PARTITION_UA, 0, n, "in-%d");

    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    ww_bus_config_set_session_timeout_ms(bus, 6000, &err);
    owner_t *o = calloc(1, sizeof *o);
    o->out_topic = out;
    o->fail_id = o->fatal_id = -1;
    runner_t r = {.p = new_processor(bus, in, group, per_txn, o)};
    pthread_create(&r.th, NULL, run_main, &r);
    wait_records(r.p, &r, (uint64_t)n);
    ww_bus_processor_stop(r.p);
    pthread_join(r.th, NULL);
    WW_ASSERT_MSG(r.rc == WW_OK, "run: %s", r.err.msg);
    ww_bus_processor_stats_t st = ww_bus_processor_stats(r.p);
    WW_ASSERT_EQ_INT(st.records, n);
    WW_ASSERT_EQ_INT(st.produced, n);
    WW_ASSERT_EQ_INT(st.aborts, 0);
    WW_ASSERT_MSG(st.commits >= (uint64_t)((n + per_txn - 1) / per_txn),
                  "%llu commits for %d records at %d per transaction",
                  (unsigned long long)st.commits, n, per_txn);
    if (per_txn == 1) WW_ASSERT_EQ_INT(st.commits, n);
    WW_ASSERT_EQ_INT(o->before_assign, 0);
    WW_ASSERT_EQ_INT(o->commits_seen, st.commits);
    ww_bus_processor_destroy(r.p);
    assert_exactly_once(bus, out, n);
    for (int i = 0; i < n; i++)
        WW_ASSERT_EQ_INT(o->committed[i], 1);
    free(o);
    ww_bus_config_destroy(bus);
}

WW_TEST(one_record_per_transaction_gives_each_output_once) {
    n_in_n_out(1, 100);
}
WW_TEST(ten_records_per_transaction_give_each_output_once) {
    n_in_n_out(10, 500);
}
WW_TEST(hundred_records_per_transaction_give_each_output_once) {
    n_in_n_out(100, 1000);
}

WW_TEST(handler_failure_aborts_rewinds_and_reprocesses_exactly_once) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-abort-in");
    ww_test_unique_name(out, sizeof out, "proc-abort-out");
    ww_test_unique_name(group, sizeof group, "proc-abort-group");
    bt_create_topic(in, 2);
    bt_create_topic(out, 2);
    const int n = 200;
    bt_produce(in, RD_KAFKA_PARTITION_UA, 0, n, "in-%d");
    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    owner_t *o = calloc(1, sizeof *o);
    o->out_topic = out;
    o->fail_id = 137;
    o->fatal_id = -1;
    runner_t r = {.p = new_processor(bus, in, group, 50, o)};
    pthread_create(&r.th, NULL, run_main, &r);
    wait_records(r.p, &r, (uint64_t)n);
    ww_bus_processor_stop(r.p);
    pthread_join(r.th, NULL);
    WW_ASSERT_MSG(r.rc == WW_OK, "run: %s", r.err.msg);
    ww_bus_processor_stats_t st = ww_bus_processor_stats(r.p);
    WW_ASSERT(o->failed_once);
    WW_ASSERT_EQ_INT(st.aborts, 1);
    WW_ASSERT_EQ_INT(o->aborts_seen, 1);
    WW_ASSERT_EQ_INT(st.records, n);
    ww_bus_processor_destroy(r.p);
    /* The aborted transaction's outputs are invisible, the redone ones
     * appear once, and the owner's committed state counts each once. */
    assert_exactly_once(bus, out, n);
    for (int i = 0; i < n; i++)
        WW_ASSERT_EQ_INT(o->committed[i], 1);
    free(o);
    ww_bus_config_destroy(bus);
}

WW_TEST(dlq_records_are_written_in_the_transaction) {
    char in[128], out[128], group[128], dlq[160];
    ww_test_unique_name(in, sizeof in, "proc-dlq-in");
    ww_test_unique_name(out, sizeof out, "proc-dlq-out");
    ww_test_unique_name(group, sizeof group, "proc-dlq-group");
    snprintf(dlq, sizeof dlq, "%s.dlq", in);
    bt_create_topic(in, 1);
    bt_create_topic(out, 1);
    bt_create_topic(dlq, 1);
    bt_produce(in, 0, 0, 50, "in-%d");
    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    owner_t *o = calloc(1, sizeof *o);
    o->out_topic = out;
    o->poison[7] = o->poison[30] = 1;
    /* 31 fails once after 30 was dead-lettered in the same transaction:
     * that dead letter must vanish with the abort and be written again. */
    o->fail_id = 31;
    o->fatal_id = -1;
    runner_t r = {.p = new_processor(bus, in, group, 50, o)};
    pthread_create(&r.th, NULL, run_main, &r);
    wait_records(r.p, &r, 50);
    ww_bus_processor_stop(r.p);
    pthread_join(r.th, NULL);
    WW_ASSERT_MSG(r.rc == WW_OK, "run: %s", r.err.msg);
    WW_ASSERT_EQ_INT(ww_bus_processor_stats(r.p).aborts, 1);
    ww_bus_processor_destroy(r.p);
    assert_exactly_once_but(bus, out, 50, o->poison);

    dlq_seen_t d = {0};
    ww_bus_replay_config_t rc = {.topic = dlq,
                                 .handler = collect_dlq,
                                 .opaque = &d,
                                 .timeout_ms = 30000};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(bus, &rc, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(d.n, 2);
    WW_ASSERT_EQ_STR(d.values[0], "in-7");
    WW_ASSERT_EQ_STR(d.reasons[0], "poison 7");
    WW_ASSERT_EQ_STR(d.offsets[0], "7");
    WW_ASSERT_EQ_STR(d.topics[0], in);
    WW_ASSERT_EQ_STR(d.values[1], "in-30");
    WW_ASSERT_EQ_STR(d.offsets[1], "30");
    free(o);
    ww_bus_config_destroy(bus);
}

/* A poison input of about 999,500 bytes: its dead letter with the DLQ
 * headers is over message.max.bytes, which refused the transaction at
 * every redo. It gets a truncated dead letter in the transaction and the
 * inputs after it are handled. */
WW_TEST(a_poison_record_too_large_to_copy_is_dead_lettered_truncated) {
    char in[128], out[128], group[128], dlq[160];
    ww_test_unique_name(in, sizeof in, "proc-huge-in");
    ww_test_unique_name(out, sizeof out, "proc-huge-out");
    ww_test_unique_name(group, sizeof group, "proc-huge-group");
    snprintf(dlq, sizeof dlq, "%s.dlq", in);
    bt_create_topic(in, 1);
    bt_create_topic(out, 1);
    bt_create_topic(dlq, 1);
    bt_produce(in, 0, 0, 3, "in-%d");
    enum { HUGE = 999500 };
    char *huge = malloc(HUGE), pad[401], err_text[256];
    WW_ASSERT(huge);
    memset(huge, 'x', HUGE);
    memcpy(huge, "in-3", 4);
    memset(pad, 'p', 400);
    pad[400] = '\0';
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, bt_conf(), err_text, sizeof err_text);
    WW_ASSERT_MSG(rk, "%s", err_text);
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "x-padding", -1, pad, -1);
    WW_ASSERT_EQ_INT(
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(in), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE(huge, HUGE), RD_KAFKA_V_HEADERS(h),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END),
        0);
    WW_ASSERT_EQ_INT(rd_kafka_flush(rk, 30000), 0);
    rd_kafka_destroy(rk);
    free(huge);
    bt_produce(in, 0, 4, 6, "in-%d");

    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    owner_t *o = calloc(1, sizeof *o);
    o->out_topic = out;
    o->poison[3] = 1;
    o->fail_id = o->fatal_id = -1;
    runner_t r = {.p = new_processor(bus, in, group, 10, o)};
    pthread_create(&r.th, NULL, run_main, &r);
    wait_records(r.p, &r, 10);
    ww_bus_processor_stop(r.p);
    pthread_join(r.th, NULL);
    WW_ASSERT_MSG(r.rc == WW_OK, "run: %s", r.err.msg);
    WW_ASSERT_EQ_INT(ww_bus_processor_stats(r.p).aborts, 0);
    ww_bus_processor_destroy(r.p);
    assert_exactly_once_but(bus, out, 10, o->poison);

    dlq_seen_t d = {0};
    ww_bus_replay_config_t rc = {.topic = dlq,
                                 .handler = collect_dlq,
                                 .opaque = &d,
                                 .timeout_ms = 30000};
    WW_ASSERT_EQ_INT(ww_bus_replay_run(bus, &rc, NULL, &err), WW_OK);
    WW_ASSERT_EQ_INT(d.n, 1);
    WW_ASSERT_EQ_STR(d.offsets[0], "3");
    WW_ASSERT_EQ_STR(d.truncated[0], "true");
    WW_ASSERT_CONTAINS(d.reasons[0], "poison 3 (dead letter truncated");
    WW_ASSERT_EQ_INT(d.lens[0], WW_BUS_DLQ_TRUNCATED_VALUE);
    free(o);
    ww_bus_config_destroy(bus);
}

WW_TEST(non_retriable_handler_error_stops_the_processor) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-fatal-in");
    ww_test_unique_name(out, sizeof out, "proc-fatal-out");
    ww_test_unique_name(group, sizeof group, "proc-fatal-group");
    bt_create_topic(in, 1);
    bt_create_topic(out, 1);
    bt_produce(in, 0, 0, 20, "in-%d");
    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    owner_t *o = calloc(1, sizeof *o);
    o->out_topic = out;
    o->fail_id = -1;
    o->fatal_id = 12;
    runner_t r = {.p = new_processor(bus, in, group, 5, o)};
    run_main(&r);
    WW_ASSERT_EQ_INT(r.rc, WW_ERR_INTERNAL);
    WW_ASSERT_CONTAINS(r.err.msg, "cannot handle 12");
    ww_bus_processor_destroy(r.p);
    /* Batches before the bad record committed; its own batch did not. */
    assert_exactly_once(bus, out, 10);
    free(o);
    ww_bus_config_destroy(bus);
}

WW_TEST(same_transactional_id_fences_the_first_processor) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-fence-in");
    ww_test_unique_name(out, sizeof out, "proc-fence-out");
    ww_test_unique_name(group, sizeof group, "proc-fence-group");
    bt_create_topic(in, 2);
    bt_create_topic(out, 2);
    bt_produce(in, RD_KAFKA_PARTITION_UA, 0, 100, "in-%d");
    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    ww_bus_config_set_session_timeout_ms(bus, 6000, &err);
    owner_t *oa = calloc(1, sizeof *oa), *ob = calloc(1, sizeof *ob);
    oa->out_topic = ob->out_topic = out;
    oa->fail_id = oa->fatal_id = ob->fail_id = ob->fatal_id = -1;
    runner_t a = {.p = new_processor(bus, in, group, 10, oa)};
    pthread_create(&a.th, NULL, run_main, &a);
    wait_records(a.p, &a, 100);

    /* The same instance started again (a zombie still running). */
    runner_t b = {.p = new_processor(bus, in, group, 10, ob)};
    WW_ASSERT_EQ_STR(ww_bus_processor_transactional_id(b.p),
                     ww_bus_processor_transactional_id(a.p));
    pthread_create(&b.th, NULL, run_main, &b);
    bt_produce(in, RD_KAFKA_PARTITION_UA, 100, 100, "in-%d");
    pthread_join(a.th, NULL);
    WW_ASSERT_EQ_INT(a.rc, WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(a.err.msg, "fenced");
    /* The newer one carries on: every input ends up exactly once. */
    int64_t deadline = ww_test_now_ms() + 60000;
    for (;;) {
        int *counts = calloc(MAX_IDS, sizeof *counts);
        ww_bus_replay_config_t rc = {.topic = out,
                                     .handler = count_out,
                                     .opaque = counts,
                                     .timeout_ms = 30000};
        ww_bus_replay_stats_t st;
        WW_ASSERT_EQ_INT(ww_bus_replay_run(bus, &rc, &st, &err), WW_OK);
        free(counts);
        if (st.records >= 200 || ww_test_now_ms() > deadline) break;
        usleep(100000);
    }
    ww_bus_processor_stop(b.p);
    pthread_join(b.th, NULL);
    WW_ASSERT_MSG(b.rc == WW_OK, "b: %s", b.err.msg);
    ww_bus_processor_destroy(a.p);
    ww_bus_processor_destroy(b.p);
    assert_exactly_once(bus, out, 200);
    free(oa);
    free(ob);
    ww_bus_config_destroy(bus);
}

/* Fences the processor's producer from outside the group, as the
 * coordinator does when it aborts a transaction that outlived its timeout:
 * a producer with the same transactional id takes a new epoch and goes. */
static void fence_from_outside(const char *txn_id) {
    rd_kafka_conf_t *c = bt_conf();
    char buf[256];
    WW_ASSERT_EQ_INT(
        rd_kafka_conf_set(c, "transactional.id", txn_id, buf, sizeof buf),
        RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, buf, sizeof buf);
    WW_ASSERT_MSG(rk, "producer: %s", buf);
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, 60000);
    WW_ASSERT_MSG(!e, "init_transactions: %s",
                  e ? rd_kafka_error_string(e) : "");
    rd_kafka_destroy(rk);
}

static void wait_refenced(runner_t *r, uint64_t n) {
    int64_t deadline = ww_test_now_ms() + 90000;
    while (ww_bus_processor_stats(r->p).refenced < n &&
           !__atomic_load_n(&r->done, __ATOMIC_SEQ_CST) &&
           ww_test_now_ms() < deadline)
        usleep(50000);
}

/* The broker fenced the producer but no newer member took the instance
 * id: a new producer carries on, nothing is lost or doubled. */
WW_TEST(a_producer_fenced_without_a_newer_member_is_replaced) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-refence-in");
    ww_test_unique_name(out, sizeof out, "proc-refence-out");
    ww_test_unique_name(group, sizeof group, "proc-refence-group");
    bt_create_topic(in, 2);
    bt_create_topic(out, 2);
    bt_produce(in, RD_KAFKA_PARTITION_UA, 0, 100, "in-%d");
    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    ww_bus_config_set_session_timeout_ms(bus, 6000, &err);
    owner_t *o = calloc(1, sizeof *o);
    o->out_topic = out;
    o->fail_id = o->fatal_id = -1;
    runner_t a = {.p = new_processor(bus, in, group, 10, o)};
    pthread_create(&a.th, NULL, run_main, &a);
    wait_records(a.p, &a, 100);

    fence_from_outside(ww_bus_processor_transactional_id(a.p));
    bt_produce(in, RD_KAFKA_PARTITION_UA, 100, 100, "in-%d");
    wait_refenced(&a, 1);
    WW_ASSERT_MSG(!__atomic_load_n(&a.done, __ATOMIC_SEQ_CST),
                  "processor ended: %s", a.err.msg);
    WW_ASSERT_EQ_INT(ww_bus_processor_stats(a.p).refenced, 1);
    wait_records(a.p, &a, 200);
    ww_bus_processor_stop(a.p);
    pthread_join(a.th, NULL);
    WW_ASSERT_MSG(a.rc == WW_OK, "a: %s", a.err.msg);
    ww_bus_processor_destroy(a.p);
    assert_exactly_once(bus, out, 200);
    free(o);
    ww_bus_config_destroy(bus);
}

/* Fenced again and again: two live instances share the id, and the run
 * ends instead of fencing the other one back for ever. */
WW_TEST(fenced_again_and_again_ends_the_run) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-refence4-in");
    ww_test_unique_name(out, sizeof out, "proc-refence4-out");
    ww_test_unique_name(group, sizeof group, "proc-refence4-group");
    bt_create_topic(in, 1);
    bt_create_topic(out, 1);
    bt_produce(in, 0, 0, 10, "in-%d");
    ww_bus_config_t *bus = bt_bus("i1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    ww_bus_config_set_session_timeout_ms(bus, 6000, &err);
    owner_t *o = calloc(1, sizeof *o);
    o->out_topic = out;
    o->fail_id = o->fatal_id = -1;
    runner_t a = {.p = new_processor(bus, in, group, 10, o)};
    pthread_create(&a.th, NULL, run_main, &a);
    wait_records(a.p, &a, 10);
    for (int i = 1; i <= 4; i++) {
        fence_from_outside(ww_bus_processor_transactional_id(a.p));
        bt_produce(in, 0, 10 * i, 10, "in-%d");
        if (i < 4) {
            wait_refenced(&a, (uint64_t)i);
            WW_ASSERT_MSG(!__atomic_load_n(&a.done, __ATOMIC_SEQ_CST),
                          "processor ended after %d fencings: %s", i,
                          a.err.msg);
            wait_records(a.p, &a, 10 * ((uint64_t)i + 1));
        }
    }
    pthread_join(a.th, NULL);
    WW_ASSERT_EQ_INT(a.rc, WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(a.err.msg, "fenced repeatedly");
    WW_ASSERT_EQ_INT(ww_bus_processor_stats(a.p).refenced, 3);
    ww_bus_processor_destroy(a.p);
    /* What was handled before the last fencing is there exactly once. */
    assert_exactly_once(bus, out, 40);
    free(o);
    ww_bus_config_destroy(bus);
}

/* A second member joins while the first is busy: the first's partitions
 * are revoked (its open transaction aborted), both go on with their share,
 * and the output is still exactly once. */
WW_TEST(rebalance_to_a_second_member_keeps_exactly_once) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-rebal-in");
    ww_test_unique_name(out, sizeof out, "proc-rebal-out");
    ww_test_unique_name(group, sizeof group, "proc-rebal-group");
    bt_create_topic(in, 4);
    bt_create_topic(out, 4);
    const int n = 1500;
    bt_produce(in, RD_KAFKA_PARTITION_UA, 0, n, "in-%d");
    ww_bus_config_t *bus_a = bt_bus("a"), *bus_b = bt_bus("b");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus_a, 10000, &err);
    ww_bus_config_set_transaction_timeout_ms(bus_b, 10000, &err);
    ww_bus_config_set_session_timeout_ms(bus_a, 6000, &err);
    ww_bus_config_set_session_timeout_ms(bus_b, 6000, &err);
    owner_t *oa = calloc(1, sizeof *oa), *ob = calloc(1, sizeof *ob);
    oa->out_topic = ob->out_topic = out;
    oa->fail_id = oa->fatal_id = ob->fail_id = ob->fatal_id = -1;
    runner_t a = {.p = new_processor(bus_a, in, group, 10, oa)};
    pthread_create(&a.th, NULL, run_main, &a);
    wait_records(a.p, &a, 100);
    runner_t b = {.p = new_processor(bus_b, in, group, 10, ob)};
    pthread_create(&b.th, NULL, run_main, &b);
    int64_t deadline = ww_test_now_ms() + 90000;
    while (ww_bus_processor_stats(a.p).records +
                   ww_bus_processor_stats(b.p).records <
               (uint64_t)n &&
           ww_test_now_ms() < deadline)
        usleep(20000);
    ww_bus_processor_stop(a.p);
    ww_bus_processor_stop(b.p);
    pthread_join(a.th, NULL);
    pthread_join(b.th, NULL);
    WW_ASSERT_MSG(a.rc == WW_OK, "a: %s", a.err.msg);
    WW_ASSERT_MSG(b.rc == WW_OK, "b: %s", b.err.msg);
    ww_bus_processor_stats_t sa = ww_bus_processor_stats(a.p),
                             sb = ww_bus_processor_stats(b.p);
    WW_ASSERT_EQ_INT(sa.records + sb.records, n);
    WW_ASSERT_MSG(sb.records > 0, "the second member got no records");
    WW_ASSERT_MSG(sa.rebalances >= 2, "a saw %llu rebalances",
                  (unsigned long long)sa.rebalances);
    WW_ASSERT_EQ_INT(oa->before_assign + ob->before_assign, 0);
    ww_bus_processor_destroy(a.p);
    ww_bus_processor_destroy(b.p);
    assert_exactly_once(bus_a, out, n);
    /* Each owner's committed state holds its share exactly once. */
    for (int i = 0; i < n; i++)
        WW_ASSERT_EQ_INT(oa->committed[i] + ob->committed[i], 1);
    free(oa);
    free(ob);
    ww_bus_config_destroy(bus_a);
    ww_bus_config_destroy(bus_b);
}

/* The owner chooses where assigned partitions start: nothing is consumed
 * until it assigns, it sees the committed offsets first, and records
 * before its start are never handled. */
typedef struct chooser {
    owner_t o;
    const char *in;
    int64_t start;     /* where the owner starts partition 0; -1: committed */
    int64_t committed; /* what ww_bus_processor_committed said */
    int announced;
} chooser_t;

static ww_code_t chooser_assign(void *opaque, ww_bus_processor_t *p,
                                const rd_kafka_topic_partition_list_t *parts,
                                ww_err_t *err) {
    chooser_t *c = opaque;
    c->announced += parts->cnt;
    WW_ASSERT(ww_bus_processor_assign_pending(p));
    (void)err;
    return WW_OK;
}

static ww_code_t chooser_idle(void *opaque, ww_bus_processor_t *p,
                              ww_err_t *err) {
    chooser_t *c = opaque;
    if (!ww_bus_processor_assign_pending(p)) return WW_OK;
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, c->in, 0);
    ww_code_t rc = ww_bus_processor_committed(p, parts, 5000, err);
    if (rc == WW_OK) {
        c->committed = parts->elems[0].offset;
        if (c->start >= 0) parts->elems[0].offset = c->start;
        rc = ww_bus_processor_assign(p, parts, err);
        if (rc == WW_OK) c->o.assigned[0] = 1;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return rc == WW_ERR_DEADLINE_EXCEEDED ? WW_OK : rc; /* again next time */
}

static void chooser_run(ww_bus_config_t *bus, const char *group, chooser_t *c,
                        uint64_t records) {
    ww_bus_processor_config_t cfg = {.input_topic = c->in,
                                     .group = group,
                                     .max_wait_ms = 20,
                                     .handle = handle,
                                     .on_assign = chooser_assign,
                                     .on_revoke = on_revoke,
                                     .on_abort = on_abort,
                                     .on_commit = on_commit,
                                     .on_idle = chooser_idle,
                                     .owner_assigns = true,
                                     .opaque = &c->o};
    runner_t r = {0};
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_processor_new(bus, &cfg, &r.p, &err) == WW_OK, "%s",
                  err.msg);
    pthread_create(&r.th, NULL, run_main, &r);
    wait_records(r.p, &r, records);
    ww_bus_processor_stop(r.p);
    pthread_join(r.th, NULL);
    WW_ASSERT_MSG(r.rc == WW_OK, "run: %s", r.err.msg);
    WW_ASSERT_EQ_INT(ww_bus_processor_stats(r.p).records, records);
    ww_bus_processor_destroy(r.p);
}

WW_TEST(the_owner_chooses_where_assigned_partitions_start) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "proc-own-in");
    ww_test_unique_name(out, sizeof out, "proc-own-out");
    ww_test_unique_name(group, sizeof group, "proc-own");
    bt_create_topic(in, 1);
    bt_create_topic(out, 1);
    bt_produce(in, 0, 0, 10, "in-%d");
    ww_bus_config_t *bus = bt_bus("own1");
    ww_err_t err = {0};
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);
    ww_bus_config_set_session_timeout_ms(bus, 6000, &err);
    /* the owner (chooser_t starts with its owner_t, the handler's opaque) */
    chooser_t *c = calloc(1, sizeof *c);
    c->o.out_topic = out;
    c->o.fail_id = c->o.fatal_id = -1;
    c->in = in;
    c->start = 4;
    c->committed = -2;
    chooser_run(bus, group, c, 6);
    WW_ASSERT_EQ_INT(c->announced, 1);
    WW_ASSERT_EQ_INT(c->committed, RD_KAFKA_OFFSET_INVALID); /* none yet */
    WW_ASSERT_EQ_INT(c->o.before_assign, 0);
    for (int i = 0; i < 10; i++)
        WW_ASSERT_EQ_INT(c->o.committed[i], i >= 4);

    /* a second run sees the committed position and starts there */
    memset(c->o.committed, 0, sizeof c->o.committed);
    c->start = -1;
    bt_produce(in, 0, 10, 3, "in-%d");
    chooser_run(bus, group, c, 3);
    WW_ASSERT_EQ_INT(c->committed, 10);
    for (int i = 0; i < 13; i++)
        WW_ASSERT_EQ_INT(c->o.committed[i], i >= 10);
    free(c);
    ww_bus_config_destroy(bus);
}

WW_TEST(settings_are_checked) {
    ww_bus_config_t *bus = bt_bus(NULL); /* no instance id */
    owner_t o = {0};
    ww_bus_processor_config_t cfg = {
        .input_topic = "t", .group = "g", .handle = handle, .opaque = &o};
    ww_bus_processor_t *p = NULL;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_processor_new(bus, &cfg, &p, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT(p == NULL);
    cfg.handle = NULL;
    WW_ASSERT_EQ_INT(ww_bus_processor_new(bus, &cfg, &p, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_bus_config_destroy(bus);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(one_record_per_transaction_gives_each_output_once),
            WW_CASE(ten_records_per_transaction_give_each_output_once),
            WW_CASE(hundred_records_per_transaction_give_each_output_once),
            WW_CASE(
                handler_failure_aborts_rewinds_and_reprocesses_exactly_once),
            WW_CASE(dlq_records_are_written_in_the_transaction),
            WW_CASE(
                a_poison_record_too_large_to_copy_is_dead_lettered_truncated),
            WW_CASE(non_retriable_handler_error_stops_the_processor),
            WW_CASE(same_transactional_id_fences_the_first_processor),
            WW_CASE(a_producer_fenced_without_a_newer_member_is_replaced),
            WW_CASE(fenced_again_and_again_ends_the_run),
            WW_CASE(rebalance_to_a_second_member_keeps_exactly_once),
            WW_CASE(the_owner_chooses_where_assigned_partitions_start),
            WW_CASE(settings_are_checked),
            {0}});
}
