/* Server reflection from a FileDescriptorSet: files re-serialized once at
 * start, a sorted table of every fully qualified symbol and of extensions,
 * and one stream handler that answers each request with one response. */
#include "ww_rpc_reflection.h"

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "ww_rpc_stream.h"

#include <grpc/status.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Google__Protobuf__FileDescriptorProto file_proto_t;
typedef Google__Protobuf__DescriptorProto message_proto_t;
typedef Google__Protobuf__EnumDescriptorProto enum_proto_t;
typedef Google__Protobuf__FieldDescriptorProto field_proto_t;
typedef Grpc__Reflection__V1__ServerReflectionRequest request_t;
typedef Grpc__Reflection__V1__ServerReflectionResponse response_t;

#define WW_REFLECTION_MAX_SERVICES 64

typedef struct refl_file {
    const char *name;          /* borrowed from the parsed set */
    ProtobufCBinaryData bytes; /* the FileDescriptorProto, serialized */
    size_t *deps;              /* indexes of the files it imports */
    size_t n_deps;
} refl_file_t;

typedef struct refl_symbol {
    char *name; /* "trainer.TrainerService.IsHourAvailable" */
    size_t file;
    bool is_message;
} refl_symbol_t;

typedef struct refl_extension {
    const char *extendee; /* "pkg.Message", without the leading dot */
    int32_t number;
    size_t file;
} refl_extension_t;

struct ww_rpc_reflection {
    Google__Protobuf__FileDescriptorSet *set;
    refl_file_t *files;
    size_t n_files;
    refl_symbol_t *syms;
    size_t n_syms, cap_syms;
    refl_extension_t *exts;
    size_t n_exts, cap_exts;
    ww_rpc_server_t *server;
    ww_rpc_stream_handler_t handler;
};

/* ---------- the index ---------- */

static bool add_symbol(ww_rpc_reflection_t *r, const char *scope,
                       const char *name, size_t file, bool is_message,
                       char **full_out) {
    if (r->n_syms == r->cap_syms) {
        size_t cap = r->cap_syms ? 2 * r->cap_syms : 256;
        refl_symbol_t *s = realloc(r->syms, cap * sizeof *s);
        if (!s) return false;
        r->syms = s;
        r->cap_syms = cap;
    }
    char *full = NULL;
    if (asprintf(&full, "%s%s%s", scope, *scope ? "." : "", name) < 0)
        return false;
    r->syms[r->n_syms++] = (refl_symbol_t){full, file, is_message};
    if (full_out) *full_out = full;
    return true;
}

static bool add_extension(ww_rpc_reflection_t *r, const char *scope,
                          const field_proto_t *f, size_t file) {
    if (!add_symbol(r, scope, f->name, file, false, NULL)) return false;
    if (r->n_exts == r->cap_exts) {
        size_t cap = r->cap_exts ? 2 * r->cap_exts : 16;
        refl_extension_t *e = realloc(r->exts, cap * sizeof *e);
        if (!e) return false;
        r->exts = e;
        r->cap_exts = cap;
    }
    const char *type = f->extendee ? f->extendee : "";
    if (*type == '.') type++;
    r->exts[r->n_exts++] = (refl_extension_t){type, f->number, file};
    return true;
}

/* An enum and its values: protobuf scopes the values beside the enum. */
static bool index_enum(ww_rpc_reflection_t *r, const char *scope,
                       const enum_proto_t *e, size_t file) {
    if (!add_symbol(r, scope, e->name, file, false, NULL)) return false;
    for (size_t i = 0; i < e->n_value; i++)
        if (!add_symbol(r, scope, e->value[i]->name, file, false, NULL))
            return false;
    return true;
}

static bool index_message(ww_rpc_reflection_t *r, const char *scope,
                          const message_proto_t *m, size_t file) {
    char *full;
    if (!add_symbol(r, scope, m->name, file, true, &full)) return false;
    for (size_t i = 0; i < m->n_field; i++)
        if (!add_symbol(r, full, m->field[i]->name, file, false, NULL))
            return false;
    for (size_t i = 0; i < m->n_oneof_decl; i++)
        if (!add_symbol(r, full, m->oneof_decl[i]->name, file, false, NULL))
            return false;
    for (size_t i = 0; i < m->n_nested_type; i++)
        if (!index_message(r, full, m->nested_type[i], file)) return false;
    for (size_t i = 0; i < m->n_enum_type; i++)
        if (!index_enum(r, full, m->enum_type[i], file)) return false;
    for (size_t i = 0; i < m->n_extension; i++)
        if (!add_extension(r, full, m->extension[i], file)) return false;
    return true;
}

static bool index_file(ww_rpc_reflection_t *r, const file_proto_t *f,
                       size_t file) {
    const char *pkg = f->package ? f->package : "";
    for (size_t i = 0; i < f->n_message_type; i++)
        if (!index_message(r, pkg, f->message_type[i], file)) return false;
    for (size_t i = 0; i < f->n_enum_type; i++)
        if (!index_enum(r, pkg, f->enum_type[i], file)) return false;
    for (size_t i = 0; i < f->n_extension; i++)
        if (!add_extension(r, pkg, f->extension[i], file)) return false;
    for (size_t i = 0; i < f->n_service; i++) {
        const Google__Protobuf__ServiceDescriptorProto *s = f->service[i];
        char *full;
        if (!add_symbol(r, pkg, s->name, file, false, &full)) return false;
        for (size_t j = 0; j < s->n_method; j++)
            if (!add_symbol(r, full, s->method[j]->name, file, false, NULL))
                return false;
    }
    return true;
}

static int cmp_symbol(const void *a, const void *b) {
    return strcmp(((const refl_symbol_t *)a)->name,
                  ((const refl_symbol_t *)b)->name);
}

static const refl_symbol_t *find_symbol(const ww_rpc_reflection_t *r,
                                        const char *name) {
    if (*name == '.') name++;
    refl_symbol_t key = {.name = (char *)name};
    return bsearch(&key, r->syms, r->n_syms, sizeof *r->syms, cmp_symbol);
}

static bool find_file(const ww_rpc_reflection_t *r, const char *name,
                      size_t *out) {
    for (size_t i = 0; i < r->n_files; i++)
        if (strcmp(r->files[i].name, name) == 0) {
            *out = i;
            return true;
        }
    return false;
}

/* Serializes every file and resolves its imports. */
static ww_code_t load_files(ww_rpc_reflection_t *r, ww_err_t *err) {
    r->n_files = r->set->n_file;
    r->files = calloc(r->n_files ? r->n_files : 1, sizeof *r->files);
    if (!r->files)
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < r->n_files; i++) {
        const file_proto_t *f = r->set->file[i];
        refl_file_t *rf = &r->files[i];
        rf->name = f->name ? f->name : "";
        size_t size = protobuf_c_message_get_packed_size(&f->base);
        rf->bytes.data = malloc(size ? size : 1);
        rf->deps =
            calloc(f->n_dependency ? f->n_dependency : 1, sizeof *rf->deps);
        if (!rf->bytes.data || !rf->deps)
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        rf->bytes.len = protobuf_c_message_pack(&f->base, rf->bytes.data);
    }
    for (size_t i = 0; i < r->n_files; i++) {
        const file_proto_t *f = r->set->file[i];
        for (size_t j = 0; j < f->n_dependency; j++) {
            if (!find_file(r, f->dependency[j], &r->files[i].deps[j]))
                return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                                  "descriptor set: %s imports %s, which it "
                                  "lacks (build it with --include_imports)",
                                  r->files[i].name, f->dependency[j]);
            r->files[i].n_deps++;
        }
        if (!index_file(r, f, i))
            return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    qsort(r->syms, r->n_syms, sizeof *r->syms, cmp_symbol);
    return WW_OK;
}

/* ---------- answers ---------- */

/* The response's message is filled by the caller; this sends it, and a
 * send that fails (the client left) ends the stream. */
static void reply(ww_rpc_stream_t *st, response_t *resp) {
    ww_err_t err;
    if (ww_rpc_stream_send(st, &resp->base, &err) != WW_OK)
        ww_rpc_stream_finish(st, err.code, "%s", err.msg);
}

static void reply_error(ww_rpc_stream_t *st, response_t *resp,
                        grpc_status_code code, const char *fmt, const char *a) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a);
    Grpc__Reflection__V1__ErrorResponse er =
        GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
    er.error_code = (int32_t)code;
    er.error_message = msg;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    resp->error_response = &er;
    reply(st, resp);
}

/* File `first` and everything it imports, each once, `first` first. */
static void reply_files(const ww_rpc_reflection_t *r, ww_rpc_stream_t *st,
                        response_t *resp, size_t first) {
    size_t *order = calloc(r->n_files, sizeof *order);
    bool *seen = calloc(r->n_files, sizeof *seen);
    ProtobufCBinaryData *blobs = calloc(r->n_files, sizeof *blobs);
    if (!order || !seen || !blobs) {
        free(order);
        free(seen);
        free(blobs);
        ww_rpc_stream_finish(st, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    /* Breadth first over the imports: `order` is the queue. */
    size_t n = 0;
    order[n++] = first;
    seen[first] = true;
    for (size_t k = 0; k < n; k++) {
        const refl_file_t *f = &r->files[order[k]];
        blobs[k] = f->bytes;
        for (size_t j = 0; j < f->n_deps; j++)
            if (!seen[f->deps[j]]) {
                seen[f->deps[j]] = true;
                order[n++] = f->deps[j];
            }
    }
    Grpc__Reflection__V1__FileDescriptorResponse fdr =
        GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
    fdr.n_file_descriptor_proto = n;
    fdr.file_descriptor_proto = blobs;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    resp->file_descriptor_response = &fdr;
    reply(st, resp);
    free(order);
    free(seen);
    free(blobs);
}

static void reply_services(const ww_rpc_reflection_t *r, ww_rpc_stream_t *st,
                           response_t *resp) {
    const char *names[WW_REFLECTION_MAX_SERVICES];
    size_t n =
        ww_rpc_server_services(r->server, names, WW_REFLECTION_MAX_SERVICES);
    if (n > WW_REFLECTION_MAX_SERVICES) n = WW_REFLECTION_MAX_SERVICES;
    Grpc__Reflection__V1__ServiceResponse svc[WW_REFLECTION_MAX_SERVICES];
    Grpc__Reflection__V1__ServiceResponse *ptrs[WW_REFLECTION_MAX_SERVICES];
    for (size_t i = 0; i < n; i++) {
        grpc__reflection__v1__service_response__init(&svc[i]);
        svc[i].name = (char *)names[i];
        ptrs[i] = &svc[i];
    }
    Grpc__Reflection__V1__ListServiceResponse list =
        GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
    list.n_service = n;
    list.service = ptrs;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    resp->list_services_response = &list;
    reply(st, resp);
}

static void reply_extension(const ww_rpc_reflection_t *r, ww_rpc_stream_t *st,
                            response_t *resp,
                            const Grpc__Reflection__V1__ExtensionRequest *q) {
    const char *type = q && q->containing_type ? q->containing_type : "";
    if (*type == '.') type++;
    for (size_t i = 0; q && i < r->n_exts; i++)
        if (r->exts[i].number == q->extension_number &&
            strcmp(r->exts[i].extendee, type) == 0) {
            reply_files(r, st, resp, r->exts[i].file);
            return;
        }
    char what[300];
    snprintf(what, sizeof what, "%s number %d", type,
             q ? (int)q->extension_number : 0);
    reply_error(st, resp, GRPC_STATUS_NOT_FOUND, "no extension of %s is known",
                what);
}

static void reply_extension_numbers(const ww_rpc_reflection_t *r,
                                    ww_rpc_stream_t *st, response_t *resp,
                                    const char *type) {
    const refl_symbol_t *sym = find_symbol(r, type);
    if (!sym || !sym->is_message) {
        reply_error(st, resp, GRPC_STATUS_NOT_FOUND,
                    "message type %s not found", type);
        return;
    }
    int32_t *nums = calloc(r->n_exts ? r->n_exts : 1, sizeof *nums);
    if (!nums) {
        ww_rpc_stream_finish(st, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < r->n_exts; i++)
        if (strcmp(r->exts[i].extendee, sym->name) == 0)
            nums[n++] = r->exts[i].number;
    Grpc__Reflection__V1__ExtensionNumberResponse enr =
        GRPC__REFLECTION__V1__EXTENSION_NUMBER_RESPONSE__INIT;
    enr.base_type_name = sym->name;
    enr.n_extension_number = n;
    enr.extension_number = nums;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
    resp->all_extension_numbers_response = &enr;
    reply(st, resp);
    free(nums);
}

static void on_message(void *state, ww_rpc_stream_t *st,
                       const ProtobufCMessage *msg) {
    const ww_rpc_reflection_t *r = state;
    const request_t *req = (const request_t *)msg;
    response_t resp = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
    resp.valid_host = req->host;
    resp.original_request = (request_t *)req;
    size_t file;
    const refl_symbol_t *sym;
    switch (req->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        reply_services(r, st, &resp);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        if (find_file(r, req->file_by_filename, &file))
            reply_files(r, st, &resp, file);
        else
            reply_error(st, &resp, GRPC_STATUS_NOT_FOUND, "file %s not found",
                        req->file_by_filename);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        sym = find_symbol(r, req->file_containing_symbol);
        if (sym)
            reply_files(r, st, &resp, sym->file);
        else
            reply_error(st, &resp, GRPC_STATUS_NOT_FOUND, "symbol %s not found",
                        req->file_containing_symbol);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
        reply_extension(r, st, &resp, req->file_containing_extension);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        reply_extension_numbers(r, st, &resp,
                                req->all_extension_numbers_of_type);
        break;
    default:
        reply_error(st, &resp, GRPC_STATUS_UNIMPLEMENTED, "%s",
                    "the request asks no question this server knows");
        break;
    }
}

static ww_code_t on_open(void *ctx, ww_rpc_stream_t *st, void **state,
                         ww_err_t *err) {
    (void)st;
    (void)err;
    *state = ctx;
    return WW_OK;
}

/* ---------- lifecycle ---------- */

ww_code_t ww_rpc_reflection_new(const uint8_t *set, size_t len,
                                ww_rpc_reflection_t **out, ww_err_t *err) {
    *out = NULL;
    ww_rpc_reflection_t *r = calloc(1, sizeof *r);
    if (!r) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    r->set = google__protobuf__file_descriptor_set__unpack(NULL, len, set);
    if (!r->set) {
        free(r);
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "reflection: %zu bytes are not a FileDescriptorSet",
                          len);
    }
    ww_code_t rc = load_files(r, err);
    if (rc != WW_OK) {
        ww_rpc_reflection_destroy(r);
        return rc;
    }
    r->handler = (ww_rpc_stream_handler_t){
        .input = &grpc__reflection__v1__server_reflection_request__descriptor,
        .output = &grpc__reflection__v1__server_reflection_response__descriptor,
        .open = on_open,
        .message = on_message,
        .ctx = r,
    };
    *out = r;
    return WW_OK;
}

ww_code_t ww_rpc_reflection_add_to(ww_rpc_reflection_t *r,
                                   ww_rpc_server_t *server, ww_err_t *err) {
    static const char *versions[] = {
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection"};
    for (size_t i = 0; i < 2; i++) {
        ww_code_t rc = ww_rpc_server_add_stream(
            server, versions[i], "ServerReflectionInfo", &r->handler, err);
        if (rc != WW_OK) return rc;
    }
    r->server = server;
    const char *names[WW_REFLECTION_MAX_SERVICES + 1];
    size_t n =
        ww_rpc_server_services(server, names, WW_REFLECTION_MAX_SERVICES);
    if (n > WW_REFLECTION_MAX_SERVICES) n = WW_REFLECTION_MAX_SERVICES;
    names[n++] = "grpc.health.v1.Health"; /* added when the server starts */
    for (size_t i = 0; i < n; i++)
        if (!find_symbol(r, names[i]))
            return ww_err_set(err, WW_ERR_FAILED_PRECONDITION,
                              "reflection: %s is served but not in the "
                              "descriptor set",
                              names[i]);
    return WW_OK;
}

void ww_rpc_reflection_destroy(ww_rpc_reflection_t *r) {
    if (!r) return;
    for (size_t i = 0; r->files && i < r->n_files; i++) {
        free(r->files[i].bytes.data);
        free(r->files[i].deps);
    }
    free(r->files);
    for (size_t i = 0; i < r->n_syms; i++)
        free(r->syms[i].name);
    free(r->syms);
    free(r->exts);
    google__protobuf__file_descriptor_set__free_unpacked(r->set, NULL);
    free(r);
}
