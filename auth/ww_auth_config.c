/* ww_auth_config.c - security settings from the environment, failing closed. */
#include "ww_auth_config.h"

#include "ww_auth_jwt.h"
#include "ww_auth_strlist.h"
#include "ww_env.h"
#include "ww_log.h"

#include <stdlib.h>
#include <string.h>

static int dup_env(const char *name, char **out, int *oom) {
    const char *v = ww_env_str(name, NULL);
    *out = NULL;
    if (!v) return 0;
    *out = strdup(v);
    if (!*out) *oom = 1;
    return 1;
}

static ww_code_t load_client(ww_auth_config_t *cfg, int *oom, ww_err_t *err) {
    dup_env("WW_TLS_CA", &cfg->tls_ca, oom);
    int has_cert = dup_env("WW_TLS_CLIENT_CERT", &cfg->tls_client_cert, oom);
    int has_key = dup_env("WW_TLS_CLIENT_KEY", &cfg->tls_client_key, oom);
    if (has_cert != has_key)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "%s is set without %s",
                          has_cert ? "WW_TLS_CLIENT_CERT" : "WW_TLS_CLIENT_KEY",
                          has_cert ? "WW_TLS_CLIENT_KEY"
                                   : "WW_TLS_CLIENT_CERT");
    cfg->metadata_host =
        strdup(ww_env_str("GCE_METADATA_HOST", WW_AUTH_DEFAULT_METADATA_HOST));
    if (!cfg->metadata_host) *oom = 1;
    return WW_OK;
}

static void warn_local_mode(void) {
    ww_log_warn("auth", "local_mode GRPC_NO_TLS=true: plaintext gRPC, no "
                        "per-call tokens, do not "
                        "use outside a developer machine");
}

ww_code_t ww_auth_config_load_client(ww_auth_config_t *cfg, ww_err_t *err) {
    memset(cfg, 0, sizeof *cfg);
    int oom = 0;
    cfg->no_tls = ww_env_bool("GRPC_NO_TLS");
    ww_code_t rc = load_client(cfg, &oom, err);
    if (rc == WW_OK && oom)
        rc = ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    if (rc != WW_OK) {
        ww_auth_config_free(cfg);
        return rc;
    }
    return WW_OK;
}

ww_code_t ww_auth_config_load_server(ww_auth_config_t *cfg, ww_err_t *err) {
    memset(cfg, 0, sizeof *cfg);
    int oom = 0;
    cfg->no_tls = ww_env_bool("GRPC_NO_TLS");
    ww_code_t rc = load_client(cfg, &oom, err);
    if (rc != WW_OK) goto fail;
    static const char *const required[] = {"WW_TLS_CERT", "WW_TLS_KEY",
                                           "WW_JWKS", "WW_JWT_AUDIENCE"};
    char **slots[] = {&cfg->tls_cert, &cfg->tls_key, &cfg->jwks,
                      &cfg->jwt_audience};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        if (!dup_env(required[i], slots[i], &oom) && !cfg->no_tls) {
            rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                            "%s is not set: a server refuses to start without "
                            "TLS and token "
                            "verification unless GRPC_NO_TLS=true",
                            required[i]);
            goto fail;
        }
    }
    dup_env("WW_TLS_CLIENT_CA", &cfg->tls_client_ca, &oom);
    cfg->jwt_issuers = ww_auth_strlist_parse(
        ww_env_str("WW_JWT_ISSUERS", WW_AUTH_JWT_DEFAULT_ISSUER), &oom);
    if (!cfg->jwt_issuers && !oom) {
        rc = ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                        "WW_JWT_ISSUERS holds no issuer");
        goto fail;
    }
    cfg->allowed_callers =
        ww_auth_strlist_parse(ww_env_str("WW_ALLOWED_CALLERS", NULL), &oom);
    if (oom) {
        rc = ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    if (cfg->no_tls) warn_local_mode();
    return WW_OK;
fail:
    ww_auth_config_free(cfg);
    return rc;
}

void ww_auth_config_free(ww_auth_config_t *cfg) {
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_client_ca);
    free(cfg->jwks);
    free(cfg->jwt_audience);
    ww_auth_strlist_free(cfg->jwt_issuers);
    ww_auth_strlist_free(cfg->allowed_callers);
    free(cfg->tls_ca);
    free(cfg->tls_client_cert);
    free(cfg->tls_client_key);
    free(cfg->metadata_host);
    memset(cfg, 0, sizeof *cfg);
}
