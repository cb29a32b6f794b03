/* ww_auth_cache.c - fixed-size set-associative cache of verified tokens. */
#include "ww_auth_cache.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

typedef struct cache_entry {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    int used;
    ww_auth_jwt_claims_t claims;
    uint64_t generation;
} cache_entry_t;

struct ww_auth_cache {
    pthread_mutex_t mu;
    size_t buckets;
    long leeway_s;
    size_t size;
    cache_entry_t *entries; /* buckets * WAYS */
};

ww_auth_cache_t *ww_auth_cache_new(size_t entries, long leeway_s) {
    ww_auth_cache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->buckets = entries < WAYS ? 1 : (entries + WAYS - 1) / WAYS;
    c->leeway_s = leeway_s;
    c->entries = calloc(c->buckets * WAYS, sizeof *c->entries);
    if (!c->entries) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void ww_auth_cache_destroy(ww_auth_cache_t *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c->entries);
    free(c);
}

static cache_entry_t *bucket_of(ww_auth_cache_t *c, const unsigned char *d) {
    uint64_t h;
    memcpy(&h, d, sizeof h);
    return &c->entries[(h % c->buckets) * WAYS];
}

int ww_auth_cache_lookup(ww_auth_cache_t *c, const char *token, size_t len,
                         int64_t now, ww_auth_jwt_claims_t *claims) {
    return ww_auth_cache_lookup_at(c, token, len, now, 0, claims);
}

int ww_auth_cache_lookup_at(ww_auth_cache_t *c, const char *token, size_t len,
                            int64_t now, uint64_t generation,
                            ww_auth_jwt_claims_t *claims) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, len, d);
    int hit = 0;
    pthread_mutex_lock(&c->mu);
    cache_entry_t *b = bucket_of(c, d);
    for (int i = 0; i < WAYS; i++) {
        if (!b[i].used || memcmp(b[i].digest, d, sizeof d) != 0) continue;
        if (b[i].claims.exp + c->leeway_s > now &&
            b[i].generation == generation) {
            *claims = b[i].claims;
            hit = 1;
        }
        break;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void ww_auth_cache_insert(ww_auth_cache_t *c, const char *token, size_t len,
                          const ww_auth_jwt_claims_t *claims) {
    ww_auth_cache_insert_at(c, token, len, 0, claims);
}

void ww_auth_cache_insert_at(ww_auth_cache_t *c, const char *token, size_t len,
                             uint64_t generation,
                             const ww_auth_jwt_claims_t *claims) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, len, d);
    pthread_mutex_lock(&c->mu);
    cache_entry_t *b = bucket_of(c, d), *victim = NULL;
    for (int i = 0; i < WAYS && !victim; i++)
        if (b[i].used && !memcmp(b[i].digest, d, sizeof d)) victim = &b[i];
    for (int i = 0; i < WAYS && !victim; i++)
        if (!b[i].used) victim = &b[i];
    if (!victim) {
        victim = &b[0];
        for (int i = 1; i < WAYS; i++)
            if (b[i].claims.exp < victim->claims.exp) victim = &b[i];
    }
    if (!victim->used) c->size++;
    memcpy(victim->digest, d, sizeof d);
    victim->used = 1;
    victim->claims = *claims;
    victim->generation = generation;
    pthread_mutex_unlock(&c->mu);
}

size_t ww_auth_cache_size(ww_auth_cache_t *c) {
    pthread_mutex_lock(&c->mu);
    size_t n = c->size;
    pthread_mutex_unlock(&c->mu);
    return n;
}
