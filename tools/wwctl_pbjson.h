/*
 * wwctl_pbjson.h - protobuf-c messages as JSON values (jansson), by the
 * proto3 JSON mapping, found by walking the messages' descriptors (no
 * generated code per type):
 *
 *   field names   lowerCamelCase, protoc's json_name rule
 *                 ("balance_after" -> "balanceAfter")
 *   int64, uint64, sint64, fixed64, sfixed64   decimal strings
 *   other integers  numbers; float and double numbers, or "NaN",
 *                 "Infinity", "-Infinity"
 *   bool, string  as such; a string that is not UTF-8 is an error
 *   bytes         standard base64 with padding
 *   enums         the value's name; a number no value names: the number
 *   messages      objects, in field-number order; repeated fields arrays;
 *                 map fields objects keyed by the key as text
 *   oneof         the member that is set, even at its default
 *   presence      a field without presence (proto3's plain fields) is left
 *                 out at its default: 0, false, "", empty bytes, enum 0,
 *                 no elements; a message field when it is not set; proto2
 *                 optional fields by their has flag (protoc-c 1.4.1
 *                 generates no proto3 `optional`); required fields always
 *   google.protobuf.Timestamp  RFC 3339 in UTC with 0, 3, 6 or 9 fraction
 *                 digits (ww_rfc3339), years 0001..9999
 *   google.protobuf.Duration   "1.500s", "-0.000000001s"
 *   google.protobuf wrappers   (Int64Value, StringValue, ...) their value
 *   google.protobuf.Empty      {}
 * Not special-cased (printed as the plain messages they are): Any, Struct,
 * Value, ListValue, FieldMask. Unknown fields are left out.
 *
 * Errors are values: INVALID_ARGUMENT naming the field path
 * ("origin.issuedAt: ...") for what the mapping cannot express (a string
 * that is not UTF-8, a Timestamp outside its range), RESOURCE_EXHAUSTED
 * when jansson cannot allocate.
 *
 * Ownership: each function returns a new reference (json_decref it), or
 * NULL with err set; `msg` is only read. Thread safety: reentrant, no
 * state.
 */
#ifndef WWCTL_PBJSON_H
#define WWCTL_PBJSON_H

#include "ww_err.h"

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The JSON form of `msg`: an object, or for a well-known type its mapped
 * value (a Timestamp is a string). */
json_t *wwctl_pbjson_message(const ProtobufCMessage *msg, ww_err_t *err);

/* Bytes as the mapping writes them: a JSON string of standard base64 with
 * padding. NULL only when memory runs out. */
json_t *wwctl_pbjson_base64(const void *data, size_t len);

/* protoc's json_name of a field name into buf (size bytes; a name that
 * does not fit is cut). */
void wwctl_pbjson_field_name(const char *name, char *buf, size_t size);

#endif
