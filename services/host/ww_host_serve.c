/* ww_host_serve.c - the main loop both service binaries share. */
#include "ww_host_serve.h"

#include "ww_env.h"
#include "ww_host_authz.h"
#include "ww_host_metrics.h"
#include "ww_host_security.h"
#include "ww_log.h"
#include "ww_rpc_health.h"
#include "ww_rpc_log.h"
#include "ww_rpc_reflection.h"
#include "ww_rpc_server.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static atomic_bool failed;
static char fail_why[256];

void ww_host_serve_fail(const char *why) {
    if (atomic_exchange(&failed, true)) return; /* the first cause counts */
    snprintf(fail_why, sizeof fail_why, "%s", why ? why : "worker failed");
    kill(getpid(), SIGTERM); /* wakes the main loop's sigwait */
}

ww_code_t ww_host_serve_listen_addr(const char *addr_env, const char **addr,
                                    ww_err_t *err) {
    *addr = ww_env_str("WW_LISTEN_ADDR", NULL);
    if (*addr) return WW_OK;
    *addr = ww_env_str(addr_env, NULL);
    if (*addr) return WW_OK;
    return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                      "no listen address: set WW_LISTEN_ADDR or %s "
                      "(host:port)",
                      addr_env);
}

/* Server reflection over the binary's descriptor set, unless WW_REFLECTION
 * turns it off; *out stays NULL when off. */
static ww_code_t reflection_add(const ww_host_serve_config_t *c,
                                ww_rpc_server_t *server,
                                ww_rpc_reflection_t **out, ww_err_t *err) {
    *out = NULL;
    const char *mode = ww_env_str("WW_REFLECTION", "on");
    if (strcmp(mode, "off") == 0) return WW_OK;
    if (strcmp(mode, "on") != 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "WW_REFLECTION=%s: must be on or off", mode);
    if (!c->descriptor_set) return WW_OK;
    ww_code_t rc = ww_rpc_reflection_new(c->descriptor_set,
                                         c->descriptor_set_len, out, err);
    if (rc == WW_OK) rc = ww_rpc_reflection_add_to(*out, server, err);
    return rc;
}

int ww_host_serve_main(const ww_host_serve_config_t *c) {
    ww_err_t err;
    const char *addr;
    ww_host_security_server_t *sec = NULL;
    ww_host_gate_t *gate = NULL;
    ww_rpc_server_t *server = NULL;
    ww_host_metrics_t *metrics = NULL;
    ww_rpc_reflection_t *reflection = NULL;
    int rc = 1;
    ww_rpc_log_install(); /* before the credentials' grpc_init */
    /* Security first: a service that would run unprotected must not even
     * look for its address. */
    if (ww_host_security_server_new(&sec, &err) != WW_OK ||
        ww_host_serve_listen_addr(c->addr_env, &addr, &err) != WW_OK ||
        ww_host_gate_new(c->name, &gate, &err) != WW_OK ||
        ww_host_metrics_new(c->name, &metrics, &err) != WW_OK)
        goto out;
    ww_rpc_server_config_t cfg = {
        .listen_addr = addr,
        .threads = (int)ww_env_long("WW_RPC_THREADS", 0),
        .max_receive_bytes = (int)ww_env_long("WW_RPC_MAX_RECV_BYTES", 0),
        /* Idempotency lives in the facts (every write is a command): the
         * runtime's own cache stays off. */
        .idempotency_cache = 0,
    };
    ww_host_security_server_apply(sec, &cfg);
    ww_host_gate_apply(gate, &cfg);
    ww_host_metrics_apply(metrics, &cfg);
    if (ww_rpc_server_new(&cfg, &server, &err) != WW_OK) goto out;
    ww_rpc_health_set_watch_limits(
        ww_rpc_server_health(server),
        (int)ww_env_long("WW_HEALTH_WATCHES_PER_CONN", 0),
        (int)ww_env_long("WW_HEALTH_WATCHES", 0));
    for (size_t i = 0; i < c->n_services; i++)
        if (ww_host_authz_check_service(c->services[i], &err) != WW_OK ||
            ww_rpc_server_add_service(server, c->services[i], &err) != WW_OK)
            goto out;
    if (reflection_add(c, server, &reflection, &err) != WW_OK) goto out;
    if (ww_rpc_server_start(server, &err) != WW_OK) goto out;
    ww_host_gate_attach(gate, server);
    ww_log_info(c->name,
                "event=started addr=%s port=%d security=%s reflection=%s", addr,
                ww_rpc_server_port(server), ww_host_security_server_mode(sec),
                reflection ? "on" : "off");
    if (c->configure) {
        if (c->configure(c->configure_ctx, ww_host_security_server_enabled(sec),
                         addr, gate, &err) != WW_OK)
            goto out;
    } else {
        ww_host_gate_open(gate);
    }
    int sig = ww_rpc_server_wait_signal();
    if (atomic_load(&failed))
        ww_log_error(c->name, "event=stopping reason=\"%s\"", fail_why);
    else
        ww_log_info(c->name, "event=stopping signal=%s",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT");
    ww_rpc_server_shutdown(server,
                           (int)ww_env_long("WW_SHUTDOWN_GRACE_MS", 5000));
    rc = atomic_load(&failed) ? 2 : 0;
out:
    if (rc == 1)
        ww_log_error(c->name, "event=start_failed msg=\"%s\"", err.msg);
    ww_host_gate_detach(gate);
    ww_rpc_server_destroy(server);
    ww_rpc_reflection_destroy(reflection);
    if (c->unconfigure) c->unconfigure(c->configure_ctx);
    ww_host_gate_destroy(gate);
    ww_host_metrics_destroy(metrics);
    ww_host_security_server_destroy(sec);
    if (rc == 2) return 1;
    if (rc == 0) ww_log_info(c->name, "event=stopped");
    return rc;
}
