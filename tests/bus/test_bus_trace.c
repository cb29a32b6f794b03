/*
 * Trace headers on the envelope: a record written inside traced work
 * carries ce_traceparent/ce_tracestate (the CloudEvents distributed
 * tracing extension) with that work's trace and span; outside any work it
 * carries none; a reader continues them with a new span; bad trace headers
 * never make a record undecodable.
 */
#include "ww_bus_envelope.h"
#include "ww_schemas.h"
#include "ww_test.h"
#include "ww_trace.h"

#include <librdkafka/rdkafka.h>

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static ww_bus_registry_t *registry(void) {
    ww_bus_registry_t *reg = ww_bus_registry_new();
    WW_ASSERT(reg);
    size_t n;
    const ProtobufCMessageDescriptor *const *d = ww_schemas_trainer_events(&n);
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_registry_add_all(reg, d, n, &err), WW_OK);
    return reg;
}

static const char *header(rd_kafka_headers_t *h, const char *name) {
    static char buf[600];
    const void *v;
    size_t n;
    if (rd_kafka_header_get_last(h, name, &v, &n)) return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)n, (const char *)v);
    return buf;
}

static rd_kafka_headers_t *encode(const ww_trace_t *explicit_trace,
                                  void **value, size_t *len) {
    Wildworkouts__Events__V1__TrainingConfirmed ev =
        WILDWORKOUTS__EVENTS__V1__TRAINING_CONFIRMED__INIT;
    ev.training_uuid = "t-1";
    ww_bus_envelope_meta_t meta = {.source = "/t", .trace = explicit_trace};
    rd_kafka_headers_t *h;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(
        ww_bus_envelope_encode(&ev.base, &meta, &h, value, len, NULL, &err),
        WW_OK);
    return h;
}

WW_TEST(records_written_inside_traced_work_carry_its_context) {
    ww_trace_t work;
    ww_trace_continue(TP, "congo=t61rcWkgMzE", &work);
    char want[64], span[17];
    ww_trace_format(&work, want, sizeof want);
    ww_trace_span_hex(&work, span);

    ww_trace_t prev = ww_trace_enter(&work);
    void *value;
    size_t len;
    rd_kafka_headers_t *h = encode(NULL, &value, &len);
    ww_trace_leave(&prev);
    /* the trace id goes on; the parent is this work's span, not the
     * caller's */
    WW_ASSERT_EQ_STR(header(h, "ce_traceparent"), want);
    WW_ASSERT_CONTAINS(want, "4bf92f3577b34da6a3ce929d0e0e4736");
    WW_ASSERT_CONTAINS(want, span);
    WW_ASSERT_EQ_STR(header(h, "ce_tracestate"), "congo=t61rcWkgMzE");

    ww_bus_registry_t *reg = registry();
    ww_bus_event_t out;
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_envelope_decode(h, value, len, reg, &out, &err),
                     WW_OK);
    WW_ASSERT_EQ_STR(out.traceparent, want);
    WW_ASSERT_EQ_STR(out.tracestate, "congo=t61rcWkgMzE");
    ww_bus_event_clear(&out);

    /* the next hop: same trace, new span, parent = the writer's span */
    ww_trace_t next;
    ww_bus_envelope_trace_headers(h, &next);
    WW_ASSERT(!memcmp(next.trace_id, work.trace_id, 16));
    WW_ASSERT(!memcmp(next.parent_id, work.span_id, 8));
    WW_ASSERT(memcmp(next.span_id, work.span_id, 8) != 0);
    WW_ASSERT_EQ_STR(next.state, "congo=t61rcWkgMzE");
    rd_kafka_headers_destroy(h);
    free(value);
    ww_bus_registry_destroy(reg);
}

WW_TEST(records_outside_traced_work_carry_none) {
    void *value;
    size_t len;
    rd_kafka_headers_t *h = encode(NULL, &value, &len);
    WW_ASSERT(header(h, "ce_traceparent") == NULL);
    WW_ASSERT(header(h, "ce_tracestate") == NULL);
    rd_kafka_headers_destroy(h);
    free(value);
    /* an explicit context wins over the thread's */
    ww_trace_t t;
    ww_trace_continue(TP, NULL, &t);
    h = encode(&t, &value, &len);
    WW_ASSERT_CONTAINS(header(h, "ce_traceparent"),
                       "4bf92f3577b34da6a3ce929d0e0e4736");
    WW_ASSERT(header(h, "ce_tracestate") == NULL);
    rd_kafka_headers_destroy(h);
    free(value);
}

WW_TEST(bad_trace_headers_never_make_a_record_undecodable) {
    ww_bus_registry_t *reg = registry();
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *bad[] = {"garbage", "00-zz\n2030-01-01 INFO forged=1", big};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *value;
        size_t len;
        rd_kafka_headers_t *h = encode(NULL, &value, &len);
        rd_kafka_header_add(h, "ce_traceparent", -1, bad[i], -1);
        rd_kafka_header_add(h, "ce_tracestate", -1, big, -1);
        ww_bus_event_t out;
        ww_err_t err = {0};
        WW_ASSERT_EQ_INT(ww_bus_envelope_decode(h, value, len, reg, &out, &err),
                         WW_OK);
        WW_ASSERT_EQ_STR(out.tracestate, "");
        ww_bus_event_clear(&out);
        ww_trace_t next;
        ww_bus_envelope_trace_headers(h, &next); /* a new trace */
        WW_ASSERT(next.valid);
        WW_ASSERT(!(next.parent_id[0] | next.parent_id[7]));
        WW_ASSERT_EQ_STR(next.state, "");
        rd_kafka_headers_destroy(h);
        free(value);
    }
    ww_bus_registry_destroy(reg);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(records_written_inside_traced_work_carry_its_context),
            WW_CASE(records_outside_traced_work_carry_none),
            WW_CASE(bad_trace_headers_never_make_a_record_undecodable),
            {0}});
}
