/*
 * ww_auth_config.h - the security settings of a server or client, read from
 * the environment (names fixed; see README "Security"):
 *
 *   GRPC_NO_TLS=true      local mode: plaintext, no tokens (loading the
 *                         server settings logs one warning; clients warn
 *                         when they dial, see ww_host_security.h)
 *   WW_TLS_CERT, WW_TLS_KEY   server certificate chain and key (PEM files)
 *   WW_TLS_CLIENT_CA      optional: require client certificates signed by it
 *   WW_JWKS               JWKS file path or https:// URL
 *   WW_JWT_AUDIENCE       required audience of incoming tokens
 *   WW_JWT_ISSUERS        comma list; default https://accounts.google.com
 *   WW_CALLERS            server: who may call, in which role
 *                         (ww_auth_callers.h); or WW_CALLERS_FILE, a file
 *                         of the same entries, one per line; not both
 *   WW_USER_ID_CLAIM      server: the claim holding a `user` caller's user
 *                         id (default: sub)
 *   WW_TLS_CA             client (and https JWKS fetch): PEM roots (default:
 *                         system roots)
 *   WW_TLS_CLIENT_CERT, WW_TLS_CLIENT_KEY  client: certificate for mutual TLS
 *   GCE_METADATA_HOST     client: metadata server host[:port]
 *
 * Fail closed: a server with GRPC_NO_TLS unset needs a certificate, key,
 * JWKS, audience and caller list (WW_CALLERS or WW_CALLERS_FILE; a blank
 * list is valid and refuses everyone), and loading names the first
 * variable missing. WW_ALLOWED_CALLERS and WW_TRAINER_CALLERS (replaced by
 * the roles of WW_CALLERS) stop the load with a message saying so, so an
 * old deployment never runs with its allowlist silently ignored. In local
 * mode the caller variables are not read (there are no tokens).
 * Ownership: the config owns copies of every string; free it with
 * ww_auth_config_free. Loading reads the environment, so call it before
 * starting threads that might change it; the loaded struct is read-only
 * afterwards and may be shared between threads.
 */
#ifndef WW_AUTH_CONFIG_H
#define WW_AUTH_CONFIG_H

#include "ww_auth_callers.h"
#include "ww_err.h"

#include <stdbool.h>

typedef struct ww_auth_config {
    bool no_tls;    /* GRPC_NO_TLS=true: everything below is unused */
    char *tls_cert; /* server */
    char *tls_key;
    char *tls_client_ca; /* NULL = client certificates not requested */
    char *jwks;
    char *jwt_audience;
    char **jwt_issuers;         /* NULL-terminated, never NULL once loaded */
    ww_auth_callers_t *callers; /* server with TLS: never NULL */
    char *callers_source;       /* "WW_CALLERS" or the file's path */
    char *user_id_claim;        /* NULL = sub */
    char *tls_ca;               /* client; NULL = system roots */
    char *tls_client_cert;      /* client; both or neither */
    char *tls_client_key;
    char *metadata_host; /* never NULL once loaded */
} ww_auth_config_t;

#define WW_AUTH_DEFAULT_METADATA_HOST "metadata.google.internal"

/* Server settings (and the client ones too, for services that also dial).
 * On failure *cfg is freed and err (INVALID_ARGUMENT) names the missing or
 * inconsistent variable. */
ww_code_t ww_auth_config_load_server(ww_auth_config_t *cfg, ww_err_t *err);

/* Client settings only (no certificate, JWKS or audience needed). */
ww_code_t ww_auth_config_load_client(ww_auth_config_t *cfg, ww_err_t *err);

/* Releases every string; leaves *cfg zeroed. Safe on a zeroed struct. */
void ww_auth_config_free(ww_auth_config_t *cfg);

#endif
