/* ww_auth_config.c - security settings from the environment, failing closed. */
#include "ww_auth_config.h"

#include "ww_auth_jwt.h"
#include "ww_auth_strlist.h"
#include "ww_env.h"
#include "ww_log.h"

#include <errno.h>
#include <stdio.h>
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

/* The whole of a caller file, NUL-terminated; NULL with err set. */
static char *read_file(const char *path, ww_err_t *err) {
    enum { MAX = 1 << 20 };
    FILE *f = fopen(path, "r");
    if (!f) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "WW_CALLERS_FILE %s cannot be read: %s", path,
                   strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX + 1);
    size_t n = buf ? fread(buf, 1, MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > MAX) {
        free(buf);
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                   "WW_CALLERS_FILE %s cannot be read or exceeds 1 MiB", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* WW_CALLERS or WW_CALLERS_FILE, parsed against the trusted issuers. */
static ww_code_t load_callers(ww_auth_config_t *cfg, ww_err_t *err) {
    static const char *const retired[] = {"WW_ALLOWED_CALLERS",
                                          "WW_TRAINER_CALLERS"};
    for (size_t i = 0; i < sizeof retired / sizeof *retired; i++)
        if (getenv(retired[i]))
            return ww_err_set(
                err, WW_ERR_INVALID_ARGUMENT,
                "%s is no longer read: give every caller a role in "
                "WW_CALLERS instead (docs/security.md, \"Callers and "
                "roles\"), then unset it",
                retired[i]);
    const char *inline_list = getenv("WW_CALLERS");
    const char *file = ww_env_str("WW_CALLERS_FILE", NULL);
    if (inline_list && file)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "WW_CALLERS and WW_CALLERS_FILE are both set: "
                          "keep one");
    if (!inline_list && !file)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "WW_CALLERS is not set: a server with TLS refuses "
                          "to start without a caller list (WW_CALLERS or "
                          "WW_CALLERS_FILE; see docs/security.md)");
    char *text = file ? read_file(file, err) : strdup(inline_list);
    if (!text)
        return file ? err->code
                    : ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    const char *source = file ? file : "WW_CALLERS";
    ww_code_t rc = ww_auth_callers_parse(text, source,
                                         (const char *const *)cfg->jwt_issuers,
                                         &cfg->callers, err);
    free(text);
    if (rc != WW_OK) return rc;
    cfg->callers_source = strdup(source);
    const char *claim = ww_env_str("WW_USER_ID_CLAIM", NULL);
    if (claim && *claim) cfg->user_id_claim = strdup(claim);
    if (!cfg->callers_source || (claim && *claim && !cfg->user_id_claim))
        return ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
    if (ww_auth_callers_count(cfg->callers) == 0)
        ww_log_warn("auth",
                    "event=no_callers source=%s msg=\"the caller "
                    "list is empty: every call but health is "
                    "refused\"",
                    source);
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
    if (oom) {
        rc = ww_err_set(err, WW_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    if (!cfg->no_tls && (rc = load_callers(cfg, err)) != WW_OK) goto fail;
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
    ww_auth_callers_destroy(cfg->callers);
    free(cfg->callers_source);
    free(cfg->user_id_claim);
    free(cfg->tls_ca);
    free(cfg->tls_client_cert);
    free(cfg->tls_client_key);
    free(cfg->metadata_host);
    memset(cfg, 0, sizeof *cfg);
}
