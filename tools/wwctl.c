/* wwctl - typed calls to the trainer and users services from a shell.
 *
 *   wwctl [--timeout-ms N] [--idempotency-key K] SERVICE COMMAND [ARGS]
 *
 * The commands are those usage() lists (wwctl without arguments prints
 * them). TIME is RFC 3339, e.g. 2026-12-01T13:00:00Z. Addresses come from
 * TRAINER_GRPC_ADDR and USERS_GRPC_ADDR. Calls go over TLS (WW_TLS_CA or
 * the system roots) with a per-call identity token from the metadata
 * server (GCE_METADATA_HOST), or plaintext with GRPC_NO_TLS=true (see
 * ww_host_security.h). Exit status: 0 OK, 1 the call failed (the status
 * is printed), 2 usage or a service that cannot be dialled. */
#include "ww_host_security.h"
#include "ww_rfc3339.h"
#include "ww_rpc_status.h"
#include "ww_rpc_stubs.h"
#include "ww_trainer_stubs.h"
#include "ww_users_stubs.h"
#include "wwctl_fixtures.h"
#include "wwctl_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ww_rpc_call_options_t opts = {.timeout_ms = 5000};

static int usage(void) {
    fprintf(stderr,
            "usage: wwctl [--timeout-ms N] [--idempotency-key K] SERVICE "
            "COMMAND [ARGS]\n"
            "  trainer is-hour-available TIME\n"
            "  trainer update-hour TIME HAS_TRAINING(0|1) AVAILABLE(0|1)\n"
            "  trainer schedule-hour|cancel-hour|make-available|"
            "make-unavailable TIME\n"
            "  trainings schedule UUID USER TIME [NOTES]\n"
            "  trainings cancel UUID [--by-trainer]\n"
            "  trainings get UUID\n"
            "  users get-balance USER\n"
            "  users update-balance USER CHANGE\n"
            "  health [trainer|users] [SERVICE]\n"
            "  fixtures   (the demo data, through both services, idempotently)\n"
            "%s"
            "TIME: RFC 3339, e.g. 2026-12-01T13:00:00Z\n",
            wwctl_state_usage);
    return 2;
}

static int parse_time(const char *s, Google__Protobuf__Timestamp *ts) {
    ww_err_t err;
    if (ww_rfc3339_parse(s, &ts->seconds, &ts->nanos, &err) != WW_OK) {
        fprintf(stderr, "wwctl: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int parse_i64(const char *s, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || !*s || *end) {
        fprintf(stderr, "wwctl: %s is not a 64-bit integer\n", s);
        return -1;
    }
    *v = x;
    return 0;
}

static ww_rpc_client_t *connect_env(const char *env) {
    ww_rpc_client_t *c;
    ww_err_t err;
    if (ww_host_security_dial_env(env, &c, &err) != WW_OK) {
        fprintf(stderr, "wwctl: %s\n", err.msg);
        return NULL;
    }
    return c;
}

/* Prints a call's answer; returns the exit status (1 when the answer
 * itself is a failure, as a health status other than SERVING). */
typedef int (*print_fn)(const void *resp);

/* Every command ends here: prints the answer with `print` and frees it,
 * or prints the status the call failed with; then closes the client.
 * Returns the exit status. */
static int finish(ww_rpc_client_t *c, ww_code_t rc, const ww_err_t *err,
                  void *resp, print_fn print) {
    int ret = 1;
    if (rc == WW_OK) {
        ret = print(resp);
        protobuf_c_message_free_unpacked(resp, NULL);
    } else {
        fprintf(stderr, "%s\n", err->msg);
    }
    ww_rpc_client_destroy(c);
    return ret;
}

static int print_ok(const void *resp) {
    (void)resp;
    printf("ok\n");
    return 0;
}

static int print_availability(const void *resp) {
    const Trainer__IsHourAvailableResponse *r = resp;
    printf("is_available=%s\n", r->is_available ? "true" : "false");
    return 0;
}

static int print_refund(const void *resp) {
    const Trainings__CancelTrainingResponse *r = resp;
    printf("balance_refund=%" PRId64 "\n", r->balance_refund);
    return 0;
}

static int print_training(const void *resp) {
    const Trainings__Training *t = resp;
    char when[WW_RFC3339_SIZE] = "";
    if (t->time)
        ww_rfc3339_format(t->time->seconds, t->time->nanos, 0, when,
                          sizeof when);
    const ProtobufCEnumValue *st = protobuf_c_enum_descriptor_get_value(
        &trainings__training_status__descriptor, (int)t->status);
    printf("training_uuid=%s user_id=%s time=%s status=%s "
           "balance_refund=%" PRId64 " notes=\"%s\"\n",
           t->training_uuid, t->user_id, when, st ? st->name : "?",
           t->balance_refund, t->notes);
    return 0;
}

static int print_balance(const void *resp) {
    const Users__GetTrainingBalanceResponse *r = resp;
    printf("amount=%" PRId64 "\n", r->amount);
    return 0;
}

static int print_health(const void *resp) {
    const Grpc__Health__V1__HealthCheckResponse *r = resp;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &grpc__health__v1__health_check_response__serving_status__descriptor,
        (int)r->status);
    printf("status=%s\n", v ? v->name : "?");
    return r->status ==
                   GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
               ? 0
               : 1;
}

/* The trainer's hour commands that take only TIME and answer Empty. */
typedef ww_code_t (*hour_stub_fn)(ww_rpc_client_t *,
                                  const Trainer__UpdateHourRequest *,
                                  Google__Protobuf__Empty **,
                                  const ww_rpc_call_options_t *, ww_err_t *);
static const struct {
    const char *name;
    hour_stub_fn call;
} hour_commands[] = {
    {"schedule-hour", ww_trainer_stubs_schedule_training},
    {"cancel-hour", ww_trainer_stubs_cancel_training},
    {"make-available", ww_trainer_stubs_make_hour_available},
    {"make-unavailable", ww_trainer_stubs_make_hour_unavailable},
};

static hour_stub_fn find_hour_command(const char *name) {
    for (size_t i = 0; i < sizeof hour_commands / sizeof *hour_commands; i++)
        if (strcmp(name, hour_commands[i].name) == 0)
            return hour_commands[i].call;
    return NULL;
}

static int trainer_cmd(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *cmd = argv[0];
    bool update = strcmp(cmd, "update-hour") == 0;
    hour_stub_fn hour_call = find_hour_command(cmd);
    if ((update && argc < 4) ||
        (!update && !hour_call && strcmp(cmd, "is-hour-available") != 0))
        return usage();
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    if (parse_time(argv[1], &ts) != 0) return 2;
    ww_rpc_client_t *c = connect_env("TRAINER_GRPC_ADDR");
    if (!c) return 2;
    ww_err_t err;
    if (update) {
        Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
        req.time = &ts;
        req.has_training_scheduled = atoi(argv[2]) != 0;
        req.available = atoi(argv[3]) != 0;
        Trainer__EmptyResponse *resp = NULL;
        ww_code_t rc =
            ww_trainer_stubs_update_hour(c, &req, &resp, &opts, &err);
        return finish(c, rc, &err, resp, print_ok);
    }
    if (hour_call) {
        Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
        req.time = &ts;
        Google__Protobuf__Empty *resp = NULL;
        ww_code_t rc = hour_call(c, &req, &resp, &opts, &err);
        return finish(c, rc, &err, resp, print_ok);
    }
    Trainer__IsHourAvailableRequest req =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    req.time = &ts;
    Trainer__IsHourAvailableResponse *resp = NULL;
    ww_code_t rc =
        ww_trainer_stubs_is_hour_available(c, &req, &resp, &opts, &err);
    return finish(c, rc, &err, resp, print_availability);
}

static int trainings_cmd(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *cmd = argv[0];
    bool schedule = strcmp(cmd, "schedule") == 0;
    bool cancel = strcmp(cmd, "cancel") == 0;
    if (!schedule && !cancel && strcmp(cmd, "get") != 0) return usage();
    if (schedule && argc < 4) return usage();
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    if (schedule && parse_time(argv[3], &ts) != 0) return 2;
    ww_rpc_client_t *c = connect_env("TRAINER_GRPC_ADDR");
    if (!c) return 2;
    ww_err_t err;
    if (schedule) {
        Trainings__ScheduleTrainingRequest req =
            TRAININGS__SCHEDULE_TRAINING_REQUEST__INIT;
        req.training_uuid = argv[1];
        req.user_id = argv[2];
        req.time = &ts;
        req.notes = argc > 4 ? argv[4] : "";
        Trainings__ScheduleTrainingResponse *resp = NULL;
        ww_code_t rc = ww_trainer_stubs_trainings_schedule_training(
            c, &req, &resp, &opts, &err);
        return finish(c, rc, &err, resp, print_ok);
    }
    if (cancel) {
        Trainings__CancelTrainingRequest req =
            TRAININGS__CANCEL_TRAINING_REQUEST__INIT;
        req.training_uuid = argv[1];
        req.by_trainer = argc > 2 && strcmp(argv[2], "--by-trainer") == 0;
        Trainings__CancelTrainingResponse *resp = NULL;
        ww_code_t rc = ww_trainer_stubs_trainings_cancel_training(
            c, &req, &resp, &opts, &err);
        return finish(c, rc, &err, resp, print_refund);
    }
    Trainings__GetTrainingRequest req = TRAININGS__GET_TRAINING_REQUEST__INIT;
    req.training_uuid = argv[1];
    Trainings__Training *resp = NULL;
    ww_code_t rc =
        ww_trainer_stubs_trainings_get_training(c, &req, &resp, &opts, &err);
    return finish(c, rc, &err, resp, print_training);
}

static int users_cmd(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *cmd = argv[0];
    bool update = strcmp(cmd, "update-balance") == 0;
    if (!update && strcmp(cmd, "get-balance") != 0) return usage();
    int64_t change = 0;
    if (update && argc < 3) return usage();
    if (update && parse_i64(argv[2], &change) != 0) return 2;
    ww_rpc_client_t *c = connect_env("USERS_GRPC_ADDR");
    if (!c) return 2;
    ww_err_t err;
    if (update) {
        Users__UpdateTrainingBalanceRequest req =
            USERS__UPDATE_TRAINING_BALANCE_REQUEST__INIT;
        req.user_id = argv[1];
        req.amount_change = change;
        Users__EmptyResponse *resp = NULL;
        ww_code_t rc =
            ww_users_stubs_update_training_balance(c, &req, &resp, &opts, &err);
        return finish(c, rc, &err, resp, print_ok);
    }
    Users__GetTrainingBalanceRequest req =
        USERS__GET_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = argv[1];
    Users__GetTrainingBalanceResponse *resp = NULL;
    ww_code_t rc =
        ww_users_stubs_get_training_balance(c, &req, &resp, &opts, &err);
    return finish(c, rc, &err, resp, print_balance);
}

static int health_cmd(int argc, char **argv) {
    const char *which = argc > 0 ? argv[0] : "trainer";
    const char *env;
    if (strcmp(which, "trainer") == 0)
        env = "TRAINER_GRPC_ADDR";
    else if (strcmp(which, "users") == 0)
        env = "USERS_GRPC_ADDR";
    else
        return usage();
    ww_rpc_client_t *c = connect_env(env);
    if (!c) return 2;
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = argc > 1 ? argv[1] : "";
    Grpc__Health__V1__HealthCheckResponse *resp = NULL;
    ww_err_t err;
    ww_code_t rc = ww_rpc_stubs_health_check(c, &req, &resp, &opts, &err);
    return finish(c, rc, &err, resp, print_health);
}

int main(int argc, char **argv) {
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            int64_t v;
            if (parse_i64(argv[++i], &v) != 0) return 2;
            opts.timeout_ms = v;
        } else if (strcmp(argv[i], "--idempotency-key") == 0 && i + 1 < argc) {
            opts.idempotency_key = argv[++i];
        } else {
            return usage();
        }
    }
    if (i >= argc) return usage();
    const char *svc = argv[i++];
    if (strcmp(svc, "trainer") == 0) return trainer_cmd(argc - i, argv + i);
    if (strcmp(svc, "trainings") == 0) return trainings_cmd(argc - i, argv + i);
    if (strcmp(svc, "users") == 0) return users_cmd(argc - i, argv + i);
    if (strcmp(svc, "health") == 0) return health_cmd(argc - i, argv + i);
    if (strcmp(svc, "digest") == 0)
        return wwctl_state_digest(argc - i, argv + i, &opts);
    if (strcmp(svc, "replay") == 0) return wwctl_state_replay(argc - i, argv + i);
    if (strcmp(svc, "fixtures") == 0 && i == argc) {
        ww_rpc_client_t *t = connect_env("TRAINER_GRPC_ADDR"), *u = NULL;
        if (t) u = connect_env("USERS_GRPC_ADDR");
        int rc = t && u ? wwctl_fixtures_load(t, u, &opts) : 2;
        ww_rpc_client_destroy(u);
        ww_rpc_client_destroy(t);
        return rc;
    }
    return usage();
}
