/* ww_host_metrics.c - the /metrics endpoint over libmicrohttpd, process
 * figures, and the process's one registry. */
#include "ww_host_metrics.h"

#include "ww_bus_observer.h"
#include "ww_env.h"
#include "ww_host_observe.h"
#include "ww_log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct ww_host_metrics {
    ww_metrics_t *reg;
    ww_host_observe_t *observe;
    struct MHD_Daemon *daemon;
    int port;
    double start_time;
    ww_metrics_series_t *rss, *vsize, *fds, *max_fds, *start, *cpu;
};

static _Atomic(ww_host_metrics_t *) current;

ww_host_metrics_t *ww_host_metrics_current(void) {
    return atomic_load(&current);
}

ww_metrics_t *ww_host_metrics_registry(ww_host_metrics_t *m) {
    return m ? m->reg : NULL;
}

int ww_host_metrics_port(const ww_host_metrics_t *m) {
    return m ? m->port : 0;
}

void ww_host_metrics_apply(ww_host_metrics_t *m, ww_rpc_server_config_t *cfg) {
    if (m) cfg->observer = ww_host_observe_rpc(m->observe);
}

/* ---------- process ---------- */

/* Seconds since the epoch when this process started: its start in clock
 * ticks after boot (/proc/self/stat, field 22) plus the boot time. */
static double process_start_time(void) {
    double fallback = (double)time(NULL);
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return fallback;
    char line[1024];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *p = ok ? strrchr(line, ')') : NULL; /* the name may hold spaces */
    unsigned long long ticks = 0;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &ticks) != 1) return fallback;
    f = fopen("/proc/stat", "r");
    if (!f) return fallback;
    unsigned long long btime = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1) break;
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (!btime || hz <= 0) return fallback;
    return (double)btime + (double)ticks / (double)hz;
}

static void collect_process(void *ctx, ww_metrics_t *reg) {
    (void)reg;
    ww_host_metrics_t *m = ctx;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
            ww_metrics_set(m->rss, (double)resident * (double)page);
            ww_metrics_set(m->vsize, (double)size * (double)page);
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long n = 0;
        for (struct dirent *e; (e = readdir(d));)
            if (e->d_name[0] != '.') n++;
        closedir(d);
        ww_metrics_set(m->fds, (double)(n - 1)); /* not the one reading */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        ww_metrics_set(m->max_fds, (double)rl.rlim_cur);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        ww_metrics_set(m->cpu, (double)ru.ru_utime.tv_sec +
                                   (double)ru.ru_utime.tv_usec / 1e6 +
                                   (double)ru.ru_stime.tv_sec +
                                   (double)ru.ru_stime.tv_usec / 1e6);
}

static ww_code_t process_families(ww_host_metrics_t *m, ww_err_t *err) {
    struct {
        ww_metrics_series_t **out;
        ww_metrics_type_t type;
        const char *name, *help;
    } specs[] = {
        {&m->rss, WW_METRICS_GAUGE, "process_resident_memory_bytes",
         "Resident memory size in bytes."},
        {&m->vsize, WW_METRICS_GAUGE, "process_virtual_memory_bytes",
         "Virtual memory size in bytes."},
        {&m->fds, WW_METRICS_GAUGE, "process_open_fds",
         "Number of open file descriptors."},
        {&m->max_fds, WW_METRICS_GAUGE, "process_max_fds",
         "Maximum number of open file descriptors."},
        {&m->start, WW_METRICS_GAUGE, "process_start_time_seconds",
         "Start time of the process since unix epoch in seconds."},
        {&m->cpu, WW_METRICS_COUNTER, "process_cpu_seconds_total",
         "Total user and system CPU time spent in seconds."},
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        ww_metrics_family_t *f;
        ww_code_t rc =
            ww_metrics_family_new(m->reg, specs[i].type, specs[i].name,
                                  specs[i].help, NULL, NULL, 0, &f, err);
        if (rc != WW_OK) return rc;
        if (!(*specs[i].out = ww_metrics_series(f, NULL)))
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    ww_metrics_set(m->start, m->start_time);
    return ww_metrics_collector_add(m->reg, collect_process, m, err);
}

/* ---------- HTTP ---------- */

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status,
                                   const char *text, const char *allow) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; charset=utf-8");
    if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls) {
    (void)version;
    (void)upload;
    ww_host_metrics_t *m = cls;
    /* Answered on the first call, right after the headers: a body sent
     * along is never read (the library closes the connection after such
     * an answer). */
    (void)req_cls;
    *upload_size = 0;
    if (strcmp(url, "/metrics") != 0)
        return answer_text(c, MHD_HTTP_NOT_FOUND, "not found: only /metrics\n",
                           NULL);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "method not allowed: GET or HEAD /metrics\n",
                           "GET, HEAD");
    size_t len = 0;
    char *text = ww_metrics_render(m->reg, &len);
    if (!text)
        return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n",
                           NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[300];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ww_log_warn("metrics", "event=http_error msg=\"%s\"", msg);
}

/* host:port (IPv4 or a name; "[v6]:port" too) into a socket address. */
static ww_code_t resolve(const char *addr, struct sockaddr_storage *ss,
                         socklen_t *len, ww_err_t *err) {
    char host[256];
    const char *colon = strrchr(addr, ':');
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (!colon || hl >= sizeof host || !colon[1])
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "WW_METRICS_ADDR=\"%s\": expected host:port", addr);
    memcpy(host, addr, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0 || !res)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "WW_METRICS_ADDR=\"%s\": %s", addr, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return WW_OK;
}

static int bound_port(struct MHD_Daemon *d) {
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : 0;
}

ww_code_t ww_host_metrics_new(const char *service, ww_host_metrics_t **out,
                              ww_err_t *err) {
    *out = NULL;
    const char *addr = ww_env_str("WW_METRICS_ADDR", NULL);
    if (!addr || !*addr) return WW_OK;
    struct sockaddr_storage ss;
    socklen_t sslen;
    ww_code_t rc = resolve(addr, &ss, &sslen, err);
    if (rc != WW_OK) return rc;
    ww_host_metrics_t *m = calloc(1, sizeof *m);
    if (!m || !(m->reg = ww_metrics_new())) {
        free(m);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    m->start_time = process_start_time();
    int stats_ms = (int)ww_env_long("WW_KAFKA_STATS_INTERVAL_MS", 5000);
    if ((rc = ww_host_observe_new(m->reg, stats_ms, &m->observe, err)) ||
        (rc = process_families(m, err))) {
        ww_host_metrics_destroy(m);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    m->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
    if (!m->daemon) {
        ww_host_metrics_destroy(m);
        return ww_err_set(err, WW_ERR_UNAVAILABLE,
                          "metrics: cannot listen on WW_METRICS_ADDR=%s (in "
                          "use or invalid)",
                          addr);
    }
    m->port = bound_port(m->daemon);
    ww_bus_observe(ww_host_observe_bus(m->observe));
    atomic_store(&current, m);
    ww_log_info(service, "event=metrics addr=%s port=%d path=/metrics", addr,
                m->port);
    *out = m;
    return WW_OK;
}

void ww_host_metrics_destroy(ww_host_metrics_t *m) {
    if (!m) return;
    ww_host_metrics_t *self = m;
    atomic_compare_exchange_strong(&current, &self, NULL);
    if (m->daemon) MHD_stop_daemon(m->daemon);
    if (m->observe && ww_bus_observer() == ww_host_observe_bus(m->observe))
        ww_bus_observe(NULL);
    ww_host_observe_destroy(m->observe);
    ww_metrics_destroy(m->reg);
    free(m);
}
