/* Idempotency-key results: a chained hash table for lookups and a ring in
 * insertion order for eviction, both sized by the capacity. */
#include "ww_rpc_idempotency.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ww_rpc_idempotency_entry {
    struct ww_rpc_idempotency_entry *next; /* hash chain */
    char *key;
    grpc_status_code code;
    char *details;
    grpc_byte_buffer *response;
} ww_rpc_idempotency_entry_t;

struct ww_rpc_idempotency {
    pthread_mutex_t mu;
    size_t capacity;
    ww_rpc_idempotency_entry_t **buckets; /* capacity chains */
    ww_rpc_idempotency_entry_t **ring;    /* insertion order, for eviction */
    size_t next;                          /* the ring slot written next */
};

/* Method, identity and key joined by newlines, which none of them holds
 * (gRPC metadata values and paths cannot). 600 bytes fit the longest: a
 * 160-byte path, a 256-byte identity and a 128-character key. */
enum { KEY_SIZE = 600 };

static void join_key(char *buf, const ww_rpc_idempotency_key_t *k) {
    snprintf(buf, KEY_SIZE, "%s\n%s\n%s", k->method, k->identity, k->key);
}

static size_t hash_str(const char *s) {
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void entry_free(ww_rpc_idempotency_entry_t *e) {
    if (!e) return;
    if (e->response) grpc_byte_buffer_destroy(e->response);
    free(e->key);
    free(e->details);
    free(e);
}

/* Removes `e` from its bucket chain (mu held). */
static void unlink_entry(ww_rpc_idempotency_t *c,
                         ww_rpc_idempotency_entry_t *e) {
    ww_rpc_idempotency_entry_t **pp =
        &c->buckets[hash_str(e->key) % c->capacity];
    for (; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            return;
        }
    }
}

static ww_rpc_idempotency_entry_t *find_entry(ww_rpc_idempotency_t *c,
                                              const char *key) {
    ww_rpc_idempotency_entry_t *e = c->buckets[hash_str(key) % c->capacity];
    for (; e; e = e->next)
        if (strcmp(e->key, key) == 0) return e;
    return NULL;
}

/* Transient outcomes are not remembered: a retry must really retry. */
static bool cacheable(grpc_status_code code) {
    switch (code) {
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_CANCELLED:
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
    case GRPC_STATUS_UNAUTHENTICATED:
    case GRPC_STATUS_UNKNOWN:
        return false;
    default:
        return true;
    }
}

ww_code_t ww_rpc_idempotency_new(size_t capacity, ww_rpc_idempotency_t **out,
                                 ww_err_t *err) {
    *out = NULL;
    if (capacity == 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "idempotency cache: capacity must be above 0");
    ww_rpc_idempotency_t *c = calloc(1, sizeof *c);
    if (c) {
        c->buckets = calloc(capacity, sizeof *c->buckets);
        c->ring = calloc(capacity, sizeof *c->ring);
    }
    if (!c || !c->buckets || !c->ring) {
        if (c) {
            free(c->buckets);
            free(c->ring);
        }
        free(c);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    c->capacity = capacity;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return WW_OK;
}

void ww_rpc_idempotency_destroy(ww_rpc_idempotency_t *c) {
    if (!c) return;
    for (size_t i = 0; i < c->capacity; i++)
        entry_free(c->ring[i]);
    free(c->ring);
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

bool ww_rpc_idempotency_find(ww_rpc_idempotency_t *c,
                             const ww_rpc_idempotency_key_t *key,
                             ww_rpc_idempotency_result_t *out) {
    char joined[KEY_SIZE];
    join_key(joined, key);
    pthread_mutex_lock(&c->mu);
    ww_rpc_idempotency_entry_t *e = find_entry(c, joined);
    if (e) {
        out->response = e->response ? grpc_byte_buffer_copy(e->response) : NULL;
        out->code = e->code;
        snprintf(out->details, sizeof out->details, "%s", e->details);
    }
    pthread_mutex_unlock(&c->mu);
    return e != NULL;
}

void ww_rpc_idempotency_remember(ww_rpc_idempotency_t *c,
                                 const ww_rpc_idempotency_key_t *key,
                                 grpc_status_code code, const char *details,
                                 grpc_byte_buffer *response) {
    if (!cacheable(code)) return;
    char joined[KEY_SIZE];
    join_key(joined, key);
    ww_rpc_idempotency_entry_t *e = calloc(1, sizeof *e);
    if (!e) return;
    e->key = strdup(joined);
    e->details = strdup(details ? details : "");
    e->code = code;
    if (!e->key || !e->details) {
        entry_free(e);
        return;
    }
    /* Copied before the lock: lookups on other threads need not wait. */
    if (response) e->response = grpc_byte_buffer_copy(response);
    pthread_mutex_lock(&c->mu);
    if (find_entry(c, joined)) {
        pthread_mutex_unlock(&c->mu);
        entry_free(e);
        return;
    }
    ww_rpc_idempotency_entry_t *old = c->ring[c->next];
    if (old) unlink_entry(c, old);
    c->ring[c->next] = e;
    c->next = (c->next + 1) % c->capacity;
    size_t b = hash_str(joined) % c->capacity;
    e->next = c->buckets[b];
    c->buckets[b] = e;
    pthread_mutex_unlock(&c->mu);
    entry_free(old); /* outside the lock: it may hold a large response */
}
