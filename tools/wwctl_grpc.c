/* wwctl_grpc.c - wwctl's typed gRPC calls: trainer, trainings, users,
 * health. Text answers are key=value lines (scripts and tests read them);
 * --json prints the answer message in the proto3 JSON mapping. */
#include "ww_host_security.h"
#include "ww_rfc3339.h"
#include "ww_rpc_stubs.h"
#include "ww_trainer_stubs.h"
#include "ww_users_stubs.h"
#include "wwctl_cmd.h"
#include "wwctl_pbjson.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Prints an answer as text. */
typedef void (*text_fn)(const void *resp);

/* Dials the service at $env; on failure prints why and sets *rc to the
 * exit code (the environment is wrong: 2). */
static ww_rpc_client_t *dial(const wwctl_ctx_t *ctx, const char *env, int *rc) {
    ww_rpc_client_t *c;
    ww_err_t err;
    if (ww_host_security_dial_env(env, &c, &err) == WW_OK) return c;
    *rc = wwctl_cmd_fail_config(ctx, &err);
    return NULL;
}

/* Every call ends here: prints the answer (text or JSON) and frees it, or
 * prints the status the call failed with; closes the client. Returns the
 * exit status. */
static int finish(const wwctl_ctx_t *ctx, ww_rpc_client_t *c, ww_code_t rc,
                  const ww_err_t *err, void *resp, text_fn text) {
    int ret = WWCTL_EXIT_OK;
    if (rc != WW_OK) {
        ret = wwctl_cmd_fail_call(ctx, err);
    } else if (ctx->json) {
        ww_err_t jerr;
        json_t *j = wwctl_pbjson_message(resp, &jerr);
        if (!j)
            ret = wwctl_cmd_fail(ctx, &jerr);
        else if (wwctl_cmd_print_json(j) != 0)
            ret = WWCTL_EXIT_FAILED;
    } else {
        text(resp);
    }
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    ww_rpc_client_destroy(c);
    return ret;
}

static void print_ok(const void *resp) {
    (void)resp;
    printf("ok\n");
}

/* ---------- trainer ---------- */

static void print_availability(const void *resp) {
    const Trainer__IsHourAvailableResponse *r = resp;
    printf("is_available=%s\n", r->is_available ? "true" : "false");
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

/* The options of a command group that has none (getopt still refuses an
 * unknown one and skips "--"). Returns the first operand, or -1. */
static int no_options(const wwctl_ctx_t *ctx, int argc, char **argv) {
    static const struct option none[] = {{0}};
    return wwctl_cmd_getopt(ctx, argc, argv, "", none) == -1 ? optind : -1;
}

static int trainer_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    int i = no_options(ctx, argc, argv);
    if (i < 0) return WWCTL_EXIT_USAGE;
    if (!wwctl_cmd_operands(ctx, argc, argv, i, "COMMAND TIME", 2, 4))
        return WWCTL_EXIT_USAGE;
    const char *cmd = argv[i];
    bool update = strcmp(cmd, "update-hour") == 0;
    bool ask = strcmp(cmd, "is-hour-available") == 0;
    hour_stub_fn hour_call = find_hour_command(cmd);
    if (!update && !ask && !hour_call)
        return wwctl_cmd_usage(ctx, "unknown trainer command \"%s\"", cmd);
    if (update
            ? !wwctl_cmd_operands(ctx, argc, argv, i,
                                  "COMMAND TIME HAS_TRAINING AVAILABLE", 4, 4)
            : !wwctl_cmd_operands(ctx, argc, argv, i, "COMMAND TIME", 2, 2))
        return WWCTL_EXIT_USAGE;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    if (!wwctl_cmd_parse_time(ctx, "TIME", argv[i + 1], &ts.seconds, &ts.nanos))
        return WWCTL_EXIT_USAGE;
    bool has_training = false, available = false;
    if (update &&
        (!wwctl_cmd_parse_bool(ctx, "HAS_TRAINING", argv[i + 2],
                               &has_training) ||
         !wwctl_cmd_parse_bool(ctx, "AVAILABLE", argv[i + 3], &available)))
        return WWCTL_EXIT_USAGE;
    int rc = WWCTL_EXIT_OK;
    ww_rpc_client_t *c = dial(ctx, "TRAINER_GRPC_ADDR", &rc);
    if (!c) return rc;
    ww_rpc_call_options_t opts = wwctl_cmd_call_options(ctx);
    ww_err_t err;
    if (update) {
        Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
        req.time = &ts;
        req.has_training_scheduled = has_training;
        req.available = available;
        Trainer__EmptyResponse *resp = NULL;
        ww_code_t r = ww_trainer_stubs_update_hour(c, &req, &resp, &opts, &err);
        return finish(ctx, c, r, &err, resp, print_ok);
    }
    if (hour_call) {
        Trainer__UpdateHourRequest req = TRAINER__UPDATE_HOUR_REQUEST__INIT;
        req.time = &ts;
        Google__Protobuf__Empty *resp = NULL;
        ww_code_t r = hour_call(c, &req, &resp, &opts, &err);
        return finish(ctx, c, r, &err, resp, print_ok);
    }
    Trainer__IsHourAvailableRequest req =
        TRAINER__IS_HOUR_AVAILABLE_REQUEST__INIT;
    req.time = &ts;
    Trainer__IsHourAvailableResponse *resp = NULL;
    ww_code_t r =
        ww_trainer_stubs_is_hour_available(c, &req, &resp, &opts, &err);
    return finish(ctx, c, r, &err, resp, print_availability);
}

const wwctl_cmd_t wwctl_trainer_cmd = {
    .name = "trainer",
    .synopsis = "trainer is-hour-available TIME\n"
                "trainer update-hour TIME HAS_TRAINING AVAILABLE\n"
                "trainer schedule-hour|cancel-hour|make-available|"
                "make-unavailable TIME",
    .summary = "the trainer's hours (trainer.TrainerService)",
    .help =
        "Commands:\n"
        "  is-hour-available TIME   is_available=true|false\n"
        "  update-hour TIME HAS_TRAINING AVAILABLE\n"
        "                           UpdateHour; both flags 0|1|false|true\n"
        "  schedule-hour, cancel-hour, make-available, make-unavailable "
        "TIME\n"
        "                           the hour-only writes; answer \"ok\"\n"
        "Arguments:\n"
        "  TIME   RFC 3339, e.g. 2026-12-01T13:00:00Z (UTC, the full hour)\n"
        "Environment:\n"
        "  TRAINER_GRPC_ADDR   host:port of the trainer "
        "service\n" WWCTL_HELP_GRPC_ENV
        "Output: text key=value lines, or with --json the answer in the "
        "proto3 JSON\nmapping (defaults left out: is_available=false is "
        "{}).\n" WWCTL_HELP_EXIT,
    .run = trainer_run,
};

/* ---------- trainings ---------- */

static void print_refund(const void *resp) {
    const Trainings__CancelTrainingResponse *r = resp;
    printf("balance_refund=%" PRId64 "\n", r->balance_refund);
}

static void print_training(const void *resp) {
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
}

static int trainings_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    static const struct option opts_table[] = {
        {"by-trainer", no_argument, NULL, 'T'}, {0}};
    bool by_trainer = false;
    for (int o; (o = wwctl_cmd_getopt(ctx, argc, argv, "", opts_table)) != -1;)
        if (o == 'T')
            by_trainer = true;
        else
            return WWCTL_EXIT_USAGE;
    int i = optind;
    if (!wwctl_cmd_operands(ctx, argc, argv, i, "COMMAND UUID", 2, 5))
        return WWCTL_EXIT_USAGE;
    const char *cmd = argv[i];
    bool schedule = strcmp(cmd, "schedule") == 0;
    bool cancel = strcmp(cmd, "cancel") == 0;
    if (!schedule && !cancel && strcmp(cmd, "get") != 0)
        return wwctl_cmd_usage(ctx, "unknown trainings command \"%s\"", cmd);
    if (by_trainer && !cancel)
        return wwctl_cmd_usage(ctx, "--by-trainer is an option of cancel");
    if (schedule
            ? !wwctl_cmd_operands(ctx, argc, argv, i,
                                  "COMMAND UUID USER TIME NOTES", 4, 5)
            : !wwctl_cmd_operands(ctx, argc, argv, i, "COMMAND UUID", 2, 2))
        return WWCTL_EXIT_USAGE;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    if (schedule &&
        !wwctl_cmd_parse_time(ctx, "TIME", argv[i + 3], &ts.seconds, &ts.nanos))
        return WWCTL_EXIT_USAGE;
    int rc = WWCTL_EXIT_OK;
    ww_rpc_client_t *c = dial(ctx, "TRAINER_GRPC_ADDR", &rc);
    if (!c) return rc;
    ww_rpc_call_options_t opts = wwctl_cmd_call_options(ctx);
    ww_err_t err;
    if (schedule) {
        Trainings__ScheduleTrainingRequest req =
            TRAININGS__SCHEDULE_TRAINING_REQUEST__INIT;
        req.training_uuid = argv[i + 1];
        req.user_id = argv[i + 2];
        req.time = &ts;
        req.notes = argc > i + 4 ? argv[i + 4] : "";
        Trainings__ScheduleTrainingResponse *resp = NULL;
        ww_code_t r = ww_trainer_stubs_trainings_schedule_training(
            c, &req, &resp, &opts, &err);
        return finish(ctx, c, r, &err, resp, print_ok);
    }
    if (cancel) {
        Trainings__CancelTrainingRequest req =
            TRAININGS__CANCEL_TRAINING_REQUEST__INIT;
        req.training_uuid = argv[i + 1];
        req.by_trainer = by_trainer;
        Trainings__CancelTrainingResponse *resp = NULL;
        ww_code_t r = ww_trainer_stubs_trainings_cancel_training(c, &req, &resp,
                                                                 &opts, &err);
        return finish(ctx, c, r, &err, resp, print_refund);
    }
    Trainings__GetTrainingRequest req = TRAININGS__GET_TRAINING_REQUEST__INIT;
    req.training_uuid = argv[i + 1];
    Trainings__Training *resp = NULL;
    ww_code_t r =
        ww_trainer_stubs_trainings_get_training(c, &req, &resp, &opts, &err);
    return finish(ctx, c, r, &err, resp, print_training);
}

const wwctl_cmd_t wwctl_trainings_cmd = {
    .name = "trainings",
    .synopsis = "trainings schedule UUID USER TIME [NOTES]\n"
                "trainings cancel UUID [--by-trainer]\n"
                "trainings get UUID",
    .summary = "book, cancel and look up trainings "
               "(trainings.TrainingsService)",
    .help = "Commands:\n"
            "  schedule UUID USER TIME [NOTES]   book; answers \"ok\" (PENDING "
            "until the\n"
            "                                    users service spent the "
            "credit)\n"
            "  cancel UUID [--by-trainer]        balance_refund=N\n"
            "  get UUID                          training_uuid=... user_id=... "
            "time=...\n"
            "                                    status=... balance_refund=... "
            "notes=\"...\"\n"
            "Arguments:\n"
            "  UUID   the training's id (the caller chooses it when booking)\n"
            "  TIME   RFC 3339, e.g. 2026-12-01T13:00:00Z\n"
            "Options:\n"
            "  --by-trainer   cancel as the trainer (a late cancel refunds 2)\n"
            "Environment:\n"
            "  TRAINER_GRPC_ADDR   host:port of the trainer "
            "service\n" WWCTL_HELP_GRPC_ENV
            "Output: text key=value lines, or with --json the answer in the "
            "proto3 JSON\nmapping.\n" WWCTL_HELP_EXIT,
    .run = trainings_run,
};

/* ---------- users ---------- */

static void print_balance(const void *resp) {
    const Users__GetTrainingBalanceResponse *r = resp;
    printf("amount=%" PRId64 "\n", r->amount);
}

static int users_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    /* No getopt: CHANGE may be negative ("-3"). "--" is skipped, anything
     * else that starts with "--" is an unknown option. */
    int i = 1;
    if (i < argc && strcmp(argv[i], "--") == 0) i++;
    for (int k = i; k < argc; k++)
        if (strncmp(argv[k], "--", 2) == 0)
            return wwctl_cmd_usage(ctx, "unknown option %s", argv[k]);
    if (!wwctl_cmd_operands(ctx, argc, argv, i, "COMMAND USER", 2, 3))
        return WWCTL_EXIT_USAGE;
    const char *cmd = argv[i];
    bool update = strcmp(cmd, "update-balance") == 0;
    if (!update && strcmp(cmd, "get-balance") != 0)
        return wwctl_cmd_usage(ctx, "unknown users command \"%s\"", cmd);
    int64_t change = 0;
    if (update ? !wwctl_cmd_operands(ctx, argc, argv, i, "COMMAND USER CHANGE",
                                     3, 3)
               : !wwctl_cmd_operands(ctx, argc, argv, i, "COMMAND USER", 2, 2))
        return WWCTL_EXIT_USAGE;
    if (update && !wwctl_cmd_parse_int(ctx, "CHANGE", argv[i + 2], INT64_MIN,
                                       INT64_MAX, &change))
        return WWCTL_EXIT_USAGE;
    int rc = WWCTL_EXIT_OK;
    ww_rpc_client_t *c = dial(ctx, "USERS_GRPC_ADDR", &rc);
    if (!c) return rc;
    ww_rpc_call_options_t opts = wwctl_cmd_call_options(ctx);
    ww_err_t err;
    if (update) {
        Users__UpdateTrainingBalanceRequest req =
            USERS__UPDATE_TRAINING_BALANCE_REQUEST__INIT;
        req.user_id = argv[i + 1];
        req.amount_change = change;
        Users__EmptyResponse *resp = NULL;
        ww_code_t r =
            ww_users_stubs_update_training_balance(c, &req, &resp, &opts, &err);
        return finish(ctx, c, r, &err, resp, print_ok);
    }
    Users__GetTrainingBalanceRequest req =
        USERS__GET_TRAINING_BALANCE_REQUEST__INIT;
    req.user_id = argv[i + 1];
    Users__GetTrainingBalanceResponse *resp = NULL;
    ww_code_t r =
        ww_users_stubs_get_training_balance(c, &req, &resp, &opts, &err);
    return finish(ctx, c, r, &err, resp, print_balance);
}

const wwctl_cmd_t wwctl_users_cmd = {
    .name = "users",
    .synopsis = "users get-balance USER\n"
                "users update-balance USER CHANGE",
    .summary = "training credits (users.UsersService)",
    .help = "Commands:\n"
            "  get-balance USER            amount=N\n"
            "  update-balance USER CHANGE  add CHANGE credits (negative: "
            "take; the\n"
            "                              balance never goes below 0); "
            "\"ok\"\n"
            "Environment:\n"
            "  USERS_GRPC_ADDR     host:port of the users "
            "service\n" WWCTL_HELP_GRPC_ENV
            "Output: text key=value lines, or with --json the answer in the "
            "proto3 JSON\nmapping (a balance of 0 is {}).\n" WWCTL_HELP_EXIT,
    .run = users_run,
};

/* ---------- health ---------- */

static void print_health(const void *resp) {
    const Grpc__Health__V1__HealthCheckResponse *r = resp;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &grpc__health__v1__health_check_response__serving_status__descriptor,
        (int)r->status);
    printf("status=%s\n", v ? v->name : "?");
}

static int health_run(const wwctl_ctx_t *ctx, int argc, char **argv) {
    int i = no_options(ctx, argc, argv);
    if (i < 0 || !wwctl_cmd_operands(ctx, argc, argv, i, "WHICH SERVICE", 0, 2))
        return WWCTL_EXIT_USAGE;
    const char *which = argc > i ? argv[i] : "trainer";
    const char *env;
    if (strcmp(which, "trainer") == 0)
        env = "TRAINER_GRPC_ADDR";
    else if (strcmp(which, "users") == 0)
        env = "USERS_GRPC_ADDR";
    else
        return wwctl_cmd_usage(ctx, "\"%s\" is neither trainer nor users",
                               which);
    int rc = WWCTL_EXIT_OK;
    ww_rpc_client_t *c = dial(ctx, env, &rc);
    if (!c) return rc;
    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = argc > i + 1 ? argv[i + 1] : "";
    Grpc__Health__V1__HealthCheckResponse *resp = NULL;
    ww_rpc_call_options_t opts = wwctl_cmd_call_options(ctx);
    ww_err_t err;
    ww_code_t r = ww_rpc_stubs_health_check(c, &req, &resp, &opts, &err);
    bool serving =
        r == WW_OK &&
        resp->status ==
            GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    rc = finish(ctx, c, r, &err, resp, print_health);
    return rc == WWCTL_EXIT_OK && !serving ? WWCTL_EXIT_FAILED : rc;
}

const wwctl_cmd_t wwctl_health_cmd = {
    .name = "health",
    .synopsis = "health [trainer|users] [SERVICE]",
    .summary = "a service's health (grpc.health.v1.Health/Check)",
    .help = "Arguments:\n"
            "  trainer|users   which service (default trainer)\n"
            "  SERVICE         the service name to ask about (default \"\": "
            "the server)\n"
            "Environment:\n"
            "  TRAINER_GRPC_ADDR, USERS_GRPC_ADDR   where the services "
            "are\n" WWCTL_HELP_GRPC_ENV
            "Output: status=SERVING (or NOT_SERVING, ...); with --json "
            "{\"status\":\"SERVING\"}.\n"
            "Exit status: 0 SERVING; 1 any other status, or the call "
            "failed; 2 the\ncommand line or the environment is wrong.\n",
    .run = health_run,
};
