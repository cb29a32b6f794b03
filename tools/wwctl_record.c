/* wwctl_record.c - a Kafka record as the JSON line wwctl's readers print. */
#include "wwctl_record.h"

#include "ww_bus_envelope.h"
#include "ww_bus_redrive.h"
#include "ww_rfc3339.h"
#include "ww_schemas.h"
#include "wwctl_pbjson.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef const ProtobufCMessageDescriptor *const *(*types_fn)(size_t *n);

/* Every list of schemas/: what any topic of the catalogue carries. */
static const types_fn type_lists[] = {
    ww_schemas_trainer_events,   ww_schemas_users_events,
    ww_schemas_trainer_commands, ww_schemas_users_commands,
    ww_schemas_replies,
};
enum { N_LISTS = sizeof type_lists / sizeof *type_lists };

ww_bus_registry_t *wwctl_record_registry(ww_err_t *err) {
    ww_bus_registry_t *reg = ww_bus_registry_new();
    if (!reg) {
        ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < N_LISTS; i++) {
        size_t n;
        const ProtobufCMessageDescriptor *const *d = type_lists[i](&n);
        if (ww_bus_registry_add_all(reg, d, n, err) != WW_OK) {
            ww_bus_registry_destroy(reg);
            return NULL;
        }
    }
    return reg;
}

const char *wwctl_record_type_name(const ww_bus_registry_t *reg,
                                   const char *name) {
    const ProtobufCMessageDescriptor *d = ww_bus_registry_find(reg, name);
    if (d) return d->name;
    for (size_t i = 0; i < N_LISTS; i++) {
        size_t n;
        const ProtobufCMessageDescriptor *const *ds = type_lists[i](&n);
        for (size_t k = 0; k < n; k++)
            if (strcmp(ds[k]->short_name, name) == 0 &&
                ww_bus_registry_find(reg, ds[k]->name))
                return ds[k]->name;
    }
    return NULL;
}

void wwctl_record_type_list(char *buf, size_t size) {
    size_t used = 0;
    if (size) buf[0] = '\0';
    for (size_t i = 0; i < N_LISTS; i++) {
        size_t n;
        const ProtobufCMessageDescriptor *const *ds = type_lists[i](&n);
        for (size_t k = 0; k < n; k++) {
            if (strstr(buf, ds[k]->short_name)) continue; /* listed twice */
            int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                             ds[k]->short_name);
            if (w < 0 || (size_t)w >= size - used) return;
            used += (size_t)w;
        }
    }
}

void wwctl_record_header(const rd_kafka_headers_t *h, const char *name,
                         char *buf, size_t size) {
    const void *v = NULL;
    size_t n = 0;
    if (size) buf[0] = '\0';
    if (h && !rd_kafka_header_get_last(h, name, &v, &n) && v)
        snprintf(buf, size, "%.*s", (int)n, (const char *)v);
}

wwctl_record_t wwctl_record_of(const rd_kafka_message_t *m) {
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h)) h = NULL;
    return (wwctl_record_t){
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .timestamp_ms = rd_kafka_message_timestamp(m, NULL),
        .key = m->key,
        .key_len = m->key ? m->key_len : 0,
        .value = m->payload,
        .len = m->payload ? m->len : 0,
        .headers = h,
    };
}

/* Bytes as a JSON string when they are UTF-8, else NULL. */
static json_t *utf8(const void *p, size_t n) {
    return json_stringn(p ? p : "", p ? n : 0);
}

json_t *wwctl_record_text(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    char buf[512];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof buf; i++)
        buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    buf[i] = '\0';
    return json_string(buf);
}

/* One header value: text, {"base64": ...}, or null. */
static json_t *header_value(const void *v, size_t n) {
    if (!v) return json_null();
    json_t *s = utf8(v, n);
    return s ? s : json_pack("{s:o}", "base64", wwctl_pbjson_base64(v, n));
}

static json_t *headers_json(const rd_kafka_headers_t *h) {
    json_t *obj = json_object();
    const char *name;
    const void *v;
    size_t n;
    for (size_t i = 0;
         obj && h && !rd_kafka_header_get_all(h, i, &name, &v, &n); i++) {
        json_t *val = header_value(v, n), *old = json_object_get(obj, name);
        if (!val) {
            json_decref(obj);
            return NULL;
        }
        if (!old) {
            json_object_set_new(obj, name, val);
        } else if (json_is_array(old)) {
            json_array_append_new(old, val);
        } else { /* a second value: the name gets an array */
            json_t *arr = json_pack("[O,o]", old, val);
            json_object_set_new(obj, name, arr);
        }
    }
    return obj;
}

/* Adds payload, or error and value_base64, by decoding the record. */
static int add_payload(json_t *obj, const wwctl_record_t *rec,
                       const ww_bus_registry_t *reg) {
    ww_bus_event_t ev = {0};
    ww_err_t err = {0};
    json_t *payload = NULL;
    if (ww_bus_envelope_decode(rec->headers, rec->value, rec->len, reg, &ev,
                               &err) == WW_OK)
        payload = wwctl_pbjson_message(ev.payload, &err);
    ww_bus_event_clear(&ev);
    if (payload) return json_object_set_new(obj, "payload", payload);
    if (json_object_set_new(obj, "error", wwctl_record_text(err.msg)) != 0)
        return -1;
    return json_object_set_new(
        obj, "value_base64",
        rec->value ? wwctl_pbjson_base64(rec->value, rec->len) : json_null());
}

json_t *wwctl_record_json(const wwctl_record_t *rec,
                          const ww_bus_registry_t *reg) {
    char when[WW_RFC3339_SIZE] = "";
    if (rec->timestamp_ms >= 0)
        ww_rfc3339_format_ms(rec->timestamp_ms, when, sizeof when);
    json_t *obj = json_pack(
        "{s:s,s:i,s:I}", "topic", rec->topic ? rec->topic : "", "partition",
        (int)rec->partition, "offset", (json_int_t)rec->offset);
    if (!obj) return NULL;
    int bad = json_object_set_new(obj, "timestamp",
                                  when[0] ? json_string(when) : json_null());
    json_t *key = rec->key ? utf8(rec->key, rec->key_len) : json_null();
    if (key)
        bad |= json_object_set_new(obj, "key", key);
    else
        bad |= json_object_set_new(obj, "key_base64",
                                   wwctl_pbjson_base64(rec->key, rec->key_len));
    bad |= json_object_set_new(obj, "headers", headers_json(rec->headers));
    char type[WW_BUS_TYPE_MAX + 1], of[8];
    wwctl_record_header(rec->headers, WW_BUS_H_TYPE, type, sizeof type);
    wwctl_record_header(rec->headers, WW_BUS_REDRIVE_H_OF, of, sizeof of);
    if (type[0])
        bad |= json_object_set_new(obj, "type", wwctl_record_text(type));
    if (of[0] && !type[0])
        bad |= json_object_set_new(obj, "marker", json_string("redrive"));
    else
        bad |= add_payload(obj, rec, reg);
    if (bad) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}
