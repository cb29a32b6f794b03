/* ww_host_security.c - server and client security from ww_auth's pieces. */
#include "ww_host_security.h"

#include "ww_auth_jwks.h"
#include "ww_auth_tls.h"
#include "ww_auth_token_source.h"
#include "ww_auth_verifier.h"
#include "ww_env.h"
#include "ww_host_authz.h"
#include "ww_log.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Clock skew tolerated on exp/nbf/iat. */
#define LEEWAY_S 30

struct ww_host_security_server {
    ww_auth_config_t cfg;
    grpc_server_credentials *creds;
    ww_auth_jwks_t *jwks;
    ww_auth_verifier_t *verifier;
    bool grpc_ref; /* holds a grpc_init() while it owns credentials */
};

void ww_host_security_server_destroy(ww_host_security_server_t *s) {
    if (!s) return;
    ww_auth_verifier_destroy(s->verifier);
    ww_auth_jwks_destroy(s->jwks);
    if (s->creds) grpc_server_credentials_release(s->creds);
    if (s->grpc_ref) grpc_shutdown();
    ww_auth_config_free(&s->cfg);
    free(s);
}

ww_code_t ww_host_security_server_new(ww_host_security_server_t **out,
                                      ww_err_t *err) {
    *out = NULL;
    ww_host_security_server_t *s = calloc(1, sizeof *s);
    if (!s) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    ww_code_t rc = ww_auth_config_load_server(&s->cfg, err);
    if (rc != WW_OK) {
        free(s);
        return rc;
    }
    if (s->cfg.no_tls) {
        *out = s;
        return WW_OK;
    }
    /* The credentials need the gRPC library from creation to release, and
     * the server's own grpc_init comes later: hold a reference meanwhile. */
    grpc_init();
    s->grpc_ref = true;
    rc = ww_auth_tls_server_credentials_from_config(&s->cfg, &s->creds, err);
    if (rc != WW_OK) goto fail;
    ww_auth_jwks_opts_t jo = {.source = s->cfg.jwks,
                              .ca_file = s->cfg.tls_ca,
                              .ttl_ms = ww_env_long("WW_JWKS_TTL_MS", 0),
                              .timeout_ms =
                                  ww_env_long("WW_JWKS_TIMEOUT_MS", 0)};
    rc = ww_auth_jwks_new(&jo, &s->jwks, err);
    if (rc != WW_OK) goto fail;
    ww_auth_verifier_opts_t vo = {
        .policy = {.audience = s->cfg.jwt_audience,
                   .issuers = (const char *const *)s->cfg.jwt_issuers,
                   .leeway_s = LEEWAY_S,
                   .user_id_claim = s->cfg.user_id_claim},
        .callers = s->cfg.callers,
    };
    rc = ww_auth_verifier_new(&vo, s->jwks, &s->verifier, err);
    if (rc != WW_OK) goto fail;
    *out = s;
    return WW_OK;
fail:
    ww_host_security_server_destroy(s);
    return rc;
}

bool ww_host_security_server_enabled(const ww_host_security_server_t *s) {
    return !s->cfg.no_tls;
}

const ww_auth_config_t *
ww_host_security_server_config(const ww_host_security_server_t *s) {
    return &s->cfg;
}

/* The runtime's authenticate hook with tokens: the verified caller, its
 * identity (iss + sub), role and user id. */
static ww_code_t authenticate_token(void *ctx, const char *method,
                                    const char *authorization,
                                    ww_rpc_caller_t *caller, ww_err_t *err) {
    (void)method;
    ww_auth_caller_t c;
    ww_code_t rc = ww_auth_verifier_check(ctx, authorization, &c, err);
    if (rc != WW_OK) return rc;
    snprintf(caller->identity, sizeof caller->identity, "%s",
             c.claims.identity);
    snprintf(caller->role, sizeof caller->role, "%s",
             ww_auth_role_name(c.role));
    if (c.role == WW_AUTH_ROLE_USER)
        snprintf(caller->user_id, sizeof caller->user_id, "%s",
                 c.claims.user_id);
    return WW_OK;
}

/* Local mode: no tokens, every caller is a `service` without identity. */
static ww_code_t authenticate_local(void *ctx, const char *method,
                                    const char *authorization,
                                    ww_rpc_caller_t *caller, ww_err_t *err) {
    (void)ctx, (void)method, (void)authorization, (void)err;
    snprintf(caller->role, sizeof caller->role, "%s",
             ww_auth_role_name(WW_AUTH_ROLE_SERVICE));
    return WW_OK;
}

void ww_host_security_server_apply(const ww_host_security_server_t *s,
                                   ww_rpc_server_config_t *config) {
    config->credentials = s->creds;
    config->authenticate =
        s->verifier ? authenticate_token : authenticate_local;
    config->auth_ctx = s->verifier;
    config->authorize = ww_host_authz_authorize;
    config->authorize_ctx = NULL;
}

const char *ww_host_security_server_mode(const ww_host_security_server_t *s) {
    if (s->cfg.no_tls) return "plaintext";
    return s->cfg.tls_client_ca ? "mtls+jwt" : "tls+jwt";
}

/* ---------- clients ---------- */

typedef struct client_security {
    grpc_call_credentials *call_creds;
    ww_auth_token_source_t *tokens;
} client_security_t;

/* The rpc client's release hook: after its channel is gone, before the
 * client's grpc_shutdown. A fetch thread still completing calls is inside
 * gRPC callbacks; let it finish (bounded by the fetch timeout) so gRPC is
 * never shut down, nor the process left, under it. */
static void client_security_release(void *ctx) {
    client_security_t *cs = ctx;
    if (cs->tokens)
        ww_auth_token_source_wait_idle(cs->tokens,
                                       WW_AUTH_TOKEN_DEFAULT_TIMEOUT_MS + 1000);
    if (cs->call_creds) grpc_call_credentials_release(cs->call_creds);
    ww_auth_token_source_release(cs->tokens);
    free(cs);
}

/* ---------- the local-mode warning ---------- */

/* One host part of a target (no scheme, no port) is this machine. */
static bool host_is_loopback(const char *host, size_t len) {
    char h[256];
    if (len == 0 || len >= sizeof h) return false;
    memcpy(h, host, len);
    h[len] = '\0';
    static const char suffix[] = ".localhost";
    size_t sl = sizeof suffix - 1;
    if (strcasecmp(h, "localhost") == 0 ||
        (len > sl && strcasecmp(h + len - sl, suffix) == 0))
        return true;
    struct in_addr v4;
    if (inet_pton(AF_INET, h, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    struct in6_addr v6;
    if (inet_pton(AF_INET6, h, &v6) != 1) return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
static bool address_is_loopback(const char *a, size_t len) {
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        return close && host_is_loopback(a + 1, (size_t)(close - a - 1));
    }
    const char *colon = memchr(a, ':', len);
    if (colon && memchr(colon + 1, ':', len - (size_t)(colon - a) - 1))
        return host_is_loopback(a, len); /* bare IPv6, no port */
    return host_is_loopback(a, colon ? (size_t)(colon - a) : len);
}

bool ww_host_security_is_loopback(const char *target) {
    if (!target) return false;
    if (strncmp(target, "unix:", 5) == 0 ||
        strncmp(target, "unix-abstract:", 14) == 0)
        return true;
    const char *t = target;
    bool list = false;
    if (strncmp(t, "dns:", 4) == 0) {
        t += 4;
        if (strncmp(t, "//", 2) == 0) { /* dns://authority/host:port */
            t = strchr(t + 2, '/');
            if (!t) return false;
            t++;
        }
    } else if (strncmp(t, "ipv4:", 5) == 0 || strncmp(t, "ipv6:", 5) == 0) {
        t += 5;
        list = true;
    }
    if (!*t) return false;
    for (;;) {
        size_t len = list ? strcspn(t, ",") : strlen(t);
        if (!address_is_loopback(t, len)) return false;
        if (!list || t[len] != ',') return true;
        t += len + 1;
    }
}

/* Once per process: a tool dialling twice says it once. */
static atomic_bool remote_warned;

static void warn_remote_plaintext(const char *target) {
    if (atomic_exchange(&remote_warned, true)) return;
    ww_log_warn("auth",
                "local_mode GRPC_NO_TLS=true: plaintext gRPC to %s, no "
                "per-call tokens, do not use outside a developer machine",
                target);
}

ww_code_t ww_host_security_dial(const char *target, ww_rpc_client_t **out,
                                ww_err_t *err) {
    *out = NULL;
    if (!target || !*target)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "rpc client: no target address");
    ww_auth_config_t cfg;
    ww_code_t rc = ww_auth_config_load_client(&cfg, err);
    if (rc != WW_OK) return rc;
    ww_rpc_client_config_t cc = {.target = target};
    if (cfg.no_tls) {
        ww_auth_config_free(&cfg);
        if (!ww_host_security_is_loopback(target))
            warn_remote_plaintext(target);
        return ww_rpc_client_new(&cc, out, err);
    }
    client_security_t *cs = calloc(1, sizeof *cs);
    if (!cs) {
        ww_auth_config_free(&cfg);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    grpc_init(); /* for the credentials, before the client holds its own */
    grpc_channel_credentials *chan = NULL;
    rc = ww_auth_tls_channel_credentials_from_config(&cfg, &chan, err);
    if (rc == WW_OK) {
        ww_auth_token_source_opts_t to = {.target = target,
                                          .metadata_host = cfg.metadata_host};
        rc = ww_auth_token_source_new(&to, &cs->tokens, err);
    }
    if (rc == WW_OK) {
        cs->call_creds = ww_auth_token_source_call_credentials(cs->tokens);
        if (!cs->call_creds)
            rc = ww_err_set(err, WW_ERR_INTERNAL,
                            "rpc client: cannot create call credentials");
    }
    ww_auth_config_free(&cfg);
    if (rc != WW_OK) {
        if (chan) grpc_channel_credentials_release(chan);
        client_security_release(cs);
        grpc_shutdown();
        return rc;
    }
    cc.channel_credentials = chan;
    cc.call_credentials = cs->call_creds;
    cc.release = client_security_release;
    cc.release_ctx = cs;
    rc = ww_rpc_client_new(&cc, out, err); /* owns cs from here on */
    grpc_channel_credentials_release(chan);
    grpc_shutdown();
    return rc;
}

ww_code_t ww_host_security_dial_env(const char *env_name, ww_rpc_client_t **out,
                                    ww_err_t *err) {
    const char *addr = ww_env_str(env_name, NULL);
    if (!addr || !*addr) {
        *out = NULL;
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "%s is empty: set it to the service's host:port",
                          env_name);
    }
    return ww_host_security_dial(addr, out, err);
}
