/*
 * Event ids: version 4, RFC 4122 variant, unique across many draws and
 * threads, and never shared between a process and its forked child (the
 * random bytes are buffered per thread).
 */
#include "ww_bus_uuid.h"
#include "ww_test.h"

#include <pthread.h>
#include <sys/wait.h>

enum { PER_THREAD = 3000, THREADS = 4 };
static char ids[THREADS * PER_THREAD][WW_BUS_UUID_SIZE];

static void *draw(void *arg) {
    char(*out)[WW_BUS_UUID_SIZE] = arg;
    for (int i = 0; i < PER_THREAD; i++)
        if (ww_bus_uuid4(out[i], NULL) != WW_OK) out[i][0] = '\0';
    return NULL;
}

static int cmp(const void *a, const void *b) {
    return strcmp(a, b);
}

WW_TEST(ids_are_version4_and_unique_across_threads) {
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        WW_ASSERT(pthread_create(&t[i], NULL, draw, ids[i * PER_THREAD]) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        const char *s = ids[i];
        WW_ASSERT_EQ_INT(strlen(s), WW_BUS_UUID_SIZE - 1);
        WW_ASSERT_MSG(s[8] == '-' && s[13] == '-' && s[18] == '-' &&
                          s[23] == '-',
                      "dashes misplaced: %s", s);
        WW_ASSERT_MSG(s[14] == '4', "not version 4: %s", s);
        WW_ASSERT_MSG(strchr("89ab", s[19]), "not the RFC 4122 variant: %s", s);
        WW_ASSERT_MSG(strspn(s, "0123456789abcdef-") == WW_BUS_UUID_SIZE - 1,
                      "not lower-case hex: %s", s);
    }
    qsort(ids, THREADS * PER_THREAD, sizeof ids[0], cmp);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        WW_ASSERT_MSG(strcmp(ids[i - 1], ids[i]), "duplicate id %s", ids[i]);
}

/* Ids come from a per-thread buffer of random bytes; a forked child must
 * not hand out the same ids as its parent. */
WW_TEST(a_forked_child_never_repeats_the_parents_ids) {
    char before[40], parent[40], child[40] = {0};
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_bus_uuid4(before, &err), WW_OK); /* fills the buffer */
    int fds[2];
    WW_ASSERT(pipe(fds) == 0);
    pid_t pid = fork();
    WW_ASSERT(pid >= 0);
    if (pid == 0) {
        char id[40];
        ww_bus_uuid4(id, NULL);
        ssize_t w = write(fds[1], id, 37);
        _exit(w == 37 ? 0 : 1);
    }
    WW_ASSERT_EQ_INT(ww_bus_uuid4(parent, &err), WW_OK);
    WW_ASSERT_EQ_INT(read(fds[0], child, 37), 37);
    close(fds[0]);
    close(fds[1]);
    int status;
    waitpid(pid, &status, 0);
    WW_ASSERT(strcmp(parent, child) != 0);
    WW_ASSERT(strcmp(before, child) != 0);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(ids_are_version4_and_unique_across_threads),
            WW_CASE(a_forked_child_never_repeats_the_parents_ids),
            {0}});
}
