/* test_log_format.c - log lines cannot be forged (every value escaped, in
 * text and JSON), JSON lines parse and carry their fields, and the W3C
 * trace context parses, continues and shows on every line. Each logging
 * case runs in a child process with its own WW_LOG_FORMAT and stderr in a
 * file, since the format is read once per process. */
#include "ww_log.h"
#include "ww_test.h"
#include "ww_trace.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORGED_KID "x\"\n2030-01-01T00:00:00.000Z INFO rpc forged=1"

typedef void (*child_fn)(void);

/* Runs fn in a child with WW_LOG_FORMAT=format (NULL: unset), returns what
 * it wrote on stderr (static buffer). */
static const char *logged(const char *format, child_fn fn) {
    static char buf[65536];
    char path[64];
    snprintf(path, sizeof path, "/tmp/ww-log-format-%d.txt", (int)getpid());
    pid_t pid = fork();
    WW_ASSERT(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
        if (fd < 0) _exit(2);
        dup2(fd, STDERR_FILENO);
        close(fd);
        if (format)
            setenv("WW_LOG_FORMAT", format, 1);
        else
            unsetenv("WW_LOG_FORMAT");
        setenv("WW_LOG_LEVEL", "debug", 1);
        fn();
        _exit(0);
    }
    int status = 0;
    WW_ASSERT(waitpid(pid, &status, 0) == pid);
    WW_ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
    FILE *f = fopen(path, "r");
    WW_ASSERT(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    unlink(path);
    buf[n] = '\0';
    return buf;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    return n;
}

/* The line a forged value would have started. */
static int forged_lines(const char *s) {
    int n = 0;
    for (const char *p = s; p; p = strchr(p, '\n')) {
        if (*p == '\n') p++;
        if (!strncmp(p, "2030-", 5) || !strncmp(p, "{\"time\":\"2030", 13)) n++;
    }
    return n;
}

static void log_forged(void) {
    ww_log_info("rpc",
                "method=%s status=%s code=%d duration_us=%lld msg=\"%s\"",
                "/users.UsersService/GetTrainingBalance", "UNAUTHENTICATED", 16,
                41LL, "unknown signing key kid \"" FORGED_KID "\"");
    ww_log_warn("bus", "dead-lettered reason=\"%s\"",
                "unknown ce_type \"" FORGED_KID "\"");
}

WW_TEST(text_values_cannot_forge_a_line) {
    const char *out = logged(NULL, log_forged);
    WW_ASSERT_EQ_INT(count_lines(out), 2);
    WW_ASSERT_EQ_INT(forged_lines(out), 0);
    WW_ASSERT_CONTAINS(out, "msg=\"unknown signing key kid \\\"x\\\"\\n2030-"
                            "01-01T00:00:00.000Z INFO rpc forged=1\\\"\"\n");
    WW_ASSERT_CONTAINS(out, " WARN bus dead-lettered reason=\"unknown ce_type "
                            "\\\"x\\\"\\n2030-");
}

static void log_special(void) {
    ww_log_info("t", "v=\"%s\"",
                "back\\slash \"q\" tab\t cr\r esc\x1b del\x7f");
    ww_log_info("t", "u=\"%s\"",
                "caf\xc3\xa9 bad\xff\xc3 nel\xc2\x85 ls\xe2\x80\xa8");
    ww_log_info("t",
                "n=%d big=%lld sz=%zu p=%.2s w=%4s s=%.*s pct=100%% "
                "c=%c x=%x",
                42, -9LL, (size_t)7, "abc", "ab", 3, "xyzw", 'Q', 255u);
    const char *volatile none = NULL; /* NULL %s as glibc prints it */
    ww_log_info("t", "null=%s", none);
}

WW_TEST(quotes_controls_and_bad_utf8_are_escaped_numbers_are_not) {
    const char *out = logged(NULL, log_special);
    WW_ASSERT_EQ_INT(count_lines(out), 4);
    WW_ASSERT_CONTAINS(out, "v=\"back\\\\slash \\\"q\\\" tab\\t cr\\r esc\\x1b "
                            "del\\x7f\"\n");
    WW_ASSERT_CONTAINS(out, "u=\"caf\xc3\xa9 bad\\xff\\xc3 nel\\xc2\\x85 "
                            "ls\\xe2\\x80\\xa8\"\n");
    WW_ASSERT_CONTAINS(out, " INFO t n=42 big=-9 sz=7 p=ab w=  ab s=xyz "
                            "pct=100% c=Q x=ff\n");
    WW_ASSERT_CONTAINS(out, "null=(null)\n");
}

static void log_json(void) {
    log_forged();
    log_special();
    ww_trace_t t;
    WW_ASSERT(ww_trace_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", NULL, &t));
    ww_trace_t mine;
    ww_trace_child(&t, &mine);
    ww_trace_t prev = ww_trace_enter(&mine);
    ww_log_debug("decider", "event=decided topic=%s offset=%lld took_s=%.3f",
                 "trainer.commands", 12LL, 0.25);
    ww_trace_leave(&prev);
    ww_log_error("x", "after=1");
}

static json_t *parse_line(const char *line, size_t len) {
    json_error_t e;
    json_t *j = json_loadb(line, len, 0, &e);
    WW_ASSERT_MSG(j && json_is_object(j), "not a JSON object: %.*s (%s)",
                  (int)len, line, e.text);
    return j;
}

static const char *str(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    WW_ASSERT_MSG(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

WW_TEST(json_lines_parse_and_carry_their_fields) {
    const char *out = logged("json", log_json);
    WW_ASSERT_EQ_INT(count_lines(out), 8);
    WW_ASSERT_EQ_INT(forged_lines(out), 0);
    json_t *lines[8];
    const char *p = out;
    for (int i = 0; i < 8; i++) {
        const char *nl = strchr(p, '\n');
        WW_ASSERT(nl);
        lines[i] = parse_line(p, (size_t)(nl - p));
        p = nl + 1;
        WW_ASSERT_CONTAINS(str(lines[i], "time"), "T");
        str(lines[i], "level");
        str(lines[i], "module");
        str(lines[i], "message");
    }
    /* the call line: method, status, code, duration as members */
    json_t *call = lines[0];
    WW_ASSERT_EQ_STR(str(call, "level"), "INFO");
    WW_ASSERT_EQ_STR(str(call, "module"), "rpc");
    WW_ASSERT_EQ_STR(str(call, "method"),
                     "/users.UsersService/GetTrainingBalance");
    WW_ASSERT_EQ_STR(str(call, "status"), "UNAUTHENTICATED");
    WW_ASSERT(json_is_integer(json_object_get(call, "code")));
    WW_ASSERT_EQ_INT(json_integer_value(json_object_get(call, "code")), 16);
    WW_ASSERT_EQ_INT(json_integer_value(json_object_get(call, "duration_us")),
                     41);
    /* the raw value in its member; the escaped one in the message */
    WW_ASSERT_EQ_STR(str(call, "msg"),
                     "unknown signing key kid \"" FORGED_KID "\"");
    WW_ASSERT_CONTAINS(str(call, "message"), "kid \\\"x\\\"\\n2030-");
    WW_ASSERT(!json_object_get(call, "trace_id"));
    /* ill-formed UTF-8 escaped so the member is valid */
    WW_ASSERT_CONTAINS(str(lines[3], "u"), "caf\xc3\xa9 bad\\xff\\xc3");
    WW_ASSERT_EQ_INT(json_integer_value(json_object_get(lines[4], "n")), 42);
    WW_ASSERT_EQ_INT(json_integer_value(json_object_get(lines[4], "big")), -9);
    /* the traced line */
    json_t *traced = lines[6];
    WW_ASSERT_EQ_STR(str(traced, "trace_id"),
                     "4bf92f3577b34da6a3ce929d0e0e4736");
    WW_ASSERT_EQ_INT((int)strlen(str(traced, "span_id")), 16);
    WW_ASSERT(strcmp(str(traced, "span_id"), "00f067aa0ba902b7") != 0);
    WW_ASSERT_EQ_STR(str(traced, "topic"), "trainer.commands");
    WW_ASSERT(json_is_real(json_object_get(traced, "took_s")));
    WW_ASSERT(!json_object_get(lines[7], "trace_id")); /* left: gone */
    for (int i = 0; i < 8; i++)
        json_decref(lines[i]);
}

static void log_traced_text(void) {
    ww_trace_t t;
    ww_trace_continue("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                      "congo=t61rcWkgMzE", &t);
    ww_trace_t prev = ww_trace_enter(&t);
    ww_log_info("rpc", "method=%s status=OK", "/m");
    ww_trace_leave(&prev);
    ww_log_info("rpc", "method=%s status=OK", "/after");
}

WW_TEST(text_lines_end_with_the_current_trace_id) {
    const char *out = logged(NULL, log_traced_text);
    WW_ASSERT_CONTAINS(out, " INFO rpc method=/m status=OK "
                            "trace_id=4bf92f3577b34da6a3ce929d0e0e4736\n");
    WW_ASSERT_CONTAINS(out, " INFO rpc method=/after status=OK\n");
}

WW_TEST(traceparent_parses_by_the_w3c_rules) {
    ww_trace_t t;
    WW_ASSERT(ww_trace_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", &t));
    WW_ASSERT(t.valid);
    WW_ASSERT_EQ_INT(t.flags, 1);
    WW_ASSERT_EQ_STR(t.state, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    char buf[64];
    WW_ASSERT_EQ_INT((int)ww_trace_format(&t, buf, sizeof buf), 55);
    WW_ASSERT_EQ_STR(buf,
                     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    /* a later version may append fields after a dash */
    WW_ASSERT(ww_trace_parse(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what", NULL,
        &t));
    const char *bad[] = {
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00x",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        WW_ASSERT_MSG(!ww_trace_parse(bad[i], NULL, &t), "accepted %s", bad[i]);
        WW_ASSERT(!t.valid);
    }
    WW_ASSERT(!ww_trace_parse(NULL, NULL, &t));
    /* an unusable tracestate is dropped, the traceparent kept */
    WW_ASSERT(ww_trace_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "a=b\nforged", &t));
    WW_ASSERT_EQ_STR(t.state, "");
}

WW_TEST(a_child_keeps_the_trace_and_takes_a_new_span) {
    ww_trace_t parent, child, again;
    ww_trace_continue("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                      "k=v", &parent);
    char id[33], span[17];
    ww_trace_id_hex(&parent, id);
    WW_ASSERT_EQ_STR(id, "4bf92f3577b34da6a3ce929d0e0e4736");
    ww_trace_span_hex(&parent, span);
    WW_ASSERT(strcmp(span, "00f067aa0ba902b7") != 0);
    WW_ASSERT(!memcmp(parent.parent_id, "\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
    ww_trace_child(&parent, &child);
    ww_trace_id_hex(&child, id);
    WW_ASSERT_EQ_STR(id, "4bf92f3577b34da6a3ce929d0e0e4736");
    WW_ASSERT(!memcmp(child.parent_id, parent.span_id, 8));
    WW_ASSERT(memcmp(child.span_id, parent.span_id, 8) != 0);
    WW_ASSERT_EQ_STR(child.state, "k=v");
    /* none or malformed: a new trace each time */
    ww_trace_continue("00-zz", NULL, &child);
    ww_trace_continue(NULL, NULL, &again);
    WW_ASSERT(child.valid && again.valid);
    WW_ASSERT(memcmp(child.trace_id, again.trace_id, 16) != 0);
    WW_ASSERT(memcmp(child.trace_id, parent.trace_id, 16) != 0);
    char tp[64];
    WW_ASSERT_EQ_INT((int)ww_trace_format(&again, tp, sizeof tp), 55);
    ww_trace_t back;
    WW_ASSERT(ww_trace_parse(tp, NULL, &back));
    WW_ASSERT(!memcmp(back.trace_id, again.trace_id, 16));
    /* the current context is per thread and restored on leave */
    WW_ASSERT(!ww_trace_current()->valid);
    ww_trace_t prev = ww_trace_enter(&parent);
    WW_ASSERT(!memcmp(ww_trace_current()->span_id, parent.span_id, 8));
    ww_trace_t inner = ww_trace_enter(&child);
    ww_trace_leave(&inner);
    WW_ASSERT(!memcmp(ww_trace_current()->span_id, parent.span_id, 8));
    ww_trace_leave(&prev);
    WW_ASSERT(!ww_trace_current()->valid);
}

static void log_one(void) {
    ww_log_info("t", "n=%d", 1);
}

WW_TEST(an_unknown_format_is_named_and_text_is_written) {
    const char *out = logged("xml\n2030-", log_one);
    WW_ASSERT_EQ_INT(count_lines(out), 2);
    WW_ASSERT_EQ_INT(forged_lines(out), 0);
    WW_ASSERT_CONTAINS(out, " WARN log event=unknown_log_format "
                            "WW_LOG_FORMAT=\"xml\\n2030-\" msg=\"not text or "
                            "json: writing text\"\n");
    WW_ASSERT_CONTAINS(out, " INFO t n=1\n");
    out = logged("TEXT", log_one);
    WW_ASSERT_EQ_INT(count_lines(out), 1);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(text_values_cannot_forge_a_line),
            WW_CASE(quotes_controls_and_bad_utf8_are_escaped_numbers_are_not),
            WW_CASE(json_lines_parse_and_carry_their_fields),
            WW_CASE(text_lines_end_with_the_current_trace_id),
            WW_CASE(traceparent_parses_by_the_w3c_rules),
            WW_CASE(a_child_keeps_the_trace_and_takes_a_new_span),
            WW_CASE(an_unknown_format_is_named_and_text_is_written),
            {0}});
}
