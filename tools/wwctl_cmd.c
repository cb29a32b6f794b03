/* wwctl_cmd.c - the helpers every wwctl command shares. */
#include "wwctl_cmd.h"

#include "ww_rfc3339.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps lines of several threads whole. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

int wwctl_cmd_timeout(const wwctl_ctx_t *ctx, int fallback) {
    return ctx->timeout_given ? (int)ctx->timeout_ms : fallback;
}

static const char *name_of(const wwctl_ctx_t *ctx) {
    return ctx->cmd ? ctx->cmd->name : "";
}

/* One error line on stderr: text, or {"error":{...}} with --json;
 * `trace_id` NULL: none to name. */
static void print_error(const wwctl_ctx_t *ctx, const char *code,
                        const char *msg, const char *trace_id) {
    pthread_mutex_lock(&out_lock);
    if (ctx->json) {
        json_t *j =
            json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
        if (j && trace_id)
            json_object_set_new(json_object_get(j, "error"), "trace_id",
                                json_string(trace_id));
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        fprintf(stderr, "%s\n", s ? s : msg);
        free(s);
        json_decref(j);
    } else {
        const char *name = name_of(ctx);
        fprintf(stderr, "wwctl%s%s: %s%s%s%s\n", *name ? " " : "", name, msg,
                trace_id ? " (trace " : "", trace_id ? trace_id : "",
                trace_id ? ")" : "");
    }
    fflush(stderr);
    pthread_mutex_unlock(&out_lock);
}

int wwctl_cmd_usage(const wwctl_ctx_t *ctx, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error(ctx, "USAGE", msg, NULL);
    if (!ctx->json && ctx->cmd) {
        const char *s = ctx->cmd->synopsis;
        const char *lead = "usage:";
        while (s && *s) {
            size_t n = strcspn(s, "\n");
            fprintf(stderr, "%s wwctl [OPTIONS] %.*s\n", lead, (int)n, s);
            lead = "      ";
            s += n + (s[n] == '\n');
        }
        fprintf(stderr, "(wwctl %s --help says more)\n", ctx->cmd->name);
    }
    return WWCTL_EXIT_USAGE;
}

static int fail(const wwctl_ctx_t *ctx, const ww_err_t *err,
                const char *trace_id) {
    const char *code = ww_code_name(err->code);
    const char *msg = err->msg;
    /* The rpc client's messages start with the code; JSON has it apart. */
    size_t n = strlen(code);
    if (ctx->json && strncmp(msg, code, n) == 0 &&
        strncmp(msg + n, ": ", 2) == 0)
        msg += n + 2;
    print_error(ctx, code, msg, trace_id);
    return WWCTL_EXIT_FAILED;
}

int wwctl_cmd_fail(const wwctl_ctx_t *ctx, const ww_err_t *err) {
    return fail(ctx, err, NULL);
}

int wwctl_cmd_fail_call(const wwctl_ctx_t *ctx, const ww_err_t *err) {
    if (!ctx->trace.valid) return fail(ctx, err, NULL);
    char id[WW_TRACE_ID_HEX + 1];
    ww_trace_id_hex(&ctx->trace, id);
    return fail(ctx, err, id);
}

ww_rpc_call_options_t wwctl_cmd_call_options(const wwctl_ctx_t *ctx) {
    return (ww_rpc_call_options_t){
        .timeout_ms = wwctl_cmd_timeout(ctx, WWCTL_GRPC_TIMEOUT_MS),
        .idempotency_key = ctx->idempotency_key,
        .trace = &ctx->trace};
}

int wwctl_cmd_fail_config(const wwctl_ctx_t *ctx, const ww_err_t *err) {
    wwctl_cmd_fail(ctx, err);
    return WWCTL_EXIT_USAGE;
}

int wwctl_cmd_failf(const wwctl_ctx_t *ctx, ww_code_t code, const char *fmt,
                    ...) {
    ww_err_t err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    return wwctl_cmd_fail(ctx, &err);
}

int wwctl_cmd_print_json(json_t *j) {
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!s) return -1;
    pthread_mutex_lock(&out_lock);
    int rc = fputs(s, stdout) < 0 || fputc('\n', stdout) == EOF ||
                     fflush(stdout) != 0
                 ? -1
                 : 0;
    pthread_mutex_unlock(&out_lock);
    free(s);
    return rc;
}

bool wwctl_cmd_parse_int(const wwctl_ctx_t *ctx, const char *what,
                         const char *s, int64_t min, int64_t max,
                         int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < min || v > max) {
        if (min == INT64_MIN && max == INT64_MAX)
            wwctl_cmd_usage(ctx, "%s \"%s\" is not a 64-bit whole number", what,
                            s);
        else
            wwctl_cmd_usage(ctx,
                            "%s \"%s\" is not a whole number in "
                            "%lld..%lld",
                            what, s, (long long)min, (long long)max);
        return false;
    }
    *out = v;
    return true;
}

bool wwctl_cmd_parse_time(const wwctl_ctx_t *ctx, const char *what,
                          const char *s, int64_t *seconds, int32_t *nanos) {
    ww_err_t err;
    if (ww_rfc3339_parse(s, seconds, nanos, &err) == WW_OK) return true;
    wwctl_cmd_usage(ctx, "%s: %s", what, err.msg);
    return false;
}

bool wwctl_cmd_parse_bool(const wwctl_ctx_t *ctx, const char *what,
                          const char *s, bool *out) {
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0) {
        *out = false;
        return true;
    }
    wwctl_cmd_usage(ctx, "%s \"%s\" is not 0, 1, false or true", what, s);
    return false;
}

int wwctl_cmd_getopt(const wwctl_ctx_t *ctx, int argc, char **argv,
                     const char *shortopts, const struct option *longopts) {
    char opts[64];
    /* ':' first: a missing value is ':' rather than '?' */
    snprintf(opts, sizeof opts, ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, opts, longopts, NULL);
    if (c == '?') {
        if (optopt)
            wwctl_cmd_usage(ctx, "unknown option -%c", optopt);
        else
            wwctl_cmd_usage(ctx, "unknown option %s", argv[optind - 1]);
    } else if (c == ':') {
        wwctl_cmd_usage(ctx, "option %s needs a value", argv[optind - 1]);
        c = '?';
    }
    return c;
}

bool wwctl_cmd_operands(const wwctl_ctx_t *ctx, int argc, char **argv,
                        int first, const char *names, int min, int max) {
    int n = argc - first;
    if (n > max) {
        wwctl_cmd_usage(ctx, "unexpected argument \"%s\"", argv[first + max]);
        return false;
    }
    if (n >= min) return true;
    const char *w = names;
    for (int i = 0; i < n && *w; i++) { /* skip the words given */
        w += strcspn(w, " ");
        w += strspn(w, " ");
    }
    wwctl_cmd_usage(ctx, "missing %.*s", (int)strcspn(w, " "), w);
    return false;
}
