/*
 * The embedded broker: a mock cluster of N brokers reachable over
 * loopback, whose topics are created with the partition count asked for
 * (checked through the same metadata path the services use at start).
 */
#include "bus_test_util.h"

WW_TEST(starts_n_brokers_and_creates_topics_with_their_partitions) {
    ww_err_t err = {0};
    ww_bus_embedded_t *emb = ww_bus_embedded_new(3, &err);
    WW_ASSERT_MSG(emb, "%s", err.msg);
    const char *boot = ww_bus_embedded_bootstrap(emb);
    int commas = 0;
    for (const char *p = boot; *p; p++) commas += *p == ',';
    WW_ASSERT_MSG(commas == 2, "bootstrap \"%s\" does not list 3 brokers",
                  boot);
    WW_ASSERT(strncmp(boot, "127.0.0.1:", 10) == 0);

    WW_ASSERT_EQ_INT(ww_bus_embedded_create_topic(emb, "trainer.events", 6,
                                                  &err), WW_OK);
    ww_bus_config_t *cfg = bt_config(boot);
    int parts = 0;
    WW_ASSERT_MSG(ww_bus_admin_partition_count(cfg, "trainer.events", 10000,
                                               &parts, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT_EQ_INT(parts, 6);
    ww_bus_config_destroy(cfg);
    ww_bus_embedded_destroy(emb);
}

WW_TEST(refuses_bad_arguments) {
    ww_err_t err = {0};
    WW_ASSERT(ww_bus_embedded_new(0, &err) == NULL);
    WW_ASSERT_EQ_INT(err.code, WW_ERR_INVALID_ARGUMENT);
    ww_bus_embedded_t *emb = ww_bus_embedded_new(1, &err);
    WW_ASSERT_MSG(emb, "%s", err.msg);
    WW_ASSERT_EQ_INT(ww_bus_embedded_create_topic(emb, "t", 0, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_bus_embedded_create_topic(emb, "", 1, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_bus_embedded_destroy(emb);
    ww_bus_embedded_destroy(NULL);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(starts_n_brokers_and_creates_topics_with_their_partitions),
            WW_CASE(refuses_bad_arguments),
            {0}});
}
