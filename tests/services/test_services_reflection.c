/* Server reflection through the real trainer and users binaries on the real
 * broker, asked by the tools people use and given no .proto file: grpcurl
 * (which asks grpc.reflection.v1) lists every service of each binary,
 * describes trainer.TrainerService and calls methods with JSON;
 * grpcio-reflection (which asks v1alpha) finds the same, builds the
 * messages from the descriptors it got and calls with them, and gets
 * NOT_FOUND or an empty list for what nobody defines. WW_REFLECTION=off
 * answers as a server without reflection does; any other value than on or
 * off refuses to start. Over TLS, reflection without a token is
 * UNAUTHENTICATED like every other call, and answers with one. */
#include "auth_fixture.h"
#include "services_auth_fixture.h"
#include "ww_rpc_client.h"
#include "ww_test.h"
#include "ww_test_proc.h"
#include "ww_test_serving.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef WW_GRPCURL
#error "WW_GRPCURL must name the grpcurl binary (scripts/go-tools.sh)"
#endif

typedef struct service {
    pid_t pid;
    int port;
    char log[128];
} service_t;

static service_t trainer, users;

/* `bin` on a free port with topics of its own and `extra` (NAME=VALUE or
 * NULL); waits until it serves. */
static void start(service_t *s, const char *bin, const char *name,
                  const char *extra) {
    char prefix[128], listen[64], topics[160];
    ww_test_unique_name(prefix, sizeof prefix, "refl");
    s->port = ww_test_proc_free_port();
    snprintf(listen, sizeof listen, "WW_LISTEN_ADDR=127.0.0.1:%d", s->port);
    snprintf(topics, sizeof topics, "WW_TOPIC_PREFIX=%s.", prefix);
    snprintf(s->log, sizeof s->log, "/tmp/ww-refl-%d-%s.log", (int)getpid(),
             name);
    const char *env[] = {"GRPC_NO_TLS=true",      listen, topics,
                         "WW_KAFKA_PARTITIONS=2", extra,  NULL};
    const char *unset[] = {"TRAINER_GRPC_ADDR", "USERS_GRPC_ADDR",
                           "WW_REFLECTION", NULL};
    s->pid = ww_test_proc_spawn((const char *[]){bin, NULL},
                                &(ww_test_proc_opts_t){.unset = unset,
                                                       .env = env,
                                                       .stderr_path = s->log});
    WW_ASSERT_MSG(ww_test_proc_wait_port(s->port, s->pid, 90000),
                  "%s did not start, see %s", bin, s->log);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", s->port);
    ww_rpc_client_t *c;
    ww_rpc_client_config_t cc = {.target = target};
    ww_err_t e;
    WW_ASSERT_EQ_INT(ww_rpc_client_new(&cc, &c, &e), WW_OK);
    bool serving = ww_test_serving_wait(c, s->pid, 90000);
    ww_rpc_client_destroy(c);
    WW_ASSERT_MSG(serving, "%s never served, see %s", bin, s->log);
}

static void stop(service_t *s) {
    if (!s->pid) return;
    WW_ASSERT_MSG(ww_test_proc_stop(s->pid, SIGTERM, 30000) == 0,
                  "clean exit, see %s", s->log);
    unlink(s->log);
    s->pid = 0;
}

static void setup(void) {
    if (trainer.pid) return;
    start(&trainer, TRAINER_BIN, "trainer", NULL);
    start(&users, USERS_BIN, "users", NULL);
}

/* grpcurl ARGS against `s` (plaintext): exit code, output in out. */
static int grpcurl(const service_t *s, const char *args, char *out,
                   size_t size) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -plaintext -max-time 30 %s 2>&1", WW_GRPCURL,
             args);
    char *at = strstr(cmd, "ADDR");
    WW_ASSERT_MSG(at, "args name no ADDR: %s", args);
    char tail[2048];
    snprintf(tail, sizeof tail, "%s", at + 4);
    snprintf(at, sizeof cmd - (size_t)(at - cmd), "127.0.0.1:%d%s", s->port,
             tail);
    return ww_test_proc_run(cmd, out, size);
}

/* The reflection client of grpcio-reflection with ARGS after the target. */
static void python(const service_t *s, const char *args, char *out,
                   size_t size) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s/reflection_client.py 127.0.0.1:%d %s 2>&1",
             WW_VENV_PYTHON, WW_TEST_SERVICES_DIR, s->port, args);
    int rc = ww_test_proc_run(cmd, out, size);
    WW_ASSERT_MSG(rc == 0, "reflection_client.py exited %d: %s", rc, out);
}

/* The per-call line is written after the stream ended and batched per
 * thread, so it may land a moment after the client returned: wait up to
 * 10 s for it. */
static bool log_has(const service_t *s, const char *needle) {
    char cmd[512], out[256];
    snprintf(cmd, sizeof cmd, "grep -c -F -- '%s' %s", needle, s->log);
    int64_t until = ww_test_now_ms() + 10000;
    do {
        if (ww_test_proc_run(cmd, out, sizeof out) == 0) return true;
        usleep(50000);
    } while (ww_test_now_ms() < until);
    return false;
}

#define TRAINER_SERVICES                                                       \
    "grpc.health.v1.Health\n"                                                  \
    "grpc.reflection.v1.ServerReflection\n"                                    \
    "grpc.reflection.v1alpha.ServerReflection\n"                               \
    "trainer.TrainerService\n"                                                 \
    "trainings.TrainingsService\n"                                             \
    "wildworkouts.admin.v1.AdminService"
#define USERS_SERVICES                                                         \
    "grpc.health.v1.Health\n"                                                  \
    "grpc.reflection.v1.ServerReflection\n"                                    \
    "grpc.reflection.v1alpha.ServerReflection\n"                               \
    "users.UsersService\n"                                                     \
    "wildworkouts.admin.v1.AdminService"

WW_TEST(grpcurl_lists_every_service_of_each_binary) {
    setup();
    char out[8192];
    WW_ASSERT_EQ_INT(grpcurl(&trainer, "ADDR list", out, sizeof out), 0);
    WW_ASSERT_EQ_STR(out, TRAINER_SERVICES);
    WW_ASSERT_EQ_INT(grpcurl(&users, "ADDR list", out, sizeof out), 0);
    WW_ASSERT_EQ_STR(out, USERS_SERVICES);
    /* grpcurl asks the current version first, and got its answers there. */
    WW_ASSERT(log_has(&trainer, "method=/grpc.reflection.v1.ServerReflection/"
                                "ServerReflectionInfo status=OK"));
}

WW_TEST(grpcurl_describes_trainer_service_and_its_messages) {
    setup();
    char out[16384];
    WW_ASSERT_EQ_INT(grpcurl(&trainer, "ADDR describe trainer.TrainerService",
                             out, sizeof out),
                     0);
    WW_ASSERT_CONTAINS(out, "trainer.TrainerService is a service:");
    WW_ASSERT_CONTAINS(out,
                       "rpc IsHourAvailable ( .trainer.IsHourAvailableRequest"
                       " ) returns ( .trainer.IsHourAvailableResponse );");
    WW_ASSERT_CONTAINS(out, "rpc ScheduleTraining ( .trainer.UpdateHourRequest"
                            " ) returns ( .google.protobuf.Empty );");
    /* A message from an imported file (google/protobuf/timestamp.proto). */
    WW_ASSERT_EQ_INT(grpcurl(&trainer,
                             "ADDR describe trainer.IsHourAvailableRequest",
                             out, sizeof out),
                     0);
    WW_ASSERT_CONTAINS(out, ".google.protobuf.Timestamp time = 1;");
    WW_ASSERT_EQ_INT(
        grpcurl(&users, "ADDR describe users.UsersService", out, sizeof out),
        0);
    WW_ASSERT_CONTAINS(out, "users.UsersService is a service:");
    /* A symbol nobody defines: grpcurl reports it, it does not hang. */
    WW_ASSERT(grpcurl(&trainer, "ADDR describe trainer.NoSuchThing", out,
                      sizeof out) != 0);
    WW_ASSERT_CONTAINS(out, "trainer.NoSuchThing");
}

WW_TEST(grpcurl_calls_with_json_and_no_proto_files) {
    setup();
    char out[8192];
    WW_ASSERT_EQ_INT(grpcurl(&trainer,
                             "-d '{\"time\":\"2030-01-02T14:00:00Z\"}' ADDR "
                             "trainer.TrainerService/MakeHourAvailable",
                             out, sizeof out),
                     0);
    WW_ASSERT_EQ_INT(
        grpcurl(&trainer,
                "-emit-defaults -d '{\"time\":\"2030-01-02T14:00:00Z\"}' ADDR "
                "trainer.TrainerService/IsHourAvailable",
                out, sizeof out),
        0);
    WW_ASSERT_CONTAINS(out, "\"isAvailable\": true");
    WW_ASSERT_EQ_INT(
        grpcurl(&trainer,
                "-emit-defaults -d '{\"time\":\"2030-01-02T15:00:00Z\"}' ADDR "
                "trainer.TrainerService/IsHourAvailable",
                out, sizeof out),
        0);
    WW_ASSERT_CONTAINS(out, "\"isAvailable\": false");
    /* JSON that does not fit the schema is refused by the client. */
    WW_ASSERT(grpcurl(&trainer,
                      "-d '{\"hour\":1}' ADDR "
                      "trainer.TrainerService/IsHourAvailable",
                      out, sizeof out) != 0);
    WW_ASSERT_CONTAINS(out, "hour");
}

WW_TEST(grpcio_reflection_finds_builds_and_calls_without_protos) {
    setup();
    char out[8192];
    python(&trainer,
           "trainer.TrainerService MakeHourAvailable "
           "'{\"time\":\"2030-01-02T16:00:00Z\"}'",
           out, sizeof out);
    WW_ASSERT_CONTAINS(out, "input=trainer.UpdateHourRequest "
                            "output=google.protobuf.Empty\nreply={}");
    python(
        &trainer,
        "trainer.TrainerService IsHourAvailable "
        "'{\"time\":\"2030-01-02T16:00:00Z\"}' --file trainer.proto "
        "--file health.proto --symbol trainer.TrainerService.IsHourAvailable "
        "--symbol trainings.PENDING --symbol trainings.Training.status "
        "--symbol .grpc.health.v1.HealthCheckResponse.ServingStatus",
        out, sizeof out);
    WW_ASSERT_CONTAINS(out, "services=grpc.health.v1.Health,"
                            "grpc.reflection.v1.ServerReflection,"
                            "grpc.reflection.v1alpha.ServerReflection,"
                            "trainer.TrainerService,"
                            "trainings.TrainingsService,"
                            "wildworkouts.admin.v1.AdminService\n");
    WW_ASSERT_CONTAINS(out, "methods=CancelTraining,IsHourAvailable,"
                            "MakeHourAvailable,MakeHourUnavailable,"
                            "ScheduleTraining,UpdateHour\n");
    WW_ASSERT_CONTAINS(out, "input=trainer.IsHourAvailableRequest "
                            "output=trainer.IsHourAvailableResponse\n");
    WW_ASSERT_CONTAINS(out, "reply={\"isAvailable\": true}\n");
    WW_ASSERT_CONTAINS(out,
                       "unknown_symbol=5 symbol no.such.Symbol not found\n");
    WW_ASSERT_CONTAINS(out, "extension=5 no extension of "
                            "trainer.UpdateHourRequest number 100 is known\n");
    WW_ASSERT_CONTAINS(out, "extension_numbers=trainer.UpdateHourRequest:[]");
    /* Several questions on one stream: one answer each, in order, each
     * echoing its question; a bad one does not end the stream. */
    WW_ASSERT_CONTAINS(out, "one_stream=4 list_services_response:True,"
                            "file_descriptor_response:True,"
                            "error_response:True,error_response:True\n");
    /* A file comes with what it imports, each once. */
    WW_ASSERT_CONTAINS(out, "file=trainer.proto:trainer.proto,"
                            "google/protobuf/empty.proto,"
                            "google/protobuf/timestamp.proto\n");
    WW_ASSERT_CONTAINS(out, "file=health.proto:health.proto\n");
    /* Methods, enum values (scoped beside their enum), fields, nested
     * enums, with or without the leading dot. */
    WW_ASSERT_CONTAINS(out, "symbol=trainer.TrainerService.IsHourAvailable:"
                            "trainer.proto\n");
    WW_ASSERT_CONTAINS(out, "symbol=trainings.PENDING:trainings.proto\n");
    WW_ASSERT_CONTAINS(out,
                       "symbol=trainings.Training.status:trainings.proto\n");
    WW_ASSERT_CONTAINS(out, "symbol=.grpc.health.v1.HealthCheckResponse."
                            "ServingStatus:health.proto");
    /* grpcio-reflection asks the older version, answered the same way. */
    WW_ASSERT(log_has(&trainer, "method=/grpc.reflection.v1alpha."
                                "ServerReflection/ServerReflectionInfo "
                                "status=OK"));
    python(&users, "users.UsersService", out, sizeof out);
    WW_ASSERT_CONTAINS(out, "services=grpc.health.v1.Health,"
                            "grpc.reflection.v1.ServerReflection,"
                            "grpc.reflection.v1alpha.ServerReflection,"
                            "users.UsersService,"
                            "wildworkouts.admin.v1.AdminService\n");
    WW_ASSERT_CONTAINS(out, "methods=GetTrainingBalance,UpdateTrainingBalance");
}

WW_TEST(reflection_off_answers_like_a_server_without_it) {
    service_t off = {0};
    start(&off, TRAINER_BIN, "trainer-off", "WW_REFLECTION=off");
    char out[8192];
    int rc = grpcurl(&off, "ADDR list", out, sizeof out);
    stop(&off);
    WW_ASSERT(rc != 0);
    WW_ASSERT_CONTAINS(out, "server does not support the reflection API");
}

WW_TEST(reflection_setting_other_than_on_or_off_refuses_to_start) {
    char log[128], cmd[256], text[4096];
    snprintf(log, sizeof log, "/tmp/ww-refl-%d-bad.log", (int)getpid());
    char listen[64];
    snprintf(listen, sizeof listen, "WW_LISTEN_ADDR=127.0.0.1:%d",
             ww_test_proc_free_port());
    pid_t pid = ww_test_proc_spawn(
        (const char *[]){TRAINER_BIN, NULL},
        &(ww_test_proc_opts_t){
            .env = (const char *[]){"GRPC_NO_TLS=true", listen,
                                    "WW_REFLECTION=maybe", NULL},
            .stderr_path = log});
    WW_ASSERT_EQ_INT(ww_test_proc_wait(pid, 60000), 1);
    snprintf(cmd, sizeof cmd, "cat %s", log);
    ww_test_proc_run(cmd, text, sizeof text);
    unlink(log);
    WW_ASSERT_CONTAINS(text, "WW_REFLECTION=maybe: must be on or off");
}

WW_TEST(reflection_over_tls_is_authenticated_like_every_call) {
    fx_pki();
    char *doc = fx_jwks_json(0);
    fx_write(fx_path(sfx_jwks_path, sizeof sfx_jwks_path, "jwks.json"), doc);
    free(doc);
    char log[512];
    int port = ww_test_proc_free_port();
    pid_t pid = sfx_start_service(
        TRAINER_BIN, port, TRAINER_AUD,
        (const char *[]){"WW_CALLERS=service=" FX_ISSUER "|email:" FX_EMAIL,
                         NULL},
        fx_path(log, sizeof log, "trainer-tls.log"));
    char tls[2048], addr[64];
    snprintf(tls, sizeof tls, "%s -max-time 30 -cacert %s -cert %s -key %s",
             WW_GRPCURL, fx_pki_file("ca.pem"), fx_pki_file("client.pem"),
             fx_pki_file("client.key"));
    snprintf(addr, sizeof addr, "localhost:%d", port);
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "%s %s list 2>&1", tls, addr);
    int no_token = ww_test_proc_run(cmd, out, sizeof out);
    char no_token_out[8192];
    snprintf(no_token_out, sizeof no_token_out, "%s", out);
    /* The token reaches grpcurl through its environment, never a command
     * line another process could read. */
    char *token = sfx_token_as(TRAINER_AUD, FX_EMAIL);
    setenv("WW_TEST_TOKEN", token, 1);
    free(token);
    snprintf(cmd, sizeof cmd,
             "%s -expand-headers -H 'authorization: Bearer ${WW_TEST_TOKEN}' "
             "%s list 2>&1",
             tls, addr);
    int with_token = ww_test_proc_run(cmd, out, sizeof out);
    unsetenv("WW_TEST_TOKEN");
    WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 30000), 0);
    WW_ASSERT(no_token != 0);
    WW_ASSERT_CONTAINS(no_token_out, "Unauthenticated");
    WW_ASSERT_MSG(with_token == 0, "with a token: %s", out);
    WW_ASSERT_EQ_STR(out, TRAINER_SERVICES);
}

/* Last: both binaries exit 0 on SIGTERM after serving reflection streams
 * (and leak nothing of them under the sanitizer build). */
WW_TEST(servers_stop_cleanly) {
    setup();
    stop(&trainer);
    stop(&users);
}

int main(int argc, char **argv) {
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(grpcurl_lists_every_service_of_each_binary),
            WW_CASE(grpcurl_describes_trainer_service_and_its_messages),
            WW_CASE(grpcurl_calls_with_json_and_no_proto_files),
            WW_CASE(grpcio_reflection_finds_builds_and_calls_without_protos),
            WW_CASE(reflection_off_answers_like_a_server_without_it),
            WW_CASE(reflection_setting_other_than_on_or_off_refuses_to_start),
            WW_CASE(reflection_over_tls_is_authenticated_like_every_call),
            WW_CASE(servers_stop_cleanly),
            {0}});
    if (trainer.pid) ww_test_proc_stop(trainer.pid, SIGTERM, 30000);
    if (users.pid) ww_test_proc_stop(users.pid, SIGTERM, 30000);
    unlink(trainer.log);
    unlink(users.log);
    return rc;
}
