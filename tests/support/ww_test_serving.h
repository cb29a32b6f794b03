/*
 * ww_test_serving.h - waiting for a service to be ready, as an orchestrator
 * would: grpc.health.v1 Check("") answers SERVING. A service listens before
 * it has caught up with its log and is NOT_SERVING (calls refused) until
 * then, so a test that calls it waits for this, not for its port.
 *
 *   WW_ASSERT_MSG(ww_test_serving_wait(client, pid, 90000), "see %s", log);
 *
 * The client (borrowed) may use any credentials: health needs no token.
 * From the test's main thread.
 */
#ifndef WW_TEST_SERVING_H
#define WW_TEST_SERVING_H

#include "ww_rpc_client.h"

#include <stdbool.h>
#include <sys/types.h>

/* True once Check("") answers SERVING; false when `pid` (if > 0) ended
 * first or `timeout_ms` passed. */
bool ww_test_serving_wait(ww_rpc_client_t *client, pid_t pid, int timeout_ms);

#endif
