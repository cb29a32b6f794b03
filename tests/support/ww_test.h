/*
 * ww_test.h - the project's tiny test runner: typed assertions that print
 * both sides, one binary per feature, one ctest test per binary.
 *
 *   WW_TEST(rejects_negative_balance) { WW_ASSERT_EQ_INT(x, 0); }
 *   int main(int argc, char **argv) {
 *       return ww_test_main(argc, argv, (ww_test_case_t[]){
 *           WW_CASE(rejects_negative_balance), {0}});
 *   }
 *
 * A failed assertion ends its case (longjmp) and the binary goes on with the
 * next one; main's exit code is non-zero if any failed. `binary NAME` runs
 * the cases whose name contains NAME. The last line is "N passed, N failed".
 */
#ifndef WW_TEST_H
#define WW_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct ww_test_case {
    const char *name;
    void (*fn)(void);
} ww_test_case_t;

#define WW_TEST(name) static void name(void)
#define WW_CASE(name) {#name, name}

extern jmp_buf ww_test__jmp;

#define WW__FAIL(...)                                                        \
    do {                                                                     \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                    \
        fprintf(stderr, __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                 \
        longjmp(ww_test__jmp, 1);                                            \
    } while (0)

#define WW_ASSERT(cond)                                                      \
    do {                                                                     \
        if (!(cond)) WW__FAIL("assertion failed: %s", #cond);                \
    } while (0)

#define WW_ASSERT_MSG(cond, ...)                                             \
    do {                                                                     \
        if (!(cond)) WW__FAIL(__VA_ARGS__);                                  \
    } while (0)

#define WW_ASSERT_EQ_INT(actual, expected)                                   \
    do {                                                                     \
        long long ww__a = (long long)(actual), ww__e = (long long)(expected); \
        if (ww__a != ww__e)                                                  \
            WW__FAIL("%s == %s: got %lld, want %lld", #actual, #expected,    \
                     ww__a, ww__e);                                          \
    } while (0)

#define WW_ASSERT_EQ_STR(actual, expected)                                   \
    do {                                                                     \
        const char *ww__a = (actual), *ww__e = (expected);                   \
        if (!ww__a || !ww__e || strcmp(ww__a, ww__e) != 0)                   \
            WW__FAIL("%s == %s: got \"%s\", want \"%s\"", #actual,           \
                     #expected, ww__a ? ww__a : "(null)",                    \
                     ww__e ? ww__e : "(null)");                              \
    } while (0)

#define WW_ASSERT_CONTAINS(haystack, needle)                                 \
    do {                                                                     \
        const char *ww__h = (haystack), *ww__n = (needle);                   \
        if (!ww__h || !strstr(ww__h, ww__n))                                 \
            WW__FAIL("%s contains \"%s\": got \"%s\"", #haystack, ww__n,     \
                     ww__h ? ww__h : "(null)");                              \
    } while (0)

/* Monotonic milliseconds, for bounded waits in tests. */
static inline int64_t ww_test_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The real broker's bootstrap address; fails the case (never skips it) when
 * the suite was started without one (run it through scripts/test.sh). */
const char *ww_test_kafka_brokers(void);

/* A name no other test run on the same broker uses: prefix-pid-time-n. */
static inline const char *ww_test_unique_name(char *buf, size_t size,
                                              const char *prefix) {
    static unsigned counter;
    snprintf(buf, size, "%s-%d-%lld-%u", prefix, (int)getpid(),
             (long long)time(NULL), ++counter);
    return buf;
}

/* Runs the cases (NULL-name terminated); returns main's exit code. */
int ww_test_main(int argc, char **argv, const ww_test_case_t *cases);

#endif
