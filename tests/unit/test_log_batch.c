/* test_log_batch.c - batched log lines: held back only inside a batch,
 * written whole and in order, never later than a WARN of the same thread,
 * the buffer size or the 10 ms age bound. stderr is captured into a file;
 * every case restores it before asserting. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww_log.h"
#include "ww_test.h"

static int saved_fd = -1;
static char path[64];

static void capture_start(void) {
    snprintf(path, sizeof path, "/tmp/ww-log-batch-%d.txt", (int)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
    WW_ASSERT(fd >= 0);
    saved_fd = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

/* What stderr received so far; the caller frees it. */
static char *captured(void) {
    FILE *f = fopen(path, "r");
    if (!f) return strdup("");
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static void capture_stop(void) {
    dup2(saved_fd, STDERR_FILENO);
    close(saved_fd);
    unlink(path);
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    return n;
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000};
    nanosleep(&ts, NULL);
}

WW_TEST(unbatched_lines_are_written_at_once) {
    capture_start();
    ww_log_info("test", "n=1");
    int due = ww_log_batch_due_ms();
    char *out = captured();
    capture_stop();
    WW_ASSERT_EQ_INT(due, -1);
    WW_ASSERT_CONTAINS(out, " INFO test n=1\n");
    free(out);
}

WW_TEST(batched_lines_wait_for_a_flush_and_keep_their_order) {
    capture_start();
    ww_log_batch_begin();
    int due_empty = ww_log_batch_due_ms();
    ww_log_info("test", "n=1");
    ww_log_debug("test", "n=2");
    int due_pending = ww_log_batch_due_ms();
    char *before = captured();
    ww_log_batch_flush();
    char *after = captured();
    int due_flushed = ww_log_batch_due_ms();
    ww_log_batch_end();
    capture_stop();
    WW_ASSERT_EQ_INT(due_empty, -1);
    WW_ASSERT_MSG(due_pending >= 0 && due_pending <= 10, "due %d ms",
                  due_pending);
    WW_ASSERT_EQ_STR(before, "");
    WW_ASSERT_EQ_INT(count_lines(after), 2);
    char *one = strstr(after, "test n=1\n"), *two = strstr(after, "test n=2\n");
    WW_ASSERT(one && two && one < two);
    WW_ASSERT_EQ_INT(due_flushed, -1);
    free(before);
    free(after);
}

WW_TEST(a_warning_is_never_held_back_and_follows_pending_lines) {
    capture_start();
    ww_log_batch_begin();
    ww_log_info("test", "n=1");
    ww_log_warn("test", "n=2");
    char *out = captured();
    int due = ww_log_batch_due_ms();
    ww_log_batch_end();
    capture_stop();
    WW_ASSERT_EQ_INT(count_lines(out), 2);
    char *one = strstr(out, "INFO test n=1\n"),
         *two = strstr(out, "WARN test n=2\n");
    WW_ASSERT(one && two && one < two);
    WW_ASSERT_EQ_INT(due, -1);
    free(out);
}

WW_TEST(a_full_buffer_leaves_as_whole_lines) {
    char pad[101];
    memset(pad, 'x', 100);
    pad[100] = '\0';
    capture_start();
    ww_log_batch_begin();
    for (int i = 0; i < 100; i++) ww_log_info("test", "n=%d pad=%s", i, pad);
    char *partial = captured();
    ww_log_batch_end(); /* writes the rest */
    char *all = captured();
    capture_stop();
    size_t plen = strlen(partial);
    WW_ASSERT_MSG(plen > 0 && plen <= 4096 * 4, "%zu bytes before the end",
                  plen);
    WW_ASSERT_MSG(partial[plen - 1] == '\n', "a line was cut");
    WW_ASSERT_MSG(count_lines(partial) < 100, "nothing was held back");
    WW_ASSERT_EQ_INT(count_lines(all), 100);
    const char *p = all;
    for (int i = 0; i < 100; i++) {
        char want[32];
        snprintf(want, sizeof want, "test n=%d pad=", i);
        p = strstr(p, want);
        WW_ASSERT_MSG(p != NULL, "line %d missing or out of order", i);
    }
    free(partial);
    free(all);
}

WW_TEST(an_old_pending_line_leaves_with_the_next_one) {
    capture_start();
    ww_log_batch_begin();
    ww_log_info("test", "n=1");
    sleep_ms(15);
    int due = ww_log_batch_due_ms();
    ww_log_info("test", "n=2");
    char *out = captured();
    ww_log_batch_end();
    capture_stop();
    WW_ASSERT_EQ_INT(due, 0);
    WW_ASSERT_EQ_INT(count_lines(out), 2);
    free(out);
}

int main(int argc, char **argv) {
    setenv("WW_LOG_LEVEL", "debug", 1); /* read once, at the first line */
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(unbatched_lines_are_written_at_once),
            WW_CASE(batched_lines_wait_for_a_flush_and_keep_their_order),
            WW_CASE(a_warning_is_never_held_back_and_follows_pending_lines),
            WW_CASE(a_full_buffer_leaves_as_whole_lines),
            WW_CASE(an_old_pending_line_leaves_with_the_next_one),
            {0}});
}
