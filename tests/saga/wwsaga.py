"""What the saga tests share: grpcio stubs generated from proto/, a client
of one trainer and one users instance, polling, fresh hours, and the event
classes a foreign consumer generates from schemas/ alone.

Call load(PROTO_DIR) before using Client."""
import datetime
import os
import random
import sys
import time

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "interop", "python"))
from wwinterop import generate_stubs  # noqa: E402

trainer_pb2 = trainer_pb2_grpc = trainings_pb2 = trainings_pb2_grpc = None
users_pb2 = users_pb2_grpc = timestamp_pb2 = Status = None


def load(proto_dir):
    """Generates the stubs of proto/ and makes them this module's."""
    global trainer_pb2, trainer_pb2_grpc, trainings_pb2, trainings_pb2_grpc
    global users_pb2, users_pb2_grpc, timestamp_pb2, Status
    generate_stubs(proto_dir)
    import trainer_pb2, trainer_pb2_grpc, trainings_pb2  # noqa: E401
    import trainings_pb2_grpc, users_pb2, users_pb2_grpc  # noqa: E401
    from google.protobuf import timestamp_pb2
    Status = trainings_pb2.TrainingStatus


C = grpc.StatusCode
UTC = datetime.timezone.utc


def ts(dt):
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt)
    return t


_days = iter(random.sample(range(400, 4000), 3000))


def fresh_hour(h=13):
    """A working hour on a day no other case uses (hours are shared)."""
    day = datetime.datetime(2030, 1, 1, tzinfo=UTC) + \
        datetime.timedelta(days=next(_days))
    return day.replace(hour=h)


def recent_hour():
    """A working hour less than 24 h from now (a late cancel): today's or
    yesterday's 13:00 UTC (the domain keeps no clock; past hours book)."""
    now = datetime.datetime.now(UTC)
    h = now.replace(hour=13, minute=0, second=0, microsecond=0)
    return h if h <= now + datetime.timedelta(hours=20) else \
        h - datetime.timedelta(days=1)


class Client:
    def __init__(self, trainer, users):
        self.hours = trainer_pb2_grpc.TrainerServiceStub(trainer.channel)
        self.trainings = trainings_pb2_grpc.TrainingsServiceStub(
            trainer.channel)
        self.users = users_pb2_grpc.UsersServiceStub(users.channel)

    def open_hour(self, when):
        self.hours.MakeHourAvailable(trainer_pb2.UpdateHourRequest(
            time=ts(when)), timeout=20)

    def available(self, when):
        return self.hours.IsHourAvailable(trainer_pb2.IsHourAvailableRequest(
            time=ts(when)), timeout=10).is_available

    def credit(self, user, n, key=None):
        md = (("idempotency-key", key),) if key else None
        self.users.UpdateTrainingBalance(users_pb2.UpdateTrainingBalanceRequest(
            user_id=user, amount_change=n), timeout=20, metadata=md)

    def balance(self, user):
        return self.users.GetTrainingBalance(
            users_pb2.GetTrainingBalanceRequest(user_id=user),
            timeout=10).amount

    def schedule(self, uid, user, when, key=None, timeout=20):
        md = (("idempotency-key", key),) if key else None
        return self.trainings.ScheduleTraining(
            trainings_pb2.ScheduleTrainingRequest(
                training_uuid=uid, user_id=user, time=ts(when)),
            timeout=timeout, metadata=md)

    def cancel(self, uid, by_trainer=False):
        return self.trainings.CancelTraining(
            trainings_pb2.CancelTrainingRequest(training_uuid=uid,
                                                by_trainer=by_trainer),
            timeout=20).balance_refund

    def get(self, uid):
        return self.trainings.GetTraining(
            trainings_pb2.GetTrainingRequest(training_uuid=uid), timeout=20)


def eventually(fn, want, timeout=20):
    """Polls fn() until it returns `want`; returns the last value."""
    deadline = time.time() + timeout
    got = fn()
    while got != want and time.time() < deadline:
        time.sleep(0.05)
        got = fn()
    return got


def schema_classes(proto_dir):
    """The event classes a foreign consumer has: generated from schemas/
    alone, looked up by ce_type."""
    import glob
    import tempfile
    import grpc_tools
    from grpc_tools import protoc
    from google.protobuf import message_factory, symbol_database
    schemas = os.path.join(os.path.dirname(proto_dir), "schemas")
    out = tempfile.mkdtemp(prefix="ww-schemas-")
    protos = [os.path.relpath(p, schemas) for p in
              glob.glob(os.path.join(schemas, "**", "*.proto"),
                        recursive=True)]
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    assert protoc.main(["protoc", "-I" + schemas, "-I" + include,
                        "--python_out=" + out] + protos) == 0
    sys.path.insert(0, out)
    for p in protos:
        __import__(p[:-len(".proto")].replace("/", ".") + "_pb2")
    pool = symbol_database.Default().pool
    return lambda name: message_factory.GetMessageClass(
        pool.FindMessageTypeByName(name))
