/* Log lines cannot be forged through the real users binary with TLS and
 * token verification: a token whose `kid` holds a quote, a newline and a
 * fake log line is refused UNAUTHENTICATED, its per-call line names the kid
 * escaped, and no line of the log starts with the forged time; with
 * WW_LOG_FORMAT=json every line parses (jansson) and the call's line
 * carries the kid as data in its `msg` member, and so do the gRPC core's
 * own lines (GRPC_VERBOSITY=debug). */
#include "auth_fixture.h"
#include "services_auth_fixture.h"
#include "ww_test.h"
#include "ww_test_proc.h"
#include "ww_users_stubs.h"

#include <jansson.h>
#include <signal.h>
#include <time.h>

#define FORGED_KID "x\"\n2030-01-01T00:00:00.000Z INFO rpc forged=1"

static ww_rpc_call_options_t opts = {.timeout_ms = 5000};

static void setup_once(void) {
    if (sfx_jwks_path[0]) return;
    fx_pki();
    char *doc = fx_jwks_json(0);
    fx_write(fx_path(sfx_jwks_path, sizeof sfx_jwks_path, "jwks.json"), doc);
    free(doc);
}

/* A users instance with `format` logs in `log`; the pid. */
static pid_t start_users(const char *format, const char *extra, char *log,
                         size_t size, int *port) {
    setup_once();
    char name[64];
    snprintf(name, sizeof name, "forgery-%s.log", format);
    fx_path(log, size, name);
    char fmt[64];
    snprintf(fmt, sizeof fmt, "WW_LOG_FORMAT=%s", format);
    *port = ww_test_proc_free_port();
    return sfx_start_service(USERS_BIN, *port, USERS_AUD,
                             (const char *[]){fmt, extra, NULL}, log);
}

/* Calls GetTrainingBalance with a token signed by a key the JWKS does not
 * hold, under the forged kid. */
static void call_with_forged_kid(int port) {
    json_t *claims = fx_claims(USERS_AUD, (int64_t)time(NULL), 600);
    json_object_set_new(claims, "email", json_string(FX_EMAIL));
    char *auth =
        sfx_bearer(fx_mint("RS256", FORGED_KID, fx_rsa_other(), NULL, claims));
    ww_rpc_client_t *c = sfx_dial("127.0.0.1", port, "ca.pem", auth);
    free(auth);
    Users__GetTrainingBalanceRequest req =
        USERS__GET_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = "forgery-victim";
    Users__GetTrainingBalanceResponse *resp = NULL;
    ww_err_t err = {0};
    ww_code_t rc =
        ww_users_stubs_get_training_balance(c, &req, &resp, &opts, &err);
    if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
    ww_rpc_client_destroy(c);
    WW_ASSERT_MSG(rc == WW_ERR_UNAUTHENTICATED, "code %d: %s", (int)rc,
                  err.msg);
}

/* The log once it holds `needle` (up to 10 s); static buffer. */
static const char *log_with(const char *path, const char *needle) {
    static char buf[1 << 20];
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = '\0';
        if (strstr(buf, needle)) return buf;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    return buf;
}

static void assert_no_forged_line(const char *text) {
    for (const char *p = text; *p;) {
        WW_ASSERT_MSG(strncmp(p, "2030-", 5) != 0, "forged line: %.80s", p);
        WW_ASSERT_MSG(strncmp(p, "{\"time\":\"2030", 13) != 0,
                      "forged line: %.80s", p);
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
}

WW_TEST(a_forged_kid_writes_no_text_line) {
    char log[512];
    int port;
    pid_t pid = start_users("text", NULL, log, sizeof log, &port);
    call_with_forged_kid(port);
    const char *text = log_with(log, "status=UNAUTHENTICATED");
    WW_ASSERT_CONTAINS(text, "status=UNAUTHENTICATED");
    /* the kid is in the call's line, escaped: one line, still quoted */
    WW_ASSERT_CONTAINS(text, "kid \\\"x\\\"\\n2030-01-01T00:00:00.000Z "
                             "INFO rpc forged=1\\\"");
    assert_no_forged_line(text);
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
}

WW_TEST(a_forged_kid_writes_no_json_line) {
    char log[512];
    int port;
    /* the gRPC core's own lines too: through ww_log, so JSON as well */
    pid_t pid =
        start_users("json", "GRPC_VERBOSITY=debug", log, sizeof log, &port);
    call_with_forged_kid(port);
    const char *text = log_with(log, "UNAUTHENTICATED");
    assert_no_forged_line(text);
    int lines = 0, refused = 0, core = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        WW_ASSERT_MSG(nl, "unterminated line: %.80s", p);
        json_error_t e;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &e);
        WW_ASSERT_MSG(json_is_object(o), "not JSON (%s): %.*s", e.text,
                      (int)(nl - p), p);
        lines++;
        const char *status = json_string_value(json_object_get(o, "status"));
        const char *msg = json_string_value(json_object_get(o, "msg"));
        const char *module = json_string_value(json_object_get(o, "module"));
        if (module && !strcmp(module, "grpc")) core++;
        if (status && !strcmp(status, "UNAUTHENTICATED")) {
            refused++;
            WW_ASSERT(msg && strstr(msg, "kid \"" FORGED_KID "\""));
            WW_ASSERT_EQ_INT(json_integer_value(json_object_get(o, "code")),
                             16);
        }
        json_decref(o);
        p = nl + 1;
    }
    WW_ASSERT(lines > 3);
    WW_ASSERT_EQ_INT(refused, 1);
    WW_ASSERT_MSG(core > 0, "no line of the gRPC core");
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){WW_CASE(a_forged_kid_writes_no_text_line),
                           WW_CASE(a_forged_kid_writes_no_json_line),
                           {0}});
}
