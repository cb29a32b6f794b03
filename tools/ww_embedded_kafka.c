/* ww-embedded-kafka - one shared in-process Kafka for a machine without one.
 *
 * librdkafka's mock cluster, reachable by every process that is given its
 * address. Creates both services' topics (WW_TOPIC_PREFIX,
 * WW_KAFKA_PARTITIONS as the services read them), prints the bootstrap
 * address as the first line on stdout, and runs until SIGTERM or SIGINT.
 *
 * The mock writes no transaction markers: read_committed is not enforced
 * and exactly-once holds on a real broker only. It keeps no topic settings
 * either (no retention, no compaction, memory only): the services see that
 * the cluster is the mock and do not check them.
 */
#include "ww_bus_embedded.h"
#include "ww_host_backbone.h"
#include "ww_log.h"
#include "ww_rpc_server.h"

#include <stdio.h>

int main(void) {
    /* Blocked before any thread starts, so only the wait below sees them:
     * the same signals, the same way, as the service binaries. */
    ww_rpc_server_block_signals();

    ww_err_t err;
    int partitions;
    ww_bus_config_t *cfg = NULL;
    ww_bus_embedded_t *emb = NULL;
    int rc = 1;
    if (ww_host_backbone_partitions_from_env(&partitions, &err) ||
        !(cfg = ww_bus_config_new(&err)) ||
        !(emb = ww_bus_embedded_new(1, &err)))
        goto out;
    /* Each service's own topics: its peer's are the peer's own. */
    static const char *const services[] = {"trainer", "users"};
    for (size_t s = 0; s < sizeof services / sizeof *services; s++) {
        char names[WW_HOST_BACKBONE__TOPICS][256];
        ww_bus_topic_spec_t specs[WW_HOST_BACKBONE__TOPICS];
        int count = 0;
        if (ww_host_backbone_topic_specs(cfg, services[s], services[1 - s],
                                         partitions, names, specs, &count,
                                         &err))
            goto out;
        for (int t = 0; t < count; t++) {
            if (specs[t].name == names[WW_HOST_BACKBONE_PEER_EVENTS]) continue;
            if (ww_bus_embedded_create_topic(emb, specs[t].name, partitions,
                                             &err))
                goto out;
        }
    }
    printf("%s\n", ww_bus_embedded_bootstrap(emb));
    fflush(stdout);
    ww_log_info("embedded-kafka",
                "event=started brokers=%s partitions=%d msg=\"librdkafka mock "
                "cluster: no transaction markers, exactly-once holds on a "
                "real broker only\"",
                ww_bus_embedded_bootstrap(emb), partitions);
    ww_rpc_server_wait_signal();
    rc = 0;
out:
    if (rc)
        ww_log_error("embedded-kafka", "event=start_failed msg=\"%s\"",
                     err.msg);
    ww_bus_embedded_destroy(emb);
    ww_bus_config_destroy(cfg);
    return rc;
}
