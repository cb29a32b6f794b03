/*
 * ww_auth_tls.h - gRPC transport credentials from PEM files.
 *
 * Server: certificate chain + key, optionally a client CA, in which case
 * every client must present a certificate signed by it (mutual TLS).
 * Client: the CA roots to trust (NULL = the system's roots, as gRPC finds
 * them) and optionally a client certificate + key for mutual TLS. gRPC
 * checks that the server's certificate names the host being dialled.
 *
 * The files are read and checked (PEM parses, key matches certificate) at
 * creation, so a bad file stops a service at start with a message naming
 * it, instead of failing every handshake later. Call after grpc_init() on
 * any thread; ownership of the returned credentials passes to the caller,
 * who releases them with grpc_server_credentials_release /
 * grpc_channel_credentials_release (after handing them to gRPC, which keeps
 * its own reference).
 */
#ifndef WW_AUTH_TLS_H
#define WW_AUTH_TLS_H

#include "ww_auth_config.h"
#include "ww_err.h"

#include <grpc/grpc_security.h>

ww_code_t ww_auth_tls_server_credentials(const char *cert_file,
                                         const char *key_file,
                                         const char *client_ca_file,
                                         grpc_server_credentials **out,
                                         ww_err_t *err);

ww_code_t ww_auth_tls_channel_credentials(const char *ca_file,
                                          const char *client_cert_file,
                                          const char *client_key_file,
                                          grpc_channel_credentials **out,
                                          ww_err_t *err);

/* From a loaded config: *out = NULL (with WW_OK) in local mode
 * (cfg->no_tls), which the runtime takes as "insecure". */
ww_code_t ww_auth_tls_server_credentials_from_config(
    const ww_auth_config_t *cfg, grpc_server_credentials **out, ww_err_t *err);
ww_code_t ww_auth_tls_channel_credentials_from_config(
    const ww_auth_config_t *cfg, grpc_channel_credentials **out, ww_err_t *err);

#endif
