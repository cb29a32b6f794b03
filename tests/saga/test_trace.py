#!/usr/bin/env python3
"""Trace context and JSON logs through the real binaries on the real broker
(one trainer and one users instance, WW_LOG_FORMAT=json, debug level):

  - a ScheduleTraining call with a W3C traceparent/tracestate: that trace id
    is on every record of the saga read back with kafka-python (the
    ScheduleTrainingCommand, TrainingScheduled, the CommandResult, the
    DebitTrainingCommand, TrainingBalanceChanged, the SettleTrainingCommand
    and TrainingConfirmed) as ce_traceparent with a new span id per hop and
    the tracestate unchanged, and in both services' JSON logs (the call's
    line with method, code and duration; the users decider and translator);
  - a write the edge sends from another thread (a cancel that waited for
    the read model) keeps the call's trace;
  - a malformed traceparent is ignored: the call succeeds, and a new trace
    starts, the same on its log line and its facts; a call without one
    starts a trace too;
  - every line of both logs parses with Python's json and has time, level,
    module and message;
  - a command with a hostile ce_type (a quote, a newline and a fake log
    line) reaches the dead-letter log line without forging a line, in JSON
    and in text.

usage: test_trace.py TRAINER_BIN USERS_BIN WWCTL_BIN PROTO_DIR"""
import json
import os
import re
import subprocess
import sys
import time
import unittest
import uuid

TRAINER_BIN, USERS_BIN, WWCTL_BIN, PROTO_DIR = sys.argv[1:5]
del sys.argv[1:5]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wwsaga  # noqa: E402

wwsaga.load(PROTO_DIR)
from wwcluster import Cluster, header, read_topic  # noqa: E402
from wwsaga import Client, Status, eventually, fresh_hour  # noqa: E402

TP_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
FORGED = 'x"\n2030-01-01T00:00:00.000Z INFO rpc forged=1'


def json_lines(inst):
    """Every line of an instance's log, parsed; fails on one that is not a
    JSON object with the four members every line has."""
    out = []
    for n, line in enumerate(inst.log_text().splitlines(), 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise AssertionError("%s line %d is not JSON (%s): %r" %
                                 (inst.name, n, e, line[:300]))
        if not isinstance(obj, dict):
            raise AssertionError("%s line %d: %r" % (inst.name, n, line))
        for k in ("time", "level", "module", "message"):
            if not isinstance(obj.get(k), str):
                raise AssertionError("%s line %d has no %s: %r" %
                                     (inst.name, n, k, line))
        out.append(obj)
    return out


def hostile_command(brokers, topic):
    """A record that decodes as far as its ce_type, which names no type and
    holds a quote, a newline and what looks like a log line."""
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=brokers)
    p.send(topic, key=b"trainer-1", value=b"", headers=[
        ("ce_specversion", b"1.0"), ("ce_id", uuid.uuid4().hex.encode()),
        ("ce_type", FORGED.encode()), ("ce_source", b"/hostile"),
        ("ce_time", b"2026-01-01T00:00:00.000Z"),
        ("content-type", b"application/protobuf")]).get(timeout=30)
    p.close()


def wait_for(fn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    return fn()


def no_forged_line(test, text):
    for line in text.splitlines():
        test.assertFalse(line.startswith("2030-"), line)
        test.assertNotRegex(line, r"^\S+ INFO rpc forged=1")


class TraceAndJsonLogs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(TRAINER_BIN, USERS_BIN, trainers=1, users=1,
                              extra_env={"WW_LOG_FORMAT": "json",
                                         "WW_LOG_LEVEL": "debug"})
        cls.trainer, cls.users = cls.cluster.trainers[0], cls.cluster.users[0]
        cls.c = Client(cls.trainer, cls.users)

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("unclean exits %s\n%s" %
                                 (bad, cls.cluster.logs()))

    def book(self, metadata):
        user = "user-" + uuid.uuid4().hex[:8]
        self.c.credit(user, 2)
        when = fresh_hour()
        self.c.open_hour(when)
        uid = str(uuid.uuid4())
        self.c.trainings.ScheduleTraining(
            wwsaga.trainings_pb2.ScheduleTrainingRequest(
                training_uuid=uid, user_id=user, time=wwsaga.ts(when)),
            timeout=20, metadata=metadata)
        got = eventually(lambda: self.c.get(uid).status, Status.SCHEDULED, 30)
        self.assertEqual(got, Status.SCHEDULED)
        return uid, user

    def traced(self, topic, trace_id):
        """(ce_type, traceparent match, tracestate) of the records of
        `topic` in trace `trace_id`."""
        out = []
        for r in read_topic(self.cluster.brokers, self.cluster.topic(topic)):
            tp = header(r, "ce_traceparent")
            m = TP_RE.match(tp or "")
            if m and m.group(1) == trace_id:
                out.append((header(r, "ce_type"), m,
                            header(r, "ce_tracestate")))
        return out

    def call_line(self, method, pred=lambda o: True, timeout=20):
        """The trainer's JSON log line of the last call to `method`."""
        def find():
            hits = [o for o in json_lines(self.trainer)
                    if o.get("module") == "rpc" and
                    o.get("method", "").endswith("/" + method) and pred(o)]
            return hits[-1] if hits else None
        return wait_for(find, timeout)

    def test_a_given_trace_reaches_every_record_and_both_logs(self):
        trace_id = uuid.uuid4().hex
        caller_span = uuid.uuid4().hex[:16]
        tp = "00-%s-%s-01" % (trace_id, caller_span)
        state = "wwtest=abc,other=1"
        uid, user = self.book((("traceparent", tp), ("tracestate", state)))

        want = {
            "trainer.commands": {
                "wildworkouts.events.v1.ScheduleTrainingCommand",
                "wildworkouts.events.v1.SettleTrainingCommand"},
            "trainer.events": {"wildworkouts.events.v1.TrainingScheduled",
                               "wildworkouts.events.v1.TrainingConfirmed"},
            "trainer.replies": {"wildworkouts.events.v1.CommandResult"},
            "users.commands": {"wildworkouts.events.v1.DebitTrainingCommand"},
            "users.events": {"wildworkouts.events.v1.TrainingBalanceChanged"},
        }
        spans = []
        for topic, types in want.items():
            recs = wait_for(lambda: (lambda r: r if types <= {t for t, _, _ in r}
                                     else None)(self.traced(topic, trace_id)))
            self.assertTrue(recs, "%s: no record of trace %s has %s" %
                            (topic, trace_id, types))
            for t, m, st in recs:
                self.assertEqual(st, state, "%s %s" % (topic, t))
                self.assertEqual(m.group(3), "01")
                spans.append((topic, t, m.group(2)))
        # one span per hop: the edge, the trainer decider (facts and reply
        # share it), the users translator, the users decider, the trainer
        # translator, the trainer decider again
        span_ids = {s for _, _, s in spans}
        self.assertNotIn(caller_span, span_ids)
        by_type = {t: s for _, t, s in spans}
        hops = [by_type["wildworkouts.events.v1." + t] for t in (
            "ScheduleTrainingCommand", "TrainingScheduled",
            "DebitTrainingCommand", "TrainingBalanceChanged",
            "SettleTrainingCommand", "TrainingConfirmed")]
        self.assertEqual(len(set(hops)), 6, spans)
        self.assertEqual(by_type["wildworkouts.events.v1.CommandResult"] in
                         {by_type["wildworkouts.events.v1.TrainingScheduled"],
                          by_type["wildworkouts.events.v1.TrainingConfirmed"]},
                         True, spans)

        # the trainer's log: the call's line, with its members
        call = self.call_line("ScheduleTraining",
                              lambda o: o.get("trace_id") == trace_id)
        self.assertTrue(call, "no ScheduleTraining line of trace %s" %
                        trace_id)
        self.assertEqual(call["status"], "OK")
        self.assertEqual(call["code"], 0)
        self.assertIsInstance(call["duration_us"], int)
        self.assertEqual(call["level"], "INFO")
        self.assertRegex(call["span_id"], r"^[0-9a-f]{16}$")
        self.assertEqual(call["span_id"], hops[0])  # the edge's span
        # the trainer's decider and translator lines of the same trace
        mods = {o["module"] for o in json_lines(self.trainer)
                if o.get("trace_id") == trace_id}
        self.assertTrue({"rpc", "decider", "translator"} <= mods, mods)
        # the users service's reaction, in its own log
        users_lines = wait_for(lambda: [
            o for o in json_lines(self.users)
            if o.get("trace_id") == trace_id and
            o["module"] in ("decider", "translator")])
        self.assertEqual({o["module"] for o in users_lines},
                         {"decider", "translator"}, users_lines)
        # the translator's span wrote the debit, the decider's the balance
        # change (the translator also reads TrainingConfirmed, which needs
        # no command: a span of its own)
        self.assertTrue({hops[2], hops[3]} <=
                        {o["span_id"] for o in users_lines}, users_lines)

    def test_a_malformed_traceparent_is_ignored_and_a_trace_starts(self):
        for md in ((("traceparent", "00-zz-yy-01"),),
                   (("traceparent", "00-" + "0" * 32 + "-" + "1" * 16 + "-01"),
                    ("tracestate", "a=b")),
                   (("traceparent", "00-" + "AB" * 16 + "-" + "1" * 16 +
                     "-01"),),
                   None):
            uid, _ = self.book(md)
            line = self.call_line("ScheduleTraining",
                                  lambda o: o.get("status") == "OK")
            self.assertTrue(line)
            tid = line["trace_id"]
            self.assertRegex(tid, r"^[0-9a-f]{32}$")
            self.assertNotIn(tid, ("0" * 32, "ab" * 16))
            recs = wait_for(lambda: self.traced("trainer.events", tid))
            types = {t for t, _, _ in recs}
            self.assertIn("wildworkouts.events.v1.TrainingScheduled", types,
                          md)
            for _, _, st in recs:
                self.assertIsNone(st)  # a new trace has no state

    def test_a_write_sent_after_waiting_keeps_the_call_trace(self):
        # an unknown training: the edge waits for its read model, then
        # sends the cancel from the model's thread; the owner answers
        trace_id = uuid.uuid4().hex
        tp = "00-%s-%s-01" % (trace_id, uuid.uuid4().hex[:16])
        import grpc
        with self.assertRaises(grpc.RpcError) as e:
            self.c.trainings.CancelTraining(
                wwsaga.trainings_pb2.CancelTrainingRequest(
                    training_uuid=str(uuid.uuid4())),
                timeout=20, metadata=(("traceparent", tp),))
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)
        for topic, t in (("trainer.commands", "CancelTrainingCommand"),
                         ("trainer.replies", "CommandResult")):
            recs = wait_for(lambda: self.traced(topic, trace_id))
            self.assertIn("wildworkouts.events.v1." + t,
                          {r[0] for r in recs}, topic)
        line = self.call_line("CancelTraining",
                              lambda o: o.get("trace_id") == trace_id)
        self.assertEqual(line["status"], "NOT_FOUND")

    def wwctl(self, env, *args):
        e = dict(self.cluster.env)
        for k in ("TRACEPARENT", "TRACESTATE"):
            e.pop(k, None)
        e.update({"TRAINER_GRPC_ADDR": self.trainer.addr,
                  "USERS_GRPC_ADDR": self.users.addr,
                  "GRPC_NO_TLS": "true"})
        e.update(env)
        p = subprocess.run([WWCTL_BIN] + list(args), env=e,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def test_wwctl_continues_the_trace_of_its_environment(self):
        trace_id = uuid.uuid4().hex
        parent = uuid.uuid4().hex[:16]
        env = {"TRACEPARENT": "00-%s-%s-01" % (trace_id, parent),
               "TRACESTATE": "wwctl=1"}
        when = fresh_hour()
        rc, out, err = self.wwctl(env, "trainer", "make-available",
                                  when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(rc, 0, err)
        line = self.call_line("MakeHourAvailable",
                              lambda o: o.get("trace_id") == trace_id)
        self.assertTrue(line, "no MakeHourAvailable line of trace %s" %
                        trace_id)
        self.assertEqual(line["status"], "OK")
        self.assertNotEqual(line["span_id"], parent)
        recs = wait_for(lambda: self.traced("trainer.commands", trace_id))
        self.assertIn("wildworkouts.events.v1.ChangeHourCommand",
                      {t for t, _, _ in recs})
        for _, m, st in recs:
            self.assertEqual(st, "wwctl=1")
            self.assertNotEqual(m.group(2), parent)

        # a failed call names its trace, in text and in JSON
        missing = str(uuid.uuid4())
        rc, out, err = self.wwctl(env, "trainings", "get", missing)
        self.assertEqual(rc, 1, err)
        self.assertIn("NOT_FOUND", err)
        self.assertIn("(trace %s)" % trace_id, err)
        rc, out, err = self.wwctl(env, "--json", "trainings", "get", missing)
        self.assertEqual(rc, 1, err)
        e = json.loads(err)["error"]
        self.assertEqual((e["code"], e["trace_id"]), ("NOT_FOUND", trace_id))

        # without TRACEPARENT each run starts a trace of its own
        ids = []
        for _ in range(2):
            rc, out, err = self.wwctl({}, "--json", "trainings", "get",
                                      missing)
            self.assertEqual(rc, 1, err)
            ids.append(json.loads(err)["error"]["trace_id"])
        self.assertRegex(ids[0], r"^[0-9a-f]{32}$")
        self.assertNotEqual(ids[0], ids[1])
        for tid in ids:
            self.assertTrue(self.call_line(
                "GetTraining", lambda o, t=tid: o.get("trace_id") == t))

    def test_every_json_line_parses(self):
        self.c.available(fresh_hour())
        for inst in (self.trainer, self.users):
            lines = json_lines(inst)
            self.assertGreater(len(lines), 5)
            levels = {o["level"] for o in lines}
            self.assertTrue(levels <= {"DEBUG", "INFO", "WARN", "ERROR"})

    def test_a_hostile_ce_type_forges_no_json_line(self):
        hostile_command(self.cluster.brokers,
                        self.cluster.topic("trainer.commands"))
        dlq = wait_for(lambda: [o for o in json_lines(self.trainer)
                                if "dlq" in o and "forged=1" in
                                o.get("reason", "")])
        self.assertTrue(dlq, "no dead-letter line")
        self.assertIn(FORGED, dlq[-1]["reason"])  # the raw value, as data
        self.assertIn('\\"x\\"\\n2030-', dlq[-1]["message"])
        no_forged_line(self, self.trainer.log_text())


class TextLogs(unittest.TestCase):
    def test_a_hostile_ce_type_forges_no_text_line(self):
        cluster = Cluster(TRAINER_BIN, USERS_BIN, trainers=1, users=0)
        try:
            tr = cluster.trainers[0]
            hostile_command(cluster.brokers, cluster.topic("trainer.commands"))
            hit = wait_for(lambda: [l for l in tr.log_text().splitlines()
                                    if " dlq=" in l and "forged=1" in l])
            self.assertTrue(hit, tr.log_text()[-3000:])
            self.assertIn('unknown ce_type \\"x\\"\\n2030-01-01T00:00:00.000Z'
                          ' INFO rpc forged=1\\"', hit[-1])
            no_forged_line(self, tr.log_text())
        finally:
            self.assertEqual(cluster.stop(), {"tr-0": 0})


if __name__ == "__main__":
    unittest.main(verbosity=2)
