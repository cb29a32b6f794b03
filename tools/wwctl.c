/* wwctl - the operator's tool of Wild Workouts: typed gRPC calls to the
 * services, their Kafka topics read and their dead letters sent back.
 *
 *   wwctl [GLOBAL OPTIONS] COMMAND [ARGS]     wwctl --help, wwctl CMD --help
 *
 * This file holds the global options, the command table (every command of
 * wwctl_commands.h) and the help; each command lives in a file of its own
 * (wwctl_cmd.h says what a command is, and the exit codes). */
#include "wwctl_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WWCTL_COMMAND(sym) extern const wwctl_cmd_t sym;
#include "wwctl_commands.h"
#undef WWCTL_COMMAND

static const wwctl_cmd_t *const commands[] = {
#define WWCTL_COMMAND(sym) &sym,
#include "wwctl_commands.h"
#undef WWCTL_COMMAND
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

static const char global_options[] =
    "Global options (anywhere before \"--\"):\n"
    "  --json              JSON output: one value per line (gRPC answers in "
    "the\n"
    "                      proto3 JSON mapping), errors as "
    "{\"error\":{...}}\n"
    "  --timeout-ms N      deadline of each gRPC call (default 5000) or of a\n"
    "                      Kafka command's broker work (default 30000)\n"
    "  --idempotency-key K the idempotency-key of a gRPC write: a retry with "
    "it\n"
    "                      gets the first answer again\n"
    "  -h, --help          help of wwctl, or of the command\n";

static const wwctl_cmd_t *find(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

static void print_synopsis(FILE *f, const char *lead, const char *synopsis) {
    for (const char *s = synopsis; *s;) {
        size_t n = strcspn(s, "\n");
        fprintf(f, "%s wwctl [OPTIONS] %.*s\n", lead, (int)n, s);
        lead = "      ";
        s += n + (s[n] == '\n');
    }
}

static int help_of(const wwctl_cmd_t *c) {
    print_synopsis(stdout, "usage:", c->synopsis);
    printf("\n%s.\n\n%s\n%s", c->summary, c->help, global_options);
    return WWCTL_EXIT_OK;
}

static void list_commands(FILE *f) {
    fprintf(f, "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
}

static int help_all(void) {
    printf("wwctl - the operator's tool of Wild Workouts: typed gRPC calls "
           "to the\nservices, their Kafka topics read, their dead letters "
           "sent back.\n\n"
           "usage: wwctl [OPTIONS] COMMAND [ARGS]\n"
           "       wwctl COMMAND --help\n\n");
    list_commands(stdout);
    printf("\n%s\n%s", global_options, WWCTL_HELP_EXIT);
    return WWCTL_EXIT_OK;
}

static int usage_all(const char *why) {
    if (why) fprintf(stderr, "wwctl: %s\n", why);
    fprintf(stderr, "usage: wwctl [OPTIONS] COMMAND [ARGS]\n");
    list_commands(stderr);
    fprintf(stderr, "(wwctl --help says more)\n");
    return WWCTL_EXIT_USAGE;
}

/* Takes the global options out of argv (up to "--", which stays for the
 * command's own parser) into ctx; the rest, in order, into rest[]. Returns
 * the number of words left, or -1 after a usage message. */
static int split_options(int argc, char **argv, wwctl_ctx_t *ctx, bool *help,
                         char **rest) {
    int n = 0;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        if (options && strcmp(a, "--") == 0) options = false;
        if (!options || a[0] != '-') {
            rest[n++] = argv[i];
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            ctx->json = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = true;
        } else if (strncmp(a, "--timeout-ms", 12) == 0 &&
                   (a[12] == '\0' || a[12] == '=')) {
            value = a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value) return usage_all("--timeout-ms needs a value"), -1;
            wwctl_ctx_t quiet = *ctx;
            if (!wwctl_cmd_parse_int(&quiet, "--timeout-ms", value, 1, 86400000,
                                     &ctx->timeout_ms))
                return -1;
            ctx->timeout_given = true;
        } else if (strncmp(a, "--idempotency-key", 17) == 0 &&
                   (a[17] == '\0' || a[17] == '=')) {
            value = a[17] == '=' ? a + 18 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value || !*value)
                return usage_all("--idempotency-key needs a value"), -1;
            ctx->idempotency_key = value;
        } else {
            rest[n++] = argv[i]; /* the command's own option */
        }
    }
    rest[n] = NULL;
    return n;
}

int main(int argc, char **argv) {
    wwctl_ctx_t ctx = {0};
    ww_trace_continue(getenv("TRACEPARENT"), getenv("TRACESTATE"), &ctx.trace);
    bool help = false;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return WWCTL_EXIT_FAILED;
    int n = split_options(argc, argv, &ctx, &help, rest);
    int rc;
    const wwctl_cmd_t *c = NULL;
    if (n < 0) {
        rc = WWCTL_EXIT_USAGE;
    } else if (n == 0) {
        rc = help ? help_all() : usage_all(NULL);
    } else if (strcmp(rest[0], "help") == 0) {
        if (n == 1)
            rc = help_all();
        else if ((c = find(rest[1])))
            rc = help_of(c);
        else
            rc = usage_all("no such command (see the list)");
    } else if (!(c = find(rest[0]))) {
        char why[300];
        snprintf(why, sizeof why, "unknown command \"%s\"", rest[0]);
        rc = usage_all(why);
    } else if (help) {
        rc = help_of(c);
    } else {
        ctx.cmd = c;
        optind = 0; /* a fresh getopt scan of the command's words */
        rc = c->run(&ctx, n, rest);
    }
    free(rest);
    return rc;
}
