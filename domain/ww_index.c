/* ww_index.c - open addressing with linear probing over (tag, id) slots. */
#include "ww_index.h"

#include <stdlib.h>
#include <string.h>

/* Mixes all 64 bits so nearby keys (consecutive hours) spread out. */
static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

uint64_t ww_index_hash_str(const char *s) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return mix64(h);
}

uint64_t ww_index_hash_i64(int64_t k) { return mix64((uint64_t)k); }

void ww_index_init(ww_index_t *ix) { memset(ix, 0, sizeof *ix); }

void ww_index_destroy(ww_index_t *ix) {
    free(ix->slots);
    ww_index_init(ix);
}

ww_code_t ww_index_clone(ww_index_t *dst, const ww_index_t *src,
                         ww_err_t *err) {
    ww_index_init(dst);
    if (src->cap == 0) return WW_OK;
    dst->slots = malloc(src->cap * sizeof *dst->slots);
    if (!dst->slots)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(dst->slots, src->slots, src->cap * sizeof *dst->slots);
    dst->cap = src->cap;
    dst->count = src->count;
    return WW_OK;
}

static uint32_t tag_of(uint64_t hash) { return (uint32_t)(hash >> 32); }

int64_t ww_index_find(const ww_index_t *ix, uint64_t hash, const void *key,
                      ww_index_eq_fn eq, const void *ctx) {
    if (ix->cap == 0) return -1;
    uint32_t tag = tag_of(hash);
    size_t mask = ix->cap - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
        uint64_t slot = ix->slots[i];
        if (slot == 0) return -1;
        if ((uint32_t)(slot >> 32) == tag) {
            uint32_t id = (uint32_t)slot - 1;
            if (eq(ctx, id, key)) return id;
        }
    }
}

static void place(uint64_t *slots, size_t cap, uint64_t slot) {
    size_t mask = cap - 1;
    size_t i = (size_t)(slot >> 32) & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = slot;
}

ww_code_t ww_index_insert(ww_index_t *ix, uint64_t hash, uint32_t id,
                          ww_err_t *err) {
    if (id == UINT32_MAX)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "index is full");
    /* Grow at 70% load: linear probing stays short below that. */
    if ((ix->count + 1) * 10 > ix->cap * 7) {
        size_t cap = ix->cap ? ix->cap * 2 : 16;
        uint64_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slots[i]) place(slots, cap, ix->slots[i]);
        free(ix->slots);
        ix->slots = slots;
        ix->cap = cap;
    }
    place(ix->slots, ix->cap, ((uint64_t)tag_of(hash) << 32) | (id + 1u));
    ix->count++;
    return WW_OK;
}

bool ww_index_remove(ww_index_t *ix, uint64_t hash, uint32_t id) {
    if (ix->cap == 0) return false;
    size_t mask = ix->cap - 1;
    uint64_t want = ((uint64_t)tag_of(hash) << 32) | (id + 1u);
    size_t i = tag_of(hash) & mask;
    while (ix->slots[i] != want) {
        if (ix->slots[i] == 0) return false;
        i = (i + 1) & mask;
    }
    /* Pull later entries of the same run back over the hole unless their
     * home slot lies cyclically in (hole, j]: they would then be found
     * before the hole anyway. */
    for (size_t j = (i + 1) & mask; ix->slots[j] != 0; j = (j + 1) & mask) {
        size_t home = (size_t)(ix->slots[j] >> 32) & mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        ix->slots[i] = ix->slots[j];
        i = j;
    }
    ix->slots[i] = 0;
    ix->count--;
    return true;
}
