/*
 * ww_bus_registry.h - the set of event types a program understands: maps a
 * CloudEvents `ce_type` (the payload's full protobuf name, e.g.
 * "wildworkouts.events.v1.TrainingScheduled") to its protobuf-c descriptor.
 *
 * Decoding a record whose type is not registered is an error (the record
 * goes to the DLQ), so every consumer registers exactly what it handles.
 *
 * Ownership: descriptors are static data of generated code and are only
 * referenced. Thread safety: add on one thread before sharing; after that,
 * concurrent ww_bus_registry_find calls are safe.
 */
#ifndef WW_BUS_REGISTRY_H
#define WW_BUS_REGISTRY_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "ww_err.h"

typedef struct ww_bus_registry ww_bus_registry_t;

/* NULL only on allocation failure. Caller owns the result. */
ww_bus_registry_t *ww_bus_registry_new(void);
void ww_bus_registry_destroy(ww_bus_registry_t *reg);

/* Registers one message type. Adding the same descriptor twice is a no-op;
 * another descriptor under the same name is ALREADY_EXISTS. */
ww_code_t ww_bus_registry_add(ww_bus_registry_t *reg,
                              const ProtobufCMessageDescriptor *desc,
                              ww_err_t *err);

/* Registers every message type of a generated file (its descriptors array,
 * e.g. from the schemas library's ww_schemas_* helpers), count entries. */
ww_code_t ww_bus_registry_add_all(ww_bus_registry_t *reg,
                                  const ProtobufCMessageDescriptor *const *descs,
                                  size_t count, ww_err_t *err);

/* The descriptor registered under `type`, or NULL. */
const ProtobufCMessageDescriptor *
ww_bus_registry_find(const ww_bus_registry_t *reg, const char *type);

size_t ww_bus_registry_count(const ww_bus_registry_t *reg);

#endif
