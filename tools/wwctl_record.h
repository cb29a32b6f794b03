/*
 * wwctl_record.h - one Kafka record as one JSON object, the line wwctl's
 * readers (tail, dlq list) print:
 *
 *   topic, partition, offset   where it is
 *   timestamp                  the record's, RFC 3339 (null when none)
 *   key                        text; null when the record has none;
 *                              key_base64 instead when it is not UTF-8
 *   headers                    {name: value}: every header as sent, the
 *                              ce_* ones and any other; a name sent twice
 *                              has an array of its values; a value that is
 *                              not UTF-8 is {"base64": ...}, none is null
 *   type                       ce_type, when the record has one
 *   payload                    the value decoded by ce_type (the CloudEvents
 *                              envelope checked as consumers check it), in
 *                              the proto3 JSON mapping (wwctl_pbjson)
 * A record that does not decode has, instead of payload:
 *   error                      why (the envelope's or the mapping's reason)
 *   value_base64               its value as it is (null when it has none)
 * A redrive marker on a dead-letter topic (ww_bus_redrive.h) has
 *   marker: "redrive" and no payload or error.
 * Our own field names are snake_case; the payload's are the mapping's
 * lowerCamelCase.
 *
 * Ownership: results are new references; inputs are borrowed. Thread
 * safety: reentrant (the registry is only read).
 */
#ifndef WWCTL_RECORD_H
#define WWCTL_RECORD_H

#include "ww_bus_registry.h"
#include "ww_err.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* A record, however it was read (a consumed message, a scanned dead
 * letter). Every pointer is borrowed. */
typedef struct wwctl_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1: none */
    const void *key;      /* NULL: no key */
    size_t key_len;
    const void *value; /* NULL: no value */
    size_t len;
    const rd_kafka_headers_t *headers; /* NULL: none */
} wwctl_record_t;

/* The fields of a consumed message (valid while the message is). */
wwctl_record_t wwctl_record_of(const rd_kafka_message_t *m);

/* The JSON object of `rec` as above, decoding with `reg`. NULL only when
 * memory runs out. */
json_t *wwctl_record_json(const wwctl_record_t *rec,
                          const ww_bus_registry_t *reg);

/* Every type schemas/ holds: the events, commands and replies of both
 * services. NULL with err set on failure; the caller destroys it. */
ww_bus_registry_t *wwctl_record_registry(ww_err_t *err);

/* The full name of the schema type `name` stands for: a full name
 * ("wildworkouts.events.v1.TrainingScheduled") or its last part
 * ("TrainingScheduled"), as registered in `reg`; NULL when none. */
const char *wwctl_record_type_name(const ww_bus_registry_t *reg,
                                   const char *name);

/* The short names of every schema type, comma-separated, into buf (for
 * messages listing what is known). */
void wwctl_record_type_list(char *buf, size_t size);

/* Text that may not be UTF-8 (a reason quoting a header) as a JSON
 * string: as it is when it is UTF-8, else with every byte above 0x7f as
 * '?' (cut at 511 bytes). NULL only when memory runs out. */
json_t *wwctl_record_text(const char *s);

/* The last value of header `name` as text into buf ("" when absent; cut
 * to size - 1). */
void wwctl_record_header(const rd_kafka_headers_t *h, const char *name,
                         char *buf, size_t size);

#endif
