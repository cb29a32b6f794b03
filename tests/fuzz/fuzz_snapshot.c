/* fuzz_snapshot.c - libFuzzer target for the snapshot readers: any bytes
 * through ww_shard_deserialize with both services' ops tables.
 *
 * A refusal must be INVALID_ARGUMENT (or RESOURCE_EXHAUSTED) with a
 * message. An accepted snapshot must write exactly the input back, clone
 * to the same bytes, and take a transaction of later facts that rolls
 * back to the same bytes (so its indexes and undo log work). At most one
 * ops table may accept an input: their magics differ. */
#include "ww_shard.h"
#include "ww_trainer_roster.h"
#include "ww_users_domain.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const ww_shard_ops_t *const ops[] = {&ww_trainer_roster_shard_ops,
                                            &ww_users_shard_ops};

static void check(bool ok) {
    if (!ok) abort();
}

static void check_bytes(const ww_shard_t *s, const uint8_t *data, size_t size) {
    uint8_t *b = NULL;
    size_t n = 0;
    check(ww_shard_serialize(s, &b, &n, NULL) == WW_OK);
    check(n == size && (n == 0 || memcmp(b, data, n) == 0));
    free(b);
}

/* A few facts of the kinds each service folds; refusals are fine, only
 * what happens to the state afterwards is checked. */
static void later_facts(ww_shard_t *s, bool users) {
    ww_shard_origin_t o = {.caller = "fuzz", .key = "later"};
    memset(o.digest, 7, sizeof o.digest);
    if (users) {
        ww_users_state_t *st = ww_shard_state(s);
        ww_users_decision_t d;
        if (ww_users_decide_update_balance(st, "demo-anna", 3, &d) == WW_OK)
            ww_users_apply_decision(st, &d, NULL);
        if (ww_users_decide_debit_for_training(
                st, "demo-anna", "f0000000-0000-4000-8000-000000000001", &d) ==
            WW_OK)
            ww_users_apply_decision(st, &d, NULL);
    } else {
        ww_trainer_roster_t *r = ww_shard_state(s);
        ww_trainer_fact_t f = {.kind =
                                   WW_TRAINER_FACT_HOUR_AVAILABILITY_CHANGED,
                               .hour = INT64_C(1894104000), /* 2030-01-08T12Z */
                               .available = true};
        ww_trainer_roster_apply(r, "trainer-1", &f, NULL);
        f = (ww_trainer_fact_t){.kind = WW_TRAINER_FACT_TRAINING_SCHEDULED,
                                .hour = INT64_C(1894104000)};
        memcpy(f.training_uuid, "f0000000-0000-4000-8000-000000000001", 37);
        memcpy(f.user_id, "fuzz", 5);
        ww_trainer_roster_apply(r, "trainer-1", &f, NULL);
    }
    /* A restored position may be the largest offset: nothing follows it. */
    if (ww_shard_last_command(s) < INT64_MAX)
        ww_shard_record(s, ww_shard_last_command(s) + 1, &o, 1, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int accepted = 0;
    for (int i = 0; i < 2; i++) {
        ww_shard_t *s = NULL;
        ww_err_t err = {0};
        ww_code_t rc = ww_shard_deserialize(ops[i], data, size, &s, &err);
        if (rc != WW_OK) {
            check((rc == WW_ERR_INVALID_ARGUMENT ||
                   rc == WW_ERR_RESOURCE_EXHAUSTED) &&
                  err.msg[0] && !s);
            continue;
        }
        accepted++;
        check_bytes(s, data, size);
        ww_shard_t *c = ww_shard_clone(s);
        check(c != NULL);
        check_bytes(c, data, size);
        ww_shard_destroy(c);
        ww_shard_begin(s);
        later_facts(s, i == 1);
        ww_shard_rollback(s);
        check_bytes(s, data, size);
        ww_shard_destroy(s);
    }
    check(accepted <= 1);
    return 0;
}
