/* The trainer and users binaries as an operator runs them: they refuse to
 * start without TLS or a listen address, serve health on WW_LISTEN_ADDR,
 * and stop cleanly on SIGTERM. (With TLS and tokens: test_services_auth.) */
#include "ww_rpc_stubs.h"
#include "ww_test.h"
#include "ww_test_proc.h"
#include "ww_test_serving.h"

#include <signal.h>

/* Starts `bin` with extra environment (NAME=VALUE, NULL-terminated) and
 * none of the addresses or the local-mode switch the suite may have set;
 * stderr goes to `log`. */
static pid_t spawn(const char *bin, const char *const *env, const char *log) {
    const char *unset[] = {"GRPC_NO_TLS",
                           "WW_LISTEN_ADDR",
                           "TRAINER_GRPC_ADDR",
                           "USERS_GRPC_ADDR",
                           "WW_CALLERS",
                           "WW_CALLERS_FILE",
                           NULL};
    /* Each start keeps its state on topics of its own (the suite's broker
     * is shared). */
    char prefix[160];
    int n = snprintf(prefix, sizeof prefix, "WW_TOPIC_PREFIX=");
    ww_test_unique_name(prefix + n, sizeof prefix - (size_t)n, "binary");
    strcat(prefix, ".");
    const char *all[16] = {prefix};
    for (int i = 1; env && *env && i < 15; i++) all[i] = *env++;
    return ww_test_proc_spawn(
        (const char *[]){bin, NULL},
        &(ww_test_proc_opts_t){.unset = unset, .env = all, .stderr_path = log});
}

static void read_file(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

static void log_path(char *buf, size_t size, const char *what) {
    snprintf(buf, size, "/tmp/ww-binary-%d-%s.log", (int)getpid(), what);
}

/* Fail closed: each required security variable in turn is the one named
 * (the checks look only at presence here, so the paths need not exist). */
WW_TEST(refuses_to_start_naming_each_missing_security_variable) {
    const char *bins[] = {TRAINER_BIN, USERS_BIN};
    /* WW_CALLERS last: with everything else there, the list is what is
     * missing (its check comes before any file is opened). */
    const char *vars[] = {"WW_TLS_CERT=/nonexistent/cert.pem",
                          "WW_TLS_KEY=/nonexistent/key.pem",
                          "WW_JWKS=/nonexistent/jwks.json",
                          "WW_JWT_AUDIENCE=https://localhost"};
    const char *names[] = {"WW_TLS_CERT", "WW_TLS_KEY", "WW_JWKS",
                           "WW_JWT_AUDIENCE", "WW_CALLERS"};
    for (int i = 0; i < 2; i++) {
        for (int missing = 0; missing < 5; missing++) {
            char log[128], text[4096], expect[64];
            log_path(log, sizeof log, "notls");
            const char *env[7] = {"WW_LISTEN_ADDR=127.0.0.1:0"};
            for (int v = 0; v < missing; v++) env[1 + v] = vars[v];
            WW_ASSERT_EQ_INT(ww_test_proc_wait(spawn(bins[i], env, log), 10000),
                             1);
            read_file(log, text, sizeof text);
            snprintf(expect, sizeof expect, "%s is not set", names[missing]);
            WW_ASSERT_CONTAINS(text, expect);
            WW_ASSERT_CONTAINS(text, missing < 4 ? "GRPC_NO_TLS=true"
                                                 : "WW_CALLERS_FILE");
            WW_ASSERT_MSG(!strstr(text, "event=started"), "%s", text);
            unlink(log);
        }
    }
}

/* The allowlists the roles replaced stop a start instead of being
 * silently ignored. */
WW_TEST(refuses_to_start_with_a_retired_caller_variable) {
    const char *bins[] = {TRAINER_BIN, USERS_BIN};
    const char *retired[] = {"WW_ALLOWED_CALLERS=a@example.com",
                             "WW_TRAINER_CALLERS=t@example.com"};
    for (int i = 0; i < 2; i++) {
        for (int r = 0; r < 2; r++) {
            char log[128], text[4096], name[32];
            log_path(log, sizeof log, "retired");
            const char *env[] = {"WW_LISTEN_ADDR=127.0.0.1:0",
                                 "WW_TLS_CERT=/nonexistent/cert.pem",
                                 "WW_TLS_KEY=/nonexistent/key.pem",
                                 "WW_JWKS=/nonexistent/jwks.json",
                                 "WW_JWT_AUDIENCE=https://localhost",
                                 "WW_CALLERS=",
                                 retired[r],
                                 NULL};
            WW_ASSERT_EQ_INT(ww_test_proc_wait(spawn(bins[i], env, log), 10000),
                             1);
            read_file(log, text, sizeof text);
            snprintf(name, sizeof name, "%.*s",
                     (int)(strchr(retired[r], '=') - retired[r]), retired[r]);
            WW_ASSERT_CONTAINS(text, name);
            WW_ASSERT_CONTAINS(text, "no longer read");
            WW_ASSERT_MSG(!strstr(text, "event=started"), "%s", text);
            unlink(log);
        }
    }
}

WW_TEST(refuses_to_start_without_a_listen_address) {
    char log[128], text[4096];
    log_path(log, sizeof log, "noaddr");
    const char *env[] = {"GRPC_NO_TLS=true", NULL};
    WW_ASSERT_EQ_INT(ww_test_proc_wait(spawn(USERS_BIN, env, log), 10000), 1);
    read_file(log, text, sizeof text);
    WW_ASSERT_CONTAINS(text, "USERS_GRPC_ADDR");
    unlink(log);
}

/* `addr_var` is the variable that names the listen address. */
static void serves_and_stops(const char *bin, const char *service, int sig,
                             const char *addr_var) {
    char listen[64], addr[64], log[128];
    /* The whole log: a slow start (a sanitizer build) writes a health line
     * per poll before it serves. */
    static char text[1 << 18];
    int port = ww_test_proc_free_port();
    snprintf(listen, sizeof listen, "%s=127.0.0.1:%d", addr_var, port);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    log_path(log, sizeof log, "serve");
    const char *env[] = {"GRPC_NO_TLS=true", listen, "WW_FIXTURES=1", NULL};
    pid_t pid = spawn(bin, env, log);
    /* Dial only once the port accepts, so the channel never enters gRPC's
     * reconnect backoff. */
    WW_ASSERT_MSG(ww_test_proc_wait_port(port, pid, 60000),
                  "%s did not listen, see %s", bin, log);
    ww_rpc_client_config_t cc = {.target = addr};
    ww_rpc_client_t *c;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_rpc_client_new(&cc, &c, &err), WW_OK);
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    Grpc__Health__V1__HealthCheckResponse *resp = NULL;
    ww_rpc_call_options_t o = {.timeout_ms = 2000};
    /* It listens at once and serves once its read model caught up. */
    WW_ASSERT_MSG(ww_test_serving_wait(c, pid, 60000),
                  "%s never served, see %s", bin, log);
    ww_code_t rc = ww_rpc_stubs_health_check(c, &req, &resp, &o, &err);
    WW_ASSERT_MSG(rc == WW_OK, "health: %s", err.msg);
    WW_ASSERT_EQ_INT(
        resp->status,
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, sig, 10000), 0);
    read_file(log, text, sizeof text);
    int warnings = 0; /* local mode warns exactly once */
    for (const char *w = text; (w = strstr(w, "GRPC_NO_TLS=true")); w++)
        warnings++;
    WW_ASSERT_EQ_INT(warnings, 1);
    WW_ASSERT_CONTAINS(text, "security=plaintext");
    WW_ASSERT_CONTAINS(text, "event=serving");
    WW_ASSERT_CONTAINS(text, "event=stopped");
    WW_ASSERT_CONTAINS(text, "method=/grpc.health.v1.Health/Check status=OK");
    unlink(log);
    ww_rpc_client_destroy(c);
}

WW_TEST(trainer_serves_health_and_stops_on_sigterm) {
    serves_and_stops(TRAINER_BIN, "trainings.TrainingsService", SIGTERM,
                     "WW_LISTEN_ADDR");
}

WW_TEST(users_listens_on_its_grpc_addr_and_stops_on_sigint) {
    /* without WW_LISTEN_ADDR, the service's own discovery variable */
    serves_and_stops(USERS_BIN, "users.UsersService", SIGINT,
                     "USERS_GRPC_ADDR");
}

/* Runs wwctl with `env` (a shell assignment prefix) and `args`; returns its
 * exit code and its stdout+stderr in out. */
static int wwctl(const char *env, const char *args, char *out, size_t size) {
    char cmd[1024];
    /* Writes go through Kafka: a first one may wait for the decider. */
    snprintf(cmd, sizeof cmd, "env %s %s --timeout-ms 30000 %s 2>&1", env,
             WWCTL_BIN, args);
    return ww_test_proc_run(cmd, out, size);
}

WW_TEST(wwctl_makes_typed_calls_and_reports_statuses) {
    char listen[64], env[128], log[128], out[4096];
    int port = ww_test_proc_free_port();
    snprintf(listen, sizeof listen, "WW_LISTEN_ADDR=127.0.0.1:%d", port);
    snprintf(env, sizeof env, "GRPC_NO_TLS=true TRAINER_GRPC_ADDR=127.0.0.1:%d",
             port);
    log_path(log, sizeof log, "wwctl");
    const char *senv[] = {"GRPC_NO_TLS=true", listen, NULL};
    pid_t pid = spawn(TRAINER_BIN, senv, log);
    int64_t until = ww_test_now_ms() + 60000;
    while (wwctl(env, "health trainer", out, sizeof out) != 0 &&
           ww_test_now_ms() < until)
        usleep(50000);
    WW_ASSERT_CONTAINS(out, "status=SERVING");
    WW_ASSERT_EQ_INT(wwctl(env,
                           "trainer is-hour-available 2031-01-02T13:00:00Z",
                           out, sizeof out),
                     0);
    WW_ASSERT_CONTAINS(out, "is_available=false");
    WW_ASSERT_EQ_INT(wwctl(env, "trainer make-available 2031-01-02T13:00:00Z",
                           out, sizeof out),
                     0);
    WW_ASSERT_EQ_INT(wwctl(env,
                           "trainer is-hour-available 2031-01-02T13:00:00Z",
                           out, sizeof out),
                     0);
    WW_ASSERT_CONTAINS(out, "is_available=true");
    WW_ASSERT_EQ_INT(wwctl(env,
                           "trainings schedule "
                           "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0c01 ann "
                           "2031-01-02T13:00:00Z legs",
                           out, sizeof out),
                     0);
    WW_ASSERT_EQ_INT(wwctl(env,
                           "trainings get "
                           "0b6e2c4a-6d3f-4b8e-9a71-2f5c8d1e0c01",
                           out, sizeof out),
                     0);
    WW_ASSERT_CONTAINS(out, "status=PENDING");
    WW_ASSERT_CONTAINS(out, "user_id=ann");
    WW_ASSERT_EQ_INT(wwctl(env, "trainings get nope", out, sizeof out), 1);
    WW_ASSERT_CONTAINS(out, "INVALID_ARGUMENT");
    WW_ASSERT_EQ_INT(
        wwctl(env, "trainer is-hour-available yesterday", out, sizeof out), 2);
    WW_ASSERT_EQ_INT(
        wwctl("GRPC_NO_TLS=true TRAINER_GRPC_ADDR=", "trainings get x", out,
              sizeof out),
        2);
    WW_ASSERT_CONTAINS(out, "TRAINER_GRPC_ADDR is empty");
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
    unlink(log);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(refuses_to_start_naming_each_missing_security_variable),
            WW_CASE(refuses_to_start_with_a_retired_caller_variable),
            WW_CASE(refuses_to_start_without_a_listen_address),
            WW_CASE(trainer_serves_health_and_stops_on_sigterm),
            WW_CASE(users_listens_on_its_grpc_addr_and_stops_on_sigint),
            WW_CASE(wwctl_makes_typed_calls_and_reports_statuses),
            {0}});
}
