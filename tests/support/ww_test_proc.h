/*
 * ww_test_proc.h - child processes for tests: a free port, a program started
 * with the environment a case chooses, waiting for its port or its end,
 * stopping it, and a shell command's output.
 *
 *   int port = ww_test_proc_free_port();
 *   char listen[64];
 *   snprintf(listen, sizeof listen, "WW_LISTEN_ADDR=127.0.0.1:%d", port);
 *   pid_t pid = ww_test_proc_spawn(
 *       (const char *[]){TRAINER_BIN, NULL},
 *       &(ww_test_proc_opts_t){
 *           .env = (const char *[]){"GRPC_NO_TLS=true", listen, NULL},
 *           .stderr_path = log});
 *   WW_ASSERT_MSG(ww_test_proc_wait_port(port, pid, 10000), "see %s", log);
 *   ...
 *   WW_ASSERT_EQ_INT(ww_test_proc_stop(pid, SIGTERM, 10000), 0);
 *
 * Use from the test's main thread: a child is killed (SIGKILL) when the
 * thread that started it ends, so a test that dies leaves no server behind.
 * A child only execs after fork, so a test may spawn while other threads
 * (gRPC's, librdkafka's) run. A fork that fails ends the case; everything
 * else reports through its return value, so the case says what it
 * expected.
 */
#ifndef WW_TEST_PROC_H
#define WW_TEST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it;
 * nothing holds it, so use it soon). */
int ww_test_proc_free_port(void);

typedef struct ww_test_proc_opts {
    /* The child's environment is the test's, without the variables named
     * in `unset`, then with the "NAME=VALUE" entries of `env` (a later entry
     * for a name wins). Both NULL-terminated; NULL: no change. */
    const char *const *unset;
    const char *const *env;
    /* The child's stderr goes to this file (created or truncated); NULL: the
     * test's stderr. */
    const char *stderr_path;
    /* Out, optional: the read end of a pipe from the child's stdout, for the
     * caller to read and close; NULL: the child writes to the test's
     * stdout. */
    int *stdout_fd;
} ww_test_proc_opts_t;

/* Starts argv[0] (a path, or a name looked up in PATH) with arguments argv
 * (NULL-terminated; both borrowed). `opts` may be NULL. Returns the child's
 * pid; a child whose exec fails exits with 127. */
pid_t ww_test_proc_spawn(const char *const *argv,
                         const ww_test_proc_opts_t *opts);

/* True once 127.0.0.1:port accepts a connection; false when `pid` (if > 0)
 * has ended first or `timeout_ms` passed. An ended child stays a zombie for
 * ww_test_proc_wait to collect. */
bool ww_test_proc_wait_port(int port, pid_t pid, int timeout_ms);

/* Whether `pid` has ended; leaves it a zombie for ww_test_proc_wait. */
bool ww_test_proc_has_ended(pid_t pid);

/* Waits up to `timeout_ms` for `pid` to end and collects it: its exit code,
 * 128 + the signal that ended it, or -1 when it was still running (it is
 * then killed with SIGKILL and collected, so no child outlives its case). */
int ww_test_proc_wait(pid_t pid, int timeout_ms);

/* Sends `sig` to `pid`, then ww_test_proc_wait. pid <= 0: does nothing and
 * returns -1. */
int ww_test_proc_stop(pid_t pid, int sig, int timeout_ms);

/* Runs `command` with /bin/sh (append 2>&1 to capture its stderr too): its
 * stdout goes to out (NUL-terminated, at most size - 1 bytes, trailing
 * newlines dropped). Returns its exit code, or -1 when it could not run or
 * a signal ended it. */
int ww_test_proc_run(const char *command, char *out, size_t size);

#endif
