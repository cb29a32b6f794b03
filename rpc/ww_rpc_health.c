/* grpc.health.v1.Health over the runtime: Check is a plain unary handler,
 * Watch keeps its call open and pushes every change with
 * ww_rpc_call_stream_send. Lock order: health->mu, then a call's. */
#include "ww_rpc_health.h"

#include "health.pb-c.h"
#include "ww_rpc_call.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct ww_rpc_health_entry {
    struct ww_rpc_health_entry *next;
    ww_rpc_health_status_t status;
    char name[];
} ww_rpc_health_entry_t;

typedef struct ww_rpc_health_watch {
    struct ww_rpc_health_watch *next;
    ww_rpc_call_t *call;
    char name[];
} ww_rpc_health_watch_t;

struct ww_rpc_health {
    Grpc__Health__V1__Health_Service service; /* first: handlers cast back */
    pthread_mutex_t mu;
    ww_rpc_health_entry_t *entries;
    ww_rpc_health_watch_t *watches;
    bool shut_down;
};

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
    bool found = false;
    pthread_mutex_lock(&h->mu);
    for (ww_rpc_health_watch_t **pp = &h->watches; *pp; pp = &(*pp)->next) {
        if ((*pp)->call == call) {
            ww_rpc_health_watch_t *w = *pp;
            *pp = w->next;
            free(w);
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&h->mu);
    if (found) ww_rpc_call_fail(call, WW_ERR_CANCELLED, "watch cancelled");
}

static void watch(Grpc__Health__V1__Health_Service *service,
                  const Grpc__Health__V1__HealthCheckRequest *in,
                  Grpc__Health__V1__HealthCheckResponse_Closure done,
                  void *closure_data) {
    (void)done; /* a stream ends with ww_rpc_call_fail(WW_OK or an error) */
    ww_rpc_health_t *h = (ww_rpc_health_t *)service;
    ww_rpc_call_t *call = closure_data;
    size_t len = strlen(in->service);
    ww_rpc_health_watch_t *w = malloc(sizeof *w + len + 1);
    if (!w) {
        ww_rpc_call_fail(call, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    w->call = call;
    memcpy(w->name, in->service, len + 1);
    pthread_mutex_lock(&h->mu);
    ww_rpc_health_entry_t *e = find(h, in->service);
    send_status(
        call,
        e ? (Grpc__Health__V1__HealthCheckResponse__ServingStatus)e->status
          : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN);
    if (h->shut_down) {
        pthread_mutex_unlock(&h->mu);
        free(w);
        ww_rpc_call_fail(call, WW_ERR_UNAVAILABLE, "server shutting down");
        return;
    }
    w->next = h->watches;
    h->watches = w;
    pthread_mutex_unlock(&h->mu);
    ww_rpc_call_on_cancel(call, watch_cancelled, h);
}

ww_rpc_health_t *ww_rpc_health_new(void) {
    ww_rpc_health_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    Grpc__Health__V1__Health_Service init = GRPC__HEALTH__V1__HEALTH__INIT();
    h->service = init;
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
    ww_rpc_health_watch_t *w = h->watches;
    h->watches = NULL;
    pthread_mutex_unlock(&h->mu);
    while (w) {
        ww_rpc_health_watch_t *next = w->next;
        send_status(
            w->call,
            GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
        ww_rpc_call_fail(w->call, WW_ERR_UNAVAILABLE, "server shutting down");
        free(w);
        w = next;
    }
}

void ww_rpc_health_destroy(ww_rpc_health_t *h) {
    if (!h) return;
    while (h->entries) {
        ww_rpc_health_entry_t *e = h->entries;
        h->entries = e->next;
        free(e);
    }
    while (h->watches) { /* only if the server never shut down */
        ww_rpc_health_watch_t *w = h->watches;
        h->watches = w->next;
        free(w);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}
