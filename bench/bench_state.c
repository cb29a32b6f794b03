/*
 * bench_state - the memory of a service's state, as the allocator counts
 * it (mallinfo2: bytes in use before and after), for N users each with a
 * balance (the users state a read model or an owner holds per copy), and
 * the size of its canonical bytes (what a snapshot carries).
 *
 *   bench_state [N]      default 1000000
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "ww_users_domain.h"

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    struct mallinfo2 before = mallinfo2();
    ww_users_state_t *s = ww_users_state_new();
    if (!s) return 1;
    ww_err_t err;
    char id[32];
    for (long i = 0; i < n; i++) {
        snprintf(id, sizeof id, "fill-%04ld", i);
        if (ww_users_update_balance(s, id, 1 + i % 5, &err) != WW_OK) {
            fprintf(stderr, "bench_state: %s\n", err.msg);
            return 1;
        }
    }
    struct mallinfo2 after = mallinfo2();
    uint8_t *bytes;
    size_t len;
    if (ww_users_state_serialize(s, &bytes, &len, &err) != WW_OK) return 1;
    double mib = (double)(after.uordblks - before.uordblks) / 1048576.0;
    printf("| users | state in use MiB | per 1,000,000 users MiB | canonical "
           "bytes MiB |\n|---|---|---|---|\n");
    printf("| %ld | %.1f | %.1f | %.1f |\n", n, mib, mib * 1e6 / (double)n,
           (double)len / 1048576.0);
    free(bytes);
    ww_users_state_destroy(s);
    return 0;
}
