/*
 * bench_txn - the transactional processor's round trip and replay speed on
 * the broker in KAFKA_BROKERS (run it through scripts/with-kafka.sh).
 *
 *   bench_txn [SCALE]     SCALE (default 1) multiplies the record counts
 *   bench_txn --quick     a tenth of the records: keeps the benchmark
 *                         working in the suite (bench_txn_smoke)
 *
 * Round trip: a record is produced to an input topic, consumed by the
 * processor, its output produced and committed in a transaction together
 * with the input offset, and read back read_committed by a tailing reader.
 * For 1, 10 and 100 records per transaction it measures
 *   throughput: a backlog of records through the whole loop (first input
 *               produced to last output read);
 *   latency:    records produced at about half that throughput, each
 *               carrying its send time; p50/p99 of send -> read back.
 * Replay: ww_bus_replay over a topic of 100-byte records against
 * `kcat -C -e` (read_committed) over the same topic.
 * Prints a Markdown table.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ww_bus_admin.h"
#include "ww_bus_config.h"
#include "ww_bus_processor.h"
#include "ww_bus_replay.h"
#include "ww_bus_tail.h"

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const ww_err_t *err) {
    fprintf(stderr, "bench_txn: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void make_topic(ww_bus_config_t *bus, const char *name, int parts) {
    ww_err_t err = {0};
    ww_bus_topic_spec_t spec = {.name = name, .partitions = parts,
                                .replication_factor = 1};
    if (ww_bus_admin_ensure_topics(bus, &spec, 1, 30000, &err))
        die("create topic", &err);
}

static rd_kafka_t *producer(ww_bus_config_t *bus) {
    ww_err_t err = {0};
    char buf[256];
    rd_kafka_conf_t *conf = ww_bus_config_producer_conf(bus, &err);
    if (!conf) die("producer conf", &err);
    rd_kafka_conf_set(conf, "linger.ms", "5", buf, sizeof buf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, buf, sizeof buf);
    if (!rk) {
        fprintf(stderr, "bench_txn: producer: %s\n", buf);
        exit(1);
    }
    return rk;
}

static void produce(rd_kafka_t *rk, const char *topic, const void *val,
                    size_t len) {
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_VALUE((void *)val, len),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    rd_kafka_poll(rk, 0);
}

/* ---- round trip ------------------------------------------------------- */

static const char *g_out_topic;

/* The value is the send time (8 bytes) and padding to 100 bytes; the
 * output carries it on unchanged. */
static ww_code_t copy_through(void *opaque, ww_bus_processor_t *p,
                              const rd_kafka_message_t *m, ww_err_t *err) {
    (void)opaque;
    return ww_bus_processor_produce(p, g_out_topic, RD_KAFKA_PARTITION_UA,
                                    m->key, m->key_len, m->payload, m->len,
                                    NULL, err);
}

typedef struct reads {
    pthread_mutex_t lock;
    int64_t *lat_us;
    int n, cap;
    int64_t last_us;
    int record_latency;
} reads_t;

static ww_code_t on_output(void *opaque, const rd_kafka_message_t *m,
                           ww_err_t *err) {
    (void)err;
    reads_t *r = opaque;
    int64_t t = now_us(), sent = 0;
    if (m->len >= sizeof sent) memcpy(&sent, m->payload, sizeof sent);
    pthread_mutex_lock(&r->lock);
    if (r->record_latency && r->n < r->cap) r->lat_us[r->n] = t - sent;
    r->n++;
    r->last_us = t;
    pthread_mutex_unlock(&r->lock);
    return WW_OK;
}

static int reads_count(reads_t *r) {
    pthread_mutex_lock(&r->lock);
    int n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void *run_proc(void *arg) {
    ww_err_t err = {0};
    if (ww_bus_processor_run(arg, &err)) die("processor", &err);
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void wait_reads(reads_t *r, int want, int timeout_s) {
    int64_t deadline = now_us() + (int64_t)timeout_s * 1000000;
    while (reads_count(r) < want && now_us() < deadline) usleep(2000);
    if (reads_count(r) < want) {
        fprintf(stderr, "bench_txn: only %d of %d outputs read back\n",
                reads_count(r), want);
        exit(1);
    }
}

static void round_trip(ww_bus_config_t *bus, int per_txn, int backlog,
                       int latency_s) {
    char in[128], out[128], group[64];
    snprintf(in, sizeof in, "bench-txn-in-%d-%d", (int)getpid(), per_txn);
    snprintf(out, sizeof out, "bench-txn-out-%d-%d", (int)getpid(), per_txn);
    snprintf(group, sizeof group, "bench-txn-%d-%d", (int)getpid(), per_txn);
    make_topic(bus, in, 1);
    make_topic(bus, out, 1);
    g_out_topic = out;

    reads_t r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ww_err_t err = {0};
    ww_bus_tail_t *tail;
    ww_bus_tail_config_t tc = {.topic = out, .handler = on_output,
                               .opaque = &r};
    if (ww_bus_tail_start(bus, &tc, &tail, &err)) die("tail", &err);
    const char *outs[] = {out, NULL};
    ww_bus_processor_config_t pc = {.input_topic = in, .group = group,
                                    .output_topics = outs,
                                    .max_records = per_txn, .max_wait_ms = 5,
                                    .handle = copy_through};
    ww_bus_processor_t *proc;
    if (ww_bus_processor_new(bus, &pc, &proc, &err)) die("processor", &err);
    pthread_t th;
    pthread_create(&th, NULL, run_proc, proc);

    rd_kafka_t *rk = producer(bus);
    char val[100] = {0};
    /* Warm-up: group join, transactions initialised, first commit. */
    produce(rk, in, val, sizeof val);
    rd_kafka_flush(rk, 10000);
    wait_reads(&r, 1, 60);

    /* Throughput: a backlog through the whole loop. */
    int base = reads_count(&r);
    int64_t t0 = now_us();
    for (int i = 0; i < backlog; i++) produce(rk, in, val, sizeof val);
    rd_kafka_flush(rk, 30000);
    wait_reads(&r, base + backlog, 300);
    double secs = (double)(r.last_us - t0) / 1e6;
    double rate = backlog / secs;

    /* Latency: paced at about half the measured throughput. */
    int n = (int)(rate / 2 * latency_s);
    if (n < 20) n = 20;
    int64_t gap = (int64_t)(1e6 / (rate / 2));
    pthread_mutex_lock(&r.lock);
    r.cap = n;
    r.lat_us = calloc((size_t)n, sizeof *r.lat_us);
    base = r.n;
    r.n = 0;
    r.record_latency = 1;
    pthread_mutex_unlock(&r.lock);
    (void)base;
    int64_t next = now_us();
    for (int i = 0; i < n; i++) {
        while (now_us() < next) {
            rd_kafka_poll(rk, 0);
            usleep(200);
        }
        int64_t t = now_us();
        memcpy(val, &t, sizeof t);
        produce(rk, in, val, sizeof val);
        rd_kafka_flush(rk, 0); /* send now, no linger */
        next += gap;
    }
    rd_kafka_flush(rk, 30000);
    wait_reads(&r, n, 120);
    qsort(r.lat_us, (size_t)n, sizeof *r.lat_us, cmp64);
    double p50 = r.lat_us[n / 2] / 1000.0;
    double p99 = r.lat_us[(n * 99) / 100] / 1000.0;
    printf("| %d | %d | %.0f | %d | %.1f | %.1f |\n", per_txn, backlog, rate,
           n, p50, p99);
    fflush(stdout);

    ww_bus_processor_stop(proc);
    pthread_join(th, NULL);
    ww_bus_processor_destroy(proc);
    ww_bus_tail_destroy(tail);
    rd_kafka_destroy(rk);
    free(r.lat_us);
}

/* ---- replay ----------------------------------------------------------- */

static ww_code_t count_only(void *opaque, const rd_kafka_message_t *m,
                            ww_err_t *err) {
    (void)m;
    (void)err;
    (*(uint64_t *)opaque)++;
    return WW_OK;
}

static double kcat_seconds(const char *brokers, const char *topic,
                           long *lines) {
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "kcat -C -b %s -t %s -o beginning -e -q "
             "-X isolation.level=read_committed -f '%%o\\n' | wc -l",
             brokers, topic);
    int64_t t0 = now_us();
    FILE *f = popen(cmd, "r");
    if (!f || fscanf(f, "%ld", lines) != 1) {
        fprintf(stderr, "bench_txn: kcat failed\n");
        exit(1);
    }
    pclose(f);
    return (double)(now_us() - t0) / 1e6;
}

static void replay_bench(ww_bus_config_t *bus, int records) {
    char topic[128];
    snprintf(topic, sizeof topic, "bench-replay-%d", (int)getpid());
    make_topic(bus, topic, 4);
    rd_kafka_t *rk = producer(bus);
    char val[100];
    memset(val, 'x', sizeof val);
    for (int i = 0; i < records; i++) produce(rk, topic, val, sizeof val);
    rd_kafka_flush(rk, 60000);
    rd_kafka_destroy(rk);

    ww_err_t err = {0};
    double best_ours = 0, best_kcat = 0;
    for (int round = 0; round < 2; round++) {
        uint64_t n = 0;
        ww_bus_replay_config_t rc = {.topic = topic, .handler = count_only,
                                     .opaque = &n, .timeout_ms = 120000};
        ww_bus_replay_stats_t st;
        if (ww_bus_replay_run(bus, &rc, &st, &err)) die("replay", &err);
        if (n != (uint64_t)records) {
            fprintf(stderr, "bench_txn: replay read %llu of %d\n",
                    (unsigned long long)n, records);
            exit(1);
        }
        double ours = records / (st.elapsed_ms / 1000.0);
        long lines = 0;
        double ks = kcat_seconds(ww_bus_config_brokers(bus), topic, &lines);
        if (lines != records) {
            fprintf(stderr, "bench_txn: kcat read %ld of %d\n", lines,
                    records);
            exit(1);
        }
        double kc = records / ks;
        if (ours > best_ours) best_ours = ours;
        if (kc > best_kcat) best_kcat = kc;
    }
    printf("| %d x 100 B, 4 partitions | %.0f | %.0f | %.2f |\n", records,
           best_ours, best_kcat, best_ours / best_kcat);
}

int main(int argc, char **argv) {
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int scale = argc > 1 && !quick ? atoi(argv[1]) : 1;
    if (scale < 1) scale = 1;
    int div = quick ? 10 : 1;
    ww_err_t err = {0};
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    if (!bus) die("config", &err);
    if (!ww_bus_config_brokers(bus)) {
        fprintf(stderr, "bench_txn: set KAFKA_BROKERS (scripts/with-kafka.sh)\n");
        return 2;
    }
    if (!ww_bus_config_instance_id(bus) &&
        ww_bus_config_set_instance_id(bus, "bench", &err))
        die("instance id", &err);
    ww_bus_config_set_transaction_timeout_ms(bus, 10000, &err);

    printf("| records/txn | backlog | round trips/s | latency samples | "
           "p50 ms | p99 ms |\n|---|---|---|---|---|---|\n");
    round_trip(bus, 1, 200 * scale / div, quick ? 1 : 2);
    round_trip(bus, 10, 2000 * scale / div, quick ? 1 : 2);
    round_trip(bus, 100, 10000 * scale / div, quick ? 1 : 2);

    printf("\n| replay of | ww_bus_replay msg/s | kcat -C msg/s | ratio |\n"
           "|---|---|---|---|\n");
    replay_bench(bus, 200000 * scale / div);
    ww_bus_config_destroy(bus);
    return 0;
}
