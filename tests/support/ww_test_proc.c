/* ww_test_proc.c - child processes, ports and commands for tests. */
#include "ww_test_proc.h"

#include "ww_test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static struct sockaddr_in loopback(int port) {
    return (struct sockaddr_in){.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

int ww_test_proc_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    WW_ASSERT_MSG(fd >= 0, "socket failed");
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
             getsockname(fd, (struct sockaddr *)&a, &len) == 0;
    close(fd);
    WW_ASSERT_MSG(ok, "no free port on 127.0.0.1");
    return ntohs(a.sin_port);
}

/* Whether environment entry `entry` ("NAME=VALUE") is for `name` (a bare
 * NAME or a NAME=VALUE entry of its own). */
static bool same_name(const char *entry, const char *name) {
    size_t n = strcspn(name, "=");
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Drops the entries of env[0..n) for `name`; returns the new count. */
static size_t drop(char **env, size_t n, const char *name) {
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!same_name(env[i], name)) env[kept++] = env[i];
    return kept;
}

/* The child's environment (see ww_test_proc_opts_t): malloc'd, its strings
 * borrowed. Built before fork: the child may only make calls that take no
 * lock another thread of the parent could have held, and setenv does. */
static char **child_environment(const ww_test_proc_opts_t *o) {
    extern char **environ;
    size_t n = 0, cap = 1;
    for (char **e = environ; *e; e++)
        cap++;
    for (const char *const *c = o->env; c && *c; c++)
        cap++;
    char **env = malloc(cap * sizeof *env);
    WW_ASSERT_MSG(env, "out of memory");
    for (char **e = environ; *e; e++)
        env[n++] = *e;
    for (const char *const *u = o->unset; u && *u; u++)
        n = drop(env, n, *u);
    for (const char *const *c = o->env; c && *c; c++) {
        WW_ASSERT_MSG(strchr(*c, '='), "not NAME=VALUE: %s", *c);
        n = drop(env, n, *c);
        env[n++] = (char *)*c;
    }
    env[n] = NULL;
    return env;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void exec_child(const char *const *argv, char **env,
                       const char *stderr_path, const int *out_pipe,
                       pid_t test) {
    /* A test that dies (a failed sanitizer check aborts it) takes its
     * children along: left running, they would keep ctest's output pipe
     * open until the test's timeout and hide the real failure. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != test) _exit(127);
    if (stderr_path) {
        int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0) _exit(127);
    }
    if (out_pipe && dup2(out_pipe[1], 1) < 0) _exit(127);
    execvpe(argv[0], (char *const *)argv, env);
    _exit(127);
}

pid_t ww_test_proc_spawn(const char *const *argv,
                         const ww_test_proc_opts_t *opts) {
    ww_test_proc_opts_t none = {0};
    const ww_test_proc_opts_t *o = opts ? opts : &none;
    char **env = child_environment(o);
    int fds[2];
    /* Close-on-exec, so no other child keeps the pipe open after its exec
     * (dup2 onto stdout clears the flag for this child's copy). */
    if (o->stdout_fd) WW_ASSERT_MSG(pipe2(fds, O_CLOEXEC) == 0, "pipe failed");
    pid_t test = getpid();
    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, env, o->stderr_path, o->stdout_fd ? fds : NULL, test);
    free(env);
    if (pid < 0 && o->stdout_fd) {
        close(fds[0]);
        close(fds[1]);
    }
    WW_ASSERT_MSG(pid > 0, "fork failed for %s", argv[0]);
    if (o->stdout_fd) {
        close(fds[1]);
        *o->stdout_fd = fds[0];
    }
    return pid;
}

bool ww_test_proc_has_ended(pid_t pid) {
    siginfo_t info = {0};
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
           info.si_pid == pid;
}

bool ww_test_proc_wait_port(int port, pid_t pid, int timeout_ms) {
    int64_t until = ww_test_now_ms() + timeout_ms;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = loopback(port);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0) close(fd);
        if (ok) return true;
        if ((pid > 0 && ww_test_proc_has_ended(pid)) ||
            ww_test_now_ms() >= until)
            return false;
        usleep(20000);
    }
}

static int exit_code(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ww_test_proc_wait(pid_t pid, int timeout_ms) {
    int64_t until = ww_test_now_ms() + timeout_ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return exit_code(st);
        if (r < 0) return -1; /* not our child, or collected already */
        if (ww_test_now_ms() >= until) break;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

int ww_test_proc_stop(pid_t pid, int sig, int timeout_ms) {
    if (pid <= 0) return -1;
    kill(pid, sig);
    return ww_test_proc_wait(pid, timeout_ms);
}

int ww_test_proc_run(const char *command, char *out, size_t size) {
    out[0] = '\0';
    FILE *p = popen(command, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    /* Read what did not fit too: a writer cut off by a closed pipe would
     * die of SIGPIPE and hide its real exit code. */
    char rest[4096];
    while (fread(rest, 1, sizeof rest, p) > 0) {
    }
    while (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
