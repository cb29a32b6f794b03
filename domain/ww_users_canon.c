/* ww_users_canon.c - the users state's canonical bytes (digests,
 * snapshots): written, and read back into a state. */
#include "ww_canon.h"
#include "ww_users_domain_int.h"

#include <stdlib.h>
#include <string.h>

static int cmp_user_ptr(const void *a, const void *b) {
    return strcmp((*(const ww_users__user_t *const *)a)->user_id,
                  (*(const ww_users__user_t *const *)b)->user_id);
}

static int cmp_debit_ptr(const void *a, const void *b) {
    return strcmp((*(const ww_users__debit_t *const *)a)->uuid,
                  (*(const ww_users__debit_t *const *)b)->uuid);
}

ww_code_t ww_users_state_serialize(const ww_users_state_t *s, uint8_t **out,
                                   size_t *len, ww_err_t *err) {
    const ww_users__user_t **users = malloc((s->n_users + 1) * sizeof *users);
    const ww_users__debit_t **debits =
        malloc((s->n_debits + 1) * sizeof *debits);
    if (!users || !debits) {
        free(users);
        free(debits);
        return ww_err_set(err, WW_ERR_RESOURCE_EXHAUSTED, "out of memory");
    }
    size_t n_users = 0;
    for (size_t i = 0; i < s->n_users; i++)
        if (s->users[i].balance != 0) users[n_users++] = &s->users[i];
    for (size_t i = 0; i < s->n_debits; i++)
        debits[i] = &s->debits[i];
    qsort(users, n_users, sizeof *users, cmp_user_ptr);
    qsort(debits, s->n_debits, sizeof *debits, cmp_debit_ptr);

    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, "WWUS", 4);
    ww_canon_u32(&c, 1);
    ww_canon_u64(&c, n_users);
    for (size_t i = 0; i < n_users; i++) {
        ww_canon_str(&c, users[i]->user_id);
        ww_canon_i64(&c, users[i]->balance);
    }
    ww_canon_u64(&c, s->n_debits);
    for (size_t i = 0; i < s->n_debits; i++) {
        const ww_users__debit_t *d = debits[i];
        ww_canon_str(&c, d->uuid);
        ww_canon_str(&c, s->users[d->user].user_id);
        ww_canon_u8(&c, (uint8_t)d->outcome);
        ww_canon_u8(&c, d->refunded);
        ww_canon_i64(&c, d->refund);
    }
    ww_canon_u64(&c, s->sum_updates);
    ww_canon_u64(&c, s->sum_debits);
    ww_canon_u64(&c, s->sum_refunds);
    free(users);
    free(debits);
    return ww_canon_finish(&c, out, len, err);
}

/* ------------------------------------------------------------- reader */

/* Smallest encodings: a user with an empty id; a debit with empty ids. */
#define USER_MIN_BYTES  (4 + 8)
#define DEBIT_MIN_BYTES (4 + 4 + 1 + 1 + 8)

/* What the entries add up to, checked against the totals at the end. */
typedef struct tally {
    uint64_t balances, debited, refunds;
} tally_t;

static void read_users(ww_canon_reader_t *r, ww_users_state_t *s,
                       tally_t *sum) {
    uint64_t n = ww_canon_read_count(r, "users", USER_MIN_BYTES);
    char prev[WW_IDS_USER_ID_MAX + 1] = "";
    for (uint64_t i = 0; i < n && ww_canon_reader_ok(r); i++) {
        size_t at = ww_canon_reader_pos(r);
        char id[WW_IDS_USER_ID_MAX + 1];
        ww_canon_read_str(r, "user_id", id, WW_IDS_USER_ID_MAX);
        int64_t balance = ww_canon_read_i64(r, "balance");
        if (!ww_canon_reader_ok(r)) return;
        ww_err_t e;
        int order = strcmp(id, prev);
        if (ww_ids_check_user_id(id, &e) != WW_OK)
            ww_canon_reader_fail(r, at, "user", "%s", e.msg);
        else if (!ww_canon_check_order(r, at, "user", i ? order : 1, "\"%s\"",
                                       id))
            return;
        else if (balance <= 0)
            ww_canon_reader_fail(r, at, "user", "\"%s\" has balance %lld%s", id,
                                 (long long)balance,
                                 balance ? ", below 0"
                                         : ", which is left out in "
                                           "canonical form");
        if (!ww_canon_reader_ok(r)) return;
        ww_users__user_t *u = ww_users__user_get_or_add(s, id, NULL);
        if (!u) {
            ww_canon_reader_oom(r);
            return;
        }
        u->balance = balance;
        sum->balances += (uint64_t)balance;
        memcpy(prev, id, sizeof prev);
    }
}

/* What is wrong with a debit's fields, or NULL. */
static const char *debit_problem(uint8_t outcome, bool refunded,
                                 int64_t refund) {
    if (outcome != WW_USERS_DEBIT_DEBITED && outcome != WW_USERS_DEBIT_REJECTED)
        return "outcome is neither debited (1) nor rejected (2)";
    if (refunded && outcome != WW_USERS_DEBIT_DEBITED)
        return "is refunded but was rejected";
    if (refunded && refund <= 0) return "is refunded by a non-positive amount";
    if (!refunded && refund != 0) return "has a refund but is not refunded";
    return NULL;
}

static void read_debits(ww_canon_reader_t *r, ww_users_state_t *s,
                        tally_t *sum) {
    uint64_t n = ww_canon_read_count(r, "trainings", DEBIT_MIN_BYTES);
    char prev[WW_IDS_UUID_LEN + 1] = "";
    for (uint64_t i = 0; i < n && ww_canon_reader_ok(r); i++) {
        size_t at = ww_canon_reader_pos(r);
        char uuid[WW_IDS_UUID_LEN + 1], id[WW_IDS_USER_ID_MAX + 1];
        ww_canon_read_str(r, "training uuid", uuid, WW_IDS_UUID_LEN);
        ww_canon_read_str(r, "training user_id", id, WW_IDS_USER_ID_MAX);
        uint8_t outcome = ww_canon_read_u8(r, "training outcome");
        bool refunded = ww_canon_read_bool(r, "training refunded");
        int64_t refund = ww_canon_read_i64(r, "training refund");
        if (!ww_canon_reader_ok(r)) return;
        ww_err_t e;
        int order = strcmp(uuid, prev);
        const char *problem = debit_problem(outcome, refunded, refund);
        if (!ww_ids_is_uuid(uuid))
            ww_canon_reader_fail(r, at, "training", "\"%s\" is not a UUID",
                                 uuid);
        else if (!ww_canon_check_order(r, at, "training", i ? order : 1, "%s",
                                       uuid))
            return;
        else if (ww_ids_check_user_id(id, &e) != WW_OK)
            ww_canon_reader_fail(r, at, "training", "%s: %s", uuid, e.msg);
        else if (problem)
            ww_canon_reader_fail(r, at, "training", "%s %s (outcome %u)", uuid,
                                 problem, outcome);
        if (!ww_canon_reader_ok(r)) return;
        /* a user whose balance is 0 has no entry of its own */
        ww_users__user_t *u = ww_users__user_get_or_add(s, id, NULL);
        if (!u || ww_users__add_debit(s, uuid, outcome, u, NULL) != WW_OK) {
            ww_canon_reader_oom(r);
            return;
        }
        ww_users__debit_t *d = &s->debits[s->n_debits - 1];
        d->refunded = refunded;
        d->refund = refund;
        sum->debited += outcome == WW_USERS_DEBIT_DEBITED;
        sum->refunds += (uint64_t)refund;
        memcpy(prev, uuid, sizeof prev);
    }
}

/* The totals are what every applied fact added: each debit one credit,
 * each refund its amount, and the updates whatever else makes the
 * balances (sum_balances = sum_updates + sum_refunds - sum_debits). */
static void read_totals(ww_canon_reader_t *r, ww_users_state_t *s,
                        const tally_t *sum) {
    size_t at = ww_canon_reader_pos(r);
    s->sum_updates = ww_canon_read_u64(r, "sum_updates");
    s->sum_debits = ww_canon_read_u64(r, "sum_debits");
    s->sum_refunds = ww_canon_read_u64(r, "sum_refunds");
    if (!ww_canon_reader_ok(r)) return;
    uint64_t updates = sum->balances - sum->refunds + sum->debited;
    if (s->sum_debits != sum->debited)
        ww_canon_reader_fail(r, at + 8, "sum_debits",
                             "%llu, but %llu trainings are debited",
                             (unsigned long long)s->sum_debits,
                             (unsigned long long)sum->debited);
    else if (s->sum_refunds != sum->refunds)
        ww_canon_reader_fail(r, at + 16, "sum_refunds",
                             "%llu, but the refunds add up to %llu",
                             (unsigned long long)s->sum_refunds,
                             (unsigned long long)sum->refunds);
    else if (s->sum_updates != updates)
        ww_canon_reader_fail(r, at, "sum_updates",
                             "%lld, but the balances, debits and refunds "
                             "make it %lld",
                             (long long)s->sum_updates, (long long)updates);
}

/* ww_users_state_serialize for ww_canon_reader_end. */
static ww_code_t serialize_state(const void *s, uint8_t **out, size_t *n,
                                 ww_err_t *err) {
    return ww_users_state_serialize(s, out, n, err);
}

ww_code_t ww_users_state_deserialize(const uint8_t *buf, size_t len,
                                     ww_users_state_t **out, ww_err_t *err) {
    ww_canon_reader_t r;
    ww_canon_reader_init(&r, buf, len);
    tally_t sum = {0};
    ww_users_state_t *s = ww_users_state_new();
    if (!s) ww_canon_reader_oom(&r);
    ww_canon_read_header(&r, "WWUS", 1);
    if (s) {
        read_users(&r, s, &sum);
        read_debits(&r, s, &sum);
        read_totals(&r, s, &sum);
    }
    ww_code_t rc =
        ww_canon_reader_end(&r, "users state", s, serialize_state, err);
    if (rc != WW_OK) {
        ww_users_state_destroy(s);
        return rc;
    }
    *out = s;
    return WW_OK;
}
