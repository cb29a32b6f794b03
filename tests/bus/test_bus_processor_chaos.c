/*
 * Exactly-once through crashes: a transactional processor in a child
 * process is killed with SIGKILL at random points while it turns 10,000
 * inputs into outputs, and started again each time (same instance id, so
 * the restart fences the dead one and aborts its open transaction). At the
 * end a read_committed reader sees each input's output exactly once.
 */
#include "bus_txn_support.h"
#include "ww_bus_replay.h"
#include "ww_test.h"
#include "ww_test_proc.h"

#include <signal.h>

enum { N = 10000, KILLS = 12 };

static pid_t spawn(const char *in, const char *out, const char *group) {
    return ww_test_proc_spawn(
        (const char *[]){CHILD_PATH, in, out, group, "chaos-1", "50", NULL},
        NULL);
}

static ww_code_t count_out(void *opaque, const rd_kafka_message_t *m,
                           ww_err_t *err) {
    int *counts = opaque, id;
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)m->len, (const char *)m->payload);
    if (sscanf(buf, "out-%d", &id) != 1 || id < 0 || id >= N)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "bad output %s", buf);
    counts[id]++;
    return WW_OK;
}

/* Reads the output read_committed: number of records, and ids 0..N-1 into
 * counts (caller-owned, N entries, zeroed here). */
static uint64_t read_output(ww_bus_config_t *bus, const char *out,
                            int *counts) {
    memset(counts, 0, N * sizeof *counts);
    ww_bus_replay_config_t rc = {.topic = out, .handler = count_out,
                                 .opaque = counts, .timeout_ms = 30000};
    ww_bus_replay_stats_t st;
    ww_err_t err = {0};
    WW_ASSERT_MSG(ww_bus_replay_run(bus, &rc, &st, &err) == WW_OK, "%s",
                  err.msg);
    return st.records;
}

WW_TEST(sigkilled_processor_still_gives_each_output_exactly_once) {
    char in[128], out[128], group[128];
    ww_test_unique_name(in, sizeof in, "chaos-in");
    ww_test_unique_name(out, sizeof out, "chaos-out");
    ww_test_unique_name(group, sizeof group, "chaos-group");
    bt_create_topic(in, 4);
    bt_create_topic(out, 4);
    bt_produce(in, RD_KAFKA_PARTITION_UA, 0, N, "in-%d");
    ww_bus_config_t *bus = bt_bus(NULL);
    int *counts = calloc(N, sizeof *counts);
    srand((unsigned)getpid());

    int mid_kills = 0;
    uint64_t last = 0;
    for (int k = 0; k < KILLS && last < N; k++) {
        pid_t pid = spawn(in, out, group);
        /* Kill only once this child has committed something, then at a
         * random point of its work: on a slow machine a fixed delay would
         * often hit the start-up instead. */
        int64_t deadline = ww_test_now_ms() + 30000;
        uint64_t seen = last;
        while ((seen = read_output(bus, out, counts)) == last &&
               ww_test_now_ms() < deadline)
            usleep(20000);
        WW_ASSERT_MSG(seen > last, "child %d made no progress in 30 s", k);
        usleep((useconds_t)(rand() % 300) * 1000);
        int code = ww_test_proc_stop(pid, SIGKILL, 10000);
        WW_ASSERT_MSG(code == 128 + SIGKILL,
                      "child ended by itself (exit %d) before the kill", code);
        seen = read_output(bus, out, counts);
        for (int i = 0; i < N; i++)
            WW_ASSERT_MSG(counts[i] <= 1, "output %d seen %d times after "
                          "kill %d", i, counts[i], k);
        fprintf(stderr, "  kill %d: %llu outputs committed\n", k,
                (unsigned long long)seen);
        if (seen < N) mid_kills++;
        last = seen;
    }
    /* Kills that landed while work was left, i.e. what the test is about. */
    WW_ASSERT_MSG(mid_kills >= 3, "only %d kills during processing",
                  mid_kills);

    pid_t pid = spawn(in, out, group);
    int64_t deadline = ww_test_now_ms() + 90000;
    uint64_t seen;
    while ((seen = read_output(bus, out, counts)) < N &&
           ww_test_now_ms() < deadline)
        usleep(300000);
    int code = ww_test_proc_stop(pid, SIGTERM, 60000);
    WW_ASSERT_MSG(code == 0, "last child did not stop cleanly (exit %d)", code);
    seen = read_output(bus, out, counts);
    WW_ASSERT_EQ_INT(seen, N);
    for (int i = 0; i < N; i++)
        WW_ASSERT_MSG(counts[i] == 1, "output %d seen %d times", i, counts[i]);
    free(counts);
    ww_bus_config_destroy(bus);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(sigkilled_processor_still_gives_each_output_exactly_once),
            {0}});
}
