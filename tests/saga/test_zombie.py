"""Zombie handover on the real broker: under a steady load of bookings
through two trainer instances, the owner of the trainer's partition is
stopped (SIGSTOP) in the middle of its transactions for longer than the
session timeout, so the group moves its partition to the other instance,
then continued (SIGCONT). Afterwards, read from the logs:

  - no fact is lost: every acknowledged booking has its TrainingScheduled;
  - none is duplicated: each fact id (derived from the command it decided)
    appears once, each training is scheduled once and settled at most once,
    no two trainings hold one hour;
  - credits are conserved: for every user, initial + refunds - debits (from
    users.events) equals the balance the service answers, never negative,
    and every confirmed training was debited exactly once.

usage: test_zombie.py TRAINER_BIN USERS_BIN PROTO_DIR [SECONDS]"""
import collections
import os
import signal
import sys
import threading
import time
import unittest
import uuid

import grpc

TRAINER_BIN, USERS_BIN, PROTO_DIR = sys.argv[1:4]
LOAD_S = float(sys.argv[4]) if len(sys.argv) > 4 else 6.0
del sys.argv[1:]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wwsaga  # noqa: E402

wwsaga.load(PROTO_DIR)
from wwcluster import (SESSION_MS, TXN_MS, Cluster, header,  # noqa: E402
                       java_partition, read_topic)
from wwsaga import Client, eventually, fresh_hour, schema_classes  # noqa

USERS = ["zombie-%d" % i for i in range(8)]
CREDITS = 40


class Zombie(unittest.TestCase):
    def test_a_stalled_owner_loses_nothing_and_duplicates_nothing(self):
        cl = Cluster(TRAINER_BIN, USERS_BIN, trainers=2, users=2,
                     partitions=3)
        try:
            self.run_load(cl)
        finally:
            for inst in cl.trainers + cl.users:
                inst.signal(signal.SIGCONT)
                inst.stop()

    def run_load(self, cl):
        a = Client(cl.trainers[0], cl.users[0])
        b = Client(cl.trainers[1], cl.users[1])
        for u in USERS:
            a.credit(u, CREDITS)
        hours = [fresh_hour(12 + h % 9) for h in range(400)]
        for h in hours:
            a.open_hour(h)
        acked, lock, stop = {}, threading.Lock(), threading.Event()

        def load(client, seed):
            i = seed
            while not stop.is_set() and i < len(hours):
                uid, user = str(uuid.uuid4()), USERS[i % len(USERS)]
                try:
                    client.schedule(uid, user, hours[i], timeout=8)
                    with lock:
                        acked[uid] = (user, hours[i])
                except grpc.RpcError:
                    pass  # refused, or unknown outcome: not acknowledged
                i += 2
        threads = [threading.Thread(target=load, args=(c, s))
                   for s, c in enumerate((a, b))]
        for t in threads:
            t.start()
        time.sleep(LOAD_S / 3)
        part = java_partition("trainer-1", cl.partitions)
        owner = next((i for i in cl.trainers if i.owns(part)), None)
        self.assertIsNotNone(owner, cl.logs())
        before = len(acked)
        owner.signal(signal.SIGSTOP)
        time.sleep((SESSION_MS + TXN_MS) / 1000 + 2)
        owner.signal(signal.SIGCONT)
        time.sleep(LOAD_S)
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(before, 5, "no load before the stop")
        self.assertGreater(len(acked), before, "no booking after the "
                           "handover:\n" + cl.logs())
        survivor = next(i for i in cl.trainers if i is not owner)
        self.assertTrue(eventually(lambda: survivor.owns(part) or
                                   owner.owns(part), True), cl.logs())
        live = Client(survivor, cl.users[0])
        for uid in acked:  # the saga of every booking completes
            st = eventually(lambda: live.get(uid).status in
                            (wwsaga.Status.SCHEDULED, wwsaga.Status.REJECTED), True, 60)
            self.assertTrue(st, uid)
        self.check_logs(cl, acked, live)

    def check_logs(self, cl, acked, live):
        tr = read_topic(cl.brokers, cl.topic("trainer.events"), 60)
        us = read_topic(cl.brokers, cl.topic("users.events"), 60)
        ids = collections.Counter(header(r, "ce_id") for r in tr + us)
        dup = [i for i, n in ids.items() if n > 1]
        self.assertEqual(dup, [], "facts written twice")
        per_training = collections.defaultdict(list)
        for r in tr:
            kind = header(r, "ce_type").rsplit(".", 1)[1]
            if kind == "HourAvailabilityChanged":
                continue
            uid = self.field(r, "training_uuid")
            per_training[uid].append(kind)
        for uid in acked:
            self.assertEqual(per_training[uid].count("TrainingScheduled"), 1,
                             (uid, per_training[uid]))
        for uid, kinds in per_training.items():
            settled = kinds.count("TrainingConfirmed") + \
                kinds.count("TrainingReleased")
            self.assertLessEqual(settled, 1, (uid, kinds))
        held = collections.Counter(acked[u][1] for u in acked
                                   if "TrainingConfirmed" in per_training[u])
        self.assertTrue(all(n == 1 for n in held.values()), held)
        net = collections.Counter()  # every balance change of a user
        debited = collections.Counter()
        for r in us:
            if header(r, "ce_type").endswith("TrainingBalanceChanged"):
                user = r.key.decode()
                change = self.field(r, "amount_change")
                net[user] += change
                uid = self.field(r, "training_uuid")
                if change == -1:
                    debited[uid] += 1
        self.assertTrue(all(n == 1 for n in debited.values()), debited)
        confirmed = {u for u, k in per_training.items()
                     if "TrainingConfirmed" in k}
        self.assertEqual(confirmed, set(debited), "a debit without its "
                         "confirmation or the other way round")
        for u in USERS:
            bal = live.balance(u)
            self.assertGreaterEqual(bal, 0)
            self.assertEqual(bal, net[u], (u, bal, net[u]))
        self.assertEqual(sum(net.values()),
                         CREDITS * len(USERS) - len(confirmed))

    def field(self, rec, name):
        if not hasattr(Zombie, "_cls"):
            Zombie._cls = schema_classes(PROTO_DIR)
        msg = Zombie._cls(header(rec, "ce_type"))()
        msg.ParseFromString(rec.value)
        return getattr(msg, name)


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
