/* ww_test_grpcio.c - a grpcio call through support/grpc_call.py. */
#include "ww_test_grpcio.h"

#include "ww_test.h"
#include "ww_test_proc.h"

#include <fcntl.h>

#ifndef WW_VENV_PYTHON
#error "WW_VENV_PYTHON must name the test venv's python"
#endif
#ifndef WW_TEST_SUPPORT_DIR
#error "WW_TEST_SUPPORT_DIR must name tests/support"
#endif

enum { MAX_REQUEST = 2048, MAX_OUTPUT = 65536 };

/* The token goes through a file of its own: no other process on the
 * machine sees it in a command line. */
static void write_token(char *path, size_t size, const char *token) {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, size, "%s/ww-grpcio-token-XXXXXX", tmp);
    int fd = mkstemp(path);
    WW_ASSERT_MSG(fd >= 0, "mkstemp %s", path);
    size_t len = strlen(token);
    ssize_t n = write(fd, token, len);
    close(fd);
    WW_ASSERT_MSG(n == (ssize_t)len, "write %s", path);
}

static void to_hex(const uint8_t *b, size_t n, char *hex) {
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    hex[2 * n] = '\0';
}

static ProtobufCMessage *unpack_hex(const char *hex,
                                    const ProtobufCMessageDescriptor *type) {
    size_t n = strlen(hex) / 2;
    uint8_t *b = malloc(n ? n : 1);
    WW_ASSERT_MSG(b, "out of memory");
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(b);
            WW_ASSERT_MSG(0, "reply is not hex: %s", hex);
        }
        b[i] = (uint8_t)v;
    }
    ProtobufCMessage *m = protobuf_c_message_unpack(type, NULL, n, b);
    free(b);
    WW_ASSERT_MSG(m, "reply is not a valid %s", type->name);
    return m;
}

ProtobufCMessage *ww_test_grpcio_call(const ww_test_grpcio_call_t *call,
                                      char *status, size_t size) {
    uint8_t req[MAX_REQUEST];
    size_t len = protobuf_c_message_get_packed_size(call->request);
    WW_ASSERT_MSG(len <= sizeof req, "request of %zu bytes", len);
    protobuf_c_message_pack(call->request, req);
    char hex[2 * MAX_REQUEST + 1], token_path[512], cmd[8192];
    to_hex(req, len, hex);
    write_token(token_path, sizeof token_path, call->token);
    snprintf(cmd, sizeof cmd, "'%s' '%s/grpc_call.py' '%s' '%s' '%s' '%s' '%s'",
             WW_VENV_PYTHON, WW_TEST_SUPPORT_DIR, call->target, call->ca_pem,
             token_path, call->method, hex);
    char *out = malloc(MAX_OUTPUT);
    WW_ASSERT_MSG(out, "out of memory");
    int rc = ww_test_proc_run(cmd, out, MAX_OUTPUT);
    unlink(token_path);
    /* The outcome is the last line (grpcio's own messages go to stderr). */
    const char *line = strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out;
    snprintf(status, size, "%s", line);
    bool answered = rc == 0 && line[0];
    bool ok =
        answered && !strncmp(line, "OK", 2) && (!line[2] || line[2] == ' ');
    ProtobufCMessage *reply = NULL;
    if (ok) {
        status[size > 2 ? 2 : size - 1] = '\0'; /* "OK", without the bytes */
        reply = unpack_hex(line[2] ? line + 3 : "", call->reply_type);
    }
    free(out);
    WW_ASSERT_MSG(answered, "grpc_call.py exited with %d: %s", rc, status);
    return reply;
}
