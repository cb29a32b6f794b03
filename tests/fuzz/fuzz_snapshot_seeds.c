/* fuzz_snapshot_seeds.c - writes the seed corpus of fuzz_snapshot: valid
 * snapshots of both services' shards (empty ones, and ones with hours,
 * trainings of every status, balances, debits and idempotency keys), so
 * nothing binary is committed. Usage: fuzz_snapshot_seeds DIR */
#include "ww_shard.h"
#include "ww_trainer_roster.h"
#include "ww_users_domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "fuzz_snapshot_seeds: %s\n", what);
    return 1;
}

static int write_seed(const char *dir, const char *name, const ww_shard_t *s) {
    uint8_t *b;
    size_t n;
    char path[4096];
    if (ww_shard_serialize(s, &b, &n, NULL) != WW_OK) return fail("serialise");
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int rc = !f || fwrite(b, 1, n, f) != n;
    if (f && fclose(f) != 0) rc = 1;
    free(b);
    return rc ? fail(path) : 0;
}

static void key(ww_shard_t *s, const char *caller, const char *k,
                int64_t offset) {
    ww_shard_origin_t o = {.caller = caller, .key = k};
    memset(o.digest, k[0], sizeof o.digest);
    ww_shard_record(s, offset, &o, offset % 3, NULL);
}

/* Trainer facts through decisions, as the trainer service makes them. */
static void trainer_step(ww_trainer_roster_t *r, const char *id, int op,
                         int64_t hour, const char *uuid) {
    const ww_trainer_state_t *st = ww_trainer_roster_get(r, id);
    ww_trainer_decision_t d;
    ww_time_t t = {hour, 0}, now = {hour - 7 * 24 * 3600, 0};
    switch (op) {
    case 0:
        ww_trainer_decide_make_hour_available(st, &t, &d);
        break;
    case 1:
        ww_trainer_decide_schedule_hour(st, &t, &d);
        break;
    case 2:
        ww_trainer_decide_schedule_training(st, uuid, "user-1", &t, "notes",
                                            &d);
        break;
    case 3:
        ww_trainer_decide_balance_debited(st, uuid, &d);
        break;
    case 4:
        ww_trainer_decide_balance_rejected(st, uuid, &d);
        break;
    default:
        ww_trainer_decide_cancel_training(st, uuid, true, &now, &d);
        break;
    }
    for (size_t i = 0; i < d.n_facts; i++)
        ww_trainer_roster_apply(r, id, &d.facts[i], NULL);
}

int main(int argc, char **argv) {
    if (argc != 2) return fail("usage: fuzz_snapshot_seeds DIR");
    const char *dir = argv[1];
    ww_shard_t *t =
        ww_shard_new(&ww_trainer_roster_shard_ops, ww_trainer_roster_new());
    ww_shard_t *u = ww_shard_new(&ww_users_shard_ops, ww_users_state_new());
    if (!t || !u) return fail("out of memory");
    if (write_seed(dir, "trainer-empty", t) ||
        write_seed(dir, "users-empty", u))
        return 1;

    const int64_t noon = INT64_C(1894104000); /* 2030-01-08T12:00:00Z */
    static const char *const uuids[] = {"f0000000-0000-4000-8000-000000000010",
                                        "f0000000-0000-4000-8000-000000000011",
                                        "f0000000-0000-4000-8000-000000000012",
                                        "f0000000-0000-4000-8000-000000000013"};
    ww_trainer_roster_t *r = ww_shard_state(t);
    for (int h = 0; h < 6; h++)
        trainer_step(r, "tom", 0, noon + h * 3600, NULL);
    trainer_step(r, "tom", 1, noon + 5 * 3600, NULL);
    for (int i = 0; i < 4; i++)
        trainer_step(r, "tom", 2, noon + i * 3600, uuids[i]);
    trainer_step(r, "tom", 3, 0, uuids[1]);               /* SCHEDULED */
    trainer_step(r, "tom", 4, 0, uuids[2]);               /* REJECTED */
    trainer_step(r, "tom", 5, noon + 3 * 3600, uuids[3]); /* CANCELED */
    trainer_step(r, "ola", 0, noon + 24 * 3600, NULL);
    key(t, "", "k-1", 4);
    key(t, "svc", "k-2", 9);

    ww_users_state_t *us = ww_shard_state(u);
    ww_users_fixtures_fill(us, NULL);
    ww_users_debit_for_training(us, "demo-anna", uuids[0], NULL, NULL);
    ww_users_debit_for_training(us, "nobody", uuids[1], NULL, NULL);
    ww_users_debit_for_training(us, "demo-dawid", uuids[2], NULL, NULL);
    ww_users_refund_for_training(us, "demo-dawid", uuids[2], 2, NULL, NULL);
    key(u, "", "k-1", 3);
    key(u, "svc", "k-1", 5);
    key(u, "svc", "k-2", 8);
    int rc =
        write_seed(dir, "trainer-full", t) || write_seed(dir, "users-full", u);
    ww_shard_destroy(t);
    ww_shard_destroy(u);
    return rc;
}
