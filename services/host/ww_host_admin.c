/* ww_host_admin.c - the operator's AdminService over a read model. */
#include "ww_host_admin.h"

#include "ww_host_state.h"
#include "ww_rpc_call.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef Wildworkouts__Admin__V1__PartitionDigest part_digest_t;

struct ww_host_admin {
    Wildworkouts__Admin__V1__AdminService_Service service; /* first */
    char *name;
    char *instance_id;                /* set before model is published */
    _Atomic(ww_host_model_t *) model; /* NULL until attached */
};

static void get_digest(Wildworkouts__Admin__V1__AdminService_Service *svc,
                       const Wildworkouts__Admin__V1__GetDigestRequest *in,
                       Wildworkouts__Admin__V1__GetDigestResponse_Closure done,
                       void *call) {
    (void)in;
    ww_host_admin_t *a = (ww_host_admin_t *)svc;
    ww_host_model_t *m = atomic_load(&a->model);
    if (!m) {
        ww_rpc_call_fail(call, WW_ERR_UNAVAILABLE,
                         "the read model is not built yet");
        return;
    }
    int n = ww_host_model_partitions(m);
    part_digest_t *parts = calloc((size_t)n, sizeof *parts);
    part_digest_t **ptrs = calloc((size_t)n, sizeof *ptrs);
    ww_host_state_digest_t *digests = calloc((size_t)n, sizeof *digests);
    char(*hex)[WW_HOST_STATE_HEX_LEN + 1] = calloc((size_t)n, sizeof *hex);
    char total_hex[WW_HOST_STATE_HEX_LEN + 1];
    ww_err_t err = {0};
    ww_code_t rc =
        parts && ptrs && digests && hex
            ? WW_OK
            : ww_err_set(&err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    for (int p = 0; rc == WW_OK && p < n; p++) {
        ww_host_model_digest_t d;
        if ((rc = ww_host_model_digest(m, p, &d, &err)) != WW_OK) break;
        digests[p] = d.digest;
        ww_host_state_hex(&d.digest, hex[p]);
        parts[p] =
            (part_digest_t)WILDWORKOUTS__ADMIN__V1__PARTITION_DIGEST__INIT;
        parts[p].partition = p;
        parts[p].events_offset = d.next;
        parts[p].sha256 = hex[p];
        parts[p].applied = d.applied;
        parts[p].skipped = d.skipped;
        ptrs[p] = &parts[p];
    }
    if (rc == WW_OK) {
        ww_host_state_digest_t total;
        ww_host_state_combine(digests, n, &total);
        ww_host_state_hex(&total, total_hex);
        Wildworkouts__Admin__V1__GetDigestResponse out =
            WILDWORKOUTS__ADMIN__V1__GET_DIGEST_RESPONSE__INIT;
        out.service = a->name;
        out.instance_id = a->instance_id;
        out.sha256 = total_hex;
        out.n_partitions = (size_t)n;
        out.partitions = ptrs;
        done(&out, call);
    } else {
        ww_rpc_call_fail_err(call, &err);
    }
    free(hex);
    free(digests);
    free(ptrs);
    free(parts);
}

ww_code_t ww_host_admin_new(const char *service, ww_host_admin_t **out,
                            ww_err_t *err) {
    *out = NULL;
    ww_host_admin_t *a = calloc(1, sizeof *a);
    if (!a || !(a->name = strdup(service ? service : ""))) {
        free(a);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    a->service = (Wildworkouts__Admin__V1__AdminService_Service){
        .base = WILDWORKOUTS__ADMIN__V1__ADMIN_SERVICE__BASE_INIT,
        .get_digest = get_digest,
    };
    atomic_init(&a->model, NULL);
    *out = a;
    return WW_OK;
}

ww_code_t ww_host_admin_attach(ww_host_admin_t *a, ww_host_model_t *model,
                               const char *instance_id, ww_err_t *err) {
    if (a->instance_id || !model)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "admin: attach once, with a model");
    if (!(a->instance_id = strdup(instance_id ? instance_id : "")))
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    atomic_store(&a->model, model);
    return WW_OK;
}

ProtobufCService *ww_host_admin_service(ww_host_admin_t *a) {
    return &a->service.base;
}

void ww_host_admin_destroy(ww_host_admin_t *a) {
    if (!a) return;
    free(a->instance_id);
    free(a->name);
    free(a);
}
