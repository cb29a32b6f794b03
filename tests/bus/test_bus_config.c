/*
 * Settings: the environment and explicit overrides end up in the librdkafka
 * confs each client kind needs, the guarantees' settings cannot be
 * overridden by the properties file, and names get the topic prefix.
 */
#include <librdkafka/rdkafka.h>
#include <stdlib.h>

#include "ww_bus_config.h"
#include "ww_test.h"

static void clear_env(void) {
    unsetenv("KAFKA_BROKERS");
    unsetenv("WW_KAFKA_CONFIG");
    unsetenv("WW_TOPIC_PREFIX");
    unsetenv("WW_INSTANCE_ID");
    unsetenv("WW_KAFKA_SESSION_TIMEOUT_MS");
    unsetenv("WW_KAFKA_TRANSACTION_TIMEOUT_MS");
    unsetenv("WW_KAFKA_ASSIGNOR");
}

/* Value of `key` in conf, into a static buffer ("" when unset). */
static const char *conf_get(rd_kafka_conf_t *conf, const char *key) {
    static char buf[512];
    size_t size = sizeof buf;
    if (rd_kafka_conf_get(conf, key, buf, &size) != RD_KAFKA_CONF_OK)
        buf[0] = '\0';
    return buf;
}

static ww_bus_config_t *new_cfg(void) {
    ww_err_t err = {0};
    ww_bus_config_t *cfg = ww_bus_config_new(&err);
    WW_ASSERT_MSG(cfg, "ww_bus_config_new: %s", err.msg);
    return cfg;
}

WW_TEST(reads_the_environment) {
    clear_env();
    setenv("KAFKA_BROKERS", "127.0.0.1:1234", 1);
    setenv("WW_TOPIC_PREFIX", "t1-", 1);
    setenv("WW_INSTANCE_ID", "trainer-0", 1);
    setenv("WW_KAFKA_SESSION_TIMEOUT_MS", "6000", 1);
    setenv("WW_KAFKA_TRANSACTION_TIMEOUT_MS", "10000", 1);
    setenv("WW_KAFKA_ASSIGNOR", "roundrobin", 1);
    ww_bus_config_t *cfg = new_cfg();
    WW_ASSERT_EQ_STR(ww_bus_config_brokers(cfg), "127.0.0.1:1234");
    WW_ASSERT_EQ_STR(ww_bus_config_topic_prefix(cfg), "t1-");
    WW_ASSERT_EQ_STR(ww_bus_config_instance_id(cfg), "trainer-0");
    WW_ASSERT_EQ_INT(ww_bus_config_session_timeout_ms(cfg), 6000);
    WW_ASSERT_EQ_INT(ww_bus_config_transaction_timeout_ms(cfg), 10000);
    WW_ASSERT_EQ_INT(ww_bus_config_assignor(cfg), WW_BUS_ASSIGNOR_ROUNDROBIN);
    ww_bus_config_destroy(cfg);
    clear_env();
}

WW_TEST(defaults_without_environment) {
    clear_env();
    ww_bus_config_t *cfg = new_cfg();
    WW_ASSERT(ww_bus_config_brokers(cfg) == NULL);
    WW_ASSERT(ww_bus_config_instance_id(cfg) == NULL);
    WW_ASSERT_EQ_STR(ww_bus_config_topic_prefix(cfg), "");
    WW_ASSERT_EQ_INT(ww_bus_config_session_timeout_ms(cfg),
                     WW_BUS_DEFAULT_SESSION_TIMEOUT_MS);
    WW_ASSERT_EQ_INT(ww_bus_config_assignor(cfg), WW_BUS_ASSIGNOR_RANGE);
    /* No broker anywhere: building a conf says what to set. */
    ww_err_t err = {0};
    WW_ASSERT(ww_bus_config_producer_conf(cfg, &err) == NULL);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "KAFKA_BROKERS");
    ww_bus_config_destroy(cfg);
}

WW_TEST(rejects_malformed_environment) {
    ww_err_t err = {0};
    clear_env();
    setenv("WW_KAFKA_SESSION_TIMEOUT_MS", "soon", 1);
    WW_ASSERT(ww_bus_config_new(&err) == NULL);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "WW_KAFKA_SESSION_TIMEOUT_MS");
    clear_env();
    setenv("WW_KAFKA_TRANSACTION_TIMEOUT_MS", "-5", 1);
    WW_ASSERT(ww_bus_config_new(&err) == NULL);
    WW_ASSERT_CONTAINS(err.msg, "WW_KAFKA_TRANSACTION_TIMEOUT_MS");
    clear_env();
    setenv("WW_KAFKA_ASSIGNOR", "cooperative-sticky", 1);
    WW_ASSERT(ww_bus_config_new(&err) == NULL);
    WW_ASSERT_CONTAINS(err.msg, "range or roundrobin");
    clear_env();
    setenv("WW_KAFKA_CONFIG", "/nonexistent/ww-kafka.properties", 1);
    WW_ASSERT(ww_bus_config_new(&err) == NULL);
    WW_ASSERT_CONTAINS(err.msg, "/nonexistent/ww-kafka.properties");
    clear_env();
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    WW_ASSERT_MSG(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

WW_TEST(properties_file_is_passed_through_but_cannot_weaken_guarantees) {
    clear_env();
    char path[] = "/tmp/ww-bus-config-XXXXXX";
    int fd = mkstemp(path);
    WW_ASSERT(fd >= 0);
    close(fd);
    write_file(path, "# cluster settings\n"
                     "\n"
                     "  bootstrap.servers = 127.0.0.1:9999  \n"
                     "client.rack=rack-a\n"
                     "enable.auto.commit=true\n"
                     "socket.keepalive.enable=true\n");
    setenv("WW_KAFKA_CONFIG", path, 1);
    ww_bus_config_t *cfg = new_cfg();
    ww_err_t err = {0};
    rd_kafka_conf_t *conf = ww_bus_config_group_conf(cfg, "g", NULL, &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    /* The file's bootstrap is used when KAFKA_BROKERS is unset. */
    WW_ASSERT_EQ_STR(conf_get(conf, "bootstrap.servers"), "127.0.0.1:9999");
    WW_ASSERT_EQ_STR(conf_get(conf, "client.rack"), "rack-a");
    WW_ASSERT_EQ_STR(conf_get(conf, "socket.keepalive.enable"), "true");
    WW_ASSERT_EQ_STR(conf_get(conf, "enable.auto.commit"), "false");
    rd_kafka_conf_destroy(conf);
    ww_bus_config_destroy(cfg);

    /* KAFKA_BROKERS wins over the file. */
    setenv("KAFKA_BROKERS", "127.0.0.1:1111", 1);
    cfg = new_cfg();
    conf = ww_bus_config_producer_conf(cfg, &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    WW_ASSERT_EQ_STR(conf_get(conf, "bootstrap.servers"), "127.0.0.1:1111");
    rd_kafka_conf_destroy(conf);
    ww_bus_config_destroy(cfg);

    write_file(path, "client.rack=rack-a\nthis line has no equals sign\n");
    WW_ASSERT(ww_bus_config_new(&err) == NULL);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, ":2:");

    /* A property librdkafka does not know fails when a conf is built and the
     * message says where it came from. */
    write_file(path, "no.such.property=1\n");
    cfg = new_cfg();
    WW_ASSERT(ww_bus_config_producer_conf(cfg, &err) == NULL);
    WW_ASSERT_CONTAINS(err.msg, "WW_KAFKA_CONFIG");
    WW_ASSERT_CONTAINS(err.msg, "no.such.property");
    ww_bus_config_destroy(cfg);
    unlink(path);
    clear_env();
}

WW_TEST(names_get_the_prefix_and_transactional_ids_need_an_instance) {
    clear_env();
    setenv("WW_TOPIC_PREFIX", "run7.", 1);
    ww_bus_config_t *cfg = new_cfg();
    char buf[64];
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_config_topic_name(cfg, "trainer.events", buf,
                                              sizeof buf, &err), WW_OK);
    WW_ASSERT_EQ_STR(buf, "run7.trainer.events");
    WW_ASSERT_EQ_INT(ww_bus_config_group_id(cfg, "users", buf, sizeof buf,
                                            &err), WW_OK);
    WW_ASSERT_EQ_STR(buf, "run7.users");
    WW_ASSERT_EQ_INT(ww_bus_config_transactional_id(cfg, "trainer", buf,
                                                    sizeof buf, &err),
                     WW_ERR_FAILED_PRECONDITION);
    WW_ASSERT_CONTAINS(err.msg, "WW_INSTANCE_ID");
    WW_ASSERT_EQ_INT(ww_bus_config_set_instance_id(cfg, "i-3", &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_config_transactional_id(cfg, "trainer", buf,
                                                    sizeof buf, &err), WW_OK);
    WW_ASSERT_EQ_STR(buf, "run7.trainer.i-3");
    char small[8];
    WW_ASSERT_EQ_INT(ww_bus_config_topic_name(cfg, "trainer.events", small,
                                              sizeof small, &err),
                     WW_ERR_RESOURCE_EXHAUSTED);
    WW_ASSERT_EQ_INT(ww_bus_config_topic_name(cfg, "", buf, sizeof buf, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_bus_config_destroy(cfg);
    clear_env();
}

WW_TEST(group_conf_has_static_membership_and_safe_commit_settings) {
    clear_env();
    ww_bus_config_t *cfg = new_cfg();
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_config_set_brokers(cfg, "127.0.0.1:1", &err), 0);
    WW_ASSERT_EQ_INT(ww_bus_config_set_topic_prefix(cfg, "p-", &err), 0);
    WW_ASSERT_EQ_INT(ww_bus_config_set_instance_id(cfg, "users-1", &err), 0);
    WW_ASSERT_EQ_INT(ww_bus_config_set_session_timeout_ms(cfg, 3000, &err), 0);
    WW_ASSERT_EQ_INT(ww_bus_config_set_assignor(cfg, WW_BUS_ASSIGNOR_ROUNDROBIN,
                                                &err), 0);
    rd_kafka_conf_t *conf = ww_bus_config_group_conf(cfg, "users", "c2", &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    WW_ASSERT_EQ_STR(conf_get(conf, "group.id"), "p-users");
    WW_ASSERT_EQ_STR(conf_get(conf, "group.instance.id"), "users-1-c2");
    WW_ASSERT_EQ_STR(conf_get(conf, "partition.assignment.strategy"),
                     "roundrobin");
    WW_ASSERT_EQ_STR(conf_get(conf, "session.timeout.ms"), "3000");
    WW_ASSERT_EQ_STR(conf_get(conf, "heartbeat.interval.ms"), "1000");
    WW_ASSERT_EQ_STR(conf_get(conf, "auto.offset.reset"), "smallest");
    WW_ASSERT_EQ_STR(conf_get(conf, "enable.auto.commit"), "false");
    WW_ASSERT_EQ_STR(conf_get(conf, "enable.auto.offset.store"), "false");
    WW_ASSERT_EQ_STR(conf_get(conf, "isolation.level"), "read_committed");
    rd_kafka_conf_destroy(conf);

    /* Without an instance id there is no static membership. */
    WW_ASSERT_EQ_INT(ww_bus_config_set_instance_id(cfg, NULL, &err), 0);
    conf = ww_bus_config_group_conf(cfg, "users", NULL, &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    WW_ASSERT_EQ_STR(conf_get(conf, "group.instance.id"), "");
    WW_ASSERT_EQ_STR(conf_get(conf, "partition.assignment.strategy"),
                     "roundrobin");
    rd_kafka_conf_destroy(conf);
    WW_ASSERT_EQ_INT(ww_bus_config_set_session_timeout_ms(cfg, 0, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_bus_config_destroy(cfg);
}

WW_TEST(transactional_conf_keeps_message_timeout_below_transaction_timeout) {
    clear_env();
    setenv("KAFKA_BROKERS", "127.0.0.1:1", 1);
    setenv("WW_INSTANCE_ID", "t0", 1);
    setenv("WW_KAFKA_TRANSACTION_TIMEOUT_MS", "5000", 1);
    ww_bus_config_t *cfg = new_cfg();
    ww_err_t err = {0};
    rd_kafka_conf_t *conf =
        ww_bus_config_transactional_conf(cfg, "trainer", &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    WW_ASSERT_EQ_STR(conf_get(conf, "transactional.id"), "trainer.t0");
    WW_ASSERT_EQ_STR(conf_get(conf, "transaction.timeout.ms"), "5000");
    WW_ASSERT(atoi(conf_get(conf, "message.timeout.ms")) < 5000);
    WW_ASSERT(atoi(conf_get(conf, "message.timeout.ms")) > 0);
    WW_ASSERT_EQ_STR(conf_get(conf, "enable.idempotence"), "true");
    WW_ASSERT_EQ_STR(conf_get(conf, "acks"), "-1");
    rd_kafka_conf_destroy(conf);

    /* An explicit property is applied last; the dup keeps it. */
    WW_ASSERT_EQ_INT(ww_bus_config_set(cfg, "linger.ms", "7", &err), 0);
    ww_bus_config_t *copy = ww_bus_config_dup(cfg);
    WW_ASSERT(copy);
    ww_bus_config_destroy(cfg);
    conf = ww_bus_config_producer_conf(copy, &err);
    WW_ASSERT_MSG(conf, "%s", err.msg);
    WW_ASSERT_EQ_STR(conf_get(conf, "linger.ms"), "7");
    WW_ASSERT_EQ_STR(conf_get(conf, "transactional.id"), "");
    rd_kafka_conf_destroy(conf);
    ww_bus_config_destroy(copy);
    clear_env();
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(reads_the_environment),
            WW_CASE(defaults_without_environment),
            WW_CASE(rejects_malformed_environment),
            WW_CASE(properties_file_is_passed_through_but_cannot_weaken_guarantees),
            WW_CASE(names_get_the_prefix_and_transactional_ids_need_an_instance),
            WW_CASE(group_conf_has_static_membership_and_safe_commit_settings),
            WW_CASE(transactional_conf_keeps_message_timeout_below_transaction_timeout),
            {0}});
}
