/*
 * wwctl_cmd.h - what a wwctl command is, and what every command shares:
 * the global options, argument parsing that fails with a usage error,
 * failure messages, JSON lines and the exit codes.
 *
 * A command is one `const wwctl_cmd_t` defined in a .c file of its own and
 * listed by one line in wwctl_commands.h; wwctl.c finds it there, prints
 * its help (`wwctl NAME --help`) and runs it.
 *
 * Exit codes, the same for every command:
 *   0  done
 *   1  the call, the broker or the operation failed or was refused (the
 *      reason on stderr); also an answer that is itself a failure, such as
 *      a health status other than SERVING
 *   2  wwctl did not understand the command line or the environment: an
 *      unknown command or option, a missing or malformed argument, an
 *      unset address
 *
 * Output: results on stdout, text by default or JSON with --json (one
 * value per line); failures and usage errors on stderr, as JSON with
 * --json ({"error":{"code":...,"message":...}}).
 *
 * Tracing: wwctl is one span, a child of the W3C context in TRACEPARENT
 * (and TRACESTATE) when its environment has one, else the root of a new
 * trace; each gRPC call it makes is a span of it and sends its
 * `traceparent`, so the services' log lines and the records a command
 * causes carry the same trace id. A failed call's message names it
 * ("(trace <id>)", or "trace_id" in JSON).
 *
 * Threads: the printing helpers may be called from any thread; each line
 * is written whole.
 */
#ifndef WWCTL_CMD_H
#define WWCTL_CMD_H

#include "ww_err.h"
#include "ww_rpc_client.h"
#include "ww_trace.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum { WWCTL_EXIT_OK = 0, WWCTL_EXIT_FAILED = 1, WWCTL_EXIT_USAGE = 2 };

/* Default deadline of a gRPC call, and of a Kafka command's broker work. */
#define WWCTL_GRPC_TIMEOUT_MS  5000
#define WWCTL_KAFKA_TIMEOUT_MS 30000

struct wwctl_cmd;

/* The global options, parsed by wwctl.c from anywhere before "--". */
typedef struct wwctl_ctx {
    bool json;                   /* --json */
    bool timeout_given;          /* --timeout-ms was given */
    int64_t timeout_ms;          /* its value (else 0: the command decides) */
    const char *idempotency_key; /* --idempotency-key, or NULL */
    const struct wwctl_cmd *cmd; /* the command running */
    ww_trace_t trace;            /* wwctl's span (see Tracing above) */
} wwctl_ctx_t;

typedef struct wwctl_cmd {
    const char *name; /* the word after `wwctl` */
    /* The forms of its command line after "wwctl [OPTIONS] ", one per line
     * ('\n' between them), e.g. "tail TOPIC [--from WHERE]". */
    const char *synopsis;
    const char *summary; /* one line for `wwctl --help` */
    /* The rest of `wwctl NAME --help`: arguments, options, environment,
     * output, exit status; lines end with '\n'. */
    const char *help;
    /* Runs the command with argv[0] = its name and argv[1..argc-1] its
     * arguments (global options removed; getopt-ready). Returns the exit
     * code. */
    int (*run)(const wwctl_ctx_t *ctx, int argc, char **argv);
} wwctl_cmd_t;

/* Help text every command of a kind shares (wwctl_cmd_t.help pieces). */
#define WWCTL_HELP_GRPC_ENV                                                    \
    "  GRPC_NO_TLS=true    plaintext, no tokens (local runs; one warning\n"    \
    "                      when the address is not on this host)\n"            \
    "  WW_TLS_CA           PEM roots for the servers' certificates\n"          \
    "                      (default: the system's)\n"                          \
    "  WW_TLS_CLIENT_CERT, WW_TLS_CLIENT_KEY  a certificate for mutual TLS\n"  \
    "  GCE_METADATA_HOST   where the per-call identity token comes from\n"     \
    "  TRACEPARENT, TRACESTATE  a W3C trace the calls continue (default: a\n"  \
    "                      new trace per run, named when a call fails)\n"
#define WWCTL_HELP_KAFKA_ENV                                                   \
    "  KAFKA_BROKERS       bootstrap servers (host:port,...)\n"                \
    "  WW_KAFKA_CONFIG     a librdkafka properties file (SASL/TLS settings)\n" \
    "  WW_TOPIC_PREFIX     the prefix of every topic name\n"
#define WWCTL_HELP_EXIT                                                        \
    "Exit status: 0 done; 1 failed or refused (the reason on stderr); 2 the\n" \
    "command line or the environment is wrong.\n"

/* ctx->timeout_ms when --timeout-ms was given, else `fallback`. */
int wwctl_cmd_timeout(const wwctl_ctx_t *ctx, int fallback);

/* Prints "wwctl NAME: <message>" and the command's synopsis to stderr (as
 * a JSON error with --json) and returns WWCTL_EXIT_USAGE. */
int wwctl_cmd_usage(const wwctl_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same as wwctl_cmd_fail, for what the environment got wrong (an unset
 * address, an unreadable TLS file): returns WWCTL_EXIT_USAGE. */
int wwctl_cmd_fail_config(const wwctl_ctx_t *ctx, const ww_err_t *err);

/* Prints a failure to stderr: "wwctl NAME: <err->msg>", or with --json
 * {"error":{"code":"<code name>","message":...}}. Returns
 * WWCTL_EXIT_FAILED. */
int wwctl_cmd_fail(const wwctl_ctx_t *ctx, const ww_err_t *err);

/* The same for a failed gRPC call: the message also names the trace the
 * call was part of. */
int wwctl_cmd_fail_call(const wwctl_ctx_t *ctx, const ww_err_t *err);

/* The options of every gRPC call of a command: --timeout-ms (else the
 * default deadline), --idempotency-key, and wwctl's trace. */
ww_rpc_call_options_t wwctl_cmd_call_options(const wwctl_ctx_t *ctx);

/* The same with a code and a message of its own. */
int wwctl_cmd_failf(const wwctl_ctx_t *ctx, ww_code_t code, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

/* Writes `j` (the reference is taken) as one compact line on stdout and
 * flushes it. Returns 0, or -1 when it cannot be written (stdout closed,
 * out of memory). */
int wwctl_cmd_print_json(json_t *j);

/* Parsers of one argument; on failure they print a usage error naming
 * `what` and return false (the caller returns WWCTL_EXIT_USAGE). */
bool wwctl_cmd_parse_int(const wwctl_ctx_t *ctx, const char *what,
                         const char *s, int64_t min, int64_t max, int64_t *out);
/* RFC 3339 (ww_rfc3339_parse). */
bool wwctl_cmd_parse_time(const wwctl_ctx_t *ctx, const char *what,
                          const char *s, int64_t *seconds, int32_t *nanos);
/* 0, 1, false, true. */
bool wwctl_cmd_parse_bool(const wwctl_ctx_t *ctx, const char *what,
                          const char *s, bool *out);

/* getopt_long over the command's argv, quiet: returns the next option, or
 * -1 when the options end (optind is then the first operand; operands may
 * come before options), or '?' after printing a usage error for an unknown
 * option or a missing value. Call with optind = 0 first (wwctl.c does). */
int wwctl_cmd_getopt(const wwctl_ctx_t *ctx, int argc, char **argv,
                     const char *shortopts, const struct option *longopts);

/* Checks that argv[first..argc-1] holds `min`..`max` operands, named by
 * the words of `names` ("TIME HAS_TRAINING AVAILABLE"): a usage error
 * names the first one missing or the first one too many. */
bool wwctl_cmd_operands(const wwctl_ctx_t *ctx, int argc, char **argv,
                        int first, const char *names, int min, int max);

#endif
