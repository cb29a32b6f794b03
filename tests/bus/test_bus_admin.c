/*
 * Topic settings through ww_bus_admin on the real broker: read with their
 * source, replaced as a whole set (librdkafka 2.0.2's non-incremental
 * AlterConfigs), missing topics and refused values named; and the mock
 * cluster recognised as such (BT_MOCK build), since it has no admin API.
 */
#include "bus_test_util.h"

static ww_bus_config_t *cfg;

#ifndef BT_MOCK
/* A new topic with the given settings, on the real broker. */
static void make_topic(char *topic, size_t size, const char *what,
                       const ww_bus_topic_config_t *configs, size_t n) {
    ww_test_unique_name(topic, size, what);
    ww_bus_topic_spec_t spec = {.name = topic,
                                .partitions = 1,
                                .replication_factor = 1,
                                .configs = configs,
                                .n_configs = n};
    ww_err_t err;
    WW_ASSERT_MSG(ww_bus_admin_ensure_topics(cfg, &spec, 1, 30000, &err) ==
                      WW_OK,
                  "%s", err.msg);
}

/* The value of one setting, failing the case when it is not reported. */
static const ww_bus_admin_setting_t *setting(const ww_bus_admin_configs_t *c,
                                             size_t i, const char *name) {
    const ww_bus_admin_setting_t *s = ww_bus_admin_configs_find(c, i, name);
    WW_ASSERT_MSG(s, "setting %s not reported", name);
    return s;
}

WW_TEST(describe_reports_values_and_where_they_come_from) {
    char a[128], b[128];
    ww_bus_topic_config_t forever[] = {{"retention.ms", "-1"},
                                       {"max.message.bytes", "2000000"}};
    make_topic(a, sizeof a, "adm-describe-a", forever, 2);
    make_topic(b, sizeof b, "adm-describe-b", NULL, 0);
    const char *topics[] = {a, b};
    ww_bus_admin_configs_t *c;
    ww_err_t err;
    WW_ASSERT_MSG(
        ww_bus_admin_describe_configs(cfg, topics, 2, 30000, &c, &err) == WW_OK,
        "%s", err.msg);
    const ww_bus_admin_setting_t *s = setting(c, 0, "retention.ms");
    WW_ASSERT_EQ_STR(s->value, "-1");
    WW_ASSERT_EQ_INT(s->source, WW_BUS_ADMIN_SOURCE_TOPIC);
    WW_ASSERT_EQ_STR(setting(c, 0, "max.message.bytes")->value, "2000000");
    /* not set on the topic: the built-in default, and said so */
    s = setting(c, 0, "cleanup.policy");
    WW_ASSERT_EQ_STR(s->value, "delete");
    WW_ASSERT_EQ_INT(s->source, WW_BUS_ADMIN_SOURCE_DEFAULT);
    WW_ASSERT_EQ_STR(ww_bus_admin_source_name(s->source), "default");
    /* topics in the order asked: b has no overrides at all */
    s = setting(c, 1, "retention.ms");
    WW_ASSERT_EQ_STR(s->value, "604800000");
    WW_ASSERT(s->source != WW_BUS_ADMIN_SOURCE_TOPIC);
    size_t n;
    const ww_bus_admin_setting_t *all = ww_bus_admin_configs_topic(c, 1, &n);
    WW_ASSERT(n > 10);
    for (size_t i = 0; i < n; i++)
        WW_ASSERT_MSG(all[i].source != WW_BUS_ADMIN_SOURCE_TOPIC,
                      "%s is the topic's own", all[i].name);
    WW_ASSERT(ww_bus_admin_configs_find(c, 1, "no.such.setting") == NULL);
    WW_ASSERT(ww_bus_admin_configs_topic(c, 2, &n) == NULL && n == 0);
    ww_bus_admin_configs_destroy(c);
}

WW_TEST(describe_names_a_missing_topic) {
    char a[128], missing[128];
    make_topic(a, sizeof a, "adm-missing", NULL, 0);
    ww_test_unique_name(missing, sizeof missing, "adm-never-created");
    const char *topics[] = {a, missing};
    ww_bus_admin_configs_t *c = (ww_bus_admin_configs_t *)1;
    ww_err_t err;
    WW_ASSERT_EQ_INT(
        ww_bus_admin_describe_configs(cfg, topics, 2, 30000, &c, &err),
        WW_ERR_NOT_FOUND);
    WW_ASSERT(c == NULL);
    WW_ASSERT_CONTAINS(err.msg, missing);
    WW_ASSERT_EQ_INT(
        ww_bus_admin_describe_configs(cfg, topics, 0, 30000, &c, &err),
        WW_ERR_INVALID_ARGUMENT);
}

WW_TEST(alter_replaces_the_whole_set_of_overrides) {
    char topic[128];
    ww_bus_topic_config_t two[] = {{"retention.ms", "1000"},
                                   {"max.message.bytes", "2000000"}};
    make_topic(topic, sizeof topic, "adm-alter", two, 2);
    const char *topics[] = {topic};
    ww_bus_admin_configs_t *c;
    ww_err_t err;

    /* Only retention.ms sent: max.message.bytes falls back to the broker's. */
    ww_bus_topic_config_t one[] = {{"retention.ms", "-1"}};
    WW_ASSERT_MSG(ww_bus_admin_alter_configs(cfg, topic, one, 1, 30000, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT_MSG(
        ww_bus_admin_describe_configs(cfg, topics, 1, 30000, &c, &err) == WW_OK,
        "%s", err.msg);
    WW_ASSERT_EQ_STR(setting(c, 0, "retention.ms")->value, "-1");
    const ww_bus_admin_setting_t *s = setting(c, 0, "max.message.bytes");
    WW_ASSERT(s->source != WW_BUS_ADMIN_SOURCE_TOPIC);
    WW_ASSERT(strcmp(s->value, "2000000") != 0);
    ww_bus_admin_configs_destroy(c);

    /* Both sent: both are the topic's own. */
    two[0].value = "-1";
    WW_ASSERT_MSG(ww_bus_admin_alter_configs(cfg, topic, two, 2, 30000, &err) ==
                      WW_OK,
                  "%s", err.msg);
    WW_ASSERT_MSG(
        ww_bus_admin_describe_configs(cfg, topics, 1, 30000, &c, &err) == WW_OK,
        "%s", err.msg);
    s = setting(c, 0, "max.message.bytes");
    WW_ASSERT_EQ_STR(s->value, "2000000");
    WW_ASSERT_EQ_INT(s->source, WW_BUS_ADMIN_SOURCE_TOPIC);
    WW_ASSERT_EQ_STR(setting(c, 0, "retention.ms")->value, "-1");
    ww_bus_admin_configs_destroy(c);
}

WW_TEST(alter_names_what_it_refuses) {
    char topic[128], missing[128];
    make_topic(topic, sizeof topic, "adm-refuse", NULL, 0);
    ww_test_unique_name(missing, sizeof missing, "adm-never-created");
    ww_err_t err;
    ww_bus_topic_config_t soon[] = {{"retention.ms", "soon"}};
    WW_ASSERT_EQ_INT(
        ww_bus_admin_alter_configs(cfg, topic, soon, 1, 30000, &err),
        WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, topic);
    ww_bus_topic_config_t ok[] = {{"retention.ms", "-1"}};
    WW_ASSERT_EQ_INT(
        ww_bus_admin_alter_configs(cfg, missing, ok, 1, 30000, &err),
        WW_ERR_NOT_FOUND);
    WW_ASSERT_CONTAINS(err.msg, missing);
    ww_bus_topic_config_t unnamed[] = {{NULL, "1"}};
    WW_ASSERT_EQ_INT(
        ww_bus_admin_alter_configs(cfg, topic, unnamed, 1, 30000, &err),
        WW_ERR_INVALID_ARGUMENT);
}
#endif

WW_TEST(knows_the_mock_cluster_from_a_real_one) {
    bool mock = false;
    ww_err_t err;
    WW_ASSERT_MSG(ww_bus_admin_is_mock(cfg, 30000, &mock, &err) == WW_OK, "%s",
                  err.msg);
#ifdef BT_MOCK
    WW_ASSERT(mock);
#else
    WW_ASSERT(!mock);
#endif
}

int main(int argc, char **argv) {
#ifdef BT_MOCK
    ww_err_t err = {0};
    bt_embedded = ww_bus_embedded_new(1, &err);
    if (!bt_embedded) {
        fprintf(stderr, "embedded broker: %s\n", err.msg);
        return 1;
    }
    cfg = bt_config(ww_bus_embedded_bootstrap(bt_embedded));
#else
    cfg = bt_config(getenv("KAFKA_BROKERS") ? getenv("KAFKA_BROKERS") : "");
#endif
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
#ifndef BT_MOCK
            WW_CASE(describe_reports_values_and_where_they_come_from),
            WW_CASE(describe_names_a_missing_topic),
            WW_CASE(alter_replaces_the_whole_set_of_overrides),
            WW_CASE(alter_names_what_it_refuses),
#endif
            WW_CASE(knows_the_mock_cluster_from_a_real_one),
            {0}});
    ww_bus_config_destroy(cfg);
#ifdef BT_MOCK
    ww_bus_embedded_destroy(bt_embedded);
#endif
    return rc;
}
