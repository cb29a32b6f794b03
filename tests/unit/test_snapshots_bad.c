/* test_snapshots_bad.c - malformed snapshots are refused: every truncation,
 * flipped bytes (refused, or a state whose bytes are the input), and each
 * rule of the deserialisers with its message and byte offset. */
#include "snapshot_test_util.h"

#define TA "e0000000-0000-4000-8000-00000000000a"
#define TB "e0000000-0000-4000-8000-00000000000b"

/* ------------------------------------------------------------ helpers */

/* Deserialises as one kind; on WW_OK the result's own bytes in *again. */
typedef ww_code_t (*decode_fn)(const uint8_t *b, size_t n, bytes_t *again,
                               ww_err_t *err);

static ww_code_t dec_trainer(const uint8_t *b, size_t n, bytes_t *again,
                             ww_err_t *err) {
    ww_trainer_state_t *s = NULL;
    ww_code_t rc = ww_trainer_state_deserialize(b, n, &s, err);
    if (rc == WW_OK) {
        *again = snap(s);
        ww_trainer_state_destroy(s);
    }
    return rc;
}

static ww_code_t dec_users(const uint8_t *b, size_t n, bytes_t *again,
                           ww_err_t *err) {
    ww_users_state_t *s = NULL;
    ww_code_t rc = ww_users_state_deserialize(b, n, &s, err);
    if (rc == WW_OK) {
        *again = users_bytes(s);
        ww_users_state_destroy(s);
    }
    return rc;
}

static ww_code_t dec_roster(const uint8_t *b, size_t n, bytes_t *again,
                            ww_err_t *err) {
    ww_trainer_roster_t *r = NULL;
    ww_code_t rc = ww_trainer_roster_deserialize(b, n, &r, err);
    if (rc == WW_OK) {
        *again = roster_bytes(r);
        ww_trainer_roster_destroy(r);
    }
    return rc;
}

static ww_code_t dec_shard(const ww_shard_ops_t *ops, const uint8_t *b,
                           size_t n, bytes_t *again, ww_err_t *err) {
    ww_shard_t *s = NULL;
    ww_code_t rc = ww_shard_deserialize(ops, b, n, &s, err);
    if (rc == WW_OK) {
        *again = shard_bytes(s);
        ww_shard_destroy(s);
    }
    return rc;
}

static ww_code_t dec_users_shard(const uint8_t *b, size_t n, bytes_t *again,
                                 ww_err_t *err) {
    return dec_shard(&ww_users_shard_ops, b, n, again, err);
}

static ww_code_t dec_trainer_shard(const uint8_t *b, size_t n, bytes_t *again,
                                   ww_err_t *err) {
    return dec_shard(&ww_trainer_roster_shard_ops, b, n, again, err);
}

/* A heap copy of exactly n bytes, so ASan sees a read past them. */
static uint8_t *exact(const uint8_t *p, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    WW_ASSERT(b);
    memcpy(b, p, n);
    return b;
}

typedef struct kind {
    const char *name;
    decode_fn dec;
    bytes_t bytes;
} kind_t;

/* The valid inputs of every kind (freed by kinds_free). */
static size_t kinds(kind_t k[5]) {
    ww_trainer_state_t *t = trainer_built();
    ww_users_state_t *u = users_built();
    ww_trainer_roster_t *r = roster_built();
    ww_shard_t *us = shard_built(&ww_users_shard_ops, users_built());
    ww_shard_t *ts = shard_built(&ww_trainer_roster_shard_ops, roster_built());
    k[0] = (kind_t){"trainer state", dec_trainer, snap(t)};
    k[1] = (kind_t){"users state", dec_users, users_bytes(u)};
    k[2] = (kind_t){"roster", dec_roster, roster_bytes(r)};
    k[3] = (kind_t){"users shard", dec_users_shard, shard_bytes(us)};
    k[4] = (kind_t){"trainer shard", dec_trainer_shard, shard_bytes(ts)};
    ww_trainer_state_destroy(t);
    ww_users_state_destroy(u);
    ww_trainer_roster_destroy(r);
    ww_shard_destroy(us);
    ww_shard_destroy(ts);
    for (int i = 0; i < 5; i++) {
        bytes_t again = {0};
        WW_ASSERT_EQ_INT(k[i].dec(k[i].bytes.b, k[i].bytes.n, &again, NULL),
                         WW_OK);
        WW_ASSERT(again.n == k[i].bytes.n &&
                  memcmp(again.b, k[i].bytes.b, again.n) == 0);
        free(again.b);
    }
    return 5;
}

static void kinds_free(kind_t *k, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(k[i].bytes.b);
}

/* ---------------------------------------------- truncation and flips */

WW_TEST(every_truncation_is_refused) {
    kind_t k[5];
    size_t n = kinds(k);
    for (size_t i = 0; i < n; i++)
        for (size_t cut = 0; cut < k[i].bytes.n; cut++) {
            uint8_t *b = exact(k[i].bytes.b, cut);
            bytes_t again = {0};
            ww_err_t err = {0};
            ww_code_t rc = k[i].dec(b, cut, &again, &err);
            free(b);
            free(again.b);
            WW_ASSERT_MSG(rc == WW_ERR_INVALID_ARGUMENT,
                          "%s cut at %zu of %zu: %s", k[i].name, cut,
                          k[i].bytes.n, ww_code_name(rc));
            WW_ASSERT_CONTAINS(err.msg, "byte offset");
        }
    kinds_free(k, n);
}

WW_TEST(flipped_bytes_are_refused_or_describe_a_state_exactly) {
    static const uint8_t masks[] = {0x01, 0x20, 0x80, 0xff};
    kind_t k[5];
    size_t n = kinds(k);
    for (size_t i = 0; i < n; i++) {
        size_t refused = 0;
        uint8_t *b = exact(k[i].bytes.b, k[i].bytes.n);
        for (size_t at = 0; at < k[i].bytes.n; at++)
            for (size_t m = 0; m < sizeof masks; m++) {
                b[at] ^= masks[m];
                bytes_t again = {0};
                ww_err_t err = {0};
                ww_code_t rc = k[i].dec(b, k[i].bytes.n, &again, &err);
                if (rc == WW_OK) {
                    WW_ASSERT_MSG(again.n == k[i].bytes.n &&
                                      memcmp(again.b, b, again.n) == 0,
                                  "%s: flip %02x at %zu accepted, but its "
                                  "state writes other bytes",
                                  k[i].name, masks[m], at);
                } else {
                    WW_ASSERT_MSG(rc == WW_ERR_INVALID_ARGUMENT && err.msg[0],
                                  "%s: flip %02x at %zu: %s", k[i].name,
                                  masks[m], at, ww_code_name(rc));
                    refused++;
                }
                /* magic and version never survive a flip */
                WW_ASSERT_MSG(at >= 8 || rc != WW_OK,
                              "%s: flip %02x at %zu accepted", k[i].name,
                              masks[m], at);
                free(again.b);
                b[at] ^= masks[m];
            }
        free(b);
        WW_ASSERT(refused > 8 * sizeof masks);
    }
    kinds_free(k, n);
}

/* ------------------------------------------------------ users state */

typedef struct user_e {
    const char *id;
    int64_t balance;
} user_e;

typedef struct debit_e {
    const char *uuid, *user;
    uint8_t outcome, refunded;
    int64_t refund;
} debit_e;

/* Users bytes as given (valid totals, sum_updates + `off`). */
static bytes_t users_raw(const char *magic, uint32_t version, const user_e *u,
                         size_t nu, const debit_e *d, size_t nd, int64_t off) {
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, magic, 4);
    ww_canon_u32(&c, version);
    uint64_t balances = 0, debits = 0, refunds = 0;
    ww_canon_u64(&c, nu);
    for (size_t i = 0; i < nu; i++) {
        ww_canon_str(&c, u[i].id);
        ww_canon_i64(&c, u[i].balance);
        balances += (uint64_t)u[i].balance;
    }
    ww_canon_u64(&c, nd);
    for (size_t i = 0; i < nd; i++) {
        ww_canon_str(&c, d[i].uuid);
        ww_canon_str(&c, d[i].user);
        ww_canon_u8(&c, d[i].outcome);
        ww_canon_u8(&c, d[i].refunded);
        ww_canon_i64(&c, d[i].refund);
        debits += d[i].outcome == 1;
        refunds += (uint64_t)d[i].refund;
    }
    ww_canon_u64(&c, balances - refunds + debits + (uint64_t)off);
    ww_canon_u64(&c, debits);
    ww_canon_u64(&c, refunds);
    return writer_bytes(&c);
}

static int sentinel;

/* Refused as INVALID_ARGUMENT with `want` in the message, *out untouched. */
static void users_refused(bytes_t b, const char *want) {
    ww_users_state_t *s = (ww_users_state_t *)&sentinel;
    ww_err_t err = {0};
    ww_code_t rc = ww_users_state_deserialize(b.b, b.n, &s, &err);
    free(b.b);
    WW_ASSERT_MSG(rc == WW_ERR_INVALID_ARGUMENT, "%s: got %s", want,
                  ww_code_name(rc));
    WW_ASSERT_CONTAINS(err.msg, want);
    WW_ASSERT(s == (ww_users_state_t *)&sentinel);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

WW_TEST(users_bytes_that_break_a_rule_are_refused) {
    const user_e good_u[] = {{"anna", 3}, {"bob", 2}};
    const debit_e good_d[] = {{TA, "anna", 1, 0, 0}, {TB, "carl", 2, 0, 0}};
    /* the hand-made bytes themselves are valid */
    bytes_t ok = users_raw("WWUS", 1, good_u, 2, good_d, 2, 0);
    ww_users_state_t *s = NULL;
    ww_err_t err;
    WW_ASSERT_MSG(ww_users_state_deserialize(ok.b, ok.n, &s, &err) == WW_OK,
                  "%s", err.msg);
    WW_ASSERT_EQ_INT(ww_users_training_outcome(s, TB), WW_USERS_DEBIT_REJECTED);
    ww_users_state_destroy(s);
    free(ok.b);

    users_refused(users_raw("WWUX", 1, good_u, 2, good_d, 2, 0),
                  "magic at byte offset 0: \"WWUX\" is not \"WWUS\"");
    users_refused(users_raw("WWUS", 2, good_u, 2, good_d, 2, 0),
                  "version at byte offset 4: 2 is not supported (only 1)");
    const user_e dup[] = {{"anna", 3}, {"anna", 2}};
    users_refused(users_raw("WWUS", 1, dup, 2, NULL, 0, 0),
                  "user at byte offset 32: \"anna\" repeats");
    const user_e unsorted[] = {{"bob", 2}, {"anna", 3}};
    users_refused(users_raw("WWUS", 1, unsorted, 2, NULL, 0, 0),
                  "user at byte offset 31: \"anna\" is not after the user "
                  "before it (not ascending)");
    const user_e zero[] = {{"anna", 0}};
    users_refused(users_raw("WWUS", 1, zero, 1, NULL, 0, 0),
                  "\"anna\" has balance 0, which is left out in canonical "
                  "form");
    const user_e neg[] = {{"anna", -4}};
    users_refused(users_raw("WWUS", 1, neg, 1, NULL, 0, 0),
                  "\"anna\" has balance -4, below 0");
    const user_e empty[] = {{"", 4}};
    users_refused(users_raw("WWUS", 1, empty, 1, NULL, 0, 0),
                  "user at byte offset 16: user_id is empty");
    const debit_e bad_uuid[] = {{"not-a-uuid", "anna", 1, 0, 0}};
    users_refused(users_raw("WWUS", 1, good_u, 2, bad_uuid, 1, 0),
                  "training at byte offset 55: \"not-a-uuid\" is not a UUID");
    const debit_e dup_d[] = {{TA, "anna", 1, 0, 0}, {TA, "bob", 2, 0, 0}};
    users_refused(users_raw("WWUS", 1, good_u, 2, dup_d, 2, 0), TA " repeats");
    const debit_e unsorted_d[] = {{TB, "anna", 1, 0, 0}, {TA, "bob", 2, 0, 0}};
    users_refused(users_raw("WWUS", 1, good_u, 2, unsorted_d, 2, 0),
                  TA " is not after the training before it");
    const debit_e outcome[] = {{TA, "anna", 3, 0, 0}};
    users_refused(users_raw("WWUS", 1, good_u, 2, outcome, 1, 0),
                  "outcome is neither debited (1) nor rejected (2)");
    const debit_e refunded_rejected[] = {{TA, "anna", 2, 1, 1}};
    users_refused(users_raw("WWUS", 1, good_u, 2, refunded_rejected, 1, 0),
                  "is refunded but was rejected");
    const debit_e refund_zero[] = {{TA, "anna", 1, 1, 0}};
    users_refused(users_raw("WWUS", 1, good_u, 2, refund_zero, 1, 0),
                  "is refunded by a non-positive amount");
    const debit_e stray_refund[] = {{TA, "anna", 1, 0, 2}};
    users_refused(users_raw("WWUS", 1, good_u, 2, stray_refund, 1, 0),
                  "has a refund but is not refunded");
    const debit_e not_bool[] = {{TA, "anna", 1, 2, 0}};
    users_refused(users_raw("WWUS", 1, good_u, 2, not_bool, 1, 0),
                  "training refunded at byte offset 104: 2 is not a boolean "
                  "(0 or 1)");
    const debit_e no_user[] = {{TA, "", 1, 0, 0}};
    users_refused(users_raw("WWUS", 1, good_u, 2, no_user, 1, 0),
                  TA ": user_id is empty");
    users_refused(users_raw("WWUS", 1, good_u, 2, good_d, 2, 1),
                  "sum_updates at byte offset ");

    /* totals that disagree with the entries, one at a time */
    bytes_t b = users_raw("WWUS", 1, good_u, 2, good_d, 2, 0);
    b.b[b.n - 9] ^= 1; /* sum_debits */
    users_refused(b, "sum_debits at byte offset ");
    b = users_raw("WWUS", 1, good_u, 2, good_d, 2, 0);
    b.b[b.n - 1] ^= 1; /* sum_refunds */
    users_refused(b, "but the refunds add up to 0");

    /* trailing bytes, a huge string length, a huge count */
    b = users_raw("WWUS", 1, good_u, 2, good_d, 2, 0);
    b.b = realloc(b.b, b.n + 1);
    b.b[b.n++] = 0;
    users_refused(b, "trailing bytes at byte offset ");
    b = users_raw("WWUS", 1, good_u, 1, NULL, 0, 0);
    memset(b.b + 16, 0xff, 4); /* anna's length */
    users_refused(b, "user_id at byte offset 16: length 4294967295 is over "
                     "the limit 128");
    b = users_raw("WWUS", 1, NULL, 0, NULL, 0, 0);
    b.b[8] = 0x40; /* 2^62 users */
    users_refused(b, "users at byte offset 8: 4611686018427387904 entries of "
                     "at least 12 bytes do not fit");
}

/* ----------------------------------------------------- trainer state */

typedef struct hour_e {
    int64_t hour;
    uint8_t available, scheduled;
    const char *holder;
} hour_e;

typedef struct training_e {
    const char *uuid, *user;
    int64_t hour;
    const char *notes;
    uint8_t status, debited, by_trainer;
    int64_t refund;
} training_e;

static bytes_t trainer_raw(const hour_e *h, size_t nh, const training_e *t,
                           size_t nt) {
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, "WWTR", 4);
    ww_canon_u32(&c, 1);
    ww_canon_u64(&c, nh);
    for (size_t i = 0; i < nh; i++) {
        ww_canon_i64(&c, h[i].hour);
        ww_canon_u8(&c, h[i].available);
        ww_canon_u8(&c, h[i].scheduled);
        ww_canon_str(&c, h[i].holder ? h[i].holder : "");
    }
    ww_canon_u64(&c, nt);
    for (size_t i = 0; i < nt; i++) {
        ww_canon_str(&c, t[i].uuid);
        ww_canon_str(&c, t[i].user);
        ww_canon_i64(&c, t[i].hour);
        ww_canon_str(&c, t[i].notes ? t[i].notes : "");
        ww_canon_u8(&c, t[i].status);
        ww_canon_u8(&c, t[i].debited);
        ww_canon_u8(&c, t[i].by_trainer);
        ww_canon_i64(&c, t[i].refund);
    }
    return writer_bytes(&c);
}

static void trainer_refused(bytes_t b, const char *want) {
    ww_trainer_state_t *s = (ww_trainer_state_t *)&sentinel;
    ww_err_t err = {0};
    ww_code_t rc = ww_trainer_state_deserialize(b.b, b.n, &s, &err);
    free(b.b);
    WW_ASSERT_MSG(rc == WW_ERR_INVALID_ARGUMENT, "%s: got %s", want,
                  ww_code_name(rc));
    WW_ASSERT_CONTAINS(err.msg, want);
    WW_ASSERT(s == (ww_trainer_state_t *)&sentinel);
}

#define TR(...) trainer_raw(__VA_ARGS__)

WW_TEST(trainer_bytes_that_break_a_rule_are_refused) {
    const int64_t h15 = at(1, 15).seconds, h16 = at(1, 16).seconds;
    const hour_e held[] = {{h15, 0, 1, TA}, {h16, 1, 0, NULL}};
    const training_e pend[] = {{TA, "anna", h15, "", 1, 0, 0, 0}};
    bytes_t ok = TR(held, 2, pend, 1);
    ww_trainer_state_t *s = NULL;
    ww_err_t err;
    WW_ASSERT_MSG(ww_trainer_state_deserialize(ok.b, ok.n, &s, &err) == WW_OK,
                  "%s", err.msg);
    ww_trainer_hour_view_t v;
    ww_trainer_get_hour(s, h15, &v);
    WW_ASSERT_EQ_STR(v.held_by, TA);
    ww_trainer_state_destroy(s);
    free(ok.b);

    /* holders */
    const hour_e held_b[] = {{h15, 0, 1, TB}};
    trainer_refused(TR(held_b, 1, NULL, 0),
                    "hour at byte offset 16: 2030-01-08T15:00:00Z is held by "
                    "training " TB ", which is not in the state");
    const training_e canceled[] = {{TA, "anna", h15, "", 3, 0, 0, 1}};
    trainer_refused(TR(held, 2, canceled, 1),
                    "held by training " TA ", which is CANCELED");
    const training_e elsewhere[] = {{TA, "anna", h16, "", 3, 0, 0, 1}};
    trainer_refused(TR(held, 2, elsewhere, 1), "at another hour or not active");
    const hour_e free15[] = {{h15, 1, 0, NULL}};
    trainer_refused(TR(free15, 1, pend, 1),
                    TA " is PENDING but does not hold its hour");
    const training_e two[] = {{TA, "anna", h15, "", 1, 0, 0, 0},
                              {TB, "bob", h16, "", 2, 1, 0, 0}};
    trainer_refused(TR(held_b, 1, two, 2),
                    TA " is PENDING but does not hold its hour");
    const hour_e bad_holder[] = {{h15, 0, 1, "xyz"}};
    trainer_refused(TR(bad_holder, 1, NULL, 0), "holder \"xyz\" is not a UUID");
    const hour_e unscheduled_holder[] = {{h15, 0, 0, TA}};
    trainer_refused(TR(unscheduled_holder, 1, pend, 1),
                    "is held but not scheduled");

    /* hours */
    const hour_e ten[] = {{at(1, 10).seconds, 1, 0, NULL}};
    trainer_refused(TR(ten, 1, NULL, 0), "is not the start of a working hour");
    const hour_e half[] = {{h15 + 1800, 1, 0, NULL}};
    trainer_refused(TR(half, 1, NULL, 0), "is not the start of a working hour");
    const hour_e both[] = {{h15, 1, 1, NULL}};
    trainer_refused(TR(both, 1, NULL, 0),
                    "2030-01-08T15:00:00Z is available and scheduled");
    const hour_e deflt[] = {{h15, 0, 0, NULL}};
    trainer_refused(TR(deflt, 1, NULL, 0),
                    "has the default state (not available, no training)");
    const hour_e unsorted[] = {{h16, 1, 0, NULL}, {h15, 1, 0, NULL}};
    trainer_refused(TR(unsorted, 2, NULL, 0), "hour at byte offset 30: ");
    trainer_refused(TR(unsorted, 2, NULL, 0),
                    "is not after the hour before it (not ascending)");
    const hour_e dup[] = {{h15, 1, 0, NULL}, {h15, 0, 1, NULL}};
    trainer_refused(TR(dup, 2, NULL, 0), " repeats");
    const hour_e not_bool[] = {{h15, 2, 0, NULL}};
    trainer_refused(TR(not_bool, 1, NULL, 0),
                    "hour available at byte offset 24: 2 is not a boolean");

    /* trainings */
    const training_e bad_uuid[] = {{"TA", "anna", h15, "", 4, 0, 0, 0}};
    trainer_refused(TR(NULL, 0, bad_uuid, 1),
                    "training at byte offset 24: \"TA\" is not a UUID");
    const training_e dup_t[] = {{TA, "anna", h15, "", 4, 0, 0, 0},
                                {TA, "anna", h16, "", 4, 0, 0, 0}};
    trainer_refused(TR(NULL, 0, dup_t, 2), TA " repeats");
    const training_e unsorted_t[] = {{TB, "anna", h15, "", 4, 0, 0, 0},
                                     {TA, "anna", h16, "", 4, 0, 0, 0}};
    trainer_refused(TR(NULL, 0, unsorted_t, 2),
                    TA " is not after the training before it");
    const training_e no_user[] = {{TA, "", h15, "", 4, 0, 0, 0}};
    trainer_refused(TR(NULL, 0, no_user, 1), TA ": user_id is empty");
    const training_e bad_hour[] = {{TA, "anna", h15 + 60, "", 4, 0, 0, 0}};
    trainer_refused(TR(NULL, 0, bad_hour, 1), "is not the start of a working");
    static const struct {
        uint8_t status, debited, by_trainer;
        int64_t refund;
        const char *want;
    } fields[] = {
        {0, 0, 0, 0, "status is not PENDING, SCHEDULED, CANCELED or REJECTED"},
        {5, 0, 0, 0, "status is not PENDING, SCHEDULED, CANCELED or REJECTED"},
        {2, 0, 0, 0, "is SCHEDULED but not debited"},
        {4, 1, 0, 0, "is debited but neither SCHEDULED nor CANCELED"},
        {4, 0, 1, 0, "has a cancellation (by_trainer, refund) but is not"},
        {4, 0, 0, 2, "has a cancellation (by_trainer, refund) but is not"},
        {3, 1, 0, -1, "has a negative balance_refund"},
    };
    for (size_t i = 0; i < N(fields); i++) {
        const training_e t[] = {{TA, "anna", h15, "", fields[i].status,
                                 fields[i].debited, fields[i].by_trainer,
                                 fields[i].refund}};
        trainer_refused(TR(NULL, 0, t, 1), fields[i].want);
    }
    char notes[WW_IDS_NOTES_MAX + 2];
    memset(notes, 'n', sizeof notes - 1);
    notes[sizeof notes - 1] = '\0';
    const training_e long_notes[] = {{TA, "anna", h15, notes, 4, 0, 0, 0}};
    trainer_refused(TR(NULL, 0, long_notes, 1),
                    "training notes at byte offset 80: length 1001 is over "
                    "the limit 1000");
    /* a NUL inside the notes */
    const training_e nul[] = {{TA, "anna", h15, "abcd", 4, 0, 0, 0}};
    bytes_t b = TR(NULL, 0, nul, 1);
    b.b[86] = '\0';
    trainer_refused(b, "training notes at byte offset 80: has a NUL byte at "
                       "byte offset 86");
}

/* --------------------------------------------------- roster and shard */

static bytes_t roster_raw(const char *const *ids, const bytes_t *states,
                          size_t n) {
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, "WWRS", 4);
    ww_canon_u32(&c, 1);
    ww_canon_u64(&c, n);
    for (size_t i = 0; i < n; i++) {
        ww_canon_str(&c, ids[i]);
        ww_canon_u64(&c, states[i].n);
        ww_canon_bytes(&c, states[i].b, states[i].n);
    }
    return writer_bytes(&c);
}

static void roster_refused(bytes_t b, const char *want) {
    ww_trainer_roster_t *r = (ww_trainer_roster_t *)&sentinel;
    ww_err_t err = {0};
    ww_code_t rc = ww_trainer_roster_deserialize(b.b, b.n, &r, &err);
    free(b.b);
    WW_ASSERT_MSG(rc == WW_ERR_INVALID_ARGUMENT, "%s: got %s", want,
                  ww_code_name(rc));
    WW_ASSERT_CONTAINS(err.msg, want);
    WW_ASSERT(r == (ww_trainer_roster_t *)&sentinel);
}

WW_TEST(roster_bytes_that_break_a_rule_are_refused) {
    ww_trainer_state_t *t = ww_trainer_state_new();
    bytes_t empty = snap(t);
    ww_trainer_state_destroy(t);
    const hour_e ten[] = {{at(1, 10).seconds, 1, 0, NULL}};
    bytes_t bad = trainer_raw(ten, 1, NULL, 0);
    const bytes_t two[] = {empty, empty};
    const char *const sorted[] = {"ola", "tom"};
    bytes_t ok = roster_raw(sorted, two, 2);
    ww_trainer_roster_t *r = NULL;
    WW_ASSERT_EQ_INT(ww_trainer_roster_deserialize(ok.b, ok.n, &r, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_trainer_roster_count(r), 2);
    ww_trainer_roster_destroy(r);
    free(ok.b);

    const char *const unsorted[] = {"tom", "ola"};
    roster_refused(roster_raw(unsorted, two, 2),
                   "\"ola\" is not after the trainer before it");
    const char *const dup[] = {"tom", "tom"};
    roster_refused(roster_raw(dup, two, 2), "\"tom\" repeats");
    const char *const none[] = {""};
    roster_refused(roster_raw(none, two, 1),
                   "trainer at byte offset 16: trainer_id is empty");
    char long_id[WW_TRAINER_ROSTER_ID_MAX + 2];
    memset(long_id, 't', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *const longer[] = {long_id};
    roster_refused(roster_raw(longer, two, 1),
                   "trainer_id at byte offset 16: length 129 is over the "
                   "limit 128");
    const char *const tom[] = {"tom"};
    roster_refused(roster_raw(tom, &bad, 1),
                   "state of trainer \"tom\" at byte offset 31: hour at byte "
                   "offset 16: ");
    bytes_t b = roster_raw(tom, &empty, 1);
    b.b[23] = 0x7f; /* the state's length */
    roster_refused(b, "trainer state at byte offset 23: length ");
    free(empty.b);
    free(bad.b);
}

typedef struct key_e {
    const char *caller, *key;
    int64_t offset;
} key_e;

static bytes_t shard_raw(const char *magic, uint32_t version, int64_t last,
                         bytes_t state, const key_e *k, size_t nk) {
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, magic, 4);
    ww_canon_u32(&c, version);
    ww_canon_i64(&c, last);
    ww_canon_u64(&c, state.n);
    ww_canon_bytes(&c, state.b, state.n);
    ww_canon_u64(&c, nk);
    for (size_t i = 0; i < nk; i++) {
        uint8_t digest[WW_DEDUP_DIGEST_LEN];
        shard_digest(k[i].key, digest);
        ww_canon_str(&c, k[i].caller);
        ww_canon_str(&c, k[i].key);
        ww_canon_bytes(&c, digest, sizeof digest);
        ww_canon_i64(&c, k[i].offset);
        ww_canon_i64(&c, 0);
    }
    return writer_bytes(&c);
}

static void shard_refused(const ww_shard_ops_t *ops, bytes_t b,
                          const char *want) {
    ww_shard_t *s = (ww_shard_t *)&sentinel;
    ww_err_t err = {0};
    ww_code_t rc = ww_shard_deserialize(ops, b.b, b.n, &s, &err);
    free(b.b);
    WW_ASSERT_MSG(rc == WW_ERR_INVALID_ARGUMENT, "%s: got %s", want,
                  ww_code_name(rc));
    WW_ASSERT_CONTAINS(err.msg, want);
    WW_ASSERT(s == (ww_shard_t *)&sentinel);
}

WW_TEST(shard_bytes_that_break_a_rule_are_refused) {
    const ww_shard_ops_t *U = &ww_users_shard_ops;
    ww_users_state_t *u = ww_users_state_new();
    bytes_t st = users_bytes(u);
    ww_users_state_destroy(u);
    const key_e keys[] = {{"", "z", 3}, {"svc", "a", 7}, {"svc", "b", 9}};
    bytes_t ok = shard_raw("WWUP", 1, 9, st, keys, 3);
    ww_shard_t *s = NULL;
    ww_err_t err;
    WW_ASSERT_MSG(ww_shard_deserialize(U, ok.b, ok.n, &s, &err) == WW_OK, "%s",
                  err.msg);
    WW_ASSERT_EQ_INT(ww_shard_last_command(s), 9);
    WW_ASSERT_EQ_INT(ww_dedup_count(ww_shard_dedup(s)), 3);
    ww_shard_destroy(s);
    /* the same bytes are not a trainer shard */
    shard_refused(&ww_trainer_roster_shard_ops, ok,
                  "magic at byte offset 0: \"WWUP\" is not \"WWTS\"");

    shard_refused(U, shard_raw("WWUP", 2, 9, st, keys, 3),
                  "version at byte offset 4: 2 is not supported (only 1)");
    shard_refused(U, shard_raw("WWUP", 1, -2, st, NULL, 0),
                  "last command at byte offset 8: -2 is below -1 (none)");
    shard_refused(U, shard_raw("WWUP", 1, INT64_MAX, st, NULL, 0),
                  "last command at byte offset 8: 9223372036854775807 leaves "
                  "no offset after it");
    shard_refused(U, shard_raw("WWUP", 1, 8, st, keys, 3),
                  "idempotency key at byte offset ");
    shard_refused(U, shard_raw("WWUP", 1, 8, st, keys, 3),
                  "\"b\" was decided at offset 9, after the last command 8");
    const key_e dup[] = {{"svc", "a", 1}, {"svc", "a", 2}};
    shard_refused(U, shard_raw("WWUP", 1, 9, st, dup, 2),
                  "\"a\" of caller \"svc\" repeats");
    const key_e unsorted[] = {{"svc", "b", 1}, {"svc", "a", 2}};
    shard_refused(U, shard_raw("WWUP", 1, 9, st, unsorted, 2),
                  "\"a\" of caller \"svc\" is not after the key before it");
    const key_e callers[] = {{"svc", "a", 1}, {"", "b", 2}};
    shard_refused(U, shard_raw("WWUP", 1, 9, st, callers, 2),
                  "\"b\" of caller \"\" is not after");
    const key_e empty[] = {{"svc", "", 1}};
    shard_refused(U, shard_raw("WWUP", 1, 9, st, empty, 1),
                  "idempotency key at byte offset 80: of caller \"svc\" is "
                  "empty");
    char long_key[WW_DEDUP_KEY_MAX + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    const key_e longer[] = {{"svc", long_key, 1}};
    shard_refused(U, shard_raw("WWUP", 1, 9, st, longer, 1),
                  "idempotency key at byte offset 87: length 129 is over the "
                  "limit 128");

    /* the state's own refusal is quoted, offsets within it */
    bytes_t bad_state = users_raw("WWUS", 2, NULL, 0, NULL, 0, 0);
    shard_refused(U, shard_raw("WWUP", 1, 9, bad_state, NULL, 0),
                  "state at byte offset 24: version at byte offset 4: 2 is "
                  "not supported");
    free(bad_state.b);
    bytes_t b = shard_raw("WWUP", 1, 9, st, keys, 3);
    b.b[16] = 0x80; /* the state's length: 2^63 */
    shard_refused(U, b, "state at byte offset 16: length 9223372036854775");
    b = shard_raw("WWUP", 1, 9, st, keys, 3);
    b.b = realloc(b.b, b.n + 1);
    b.b[b.n++] = 1;
    shard_refused(U, b, "trailing bytes at byte offset ");
    free(st.b);
}

const ww_test_case_t snapshot_bad_cases[] = {
    WW_CASE(every_truncation_is_refused),
    WW_CASE(flipped_bytes_are_refused_or_describe_a_state_exactly),
    WW_CASE(users_bytes_that_break_a_rule_are_refused),
    WW_CASE(trainer_bytes_that_break_a_rule_are_refused),
    WW_CASE(roster_bytes_that_break_a_rule_are_refused),
    WW_CASE(shard_bytes_that_break_a_rule_are_refused),
    {0}};
