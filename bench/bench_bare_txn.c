/*
 * bench_bare_txn - the floor under a write through the log: a bare
 * transactional loop in plain librdkafka (no project code on the path),
 * with the services' batching, under N concurrent callers.
 *
 *   bench_bare_txn [SECONDS] [CALLERS...]   default 5 s, callers 1 16 64
 *
 * Each caller produces a record to `in` (idempotent producer, linger 1 ms)
 * and waits until it comes back on `out`: a loop thread consumes `in`
 * (group member, read_committed), produces each record to `out` and commits
 * the batch with its input offsets in one transaction (up to 500 records
 * or 2 ms after the batch's first record, as the services' decider), and a
 * reader (read_committed, no group) hands every `out` record back to its
 * caller. The same round trip a gRPC write makes: command, decided in a
 * transaction, read back. Prints a Markdown table: callers, round trips/s,
 * p50/p99 ms, transactions/s and records per transaction. Broker:
 * KAFKA_BROKERS (run through scripts/with-kafka.sh).
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CALLERS = 256, MAX_BATCH = 500, BATCH_MS = 2, PARTITIONS = 6 };

static const char *brokers;
static char in_topic[128], out_topic[128], group[128];

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_bare_txn: %s: %s\n", what, why);
    exit(1);
}

static rd_kafka_conf_t *conf(const char *const *kv) {
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[256];
    if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof err))
        die("conf", err);
    for (; kv && *kv; kv += 2)
        if (rd_kafka_conf_set(c, kv[0], kv[1], err, sizeof err))
            die(kv[0], err);
    return c;
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *c) {
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) die("client", err);
    return rk;
}

static void check(rd_kafka_error_t *e, const char *what) {
    if (e) die(what, rd_kafka_error_string(e));
}

/* ------------------------------------------------------------ callers */

typedef struct caller {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t seq, back; /* sent / read back */
    int64_t *lat;       /* microseconds per round trip */
    size_t n, cap;
} caller_t;

static caller_t callers[MAX_CALLERS];
static atomic_bool running;
static rd_kafka_t *front; /* the callers' producer */
static atomic_ullong txns, txn_records;

typedef struct { int id; int64_t until; } caller_arg_t;

static void *caller_main(void *arg) {
    caller_arg_t *a = arg;
    caller_t *c = &callers[a->id];
    char key[16], value[64];
    snprintf(key, sizeof key, "k%d", a->id);
    while (now_us() < a->until) {
        int64_t t0 = now_us();
        pthread_mutex_lock(&c->mu);
        uint64_t seq = ++c->seq;
        pthread_mutex_unlock(&c->mu);
        int n = snprintf(value, sizeof value, "%d:%" PRIu64, a->id, seq);
        while (rd_kafka_producev(front, RD_KAFKA_V_TOPIC(in_topic),
                                 RD_KAFKA_V_KEY(key, strlen(key)),
                                 RD_KAFKA_V_VALUE(value, (size_t)n),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(front, 1);
        pthread_mutex_lock(&c->mu);
        while (c->back < seq) pthread_cond_wait(&c->cv, &c->mu);
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 4096;
            c->lat = realloc(c->lat, c->cap * sizeof *c->lat);
        }
        c->lat[c->n++] = now_us() - t0;
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

/* ------------------------------------------------------ the bare loop */

static void *loop_main(void *arg) {
    (void)arg;
    const char *ckv[] = {"group.id", group, "isolation.level", "read_committed",
                         "enable.auto.commit", "false",
                         "auto.offset.reset", "earliest",
                         "queued.min.messages", "1000000",
                         "fetch.wait.max.ms", "10", NULL};
    rd_kafka_t *cons = client(RD_KAFKA_CONSUMER, conf(ckv));
    rd_kafka_poll_set_consumer(cons);
    const char *pkv[] = {"transactional.id", group, "enable.idempotence", "true",
                         "retry.backoff.ms", "10", "linger.ms", "1",
                         "transaction.timeout.ms", "10000",
                         "message.timeout.ms", "9000", NULL};
    rd_kafka_t *prod = client(RD_KAFKA_PRODUCER, conf(pkv));
    check(rd_kafka_init_transactions(prod, 30000), "init_transactions");
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, in_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(cons, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    int64_t next[PARTITIONS];
    bool touched[PARTITIONS];
    int open = 0;
    int64_t deadline = 0;
    while (atomic_load(&running)) {
        int timeout = open ? (int)((deadline - now_us()) / 1000) : 100;
        rd_kafka_message_t *m =
            rd_kafka_consumer_poll(cons, timeout > 0 ? timeout : 0);
        if (m && !m->err) {
            if (!open) {
                check(rd_kafka_begin_transaction(prod), "begin");
                memset(touched, 0, sizeof touched);
                deadline = now_us() + BATCH_MS * 1000;
            }
            open++;
            touched[m->partition] = true;
            next[m->partition] = m->offset + 1;
            while (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(out_topic),
                                     RD_KAFKA_V_PARTITION(m->partition),
                                     RD_KAFKA_V_KEY(m->key, m->key_len),
                                     RD_KAFKA_V_VALUE(m->payload, m->len),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_END) ==
                   RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(prod, 1);
        }
        if (m) rd_kafka_message_destroy(m);
        if (open && (open >= MAX_BATCH || now_us() >= deadline)) {
            rd_kafka_topic_partition_list_t *offs =
                rd_kafka_topic_partition_list_new(PARTITIONS);
            for (int p = 0; p < PARTITIONS; p++)
                if (touched[p])
                    rd_kafka_topic_partition_list_add(offs, in_topic, p)
                        ->offset = next[p];
            rd_kafka_consumer_group_metadata_t *md =
                rd_kafka_consumer_group_metadata(cons);
            check(rd_kafka_send_offsets_to_transaction(prod, offs, md, 30000),
                  "send_offsets");
            rd_kafka_consumer_group_metadata_destroy(md);
            rd_kafka_topic_partition_list_destroy(offs);
            check(rd_kafka_commit_transaction(prod, 30000), "commit");
            atomic_fetch_add(&txns, 1);
            atomic_fetch_add(&txn_records, (unsigned long long)open);
            open = 0;
        }
    }
    if (open) rd_kafka_abort_transaction(prod, 30000);
    rd_kafka_consumer_close(cons);
    rd_kafka_destroy(cons);
    rd_kafka_destroy(prod);
    return NULL;
}

static void *reader_main(void *arg) {
    (void)arg;
    const char *kv[] = {"group.id", "bare-reader", "isolation.level",
                        "read_committed", "enable.auto.commit", "false",
                        "fetch.wait.max.ms", "10", NULL};
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, conf(kv));
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, out_topic, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    while (atomic_load(&running)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        int id;
        uint64_t seq;
        char v[64];
        snprintf(v, sizeof v, "%.*s", (int)m->len, (const char *)m->payload);
        if (!m->err && sscanf(v, "%d:%" SCNu64, &id, &seq) == 2 && id >= 0 &&
            id < MAX_CALLERS) {
            caller_t *c = &callers[id];
            pthread_mutex_lock(&c->mu);
            if (seq > c->back) c->back = seq;
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void create_topics(void) {
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, conf(NULL));
    rd_kafka_NewTopic_t *t[2];
    char err[256];
    t[0] = rd_kafka_NewTopic_new(in_topic, PARTITIONS, 1, err, sizeof err);
    t[1] = rd_kafka_NewTopic_new(out_topic, PARTITIONS, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, t, 2, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (!ev || rd_kafka_event_error(ev))
        die("create topics", ev ? rd_kafka_event_error_string(ev) : "timeout");
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy_array(t, 2);
    rd_kafka_destroy(rk);
    sleep(1); /* leaders */
}

int main(int argc, char **argv) {
    brokers = getenv("KAFKA_BROKERS");
    if (!brokers || !*brokers) die("KAFKA_BROKERS", "not set");
    int seconds = argc > 1 ? atoi(argv[1]) : 5;
    int rows[8] = {1, 16, 64}, n_rows = 3;
    if (argc > 2) {
        n_rows = 0;
        for (int i = 2; i < argc && n_rows < 8; i++) rows[n_rows++] = atoi(argv[i]);
    }
    snprintf(in_topic, sizeof in_topic, "bare-in-%d", (int)getpid());
    snprintf(out_topic, sizeof out_topic, "bare-out-%d", (int)getpid());
    snprintf(group, sizeof group, "bare-loop-%d", (int)getpid());
    create_topics();
    for (int i = 0; i < MAX_CALLERS; i++) {
        pthread_mutex_init(&callers[i].mu, NULL);
        pthread_cond_init(&callers[i].cv, NULL);
    }
    const char *fkv[] = {"enable.idempotence", "true", "linger.ms", "1",
                         "partitioner", "murmur2_random", NULL};
    front = client(RD_KAFKA_PRODUCER, conf(fkv));
    atomic_store(&running, true);
    pthread_t loop, reader;
    pthread_create(&loop, NULL, loop_main, NULL);
    pthread_create(&reader, NULL, reader_main, NULL);
    /* warm up: one round trip through the group and the transaction */
    {
        caller_arg_t a = {0, now_us() + 3000000};
        caller_main(&a);
        callers[0].n = 0;
    }
    printf("| callers | round trips/s | p50 ms | p99 ms | transactions/s | "
           "records/txn |\n|---|---|---|---|---|---|\n");
    for (int r = 0; r < n_rows; r++) {
        int nc = rows[r] < MAX_CALLERS ? rows[r] : MAX_CALLERS;
        for (int i = 0; i < nc; i++) callers[i].n = 0;
        unsigned long long t0 = atomic_load(&txns),
                           r0 = atomic_load(&txn_records);
        int64_t start = now_us(), until = start + (int64_t)seconds * 1000000;
        pthread_t th[MAX_CALLERS];
        caller_arg_t args[MAX_CALLERS];
        for (int i = 0; i < nc; i++) {
            args[i] = (caller_arg_t){i, until};
            pthread_create(&th[i], NULL, caller_main, &args[i]);
        }
        for (int i = 0; i < nc; i++) pthread_join(th[i], NULL);
        double secs = (now_us() - start) / 1e6;
        size_t total = 0;
        for (int i = 0; i < nc; i++) total += callers[i].n;
        int64_t *all = malloc((total + 1) * sizeof *all);
        size_t k = 0;
        for (int i = 0; i < nc; i++)
            for (size_t j = 0; j < callers[i].n; j++) all[k++] = callers[i].lat[j];
        qsort(all, total, sizeof *all, cmp64);
        unsigned long long dt = atomic_load(&txns) - t0,
                           dr = atomic_load(&txn_records) - r0;
        printf("| %d | %.0f | %.1f | %.1f | %.0f | %.1f |\n", nc, total / secs,
               total ? all[total / 2] / 1000.0 : 0,
               total ? all[(size_t)(total * 0.99)] / 1000.0 : 0, dt / secs,
               dt ? (double)dr / dt : 0);
        fflush(stdout);
        free(all);
    }
    atomic_store(&running, false);
    pthread_join(loop, NULL);
    pthread_join(reader, NULL);
    rd_kafka_flush(front, 5000);
    rd_kafka_destroy(front);
    return 0;
}
