/*
 * ww_host_security.h - the security a service binary or a client runs with,
 * built from the environment (ww_auth_config.h has every variable):
 *
 *   server: TLS credentials from WW_TLS_CERT/WW_TLS_KEY (mutual TLS with
 *           WW_TLS_CLIENT_CA), the token verifier (WW_JWKS,
 *           WW_JWT_AUDIENCE, WW_JWT_ISSUERS) and the caller list
 *           (WW_CALLERS or WW_CALLERS_FILE, WW_USER_ID_CLAIM) as the
 *           runtime's authenticate hook: a caller's identity is its
 *           token's iss + sub ("<iss>|<sub>"), its role comes from the
 *           list, and a `user` acts as its user id. The role table
 *           (ww_host_authz.h) is the authorize hook. Fails closed, naming
 *           the first missing variable.
 *   client: TLS (WW_TLS_CA or the system roots; gRPC checks the server
 *           name) and per-call `authorization: Bearer` tokens from the
 *           metadata server (GCE_METADATA_HOST) for the dialled host.
 *   GRPC_NO_TLS=true: plaintext without tokens on both sides; every caller
 *           of a server is a `service` (identity ""). A server logs one
 *           warning at start. A client warns once per process,
 *           at its first dial of a target that is not on this host
 *           (ww_host_security_is_loopback): plaintext to localhost never
 *           leaves the machine, so a CLI in local mode stays quiet.
 *
 * Threads: _new/_destroy from one thread (main); the hook and the
 * credentials are used by gRPC's and the server's threads afterwards.
 * Ownership: each object owns its configuration, credentials, JWKS and
 * verifier; accessors return borrowed pointers valid until _destroy.
 */
#ifndef WW_RPC_SECURITY_H
#define WW_RPC_SECURITY_H

#include "ww_auth_config.h"
#include "ww_err.h"
#include "ww_rpc_client.h"
#include "ww_rpc_server.h"

#include <stdbool.h>

typedef struct ww_host_security_server ww_host_security_server_t;

/* Loads the server settings and builds credentials and verifier (the JWKS
 * is loaded now, so an unreadable one stops the start). On failure *out is
 * NULL and err names the variable or file at fault. */
ww_code_t ww_host_security_server_new(ww_host_security_server_t **out,
                                     ww_err_t *err);
void ww_host_security_server_destroy(ww_host_security_server_t *s);

/* False in local mode (GRPC_NO_TLS=true). */
bool ww_host_security_server_enabled(const ww_host_security_server_t *s);

/* The loaded settings. */
const ww_auth_config_t *
ww_host_security_server_config(const ww_host_security_server_t *s);

/* Fills credentials (NULL in local mode), authenticate, auth_ctx and
 * authorize of a server config. The server must be destroyed before `s`. */
void ww_host_security_server_apply(const ww_host_security_server_t *s,
                                  ww_rpc_server_config_t *config);

/* "tls+jwt", "mtls+jwt" or "plaintext" (for the start log line). */
const char *ww_host_security_server_mode(const ww_host_security_server_t *s);

/* A client to the service whose host:port is in $env_name, secured as the
 * environment says. The client owns its credentials and token source; free
 * it with ww_rpc_client_destroy, which waits for a token fetch still in
 * flight (at most the fetch timeout, 2 s) so that no gRPC callback runs
 * after it. INVALID_ARGUMENT naming the variable when the address is unset
 * or a TLS file is unusable. */
ww_code_t ww_host_security_dial_env(const char *env_name,
                                   ww_rpc_client_t **out, ww_err_t *err);

/* Same for an explicit target ("localhost:3000"). */
ww_code_t ww_host_security_dial(const char *target, ww_rpc_client_t **out,
                               ww_err_t *err);

/* True when a gRPC target names this host only: "localhost" or a name
 * under ".localhost", an address in 127.0.0.0/8, ::1 (also IPv4-mapped),
 * with or without a port, brackets or a "dns:", "ipv4:" or "ipv6:" scheme
 * (every address of an "ipv4:a,b" list must be local), or a Unix socket
 * ("unix:", "unix-abstract:"). Names are not resolved: a name other than
 * localhost counts as remote. Pure; any thread. */
bool ww_host_security_is_loopback(const char *target);

#endif
