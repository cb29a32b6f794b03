"""Chaos on the real broker: mixed operations (bookings, cancellations,
hour changes, balance changes, each retried with its idempotency key until
it has an answer) through 2 trainer and 2 users instances, while instances
are SIGKILLed and restarted and partition owners are SIGSTOPped past the
session timeout and continued. Afterwards, from the logs and the services:

  - no hour holds two trainings;
  - no hour-only call freed a booked hour;
  - every balance equals the sum of its changes in users.events (initial
    credits + refunds - debits), and none is negative;
  - every acknowledged call's effect is in the log, once;
  - every instance's digest equals a fresh `wwctl replay` to its offsets,
    and replicas agree.

The second case restarts the broker itself (scripts/kafka.sh restart
$WW_KAFKA_DIR, so ctest runs it alone) in the middle of the load: the
same checks, and the services recover without being restarted.

usage: test_chaos.py TRAINER_BIN USERS_BIN WWCTL_BIN PROTO_DIR [TEST...]
Env (a longer run by hand): WW_CHAOS_OPS (5000), WW_CHAOS_KILLS (10),
WW_CHAOS_STOPS (3), WW_CHAOS_WORKERS (8), WW_CHAOS_SEED (random)."""
import collections
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid

import grpc

TRAINER_BIN, USERS_BIN, WWCTL, PROTO_DIR = sys.argv[1:5]
del sys.argv[1:5]  # the rest names the tests to run
OPS = int(os.environ.get("WW_CHAOS_OPS", "5000"))
KILLS = int(os.environ.get("WW_CHAOS_KILLS", "10"))
STOPS = int(os.environ.get("WW_CHAOS_STOPS", "3"))
WORKERS = int(os.environ.get("WW_CHAOS_WORKERS", "8"))
SEED = int(os.environ.get("WW_CHAOS_SEED", str(random.randrange(1 << 30))))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wwsaga  # noqa: E402

wwsaga.load(PROTO_DIR)
from wwcluster import SESSION_MS, Cluster, header, java_partition  # noqa
from wwcluster import read_topic  # noqa: E402
from wwsaga import C, eventually, fresh_hour, schema_classes, ts  # noqa

TRAINER = "trainer-1"
USERS = ["chaos-%02d" % i for i in range(24)]
INITIAL = 3
# Answers that end an operation: the call was decided (or refused).
FINAL = {C.OK, C.FAILED_PRECONDITION, C.INVALID_ARGUMENT, C.NOT_FOUND,
         C.ALREADY_EXISTS, C.OUT_OF_RANGE}


class Chaos(unittest.TestCase):
    def setUp(self):
        self.rng = random.Random(SEED)
        print("chaos: seed=%d" % SEED, flush=True)
        self.cl = Cluster(TRAINER_BIN, USERS_BIN, trainers=2, users=2,
                          partitions=3)
        self.lock = threading.Lock()
        self.acked = []  # (kind, args, key, code)
        self.done = 0
        self.hours = [fresh_hour(12 + h % 9) for h in range(150)]
        self.trainings = []  # uuids acked as booked

    def tearDown(self):
        for inst in self.cl.trainers + self.cl.users:
            inst.signal(signal.SIGCONT)
            inst.stop()

    # ------------------------------------------------------------ calls

    def call(self, service, method, request, key):
        """Retries `method` with idempotency key `key` on a random live
        instance until a final answer; returns (code, response)."""
        deadline = time.time() + 120
        while True:
            insts = self.cl.trainers if service == "trainer" else \
                self.cl.users
            inst = self.rng.choice(insts)
            if service == "trainer" and method in ("ScheduleTraining",
                                                   "CancelTraining",
                                                   "GetTraining"):
                stub = wwsaga.trainings_pb2_grpc.TrainingsServiceStub(
                    inst.channel)
            elif service == "trainer":
                stub = wwsaga.trainer_pb2_grpc.TrainerServiceStub(
                    inst.channel)
            else:
                stub = wwsaga.users_pb2_grpc.UsersServiceStub(inst.channel)
            try:
                resp = getattr(stub, method)(
                    request, timeout=5,
                    metadata=(("idempotency-key", key),) if key else None)
                return C.OK, resp
            except (grpc.RpcError, ValueError) as e:
                # ValueError: the channel was closed by a restart
                code = e.code() if isinstance(e, grpc.RpcError) else None
                if code in FINAL:
                    return code, None
                if time.time() > deadline:
                    raise AssertionError("no answer for %s %s: %s" %
                                         (method, key, e))
                time.sleep(0.05)

    def op(self):
        kind = self.rng.choices(("schedule", "cancel", "hour", "credit"),
                                weights=(40, 15, 15, 30))[0]
        key = "chaos-" + uuid.uuid4().hex
        if kind == "schedule":
            uid = str(uuid.uuid4())
            user, when = self.rng.choice(USERS), self.rng.choice(self.hours)
            code, _ = self.call("trainer", "ScheduleTraining",
                                wwsaga.trainings_pb2.ScheduleTrainingRequest(
                                    training_uuid=uid, user_id=user,
                                    time=ts(when)), key)
            args = (uid, user, when)
            if code == C.OK:
                with self.lock:
                    self.trainings.append(uid)
        elif kind == "cancel":
            with self.lock:
                uid = self.rng.choice(self.trainings) if self.trainings \
                    else str(uuid.uuid4())
            by_trainer = self.rng.random() < 0.3
            code, _ = self.call("trainer", "CancelTraining",
                                wwsaga.trainings_pb2.CancelTrainingRequest(
                                    training_uuid=uid, by_trainer=by_trainer),
                                key)
            args = (uid, by_trainer)
        elif kind == "hour":
            when = self.rng.choice(self.hours)
            method = self.rng.choice(("MakeHourAvailable",
                                      "MakeHourUnavailable"))
            code, _ = self.call("trainer", method,
                                wwsaga.trainer_pb2.UpdateHourRequest(
                                    time=ts(when)), key)
            args = (method, when)
        else:
            user = self.rng.choice(USERS)
            n = self.rng.randint(1, 2)
            code, _ = self.call("users", "UpdateTrainingBalance",
                                wwsaga.users_pb2.UpdateTrainingBalanceRequest(
                                    user_id=user, amount_change=n), key)
            args = (user, n)
        with self.lock:
            self.acked.append((kind, args, key, code))
            self.done += 1

    # ------------------------------------------------------------ chaos

    def owner_of(self, insts, key):
        part = java_partition(key, self.cl.partitions)
        return next((i for i in insts if i.owns(part)), None)

    def restart_broker(self):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..")
        subprocess.run([os.path.join(root, "scripts", "kafka.sh"), "restart",
                        os.environ["WW_KAFKA_DIR"]], check=True,
                       capture_output=True, timeout=300)

    def chaos(self, stop):
        events = self.events
        self.chaos_log = []
        for n, ev in enumerate(events):
            due = self.ops * (n + 1) // (len(events) + 1)
            while self.done < due and not stop.is_set():
                time.sleep(0.05)
            if stop.is_set():
                return
            if ev == "broker":
                self.restart_broker()
                self.chaos_log.append(("broker", "restarted", self.done))
            elif ev == "kill":
                inst = self.rng.choice(self.cl.trainers + self.cl.users)
                inst.kill()
                time.sleep(0.3)
                inst.start()
                self.chaos_log.append(("kill", inst.name, self.done))
            else:
                insts = self.rng.choice((self.cl.trainers, self.cl.users))
                key = TRAINER if insts is self.cl.trainers else \
                    self.rng.choice(USERS)
                inst = self.owner_of(insts, key) or insts[0]
                inst.signal(signal.SIGSTOP)
                time.sleep(SESSION_MS / 1000 + 2)
                inst.signal(signal.SIGCONT)
                self.chaos_log.append(("stop", inst.name, self.done))

    # ------------------------------------------------------------- test

    def test_kills_and_stops_lose_nothing(self):
        events = ["kill"] * KILLS + ["stop"] * STOPS
        self.rng.shuffle(events)
        self.run_chaos(events, OPS)
        self.assertEqual(sum(1 for e in self.chaos_log if e[0] == "kill"),
                         KILLS)
        self.assertEqual(sum(1 for e in self.chaos_log if e[0] == "stop"),
                         STOPS)

    def test_a_broker_restart_loses_nothing_and_needs_no_restart(self):
        pids = {i.name: i.proc.pid for i in self.cl.trainers + self.cl.users}
        self.run_chaos(["broker"], max(OPS // 3, 300))
        self.assertEqual([e[0] for e in self.chaos_log], ["broker"])
        # the same processes, all serving again
        self.assertEqual({i.name: i.proc.pid
                          for i in self.cl.trainers + self.cl.users}, pids)
        self.assertTrue(all(i.proc.poll() is None
                            for i in self.cl.trainers + self.cl.users))

    def run_chaos(self, events, ops):
        self.events, self.ops = events, ops
        setup = [("users", "UpdateTrainingBalance",
                  wwsaga.users_pb2.UpdateTrainingBalanceRequest(
                      user_id=u, amount_change=INITIAL)) for u in USERS]
        setup += [("trainer", "MakeHourAvailable",
                   wwsaga.trainer_pb2.UpdateHourRequest(time=ts(h)))
                  for h in self.hours]
        for svc, method, req in setup:
            code, _ = self.call(svc, method, req, "setup-" + uuid.uuid4().hex)
            self.assertEqual(code, C.OK)
        stop = threading.Event()
        chaos = threading.Thread(target=self.chaos, args=(stop,))
        chaos.start()
        started = time.time()
        left = [ops]

        def worker():
            while True:
                with self.lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                self.op()
        workers = [threading.Thread(target=worker) for _ in range(WORKERS)]
        try:
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        finally:
            stop.set()
            chaos.join()
        took = time.time() - started
        codes = collections.Counter(a[3].name for a in self.acked)
        print("chaos: %d operations in %.0f s, answers %s, chaos %s" %
              (len(self.acked), took, dict(codes), self.chaos_log),
              flush=True)
        try:
            self.assertEqual(len(self.acked), ops)
            self.settle()
            self.check_log_and_state()
            self.check_digests()
        except Exception:
            # what the services said is the first thing a failure needs
            print(self.cl.logs(), file=sys.stderr, flush=True)
            raise

    def settle(self):
        """Every booking's saga has finished: no training is PENDING."""
        deadline = time.time() + 120
        pending = set(self.trainings)
        while pending and time.time() < deadline:
            for uid in list(pending):
                code, t = self.call("trainer", "GetTraining",
                                    wwsaga.trainings_pb2.GetTrainingRequest(
                                        training_uuid=uid), None)
                if code == C.OK and t.status != wwsaga.Status.PENDING:
                    pending.discard(uid)
            time.sleep(0.2)
        self.assertEqual(pending, set(), "sagas that never settled")

    def field(self, rec):
        if not hasattr(self, "_cls"):
            self._cls = schema_classes(PROTO_DIR)
        msg = self._cls(header(rec, "ce_type"))()
        msg.ParseFromString(rec.value)
        return msg

    def check_log_and_state(self):
        tr = [(header(r, "ce_type").rsplit(".", 1)[1], self.field(r), r)
              for r in read_topic(self.cl.brokers,
                                  self.cl.topic("trainer.events"), 120)]
        us = [(header(r, "ce_type").rsplit(".", 1)[1], self.field(r), r)
              for r in read_topic(self.cl.brokers,
                                  self.cl.topic("users.events"), 120)]
        ids = collections.Counter(header(r, "ce_id") for _, _, r in tr + us)
        self.assertEqual([i for i, n in ids.items() if n > 1], [],
                         "facts written twice")
        by_key, per_uuid = collections.Counter(), collections.Counter()
        for kind, m, _ in tr + us:
            if m.HasField("origin") and m.origin.idempotency_key:
                by_key[(kind, m.origin.idempotency_key)] += 1
            if kind in ("TrainingScheduled", "TrainingCanceled"):
                per_uuid[(kind, m.training_uuid)] += 1
        # every acknowledged call's effect is in the log, once: a booking
        # and a balance change by their key; a cancel by its training (a
        # second cancel of a canceled training answers the first refund
        # and writes nothing)
        for kind, args, key, code in self.acked:
            if code != C.OK:
                continue
            if kind == "schedule":
                self.assertEqual(by_key[("TrainingScheduled", key)], 1, args)
            elif kind == "credit":
                self.assertEqual(by_key[("TrainingBalanceChanged", key)], 1,
                                 args)
            elif kind == "cancel":
                self.assertEqual(per_uuid[("TrainingCanceled", args[0])], 1,
                                 args)
        self.assertTrue(all(n == 1 for n in per_uuid.values()), per_uuid)
        # the hours, folded from the log: never two holders
        holder, status = {}, {}
        for kind, m, _ in tr:
            if kind == "TrainingScheduled":
                h = m.time.seconds
                self.assertNotIn(h, holder, "hour %d held twice" % h)
                holder[h] = m.training_uuid
                status[m.training_uuid] = "PENDING"
            elif kind in ("TrainingReleased", "TrainingCanceled"):
                for h, u in list(holder.items()):
                    if u == m.training_uuid:
                        del holder[h]
                status[m.training_uuid] = kind
            elif kind == "TrainingConfirmed":
                status[m.training_uuid] = "SCHEDULED"
        # no hour-only call freed a booked hour: every held hour reads as
        # not available on every trainer instance
        for h, uid in holder.items():
            req = wwsaga.trainer_pb2.IsHourAvailableRequest()
            req.time.seconds = h
            for inst in self.cl.trainers:
                stub = wwsaga.trainer_pb2_grpc.TrainerServiceStub(
                    inst.channel)
                self.assertFalse(stub.IsHourAvailable(req, timeout=10)
                                 .is_available, (h, uid, status.get(uid)))
        # balances: the sum of their changes, never negative
        net = collections.Counter()
        for kind, m, r in us:
            if kind == "TrainingBalanceChanged":
                net[r.key.decode()] += m.amount_change
        for u in USERS:
            for inst in self.cl.users:  # each replica, once it applied all
                stub = wwsaga.users_pb2_grpc.UsersServiceStub(inst.channel)
                req = wwsaga.users_pb2.GetTrainingBalanceRequest(user_id=u)
                got = eventually(lambda: stub.GetTrainingBalance(
                    req, timeout=10).amount, net[u], 10)
                self.assertGreaterEqual(got, 0, u)
                self.assertEqual(got, net[u], (u, inst.name))
        print("chaos: %d trainer facts, %d users facts, %d hours held" %
              (len(tr), len(us), len(holder)), flush=True)

    def wwctl(self, *args):
        env = dict(self.cl.env)
        env["KAFKA_BROKERS"] = self.cl.brokers
        p = subprocess.run([WWCTL] + list(args), env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return json.loads(p.stdout)

    def check_digests(self):
        for service, insts in (("trainer", self.cl.trainers),
                               ("users", self.cl.users)):
            deadline = time.time() + 60
            while True:
                got = [self.wwctl("digest", service, "--addr", i.addr,
                                  "--json") for i in insts]
                same = all(g["sha256"] == got[0]["sha256"] for g in got)
                if same or time.time() > deadline:
                    break
                time.sleep(0.5)
            self.assertTrue(same, "replicas disagree: %s" % got)
            for g in got:
                to = ",".join("%d:%s" % (p["partition"], p["eventsOffset"])
                              for p in g["partitions"])
                replayed = self.wwctl("replay", service, "--to-offsets", to,
                                      "--json")
                self.assertEqual(replayed["sha256"], g["sha256"],
                                 (service, g["instanceId"]))
            print("chaos: %s digest %s on %d instances = replay" %
                  (service, got[0]["sha256"][:16], len(got)), flush=True)


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
