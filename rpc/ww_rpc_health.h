/*
 * ww_rpc_health.h - grpc.health.v1.Health for one server: Check answers the
 * current status of a service name ("" = the whole server), Watch streams it
 * and then every change. Each ww_rpc_server owns one (see
 * ww_rpc_server_health()); services added to the server are SERVING once it
 * starts (NOT_SERVING with the server's start_not_serving, until the owner
 * says otherwise), and everything turns NOT_SERVING when it shuts down.
 *
 * Watch needs no token (orchestrators probe without one), so its streams
 * are bounded: at most `per_connection` open Watch streams per client
 * connection (gRPC's peer address) and `total` on the server (defaults
 * below; ww_rpc_health_set_watch_limits). One more is refused at once with
 * RESOURCE_EXHAUSTED "too many Health.Watch streams on this connection
 * (limit 16): close one, or use Health.Check" (or "on this server"); a
 * stream that ends frees its place. Cancel costs O(1).
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef WW_RPC_HEALTH_H
#define WW_RPC_HEALTH_H

#include "ww_err.h"

#include <protobuf-c/protobuf-c.h>

typedef struct ww_rpc_health ww_rpc_health_t;

typedef enum ww_rpc_health_status {
    WW_RPC_HEALTH_UNKNOWN = 0,
    WW_RPC_HEALTH_SERVING = 1,
    WW_RPC_HEALTH_NOT_SERVING = 2,
} ww_rpc_health_status_t;

#define WW_RPC_HEALTH_DEFAULT_WATCHES_PER_CONN 16
#define WW_RPC_HEALTH_DEFAULT_WATCHES          1024

/* Returns NULL on allocation failure. */
ww_rpc_health_t *ww_rpc_health_new(void);

/* Sets the status of `service` (copied; "" = the server) and pushes it to
 * every Watch of that name. After ww_rpc_health_shutdown it changes nothing
 * and returns WW_OK: a server that stops stays NOT_SERVING, even when its
 * owner reports ready late. Fails only on allocation failure. */
ww_code_t ww_rpc_health_set(ww_rpc_health_t *health, const char *service,
                            ww_rpc_health_status_t status, ww_err_t *err);

/* The status last set, WW_RPC_HEALTH_UNKNOWN for a name never set. */
ww_rpc_health_status_t ww_rpc_health_get(ww_rpc_health_t *health,
                                         const char *service);

/* The generated Health service to add to a server (owned by `health`). */
ProtobufCService *ww_rpc_health_service(ww_rpc_health_t *health);

/* The Watch caps (<= 0: the default); applies to streams opened later. */
void ww_rpc_health_set_watch_limits(ww_rpc_health_t *health, int per_connection,
                                    int total);

/* Watch streams open now (tests, metrics). */
int ww_rpc_health_watch_count(ww_rpc_health_t *health);

/* Every name NOT_SERVING, every Watch sent that and then ended with
 * UNAVAILABLE; later Watches end at once. Before the server stops. */
void ww_rpc_health_shutdown(ww_rpc_health_t *health);

/* Frees the state; all Watch calls must have ended (shutdown first). */
void ww_rpc_health_destroy(ww_rpc_health_t *health);

#endif
