/*
 * wwctl_state.h - wwctl's commands on a service's state: `digest` asks a
 * running instance for the digest of its read model (AdminService);
 * `replay` rebuilds a fresh state from <svc>.events and prints its digest,
 * so the two can be compared at the same offsets.
 *
 *   wwctl digest SERVICE [--addr HOST:PORT] [--json]
 *   wwctl replay SERVICE [--to-offsets P:O[,P:O...]] [--json]
 *
 * SERVICE is trainer or users. digest dials --addr, else TRAINER_GRPC_ADDR
 * or USERS_GRPC_ADDR, secured as for every wwctl call. replay reads
 * KAFKA_BROKERS and WW_TOPIC_PREFIX like the services; --to-offsets stops
 * each named partition before offset O (the events_offset a digest
 * answered), other partitions go to the end captured at start. On a
 * terminal replay draws a progress bar on stderr (records/s, percent of the
 * end captured at start, ETA), elsewhere a plain line a second; Ctrl-C
 * stops it cleanly (exit 130, nothing printed on stdout).
 *
 * Output: the service digest, then one line per partition (events_offset,
 * digest, records applied and skipped); with --json one JSON object, the
 * proto3 JSON form of GetDigestResponse. Exit status: 0, 1 when the call
 * or the replay failed, 2 on bad usage, 130 when interrupted.
 */
#ifndef WWCTL_STATE_H
#define WWCTL_STATE_H

#include "ww_rpc_client.h"

/* argv[0] is the command's first argument (after "digest"/"replay"). */
int wwctl_state_digest(int argc, char **argv,
                       const ww_rpc_call_options_t *opts);
int wwctl_state_replay(int argc, char **argv);

/* Usage lines of both commands, for wwctl's help. */
extern const char wwctl_state_usage[];

#endif
