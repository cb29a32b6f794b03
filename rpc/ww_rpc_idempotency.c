/* Idempotency-key results: a chained hash table for lookups, one list in
 * age order (expiry) and one per identity (its quota). */
#include "ww_rpc_idempotency.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIGEST_SIZE 32

typedef struct owner owner_t;

typedef struct entry {
    struct entry *next;                /* hash chain */
    struct entry *age_prev, *age_next; /* all entries, oldest first */
    struct entry *own_prev, *own_next; /* the owner's, oldest first */
    owner_t *owner;
    char *key; /* method \n identity \n key */
    unsigned char digest[DIGEST_SIZE];
    int64_t born_ms;
    grpc_status_code code;
    char *details;
    grpc_byte_buffer *response;
} entry_t;

struct owner {
    owner_t *next; /* hash chain */
    char *identity;
    size_t count;
    entry_t *head, *tail;
};

struct ww_rpc_idempotency {
    pthread_mutex_t mu;
    ww_rpc_idempotency_opts_t o;
    size_t count;
    entry_t **buckets; /* capacity chains */
    owner_t **owners;  /* capacity chains */
    entry_t *age_head, *age_tail;
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

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static void entry_free(entry_t *e) {
    if (!e) return;
    if (e->response) grpc_byte_buffer_destroy(e->response);
    free(e->key);
    free(e->details);
    free(e);
}

static owner_t **owner_slot(ww_rpc_idempotency_t *c, const char *identity) {
    owner_t **pp = &c->owners[hash_str(identity) % c->o.capacity];
    while (*pp && strcmp((*pp)->identity, identity))
        pp = &(*pp)->next;
    return pp;
}

static entry_t *find_entry(ww_rpc_idempotency_t *c, const char *key) {
    entry_t *e = c->buckets[hash_str(key) % c->o.capacity];
    while (e && strcmp(e->key, key))
        e = e->next;
    return e;
}

/* Unlinks `e` from the table, its lists and its owner (mu held); the
 * caller frees it, outside the lock when it can. */
static void unlink_entry(ww_rpc_idempotency_t *c, entry_t *e) {
    entry_t **pp = &c->buckets[hash_str(e->key) % c->o.capacity];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    if (e->age_prev)
        e->age_prev->age_next = e->age_next;
    else
        c->age_head = e->age_next;
    if (e->age_next)
        e->age_next->age_prev = e->age_prev;
    else
        c->age_tail = e->age_prev;
    owner_t *o = e->owner;
    if (e->own_prev)
        e->own_prev->own_next = e->own_next;
    else
        o->head = e->own_next;
    if (e->own_next)
        e->own_next->own_prev = e->own_prev;
    else
        o->tail = e->own_prev;
    c->count--;
    if (--o->count == 0) {
        owner_t **op = owner_slot(c, o->identity);
        *op = o->next;
        free(o->identity);
        free(o);
    }
}

static bool expired(const ww_rpc_idempotency_t *c, const entry_t *e,
                    int64_t now) {
    return now - e->born_ms >= c->o.ttl_ms;
}

/* Drops expired entries, oldest first, onto *dead (mu held). */
static void expire(ww_rpc_idempotency_t *c, int64_t now, entry_t **dead) {
    while (c->age_head && expired(c, c->age_head, now)) {
        entry_t *e = c->age_head;
        unlink_entry(c, e);
        e->next = *dead;
        *dead = e;
    }
}

static void free_list(entry_t *e) {
    while (e) {
        entry_t *next = e->next;
        entry_free(e);
        e = next;
    }
}

ww_code_t ww_rpc_idempotency_new(const ww_rpc_idempotency_opts_t *opts,
                                 ww_rpc_idempotency_t **out, ww_err_t *err) {
    *out = NULL;
    if (opts->capacity == 0)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "idempotency cache: capacity must be above 0");
    ww_rpc_idempotency_t *c = calloc(1, sizeof *c);
    if (c) {
        c->o = *opts;
        c->buckets = calloc(opts->capacity, sizeof *c->buckets);
        c->owners = calloc(opts->capacity, sizeof *c->owners);
    }
    if (!c || !c->buckets || !c->owners) {
        if (c) {
            free(c->buckets);
            free(c->owners);
        }
        free(c);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!c->o.per_identity)
        c->o.per_identity = c->o.capacity / 8 ? c->o.capacity / 8 : 1;
    if (c->o.per_identity > c->o.capacity) c->o.per_identity = c->o.capacity;
    if (c->o.ttl_ms <= 0) c->o.ttl_ms = WW_RPC_IDEMPOTENCY_DEFAULT_TTL_MS;
    if (!c->o.now_ms) c->o.now_ms = mono_ms;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return WW_OK;
}

void ww_rpc_idempotency_destroy(ww_rpc_idempotency_t *c) {
    if (!c) return;
    entry_t *dead = NULL;
    while (c->age_head) {
        entry_t *e = c->age_head;
        unlink_entry(c, e);
        e->next = dead;
        dead = e;
    }
    free_list(dead);
    free(c->owners);
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

ww_rpc_idempotency_verdict_t
ww_rpc_idempotency_find(ww_rpc_idempotency_t *c,
                        const ww_rpc_idempotency_key_t *key,
                        ww_rpc_idempotency_result_t *out) {
    char joined[KEY_SIZE];
    join_key(joined, key);
    entry_t *dead = NULL;
    ww_rpc_idempotency_verdict_t v = WW_RPC_IDEMPOTENCY_MISS;
    pthread_mutex_lock(&c->mu);
    expire(c, c->o.now_ms(), &dead);
    entry_t *e = find_entry(c, joined);
    if (e && memcmp(e->digest, key->digest, DIGEST_SIZE)) {
        v = WW_RPC_IDEMPOTENCY_CONFLICT;
    } else if (e) {
        v = WW_RPC_IDEMPOTENCY_HIT;
        out->response = e->response ? grpc_byte_buffer_copy(e->response) : NULL;
        out->code = e->code;
        snprintf(out->details, sizeof out->details, "%s", e->details);
    }
    pthread_mutex_unlock(&c->mu);
    free_list(dead);
    return v;
}

/* The entry to make room with once the whole cache is full: the oldest of
 * the identity holding the most (mu held). */
static entry_t *victim_of_largest(ww_rpc_idempotency_t *c) {
    owner_t *big = NULL;
    for (size_t i = 0; i < c->o.capacity; i++)
        for (owner_t *o = c->owners[i]; o; o = o->next)
            if (!big || o->count > big->count) big = o;
    return big ? big->head : NULL;
}

/* Links `e` in as the newest entry of `identity` (mu held); false when no
 * owner could be allocated. */
static bool link_entry(ww_rpc_idempotency_t *c, entry_t *e,
                       const char *identity) {
    owner_t **op = owner_slot(c, identity), *o = *op;
    if (!o) {
        o = calloc(1, sizeof *o);
        if (!o || !(o->identity = strdup(identity))) {
            free(o);
            return false;
        }
        *op = o;
    }
    e->owner = o;
    e->own_prev = o->tail;
    if (o->tail)
        o->tail->own_next = e;
    else
        o->head = e;
    o->tail = e;
    o->count++;
    e->age_prev = c->age_tail;
    if (c->age_tail)
        c->age_tail->age_next = e;
    else
        c->age_head = e;
    c->age_tail = e;
    size_t b = hash_str(e->key) % c->o.capacity;
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->count++;
    return true;
}

void ww_rpc_idempotency_remember(ww_rpc_idempotency_t *c,
                                 const ww_rpc_idempotency_key_t *key,
                                 grpc_status_code code, const char *details,
                                 grpc_byte_buffer *response) {
    if (!cacheable(code)) return;
    char joined[KEY_SIZE];
    join_key(joined, key);
    entry_t *e = calloc(1, sizeof *e);
    if (!e) return;
    e->key = strdup(joined);
    e->details = strdup(details ? details : "");
    e->code = code;
    memcpy(e->digest, key->digest, DIGEST_SIZE);
    if (!e->key || !e->details) {
        entry_free(e);
        return;
    }
    /* Copied before the lock: lookups on other threads need not wait. */
    if (response) e->response = grpc_byte_buffer_copy(response);
    entry_t *dead = NULL;
    pthread_mutex_lock(&c->mu);
    int64_t now = c->o.now_ms();
    e->born_ms = now;
    expire(c, now, &dead);
    if (find_entry(c, joined)) {
        e->next = dead; /* the first result wins */
        dead = e;
        e = NULL;
    } else {
        owner_t *o = *owner_slot(c, key->identity);
        entry_t *old = o && o->count >= c->o.per_identity ? o->head
                       : c->count >= c->o.capacity        ? victim_of_largest(c)
                                                          : NULL;
        if (old) {
            unlink_entry(c, old);
            old->next = dead;
            dead = old;
        }
        if (!link_entry(c, e, key->identity)) {
            e->next = dead;
            dead = e;
        }
    }
    pthread_mutex_unlock(&c->mu);
    free_list(dead); /* outside the lock: they may hold large responses */
}

size_t ww_rpc_idempotency_count(ww_rpc_idempotency_t *c, const char *identity) {
    pthread_mutex_lock(&c->mu);
    size_t n = c->count;
    if (identity) {
        owner_t *o = *owner_slot(c, identity);
        n = o ? o->count : 0;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}
