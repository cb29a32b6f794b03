"""Descriptor compatibility: compiles the seed's trainer.proto/users.proto
(tests/interop/seed/) and ours (proto/) to descriptor sets with protoc and
fails if any seed service, method, message, field name, number, type or
label differs; then checks the shapes of the methods added later
(TrainerService's later methods, TrainingsService, grpc.health.v1).

usage: test_descriptors.py SEED_DIR PROTO_DIR"""
import os
import sys
import tempfile
import unittest

from google.protobuf import descriptor_pb2

SEED_DIR, PROTO_DIR = sys.argv[1:3]
del sys.argv[1:3]

F = descriptor_pb2.FieldDescriptorProto


def compile_set(include, files):
    from grpc_tools import protoc
    import grpc_tools

    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    out = tempfile.mktemp(suffix=".pb")
    rc = protoc.main(["protoc", "-I" + include, "-I" + wkt, "--include_imports",
                      "--descriptor_set_out=" + out] + files)
    if rc != 0:
        raise RuntimeError("protoc failed on %s" % files)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    os.unlink(out)
    return fds


def index(fds):
    """Full name -> descriptor for every message, enum and service."""
    msgs, enums, services = {}, {}, {}

    def walk_msg(prefix, m):
        name = prefix + "." + m.name
        msgs[name] = m
        for n in m.nested_type:
            walk_msg(name, n)
        for e in m.enum_type:
            enums[name + "." + e.name] = e

    for f in fds.file:
        prefix = "." + f.package if f.package else ""
        for m in f.message_type:
            walk_msg(prefix, m)
        for e in f.enum_type:
            enums[prefix + "." + e.name] = e
        for s in f.service:
            services[prefix + "." + s.name] = s
    return msgs, enums, services


def field_sig(fd):
    return (fd.name, fd.number, F.Type.Name(fd.type), F.Label.Name(fd.label),
            fd.type_name, fd.HasField("oneof_index"))


class SeedCompatibility(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        seed = compile_set(SEED_DIR, ["trainer.proto", "users.proto"])
        ours = compile_set(PROTO_DIR, ["trainer.proto", "users.proto",
                                       "trainings.proto", "health.proto"])
        cls.seed_files = {f.name: f for f in seed.file}
        cls.our_files = {f.name: f for f in ours.file}
        cls.seed = index(seed)
        cls.ours = index(ours)

    def test_packages_are_unchanged(self):
        for name in ("trainer.proto", "users.proto"):
            self.assertEqual(self.seed_files[name].package,
                             self.our_files[name].package, name)

    def test_every_seed_method_exists_with_the_same_types(self):
        seed_services, our_services = self.seed[2], self.ours[2]
        for sname, s in seed_services.items():
            self.assertIn(sname, our_services, "service %s missing" % sname)
            ours = {m.name: m for m in our_services[sname].method}
            for m in s.method:
                self.assertIn(m.name, ours, "%s.%s missing" % (sname, m.name))
                o = ours[m.name]
                self.assertEqual(
                    (m.input_type, m.output_type, m.client_streaming,
                     m.server_streaming),
                    (o.input_type, o.output_type, o.client_streaming,
                     o.server_streaming), "%s.%s" % (sname, m.name))

    def test_every_seed_message_and_field_is_identical(self):
        seed_msgs, our_msgs = self.seed[0], self.ours[0]
        checked = 0
        for name, m in seed_msgs.items():
            if name.startswith(".google.protobuf."):
                continue
            self.assertIn(name, our_msgs, "message %s missing" % name)
            ours = {f.number: f for f in our_msgs[name].field}
            for f in m.field:
                self.assertIn(f.number, ours, "%s field %d" % (name, f.number))
                self.assertEqual(field_sig(f), field_sig(ours[f.number]),
                                 "%s.%s" % (name, f.name))
                checked += 1
            # a field added by us must not reuse a seed name
            seed_names = {f.name for f in m.field}
            for f in our_msgs[name].field:
                if f.number not in {x.number for x in m.field}:
                    self.assertNotIn(f.name, seed_names, name)
        self.assertEqual(checked, 9)  # the seed has nine fields in all

    def test_the_later_trainer_methods_have_the_originals_shapes(self):
        methods = {m.name: m for m in
                   self.ours[2][".trainer.TrainerService"].method}
        for name in ("ScheduleTraining", "CancelTraining", "MakeHourAvailable",
                     "MakeHourUnavailable"):
            self.assertIn(name, methods)
            m = methods[name]
            self.assertEqual(m.input_type, ".trainer.UpdateHourRequest", name)
            self.assertEqual(m.output_type, ".google.protobuf.Empty", name)
            self.assertFalse(m.client_streaming or m.server_streaming, name)
        t = [f for f in self.ours[0][".trainer.UpdateHourRequest"].field
             if f.number == 1][0]
        self.assertEqual((t.name, t.type_name), ("time", ".google.protobuf.Timestamp"))

    def test_trainings_service_contract(self):
        s = self.ours[2][".trainings.TrainingsService"]
        want = {
            "ScheduleTraining": (".trainings.ScheduleTrainingRequest",
                                 ".trainings.ScheduleTrainingResponse"),
            "CancelTraining": (".trainings.CancelTrainingRequest",
                               ".trainings.CancelTrainingResponse"),
            "GetTraining": (".trainings.GetTrainingRequest",
                            ".trainings.Training"),
        }
        self.assertEqual({m.name: (m.input_type, m.output_type)
                          for m in s.method}, want)
        T, S, I, B, E, M = (F.TYPE_STRING, F.TYPE_STRING, F.TYPE_INT64,
                            F.TYPE_BOOL, F.TYPE_ENUM, F.TYPE_MESSAGE)
        fields = {
            ".trainings.ScheduleTrainingRequest": [
                ("training_uuid", 1, T), ("user_id", 2, S), ("time", 3, M),
                ("notes", 4, S)],
            ".trainings.ScheduleTrainingResponse": [],
            ".trainings.CancelTrainingRequest": [
                ("training_uuid", 1, T), ("by_trainer", 2, B)],
            ".trainings.CancelTrainingResponse": [("balance_refund", 1, I)],
            ".trainings.GetTrainingRequest": [("training_uuid", 1, T)],
            ".trainings.Training": [
                ("training_uuid", 1, T), ("user_id", 2, S), ("time", 3, M),
                ("notes", 4, S), ("status", 5, E), ("balance_refund", 6, I)],
        }
        for name, want_fields in fields.items():
            got = [(f.name, f.number, f.type)
                   for f in self.ours[0][name].field]
            self.assertEqual(got, want_fields, name)
        enum = self.ours[1][".trainings.TrainingStatus"]
        self.assertEqual([(v.name, v.number) for v in enum.value],
                         [("TRAINING_STATUS_UNSPECIFIED", 0), ("PENDING", 1),
                          ("SCHEDULED", 2), ("CANCELED", 3), ("REJECTED", 4)])

    def test_health_is_the_standard_grpc_health_v1(self):
        s = self.ours[2][".grpc.health.v1.Health"]
        got = {m.name: (m.input_type, m.output_type, m.server_streaming)
               for m in s.method}
        self.assertEqual(got, {
            "Check": (".grpc.health.v1.HealthCheckRequest",
                      ".grpc.health.v1.HealthCheckResponse", False),
            "Watch": (".grpc.health.v1.HealthCheckRequest",
                      ".grpc.health.v1.HealthCheckResponse", True)})
        req = self.ours[0][".grpc.health.v1.HealthCheckRequest"]
        self.assertEqual([(f.name, f.number, f.type) for f in req.field],
                         [("service", 1, F.TYPE_STRING)])
        enum = self.ours[1][".grpc.health.v1.HealthCheckResponse.ServingStatus"]
        self.assertEqual([(v.name, v.number) for v in enum.value],
                         [("UNKNOWN", 0), ("SERVING", 1), ("NOT_SERVING", 2),
                          ("SERVICE_UNKNOWN", 3)])

    def test_the_check_itself_catches_a_changed_field(self):
        # Guard against a vacuous comparison: a renumbered seed field differs.
        m = descriptor_pb2.DescriptorProto()
        m.CopyFrom(self.seed[0][".users.UpdateTrainingBalanceRequest"])
        m.field[1].number = 3
        ours = self.ours[0][".users.UpdateTrainingBalanceRequest"]
        self.assertNotEqual(field_sig(m.field[1]), field_sig(ours.field[1]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
