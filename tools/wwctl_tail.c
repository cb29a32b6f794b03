/* wwctl_tail.c - `wwctl tail`: a topic's records as JSON lines (one per
 * record, wwctl_record.h), read_committed, every partition, from a chosen
 * start; following the topic until Ctrl-C, or stopping at the end it had
 * when the command started. */
#include "ww_bus_config.h"
#include "ww_bus_offsets.h"
#include "ww_bus_tail.h"
#include "ww_rfc3339.h"
#include "wwctl_cmd.h"
#include "wwctl_record.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_TYPES = 32 };

typedef enum from_kind {
    FROM_BEGINNING,
    FROM_END,
    FROM_OFFSET,
    FROM_TIME
} from_kind_t;

typedef struct tail_args {
    const char *topic; /* as the catalogue names it, without the prefix */
    from_kind_t from;
    int64_t from_value; /* FROM_OFFSET: the offset; FROM_TIME: Unix ms */
    const char *types[MAX_TYPES]; /* full names */
    int n_types;
    int32_t partition; /* -1: all */
    bool exit_at_end;
} tail_args_t;

typedef struct tail_run {
    const wwctl_ctx_t *ctx;
    const tail_args_t *args;
    ww_bus_registry_t *reg;
    const int64_t *ends; /* exit_at_end: nothing at or past these */
    int count;
    /* --from TIME: whether each partition printed its first record at or
     * after TIME (only the tail's thread touches it). */
    bool *reached;
    atomic_bool failed; /* a line could not be built or written */
    int64_t failed_partition, failed_offset;
} tail_run_t;

/* A record without ce_type passes every filter: nobody can say it is not
 * of the type asked for, and an operator wants to see it. */
static bool wanted(const tail_run_t *t, const wwctl_record_t *r) {
    if (t->args->partition >= 0 && r->partition != t->args->partition)
        return false;
    if (t->args->exit_at_end && r->partition >= 0 && r->partition < t->count &&
        r->offset >= t->ends[r->partition])
        return false; /* after the end as of the start */
    /* Offsets for times answer the first *offset* with a timestamp at or
     * after TIME, and a transaction's commit marker, written when the
     * transaction ends, counts: the records of the next transaction right
     * after it may be older. Printing starts at the first record at or
     * after TIME in each partition. */
    if (t->reached && r->partition >= 0 && r->partition < t->count &&
        !t->reached[r->partition]) {
        if (r->timestamp_ms >= 0 && r->timestamp_ms < t->args->from_value)
            return false;
        t->reached[r->partition] = true;
    }
    if (t->args->n_types == 0) return true;
    char type[256];
    wwctl_record_header(r->headers, "ce_type", type, sizeof type);
    if (!type[0]) return true;
    for (int i = 0; i < t->args->n_types; i++)
        if (strcmp(type, t->args->types[i]) == 0) return true;
    return false;
}

static ww_code_t on_record(void *opaque, const rd_kafka_message_t *m,
                           ww_err_t *err) {
    (void)err;
    tail_run_t *t = opaque;
    if (atomic_load(&t->failed)) return WW_OK;
    wwctl_record_t r = wwctl_record_of(m);
    if (!wanted(t, &r)) return WW_OK;
    if (wwctl_cmd_print_json(wwctl_record_json(&r, t->reg)) != 0) {
        /* never skipped silently: the command stops and says where */
        t->failed_partition = m->partition;
        t->failed_offset = m->offset;
        atomic_store(&t->failed, true);
    }
    return WW_OK;
}

static bool legal_topic(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 249) return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._-") == n;
}

static bool parse_from(const wwctl_ctx_t *ctx, const char *s, tail_args_t *a) {
    if (strcmp(s, "beginning") == 0) {
        a->from = FROM_BEGINNING;
        return true;
    }
    if (strcmp(s, "end") == 0) {
        a->from = FROM_END;
        return true;
    }
    if (*s && strspn(s, "0123456789") == strlen(s)) {
        a->from = FROM_OFFSET;
        return wwctl_cmd_parse_int(ctx, "--from OFFSET", s, 0, INT64_MAX,
                                   &a->from_value);
    }
    ww_err_t err;
    if (ww_rfc3339_parse_ms(s, &a->from_value, &err) == WW_OK) {
        a->from = FROM_TIME;
        return true;
    }
    wwctl_cmd_usage(ctx,
                    "--from \"%s\" is not beginning, end, an offset or an "
                    "RFC 3339 time (%s)",
                    s, err.msg);
    return false;
}

static int parse_args(const wwctl_ctx_t *ctx, int argc, char **argv,
                      const ww_bus_registry_t *reg, tail_args_t *a) {
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'F'},
        {"type", required_argument, NULL, 't'},
        {"partition", required_argument, NULL, 'p'},
        {"follow", no_argument, NULL, 'f'},
        {"exit-at-end", no_argument, NULL, 'e'},
        {0}};
    *a = (tail_args_t){.partition = -1};
    for (int o;
         (o = wwctl_cmd_getopt(ctx, argc, argv, "t:p:fe", opts)) != -1;) {
        int64_t v;
        switch (o) {
        case 'F':
            if (!parse_from(ctx, optarg, a)) return WWCTL_EXIT_USAGE;
            break;
        case 't': {
            const char *full = wwctl_record_type_name(reg, optarg);
            if (!full) {
                char known[2048];
                wwctl_record_type_list(known, sizeof known);
                return wwctl_cmd_usage(ctx,
                                       "--type \"%s\" is no schema type "
                                       "(known: %s)",
                                       optarg, known);
            }
            if (a->n_types == MAX_TYPES)
                return wwctl_cmd_usage(ctx, "at most %d --type options",
                                       MAX_TYPES);
            a->types[a->n_types++] = full;
            break;
        }
        case 'p':
            if (!wwctl_cmd_parse_int(ctx, "--partition", optarg, 0, INT32_MAX,
                                     &v))
                return WWCTL_EXIT_USAGE;
            a->partition = (int32_t)v;
            break;
        case 'f':
            a->exit_at_end = false;
            break;
        case 'e':
            a->exit_at_end = true;
            break;
        default:
            return WWCTL_EXIT_USAGE;
        }
    }
    if (!wwctl_cmd_operands(ctx, argc, argv, optind, "TOPIC", 1, 1))
        return WWCTL_EXIT_USAGE;
    a->topic = argv[optind];
    if (!legal_topic(a->topic))
        return wwctl_cmd_usage(ctx,
                               "TOPIC \"%s\" is no Kafka topic name "
                               "(letters, digits, '.', '_', '-')",
                               a->topic);
    return WWCTL_EXIT_OK;
}

/* Where each partition starts, and its end as of now (read_committed),
 * asked with a short-lived reader of its own. */
static ww_code_t plan(const ww_bus_config_t *bus, const char *topic,
                      const tail_args_t *a, int timeout_ms, int *count,
                      int64_t **starts, int64_t **ends, ww_err_t *err) {
    rd_kafka_conf_t *conf = ww_bus_config_reader_conf(bus, err);
    if (!conf) return err->code;
    rd_kafka_t *rk =
        ww_bus_config_client_new(RD_KAFKA_CONSUMER, conf, "tail lookup", err);
    if (!rk) return err->code;
    ww_code_t rc =
        ww_bus_offsets_partition_count(rk, topic, timeout_ms, count, err);
    int64_t *begin = NULL, *at = NULL;
    if (!rc && a->partition >= *count)
        rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                        "%s has %d partitions: there is no partition %d", topic,
                        *count, (int)a->partition);
    if (!rc) {
        size_t n = (size_t)*count;
        *starts = calloc(n, sizeof **starts);
        *ends = calloc(n, sizeof **ends);
        begin = calloc(n, sizeof *begin);
        at = calloc(n, sizeof *at);
        if (!*starts || !*ends || !begin || !at)
            rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!rc)
        rc = ww_bus_offsets_lookup(rk, topic, *count, RD_KAFKA_OFFSET_END,
                                   timeout_ms, *ends, err);
    if (!rc)
        rc = ww_bus_offsets_lookup(rk, topic, *count, RD_KAFKA_OFFSET_BEGINNING,
                                   timeout_ms, begin, err);
    if (!rc && a->from == FROM_TIME)
        rc = ww_bus_offsets_lookup(rk, topic, *count, a->from_value, timeout_ms,
                                   at, err);
    for (int p = 0; !rc && p < *count; p++) {
        int64_t s = a->from == FROM_BEGINNING ? begin[p]
                    : a->from == FROM_END     ? (*ends)[p]
                    : a->from == FROM_TIME    ? at[p]
                                              : a->from_value;
        if (s < begin[p]) s = begin[p];     /* deleted by retention */
        if (s > (*ends)[p]) s = (*ends)[p]; /* past the end: from the end */
        if (a->partition >= 0 && p != a->partition) s = (*ends)[p];
        (*starts)[p] = s;
    }
    free(begin);
    free(at);
    rd_kafka_destroy(rk);
    return rc;
}

/* True once every partition read has reached its end as of the start. */
static bool at_end(ww_bus_tail_t *tail, const tail_args_t *a, int count,
                   const int64_t *ends) {
    for (int p = 0; p < count; p++) {
        if (a->partition >= 0 && p != a->partition) continue;
        if (ww_bus_tail_position(tail, p) < ends[p]) return false;
    }
    return true;
}

/* Follows until SIGINT/SIGTERM, the end (exit_at_end) or a failed line. */
static void wait_done(tail_run_t *t, ww_bus_tail_t *tail, int count,
                      const int64_t *ends, const sigset_t *stop) {
    struct timespec tick = {0, 100 * 1000000L};
    for (;;) {
        if (sigtimedwait(stop, NULL, &tick) > 0) return;
        if (atomic_load(&t->failed)) return;
        if (t->args->exit_at_end && at_end(tail, t->args, count, ends)) return;
    }
}

static int tail_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    ww_err_t err = {0};
    tail_run_t t = {.ctx = ctx};
    t.reg = wwctl_record_registry(&err);
    if (!t.reg) return wwctl_cmd_fail(ctx, &err);
    tail_args_t args;
    int rc = parse_args(ctx, argc, argv, t.reg, &args);
    t.args = &args;
    ww_bus_config_t *bus = NULL;
    int64_t *starts = NULL, *ends = NULL;
    ww_bus_tail_t *tail = NULL;
    char topic[512];
    int count = 0;
    if (rc != WWCTL_EXIT_OK) goto done;
    if (!(bus = ww_bus_config_new(&err)) ||
        ww_bus_config_topic_name(bus, args.topic, topic, sizeof topic, &err) !=
            WW_OK) {
        rc = wwctl_cmd_fail_config(ctx, &err);
        goto done;
    }
    int timeout = wwctl_cmd_timeout(ctx, WWCTL_KAFKA_TIMEOUT_MS);
    ww_code_t code =
        plan(bus, topic, &args, timeout, &count, &starts, &ends, &err);
    if (code == WW_ERR_INVALID_ARGUMENT) {
        rc = wwctl_cmd_fail_config(ctx, &err);
        goto done;
    }
    if (code != WW_OK) {
        rc = wwctl_cmd_fail(ctx, &err);
        goto done;
    }
    t.ends = ends;
    t.count = count;
    if (args.from == FROM_TIME &&
        !(t.reached = calloc((size_t)count, sizeof *t.reached))) {
        ww_err_set(&err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        rc = wwctl_cmd_fail(ctx, &err);
        goto done;
    }
    /* From here on, SIGINT and SIGTERM only end the wait below: blocked
     * before the tail's threads start, which inherit the mask. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    ww_bus_tail_config_t tc = {.topic = topic,
                               .handler = on_record,
                               .opaque = &t,
                               .offsets = starts,
                               .offsets_cnt = count};
    if (ww_bus_tail_start(bus, &tc, &tail, &err) != WW_OK) {
        rc = wwctl_cmd_fail(ctx, &err);
    } else {
        wait_done(&t, tail, count, ends, &stop);
        ww_bus_tail_destroy(tail);
        if (atomic_load(&t.failed))
            rc = wwctl_cmd_failf(ctx, WW_ERR_INTERNAL,
                                 "could not print the record at partition "
                                 "%lld offset %lld (stdout closed?); stopped",
                                 (long long)t.failed_partition,
                                 (long long)t.failed_offset);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
done:
    free(t.reached);
    free(starts);
    free(ends);
    ww_bus_config_destroy(bus);
    ww_bus_registry_destroy(t.reg);
    return rc;
}

const wwctl_cmd_t wwctl_tail_cmd = {
    .name = "tail",
    .synopsis = "tail TOPIC [--from beginning|end|OFFSET|TIME] [--type T]... "
                "[--partition P] [--follow|--exit-at-end]",
    .summary = "a topic's records as JSON lines, decoded (Ctrl-C stops)",
    .help =
        "Reads every partition of TOPIC read_committed (aborted records "
        "never\nshow), without a consumer group (nothing is committed), and "
        "prints one\nJSON object per record:\n"
        "  {\"topic\",\"partition\",\"offset\",\"timestamp\",\"key\","
        "\"headers\":{ce_*,...},\n"
        "   \"type\",\"payload\":{the value in the proto3 JSON mapping}}\n"
        "A record that does not decode is printed too, with \"error\" "
        "(why) and\n\"value_base64\" instead of \"payload\"; a redrive "
        "marker of a dead-letter\ntopic has \"marker\":\"redrive\". A "
        "non-UTF-8 key is \"key_base64\".\n"
        "Arguments:\n"
        "  TOPIC   as in schemas/README.md (trainer.events, users.commands,\n"
        "          trainer.commands.dlq, ...); WW_TOPIC_PREFIX is put in "
        "front\n"
        "Options:\n"
        "  --from beginning|end|OFFSET|TIME   where every partition starts\n"
        "          (default beginning): OFFSET in each partition (past the "
        "end: the\n"
        "          end), TIME (RFC 3339): in each partition from the first "
        "record\n"
        "          at or after it on\n"
        "  --type T   only records whose ce_type is T: a full name\n"
        "          (wildworkouts.events.v1.TrainingScheduled) or its last "
        "part\n"
        "          (TrainingScheduled); repeat for several. A record without\n"
        "          ce_type is always printed.\n"
        "  --partition P   only partition P\n"
        "  -f, --follow   keep reading as records arrive (the default)\n"
        "  -e, --exit-at-end   stop at the end the topic had when the "
        "command\n"
        "          started\n"
        "Ctrl-C (SIGINT) or SIGTERM stop it cleanly, exit status 0.\n"
        "--timeout-ms bounds the broker lookups at the start (default "
        "30000).\n"
        "Environment:\n" WWCTL_HELP_KAFKA_ENV
        "Output: JSON lines, with or without --json.\n"
        "Exit status: 0 stopped or at the end; 1 the broker failed or the "
        "topic does\nnot exist; 2 the command line or the environment is "
        "wrong.\n",
    .run = tail_run,
};
