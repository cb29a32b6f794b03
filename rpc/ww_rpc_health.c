/* grpc.health.v1.Health over the runtime: Check is a plain unary handler,
 * Watch keeps its call open and pushes every change with
 * ww_rpc_call_stream_send. Watches are capped per connection and in total;
 * a cancel finds its watch through a table by call. Lock order:
 * health->mu, then a call's. */
#include "ww_rpc_health.h"

#include "health.pb-c.h"
#include "ww_rpc_call.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct ww_rpc_health_entry {
    struct ww_rpc_health_entry *next;
    ww_rpc_health_status_t status;
    char name[];
} ww_rpc_health_entry_t;

/* Watches are kept twice: on one list of all of them (a status change
 * goes to each watch of its name) and in a table by call, so a cancel finds
 * its watch in O(1) (the runtime hands the cancel callback the call, which
 * outlives the watch). Each counts against its connection's entry. */
#define WATCH_BUCKETS 1024
#define CONN_BUCKETS  256

typedef struct ww_rpc_health_conn {
    struct ww_rpc_health_conn *next;
    int watches;
    char peer[];
} ww_rpc_health_conn_t;

typedef struct ww_rpc_health_watch {
    struct ww_rpc_health_watch *prev, *next; /* all watches */
    struct ww_rpc_health_watch *bucket_next; /* by call */
    ww_rpc_call_t *call;
    ww_rpc_health_conn_t *conn;
    char name[];
} ww_rpc_health_watch_t;

struct ww_rpc_health {
    Grpc__Health__V1__Health_Service service; /* first: handlers cast back */
    pthread_mutex_t mu;
    ww_rpc_health_entry_t *entries;
    ww_rpc_health_watch_t *watches;
    ww_rpc_health_watch_t *by_call[WATCH_BUCKETS];
    ww_rpc_health_conn_t *conns[CONN_BUCKETS];
    int n_watches;
    int max_per_conn, max_total;
    bool shut_down;
};

static size_t call_bucket(const ww_rpc_call_t *call) {
    uintptr_t v = (uintptr_t)call;
    return (size_t)((v >> 4) * 0x9e3779b97f4a7c15ull >> 32) % WATCH_BUCKETS;
}

static size_t conn_bucket(const char *peer) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)peer; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % CONN_BUCKETS);
}

/* With h->mu held: the connection's entry, created when `create`. */
static ww_rpc_health_conn_t *conn_find(ww_rpc_health_t *h, const char *peer,
                                       bool create) {
    size_t b = conn_bucket(peer);
    for (ww_rpc_health_conn_t *c = h->conns[b]; c; c = c->next)
        if (strcmp(c->peer, peer) == 0) return c;
    if (!create) return NULL;
    size_t len = strlen(peer);
    ww_rpc_health_conn_t *c = malloc(sizeof *c + len + 1);
    if (!c) return NULL;
    c->watches = 0;
    memcpy(c->peer, peer, len + 1);
    c->next = h->conns[b];
    h->conns[b] = c;
    return c;
}

/* With h->mu held: one watch fewer on `c`; the entry goes with the last. */
static void conn_release(ww_rpc_health_t *h, ww_rpc_health_conn_t *c) {
    if (--c->watches > 0) return;
    for (ww_rpc_health_conn_t **pp = &h->conns[conn_bucket(c->peer)]; *pp;
         pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            free(c);
            return;
        }
}

/* With h->mu held: links a new watch everywhere. */
static void watch_link(ww_rpc_health_t *h, ww_rpc_health_watch_t *w) {
    w->prev = NULL;
    w->next = h->watches;
    if (h->watches) h->watches->prev = w;
    h->watches = w;
    size_t b = call_bucket(w->call);
    w->bucket_next = h->by_call[b];
    h->by_call[b] = w;
    w->conn->watches++;
    h->n_watches++;
}

/* With h->mu held: the watch of `call` taken out of everything (not freed),
 * or NULL when it is not there (any more). */
static ww_rpc_health_watch_t *watch_unlink(ww_rpc_health_t *h,
                                           ww_rpc_call_t *call) {
    ww_rpc_health_watch_t **pp = &h->by_call[call_bucket(call)];
    while (*pp && (*pp)->call != call)
        pp = &(*pp)->bucket_next;
    ww_rpc_health_watch_t *w = *pp;
    if (!w) return NULL;
    *pp = w->bucket_next;
    if (w->prev)
        w->prev->next = w->next;
    else
        h->watches = w->next;
    if (w->next) w->next->prev = w->prev;
    conn_release(h, w->conn);
    h->n_watches--;
    return w;
}

static ww_rpc_health_entry_t *find(ww_rpc_health_t *h, const char *name) {
    for (ww_rpc_health_entry_t *e = h->entries; e; e = e->next)
        if (strcmp(e->name, name) == 0) return e;
    return NULL;
}

static void
send_status(ww_rpc_call_t *call,
            Grpc__Health__V1__HealthCheckResponse__ServingStatus st) {
    Grpc__Health__V1__HealthCheckResponse resp =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = st;
    ww_rpc_call_stream_send(call, &resp.base, NULL);
}

static void check(Grpc__Health__V1__Health_Service *service,
                  const Grpc__Health__V1__HealthCheckRequest *in,
                  Grpc__Health__V1__HealthCheckResponse_Closure done,
                  void *closure_data) {
    ww_rpc_health_t *h = (ww_rpc_health_t *)service;
    pthread_mutex_lock(&h->mu);
    ww_rpc_health_entry_t *e = find(h, in->service);
    ww_rpc_health_status_t st = e ? e->status : WW_RPC_HEALTH_UNKNOWN;
    pthread_mutex_unlock(&h->mu);
    if (!e) {
        ww_rpc_call_fail(closure_data, WW_ERR_NOT_FOUND, "unknown service %s",
                         in->service);
        return;
    }
    Grpc__Health__V1__HealthCheckResponse resp =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)st;
    done(&resp, closure_data);
}

/* The client left: forget the watch and end the call. */
static void watch_cancelled(void *arg, ww_rpc_call_t *call) {
    ww_rpc_health_t *h = arg;
    pthread_mutex_lock(&h->mu);
    ww_rpc_health_watch_t *w = watch_unlink(h, call);
    pthread_mutex_unlock(&h->mu);
    if (!w) return; /* shutdown ended it already */
    free(w);
    ww_rpc_call_fail(call, WW_ERR_CANCELLED, "watch cancelled");
}

static void watch(Grpc__Health__V1__Health_Service *service,
                  const Grpc__Health__V1__HealthCheckRequest *in,
                  Grpc__Health__V1__HealthCheckResponse_Closure done,
                  void *closure_data) {
    (void)done; /* a stream ends with ww_rpc_call_fail(WW_OK or an error) */
    ww_rpc_health_t *h = (ww_rpc_health_t *)service;
    ww_rpc_call_t *call = closure_data;
    size_t len = strlen(in->service);
    char peer[256];
    ww_rpc_call_peer(call, peer, sizeof peer);
    ww_rpc_health_watch_t *w = malloc(sizeof *w + len + 1);
    if (!w) {
        ww_rpc_call_fail(call, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    w->call = call;
    memcpy(w->name, in->service, len + 1);
    pthread_mutex_lock(&h->mu);
    ww_rpc_health_entry_t *e = find(h, in->service);
    Grpc__Health__V1__HealthCheckResponse__ServingStatus st =
        e ? (Grpc__Health__V1__HealthCheckResponse__ServingStatus)e->status
          : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    if (h->shut_down) {
        send_status(call, st);
        pthread_mutex_unlock(&h->mu);
        free(w);
        ww_rpc_call_fail(call, WW_ERR_UNAVAILABLE, "server shutting down");
        return;
    }
    /* Watch needs no token: bound what one connection, and everyone
     * together, can hold open. Refused before anything is sent. */
    ww_rpc_health_conn_t *c = conn_find(h, peer, false);
    int on_conn = c ? c->watches : 0;
    if (h->n_watches >= h->max_total || on_conn >= h->max_per_conn) {
        bool total = h->n_watches >= h->max_total;
        int limit = total ? h->max_total : h->max_per_conn;
        pthread_mutex_unlock(&h->mu);
        free(w);
        ww_rpc_call_fail(call, WW_ERR_RESOURCE_EXHAUSTED,
                         "too many Health.Watch streams %s (limit %d): close "
                         "one, or use Health.Check",
                         total ? "on this server" : "on this connection",
                         limit);
        return;
    }
    w->conn = c ? c : conn_find(h, peer, true);
    if (!w->conn) {
        pthread_mutex_unlock(&h->mu);
        free(w);
        ww_rpc_call_fail(call, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    send_status(call, st);
    watch_link(h, w);
    pthread_mutex_unlock(&h->mu);
    ww_rpc_call_on_cancel(call, watch_cancelled, h);
}

ww_rpc_health_t *ww_rpc_health_new(void) {
    ww_rpc_health_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    Grpc__Health__V1__Health_Service init = GRPC__HEALTH__V1__HEALTH__INIT();
    h->service = init;
    h->max_per_conn = WW_RPC_HEALTH_DEFAULT_WATCHES_PER_CONN;
    h->max_total = WW_RPC_HEALTH_DEFAULT_WATCHES;
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

ww_code_t ww_rpc_health_set(ww_rpc_health_t *h, const char *service,
                            ww_rpc_health_status_t status, ww_err_t *err) {
    pthread_mutex_lock(&h->mu);
    if (h->shut_down) { /* stays NOT_SERVING */
        pthread_mutex_unlock(&h->mu);
        return WW_OK;
    }
    ww_rpc_health_entry_t *e = find(h, service);
    if (!e) {
        size_t len = strlen(service);
        e = malloc(sizeof *e + len + 1);
        if (!e) {
            pthread_mutex_unlock(&h->mu);
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        }
        memcpy(e->name, service, len + 1);
        e->next = h->entries;
        h->entries = e;
    } else if (e->status == status) {
        pthread_mutex_unlock(&h->mu);
        return WW_OK;
    }
    e->status = status;
    for (ww_rpc_health_watch_t *w = h->watches; w; w = w->next)
        if (strcmp(w->name, service) == 0)
            send_status(
                w->call,
                (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status);
    pthread_mutex_unlock(&h->mu);
    return WW_OK;
}

ww_rpc_health_status_t ww_rpc_health_get(ww_rpc_health_t *h,
                                         const char *service) {
    pthread_mutex_lock(&h->mu);
    ww_rpc_health_entry_t *e = find(h, service);
    ww_rpc_health_status_t st = e ? e->status : WW_RPC_HEALTH_UNKNOWN;
    pthread_mutex_unlock(&h->mu);
    return st;
}

ProtobufCService *ww_rpc_health_service(ww_rpc_health_t *h) {
    return &h->service.base;
}

void ww_rpc_health_shutdown(ww_rpc_health_t *h) {
    pthread_mutex_lock(&h->mu);
    h->shut_down = true;
    for (ww_rpc_health_entry_t *e = h->entries; e; e = e->next)
        e->status = WW_RPC_HEALTH_NOT_SERVING;
    pthread_mutex_unlock(&h->mu);
    /* One at a time: a cancel racing with this finds its watch gone (the
     * table says so) and leaves the call to us. */
    for (;;) {
        pthread_mutex_lock(&h->mu);
        ww_rpc_health_watch_t *w =
            h->watches ? watch_unlink(h, h->watches->call) : NULL;
        pthread_mutex_unlock(&h->mu);
        if (!w) break;
        send_status(
            w->call,
            GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
        ww_rpc_call_fail(w->call, WW_ERR_UNAVAILABLE, "server shutting down");
        free(w);
    }
}

void ww_rpc_health_set_watch_limits(ww_rpc_health_t *h, int per_connection,
                                    int total) {
    pthread_mutex_lock(&h->mu);
    h->max_per_conn = per_connection > 0
                          ? per_connection
                          : WW_RPC_HEALTH_DEFAULT_WATCHES_PER_CONN;
    h->max_total = total > 0 ? total : WW_RPC_HEALTH_DEFAULT_WATCHES;
    pthread_mutex_unlock(&h->mu);
}

int ww_rpc_health_watch_count(ww_rpc_health_t *h) {
    pthread_mutex_lock(&h->mu);
    int n = h->n_watches;
    pthread_mutex_unlock(&h->mu);
    return n;
}

void ww_rpc_health_destroy(ww_rpc_health_t *h) {
    if (!h) return;
    while (h->entries) {
        ww_rpc_health_entry_t *e = h->entries;
        h->entries = e->next;
        free(e);
    }
    while (h->watches) { /* only if the server never shut down */
        ww_rpc_health_watch_t *w = watch_unlink(h, h->watches->call);
        free(w);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}
