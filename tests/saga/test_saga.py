"""The booking saga on the real broker, with 2 trainer and 2 users
instances as separate processes (grpcio clients, stubs from proto/):

  - enough credits: PENDING, then SCHEDULED, balance -1, on every instance;
    PENDING held on every trainer instance while both users instances are
    stopped, SCHEDULED once they run again;
  - no credits: REJECTED, the hour bookable again on every instance;
  - cancel more than 24 h ahead: +1; late by the attendee: 0; late by the
    trainer: +2; cancelling a REJECTED training: FAILED_PRECONDITION, no
    credit moves;
  - 50 concurrent bookings of one hour through both trainer instances:
    exactly one succeeds, one credit is spent, every call answered in time;
  - a booking through instance A is found, and cancelled, through B;
  - an idempotency-key retry after the first call's instance was killed
    returns the first result and spends nothing more;
  - four overlapping calls with one key through both users instances all
    answer OK and decide once (one fact, the balance moved once);
  - a poison command reaches trainer.commands.dlq and the service goes on;
  - every fact lands on the partition the Java client (kafka-python's
    murmur2) picks for its key;
  - a foreign consumer (kafka-python, classes generated from schemas/ only)
    decodes the whole saga of one training from both events topics, with
    its CloudEvents headers, one correlation id and the causation chain.

usage: test_saga.py TRAINER_BIN USERS_BIN PROTO_DIR"""
import concurrent.futures
import datetime
import os
import signal
import sys
import threading
import time
import unittest
import uuid

import grpc

TRAINER_BIN, USERS_BIN, PROTO_DIR = sys.argv[1:4]
del sys.argv[1:4]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wwsaga  # noqa: E402

wwsaga.load(PROTO_DIR)
from wwcluster import Cluster, header, java_partition, read_topic  # noqa
from wwsaga import (C, UTC, Client, Status, eventually, fresh_hour,  # noqa
                    recent_hour, schema_classes)


class Saga(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(TRAINER_BIN, USERS_BIN, trainers=2, users=2)
        t, u = cls.cluster.trainers, cls.cluster.users
        cls.a = Client(t[0], u[0])
        cls.b = Client(t[1], u[1])

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("unclean exits %s\n%s" %
                                 (bad, cls.cluster.logs()))

    def user(self):
        return "saga-" + uuid.uuid4().hex[:8]

    def assertStatus(self, fn, code, text=None):
        with self.assertRaises(grpc.RpcError) as cm:
            fn()
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        if text:
            self.assertIn(text, cm.exception.details())

    def book(self, client, user, when, credits):
        """A user with `credits`, an open hour, a booking: the uuid."""
        if credits:
            client.credit(user, credits)
        client.open_hour(when)
        uid = str(uuid.uuid4())
        client.schedule(uid, user, when)
        return uid

    def test_enough_credits_scheduled_and_debited_on_every_instance(self):
        user, when = self.user(), fresh_hour()
        uid = self.book(self.a, user, when, 2)
        # read-your-writes: the booking is there at once, held
        self.assertIn(self.a.get(uid).status, (Status.PENDING,
                                               Status.SCHEDULED))
        self.assertFalse(self.a.available(when))
        for c in (self.a, self.b):
            self.assertEqual(eventually(lambda: c.get(uid).status,
                                        Status.SCHEDULED), Status.SCHEDULED)
            self.assertEqual(eventually(lambda: c.balance(user), 1), 1)
            self.assertFalse(c.available(when))

    def test_pending_until_users_answers_then_scheduled(self):
        """With both users instances stopped, the booking is held PENDING
        on every trainer instance; once they run again, the saga ends."""
        user, when = self.user(), fresh_hour(17)
        self.a.credit(user, 2)
        self.a.open_hour(when)
        users = self.cluster.users
        for inst in users:
            inst.signal(signal.SIGSTOP)
        try:
            uid = str(uuid.uuid4())
            self.a.schedule(uid, user, when)
            for c in (self.a, self.b):
                self.assertEqual(eventually(lambda: c.get(uid).status,
                                            Status.PENDING), Status.PENDING)
                self.assertFalse(c.available(when))
            time.sleep(1)  # no debit can land while users is stopped
            self.assertEqual(self.b.get(uid).status, Status.PENDING)
        finally:
            for inst in users:
                inst.signal(signal.SIGCONT)
        for c in (self.a, self.b):
            self.assertEqual(eventually(lambda: c.get(uid).status,
                                        Status.SCHEDULED), Status.SCHEDULED)
            self.assertEqual(eventually(lambda: c.balance(user), 1), 1)

    def test_no_credits_rejected_and_the_hour_free_again_everywhere(self):
        user, when = self.user(), fresh_hour(15)
        uid = self.book(self.a, user, when, 0)
        for c in (self.a, self.b):
            self.assertEqual(eventually(lambda: c.get(uid).status,
                                        Status.REJECTED), Status.REJECTED)
            self.assertEqual(eventually(lambda: c.available(when), True),
                             True)
            self.assertEqual(c.balance(user), 0)
        # the compensation: another user books the hour
        other = self.user()
        uid2 = self.book(self.b, other, when, 1)
        self.assertEqual(eventually(lambda: self.a.get(uid2).status,
                                    Status.SCHEDULED), Status.SCHEDULED)
        # cancelling the rejected one is refused and moves no credit
        self.assertStatus(lambda: self.b.cancel(uid), C.FAILED_PRECONDITION,
                          "was rejected")
        self.assertEqual(self.a.balance(user), 0)

    def scheduled(self, when, credits=3):
        user = self.user()
        uid = self.book(self.a, user, when, credits)
        self.assertEqual(eventually(lambda: self.a.get(uid).status,
                                    Status.SCHEDULED), Status.SCHEDULED)
        self.assertEqual(eventually(lambda: self.a.balance(user),
                                    credits - 1), credits - 1)
        return user, uid

    def test_cancel_more_than_24_hours_ahead_refunds_one(self):
        user, uid = self.scheduled(fresh_hour(16))
        self.assertEqual(self.b.cancel(uid), 1)
        self.assertEqual(eventually(lambda: self.b.balance(user), 3), 3)
        self.assertEqual(self.a.get(uid).status, Status.CANCELED)
        # a repeated cancel answers the original refund and pays nothing
        self.assertEqual(self.a.cancel(uid), 1)
        time.sleep(0.5)
        self.assertEqual(self.b.balance(user), 3)

    def test_late_cancel_by_the_attendee_refunds_nothing(self):
        user, uid = self.scheduled(recent_hour())
        self.assertEqual(self.a.cancel(uid), 0)
        time.sleep(0.5)
        self.assertEqual(self.b.balance(user), 2)
        self.assertEqual(self.b.get(uid).status, Status.CANCELED)

    def test_late_cancel_by_the_trainer_refunds_two(self):
        when = recent_hour() - datetime.timedelta(days=1)
        user, uid = self.scheduled(when)
        self.assertEqual(self.a.cancel(uid, by_trainer=True), 2)
        self.assertEqual(eventually(lambda: self.b.balance(user), 4), 4)

    def test_fifty_concurrent_bookings_of_one_hour(self):
        when = fresh_hour(17)
        users = [self.user() for _ in range(50)]
        for u in users:
            self.a.credit(u, 1)
        self.a.open_hour(when)
        clients = [self.a, self.b]

        def attempt(i):
            t0 = time.time()
            try:
                clients[i % 2].schedule(str(uuid.uuid4()), users[i], when,
                                        timeout=30)
                return "ok", time.time() - t0, users[i]
            except grpc.RpcError as e:
                return e.code(), time.time() - t0, users[i]
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            results = list(pool.map(attempt, range(50)))
        oks = [r for r in results if r[0] == "ok"]
        self.assertEqual(len(oks), 1, results)
        self.assertTrue(all(r[0] in ("ok", C.FAILED_PRECONDITION)
                            for r in results), results)
        self.assertTrue(all(r[1] < 30 for r in results))
        winner = oks[0][2]
        self.assertEqual(eventually(lambda: self.b.balance(winner), 0), 0)
        time.sleep(0.5)
        spent = sum(1 - self.b.balance(u) for u in users)
        self.assertEqual(spent, 1)

    def test_a_booking_through_one_instance_is_seen_through_the_other(self):
        user, when = self.user(), fresh_hour(18)
        self.a.credit(user, 1)
        self.a.open_hour(when)
        uid = str(uuid.uuid4())
        self.a.schedule(uid, user, when)
        # at once: B waits for its model to catch up instead of NOT_FOUND
        self.assertEqual(self.b.get(uid).user_id, user)
        self.assertEqual(self.b.cancel(uid), 1)
        # B reads its own write at once; A follows the same log shortly
        self.assertEqual(self.b.get(uid).status, Status.CANCELED)
        self.assertEqual(eventually(lambda: self.a.get(uid).status,
                                    Status.CANCELED, timeout=5),
                         Status.CANCELED)
        self.assertStatus(lambda: self.b.get(str(uuid.uuid4())),
                          C.NOT_FOUND, "not found")

    def test_a_repeated_key_with_another_request_is_refused(self):
        user = self.user()
        self.a.credit(user, 2, key="k-" + user)
        self.b.credit(user, 2, key="k-" + user)
        self.assertEqual(self.b.balance(user), 2)
        self.assertStatus(lambda: self.a.credit(user, 3, key="k-" + user),
                          C.INVALID_ARGUMENT, "another request")
        self.assertEqual(self.a.balance(user), 2)

    def test_overlapping_calls_with_one_key_decide_once(self):
        """Four calls with one key at once, through both users instances:
        all answer OK, the balance moves once, one fact is written."""
        user, key = self.user(), "overlap-" + uuid.uuid4().hex
        start, errors = threading.Barrier(4), []

        def call(client):
            start.wait()
            try:
                client.credit(user, 3, key=key)
            except grpc.RpcError as e:
                errors.append((e.code(), e.details()))
        threads = [threading.Thread(target=call, args=(c,))
                   for c in (self.a, self.b, self.a, self.b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for c in (self.a, self.b):
            self.assertEqual(eventually(lambda: c.balance(user), 3), 3)
        changes = [r for r in read_topic(self.cluster.brokers,
                                         self.cluster.topic("users.events"))
                   if r.key == user.encode()]
        self.assertEqual(len(changes), 1, changes)

    def test_poison_command_goes_to_the_dead_letters(self):
        from kafka import KafkaProducer
        topic = self.cluster.topic("trainer.commands")
        p = KafkaProducer(bootstrap_servers=self.cluster.brokers)
        p.send(topic, key=b"trainer-1", value=b"\xff\x00not protobuf",
               headers=[("ce_specversion", b"1.0"), ("ce_id", b"poison-1"),
                        ("ce_type",
                         b"wildworkouts.events.v1.ScheduleTrainingCommand"),
                        ("ce_source", b"/test"),
                        ("ce_time", b"2026-12-01T10:00:00.000Z"),
                        ("content-type", b"application/protobuf")])
        p.flush()
        p.close()
        dlq = self.cluster.topic("trainer.commands.dlq")
        recs = []
        deadline = time.time() + 30
        while not recs and time.time() < deadline:
            recs = [r for r in read_topic(self.cluster.brokers, dlq)
                    if header(r, "ce_id") == "poison-1"]
            time.sleep(0.3)
        self.assertEqual(len(recs), 1)
        self.assertIn("undecodable", header(recs[0], "ww_dlq_reason"))
        self.assertEqual(recs[0].value, b"\xff\x00not protobuf")
        # the partition moved on: a booking right after is decided
        user, when = self.user(), fresh_hour(19)
        uid = self.book(self.a, user, when, 1)
        self.assertEqual(eventually(lambda: self.a.get(uid).status,
                                    Status.SCHEDULED), Status.SCHEDULED)

    def test_facts_land_where_the_java_partitioner_puts_their_key(self):
        user = self.user()
        self.a.credit(user, 1)
        n = self.cluster.partitions
        for topic in ("users.events", "trainer.events"):
            recs = read_topic(self.cluster.brokers, self.cluster.topic(topic))
            self.assertTrue(recs, topic)
            for r in recs:
                self.assertEqual(r.partition,
                                 java_partition(r.key.decode(), n),
                                 (topic, r.key))


    def test_a_foreign_consumer_decodes_the_whole_saga_of_a_training(self):
        cls_of = schema_classes(PROTO_DIR)
        user, when = self.user(), fresh_hour(20)
        uid = self.book(self.a, user, when, 1)
        self.assertEqual(eventually(lambda: self.a.get(uid).status,
                                    Status.SCHEDULED), Status.SCHEDULED)
        saga = []
        for topic in ("trainer.events", "users.events"):
            for r in read_topic(self.cluster.brokers,
                                self.cluster.topic(topic)):
                for h in ("ce_specversion", "ce_id", "ce_type", "ce_source",
                          "ce_time", "content-type"):
                    self.assertTrue(header(r, h), (topic, h, r.headers))
                self.assertEqual(header(r, "ce_specversion"), "1.0")
                self.assertEqual(header(r, "content-type"),
                                 "application/protobuf")
                msg = cls_of(header(r, "ce_type"))()
                msg.ParseFromString(r.value)
                if getattr(msg, "training_uuid", None) == uid:
                    saga.append((header(r, "ce_type").rsplit(".", 1)[1],
                                 header(r, "ce_id"), msg, r))
        kinds = [k for k, _, _, _ in saga]
        self.assertEqual(sorted(kinds), ["TrainingBalanceChanged",
                                         "TrainingConfirmed",
                                         "TrainingScheduled"], kinds)
        by = {k: (i, m, r) for k, i, m, r in saga}
        sched_id, sched, sched_r = by["TrainingScheduled"]
        debit_id, debit, debit_r = by["TrainingBalanceChanged"]
        _, confirm, confirm_r = by["TrainingConfirmed"]
        self.assertEqual(sched.user_id, user)
        self.assertEqual(sched.time.ToDatetime(tzinfo=UTC), when)
        self.assertEqual(debit.amount_change, -1)
        self.assertEqual(debit.balance_after, 0)
        self.assertEqual(debit.source_event_id, sched_id)
        self.assertEqual(debit.trainer_id, "trainer-1")
        self.assertEqual(confirm.balance_event_id, debit_id)
        # one correlation id from the gRPC call through both services
        corr = {header(r, "ce_correlationid")
                for r in (sched_r, debit_r, confirm_r)}
        self.assertEqual(len(corr), 1, corr)
        self.assertEqual(header(sched_r, "ce_source"), "/wildworkouts/trainer")
        self.assertEqual(header(debit_r, "ce_source"), "/wildworkouts/users")
        # each fact says which command it decided
        self.assertGreaterEqual(sched.command.offset, 0)
        self.assertEqual(sched.origin.correlation_id, corr.pop())


class Kill(unittest.TestCase):
    """Own cluster: instances are killed."""

    def test_retry_after_the_instance_died_returns_the_first_result(self):
        cl = Cluster(TRAINER_BIN, USERS_BIN, trainers=2, users=2)
        try:
            a = Client(cl.trainers[0], cl.users[0])
            b = Client(cl.trainers[1], cl.users[1])
            user, when = "kill-" + uuid.uuid4().hex[:8], fresh_hour(14)
            a.credit(user, 2)
            a.open_hour(when)
            uid, key = str(uuid.uuid4()), "book-" + uuid.uuid4().hex
            a.schedule(uid, user, when, key=key)
            cl.trainers[0].kill()
            b.schedule(uid, user, when, key=key)  # the original result
            self.assertEqual(eventually(lambda: b.get(uid).status,
                                        Status.SCHEDULED), Status.SCHEDULED)
            self.assertEqual(eventually(lambda: b.balance(user), 1), 1)
            time.sleep(1)
            self.assertEqual(b.balance(user), 1)
            facts = [r for r in read_topic(cl.brokers,
                                           cl.topic("trainer.events"))
                     if header(r, "ce_type") ==
                     "wildworkouts.events.v1.TrainingScheduled"]
            self.assertEqual(len(facts), 1)
        finally:
            cl.trainers[0].proc.poll()
            for inst in cl.trainers[1:] + cl.users:
                inst.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
