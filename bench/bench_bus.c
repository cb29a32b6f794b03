/*
 * bench_bus - publish and subscribe throughput of the event bus against
 * kcat on the same broker, topic and message size, in one bounded run:
 *
 *   publish:   ww_bus_publisher (typed event, envelope, idempotent, acks=all,
 *              delivery callback per record, flush) vs kcat -P (raw lines,
 *              same acks and idempotence);
 *   subscribe: ww_bus_subscriber (group, decode + handler + offset store +
 *              commits) vs kcat -C raw consume of the same topic to its end
 *              (and, for scale, kcat -C printing every record's headers).
 *
 * Usage: bench_bus [--quick]   (KAFKA_BROKERS must point at the broker;
 * scripts/with-kafka.sh provides one). Prints a markdown table; each figure
 * is the best of three interleaved rounds.
 * --quick runs tiny counts: a smoke test that the run works, not figures.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww_bus_admin.h"
#include "ww_bus_config.h"
#include "ww_bus_publisher.h"
#include "ww_bus_subscriber.h"
#include "ww_schemas.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const ww_err_t *err) {
    fprintf(stderr, "bench_bus: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* A TrainingScheduled whose packed size is exactly `size` bytes. */
static void sized_event(Wildworkouts__Events__V1__TrainingScheduled *ev,
                        char *notes, size_t size) {
    *ev = (Wildworkouts__Events__V1__TrainingScheduled)
        WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
    ev->trainer_id = "trainer-1";
    ev->training_uuid = "0b7e1c1e-1111-4222-8333-444455556666";
    ev->user_id = "user-1";
    for (size_t n = 0; n < size; n++) {
        memset(notes, 'x', n);
        notes[n] = '\0';
        ev->notes = notes;
        if (protobuf_c_message_get_packed_size(&ev->base) >= size) return;
    }
}

static atomic_long delivered_ok, delivered_failed;

static void on_delivery(void *opaque, const ww_bus_delivery_t *d) {
    (void)opaque;
    if (d->code == WW_OK)
        atomic_fetch_add(&delivered_ok, 1);
    else
        atomic_fetch_add(&delivered_failed, 1);
}

static double bench_publish(ww_bus_config_t *cfg, const char *topic,
                            size_t size, long n) {
    ww_err_t err = {0};
    ww_bus_publisher_t *pub = ww_bus_publisher_new(cfg, &err);
    if (!pub) die("publisher", &err);
    char *notes = malloc(size + 1);
    Wildworkouts__Events__V1__TrainingScheduled ev;
    sized_event(&ev, notes, size);
    ww_bus_envelope_meta_t meta = {.source = "/bench"};
    atomic_store(&delivered_ok, 0);
    atomic_store(&delivered_failed, 0);
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        if (ww_bus_publisher_publish(pub, topic, NULL, 0, &ev.base, &meta,
                                     on_delivery, NULL, NULL, &err))
            die("publish", &err);
    if (ww_bus_publisher_flush(pub, 120000, &err)) die("flush", &err);
    double secs = now_s() - t0;
    if (atomic_load(&delivered_ok) != n)
        die("not every record was delivered", NULL);
    ww_bus_publisher_destroy(pub);
    free(notes);
    return n / secs;
}

/* Runs a shell command and returns its wall time in seconds. */
static double timed(const char *cmd) {
    double t0 = now_s();
    int rc = system(cmd);
    double secs = now_s() - t0;
    if (rc != 0) {
        fprintf(stderr, "bench_bus: failed (%d): %s\n", rc, cmd);
        exit(1);
    }
    return secs;
}

/* kcat -P of n lines of `size` bytes; with_headers adds the six envelope
 * headers with values of the bus's lengths, so the records on the wire are
 * as large as the bus's. */
static double bench_kcat_produce(const char *brokers, const char *topic,
                                 size_t size, long n, bool with_headers) {
    char path[] = "/tmp/ww-bench-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    char *line = malloc(size + 2);
    memset(line, 'x', size);
    line[size] = '\n';
    for (long i = 0; i < n; i++) fwrite(line, 1, size + 1, f);
    fclose(f);
    free(line);
    char cmd[1024];
    const char *headers =
        with_headers
            ? "-H ce_specversion=1.0 "
              "-H ce_id=0b7e1c1e-1111-4222-8333-444455556666 "
              "-H ce_type=wildworkouts.events.v1.TrainingScheduled "
              "-H ce_source=/bench -H ce_time=2026-11-26T13:40:00.123Z "
              "-H content-type=application/protobuf"
            : "";
    snprintf(cmd, sizeof cmd,
             "kcat -P -b %s -t %s -X acks=all -X enable.idempotence=true "
             "%s < %s", brokers, topic, headers, path);
    double secs = timed(cmd);
    unlink(path);
    return n / secs;
}

/* kcat -C of the topic's first n records; with_headers prints every
 * record's headers too, which makes kcat parse them as the subscriber
 * must (raw consume never touches them). */
static double bench_kcat_consume(const char *brokers, const char *topic,
                                 long n, bool with_headers) {
    char cmd[1024];
    /* -c stops after n records; the line count checks that all came. */
    snprintf(cmd, sizeof cmd,
             "test \"$(kcat -C -b %s -t %s -o beginning -c %ld -q "
             "-f '%s\\n' | wc -l)\" = %ld", brokers, topic, n,
             with_headers ? "%o %h" : "%o", n);
    return n / timed(cmd);
}

static atomic_long handled;
static double first_at;

static ww_bus_verdict_t count_handler(void *opaque, const ww_bus_record_t *rec,
                                      ww_err_t *reason) {
    (void)opaque;
    (void)reason;
    (void)rec;
    if (atomic_fetch_add(&handled, 1) == 0) first_at = now_s();
    return WW_BUS_ACK;
}

/* Returns msg/s from creation (group join included); *steady receives the
 * rate from the first record on. */
static double bench_subscribe(ww_bus_config_t *cfg, const char *topic,
                              long n, double *steady) {
    static ww_bus_registry_t *reg;
    if (!reg) {
        reg = ww_bus_registry_new();
        size_t k;
        const ProtobufCMessageDescriptor *const *d =
            ww_schemas_trainer_events(&k);
        ww_bus_registry_add_all(reg, d, k, NULL);
    }
    char group[160];
    snprintf(group, sizeof group, "%s-g", topic);
    const char *topics[] = {topic};
    ww_bus_subscriber_opts_t o = {.group = group, .topics = topics,
                                  .n_topics = 1, .registry = reg,
                                  .handler = count_handler};
    ww_err_t err = {0};
    atomic_store(&handled, 0);
    double t0 = now_s();
    ww_bus_subscriber_t *sub = ww_bus_subscriber_new(cfg, &o, &err);
    if (!sub || ww_bus_subscriber_start(sub, &err)) die("subscriber", &err);
    while (atomic_load(&handled) < n) {
        if (now_s() - t0 > 120) die("subscriber did not finish", NULL);
        usleep(1000);
    }
    double end = now_s(), secs = end - t0;
    *steady = (n - 1) / (end - first_at);
    if (ww_bus_subscriber_close(sub, &err)) die("close", &err);
    ww_bus_subscriber_destroy(sub);
    return n / secs;
}

int main(int argc, char **argv) {
    bool quick = argc > 1 && !strcmp(argv[1], "--quick");
    const char *brokers = getenv("KAFKA_BROKERS");
    if (!brokers || !*brokers) {
        fprintf(stderr, "bench_bus: KAFKA_BROKERS is not set\n");
        return 2;
    }
    ww_err_t err = {0};
    ww_bus_config_t *cfg = ww_bus_config_new(&err);
    if (!cfg || ww_bus_config_set_brokers(cfg, brokers, &err))
        die("config", &err);
    struct {
        size_t size;
        long n;
    } runs[] = {{100, quick ? 2000 : 300000}, {1024, quick ? 1000 : 100000}};
    printf("| size | messages | ww publish | kcat -P +headers | ratio "
           "| kcat -P bare | ww subscribe (incl. join) | ww subscribe steady "
           "| kcat -C | ratio (steady) | kcat -C +headers |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|\n");
    /* Other work shares the machine: each figure is the best of `rounds`
     * interleaved rounds, so a burst of foreign load hits all sides. */
    int rounds = quick ? 1 : 3;
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        double wp = 0, kp = 0, kb = 0, kc = 0, kh = 0, wc = 0, steady = 0;
        for (int round = 0; round < rounds; round++) {
            char ww_topic[128], kcat_topic[128], bare_topic[128];
            snprintf(ww_topic, sizeof ww_topic, "bench-ww-%zu-%d-%ld-%d",
                     runs[r].size, (int)getpid(), (long)time(NULL), round);
            snprintf(kcat_topic, sizeof kcat_topic, "bench-kcat-%zu-%d-%ld-%d",
                     runs[r].size, (int)getpid(), (long)time(NULL), round);
            snprintf(bare_topic, sizeof bare_topic, "bench-bare-%zu-%d-%ld-%d",
                     runs[r].size, (int)getpid(), (long)time(NULL), round);
            ww_bus_topic_spec_t specs[] = {
                {.name = ww_topic, .partitions = 1, .replication_factor = 1},
                {.name = kcat_topic, .partitions = 1, .replication_factor = 1},
                {.name = bare_topic, .partitions = 1, .replication_factor = 1},
            };
            if (ww_bus_admin_ensure_topics(cfg, specs, 3, 30000, &err))
                die("topics", &err);
            double v = bench_kcat_produce(brokers, kcat_topic, runs[r].size,
                                          runs[r].n, true);
            if (v > kp) kp = v;
            v = bench_kcat_produce(brokers, bare_topic, runs[r].size,
                                   runs[r].n, false);
            if (v > kb) kb = v;
            v = bench_publish(cfg, ww_topic, runs[r].size, runs[r].n);
            if (v > wp) wp = v;
            /* Both consumers read the topic the bus wrote (kcat ignores
             * the headers; the subscriber needs them). */
            v = bench_kcat_consume(brokers, ww_topic, runs[r].n, false);
            if (v > kc) kc = v;
            v = bench_kcat_consume(brokers, ww_topic, runs[r].n, true);
            if (v > kh) kh = v;
            double st;
            v = bench_subscribe(cfg, ww_topic, runs[r].n, &st);
            if (v > wc) wc = v;
            if (st > steady) steady = st;
        }
        printf("| %zu B | %ld | %.0f | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f "
               "| %.2f | %.0f |\n",
               runs[r].size, runs[r].n, wp, kp, wp / kp, kb, wc, steady, kc,
               steady / kc, kh);
        fflush(stdout);
    }
    ww_bus_config_destroy(cfg);
    return 0;
}
