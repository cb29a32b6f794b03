/* ww_bus_registry.c - the event types a program knows, by ce_type. */
#include "ww_bus_registry.h"

#include <stdlib.h>
#include <string.h>

/* A sorted array: programs register tens of types, lookups happen per
 * record. */
struct ww_bus_registry {
    const ProtobufCMessageDescriptor **items; /* sorted by name */
    size_t n, cap;
};

ww_bus_registry_t *ww_bus_registry_new(void) {
    return calloc(1, sizeof(ww_bus_registry_t));
}

void ww_bus_registry_destroy(ww_bus_registry_t *reg) {
    if (!reg) return;
    free(reg->items);
    free(reg);
}

/* Index of the first item whose name is >= type. */
static size_t lower_bound(const ww_bus_registry_t *reg, const char *type) {
    size_t lo = 0, hi = reg->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(reg->items[mid]->name, type) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

ww_code_t ww_bus_registry_add(ww_bus_registry_t *reg,
                              const ProtobufCMessageDescriptor *desc,
                              ww_err_t *err) {
    if (!desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC ||
        !desc->name)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "not a protobuf-c message descriptor");
    size_t at = lower_bound(reg, desc->name);
    if (at < reg->n && !strcmp(reg->items[at]->name, desc->name)) {
        if (reg->items[at] == desc) return WW_OK;
        return ww_err_set(err, WW_ERR_ALREADY_EXISTS,
                          "event type %s registered twice with different "
                          "descriptors", desc->name);
    }
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        const ProtobufCMessageDescriptor **items =
            realloc(reg->items, cap * sizeof *items);
        if (!items)
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        reg->items = items;
        reg->cap = cap;
    }
    memmove(reg->items + at + 1, reg->items + at,
            (reg->n - at) * sizeof *reg->items);
    reg->items[at] = desc;
    reg->n++;
    return WW_OK;
}

ww_code_t ww_bus_registry_add_all(ww_bus_registry_t *reg,
                                  const ProtobufCMessageDescriptor *const *descs,
                                  size_t count, ww_err_t *err) {
    for (size_t i = 0; i < count; i++) {
        ww_code_t rc = ww_bus_registry_add(reg, descs[i], err);
        if (rc) return rc;
    }
    return WW_OK;
}

const ProtobufCMessageDescriptor *
ww_bus_registry_find(const ww_bus_registry_t *reg, const char *type) {
    if (!type) return NULL;
    size_t at = lower_bound(reg, type);
    if (at < reg->n && !strcmp(reg->items[at]->name, type))
        return reg->items[at];
    return NULL;
}

size_t ww_bus_registry_count(const ww_bus_registry_t *reg) { return reg->n; }
