/*
 * bench_rebuild - what a handover and a start cost with a long log: N
 * users facts (TrainingBalanceChanged, 10,000 users) on a fresh users.events
 * of the broker in KAFKA_BROKERS, then
 *   - the read model's replay of all of them (what a start waits for),
 *   - a new owner's copy of one partition's shard from the model (what a
 *     handover costs instead of a replay), for the largest partition,
 * against `kcat -C -e` over the same topic (read_committed), in one run,
 * and the process's resident memory before, at and after the catch-up.
 *
 *   bench_rebuild [N]      default 1000000
 */
#include "ww_bus_admin.h"
#include "ww_bus_config.h"
#include "ww_bus_publisher.h"
#include "ww_host_model.h"
#include "ww_schemas.h"
#include "ww_users_domain.h"
#include "ww_users_worker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PARTITIONS = 6, USERS = 10000 };

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Resident memory now (/proc/self/statm), MiB. */
static double rss_mib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static void die(const char *what, const ww_err_t *err) {
    fprintf(stderr, "bench_rebuild: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    ww_err_t err = {0};
    char prefix[64], topic[256];
    snprintf(prefix, sizeof prefix, "bench-rebuild-%d.", (int)getpid());
    setenv("WW_TOPIC_PREFIX", prefix, 1);
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    if (!bus || ww_bus_config_topic_name(bus, "users.events", topic,
                                         sizeof topic, &err))
        die("config", &err);
    ww_bus_topic_spec_t spec = {
        .name = topic, .partitions = PARTITIONS, .replication_factor = -1};
    if (ww_bus_admin_ensure_topics(bus, &spec, 1, 30000, &err))
        die("topic", &err);
    ww_bus_publisher_t *pub = ww_bus_publisher_new(bus, &err);
    if (!pub) die("publisher", &err);
    int64_t t0 = now_us();
    int64_t *balance = calloc(USERS, sizeof *balance);
    for (long i = 0; i < n; i++) {
        char user[32];
        int u = (int)(i % USERS);
        snprintf(user, sizeof user, "user-%05d", u);
        balance[u] += 1;
        Wildworkouts__Events__V1__CommandPosition at =
            WILDWORKOUTS__EVENTS__V1__COMMAND_POSITION__INIT;
        at.offset = i; /* increasing, as a decider records them */
        Wildworkouts__Events__V1__TrainingBalanceChanged e =
            WILDWORKOUTS__EVENTS__V1__TRAINING_BALANCE_CHANGED__INIT;
        e.user_id = user;
        e.amount_change = 1;
        e.balance_after = balance[u];
        e.reason =
            WILDWORKOUTS__EVENTS__V1__BALANCE_CHANGE_REASON__BALANCE_CHANGE_REASON_MANUAL;
        e.command = &at;
        ww_bus_envelope_meta_t meta = {.source = "/bench"};
        if (ww_bus_publisher_publish(pub, topic, user, strlen(user), &e.base,
                                     &meta, NULL, NULL, NULL, &err))
            die("publish", &err);
    }
    if (ww_bus_publisher_flush(pub, 120000, &err)) die("flush", &err);
    ww_bus_publisher_destroy(pub);
    double fill_s = (now_us() - t0) / 1e6;

    /* kcat over the same topic, read_committed, counting records */
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "kcat -C -b %s -t %s -o beginning -e -q -X "
             "isolation.level=read_committed -f '%%o\\n' | wc -l",
             ww_bus_config_brokers(bus), topic);
    t0 = now_us();
    FILE *p = popen(cmd, "r");
    long seen = 0;
    if (!p || fscanf(p, "%ld", &seen) != 1) die("kcat", NULL);
    pclose(p);
    double kcat_s = (now_us() - t0) / 1e6;

    double rss_before = rss_mib() * 1048576.0;
    ww_users_worker_t *w;
    if (ww_users_worker_new(&w, &err)) die("worker", &err);
    ww_host_service_config_t sc = ww_users_worker_service(w, NULL);
    ww_host_model_t *m;
    t0 = now_us();
    if (ww_host_model_new(bus, topic, PARTITIONS, sc.model_ops, sc.ctx, &m,
                          &err) ||
        ww_host_model_wait_caught_up(m, 600000, &err))
        die("replay", &err);
    double replay_s = (now_us() - t0) / 1e6;
    double rss_caught_up = rss_mib();
    struct timespec settle = {0, 300 * 1000000L}; /* the model's idle ticks */
    nanosleep(&settle, NULL);
    ww_host_model_stats_t st = ww_host_model_stats(m);
    int64_t ends[PARTITIONS];
    if (ww_host_model_ends(m, ends, 10000, &err)) die("ends", &err);
    int big = 0;
    for (int i = 1; i < PARTITIONS; i++)
        if (ends[i] > ends[big]) big = i;
    ww_shard_t *copy = NULL;
    t0 = now_us();
    if (ww_host_model_clone_at(m, big, ends[big], &copy, &err))
        die("clone", &err);
    double clone_ms = (now_us() - t0) / 1e3;
    ww_users_counts_t c;
    ww_users_counts(ww_shard_state_const(copy), &c);
    printf("| facts | fill s | read model replay facts/s | kcat -C msg/s | "
           "ratio | replay s | shard copy of partition %d (%lld facts, %zu "
           "users) ms |\n|---|---|---|---|---|---|---|\n",
           big, (long long)ends[big], c.users);
    printf("| %ld | %.1f | %.0f | %.0f | %.2f | %.2f | %.1f |\n", n, fill_s,
           st.applied / replay_s, seen / kcat_s,
           (st.applied / replay_s) / (seen / kcat_s), replay_s, clone_ms);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("RSS: %.0f MiB before the replay, %.0f MiB when caught up, %.0f "
           "MiB 0.3 s later, peak %.0f "
           "MiB (the fill's producer included)\n",
           rss_before / 1048576.0, rss_caught_up, rss_mib(),
           ru.ru_maxrss / 1024.0);
    if ((long)st.applied != n || seen != n)
        fprintf(stderr, "bench_rebuild: applied %llu, kcat saw %ld, want %ld\n",
                (unsigned long long)st.applied, seen, n);
    ww_shard_destroy(copy);
    ww_host_model_destroy(m);
    ww_users_worker_destroy(w);
    ww_bus_config_destroy(bus);
    free(balance);
    return (long)st.applied == n ? 0 : 1;
}
