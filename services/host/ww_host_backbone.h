/*
 * ww_host_backbone.h - a service's link to the Kafka backbone, made at start.
 *
 * Each service owns four topics with the same partition count (the
 * partitioner maps a key to the same partition p of commands, events and
 * replies, so one instance owns p of each; snapshots of events partition p
 * go to snapshots partition p):
 *   <prefix><svc>.commands   internal, the broker's default retention
 *   <prefix><svc>.events     public facts, kept forever
 *   <prefix><svc>.replies    one CommandResult per command, kept 1 h
 *   <prefix><svc>.snapshots  state per events partition, compacted, forever
 * and the dead letters of every topic its groups consume, kept forever:
 *   <prefix><svc>.commands.dlq      (its decider)
 *   <prefix><peer>.events.dlq       (its translator of the peer's facts)
 * It also makes sure <prefix><peer>.events exists (with the same count), so
 * the two services can start in any order.
 *
 * ww_host_backbone_open creates the missing ones with the settings of the
 * catalogue (schemas/README.md) and checks the existing ones:
 *   - the partition count: a different count is refused, because keys
 *     would move between partitions and with them the state built on them;
 *   - the settings the catalogue fixes (cleanup.policy, retention.ms,
 *     retention.bytes, segment.ms; each must be the topic's own setting,
 *     not one inherited from the broker): every wrong one is logged
 *     (event=topic_setting_wrong topic= setting= found= from= want=) and
 *     the start refused with FAILED_PRECONDITION naming the topics, unless
 *     WW_KAFKA_FIX_TOPICS is set: then each wrong topic gets them with one
 *     AlterConfigs that also resends the topic's other own settings
 *     (librdkafka 2.0.2's AlterConfigs replaces them all), logged as
 *     event=topic_fixed with what changed and what was kept, and read back.
 *     On librdkafka's mock cluster (no admin API, nothing durable) the
 *     settings are not checked, and one WARN line says so.
 *
 * Which cluster: KAFKA_BROKERS (with the rest of the bus settings, see
 * ww_bus_config.h). Without it the service starts an embedded cluster of
 * its own (librdkafka's mock, in this process) and says so in its log: other
 * processes do not see it, and it writes no transaction markers, so
 * exactly-once holds on a real broker only. scripts/run.sh instead starts
 * one embedded cluster (tools/ww-embedded-kafka) shared by both services.
 *
 *   WW_KAFKA_PARTITIONS      partitions of each service topic (default 6)
 *   WW_KAFKA_START_TIMEOUT_MS  how long a broker that does not answer yet is
 *                            retried at start (default 30000); the start's
 *                            replay may also stall this long at most
 *                            (ww_host_service.h)
 *   WW_KAFKA_FIX_TOPICS      1/true/yes/on: give existing topics the
 *                            catalogue's settings instead of refusing
 *
 * Thread safety: open and destroy on one thread; the getters are safe from
 * any thread in between.
 */
#ifndef WW_HOST_BACKBONE_H
#define WW_HOST_BACKBONE_H

#include "ww_bus_admin.h"
#include "ww_bus_config.h"
#include "ww_err.h"

#include <stdbool.h>

typedef struct ww_host_backbone ww_host_backbone_t;

#define WW_HOST_BACKBONE_DEFAULT_PARTITIONS 6

/* The largest snapshot record (compressed) <svc>.snapshots accepts: 64 MiB. */
#define WW_HOST_BACKBONE_SNAPSHOT_MAX_BYTES 67108864
#define WW_HOST_BACKBONE_SNAPSHOT_MAX_BYTES_TEXT "67108864"

/* The service's topics. */
typedef enum ww_host_backbone_topic {
    WW_HOST_BACKBONE_COMMANDS = 0,
    WW_HOST_BACKBONE_EVENTS,
    WW_HOST_BACKBONE_REPLIES,
    WW_HOST_BACKBONE_SNAPSHOTS,
    WW_HOST_BACKBONE_COMMANDS_DLQ,
    WW_HOST_BACKBONE_PEER_EVENTS,     /* only with a peer */
    WW_HOST_BACKBONE_PEER_EVENTS_DLQ, /* only with a peer */
    WW_HOST_BACKBONE__TOPICS
} ww_host_backbone_topic_t;

/* Connects for service `svc` ("trainer") whose translator reads the facts
 * of `peer` ("users"; NULL: none): bus settings from the environment, an
 * embedded cluster when KAFKA_BROKERS is unset, topics created or checked
 * (partition count and settings, see above).
 * Without WW_INSTANCE_ID the instance is named "<svc>-<hostname>-<port of
 * listen_addr>" (stable across restarts of one process slot, unique per
 * port on a host; a WARN line says so: set it in production, e.g. to a
 * StatefulSet pod name). listen_addr may be NULL (then the pid is used,
 * which is not stable: fencing a crashed predecessor needs a stable id).
 * Retriable failures (broker not reachable yet) are retried until
 * WW_KAFKA_START_TIMEOUT_MS; then, or on any other failure, returns the
 * error with *out NULL. The caller owns *out. */
ww_code_t ww_host_backbone_open(const char *svc, const char *peer,
                                const char *listen_addr,
                                ww_host_backbone_t **out, ww_err_t *err);

/* Bus settings in use (brokers set, also for the embedded cluster); owned
 * by the backbone. */
const ww_bus_config_t *ww_host_backbone_config(const ww_host_backbone_t *bb);

/* Full name of one of the service's topics (prefix applied); owned by the
 * backbone. NULL for a peer topic without a peer. */
const char *ww_host_backbone_topic(const ww_host_backbone_t *bb,
                                   ww_host_backbone_topic_t t);

/* Partition count shared by all of the service's topics. */
int ww_host_backbone_partitions(const ww_host_backbone_t *bb);

/* True when this process runs its own embedded cluster. */
bool ww_host_backbone_is_embedded(const ww_host_backbone_t *bb);

/* The specs of the service's topics (peer ones only with a peer), names
 * prefixed per cfg and written into names (specs[i].name points there;
 * configs are static: the settings the catalogue fixes, none for
 * commands); *count receives how many. Shared with the
 * embedded-broker tool, which creates both services' topics ahead of time. */
ww_code_t ww_host_backbone_topic_specs(
    const ww_bus_config_t *cfg, const char *svc, const char *peer,
    int partitions, char names[WW_HOST_BACKBONE__TOPICS][256],
    ww_bus_topic_spec_t specs[WW_HOST_BACKBONE__TOPICS], int *count,
    ww_err_t *err);

/* Partition count from WW_KAFKA_PARTITIONS (default 6); INVALID_ARGUMENT
 * when it is not a number in 1..10000. */
ww_code_t ww_host_backbone_partitions_from_env(int *partitions, ww_err_t *err);

/* Stops the embedded cluster, if any. NULL is ignored. */
void ww_host_backbone_destroy(ww_host_backbone_t *bb);

#endif
