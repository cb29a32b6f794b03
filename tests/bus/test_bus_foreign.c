/*
 * A foreign consumer decodes every event with nothing but schemas/: events
 * of every type are published by the bus, then read back by kcat and
 * decoded in Python with classes generated from schemas/ alone, picking the
 * message by ce_type (label kafka; Python comes from the project's venv).
 */
#include "bus_test_util.h"

WW_TEST(python_decodes_every_event_type_with_only_the_schemas) {
    const char *brokers = ww_test_kafka_brokers();
    WW_ASSERT_MSG(access(WW_VENV_PYTHON, X_OK) == 0,
                  "%s missing: run scripts/bootstrap.sh", WW_VENV_PYTHON);
    ww_bus_config_t *cfg = bt_config(brokers);
    char topic[128];
    ww_test_unique_name(topic, sizeof topic, "foreign");
    bt_create_topic(cfg, topic, 1);
    ww_bus_publisher_t *pub = bt_publisher(cfg);

    Wildworkouts__Events__V1__CommandPosition pos =
        WILDWORKOUTS__EVENTS__V1__COMMAND_POSITION__INIT;
    pos.partition = 2;
    pos.offset = 77;
    Wildworkouts__Events__V1__HourAvailabilityChanged e1 =
        WILDWORKOUTS__EVENTS__V1__HOUR_AVAILABILITY_CHANGED__INIT;
    e1.trainer_id = "t-1";
    e1.available = true;
    e1.command = &pos;
    Wildworkouts__Events__V1__TrainingScheduled e2 =
        WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
    e2.training_uuid = "tr-2";
    e2.notes = "bring water";
    Wildworkouts__Events__V1__TrainingConfirmed e3 =
        WILDWORKOUTS__EVENTS__V1__TRAINING_CONFIRMED__INIT;
    e3.training_uuid = "tr-3";
    Wildworkouts__Events__V1__TrainingCanceled e4 =
        WILDWORKOUTS__EVENTS__V1__TRAINING_CANCELED__INIT;
    e4.training_uuid = "tr-4";
    e4.refund = 2;
    e4.by_trainer = true;
    Wildworkouts__Events__V1__TrainingReleased e5 =
        WILDWORKOUTS__EVENTS__V1__TRAINING_RELEASED__INIT;
    e5.training_uuid = "tr-5";
    e5.reason = "no credits";
    Wildworkouts__Events__V1__TrainingBalanceChanged e6 =
        WILDWORKOUTS__EVENTS__V1__TRAINING_BALANCE_CHANGED__INIT;
    e6.user_id = "u-6";
    e6.amount_change = -1;
    e6.reason =
        WILDWORKOUTS__EVENTS__V1__BALANCE_CHANGE_REASON__BALANCE_CHANGE_REASON_TRAINING_DEBIT;
    Wildworkouts__Events__V1__TrainingBalanceRejected e7 =
        WILDWORKOUTS__EVENTS__V1__TRAINING_BALANCE_REJECTED__INIT;
    e7.user_id = "u-7";
    e7.message = "balance cannot be smaller than 0";
    Wildworkouts__Events__V1__CommandResult e8 =
        WILDWORKOUTS__EVENTS__V1__COMMAND_RESULT__INIT;
    e8.correlation_id = "corr-8";
    e8.status_code = 9;

    const ProtobufCMessage *events[] = {&e1.base, &e2.base, &e3.base,
                                        &e4.base, &e5.base, &e6.base,
                                        &e7.base, &e8.base};
    /* What Python must print for each (proto3 JSON field names). */
    const char *expect[] = {
        "\"command\": {\"offset\": \"77\", \"partition\": 2}",
        "\"notes\": \"bring water\"",
        "\"trainingUuid\": \"tr-3\"",
        "\"refund\": \"2\"",
        "\"reason\": \"no credits\"",
        "\"reason\": \"BALANCE_CHANGE_REASON_TRAINING_DEBIT\"",
        "\"message\": \"balance cannot be smaller than 0\"",
        "\"statusCode\": 9",
    };
    enum { N = 8 };
    char ids[N][WW_BUS_ID_MAX + 1];
    ww_err_t err = {0};
    for (int i = 0; i < N; i++) {
        ww_bus_envelope_meta_t meta = {.source = "/test"};
        WW_ASSERT_MSG(ww_bus_publisher_publish_sync(pub, topic, "k", 1,
                                                    events[i], &meta, 10000,
                                                    NULL, NULL, ids[i],
                                                    &err) == WW_OK,
                      "%s", err.msg);
    }
    bt_close_pub(pub);

    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s/tests/bus/foreign_decode.py %s %s %d "
             "%s/schemas", WW_VENV_PYTHON, WW_SOURCE_DIR, brokers, topic, N,
             WW_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    WW_ASSERT(p);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, p) && n < N) {
        char want[300];
        snprintf(want, sizeof want, "%s %s ", ids[n],
                 events[n]->descriptor->name);
        WW_ASSERT_MSG(strncmp(line, want, strlen(want)) == 0,
                      "record %d: got \"%s\", want it to start with \"%s\"", n,
                      line, want);
        WW_ASSERT_CONTAINS(line, expect[n]);
        n++;
    }
    int rc = pclose(p);
    WW_ASSERT_EQ_INT(n, N);
    WW_ASSERT_EQ_INT(rc, 0);
    ww_bus_config_destroy(cfg);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(python_decodes_every_event_type_with_only_the_schemas),
            {0}});
}
