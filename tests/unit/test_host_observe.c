/* test_host_observe.c - librdkafka's statistics reduced to the Kafka gauges
 * (consumer lag from the last stable offset and the position, its
 * fallbacks, only fetched partitions), refused when not its JSON; and the
 * gRPC observer's series present from the start and moved per call. */
#include "ww_host_observe.h"
#include "ww_test.h"

#include <stdlib.h>
#include <string.h>

static bool has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
            return true;
    return false;
}

#define WW_ASSERT_LINE(text, line)                                             \
    WW_ASSERT_MSG(has_line(text, line), "no line \"%s\" in:\n%s", line, text)
#define WW_ASSERT_NO(text, s)                                                  \
    WW_ASSERT_MSG(!strstr(text, s), "unexpected \"%s\" in:\n%s", s, text)

/* The shape librdkafka 2.0.2 writes, cut to what is read. */
static const char stats[] =
    "{\"name\":\"ww-t1#consumer-3\",\"type\":\"consumer\",\"replyq\":2,"
    "\"tx_bytes\":1000,\"rx_bytes\":5000,"
    "\"brokers\":{\"a:9092/1\":{\"nodeid\":1,\"rtt\":{\"avg\":1500}},"
    "\"GroupCoordinator\":{\"nodeid\":-1,\"rtt\":{\"avg\":0}}},"
    "\"topics\":{\"t.commands\":{\"partitions\":{"
    "\"0\":{\"partition\":0,\"fetch_state\":\"active\",\"fetchq_cnt\":3,"
    "\"app_offset\":40,\"committed_offset\":30,\"ls_offset\":45,"
    "\"hi_offset\":46},"
    "\"1\":{\"partition\":1,\"fetch_state\":\"active\",\"fetchq_cnt\":0,"
    "\"app_offset\":-1001,\"committed_offset\":12,\"ls_offset\":12,"
    "\"hi_offset\":13},"
    "\"2\":{\"partition\":2,\"fetch_state\":\"active\",\"fetchq_cnt\":0,"
    "\"app_offset\":-1001,\"committed_offset\":-1001,\"next_offset\":0,"
    "\"ls_offset\":0,\"hi_offset\":0},"
    "\"3\":{\"partition\":3,\"fetch_state\":\"none\",\"app_offset\":-1001,"
    "\"ls_offset\":9},"
    "\"-1\":{\"partition\":-1,\"fetch_state\":\"none\"}}}}}";

WW_TEST(statistics_become_lag_position_and_client_gauges) {
    ww_metrics_t *reg = ww_metrics_new();
    ww_host_observe_t *o = NULL;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_host_observe_new(reg, 1000, &o, &err), WW_OK);
    WW_ASSERT_EQ_INT(
        ww_host_observe_stats(o, "g.decider", stats, sizeof stats - 1, &err),
        WW_OK);
    char *text = ww_metrics_render(reg, NULL);
    const char *lag = "ww_kafka_consumer_lag{group=\"g.decider\",topic=\"t."
                      "commands\",partition=";
    char want[256];
    snprintf(want, sizeof want, "%s\"0\"} 5", lag); /* ls 45 - app 40 */
    WW_ASSERT_LINE(text, want);
    snprintf(want, sizeof want, "%s\"1\"} 0", lag); /* committed 12 */
    WW_ASSERT_LINE(text, want);
    snprintf(want, sizeof want, "%s\"2\"} 0", lag); /* never a record */
    WW_ASSERT_LINE(text, want);
    snprintf(want, sizeof want, "%s\"3\"}", lag); /* not fetched here */
    WW_ASSERT_NO(text, want);
    WW_ASSERT_NO(text, "partition=\"-1\"");
    WW_ASSERT_LINE(text, "ww_kafka_consumer_position{group=\"g.decider\","
                         "topic=\"t.commands\",partition=\"0\"} 40");
    WW_ASSERT_LINE(text,
                   "ww_kafka_client_replyq{client=\"ww-t1#consumer-3\"} 2");
    WW_ASSERT_LINE(
        text,
        "ww_kafka_client_rtt_seconds{client=\"ww-t1#consumer-3\"} 0.0015");
    WW_ASSERT_LINE(
        text, "ww_kafka_client_fetchq_messages{client=\"ww-t1#consumer-3\"} 3");
    WW_ASSERT_LINE(
        text, "ww_kafka_client_rx_bytes{client=\"ww-t1#consumer-3\"} 5000");
    free(text);
    WW_ASSERT_EQ_INT(ww_host_observe_stats(o, "g", "{\"no\":1}", 8, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_host_observe_stats(o, "g", "not json", 8, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_host_observe_destroy(o);
    ww_metrics_destroy(reg);
}

WW_TEST(grpc_series_exist_from_the_start_and_count_calls) {
    ww_metrics_t *reg = ww_metrics_new();
    ww_host_observe_t *o = NULL;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_host_observe_new(reg, 0, &o, &err), WW_OK);
    const ww_rpc_observer_t *obs = ww_host_observe_rpc(o);
    obs->method(obs->ctx, "/pkg.Svc/Get", "unary");
    obs->started(obs->ctx, "/pkg.Svc/Get");
    obs->handled(obs->ctx, "/pkg.Svc/Get", GRPC_STATUS_NOT_FOUND, 2000);
    obs->started(obs->ctx, "/pkg.Svc/Unknown"); /* never registered */
    obs->handled(obs->ctx, "/pkg.Svc/Unknown", GRPC_STATUS_UNIMPLEMENTED, 1);
    char *text = ww_metrics_render(reg, NULL);
    const char *l = "{grpc_type=\"unary\",grpc_service=\"pkg.Svc\","
                    "grpc_method=\"Get\"";
    char want[256];
    snprintf(want, sizeof want, "grpc_server_started_total%s} 1", l);
    WW_ASSERT_LINE(text, want);
    snprintf(want, sizeof want,
             "grpc_server_handled_total%s,grpc_code=\"NotFound\"} 1", l);
    WW_ASSERT_LINE(text, want);
    snprintf(want, sizeof want,
             "grpc_server_handled_total%s,grpc_code=\"Unauthenticated\"} 0", l);
    WW_ASSERT_LINE(text, want);
    snprintf(want, sizeof want,
             "grpc_server_handling_seconds_bucket%s,le=\"0.005\"} 1", l);
    WW_ASSERT_LINE(text, want);
    WW_ASSERT_NO(text, "grpc_method=\"Unknown\"");
    free(text);
    ww_host_observe_destroy(o);
    ww_metrics_destroy(reg);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(statistics_become_lag_position_and_client_gauges),
            WW_CASE(grpc_series_exist_from_the_start_and_count_calls),
            {0}});
}
