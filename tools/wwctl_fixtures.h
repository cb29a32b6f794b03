/*
 * wwctl_fixtures.h - `wwctl fixtures`: the demo data loaded through the
 * gRPC edge like any client would, idempotently: 30 days of hours from
 * today (UTC) made available by the fixture pattern of the trainer's
 * domain, and the fixture users credited. Every call carries an
 * idempotency key naming what it loads ("fixtures-hour-<time>",
 * "fixtures-credits-<user>"), so a second run changes nothing.
 *
 * Threads: runs its calls from a few threads of its own over the two
 * (thread-safe) clients.
 */
#ifndef WWCTL_FIXTURES_H
#define WWCTL_FIXTURES_H

#include "ww_rpc_client.h"

/* Loads the fixtures through `trainer` and `users`; prints one summary
 * line. Returns the process exit status (0, or 1 when a call failed other
 * than on an hour that is booked already). */
int wwctl_fixtures_load(ww_rpc_client_t *trainer, ww_rpc_client_t *users,
                        const ww_rpc_call_options_t *opts);

#endif
