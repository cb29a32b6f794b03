/* wwctl_state.c - `wwctl digest` and `wwctl replay`: a service's state
 * digest, from a running instance or from a fresh replay of its events. */
#include "wwctl_state.h"

#include "ww_bus_config.h"
#include "ww_bus_offsets.h"
#include "ww_bus_replay.h"
#include "ww_clock.h"
#include "ww_host_admin.h"
#include "ww_host_security.h"
#include "ww_host_state.h"
#include "ww_shard.h"
#include "ww_trainer_worker.h"
#include "ww_users_worker.h"
#include "wwctl_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char wwctl_state_usage[] =
    "  digest trainer|users [--addr HOST:PORT] [--json]\n"
    "  replay trainer|users [--to-offsets P:O[,P:O...]] [--json]\n";

enum { MAX_PARTITIONS = 1024, EXIT_INTERRUPTED = 130 };

/* One partition's state as printed. */
typedef struct part_line {
    int32_t partition;
    int64_t events_offset;
    char sha256[WW_HOST_STATE_HEX_LEN + 1];
    uint64_t applied, skipped;
} part_line_t;

/* Prints the digest of a service the same way for both commands. */
static void print_digest(const char *service, const char *instance,
                         const char *sha256, const part_line_t *parts, int n,
                         bool json) {
    if (!json) {
        printf("%s  service=%s%s%s partitions=%d\n", sha256, service,
               instance ? " instance=" : "", instance ? instance : "", n);
        for (int i = 0; i < n; i++)
            printf("partition=%d events_offset=%" PRId64
                   " sha256=%s applied=%" PRIu64 " skipped=%" PRIu64 "\n",
                   (int)parts[i].partition, parts[i].events_offset,
                   parts[i].sha256, parts[i].applied, parts[i].skipped);
        return;
    }
    /* proto3 JSON of GetDigestResponse: 64-bit integers as strings. */
    char num[32];
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "partition", json_integer(parts[i].partition));
        snprintf(num, sizeof num, "%" PRId64, parts[i].events_offset);
        json_object_set_new(o, "eventsOffset", json_string(num));
        json_object_set_new(o, "sha256", json_string(parts[i].sha256));
        snprintf(num, sizeof num, "%" PRIu64, parts[i].applied);
        json_object_set_new(o, "applied", json_string(num));
        snprintf(num, sizeof num, "%" PRIu64, parts[i].skipped);
        json_object_set_new(o, "skipped", json_string(num));
        json_array_append_new(arr, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "service", json_string(service));
    if (instance)
        json_object_set_new(root, "instanceId", json_string(instance));
    json_object_set_new(root, "sha256", json_string(sha256));
    json_object_set_new(root, "partitions", arr);
    char *text = json_dumps(root, JSON_COMPACT);
    if (text) printf("%s\n", text);
    free(text);
    json_decref(root);
}

static bool known_service(const char *s) {
    return s && (strcmp(s, "trainer") == 0 || strcmp(s, "users") == 0);
}

static int usage_error(const char *why) {
    fprintf(stderr, "wwctl: %s\nusage:\n%s", why, wwctl_state_usage);
    return 2;
}

/* ------------------------------------------------------------- digest */

int wwctl_state_digest(int argc, char **argv,
                       const ww_rpc_call_options_t *opts) {
    if (argc < 1 || !known_service(argv[0]))
        return usage_error("digest: SERVICE is trainer or users");
    const char *service = argv[0], *addr = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc)
            addr = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return usage_error("digest: unknown argument");
    }
    ww_rpc_client_t *c = NULL;
    ww_err_t err = {0};
    ww_code_t rc =
        addr ? ww_host_security_dial(addr, &c, &err)
             : ww_host_security_dial_env(strcmp(service, "trainer") == 0
                                             ? "TRAINER_GRPC_ADDR"
                                             : "USERS_GRPC_ADDR",
                                         &c, &err);
    if (rc != WW_OK) {
        fprintf(stderr, "wwctl: %s\n", err.msg);
        return 2;
    }
    Wildworkouts__Admin__V1__GetDigestRequest req =
        WILDWORKOUTS__ADMIN__V1__GET_DIGEST_REQUEST__INIT;
    Wildworkouts__Admin__V1__GetDigestResponse *resp = NULL;
    rc = ww_host_admin_get_digest(c, &req, &resp, opts, &err);
    int ret = 1;
    if (rc == WW_OK) {
        int n = (int)resp->n_partitions;
        part_line_t *parts = calloc((size_t)(n ? n : 1), sizeof *parts);
        if (parts) {
            for (int i = 0; i < n; i++) {
                const Wildworkouts__Admin__V1__PartitionDigest *d =
                    resp->partitions[i];
                parts[i] = (part_line_t){d->partition, d->events_offset, "",
                                         d->applied, d->skipped};
                snprintf(parts[i].sha256, sizeof parts[i].sha256, "%s",
                         d->sha256);
            }
            print_digest(resp->service, resp->instance_id, resp->sha256, parts,
                         n, json);
            ret = 0;
        } else {
            fprintf(stderr, "wwctl: out of memory\n");
        }
        free(parts);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    } else {
        fprintf(stderr, "%s\n", err.msg);
    }
    ww_rpc_client_destroy(c);
    return ret;
}

/* ------------------------------------------------------------- replay */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct replay {
    const ww_host_model_ops_t *ops;
    void *ctx;
    int n;
    ww_shard_t **shards;
    part_line_t *lines;
    const int64_t *to; /* NULL or per partition (-1: to the end) */
    /* progress: offsets, since transaction markers take offsets too */
    bool tty;
    int64_t *begin, *end, *pos;
    int64_t total, records, started_ms, shown_ms;
} replay_t;

static void show_progress(replay_t *r, bool last) {
    int64_t now = ww_clock_mono_ms();
    if (!last && now - r->shown_ms < (r->tty ? 200 : 1000)) return;
    int64_t done = 0;
    for (int p = 0; p < r->n; p++)
        done += (r->pos[p] > r->end[p] ? r->end[p] : r->pos[p]) - r->begin[p];
    if (last) done = r->total; /* the replay reached every end */
    double secs = (now - r->started_ms) / 1000.0;
    double rate = secs > 0 ? r->records / secs : 0;
    double off_rate = secs > 0 ? done / secs : 0;
    double pct = r->total > 0 ? 100.0 * (double)done / (double)r->total : 100.0;
    double eta = off_rate > 0 && r->total > done
                     ? (double)(r->total - done) / off_rate
                     : 0;
    if (r->tty) {
        enum { WIDTH = 30 };
        char bar[WIDTH + 1];
        int fill = (int)(pct / 100.0 * WIDTH);
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr,
                "\r[%s] %5.1f%%  %" PRId64
                " records  %.0f/s  ETA %.0fs \033[K%s",
                bar, pct, r->records, rate, eta, last ? "\n" : "");
    } else {
        fprintf(stderr,
                "replay: %.1f%% of the end captured at start, %" PRId64
                " records, %.0f/s, ETA %.0fs\n",
                pct, r->records, rate, eta);
    }
    fflush(stderr);
    r->shown_ms = now;
}

static ww_code_t fold(void *opaque, const rd_kafka_message_t *rec,
                      ww_err_t *err) {
    replay_t *r = opaque;
    if (interrupted) return ww_err_set(err, WW_ERR_CANCELLED, "interrupted");
    int32_t p = rec->partition;
    if (p < 0 || p >= r->n)
        return ww_err_set(err, WW_ERR_INTERNAL, "record of partition %d",
                          (int)p);
    r->records++;
    r->pos[p] = rec->offset + 1;
    show_progress(r, false);
    if (r->to && r->to[p] >= 0 && rec->offset >= r->to[p]) return WW_OK;
    bool skipped = false;
    ww_err_t why = {0};
    ww_code_t rc = r->ops->apply(r->ctx, r->shards[p], rec, &skipped, &why);
    if (rc != WW_OK) {
        if (err) *err = why;
        return rc;
    }
    r->lines[p].events_offset = rec->offset + 1;
    if (skipped)
        r->lines[p].skipped++;
    else
        r->lines[p].applied++;
    return WW_OK;
}

/* "0:120,3:7" into to[] (-1 elsewhere); false on a malformed list. */
static bool parse_offsets(const char *s, int64_t *to, int n) {
    for (int i = 0; i < n; i++)
        to[i] = -1;
    while (*s) {
        char *end;
        errno = 0;
        long p = strtol(s, &end, 10);
        if (errno || end == s || *end != ':' || p < 0 || p >= n) return false;
        s = end + 1;
        long long o = strtoll(s, &end, 10);
        if (errno || end == s || o < 0 || (*end && *end != ',')) return false;
        to[p] = o;
        s = *end ? end + 1 : end;
    }
    return true;
}

/* The partitions of `topic` (r->n) and where each begins and ends now
 * (r->begin, r->end, r->pos; for the progress). */
static ww_code_t measure(const ww_bus_config_t *cfg, const char *topic,
                         replay_t *r, ww_err_t *err) {
    rd_kafka_conf_t *conf = ww_bus_config_reader_conf(cfg, err);
    if (!conf) return err->code;
    rd_kafka_t *rk =
        ww_bus_config_client_new(RD_KAFKA_CONSUMER, conf, "replay", err);
    if (!rk) return err->code;
    ww_code_t rc = ww_bus_offsets_partition_count(rk, topic, 15000, &r->n, err);
    if (rc == WW_OK && (r->n <= 0 || r->n > MAX_PARTITIONS))
        rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s has %d partitions",
                        topic, r->n);
    if (rc == WW_OK && (!(r->begin = calloc((size_t)r->n, sizeof *r->begin)) ||
                        !(r->end = calloc((size_t)r->n, sizeof *r->end)) ||
                        !(r->pos = calloc((size_t)r->n, sizeof *r->pos))))
        rc = ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    if (rc == WW_OK)
        rc = ww_bus_offsets_lookup(rk, topic, r->n, RD_KAFKA_OFFSET_BEGINNING,
                                   15000, r->begin, err);
    if (rc == WW_OK)
        rc = ww_bus_offsets_lookup(rk, topic, r->n, RD_KAFKA_OFFSET_END, 15000,
                                   r->end, err);
    r->total = 0;
    for (int p = 0; rc == WW_OK && p < r->n; p++) {
        r->pos[p] = r->begin[p];
        r->total += r->end[p] - r->begin[p];
    }
    rd_kafka_destroy(rk);
    return rc;
}

int wwctl_state_replay(int argc, char **argv) {
    if (argc < 1 || !known_service(argv[0]))
        return usage_error("replay: SERVICE is trainer or users");
    const char *service = argv[0], *to_arg = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--to-offsets") == 0 && i + 1 < argc)
            to_arg = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return usage_error("replay: unknown argument");
    }
    /* Ctrl-C from here on ends the replay cleanly, also before its first
     * record (the handler sees the flag at the next one). */
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    ww_err_t err = {0};
    int ret = 1;
    ww_bus_config_t *cfg = ww_bus_config_new(&err);
    char topic[256];
    ww_trainer_worker_t *tw = NULL;
    ww_users_worker_t *uw = NULL;
    replay_t r = {0};
    int64_t *to = NULL;
    ww_host_state_digest_t *digests = NULL;
    if (!cfg || ww_bus_config_topic_name(cfg,
                                         strcmp(service, "trainer") == 0
                                             ? "trainer.events"
                                             : "users.events",
                                         topic, sizeof topic, &err) != WW_OK)
        goto fail;
    if (!ww_bus_config_brokers(cfg)) {
        fprintf(stderr, "wwctl: replay reads the events: set KAFKA_BROKERS\n");
        ret = 2;
        goto out;
    }
    ww_host_service_config_t sc;
    if (strcmp(service, "trainer") == 0) {
        if (ww_trainer_worker_new(&tw, &err) != WW_OK) goto fail;
        sc = ww_trainer_worker_service(tw, NULL);
    } else {
        if (ww_users_worker_new(&uw, &err) != WW_OK) goto fail;
        sc = ww_users_worker_service(uw, NULL);
    }
    r.ops = sc.model_ops;
    r.ctx = sc.ctx;
    if (measure(cfg, topic, &r, &err) != WW_OK) goto fail;
    if (!(r.shards = calloc((size_t)r.n, sizeof *r.shards)) ||
        !(r.lines = calloc((size_t)r.n, sizeof *r.lines)) ||
        !(digests = calloc((size_t)r.n, sizeof *digests)) ||
        !(to = calloc((size_t)r.n, sizeof *to))) {
        ww_err_set(&err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    if (to_arg && !parse_offsets(to_arg, to, r.n)) {
        fprintf(stderr,
                "wwctl: --to-offsets: want PARTITION:OFFSET[,...] with "
                "partitions 0..%d, got \"%s\"\n",
                r.n - 1, to_arg);
        ret = 2;
        goto out;
    }
    r.to = to_arg ? to : NULL;
    for (int p = 0; p < r.n; p++) {
        void *state = r.ops->new_state();
        if (!state || !(r.shards[p] = ww_shard_new(r.ops->shard_ops, state))) {
            ww_err_set(&err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
            goto fail;
        }
        r.lines[p].partition = p;
    }
    r.tty = isatty(STDERR_FILENO);
    r.started_ms = r.shown_ms = ww_clock_mono_ms();
    ww_bus_replay_config_t rc_cfg = {
        .topic = topic, .handler = fold, .opaque = &r};
    ww_code_t rc = ww_bus_replay_run(cfg, &rc_cfg, NULL, &err);
    if (rc == WW_OK)
        show_progress(&r, true);
    else if (r.tty)
        fputc('\n', stderr); /* below the bar */
    if (rc == WW_ERR_CANCELLED && interrupted) {
        fprintf(stderr,
                "wwctl: replay interrupted after %" PRId64
                " records; nothing printed\n",
                r.records);
        ret = EXIT_INTERRUPTED;
        goto out;
    }
    if (rc != WW_OK) goto fail;
    for (int p = 0; p < r.n; p++) {
        if (ww_host_state_shard_digest(r.shards[p], &digests[p], &err) != WW_OK)
            goto fail;
        ww_host_state_hex(&digests[p], r.lines[p].sha256);
    }
    ww_host_state_digest_t total;
    char total_hex[WW_HOST_STATE_HEX_LEN + 1];
    ww_host_state_combine(digests, r.n, &total);
    ww_host_state_hex(&total, total_hex);
    print_digest(service, NULL, total_hex, r.lines, r.n, json);
    ret = 0;
    goto out;
fail:
    fprintf(stderr, "wwctl: replay: %s\n", err.msg);
out:
    for (int p = 0; r.shards && p < r.n; p++)
        ww_shard_destroy(r.shards[p]);
    free(r.shards);
    free(r.lines);
    free(r.begin);
    free(r.end);
    free(r.pos);
    free(digests);
    free(to);
    ww_trainer_worker_destroy(tw);
    ww_users_worker_destroy(uw);
    ww_bus_config_destroy(cfg);
    return ret;
}

/* ------------------------------------------------- wwctl's command table */

/* The command's words after its name, with --json again when the global
 * option took it (these commands read it themselves). The caller frees
 * the array. */
static char **own_words(const wwctl_ctx_t *ctx, int argc, char **argv, int *n) {
    char **words = calloc((size_t)argc + 2, sizeof *words);
    if (!words) return NULL;
    *n = 0;
    for (int i = 1; i < argc; i++)
        words[(*n)++] = argv[i];
    if (ctx->json) words[(*n)++] = "--json";
    return words;
}

static int digest_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    int n;
    char **words = own_words(ctx, argc, argv, &n);
    if (!words) return WWCTL_EXIT_FAILED;
    ww_rpc_call_options_t opts = wwctl_cmd_call_options(ctx);
    int rc = wwctl_state_digest(n, words, &opts);
    free(words);
    return rc;
}

static int replay_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    int n;
    char **words = own_words(ctx, argc, argv, &n);
    if (!words) return WWCTL_EXIT_FAILED;
    int rc = wwctl_state_replay(n, words);
    free(words);
    return rc;
}

const wwctl_cmd_t wwctl_digest_cmd = {
    .name = "digest",
    .synopsis = "digest trainer|users [--addr HOST:PORT]",
    .summary = "the state digest of a running instance (AdminService)",
    .help = "Asks a running instance for the SHA-256 digest of its read "
            "model: the\nservice's, then one per partition with the events "
            "offset it stands at.\n"
            "Options:\n"
            "  --addr HOST:PORT   the instance to ask (default: "
            "TRAINER_GRPC_ADDR or\n"
            "                     USERS_GRPC_ADDR)\n"
            "Environment:\n"
            "  TRAINER_GRPC_ADDR, USERS_GRPC_ADDR   where the services "
            "are\n" WWCTL_HELP_GRPC_ENV
            "Output: the digest and one line per partition (events_offset, "
            "sha256,\napplied, skipped); with --json the proto3 JSON of "
            "GetDigestResponse.\n" WWCTL_HELP_EXIT,
    .run = digest_run,
};

const wwctl_cmd_t wwctl_replay_cmd = {
    .name = "replay",
    .synopsis = "replay trainer|users [--to-offsets P:O[,P:O...]]",
    .summary = "a fresh state from <svc>.events and its digest",
    .help = "Rebuilds the service's state from its events and prints its "
            "digest, to\ncompare with `wwctl digest` at the same offsets. "
            "A progress line on\nstderr; Ctrl-C stops it (exit 130, nothing "
            "on stdout).\n"
            "Options:\n"
            "  --to-offsets P:O[,P:O...]   stop partition P before offset O "
            "(a digest's\n"
            "                              events_offset); the others go "
            "to the end\n"
            "                              captured at start\n"
            "Environment:\n" WWCTL_HELP_KAFKA_ENV
            "Output: as wwctl digest (--json: the proto3 JSON of "
            "GetDigestResponse).\n"
            "Exit status: 0 done; 1 the replay failed; 2 the command line or "
            "the\nenvironment is wrong; 130 interrupted.\n",
    .run = replay_run,
};
