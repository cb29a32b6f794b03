/*
 * recovery_fill - fills <WW_TOPIC_PREFIX>users.events on the broker in
 * KAFKA_BROKERS with N TrainingBalanceChanged(+1) facts over U users
 * ("fill-0000" ...: fact i credits user i % U, balance_after counting up),
 * fast, so a restarting users instance replays for a while. The facts
 * carry no command position, as an import would write them: the read model
 * folds them, and the decider's resume point stays with the real commands.
 * The topic must exist (a users instance made it).
 *
 *   recovery_fill N U      exit 0 once every fact is acknowledged
 */
#include "ww_bus_config.h"
#include "ww_bus_publisher.h"
#include "ww_schemas.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long failed;

static void delivered(void *opaque, const ww_bus_delivery_t *d) {
    (void)opaque;
    if (d->code != WW_OK) atomic_fetch_add(&failed, 1);
}

static int die(const char *what, const ww_err_t *err) {
    fprintf(stderr, "recovery_fill: %s: %s\n", what, err ? err->msg : "");
    return 1;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0, users = argc > 2 ? atol(argv[2]) : 0;
    if (n <= 0 || users <= 0 || users > 10000000) {
        fprintf(stderr, "usage: recovery_fill N U (U in 1..10000000)\n");
        return 2;
    }
    ww_err_t err = {0};
    char topic[256];
    ww_bus_config_t *bus = ww_bus_config_new(&err);
    if (!bus || ww_bus_config_topic_name(bus, "users.events", topic,
                                         sizeof topic, &err))
        return die("config", &err);
    ww_bus_publisher_t *pub = ww_bus_publisher_new(bus, &err);
    if (!pub) return die("publisher", &err);
    int64_t *balance = calloc((size_t)users, sizeof *balance);
    if (!balance) return die("out of memory", NULL);
    for (long i = 0; i < n; i++) {
        char user[32];
        long u = i % users;
        snprintf(user, sizeof user, "fill-%04ld", u);
        balance[u] += 1;
        Wildworkouts__Events__V1__TrainingBalanceChanged e =
            WILDWORKOUTS__EVENTS__V1__TRAINING_BALANCE_CHANGED__INIT;
        e.user_id = user;
        e.amount_change = 1;
        e.balance_after = balance[u];
        e.reason =
            WILDWORKOUTS__EVENTS__V1__BALANCE_CHANGE_REASON__BALANCE_CHANGE_REASON_MANUAL;
        ww_bus_envelope_meta_t meta = {.source = "/wildworkouts/recovery-fill"};
        if (ww_bus_publisher_publish(pub, topic, user, strlen(user), &e.base,
                                     &meta, delivered, NULL, NULL, &err))
            return die("publish", &err);
    }
    if (ww_bus_publisher_flush(pub, 300000, &err)) return die("flush", &err);
    ww_bus_publisher_destroy(pub);
    ww_bus_config_destroy(bus);
    free(balance);
    if (atomic_load(&failed) > 0) {
        fprintf(stderr, "recovery_fill: %ld of %ld facts were not delivered\n",
                atomic_load(&failed), n);
        return 1;
    }
    printf("%ld facts on %s\n", n, topic);
    return 0;
}
