/* wwctl_dlq.c - `wwctl dlq list|redrive`: a dead-letter topic read back,
 * and its dead letters sent back to their topic at most once
 * (ww_bus_redrive.h has how). */
#include "ww_bus_config.h"
#include "ww_bus_dlq.h"
#include "ww_bus_redrive.h"
#include "wwctl_cmd.h"
#include "wwctl_record.h"

#include <stdio.h>
#include <string.h>

/* The full dead-letter topic of TOPIC (the original one or its .dlq),
 * prefix applied. */
static ww_code_t dlq_name(const ww_bus_config_t *bus, const char *topic,
                          char *buf, size_t size, ww_err_t *err) {
    size_t n = strlen(topic), sl = sizeof WW_BUS_DLQ_SUFFIX - 1;
    bool is_dlq = n > sl && strcmp(topic + n - sl, WW_BUS_DLQ_SUFFIX) == 0;
    char name[300];
    if (snprintf(name, sizeof name, "%s%s", topic,
                 is_dlq ? "" : WW_BUS_DLQ_SUFFIX) >= (int)sizeof name)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "TOPIC is too long");
    return ww_bus_config_topic_name(bus, name, buf, size, err);
}

/* The short name of a dead letter's ce_type ("" when none). */
static void short_type(const ww_bus_redrive_letter_t *l, char *buf,
                       size_t size) {
    char type[256];
    wwctl_record_header(l->headers, "ce_type", type, sizeof type);
    const char *dot = strrchr(type, '.');
    snprintf(buf, size, "%s", dot ? dot + 1 : type);
}

static void print_text(const ww_bus_redrive_letter_t *l) {
    char type[256], origin[400] = "?";
    short_type(l, type, sizeof type);
    if (*l->origin_topic)
        snprintf(origin, sizeof origin, "%s/%d/%lld", l->origin_topic,
                 (int)l->origin_partition, (long long)l->origin_offset);
    printf("partition=%d offset=%lld origin=%s type=%s attempts=%d time=%s "
           "redriven=%s reason=\"%s\"\n",
           (int)l->partition, (long long)l->offset, origin,
           type[0] ? type : "?", l->attempts, l->time,
           l->redriven ? l->redriven_to : "no", l->reason);
}

static json_t *letter_json(const char *dlq, const ww_bus_redrive_letter_t *l,
                           const ww_bus_registry_t *reg) {
    wwctl_record_t r = {.topic = dlq,
                        .partition = l->partition,
                        .offset = l->offset,
                        .timestamp_ms = l->timestamp_ms,
                        .key = l->key,
                        .key_len = l->key_len,
                        .value = l->value,
                        .len = l->len,
                        .headers = l->headers};
    json_t *j = wwctl_record_json(&r, reg);
    json_t *d = json_pack("{s:o,s:i,s:{s:o,s:i,s:I},s:o,s:o,s:b}", "reason",
                          wwctl_record_text(l->reason), "attempts", l->attempts,
                          "origin", "topic", wwctl_record_text(l->origin_topic),
                          "partition", (int)l->origin_partition, "offset",
                          (json_int_t)l->origin_offset, "group",
                          wwctl_record_text(l->group), "time",
                          wwctl_record_text(l->time), "redriven", l->redriven);
    if (d && l->redriven) {
        json_object_set_new(d, "redriven_to",
                            wwctl_record_text(l->redriven_to));
        json_object_set_new(d, "redriven_at",
                            wwctl_record_text(l->redriven_at));
    }
    if (!j || !d || json_object_set_new(j, "dead_letter", d) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int list(const wwctl_ctx_t *ctx, const ww_bus_config_t *bus,
                const char *dlq, int timeout) {
    ww_err_t err = {0};
    ww_bus_registry_t *reg = wwctl_record_registry(&err);
    ww_bus_redrive_scan_t *scan = NULL;
    if (!reg || ww_bus_redrive_scan_new(bus, dlq, false, timeout, &scan,
                                        &err) != WW_OK) {
        ww_bus_registry_destroy(reg);
        return err.code == WW_ERR_INVALID_ARGUMENT
                   ? wwctl_cmd_fail_config(ctx, &err)
                   : wwctl_cmd_fail(ctx, &err);
    }
    int rc = WWCTL_EXIT_OK;
    size_t n = ww_bus_redrive_scan_count(scan), redriven = 0;
    for (size_t i = 0; i < n && rc == WWCTL_EXIT_OK; i++) {
        const ww_bus_redrive_letter_t *l = ww_bus_redrive_scan_at(scan, i);
        redriven += l->redriven;
        if (!ctx->json)
            print_text(l);
        else if (wwctl_cmd_print_json(letter_json(dlq, l, reg)) != 0)
            rc = wwctl_cmd_failf(ctx, WW_ERR_INTERNAL,
                                 "could not print dead letter %d/%lld",
                                 (int)l->partition, (long long)l->offset);
    }
    if (!ctx->json)
        printf("%s: %zu dead letters, %zu redriven\n", dlq, n, redriven);
    fflush(stdout);
    ww_bus_redrive_scan_destroy(scan);
    ww_bus_registry_destroy(reg);
    return rc;
}

/* What a redrive sent back, for the output after the commit. */
typedef struct sent {
    const wwctl_ctx_t *ctx;
    const char *dlq;
    json_t *items; /* --json */
} sent_t;

static void on_redriven(void *opaque, const ww_bus_redrive_letter_t *l,
                        const char *topic, int32_t p, int64_t o) {
    sent_t *s = opaque;
    char from[600], to[600];
    snprintf(from, sizeof from, "%s/%d/%lld", s->dlq, (int)l->partition,
             (long long)l->offset);
    snprintf(to, sizeof to, "%s/%d/%lld", topic, (int)p, (long long)o);
    if (s->items)
        json_array_append_new(s->items,
                              json_pack("{s:s,s:s}", "from", from, "to", to));
    else
        printf("redriven %s to %s\n", from, to);
}

static int redrive(const wwctl_ctx_t *ctx, const ww_bus_config_t *bus,
                   const char *dlq, bool all, int64_t partition, int64_t offset,
                   int timeout) {
    sent_t s = {
        .ctx = ctx, .dlq = dlq, .items = ctx->json ? json_array() : NULL};
    ww_bus_redrive_config_t rc = {.dlq_topic = dlq,
                                  .all = all,
                                  .partition = (int32_t)partition,
                                  .offset = offset,
                                  .timeout_ms = timeout,
                                  .on_redriven = on_redriven,
                                  .opaque = &s};
    ww_bus_redrive_stats_t st;
    ww_err_t err = {0};
    ww_code_t code = ww_bus_redrive_run(bus, &rc, &st, &err);
    if (code != WW_OK) {
        json_decref(s.items);
        return code == WW_ERR_INVALID_ARGUMENT
                   ? wwctl_cmd_fail_config(ctx, &err)
                   : wwctl_cmd_fail(ctx, &err);
    }
    if (ctx->json)
        return wwctl_cmd_print_json(json_pack(
                   "{s:s,s:I,s:I,s:I,s:o}", "dlq_topic", dlq, "dead_letters",
                   (json_int_t)st.dead_letters, "already_redriven",
                   (json_int_t)st.already_redriven, "truncated",
                   (json_int_t)st.truncated, "redriven", s.items)) == 0
                   ? WWCTL_EXIT_OK
                   : WWCTL_EXIT_FAILED;
    printf("%s: redriven %zu of %zu dead letters (%zu had been before)", dlq,
           st.redriven, st.dead_letters, st.already_redriven);
    if (st.truncated) printf(", %zu truncated left out", st.truncated);
    printf("\n");
    fflush(stdout);
    return WWCTL_EXIT_OK;
}

static int dlq_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    static const struct option opts[] = {
        {"offset", required_argument, NULL, 'o'},
        {"partition", required_argument, NULL, 'p'},
        {"all", no_argument, NULL, 'a'},
        {0}};
    int64_t offset = -1, partition = -1;
    bool all = false;
    for (int o; (o = wwctl_cmd_getopt(ctx, argc, argv, "", opts)) != -1;) {
        if (o == 'o') {
            if (!wwctl_cmd_parse_int(ctx, "--offset", optarg, 0, INT64_MAX,
                                     &offset))
                return WWCTL_EXIT_USAGE;
        } else if (o == 'p') {
            if (!wwctl_cmd_parse_int(ctx, "--partition", optarg, 0, INT32_MAX,
                                     &partition))
                return WWCTL_EXIT_USAGE;
        } else if (o == 'a') {
            all = true;
        } else {
            return WWCTL_EXIT_USAGE;
        }
    }
    if (!wwctl_cmd_operands(ctx, argc, argv, optind, "COMMAND TOPIC", 2, 2))
        return WWCTL_EXIT_USAGE;
    const char *cmd = argv[optind], *topic = argv[optind + 1];
    bool is_list = strcmp(cmd, "list") == 0;
    if (!is_list && strcmp(cmd, "redrive") != 0)
        return wwctl_cmd_usage(ctx, "unknown dlq command \"%s\"", cmd);
    if (is_list && (all || offset >= 0 || partition >= 0))
        return wwctl_cmd_usage(ctx, "list takes no --offset, --partition or "
                                    "--all");
    if (!is_list && all == (offset >= 0))
        return wwctl_cmd_usage(ctx, "redrive needs either --offset N or --all");
    if (!is_list && all && partition >= 0)
        return wwctl_cmd_usage(ctx, "--partition goes with --offset");
    ww_err_t err = {0};
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    char dlq[512];
    if (!bus || dlq_name(bus, topic, dlq, sizeof dlq, &err) != WW_OK) {
        ww_bus_config_destroy(bus);
        return wwctl_cmd_fail_config(ctx, &err);
    }
    int timeout = wwctl_cmd_timeout(ctx, WWCTL_KAFKA_TIMEOUT_MS);
    int rc = is_list ? list(ctx, bus, dlq, timeout)
                     : redrive(ctx, bus, dlq, all, partition, offset, timeout);
    ww_bus_config_destroy(bus);
    return rc;
}

const wwctl_cmd_t wwctl_dlq_cmd = {
    .name = "dlq",
    .synopsis = "dlq list TOPIC\n"
                "dlq redrive TOPIC --offset N [--partition P]\n"
                "dlq redrive TOPIC --all",
    .summary = "dead letters: list them, send them back to their topic once",
    .help =
        "A consumer group that gives up on a record (it does not decode, "
        "or the\nhandler refused it) moves it to <topic>.dlq with its "
        "headers and\nww_dlq_reason, _attempts, _topic, _partition, "
        "_offset, _group, _time.\n"
        "Commands:\n"
        "  list TOPIC      every dead letter: where it is, where it came "
        "from, its\n"
        "                  type, attempts, time, reason, whether it was "
        "redriven\n"
        "  redrive TOPIC   append the original record again (key, value, "
        "original\n"
        "                  headers, its old partition) to its topic, with\n"
        "                  ww_redriven_from=<dlq topic>/<partition>/<offset>, "
        "and a\n"
        "                  marker on the dead-letter topic, in one "
        "transaction; a\n"
        "                  dead letter redriven once is refused the second "
        "time\n"
        "                  (also when two operators redrive it at once)\n"
        "Arguments:\n"
        "  TOPIC   the original topic or its dead-letter topic, as in\n"
        "          schemas/README.md (trainer.commands or "
        "trainer.commands.dlq);\n"
        "          WW_TOPIC_PREFIX is put in front\n"
        "Options of redrive:\n"
        "  --offset N      the dead letter at offset N of the dead-letter "
        "topic\n"
        "  --partition P   ... of its partition P (needed when several hold "
        "one at N)\n"
        "  --all           every dead letter not redriven yet (none: "
        "nothing to do)\n"
        "--timeout-ms bounds each broker step (default 30000).\n"
        "Environment:\n" WWCTL_HELP_KAFKA_ENV
        "Output: list: one line per dead letter (partition=... offset=... "
        "origin=...\n"
        "type=... attempts=... time=... redriven=no|<where> reason=\"...\") "
        "and a\ncount; with --json one object per dead letter as wwctl "
        "tail prints it\nplus \"dead_letter\":{reason, attempts, origin, "
        "group, time, redriven,\nredriven_to, redriven_at}. redrive: "
        "\"redriven <from> to <to>\" lines and a\ncount; with --json "
        "{\"dlq_topic\",\"dead_letters\",\"already_redriven\",\n"
        "\"truncated\" (left out: never sent back), "
        "\"redriven\":[{\"from\",\"to\"}]}.\n"
        "Exit status: 0 done (also when --all finds nothing to do); 1 the "
        "broker\nfailed, no such topic or dead letter, or refused: redriven "
        "already; 2 the\ncommand line or the environment is wrong (also: "
        "several partitions hold\na dead letter at N, say --partition).\n",
    .run = dlq_run,
};
