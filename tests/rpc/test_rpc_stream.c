/* Bidirectional streams of the gRPC runtime (ww_rpc_stream.h) over a real
 * socket, driven by grpcio (stream_client.py) as the client: replies in
 * request order, half-close ends the stream with the handler's status, a
 * client cancel mid-stream reaches the handler as a cancelled close, a
 * client that stops reading stops being read (the send queue stays within
 * its bound and nothing is refused), undecodable requests are
 * INVALID_ARGUMENT, a stream without a token is refused before it
 * opens, and a stream held open ends at its deadline or at shutdown. */
#include "google/protobuf/wrappers.pb-c.h"
#include "ww_rpc_server.h"
#include "ww_rpc_stream.h"
#include "ww_test.h"
#include "ww_test_proc.h"

#include <stdatomic.h>

#ifndef WW_VENV_PYTHON
#error "WW_VENV_PYTHON must name the test venv's python"
#endif
#ifndef WW_TEST_RPC_DIR
#error "WW_TEST_RPC_DIR must name tests/rpc"
#endif

enum { QUEUE = 4 };

static atomic_int n_opened, n_closed, n_cancelled, n_refused, max_queued;

typedef struct echo {
    int n;
} echo_t;

static ww_code_t echo_open(void *ctx, ww_rpc_stream_t *st, void **state,
                           ww_err_t *err) {
    (void)ctx;
    (void)st;
    echo_t *e = calloc(1, sizeof *e);
    if (!e) return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "no memory");
    *state = e;
    atomic_fetch_add(&n_opened, 1);
    return WW_OK;
}

/* "<seq> <reply_bytes> ..." -> "<seq> " padded to reply_bytes. */
static void echo_message(void *state, ww_rpc_stream_t *st,
                         const ProtobufCMessage *msg) {
    echo_t *e = state;
    const Google__Protobuf__BytesValue *in =
        (const Google__Protobuf__BytesValue *)msg;
    char head[64];
    size_t len =
        in->value.len < sizeof head - 1 ? in->value.len : sizeof head - 1;
    memcpy(head, in->value.data, len);
    head[len] = '\0';
    long long seq = 0, size = 0;
    if (sscanf(head, "%lld %lld", &seq, &size) != 2 || size < 0 ||
        size > (8 << 20)) {
        ww_rpc_stream_finish(st, WW_ERR_INVALID_ARGUMENT, "bad request %s",
                             head);
        return;
    }
    char prefix[32];
    int plen = snprintf(prefix, sizeof prefix, "%lld ", seq);
    size_t out_len = (size_t)size > (size_t)plen ? (size_t)size : (size_t)plen;
    uint8_t *buf = malloc(out_len);
    memset(buf, 'y', out_len);
    memcpy(buf, prefix, (size_t)plen);
    Google__Protobuf__BytesValue out = GOOGLE__PROTOBUF__BYTES_VALUE__INIT;
    out.value.data = buf;
    out.value.len = out_len;
    ww_err_t err;
    ww_code_t rc = ww_rpc_stream_send(st, &out.base, &err);
    free(buf);
    if (rc != WW_OK) {
        atomic_fetch_add(&n_refused, 1);
        ww_rpc_stream_finish(st, rc, "%s", err.msg);
        return;
    }
    e->n++;
    int q = (int)ww_rpc_stream_queued(st);
    int seen = atomic_load(&max_queued);
    while (q > seen && !atomic_compare_exchange_weak(&max_queued, &seen, q)) {
    }
}

static void echo_input_end(void *state, ww_rpc_stream_t *st) {
    echo_t *e = state;
    ww_rpc_stream_finish(st, WW_OK, "echoed %d", e->n);
}

static void echo_close(void *state, bool cancelled) {
    free(state);
    if (cancelled) atomic_fetch_add(&n_cancelled, 1);
    atomic_fetch_add(&n_closed, 1);
}

static const ww_rpc_stream_handler_t echo = {
    .input = &google__protobuf__bytes_value__descriptor,
    .output = &google__protobuf__bytes_value__descriptor,
    .open = echo_open,
    .message = echo_message,
    .input_end = echo_input_end,
    .close = echo_close,
    .max_queued = QUEUE,
};

static ww_code_t authenticate(void *ctx, const char *method,
                              const char *authorization,
                              ww_rpc_caller_t *caller, ww_err_t *err) {
    (void)ctx;
    (void)method;
    if (!authorization || strcmp(authorization, "Bearer good") != 0)
        return ww_err_set(err, WW_ERR_UNAUTHENTICATED, "no valid token");
    snprintf(caller->identity, sizeof caller->identity, "tester");
    return WW_OK;
}

static ww_rpc_server_t *server;

/* Runs stream_client.py MODE ARGS against the server; its one line. */
static void client(char *out, size_t size, const char *args) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s/stream_client.py 127.0.0.1:%d %s 2>&1",
             WW_VENV_PYTHON, WW_TEST_RPC_DIR, ww_rpc_server_port(server), args);
    int rc = ww_test_proc_run(cmd, out, size);
    WW_ASSERT_MSG(rc == 0, "client %s exited %d: %s", args, rc, out);
}

/* Every stream opened so far has closed (the handler's state is freed). */
static void wait_all_closed(void) {
    int64_t end = ww_test_now_ms() + 20000;
    while (atomic_load(&n_closed) != atomic_load(&n_opened) &&
           ww_test_now_ms() < end)
        usleep(10000);
    WW_ASSERT_EQ_INT(atomic_load(&n_closed), atomic_load(&n_opened));
}

WW_TEST(stream_replies_in_order_and_half_close_ends_it) {
    int cancelled = atomic_load(&n_cancelled);
    char out[4096];
    client(out, sizeof out, "order 50");
    WW_ASSERT_CONTAINS(out, "ordered=True got=50 extra=0 status=OK");
    WW_ASSERT_CONTAINS(out, "details='echoed 50'");
    wait_all_closed();
    WW_ASSERT_EQ_INT(atomic_load(&n_cancelled), cancelled);
}

WW_TEST(stream_pipelined_requests_keep_their_order) {
    char out[4096];
    client(out, sizeof out, "pipeline 2000");
    WW_ASSERT_CONTAINS(out, "ordered=True got=2000 status=OK");
    WW_ASSERT_EQ_INT(atomic_load(&n_refused), 0);
    WW_ASSERT(atomic_load(&max_queued) <= QUEUE);
    wait_all_closed();
}

WW_TEST(stream_client_cancel_mid_stream_closes_it_cancelled) {
    int cancelled = atomic_load(&n_cancelled);
    char out[4096];
    client(out, sizeof out, "cancel 3");
    WW_ASSERT_CONTAINS(out, "got=3 after_cancel=CANCELLED");
    wait_all_closed();
    WW_ASSERT_EQ_INT(atomic_load(&n_cancelled), cancelled + 1);
}

WW_TEST(stream_client_that_stops_reading_is_not_read) {
    atomic_store(&max_queued, 0);
    char out[4096];
    /* 200 replies of 1 MiB: far more than HTTP/2 windows hold, so the
     * server's sends back up while the client does not read. */
    client(out, sizeof out, "stall 200 262144");
    long long taken = -1;
    const char *t = strstr(out, "taken_before_reading=");
    WW_ASSERT_MSG(t && sscanf(t, "taken_before_reading=%lld", &taken) == 1,
                  "no count in %s", out);
    WW_ASSERT_MSG(taken > 0 && taken < 200,
                  "grpcio took %lld of 200 requests while nothing was read: "
                  "the server kept reading (%s)",
                  taken, out);
    fprintf(stderr, "  client: %s\n", out);
    WW_ASSERT_CONTAINS(out, "ordered=True got=200 status=OK");
    WW_ASSERT_EQ_INT(atomic_load(&n_refused), 0);
    WW_ASSERT_MSG(atomic_load(&max_queued) <= QUEUE, "queue reached %d of %d",
                  atomic_load(&max_queued), QUEUE);
    wait_all_closed();
}

WW_TEST(stream_undecodable_request_is_invalid_argument) {
    char out[4096];
    client(out, sizeof out, "garbage");
    WW_ASSERT_CONTAINS(out, "status=INVALID_ARGUMENT");
    WW_ASSERT_CONTAINS(out, "not a valid google.protobuf.BytesValue");
    wait_all_closed();
}

WW_TEST(stream_without_token_is_refused_before_it_opens) {
    int opened = atomic_load(&n_opened);
    char out[4096];
    client(out, sizeof out, "notoken");
    WW_ASSERT_CONTAINS(out, "status=UNAUTHENTICATED");
    WW_ASSERT_CONTAINS(out, "no valid token");
    WW_ASSERT_EQ_INT(atomic_load(&n_opened), opened);
}

/* Starts stream_client.py ARGS in the background against `srv`; returns once
 * it printed "held" (its stream is open), with its stdout in *fd. */
static pid_t hold(ww_rpc_server_t *srv, const char *seconds, int *fd) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ww_rpc_server_port(srv));
    pid_t pid = ww_test_proc_spawn(
        (const char *[]){WW_VENV_PYTHON, WW_TEST_RPC_DIR "/stream_client.py",
                         target, "hold", seconds, NULL},
        &(ww_test_proc_opts_t){.stdout_fd = fd});
    char line[64] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(*fd, line + n, 1);
        if (r <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    WW_ASSERT_EQ_STR(line, "held");
    return pid;
}

static void read_rest(int fd, char *out, size_t size) {
    size_t n = 0;
    ssize_t r;
    while (n < size - 1 && (r = read(fd, out + n, size - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fd);
}

WW_TEST(stream_held_past_its_deadline_closes_cancelled) {
    int cancelled = atomic_load(&n_cancelled);
    int fd;
    pid_t pid = hold(server, "1.5", &fd);
    char out[4096];
    read_rest(fd, out, sizeof out);
    WW_ASSERT_EQ_INT(ww_test_proc_wait(pid, 30000), 0);
    WW_ASSERT_CONTAINS(out, "status=DEADLINE_EXCEEDED");
    wait_all_closed();
    WW_ASSERT_EQ_INT(atomic_load(&n_cancelled), cancelled + 1);
}

WW_TEST(server_shutdown_ends_open_streams) {
    ww_rpc_server_config_t cfg = {.listen_addr = "127.0.0.1:0", .threads = 2};
    ww_rpc_server_t *srv;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_rpc_server_new(&cfg, &srv, &err), WW_OK);
    WW_ASSERT_EQ_INT(
        ww_rpc_server_add_stream(srv, "test.Echo", "Chat", &echo, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_rpc_server_start(srv, &err), WW_OK);
    int fd;
    pid_t pid = hold(srv, "60", &fd);
    /* Returns once every call is gone: the stream's close ran by then. */
    ww_rpc_server_shutdown(srv, 300);
    WW_ASSERT_EQ_INT(atomic_load(&n_closed), atomic_load(&n_opened));
    char out[4096];
    read_rest(fd, out, sizeof out);
    WW_ASSERT_EQ_INT(ww_test_proc_wait(pid, 30000), 0);
    ww_rpc_server_destroy(srv);
    /* Past the grace period the core cancels every call; the client
     * sees the stream end UNAVAILABLE, as for any call cut by shutdown. */
    WW_ASSERT_CONTAINS(out, "status=UNAVAILABLE");
}

WW_TEST(stream_service_is_listed_with_health) {
    const char *names[8];
    size_t n = ww_rpc_server_services(server, names, 8);
    WW_ASSERT_EQ_INT(n, 2);
    WW_ASSERT_EQ_STR(names[0], "test.Echo");
    WW_ASSERT_EQ_STR(names[1], "grpc.health.v1.Health");
}

int main(int argc, char **argv) {
    ww_rpc_server_config_t cfg = {
        .listen_addr = "127.0.0.1:0",
        .threads = 2,
        .authenticate = authenticate,
    };
    ww_err_t err;
    if (ww_rpc_server_new(&cfg, &server, &err) != WW_OK ||
        ww_rpc_server_add_stream(server, "test.Echo", "Chat", &echo, &err) !=
            WW_OK ||
        ww_rpc_server_start(server, &err) != WW_OK) {
        fprintf(stderr, "server: %s\n", err.msg);
        return 1;
    }
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(stream_replies_in_order_and_half_close_ends_it),
            WW_CASE(stream_pipelined_requests_keep_their_order),
            WW_CASE(stream_client_cancel_mid_stream_closes_it_cancelled),
            WW_CASE(stream_client_that_stops_reading_is_not_read),
            WW_CASE(stream_undecodable_request_is_invalid_argument),
            WW_CASE(stream_without_token_is_refused_before_it_opens),
            WW_CASE(stream_held_past_its_deadline_closes_cancelled),
            WW_CASE(server_shutdown_ends_open_streams),
            WW_CASE(stream_service_is_listed_with_health),
            {0}});
    ww_rpc_server_shutdown(server, 5000);
    ww_rpc_server_destroy(server);
    return rc;
}
