"""Interop: a grpcio client, with stubs generated now from proto/, calls
every RPC of trainer.TrainerService, trainings.TrainingsService,
users.UsersService and grpc.health.v1.Health on the real binaries,
including every error case of the contract.

usage: test_interop.py TRAINER_BIN USERS_BIN PROTO_DIR"""
import datetime
import os
import sys
import unittest

import grpc

from wwinterop import Service, generate_stubs

TRAINER_BIN, USERS_BIN, PROTO_DIR = sys.argv[1:4]
del sys.argv[1:4]
generate_stubs(PROTO_DIR)

import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402
import trainer_pb2  # noqa: E402
import trainer_pb2_grpc  # noqa: E402
import trainings_pb2  # noqa: E402
import trainings_pb2_grpc  # noqa: E402
import users_pb2  # noqa: E402
import users_pb2_grpc  # noqa: E402
from google.protobuf import timestamp_pb2  # noqa: E402

C = grpc.StatusCode


def ts(dt):
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt)
    return t


def big_valid_request():
    """A request of 3 MiB that still decodes: one unknown field 15."""
    n = 3 << 20
    varint = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        varint.append(b | (0x80 if n else 0))
        if not n:
            break
    return b"\x7a" + bytes(varint) + b"x" * (3 << 20)


def hour(day, h):
    return datetime.datetime(2031, 5, day, h, tzinfo=datetime.timezone.utc)


class Base(unittest.TestCase):
    def assertStatus(self, fn, code, text=None):
        with self.assertRaises(grpc.RpcError) as cm:
            fn()
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        if text is not None:
            self.assertIn(text, cm.exception.details())
        return cm.exception


class TrainerTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.svc = Service(TRAINER_BIN)
        cls.trainer = trainer_pb2_grpc.TrainerServiceStub(cls.svc.channel)
        cls.trainings = trainings_pb2_grpc.TrainingsServiceStub(cls.svc.channel)
        cls.health = health_pb2_grpc.HealthStub(cls.svc.channel)

    @classmethod
    def tearDownClass(cls):
        rc = cls.svc.stop()
        assert rc == 0, "trainer exited %s:\n%s" % (rc, cls.svc.log_text())

    def avail(self, dt):
        r = self.trainer.IsHourAvailable(
            trainer_pb2.IsHourAvailableRequest(time=ts(dt)), timeout=5)
        return r.is_available

    def hour_req(self, dt):
        return trainer_pb2.UpdateHourRequest(time=ts(dt))

    def test_is_hour_available_and_bad_times(self):
        h = hour(1, 13)
        self.assertFalse(self.avail(h))
        self.trainer.MakeHourAvailable(self.hour_req(h), timeout=5)
        self.assertTrue(self.avail(h))
        self.assertTrue(self.avail(h + datetime.timedelta(minutes=59)))
        self.assertStatus(lambda: self.trainer.IsHourAvailable(
            trainer_pb2.IsHourAvailableRequest(), timeout=5),
            C.INVALID_ARGUMENT, "unable to parse time")
        bad = timestamp_pb2.Timestamp(seconds=1900000000, nanos=-1)
        self.assertStatus(lambda: self.trainer.IsHourAvailable(
            trainer_pb2.IsHourAvailableRequest(time=bad), timeout=5),
            C.INVALID_ARGUMENT, "unable to parse time")
        bad = timestamp_pb2.Timestamp(seconds=1900000000, nanos=1000000000)
        self.assertStatus(lambda: self.trainer.IsHourAvailable(
            trainer_pb2.IsHourAvailableRequest(time=bad), timeout=5),
            C.INVALID_ARGUMENT, "unable to parse time")
        bad = timestamp_pb2.Timestamp(seconds=2**63 - 1)
        self.assertStatus(lambda: self.trainer.IsHourAvailable(
            trainer_pb2.IsHourAvailableRequest(time=bad), timeout=5),
            C.INVALID_ARGUMENT, "unable to parse time")

    def test_update_hour(self):
        h = hour(2, 14)
        upd = lambda s, a, t=h: self.trainer.UpdateHour(  # noqa: E731
            trainer_pb2.UpdateHourRequest(time=ts(t), has_training_scheduled=s,
                                          available=a), timeout=5)
        self.assertStatus(lambda: upd(False, True, hour(2, 4)), C.NOT_FOUND)
        self.assertStatus(lambda: upd(True, False), C.FAILED_PRECONDITION,
                          "not available")
        self.assertIsInstance(upd(False, True), trainer_pb2.EmptyResponse)
        self.assertTrue(self.avail(h))
        self.assertStatus(lambda: upd(True, True), C.FAILED_PRECONDITION)
        self.assertStatus(lambda: upd(False, False), C.FAILED_PRECONDITION)
        upd(True, False)
        self.assertFalse(self.avail(h))
        self.assertStatus(lambda: self.trainer.UpdateHour(
            trainer_pb2.UpdateHourRequest(), timeout=5),
            C.INVALID_ARGUMENT, "unable to parse time")

    def test_later_hour_methods(self):
        h = hour(3, 15)
        r = self.hour_req(h)
        self.assertStatus(lambda: self.trainer.ScheduleTraining(r, timeout=5),
                          C.FAILED_PRECONDITION)
        self.trainer.MakeHourAvailable(r, timeout=5)
        self.trainer.ScheduleTraining(r, timeout=5)
        self.assertFalse(self.avail(h))
        self.assertStatus(lambda: self.trainer.MakeHourUnavailable(r, timeout=5),
                          C.FAILED_PRECONDITION)
        self.trainer.CancelTraining(r, timeout=5)
        self.assertTrue(self.avail(h))
        self.trainer.MakeHourUnavailable(r, timeout=5)
        self.assertFalse(self.avail(h))
        self.assertStatus(lambda: self.trainer.MakeHourAvailable(
            self.hour_req(hour(3, 2)), timeout=5), C.NOT_FOUND)
        self.assertStatus(lambda: self.trainer.CancelTraining(
            trainer_pb2.UpdateHourRequest(), timeout=5), C.INVALID_ARGUMENT,
            "unable to parse time")

    def test_trainings_flow(self):
        h = hour(4, 16)
        u = "3d5b1c7e-8f2a-4c6d-9e1b-7a2f4c6d8e01"
        req = trainings_pb2.ScheduleTrainingRequest(
            training_uuid=u, user_id="py-user", time=ts(h), notes="core")
        self.assertStatus(lambda: self.trainings.ScheduleTraining(req, timeout=5),
                          C.FAILED_PRECONDITION)
        self.trainer.MakeHourAvailable(self.hour_req(h), timeout=5)
        self.trainings.ScheduleTraining(req, timeout=5)
        self.trainings.ScheduleTraining(req, timeout=5)  # idempotent retry
        other = trainings_pb2.ScheduleTrainingRequest(
            training_uuid=u, user_id="py-user", time=ts(h), notes="other")
        self.assertStatus(lambda: self.trainings.ScheduleTraining(other, timeout=5),
                          C.ALREADY_EXISTS)
        u2 = "3d5b1c7e-8f2a-4c6d-9e1b-7a2f4c6d8e02"
        self.assertStatus(lambda: self.trainings.ScheduleTraining(
            trainings_pb2.ScheduleTrainingRequest(
                training_uuid=u2, user_id="x", time=ts(h)), timeout=5),
            C.FAILED_PRECONDITION)
        # hour-only methods never free a held hour
        for m in (self.trainer.CancelTraining, self.trainer.MakeHourAvailable,
                  self.trainer.MakeHourUnavailable):
            self.assertStatus(lambda: m(self.hour_req(h), timeout=5),
                              C.FAILED_PRECONDITION, "held")
        t = self.trainings.GetTraining(
            trainings_pb2.GetTrainingRequest(training_uuid=u), timeout=5)
        self.assertEqual(t.training_uuid, u)
        self.assertEqual(t.user_id, "py-user")
        self.assertEqual(t.notes, "core")
        self.assertEqual(t.time.ToDatetime(), h.replace(tzinfo=None))
        self.assertEqual(t.status, trainings_pb2.PENDING)
        r = self.trainings.CancelTraining(
            trainings_pb2.CancelTrainingRequest(training_uuid=u), timeout=5)
        self.assertEqual(r.balance_refund, 1)
        r = self.trainings.CancelTraining(
            trainings_pb2.CancelTrainingRequest(training_uuid=u, by_trainer=True),
            timeout=5)
        self.assertEqual(r.balance_refund, 1)  # the original refund
        t = self.trainings.GetTraining(
            trainings_pb2.GetTrainingRequest(training_uuid=u), timeout=5)
        self.assertEqual(t.status, trainings_pb2.CANCELED)
        self.assertEqual(t.balance_refund, 1)
        self.assertTrue(self.avail(h))

    def test_trainings_bad_input(self):
        h = hour(5, 12)
        sched = lambda u, user, t=ts(h): self.trainings.ScheduleTraining(  # noqa
            trainings_pb2.ScheduleTrainingRequest(training_uuid=u, user_id=user,
                                                  time=t), timeout=5)
        self.assertStatus(lambda: sched("", "a"), C.INVALID_ARGUMENT,
                          "training_uuid is empty")
        self.assertStatus(lambda: sched("not-a-uuid", "a"), C.INVALID_ARGUMENT,
                          "not a UUID")
        u = "3d5b1c7e-8f2a-4c6d-9e1b-7a2f4c6d8eff"
        self.assertStatus(lambda: sched(u, ""), C.INVALID_ARGUMENT,
                          "user_id is empty")
        self.assertStatus(lambda: sched(u, "a", None), C.INVALID_ARGUMENT,
                          "unable to parse time")
        get = lambda u: self.trainings.GetTraining(  # noqa: E731
            trainings_pb2.GetTrainingRequest(training_uuid=u), timeout=5)
        self.assertStatus(lambda: get(u), C.NOT_FOUND)
        self.assertStatus(lambda: get(""), C.INVALID_ARGUMENT)
        self.assertStatus(lambda: get("123"), C.INVALID_ARGUMENT, "not a UUID")
        cancel = lambda u: self.trainings.CancelTraining(  # noqa: E731
            trainings_pb2.CancelTrainingRequest(training_uuid=u), timeout=5)
        self.assertStatus(lambda: cancel(u), C.NOT_FOUND)
        self.assertStatus(lambda: cancel(""), C.INVALID_ARGUMENT)

    def test_transport_level_bad_input(self):
        ch = self.svc.channel
        raw = lambda path: ch.unary_unary(path)  # noqa: E731 bytes in/out
        self.assertStatus(lambda: raw("/trainer.TrainerService/IsHourAvailable")(
            b"\x0a\xff\xff\xff\xff\x0f", timeout=5), C.INVALID_ARGUMENT,
            "trainer.IsHourAvailableRequest")
        self.assertStatus(lambda: raw("/trainings.TrainingsService/GetTraining")(
            b"\x0a\x05ab", timeout=5), C.INVALID_ARGUMENT)
        self.assertStatus(lambda: raw("/trainer.TrainerService/Nope")(
            b"", timeout=5), C.UNIMPLEMENTED)
        self.assertStatus(lambda: raw("/trainer.TrainerService/IsHourAvailable")(
            b"\x00" * (5 << 20), timeout=10), C.RESOURCE_EXHAUSTED)
        # 3 MiB cannot arrive within 1 ms: the deadline passes in flight
        self.assertStatus(lambda: raw("/trainer.TrainerService/IsHourAvailable")(
            big_valid_request(), timeout=0.001), C.DEADLINE_EXCEEDED)
        self.assertFalse(self.avail(hour(6, 12)))  # still serving

    def test_health_check_and_watch(self):
        req = health_pb2.HealthCheckRequest
        S = health_pb2.HealthCheckResponse
        for name in ("", "trainer.TrainerService", "trainings.TrainingsService"):
            self.assertEqual(self.health.Check(req(service=name), timeout=5).status,
                             S.SERVING)
        self.assertStatus(lambda: self.health.Check(req(service="x.Y"), timeout=5),
                          C.NOT_FOUND)
        stream = self.health.Watch(req(service="trainer.TrainerService"), timeout=5)
        self.assertEqual(next(stream).status, S.SERVING)
        stream.cancel()
        stream = self.health.Watch(req(service="x.Y"), timeout=5)
        self.assertEqual(next(stream).status, S.SERVICE_UNKNOWN)
        stream.cancel()


class UsersTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.svc = Service(USERS_BIN)
        cls.users = users_pb2_grpc.UsersServiceStub(cls.svc.channel)

    @classmethod
    def tearDownClass(cls):
        rc = cls.svc.stop()
        assert rc == 0, "users exited %s:\n%s" % (rc, cls.svc.log_text())

    def bal(self, user):
        return self.users.GetTrainingBalance(
            users_pb2.GetTrainingBalanceRequest(user_id=user), timeout=5).amount

    def upd(self, user, change, key=None):
        md = (("idempotency-key", key),) if key else None
        return self.users.UpdateTrainingBalance(
            users_pb2.UpdateTrainingBalanceRequest(user_id=user,
                                                   amount_change=change),
            timeout=5, metadata=md)

    def test_balances(self):
        self.assertEqual(self.bal("py-new"), 0)
        self.assertIsInstance(self.upd("py-a", 4), users_pb2.EmptyResponse)
        self.assertEqual(self.bal("py-a"), 4)
        self.assertStatus(lambda: self.upd("py-a", -5), C.FAILED_PRECONDITION,
                          "balance cannot be smaller than 0")
        self.assertEqual(self.bal("py-a"), 4)
        self.upd("py-a", -4)
        self.assertEqual(self.bal("py-a"), 0)

    def test_bad_input(self):
        self.assertStatus(lambda: self.bal(""), C.INVALID_ARGUMENT,
                          "user_id is empty")
        self.assertStatus(lambda: self.upd("", 1), C.INVALID_ARGUMENT,
                          "user_id is empty")
        self.upd("py-big", 2**63 - 1)
        self.assertStatus(lambda: self.upd("py-big", 1), C.OUT_OF_RANGE)
        self.assertEqual(self.bal("py-big"), 2**63 - 1)
        raw = self.svc.channel.unary_unary("/users.UsersService/GetTrainingBalance")
        self.assertStatus(lambda: raw(b"\x0a\x7f", timeout=5), C.INVALID_ARGUMENT)
        self.assertStatus(lambda: self.svc.channel.unary_unary(
            "/users.UsersService/Nope")(b"", timeout=5), C.UNIMPLEMENTED)
        self.assertStatus(lambda: raw(b"\x00" * (5 << 20), timeout=10),
                          C.RESOURCE_EXHAUSTED)
        self.assertStatus(lambda: raw(big_valid_request(), timeout=0.001),
                          C.DEADLINE_EXCEEDED)

    def test_idempotency_key(self):
        self.upd("py-idem", 3, key="py-k1")
        self.upd("py-idem", 3, key="py-k1")
        self.assertEqual(self.bal("py-idem"), 3)
        self.upd("py-idem", 3, key="py-k2")
        self.assertEqual(self.bal("py-idem"), 6)


class ShutdownTest(Base):
    def test_watch_sees_not_serving_then_the_stream_ends(self):
        svc = Service(TRAINER_BIN)
        health = health_pb2_grpc.HealthStub(svc.channel)
        S = health_pb2.HealthCheckResponse
        stream = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
        self.assertEqual(next(stream).status, S.SERVING)
        svc.proc.send_signal(15)
        self.assertEqual(next(stream).status, S.NOT_SERVING)
        with self.assertRaises(grpc.RpcError) as cm:
            next(stream)
        self.assertEqual(cm.exception.code(), C.UNAVAILABLE)
        self.assertEqual(svc.stop(), 0, svc.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
