/*
 * ww_schemas.h - the event and command types of schemas/, as lists a
 * ww_bus_registry_t takes (ww_bus_registry_add_all). Including this header
 * also brings in the generated message types.
 *
 * The arrays are static, read-only data: never freed, safe from any thread.
 */
#ifndef WW_SCHEMAS_H
#define WW_SCHEMAS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "wildworkouts/events/v1/commands.pb-c.h"
#include "wildworkouts/events/v1/common.pb-c.h"
#include "wildworkouts/events/v1/snapshots.pb-c.h"
#include "wildworkouts/events/v1/trainer_events.pb-c.h"
#include "wildworkouts/events/v1/users_events.pb-c.h"

/* Facts of trainer.events. */
const ProtobufCMessageDescriptor *const *ww_schemas_trainer_events(size_t *n);
/* Facts of users.events. */
const ProtobufCMessageDescriptor *const *ww_schemas_users_events(size_t *n);
/* Commands of trainer.commands. */
const ProtobufCMessageDescriptor *const *ww_schemas_trainer_commands(size_t *n);
/* Commands of users.commands. */
const ProtobufCMessageDescriptor *const *ww_schemas_users_commands(size_t *n);
/* What <svc>.replies carries (CommandResult). */
const ProtobufCMessageDescriptor *const *ww_schemas_replies(size_t *n);
/* What <svc>.snapshots carries (StateSnapshot). */
const ProtobufCMessageDescriptor *const *ww_schemas_snapshots(size_t *n);

#endif
