/*
 * ww_auth_token_source.h - the client side of per-call authentication: an
 * identity token from the GCE metadata server, attached to every call as
 * `authorization: Bearer <token>`.
 *
 *   GET http://<host>/computeMetadata/v1/instance/service-accounts/default/
 *       identity?audience=https://<host of the target, without port>
 *   Metadata-Flavor: Google
 *
 * <host> is GCE_METADATA_HOST or metadata.google.internal. The token is
 * cached until shortly before its `exp` (read from the payload without
 * verification: the server verifies). Each fetch has a short timeout; after
 * a failed fetch, calls fail at once for `retry_after_ms` instead of queuing
 * behind the next attempt, so a metadata server that is down, slow or
 * answering garbage makes calls fail fast with a message saying so.
 *
 * Threads and gRPC: ww_auth_token_source_call_credentials returns plugin
 * call credentials whose get_metadata never blocks a gRPC thread: it answers
 * synchronously from the cache, or queues the call and returns; a fetch
 * thread (detached, one at a time, holding a reference on the source)
 * performs the HTTP request and completes every queued call. Near expiry a
 * still-valid token keeps being served while a background fetch refreshes
 * it. The credentials require GRPC_PRIVACY_AND_INTEGRITY, so gRPC never
 * sends the token over a plaintext channel. All functions are thread-safe.
 *
 * Ownership: the source is reference-counted; _new gives the caller one
 * reference (ww_auth_token_source_release), the call credentials hold their
 * own until gRPC destroys them.
 */
#ifndef WW_AUTH_TOKEN_SOURCE_H
#define WW_AUTH_TOKEN_SOURCE_H

#include "ww_err.h"

#include <grpc/grpc_security.h>
#include <stddef.h>

#define WW_AUTH_TOKEN_DEFAULT_TIMEOUT_MS 2000
#define WW_AUTH_TOKEN_DEFAULT_MARGIN_S   300
#define WW_AUTH_TOKEN_DEFAULT_RETRY_MS   1000
#define WW_AUTH_TOKEN_MAX_BYTES          8192

typedef struct ww_auth_token_source_opts {
    const char *target;        /* gRPC target ("host:port", "dns:///host:port");
                                  gives the audience https://host */
    const char *audience;      /* overrides the one derived from target */
    const char *metadata_host; /* host[:port]; NULL = GCE_METADATA_HOST or
                                  metadata.google.internal */
    long timeout_ms;           /* per fetch; 0 = default */
    long refresh_margin_s;     /* refresh this long before exp; 0 = default */
    long retry_after_ms;       /* fail fast this long after a failed fetch;
                                  0 = default */
} ww_auth_token_source_opts_t;

typedef struct ww_auth_token_source ww_auth_token_source_t;

/* Validates the options (no network). On WW_OK *out holds one reference.
 * Strings are copied. */
ww_code_t ww_auth_token_source_new(const ww_auth_token_source_opts_t *opts,
                                   ww_auth_token_source_t **out, ww_err_t *err);

/* Drops the caller's reference. A fetch in flight keeps the source alive
 * until it finishes (at most timeout_ms). NULL is a no-op. */
void ww_auth_token_source_release(ww_auth_token_source_t *ts);

/* Blocking: a fresh token into buf (size bytes), fetching when needed
 * (for command-line tools; never call it on a gRPC thread). UNAVAILABLE,
 * DEADLINE_EXCEEDED or UNAUTHENTICATED with a message when no token can be
 * had; RESOURCE_EXHAUSTED when buf is too small. */
ww_code_t ww_auth_token_source_token(ww_auth_token_source_t *ts, char *buf,
                                     size_t size, ww_err_t *err);

/* New call credentials (the caller owns them; release with
 * grpc_call_credentials_release once given to a channel or call). Compose
 * them with TLS channel credentials via
 * grpc_composite_channel_credentials_create. Requires grpc_init(). */
grpc_call_credentials *
ww_auth_token_source_call_credentials(ww_auth_token_source_t *ts);

/* Waits until no fetch is in flight (orderly shutdown, tests); 1 when idle
 * within timeout_ms. */
int ww_auth_token_source_wait_idle(ww_auth_token_source_t *ts, long timeout_ms);

/* HTTP requests made so far. */
unsigned long ww_auth_token_source_fetch_count(ww_auth_token_source_t *ts);

/* "https://<host>" for a gRPC target: scheme (dns:///, dns:, ipv4:,
 * ipv6:) and port removed, IPv6 brackets kept. INVALID_ARGUMENT when no
 * host can be found or it does not fit in size bytes. */
ww_code_t ww_auth_audience_for_target(const char *target, char *buf,
                                      size_t size, ww_err_t *err);

#endif
