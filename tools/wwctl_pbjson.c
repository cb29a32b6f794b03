/* wwctl_pbjson.c - the proto3 JSON mapping over protobuf-c descriptors. */
#include "wwctl_pbjson.h"

#include "ww_rfc3339.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds of 0001-01-01T00:00:00Z, the first instant the mapping allows. */
#define TIMESTAMP_MIN_SECONDS INT64_C(-62135596800)
/* The Duration range the mapping allows: about 10,000 years. */
#define DURATION_MAX_SECONDS INT64_C(315576000000)

/* Where the walk is, for error messages: "origin.issuedAt". */
typedef struct walk {
    char path[256];
    ww_err_t *err;
} walk_t;

static json_t *message_json(const ProtobufCMessage *m, walk_t *w);

static json_t *fail(walk_t *w, ww_code_t code, const char *what) {
    if (w->path[0])
        ww_err_set(w->err, code, "%s: %s", w->path, what);
    else
        ww_err_set(w->err, code, "%s", what);
    return NULL;
}

static json_t *oom(walk_t *w) {
    return fail(w, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
}

void wwctl_pbjson_field_name(const char *name, char *buf, size_t size) {
    if (size == 0) return;
    size_t n = 0;
    bool upper = false;
    for (const char *c = name; *c && n + 1 < size; c++) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        buf[n++] = upper ? (char)toupper((unsigned char)*c) : *c;
        upper = false;
    }
    buf[n] = '\0';
}

json_t *wwctl_pbjson_base64(const void *data, size_t len) {
    if (len > (size_t)INT32_MAX / 2) return NULL;
    size_t out_len = 4 * ((len + 2) / 3) + 1;
    unsigned char *out = malloc(out_len);
    if (!out) return NULL;
    int n = EVP_EncodeBlock(out, data ? data : (const void *)"", (int)len);
    json_t *j = json_stringn((const char *)out, (size_t)n);
    free(out);
    return j;
}

/* Appends ".name" (just "name" at the top) to the path; returns the old
 * length for pop(). A path that does not fit is cut. */
static size_t push_name(walk_t *w, const char *name) {
    size_t len = strlen(w->path);
    size_t room = sizeof w->path - len;
    int n = snprintf(w->path + len, room, "%s%s", len ? "." : "", name);
    (void)n;
    return len;
}

/* Appends "[i]" to the path; returns the old length for pop(). */
static size_t push_index(walk_t *w, size_t i) {
    size_t len = strlen(w->path);
    int n = snprintf(w->path + len, sizeof w->path - len, "[%zu]", i);
    (void)n;
    return len;
}

static void pop(walk_t *w, size_t len) {
    w->path[len] = '\0';
}

static json_t *text(const char *s, size_t len, walk_t *w) {
    json_t *j = json_stringn(s ? s : "", s ? len : 0);
    if (!j) return fail(w, WW_ERR_INVALID_ARGUMENT, "string is not UTF-8");
    return j;
}

static json_t *decimal_i64(int64_t v, walk_t *w) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return text(buf, strlen(buf), w);
}

static json_t *decimal_u64(uint64_t v, walk_t *w) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return text(buf, strlen(buf), w);
}

static json_t *real(double v, walk_t *w) {
    const char *special = isnan(v)   ? "NaN"
                          : isinf(v) ? (v > 0 ? "Infinity" : "-Infinity")
                                     : NULL;
    json_t *j = special ? json_string(special) : json_real(v);
    return j ? j : oom(w);
}

/* One value of field `f` stored at `p` (an element, for repeated ones). */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p,
                          walk_t *w) {
    json_t *j = NULL;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        j = json_integer(*(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        j = json_integer(*(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return decimal_i64(*(const int64_t *)p, w);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return decimal_u64(*(const uint64_t *)p, w);
    case PROTOBUF_C_TYPE_FLOAT:
        return real(*(const float *)p, w);
    case PROTOBUF_C_TYPE_DOUBLE:
        return real(*(const double *)p, w);
    case PROTOBUF_C_TYPE_BOOL:
        j = json_boolean(*(const protobuf_c_boolean *)p);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        j = ev ? json_string(ev->name) : json_integer(v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return text(s, s ? strlen(s) : 0, w);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        j = wwctl_pbjson_base64(b->data, b->len);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        if (m) return message_json(m, w);
        j = json_object(); /* an unset element of a repeated field */
        break;
    }
    }
    return j ? j : oom(w);
}

/* Bytes of one element of a repeated field of type `t`. */
static size_t element_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* True when a field without presence holds its default. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p == NULL;
    default: { /* numbers by their bits: -0.0 is not the default */
        static const unsigned char zero[sizeof(double)];
        return memcmp(p, zero, element_size(f->type)) == 0;
    }
    }
}

/* Whether field `f` of message `m` is written, and if so where its value
 * (or, for repeated fields, its count) is. */
static bool present(const ProtobufCMessage *m,
                    const ProtobufCFieldDescriptor *f) {
    const char *base = (const char *)m;
    const void *p = base + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + f->quantifier_offset) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REQUIRED) return true;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            return *(ProtobufCMessage *const *)p != NULL;
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            const char *s = *(char *const *)p;
            return s && s != f->default_value;
        }
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    }
    return !is_default(f, p); /* PROTOBUF_C_LABEL_NONE */
}

/* A map field: protoc's "<FieldName>Entry" with key = 1 and value = 2. */
static bool is_map(const ProtobufCFieldDescriptor *f) {
    if (f->label != PROTOBUF_C_LABEL_REPEATED ||
        f->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    if (d->n_fields != 2 || d->fields[0].id != 1 || d->fields[1].id != 2 ||
        strcmp(d->fields[0].name, "key") != 0 ||
        strcmp(d->fields[1].name, "value") != 0)
        return false;
    char entry[160];
    wwctl_pbjson_field_name(f->name, entry, sizeof entry - 5);
    entry[0] = (char)toupper((unsigned char)entry[0]);
    strcat(entry, "Entry");
    return strcmp(d->short_name, entry) == 0;
}

/* A map key as object key text. */
static json_t *map_key(const ProtobufCFieldDescriptor *kf, const void *p,
                       walk_t *w) {
    if (kf->type == PROTOBUF_C_TYPE_BOOL)
        return json_string(*(const protobuf_c_boolean *)p ? "true" : "false");
    json_t *k = value_json(kf, p, w);
    if (!k || json_is_string(k)) return k;
    char buf[32];
    snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
    json_decref(k);
    return text(buf, strlen(buf), w);
}

static json_t *map_json(const ProtobufCFieldDescriptor *f, size_t n,
                        ProtobufCMessage *const *entries, walk_t *w) {
    const ProtobufCMessageDescriptor *d = f->descriptor;
    json_t *obj = json_object();
    if (!obj) return oom(w);
    for (size_t i = 0; i < n; i++) {
        const char *e = (const char *)entries[i];
        if (!e) continue;
        json_t *k = map_key(&d->fields[0], e + d->fields[0].offset, w);
        json_t *v =
            k ? value_json(&d->fields[1], e + d->fields[1].offset, w) : NULL;
        if (!v || json_object_set_new(obj, json_string_value(k), v) != 0) {
            json_decref(k);
            json_decref(obj);
            return v ? oom(w) : NULL;
        }
        json_decref(k);
    }
    return obj;
}

static json_t *repeated_json(const ProtobufCMessage *m,
                             const ProtobufCFieldDescriptor *f, walk_t *w) {
    const char *base = (const char *)m;
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *arr = *(char *const *)(base + f->offset);
    if (is_map(f)) return map_json(f, n, (ProtobufCMessage *const *)arr, w);
    json_t *a = json_array();
    if (!a) return oom(w);
    size_t size = element_size(f->type);
    for (size_t i = 0; i < n; i++) {
        size_t len = push_index(w, i);
        json_t *v = value_json(f, arr + i * size, w);
        pop(w, len);
        if (!v || json_array_append_new(a, v) != 0) {
            json_decref(a);
            return v ? oom(w) : NULL;
        }
    }
    return a;
}

/* ---------- well-known types ---------- */

/* The int64 (or int32) field `name` of a well-known type, 0 when absent. */
static int64_t wkt_int(const ProtobufCMessage *m, const char *name) {
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f) return 0;
    const char *p = (const char *)m + f->offset;
    return f->type == PROTOBUF_C_TYPE_INT64 ? *(const int64_t *)p
                                            : *(const int32_t *)p;
}

/* 0, 3, 6 or 9: the fewest of those digits that show `nanos` exactly. */
static int fraction_digits(int32_t nanos) {
    if (nanos == 0) return 0;
    if (nanos % 1000000 == 0) return 3;
    if (nanos % 1000 == 0) return 6;
    return 9;
}

static json_t *timestamp_json(const ProtobufCMessage *m, walk_t *w) {
    int64_t s = wkt_int(m, "seconds");
    int32_t ns = (int32_t)wkt_int(m, "nanos");
    char buf[WW_RFC3339_SIZE];
    if (s < TIMESTAMP_MIN_SECONDS || s > WW_RFC3339_MAX_SECONDS || ns < 0 ||
        ns > 999999999 ||
        ww_rfc3339_format(s, ns, fraction_digits(ns), buf, sizeof buf) == 0) {
        char why[128];
        snprintf(why, sizeof why,
                 "Timestamp %" PRId64 "s %dns is outside "
                 "0001-01-01..9999-12-31",
                 s, (int)ns);
        return fail(w, WW_ERR_INVALID_ARGUMENT, why);
    }
    return text(buf, strlen(buf), w);
}

static json_t *duration_json(const ProtobufCMessage *m, walk_t *w) {
    int64_t s = wkt_int(m, "seconds");
    int32_t ns = (int32_t)wkt_int(m, "nanos");
    if (s < -DURATION_MAX_SECONDS || s > DURATION_MAX_SECONDS ||
        ns < -999999999 || ns > 999999999 || (s > 0 && ns < 0) ||
        (s < 0 && ns > 0))
        return fail(w, WW_ERR_INVALID_ARGUMENT,
                    "Duration out of range or with mixed signs");
    bool neg = s < 0 || ns < 0;
    uint64_t us = (uint64_t)(s < 0 ? -s : s);
    int32_t un = ns < 0 ? -ns : ns;
    char buf[48];
    int digits = fraction_digits(un);
    if (digits == 0) {
        snprintf(buf, sizeof buf, "%s%" PRIu64 "s", neg ? "-" : "", us);
    } else {
        int32_t scaled = un;
        for (int d = digits; d < 9; d++)
            scaled /= 10;
        snprintf(buf, sizeof buf, "%s%" PRIu64 ".%0*ds", neg ? "-" : "", us,
                 digits, (int)scaled);
    }
    return text(buf, strlen(buf), w);
}

/* The mapped value of a well-known type, or NULL with *handled false. */
static json_t *wkt_json(const ProtobufCMessage *m, bool *handled, walk_t *w) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    *handled = true;
    if (strcmp(d->name, "google.protobuf.Timestamp") == 0)
        return timestamp_json(m, w);
    if (strcmp(d->name, "google.protobuf.Duration") == 0)
        return duration_json(m, w);
    static const char *const wrappers[] = {
        "DoubleValue", "FloatValue", "Int64Value",  "UInt64Value", "Int32Value",
        "UInt32Value", "BoolValue",  "StringValue", "BytesValue"};
    if (strcmp(d->package_name, "google.protobuf") == 0 && d->n_fields == 1)
        for (size_t i = 0; i < sizeof wrappers / sizeof *wrappers; i++)
            if (strcmp(d->short_name, wrappers[i]) == 0)
                return value_json(&d->fields[0],
                                  (const char *)m + d->fields[0].offset, w);
    *handled = false;
    return NULL;
}

static json_t *message_json(const ProtobufCMessage *m, walk_t *w) {
    bool handled;
    json_t *wkt = wkt_json(m, &handled, w);
    if (handled) return wkt;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *obj = json_object();
    if (!obj) return oom(w);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!present(m, f)) continue;
        char name[128];
        wwctl_pbjson_field_name(f->name, name, sizeof name);
        size_t len = push_name(w, name);
        json_t *v = f->label == PROTOBUF_C_LABEL_REPEATED
                        ? repeated_json(m, f, w)
                        : value_json(f, (const char *)m + f->offset, w);
        pop(w, len);
        if (!v || json_object_set_new(obj, name, v) != 0) {
            json_decref(obj);
            return v ? oom(w) : NULL;
        }
    }
    return obj;
}

json_t *wwctl_pbjson_message(const ProtobufCMessage *msg, ww_err_t *err) {
    walk_t w = {.path = "", .err = err};
    if (!msg || !msg->descriptor ||
        msg->descriptor->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC) {
        ww_err_set(err, WW_ERR_INVALID_ARGUMENT, "not a protobuf-c message");
        return NULL;
    }
    return message_json(msg, &w);
}
