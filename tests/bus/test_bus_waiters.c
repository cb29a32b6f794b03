/*
 * The request/reply waiter registry alone: a reply reaches exactly the
 * waiter registered under its correlation id, whether it arrives before or
 * during the wait; timeouts, duplicates, unknown ids and shutdown behave as
 * documented; many threads completing and waiting at once lose nothing.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "ww_bus_waiters.h"
#include "ww_test.h"

WW_TEST(reply_before_wait_is_kept_for_the_waiter) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    ww_bus_waiter_t *w;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "c-1", &w, &err), WW_OK);
    WW_ASSERT(ww_bus_waiters_complete(ws, "c-1", "hello", 5));
    void *p;
    size_t len;
    WW_ASSERT_EQ_INT(ww_bus_waiter_wait(w, 1000, &p, &len, &err), WW_OK);
    WW_ASSERT_EQ_INT(len, 5);
    WW_ASSERT_EQ_STR((char *)p, "hello");
    free(p);
    ww_bus_waiters_stats_t s = ww_bus_waiters_stats(ws);
    WW_ASSERT_EQ_INT(s.completed, 1);
    WW_ASSERT_EQ_INT(s.pending, 0);
    ww_bus_waiters_destroy(ws);
}

WW_TEST(payload_is_an_owned_copy) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    ww_bus_waiter_t *w;
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "c", &w, NULL), WW_OK);
    char buf[4] = {'a', 0, 'b', 'c'};
    WW_ASSERT(ww_bus_waiters_complete(ws, "c", buf, sizeof buf));
    memset(buf, 'x', sizeof buf); /* the reader's buffer is gone */
    void *p;
    size_t len;
    WW_ASSERT_EQ_INT(ww_bus_waiter_wait(w, 0, &p, &len, NULL), WW_OK);
    WW_ASSERT_EQ_INT(len, 4);
    WW_ASSERT(memcmp(p, (char[]){'a', 0, 'b', 'c'}, 4) == 0);
    free(p);
    ww_bus_waiters_destroy(ws);
}

WW_TEST(timeout_reports_deadline_exceeded_and_frees_the_id) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    ww_bus_waiter_t *w;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "slow", &w, &err), WW_OK);
    void *p = (void *)1;
    size_t len = 7;
    int64_t t0 = ww_test_now_ms();
    WW_ASSERT_EQ_INT(ww_bus_waiter_wait(w, 100, &p, &len, &err),
                     WW_ERR_DEADLINE_EXCEEDED);
    int64_t took = ww_test_now_ms() - t0;
    WW_ASSERT_MSG(took >= 95 && took < 2000, "waited %lld ms", (long long)took);
    WW_ASSERT(p == NULL);
    WW_ASSERT_EQ_INT(len, 0);
    WW_ASSERT_CONTAINS(err.msg, "slow");
    /* The late reply is nobody's now, and the id can be used again. */
    WW_ASSERT(!ww_bus_waiters_complete(ws, "slow", "late", 4));
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).unclaimed, 1);
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).timed_out, 1);
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "slow", &w, &err), WW_OK);
    ww_bus_waiter_cancel(w);
    ww_bus_waiters_destroy(ws);
}

WW_TEST(duplicate_ids_and_bad_ids_are_refused) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    ww_bus_waiter_t *w, *w2 = NULL;
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "dup", &w, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "dup", &w2, &err),
                     WW_ERR_ALREADY_EXISTS);
    WW_ASSERT(w2 == NULL);
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "", &w2, &err),
                     WW_ERR_INVALID_ARGUMENT);
    char longid[WW_BUS_WAITERS_MAX_ID + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, longid, &w2, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, NULL, &w2, &err),
                     WW_ERR_INVALID_ARGUMENT);
    ww_bus_waiter_cancel(w);
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).pending, 0);
    ww_bus_waiters_destroy(ws);
}

WW_TEST(second_reply_for_the_same_id_is_ignored) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    ww_bus_waiter_t *w;
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "x", &w, NULL), WW_OK);
    WW_ASSERT(ww_bus_waiters_complete(ws, "x", "first", 5));
    WW_ASSERT(!ww_bus_waiters_complete(ws, "x", "second", 6));
    void *p;
    size_t len;
    WW_ASSERT_EQ_INT(ww_bus_waiter_wait(w, 0, &p, &len, NULL), WW_OK);
    WW_ASSERT_EQ_STR((char *)p, "first");
    free(p);
    ww_bus_waiters_destroy(ws);
}

WW_TEST(unknown_id_is_counted_as_unclaimed) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    WW_ASSERT(!ww_bus_waiters_complete(ws, "nobody", "r", 1));
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).unclaimed, 1);
    ww_bus_waiters_destroy(ws);
}

struct blocked {
    ww_bus_waiter_t *w;
    atomic_int tid; /* the waiting thread's id, once it runs */
    ww_code_t code;
    char msg[256];
};

static void *wait_forever(void *arg) {
    struct blocked *b = arg;
    atomic_store(&b->tid, (int)gettid());
    void *p;
    size_t len;
    ww_err_t err = {0};
    b->code = ww_bus_waiter_wait(b->w, -1, &p, &len, &err);
    snprintf(b->msg, sizeof b->msg, "%s", err.msg);
    return NULL;
}

/* Whether thread `tid` of this process sleeps in the kernel on a futex
 * inside the allocation at `block`. /proc shows the system call a blocked
 * thread is in and its arguments, the first being the futex's address. A
 * waiter's condition variable lives in the waiter itself, so a thread asleep
 * on its own waiter is inside ww_bus_waiter_wait, past the registry's lock
 * (which lives elsewhere): no sleep in the test can say as much. */
static bool asleep_on(int tid, const void *block) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool in_futex = false;
    long nr;
    unsigned long addr;
    if (fgets(line, sizeof line, f) &&
        sscanf(line, "%ld %lx", &nr, &addr) == 2 && nr == SYS_futex) {
        uintptr_t lo = (uintptr_t)block;
        in_futex = addr >= lo && addr < lo + malloc_usable_size((void *)block);
    }
    fclose(f);
    return in_futex;
}

WW_TEST(fail_all_wakes_blocked_waiters_and_refuses_new_ones) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    struct blocked b[3] = {0};
    pthread_t th[3];
    char id[16];
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "w%d", i);
        WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, id, &b[i].w, NULL),
                         WW_OK);
        pthread_create(&th[i], NULL, wait_forever, &b[i]);
    }
    /* Only once all three sleep in their waits does fail_all prove it wakes
     * blocked waiters (a waiter failed before it waits returns at once). */
    int64_t until = ww_test_now_ms() + 10000;
    int blocked = 0;
    while (blocked < 3 && ww_test_now_ms() < until) {
        blocked = 0;
        for (int i = 0; i < 3; i++) {
            int tid = atomic_load(&b[i].tid);
            blocked += tid && asleep_on(tid, b[i].w);
        }
        if (blocked < 3) usleep(1000);
    }
    WW_ASSERT_MSG(blocked == 3, "only %d of 3 waiters blocked in 10 s",
                  blocked);
    ww_bus_waiters_fail_all(ws, WW_ERR_CANCELLED, "server stopping");
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        WW_ASSERT_EQ_INT(b[i].code, WW_ERR_CANCELLED);
        WW_ASSERT_CONTAINS(b[i].msg, "server stopping");
    }
    ww_bus_waiter_t *w;
    WW_ASSERT_EQ_INT(ww_bus_waiters_register(ws, "late", &w, NULL),
                     WW_ERR_UNAVAILABLE);
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).pending, 0);
    ww_bus_waiters_destroy(ws);
}

/* Many callers and one reply reader, as in a server: each caller registers,
 * "produces" (pushes its id to a shared list the reader drains), and waits;
 * every caller must get its own reply, none lost, none crossed. */
enum { CALLERS = 8, CALLS_EACH = 500 };

static struct {
    pthread_mutex_t lock;
    char ids[CALLERS * CALLS_EACH][32];
    int head, tail;
    int done_callers;
} requests = {.lock = PTHREAD_MUTEX_INITIALIZER};

static ww_bus_waiters_t *shared_ws;
static int wrong_replies;

static void *caller(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < CALLS_EACH; i++) {
        char id[32];
        snprintf(id, sizeof id, "c%d-%d", me, i);
        ww_bus_waiter_t *w;
        if (ww_bus_waiters_register(shared_ws, id, &w, NULL) != WW_OK) {
            __atomic_add_fetch(&wrong_replies, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        pthread_mutex_lock(&requests.lock);
        snprintf(requests.ids[requests.tail++], 32, "%s", id);
        pthread_mutex_unlock(&requests.lock);
        void *p;
        size_t len;
        if (ww_bus_waiter_wait(w, 10000, &p, &len, NULL) != WW_OK ||
            strcmp(p, id) != 0)
            __atomic_add_fetch(&wrong_replies, 1, __ATOMIC_SEQ_CST);
        free(p);
    }
    pthread_mutex_lock(&requests.lock);
    requests.done_callers++;
    pthread_mutex_unlock(&requests.lock);
    return NULL;
}

static void *reply_reader(void *arg) {
    (void)arg;
    for (;;) {
        char id[32] = "";
        bool finished;
        pthread_mutex_lock(&requests.lock);
        if (requests.head < requests.tail)
            snprintf(id, sizeof id, "%s", requests.ids[requests.head++]);
        finished = requests.done_callers == CALLERS &&
                   requests.head == requests.tail;
        pthread_mutex_unlock(&requests.lock);
        if (finished) return NULL;
        if (!*id) {
            sched_yield();
            continue;
        }
        /* The reply echoes the id, so a crossed reply is detected. */
        if (!ww_bus_waiters_complete(shared_ws, id, id, strlen(id)))
            __atomic_add_fetch(&wrong_replies, 1, __ATOMIC_SEQ_CST);
    }
}

WW_TEST(concurrent_callers_each_get_their_own_reply) {
    shared_ws = ww_bus_waiters_new();
    pthread_t callers[CALLERS], reader;
    pthread_create(&reader, NULL, reply_reader, NULL);
    for (int i = 0; i < CALLERS; i++)
        pthread_create(&callers[i], NULL, caller, (void *)(intptr_t)i);
    for (int i = 0; i < CALLERS; i++) pthread_join(callers[i], NULL);
    pthread_join(reader, NULL);
    WW_ASSERT_EQ_INT(wrong_replies, 0);
    ww_bus_waiters_stats_t s = ww_bus_waiters_stats(shared_ws);
    WW_ASSERT_EQ_INT(s.completed, CALLERS * CALLS_EACH);
    WW_ASSERT_EQ_INT(s.registered, CALLERS * CALLS_EACH);
    WW_ASSERT_EQ_INT(s.pending, 0);
    ww_bus_waiters_destroy(shared_ws);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(reply_before_wait_is_kept_for_the_waiter),
            WW_CASE(payload_is_an_owned_copy),
            WW_CASE(timeout_reports_deadline_exceeded_and_frees_the_id),
            WW_CASE(duplicate_ids_and_bad_ids_are_refused),
            WW_CASE(second_reply_for_the_same_id_is_ignored),
            WW_CASE(unknown_id_is_counted_as_unclaimed),
            WW_CASE(fail_all_wakes_blocked_waiters_and_refuses_new_ones),
            WW_CASE(concurrent_callers_each_get_their_own_reply),
            {0}});
}
