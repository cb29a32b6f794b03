/* fuzz_envelope_seeds.c - writes the seed corpus of fuzz_envelope into the
 * directory named by argv[1]: valid records of an event, a command and a
 * reply (encoded by ww_bus_envelope itself), and a few broken ones. */
#include "fuzz_envelope_input.h"
#include "ww_bus_envelope.h"
#include "ww_bus_registry.h"
#include "ww_schemas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_seed(const char *dir, const char *name,
                       const rd_kafka_headers_t *h, const void *value,
                       size_t len, const char *skip) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputc(0, f);
    const char *hname;
    const void *hval;
    size_t hlen;
    for (size_t i = 0; !rd_kafka_header_get_all(h, i, &hname, &hval, &hlen);
         i++) {
        if (skip && !strcmp(hname, skip)) continue;
        for (unsigned sel = 0; sel < FE_N_NAMES; sel++)
            if (!strcmp(hname, fe_names[sel])) {
                fputc((int)sel, f);
                fputc((int)(hlen > 255 ? 255 : hlen), f);
                fwrite(hval, 1, hlen > 255 ? 255 : hlen, f);
            }
    }
    fputc(FE_END, f);
    if (len) fwrite(value, 1, len, f);
    fclose(f);
}

static void seed(const char *dir, const char *name, const ProtobufCMessage *m,
                 const char *skip) {
    ww_bus_envelope_meta_t meta = {.source = "/wildworkouts/trainer",
                                   .correlation_id = "corr-1",
                                   .causation_id = "cause-1",
                                   .time_ms = 1796160000123};
    rd_kafka_headers_t *h = NULL;
    void *value = NULL;
    size_t len = 0;
    ww_err_t err = {0};
    if (ww_bus_envelope_encode(m, &meta, &h, &value, &len, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        exit(1);
    }
    write_seed(dir, name, h, value, len, skip);
    /* The valid seeds must decode, or the fuzzer starts from nothing. */
    ww_bus_registry_t *reg = ww_bus_registry_new();
    size_t n = 0;
    const ProtobufCMessageDescriptor *const *d = ww_schemas_trainer_events(&n);
    ww_bus_registry_add_all(reg, d, n, NULL);
    d = ww_schemas_replies(&n);
    ww_bus_registry_add_all(reg, d, n, NULL);
    ww_bus_event_t ev;
    ww_code_t rc = ww_bus_envelope_decode(h, value, len, reg, &ev, &err);
    ww_bus_event_clear(&ev);
    ww_bus_registry_destroy(reg);
    if (!skip && rc != WW_OK) {
        fprintf(stderr, "%s does not decode: %s\n", name, err.msg);
        exit(1);
    }
    rd_kafka_headers_destroy(h);
    free(value);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1796162400;
    Wildworkouts__Events__V1__TrainingScheduled ev =
        WILDWORKOUTS__EVENTS__V1__TRAINING_SCHEDULED__INIT;
    ev.training_uuid = "0d6c3d0e-6d2e-4d6b-9c3f-6a1f1d2b3c4d";
    ev.user_id = "user-1";
    ev.time = &ts;
    seed(argv[1], "training_scheduled", &ev.base, NULL);
    seed(argv[1], "missing_time", &ev.base, "ce_time");
    seed(argv[1], "missing_type", &ev.base, "ce_type");
    Wildworkouts__Events__V1__CommandResult res =
        WILDWORKOUTS__EVENTS__V1__COMMAND_RESULT__INIT;
    res.correlation_id = "corr-1";
    res.message = "balance cannot be smaller than 0";
    seed(argv[1], "command_result", &res.base, NULL);
    return 0;
}
