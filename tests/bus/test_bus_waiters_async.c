/* test_bus_waiters_async.c - asynchronous waiters: answered exactly once,
 * by the reply, by a sweep after their time, or by fail_all; withdrawn ones
 * never; callbacks may register again (no lock held). No broker. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "ww_bus_waiters.h"
#include "ww_test.h"

typedef struct got {
    int calls;
    ww_code_t code;
    char payload[300];
    ww_bus_waiters_t *again; /* register a follow-up from the callback */
} got_t;

static void on_answer(void *opaque, ww_code_t code, const void *payload,
                      size_t len, const ww_err_t *err) {
    got_t *g = opaque;
    g->calls++;
    g->code = code;
    if (code == WW_OK) {
        memcpy(g->payload, payload, len < 299 ? len : 299);
        g->payload[len < 299 ? len : 299] = 0;
    } else {
        snprintf(g->payload, sizeof g->payload, "%s", err ? err->msg : "");
    }
    if (g->again)
        ww_bus_waiters_register_async(g->again, "follow-up", -1, on_answer,
                                      g, NULL);
}

WW_TEST(async_waiters_are_answered_exactly_once) {
    ww_bus_waiters_t *ws = ww_bus_waiters_new();
    got_t a = {0}, b = {0}, c = {0}, d = {0};
    ww_err_t err;
    WW_ASSERT_EQ_INT(
        ww_bus_waiters_register_async(ws, "a", -1, on_answer, &a, &err), WW_OK);
    WW_ASSERT_EQ_INT(
        ww_bus_waiters_register_async(ws, "a", -1, on_answer, &a, &err),
        WW_ERR_ALREADY_EXISTS);
    WW_ASSERT_EQ_INT(
        ww_bus_waiters_register_async(ws, "b", 50, on_answer, &b, &err), WW_OK);
    WW_ASSERT_EQ_INT(
        ww_bus_waiters_register_async(ws, "c", -1, on_answer, &c, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_bus_waiters_register_async(ws, "", -1, on_answer, &c,
                                                   &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).pending, 3);

    /* the reply answers, once; a duplicate reply is unclaimed */
    a.again = ws;
    WW_ASSERT(ww_bus_waiters_complete(ws, "a", "reply-a", 7));
    WW_ASSERT(!ww_bus_waiters_complete(ws, "a", "reply-a", 7));
    WW_ASSERT_EQ_INT(a.calls, 1);
    WW_ASSERT_EQ_INT(a.code, WW_OK);
    WW_ASSERT_EQ_STR(a.payload, "reply-a");
    a.again = NULL;

    /* a sweep before the deadline answers nothing, after it only b */
    WW_ASSERT_EQ_INT(ww_bus_waiters_sweep(ws), 0);
    usleep(80000);
    WW_ASSERT_EQ_INT(ww_bus_waiters_sweep(ws), 1);
    WW_ASSERT_EQ_INT(b.calls, 1);
    WW_ASSERT_EQ_INT(b.code, WW_ERR_DEADLINE_EXCEEDED);
    WW_ASSERT(!ww_bus_waiters_complete(ws, "b", "late", 4));
    WW_ASSERT_EQ_INT(b.calls, 1);

    /* withdrawn: never answered */
    WW_ASSERT(ww_bus_waiters_withdraw(ws, "c"));
    WW_ASSERT(!ww_bus_waiters_withdraw(ws, "c"));
    WW_ASSERT(!ww_bus_waiters_complete(ws, "c", "x", 1));
    WW_ASSERT_EQ_INT(c.calls, 0);

    /* fail_all answers the rest (the follow-up registered from a's
     * callback) and refuses new ones */
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).pending, 1);
    ww_bus_waiters_fail_all(ws, WW_ERR_UNAVAILABLE, "shutting down");
    WW_ASSERT_EQ_INT(a.calls, 2);
    WW_ASSERT_EQ_INT(a.code, WW_ERR_UNAVAILABLE);
    WW_ASSERT_CONTAINS(a.payload, "shutting down");
    WW_ASSERT_EQ_INT(
        ww_bus_waiters_register_async(ws, "d", -1, on_answer, &d, &err),
        WW_ERR_UNAVAILABLE);
    WW_ASSERT_EQ_INT(d.calls, 0);
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(ws).pending, 0);
    ww_bus_waiters_destroy(ws);
}

typedef struct race {
    ww_bus_waiters_t *ws;
    int n;
    int answered; /* atomic */
} race_t;

static void count_answer(void *opaque, ww_code_t code, const void *payload,
                         size_t len, const ww_err_t *err) {
    (void)code, (void)payload, (void)len, (void)err;
    __atomic_add_fetch(&((race_t *)opaque)->answered, 1, __ATOMIC_SEQ_CST);
}

static void *completer(void *arg) {
    race_t *r = arg;
    for (int i = 0; i < r->n; i++) {
        char id[32];
        snprintf(id, sizeof id, "w%d", i);
        ww_bus_waiters_complete(r->ws, id, "ok", 2);
    }
    return NULL;
}

static void *sweeper(void *arg) {
    race_t *r = arg;
    for (int i = 0; i < 200; i++) ww_bus_waiters_sweep(r->ws);
    return NULL;
}

/* Replies, sweeps and registrations from several threads: every waiter is
 * answered exactly once. */
WW_TEST(replies_and_sweeps_racing_answer_each_waiter_once) {
    race_t r = {.ws = ww_bus_waiters_new(), .n = 5000};
    for (int i = 0; i < r.n; i++) {
        char id[32];
        snprintf(id, sizeof id, "w%d", i);
        WW_ASSERT_EQ_INT(ww_bus_waiters_register_async(r.ws, id, i % 3 ? -1 : 0,
                                                       count_answer, &r, NULL),
                         WW_OK);
    }
    pthread_t a, b;
    pthread_create(&a, NULL, completer, &r);
    pthread_create(&b, NULL, sweeper, &r);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ww_bus_waiters_sweep(r.ws);
    WW_ASSERT_EQ_INT(__atomic_load_n(&r.answered, __ATOMIC_SEQ_CST), r.n);
    WW_ASSERT_EQ_INT(ww_bus_waiters_stats(r.ws).pending, 0);
    ww_bus_waiters_destroy(r.ws);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (const ww_test_case_t[]){
            WW_CASE(async_waiters_are_answered_exactly_once),
            WW_CASE(replies_and_sweeps_racing_answer_each_waiter_once),
            {0}});
}
