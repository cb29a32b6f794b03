/* The idempotency cache alone: which results it keeps, under which key
 * (bound to the request bytes), for how long, how much each identity may
 * hold, and that what it hands back is the caller's own copy. */
#include "ww_rpc_idempotency.h"
#include "ww_test.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>

static grpc_byte_buffer *bytes(const char *text) {
    grpc_slice s = grpc_slice_from_copied_string(text);
    grpc_byte_buffer *b = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return b;
}

/* The buffer's bytes as a string in buf; destroys the buffer. */
static const char *text_of(grpc_byte_buffer *b, char *buf, size_t size) {
    grpc_byte_buffer_reader r;
    WW_ASSERT(grpc_byte_buffer_reader_init(&r, b));
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    snprintf(buf, size, "%.*s", (int)GRPC_SLICE_LENGTH(s),
             (const char *)GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    grpc_byte_buffer_reader_destroy(&r);
    grpc_byte_buffer_destroy(b);
    return buf;
}

static int64_t fake_ms;
static int64_t fake_now(void) {
    return fake_ms;
}

static ww_rpc_idempotency_t *cache_with(size_t capacity, size_t per_identity,
                                        int64_t ttl_ms) {
    ww_rpc_idempotency_t *c;
    ww_err_t err;
    ww_rpc_idempotency_opts_t o = {.capacity = capacity,
                                   .per_identity = per_identity,
                                   .ttl_ms = ttl_ms,
                                   .now_ms = fake_now};
    WW_ASSERT_MSG(ww_rpc_idempotency_new(&o, &c, &err) == WW_OK, "%s", err.msg);
    return c;
}

static ww_rpc_idempotency_t *cache_of(size_t capacity) {
    return cache_with(capacity, capacity, 0);
}

static const unsigned char body_a[32] = {1}, body_b[32] = {2};
static const ww_rpc_idempotency_key_t k1 = {"/a.A/Do", "alice", "k-1", body_a};

#define HIT WW_RPC_IDEMPOTENCY_HIT

WW_TEST(a_remembered_result_comes_back_as_the_callers_copy) {
    ww_rpc_idempotency_t *c = cache_of(4);
    grpc_byte_buffer *resp = bytes("first");
    ww_rpc_idempotency_remember(c, &k1, GRPC_STATUS_OK, NULL, resp);
    grpc_byte_buffer_destroy(resp); /* borrowed: the cache keeps a copy */
    ww_rpc_idempotency_result_t r;
    char buf[32];
    for (int i = 0; i < 2; i++) {
        WW_ASSERT(ww_rpc_idempotency_find(c, &k1, &r) == HIT);
        WW_ASSERT_EQ_INT(r.code, GRPC_STATUS_OK);
        WW_ASSERT_EQ_STR(r.details, "");
        WW_ASSERT_EQ_STR(text_of(r.response, buf, sizeof buf), "first");
    }
    ww_rpc_idempotency_destroy(c);
}

WW_TEST(the_key_is_method_identity_and_key_together) {
    ww_rpc_idempotency_t *c = cache_of(8);
    ww_rpc_idempotency_remember(c, &k1, GRPC_STATUS_NOT_FOUND, "gone", NULL);
    ww_rpc_idempotency_result_t r;
    const ww_rpc_idempotency_key_t others[] = {
        {"/a.A/Other", "alice", "k-1", body_a},
        {"/a.A/Do", "bob", "k-1", body_a},
        {"/a.A/Do", "alice", "k-2", body_a}};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        WW_ASSERT(ww_rpc_idempotency_find(c, &others[i], &r) ==
                  WW_RPC_IDEMPOTENCY_MISS);
    WW_ASSERT(ww_rpc_idempotency_find(c, &k1, &r) == HIT);
    WW_ASSERT_EQ_INT(r.code, GRPC_STATUS_NOT_FOUND);
    WW_ASSERT_EQ_STR(r.details, "gone");
    WW_ASSERT(r.response == NULL);
    ww_rpc_idempotency_destroy(c);
}

WW_TEST(transient_outcomes_are_never_remembered) {
    ww_rpc_idempotency_t *c = cache_of(16);
    const grpc_status_code transient[] = {GRPC_STATUS_UNAVAILABLE,
                                          GRPC_STATUS_DEADLINE_EXCEEDED,
                                          GRPC_STATUS_CANCELLED,
                                          GRPC_STATUS_INTERNAL,
                                          GRPC_STATUS_RESOURCE_EXHAUSTED,
                                          GRPC_STATUS_UNAUTHENTICATED,
                                          GRPC_STATUS_UNKNOWN};
    ww_rpc_idempotency_result_t r;
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        ww_rpc_idempotency_remember(c, &k1, transient[i], "try again", NULL);
        WW_ASSERT_MSG(!ww_rpc_idempotency_find(c, &k1, &r),
                      "status %d was remembered", (int)transient[i]);
        WW_ASSERT_EQ_INT(ww_rpc_idempotency_count(c, NULL), 0);
    }
    /* a refusal is a result, not a transient outcome */
    ww_rpc_idempotency_remember(c, &k1, GRPC_STATUS_FAILED_PRECONDITION, "no",
                                NULL);
    WW_ASSERT(ww_rpc_idempotency_find(c, &k1, &r) == HIT);
    ww_rpc_idempotency_destroy(c);
}

WW_TEST(the_first_result_of_a_key_wins) {
    ww_rpc_idempotency_t *c = cache_of(4);
    ww_rpc_idempotency_remember(c, &k1, GRPC_STATUS_ALREADY_EXISTS, "first",
                                NULL);
    ww_rpc_idempotency_remember(c, &k1, GRPC_STATUS_OK, "second", NULL);
    ww_rpc_idempotency_result_t r;
    WW_ASSERT(ww_rpc_idempotency_find(c, &k1, &r) == HIT);
    WW_ASSERT_EQ_INT(r.code, GRPC_STATUS_ALREADY_EXISTS);
    WW_ASSERT_EQ_STR(r.details, "first");
    ww_rpc_idempotency_destroy(c);
}

WW_TEST(the_oldest_key_is_forgotten_first) {
    enum { CAP = 3 };
    ww_rpc_idempotency_t *c = cache_of(CAP);
    char name[CAP + 2][16];
    ww_rpc_idempotency_key_t keys[CAP + 2];
    for (int i = 0; i < CAP + 2; i++) {
        snprintf(name[i], sizeof name[i], "k-%d", i);
        keys[i] = (ww_rpc_idempotency_key_t){"/a.A/Do", "", name[i], body_a};
        ww_rpc_idempotency_remember(c, &keys[i], GRPC_STATUS_OK, NULL, NULL);
    }
    ww_rpc_idempotency_result_t r;
    WW_ASSERT(!ww_rpc_idempotency_find(c, &keys[0], &r));
    WW_ASSERT(!ww_rpc_idempotency_find(c, &keys[1], &r));
    for (int i = 2; i < CAP + 2; i++)
        WW_ASSERT_MSG(ww_rpc_idempotency_find(c, &keys[i], &r) == HIT,
                      "k-%d forgotten too early", i);
    ww_rpc_idempotency_destroy(c);
}

WW_TEST(the_same_key_with_another_request_is_a_conflict) {
    ww_rpc_idempotency_t *c = cache_of(4);
    ww_rpc_idempotency_remember(c, &k1, GRPC_STATUS_OK, NULL, NULL);
    ww_rpc_idempotency_key_t other = k1;
    other.digest = body_b;
    ww_rpc_idempotency_result_t r = {.code = GRPC_STATUS_ABORTED};
    WW_ASSERT_EQ_INT(ww_rpc_idempotency_find(c, &other, &r),
                     WW_RPC_IDEMPOTENCY_CONFLICT);
    WW_ASSERT_EQ_INT(r.code, GRPC_STATUS_ABORTED); /* untouched */
    /* a later result for the other body does not replace the first */
    ww_rpc_idempotency_remember(c, &other, GRPC_STATUS_NOT_FOUND, "x", NULL);
    WW_ASSERT(ww_rpc_idempotency_find(c, &k1, &r) == HIT);
    WW_ASSERT_EQ_INT(r.code, GRPC_STATUS_OK);
    ww_rpc_idempotency_destroy(c);
}

WW_TEST(an_entry_expires_after_its_ttl) {
    fake_ms = 1000;
    ww_rpc_idempotency_t *c = cache_with(4, 4, 500);
    ww_rpc_idempotency_remember(c, &k1, GRPC_STATUS_OK, NULL, NULL);
    ww_rpc_idempotency_result_t r;
    fake_ms = 1499;
    WW_ASSERT(ww_rpc_idempotency_find(c, &k1, &r) == HIT);
    fake_ms = 1500;
    WW_ASSERT(ww_rpc_idempotency_find(c, &k1, &r) == WW_RPC_IDEMPOTENCY_MISS);
    WW_ASSERT_EQ_INT(ww_rpc_idempotency_count(c, NULL), 0);
    ww_rpc_idempotency_destroy(c);
    fake_ms = 0;
}

/* The trigger of the review: a flood of fresh keys from one identity must
 * not evict another identity's entry. */
WW_TEST(a_flood_of_fresh_keys_evicts_only_the_flooders_entries) {
    ww_rpc_idempotency_t *c = cache_with(64, 8, 0);
    ww_rpc_idempotency_key_t legit = {"/a.A/Do", "alice", "retry-me", body_a};
    ww_rpc_idempotency_remember(c, &legit, GRPC_STATUS_OK, "applied", NULL);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "flood-%d", i);
        ww_rpc_idempotency_key_t k = {"/a.A/Do", "mallory", key, body_b};
        ww_rpc_idempotency_remember(c, &k, GRPC_STATUS_OK, NULL, NULL);
    }
    WW_ASSERT_EQ_INT(ww_rpc_idempotency_count(c, "mallory"), 8);
    ww_rpc_idempotency_result_t r;
    WW_ASSERT(ww_rpc_idempotency_find(c, &legit, &r) == HIT);
    WW_ASSERT_EQ_STR(r.details, "applied");
    ww_rpc_idempotency_destroy(c);
}

/* Many identities filling the whole cache: the one holding most pays. */
WW_TEST(a_full_cache_evicts_from_the_largest_holder) {
    ww_rpc_idempotency_t *c = cache_with(10, 6, 0);
    ww_rpc_idempotency_key_t a = {"/a.A/Do", "alice", "a-0", body_a};
    ww_rpc_idempotency_remember(c, &a, GRPC_STATUS_OK, NULL, NULL);
    char key[32], who[32];
    for (int i = 0; i < 9; i++) { /* m0 holds 6, m1..m3 one each */
        snprintf(who, sizeof who, "m%d", i < 6 ? 0 : i - 5);
        snprintf(key, sizeof key, "k-%d", i);
        ww_rpc_idempotency_key_t k = {"/a.A/Do", who, key, body_b};
        ww_rpc_idempotency_remember(c, &k, GRPC_STATUS_OK, NULL, NULL);
    }
    WW_ASSERT_EQ_INT(ww_rpc_idempotency_count(c, NULL), 10);
    ww_rpc_idempotency_key_t b = {"/a.A/Do", "bob", "b-0", body_a};
    ww_rpc_idempotency_remember(c, &b, GRPC_STATUS_OK, NULL, NULL);
    WW_ASSERT_EQ_INT(ww_rpc_idempotency_count(c, NULL), 10);
    WW_ASSERT_EQ_INT(ww_rpc_idempotency_count(c, "m0"), 5);
    ww_rpc_idempotency_result_t r;
    WW_ASSERT(ww_rpc_idempotency_find(c, &a, &r) == HIT);
    WW_ASSERT(ww_rpc_idempotency_find(c, &b, &r) == HIT);
    ww_rpc_idempotency_destroy(c);
}

WW_TEST(a_cache_of_no_keys_is_refused) {
    ww_rpc_idempotency_t *c = (ww_rpc_idempotency_t *)1;
    ww_err_t err;
    ww_rpc_idempotency_opts_t o = {.capacity = 0};
    WW_ASSERT_EQ_INT(ww_rpc_idempotency_new(&o, &c, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT(c == NULL);
    WW_ASSERT_CONTAINS(err.msg, "capacity");
}

int main(int argc, char **argv) {
    grpc_init();
    int rc = ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(a_remembered_result_comes_back_as_the_callers_copy),
            WW_CASE(the_key_is_method_identity_and_key_together),
            WW_CASE(transient_outcomes_are_never_remembered),
            WW_CASE(the_first_result_of_a_key_wins),
            WW_CASE(the_oldest_key_is_forgotten_first),
            WW_CASE(the_same_key_with_another_request_is_a_conflict),
            WW_CASE(an_entry_expires_after_its_ttl),
            WW_CASE(a_flood_of_fresh_keys_evicts_only_the_flooders_entries),
            WW_CASE(a_full_cache_evicts_from_the_largest_holder),
            WW_CASE(a_cache_of_no_keys_is_refused),
            {0}});
    grpc_shutdown_blocking();
    return rc;
}
