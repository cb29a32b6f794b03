/* ww_test.c - state of the test runner shared by a binary's files. */
#include "ww_test.h"

jmp_buf ww_test__jmp;

const char *ww_test_kafka_brokers(void) {
    const char *brokers = getenv("KAFKA_BROKERS");
    if (!brokers || !*brokers)
        WW__FAIL("KAFKA_BROKERS is not set: run the suite through "
                 "scripts/test.sh (or scripts/with-kafka.sh)");
    return brokers;
}

/* setjmp lives in its own frame so no local of the loop can be clobbered. */
static bool run_case(const ww_test_case_t *c) {
    if (setjmp(ww_test__jmp) != 0) return false;
    c->fn();
    return true;
}

int ww_test_main(int argc, char **argv, const ww_test_case_t *cases) {
    int passed = 0, failed = 0;
    const char *filter = argc > 1 ? argv[1] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (const ww_test_case_t *c = cases; c->name; c++) {
        if (filter && !strstr(c->name, filter)) continue;
        int64_t t0 = ww_test_now_ms();
        fprintf(stderr, "[ RUN  ] %s\n", c->name);
        bool ok = run_case(c);
        ok ? passed++ : failed++;
        fprintf(stderr, "[ %s ] %s (%lld ms)\n", ok ? " OK " : "FAIL",
                c->name, (long long)(ww_test_now_ms() - t0));
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
