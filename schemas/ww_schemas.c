/* ww_schemas.c - type lists per topic family (see schemas/README.md). */
#include "ww_schemas.h"

#define LIST(fn, ...)                                                        \
    const ProtobufCMessageDescriptor *const *fn(size_t *n) {                 \
        static const ProtobufCMessageDescriptor *const list[] = {__VA_ARGS__}; \
        *n = sizeof list / sizeof list[0];                                   \
        return list;                                                         \
    }

LIST(ww_schemas_trainer_events,
     &wildworkouts__events__v1__hour_availability_changed__descriptor,
     &wildworkouts__events__v1__training_scheduled__descriptor,
     &wildworkouts__events__v1__training_confirmed__descriptor,
     &wildworkouts__events__v1__training_canceled__descriptor,
     &wildworkouts__events__v1__training_released__descriptor)

LIST(ww_schemas_users_events,
     &wildworkouts__events__v1__training_balance_changed__descriptor,
     &wildworkouts__events__v1__training_balance_rejected__descriptor)

LIST(ww_schemas_trainer_commands,
     &wildworkouts__events__v1__change_hour_command__descriptor,
     &wildworkouts__events__v1__schedule_training_command__descriptor,
     &wildworkouts__events__v1__cancel_training_command__descriptor,
     &wildworkouts__events__v1__settle_training_command__descriptor)

LIST(ww_schemas_users_commands,
     &wildworkouts__events__v1__change_balance_command__descriptor,
     &wildworkouts__events__v1__debit_training_command__descriptor,
     &wildworkouts__events__v1__refund_training_command__descriptor)

LIST(ww_schemas_replies, &wildworkouts__events__v1__command_result__descriptor)

LIST(ww_schemas_snapshots,
     &wildworkouts__events__v1__state_snapshot__descriptor)
