"""wwctl against the real services and the real broker, as separate
processes (a trainer and a users instance, kafka-python as the oracle):

  - tail decodes every event type of both services, produced by a whole
    saga through the services (booked, debited, confirmed, cancelled,
    refunded, rejected, released), and every command and reply type; each
    payload equals what protobuf's own json_format makes of the record
    kafka-python reads, with the same key, headers and timestamp;
  - --type filters by full or short name; --from beginning, end, OFFSET,
    TIME and --partition start where they say (TIME at a record, also when
    Kafka's lookup answers a newer commit marker before an older record);
    following prints records that arrive later and SIGINT stops it with
    status 0;
  - an undecodable record (garbage value, no headers, unknown type) is
    printed with its error and bytes, never skipped;
  - a poison command is listed by dlq list with its reason and origin;
  - dlq redrive brings a repaired record back exactly once: the service
    decides it once (one fact, one credit), a second redrive is refused,
    --all finds nothing left; two redrives at once commit one copy;
  - --json of the gRPC commands parses (proto3 JSON mapping), errors too;
  - fixtures --json twice: the second run writes no fact.

usage: test_wwctl_kafka.py WWCTL TRAINER_BIN USERS_BIN PROTO_DIR"""
import base64
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import time
import unittest
import uuid

WWCTL, TRAINER_BIN, USERS_BIN, PROTO_DIR = sys.argv[1:5]
del sys.argv[1:5]

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "saga"))
from wwcluster import Cluster, header, java_partition, read_topic  # noqa
from wwsaga import schema_classes  # noqa: E402

UTC = datetime.timezone.utc
TRAINER_EVENTS = {"HourAvailabilityChanged", "TrainingScheduled",
                  "TrainingConfirmed", "TrainingCanceled", "TrainingReleased"}
USERS_EVENTS = {"TrainingBalanceChanged", "TrainingBalanceRejected"}
_days = iter(random.sample(range(1000, 4000), 2000))


def hour(h=13):
    """A working hour on a day of its own, far ahead (a cancel refunds)."""
    day = datetime.datetime(2031, 1, 1, tzinfo=UTC) + \
        datetime.timedelta(days=next(_days))
    return day.replace(hour=h).strftime("%Y-%m-%dT%H:%M:%SZ")


def by_pos(lines):
    """Lines in partition, then offset order (partitions interleave
    differently from one read to the next)."""
    return sorted(lines, key=lambda j: (j["partition"], j["offset"]))


def rfc3339_ms(text):
    """Unix ms of "...T13:00:00.123Z", exactly (no float on the way)."""
    at = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    epoch = datetime.datetime(1970, 1, 1)
    return (at - epoch) // datetime.timedelta(milliseconds=1)


class WwctlOnKafka(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(TRAINER_BIN, USERS_BIN, trainers=1, users=1,
                              partitions=3)
        cls.env = dict(cls.cluster.env)
        cls.env.update({
            "TRAINER_GRPC_ADDR": cls.cluster.trainers[0].addr,
            "USERS_GRPC_ADDR": cls.cluster.users[0].addr,
            "WW_LOG_LEVEL": "warn"})
        cls.cls_of = staticmethod(schema_classes(PROTO_DIR))
        cls.saga()

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("unclean exits %s\n%s" %
                                 (bad, cls.cluster.logs()))

    # ---------- helpers ----------

    @classmethod
    def ctl(cls, *args, timeout=120):
        p = subprocess.run([WWCTL, "--timeout-ms", "30000"] + list(args),
                           env=cls.env, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    @classmethod
    def ok(cls, *args):
        rc, out, err = cls.ctl(*args)
        if rc != 0:
            raise AssertionError("wwctl %s: %d %s" % (args, rc, err))
        return out

    @classmethod
    def until(cls, args, text, timeout=30):
        """Runs wwctl until its output holds `text`; the last output."""
        deadline = time.time() + timeout
        while True:
            rc, out, err = cls.ctl(*args)
            if text in out or time.time() > deadline:
                return out
            time.sleep(0.2)

    def tail(self, topic, *opts):
        rc, out, err = self.ctl("tail", topic, "--exit-at-end", *opts)
        self.assertEqual(rc, 0, err)
        return [json.loads(line) for line in out.splitlines()]

    def topic(self, name):
        return self.cluster.topic(name)

    def produce(self, topic, value, headers, key=b"k", partition=None):
        from kafka import KafkaProducer
        p = KafkaProducer(bootstrap_servers=self.cluster.brokers)
        md = p.send(topic, key=key, value=value, headers=headers,
                    partition=partition).get(timeout=30)
        p.close()
        return md

    def create_topic(self, name, partitions=1):
        from kafka.admin import KafkaAdminClient, NewTopic
        a = KafkaAdminClient(bootstrap_servers=self.cluster.brokers)
        a.create_topics([NewTopic(name, partitions, 1)])
        a.close()

    def envelope(self, type_name, ce_id):
        now = datetime.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return [("ce_specversion", b"1.0"), ("ce_id", ce_id.encode()),
                ("ce_type", ("wildworkouts.events.v1." + type_name).encode()),
                ("ce_source", b"/wwctl-test"), ("ce_time", now.encode()),
                ("content-type", b"application/protobuf")]

    @classmethod
    def saga(cls):
        """Every fact of both services, through wwctl and the services."""
        cls.rich, cls.broke = "rich-" + uuid.uuid4().hex[:6], \
            "broke-" + uuid.uuid4().hex[:6]
        cls.h1, cls.h2 = hour(13), hour(14)
        cls.t1, cls.t2 = str(uuid.uuid4()), str(uuid.uuid4())
        cls.ok("users", "update-balance", cls.rich, "5")
        cls.ok("trainer", "make-available", cls.h1)
        cls.ok("trainer", "make-available", cls.h2)
        cls.ok("trainings", "schedule", cls.t1, cls.rich, cls.h1, "legs")
        assert "status=SCHEDULED" in cls.until(
            ("trainings", "get", cls.t1), "status=SCHEDULED")
        assert cls.ok("trainings", "cancel", cls.t1).strip() == \
            "balance_refund=1"
        cls.ok("trainings", "schedule", cls.t2, cls.broke, cls.h2)
        assert "status=REJECTED" in cls.until(
            ("trainings", "get", cls.t2), "status=REJECTED")
        assert "amount=5" in cls.until(("users", "get-balance", cls.rich),
                                       "amount=5")

    # ---------- tail ----------

    def check_against_kafka(self, topic, want_types):
        """tail's lines of `topic` against kafka-python's read of it (taken
        first: tail's end is later, so it holds at least those)."""
        from google.protobuf import json_format
        records = read_topic(self.cluster.brokers, self.topic(topic))
        lines = self.tail(topic)
        by_pos = {(j["partition"], j["offset"]): j for j in lines}
        self.assertGreaterEqual(len(lines), len(records))
        for j in lines:  # only the poison test's records do not decode
            poison = j["headers"].get("ce_id", "").startswith("poison-")
            self.assertEqual("error" in j, poison, j)
            self.assertEqual(j["topic"], self.topic(topic))
        for r in records:
            j = by_pos[(r.partition, r.offset)]
            if "error" in j:
                continue
            msg = self.cls_of(header(r, "ce_type"))()
            msg.ParseFromString(r.value)
            self.assertEqual(j["payload"], json_format.MessageToDict(msg), j)
            self.assertEqual(j["type"], header(r, "ce_type"))
            self.assertEqual(j["key"], r.key.decode())
            self.assertEqual(j["headers"],
                             {k: v.decode() for k, v in r.headers})
            self.assertEqual(rfc3339_ms(j["timestamp"]), r.timestamp)
        seen = {j["type"].rsplit(".", 1)[1] for j in lines if "payload" in j}
        self.assertTrue(want_types <= seen, (want_types - seen, topic))
        return lines

    def test_tail_decodes_every_event_type_of_both_services(self):
        trainer = self.check_against_kafka("trainer.events", TRAINER_EVENTS)
        users = self.check_against_kafka("users.events", USERS_EVENTS)
        # the saga of t1, read back as JSON
        t1 = [j for j in trainer if j["payload"].get("trainingUuid") ==
              self.t1]
        self.assertEqual([j["type"].rsplit(".", 1)[1] for j in t1],
                         ["TrainingScheduled", "TrainingConfirmed",
                          "TrainingCanceled"])
        self.assertEqual(t1[2]["payload"]["refund"], "1")  # int64: a string
        self.assertEqual(t1[0]["payload"]["time"], self.h1)
        rich = [j["payload"] for j in users
                if j["payload"]["userId"] == self.rich]
        self.assertEqual([(p["amountChange"], p["reason"]) for p in rich],
                         [("5", "BALANCE_CHANGE_REASON_MANUAL"),
                          ("-1", "BALANCE_CHANGE_REASON_TRAINING_DEBIT"),
                          ("1", "BALANCE_CHANGE_REASON_TRAINING_REFUND")])
        self.assertEqual(rich[1]["balanceAfter"], "4")
        broke = [j["payload"] for j in users
                 if j["payload"]["userId"] == self.broke]
        self.assertEqual(len(broke), 1)
        self.assertEqual(broke[0]["trainingUuid"], self.t2)
        self.assertNotIn("balance", broke[0])  # 0, the default: left out

    def test_tail_decodes_commands_and_replies(self):
        self.check_against_kafka("trainer.commands", {
            "ChangeHourCommand", "ScheduleTrainingCommand",
            "CancelTrainingCommand", "SettleTrainingCommand"})
        self.check_against_kafka("users.commands", {
            "ChangeBalanceCommand", "DebitTrainingCommand",
            "RefundTrainingCommand"})
        for svc in ("trainer", "users"):
            self.check_against_kafka(svc + ".replies", {"CommandResult"})

    def test_type_filters_by_full_or_short_name(self):
        every = self.tail("trainer.events")
        sched = [j for j in every if j["type"].endswith(".TrainingScheduled")]
        self.assertGreaterEqual(len(sched), 2)
        short = self.tail("trainer.events", "--type", "TrainingScheduled")
        self.assertEqual(by_pos(short), by_pos(sched))
        full = self.tail("trainer.events", "--type",
                         "wildworkouts.events.v1.TrainingScheduled")
        self.assertEqual(by_pos(full), by_pos(sched))
        two = self.tail("trainer.events", "--type", "TrainingScheduled",
                        "--type", "TrainingReleased")
        self.assertEqual({j["type"].rsplit(".", 1)[1] for j in two},
                         {"TrainingScheduled", "TrainingReleased"})
        self.assertEqual(by_pos(two), by_pos([j for j in every if j["type"] in (
            "wildworkouts.events.v1.TrainingScheduled",
            "wildworkouts.events.v1.TrainingReleased")]))
        rejected = self.tail("users.events", "--type",
                             "TrainingBalanceRejected")
        self.assertTrue(rejected)
        self.assertTrue(all(j["payload"]["userId"].startswith("broke-")
                            for j in rejected))

    def test_from_beginning_end_offset_time_and_partition(self):
        every = by_pos(self.tail("trainer.events"))
        tail = lambda *o: by_pos(self.tail("trainer.events", *o))  # noqa
        self.assertEqual(tail("--from", "beginning"), every)
        self.assertEqual(tail("--from", "end"), [])
        self.assertEqual(tail("--from", "2"),
                         [j for j in every if j["offset"] >= 2])
        self.assertEqual(tail("--from", "100000"), [])
        # TIME: in each partition, the first record at or after it on
        mid = sorted(j["timestamp"] for j in every)[len(every) // 2]
        t = rfc3339_ms(mid)
        want = []
        for p in sorted({j["partition"] for j in every}):
            part = [j for j in every if j["partition"] == p]
            first = next((i for i, j in enumerate(part)
                          if rfc3339_ms(j["timestamp"]) >= t), len(part))
            want += part[first:]
        got = tail("--from", mid)
        self.assertEqual(got, by_pos(want))
        self.assertTrue(0 < len(got) < len(every))
        self.assertEqual(tail("--from", "2099-01-01T00:00:00Z"), [])
        for p in range(self.cluster.partitions):
            self.assertEqual(tail("--partition", str(p)),
                             [j for j in every if j["partition"] == p])
        self.assertTrue(tail("--partition", str(every[0]["partition"])))

    def test_from_time_starts_at_a_record_not_at_a_newer_marker(self):
        """Offsets for times may answer a commit marker written after TIME;
        the next transaction's older first record is not printed."""
        from kafka import KafkaProducer
        topic = self.topic("wwctl-times")
        self.create_topic(topic)
        now = int(time.time() * 1000)
        p = KafkaProducer(bootstrap_servers=self.cluster.brokers,
                          transactional_id="wwctl-times-" + uuid.uuid4().hex)
        p.init_transactions()
        for stamps in ((now - 60000,), (now - 50000, now - 40000)):
            p.begin_transaction()
            for ts in stamps:
                p.send(topic, key=b"k", value=str(ts).encode(),
                       timestamp_ms=ts)
            p.commit_transaction()  # its marker: stamped now
        p.close()
        at = datetime.datetime.fromtimestamp((now - 45000) / 1000, UTC)
        lines = self.tail("wwctl-times", "--from",
                          at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
        self.assertEqual([base64.b64decode(j["value_base64"]) for j in lines],
                         [str(now - 40000).encode()])

    def test_follow_prints_later_records_until_sigint(self):
        import queue
        import threading
        proc = subprocess.Popen([WWCTL, "tail", "users.events"],
                                env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout],
                         daemon=True).start()
        try:
            known = len(self.tail("users.events"))
            got = [json.loads(lines.get(timeout=60)) for _ in range(known)]
            self.assertEqual(len(got), known)  # caught up, still running
            self.assertIsNone(proc.poll())
            user = "late-" + uuid.uuid4().hex[:6]
            self.ok("users", "update-balance", user, "2")
            late = json.loads(lines.get(timeout=60))
            self.assertEqual(late["payload"]["userId"], user)
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def test_undecodable_records_are_printed_not_skipped(self):
        topic = self.topic("wwctl-scratch")
        self.create_topic(topic)
        cmd = self.cls_of("wildworkouts.events.v1.ChangeBalanceCommand")(
            user_id="ann", amount_change=-3)
        good = cmd.SerializeToString()
        self.produce(topic, good, self.envelope("ChangeBalanceCommand", "g"))
        self.produce(topic, b"\xff\x00garbage",
                     self.envelope("ChangeBalanceCommand", "bad"))
        self.produce(topic, b"no headers at all", [])
        self.produce(topic, good, self.envelope("NoSuchType", "unknown"))
        lines = self.tail("wwctl-scratch")
        self.assertEqual(len(lines), 4)
        self.assertEqual(lines[0]["payload"],
                         {"userId": "ann", "amountChange": "-3"})
        for j, raw, why in ((lines[1], b"\xff\x00garbage", "does not parse"),
                            (lines[2], b"no headers at all",
                             "missing header ce_specversion"),
                            (lines[3], good, "NoSuchType")):
            self.assertNotIn("payload", j)
            self.assertIn(why, j["error"])
            self.assertEqual(base64.b64decode(j["value_base64"]), raw)
        # a filter keeps what matches, and what has no ce_type at all
        kept = self.tail("wwctl-scratch", "--type", "ChangeBalanceCommand")
        self.assertEqual([j["offset"] for j in kept], [0, 1, 2])

    # ---------- dead letters ----------

    def test_a_poison_command_is_listed_with_its_reason(self):
        ce_id = "poison-" + uuid.uuid4().hex[:6]
        md = self.produce(self.topic("users.commands"), b"\xff\x00poison",
                          self.envelope("ChangeBalanceCommand", ce_id),
                          key=b"someone")
        deadline, mine = time.time() + 60, []
        while not mine and time.time() < deadline:
            rc, out, err = self.ctl("--json", "dlq", "list", "users.commands")
            self.assertEqual(rc, 0, err)
            mine = [json.loads(x) for x in out.splitlines()
                    if json.loads(x)["headers"].get("ce_id") == ce_id]
            time.sleep(0.3)
        self.assertEqual(len(mine), 1)
        j = mine[0]
        d = j["dead_letter"]
        self.assertIn("undecodable", d["reason"])
        self.assertEqual(d["attempts"], 0)
        self.assertEqual(d["origin"], {"topic": self.topic("users.commands"),
                                       "partition": md.partition,
                                       "offset": md.offset})
        self.assertEqual(d["group"], self.topic("users.decider"))
        self.assertFalse(d["redriven"])
        self.assertEqual(base64.b64decode(j["value_base64"]),
                         b"\xff\x00poison")
        self.assertEqual(j["topic"], self.topic("users.commands.dlq"))
        text = self.ok("dlq", "list", "users.commands.dlq")
        self.assertIn("offset=%d origin=%s/%d/%d type=ChangeBalanceCommand "
                      "attempts=0" % (j["offset"],
                                      self.topic("users.commands"),
                                      md.partition, md.offset), text)

    def repaired_dead_letter(self, uid, user, when):
        """A valid booking command on trainer.commands.dlq, as a decider
        that gave up on it (the cause fixed since) would have left it."""
        C = self.cls_of
        cmd = C("wildworkouts.events.v1.ScheduleTrainingCommand")(
            trainer_id="trainer-1", training_uuid=uid, user_id=user,
            notes="redriven")
        cmd.time.FromJsonString(when)
        cmd.meta.correlation_id = "redrive-" + uid
        cmd.meta.issued_at.GetCurrentTime()
        parts = self.cluster.partitions
        origin = java_partition("trainer-1", parts)
        headers = self.envelope("ScheduleTrainingCommand", "cmd-" + uid) + [
            ("ce_correlationid", cmd.meta.correlation_id.encode()),
            ("ww_dlq_reason", b"gave up after 5 attempts: users unreachable"),
            ("ww_dlq_attempts", b"5"),
            ("ww_dlq_topic", self.topic("trainer.commands").encode()),
            ("ww_dlq_partition", str(origin).encode()),
            ("ww_dlq_offset", b"12345"),
            ("ww_dlq_group", self.topic("trainer.decider").encode()),
            ("ww_dlq_time", b"2026-01-01T00:00:00.000Z")]
        value = cmd.SerializeToString()
        md = self.produce(self.topic("trainer.commands.dlq"), value, headers,
                          key=b"trainer-1", partition=origin)
        return md, value, origin

    def facts_of(self, uid, type_name):
        return [r for r in read_topic(self.cluster.brokers,
                                      self.topic("trainer.events"))
                if header(r, "ce_type") == "wildworkouts.events.v1." +
                type_name and
                self.cls_of(header(r, "ce_type")).FromString(
                    r.value).training_uuid == uid]

    def test_redrive_brings_a_repaired_record_back_exactly_once(self):
        user, when, uid = "redr-" + uuid.uuid4().hex[:6], hour(15), \
            str(uuid.uuid4())
        self.ok("users", "update-balance", user, "2")
        self.ok("trainer", "make-available", when)
        md, value, origin = self.repaired_dead_letter(uid, user, when)
        dlq = self.topic("trainer.commands.dlq")
        pos = "%s/%d/%d" % (dlq, md.partition, md.offset)
        rc, _, err = self.ctl("trainings", "get", uid)
        self.assertEqual(rc, 1)
        self.assertIn("NOT_FOUND", err)
        listed = [json.loads(x) for x in
                  self.ok("--json", "dlq", "list", "trainer.commands")
                  .splitlines()]
        mine = [j for j in listed if j["offset"] == md.offset and
                j["partition"] == md.partition]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["payload"]["trainingUuid"], uid)
        self.assertEqual(mine[0]["dead_letter"]["attempts"], 5)
        self.assertFalse(mine[0]["dead_letter"]["redriven"])

        out = self.ok("dlq", "redrive", "trainer.commands", "--offset",
                      str(md.offset), "--partition", str(md.partition))
        self.assertIn("redriven %s to %s/%d/" % (
            pos, self.topic("trainer.commands"), origin), out)
        self.assertIn("status=SCHEDULED", self.until(
            ("trainings", "get", uid), "status=SCHEDULED"))
        self.assertIn("amount=1", self.until(("users", "get-balance", user),
                                             "amount=1"))
        copies = [r for r in read_topic(self.cluster.brokers,
                                        self.topic("trainer.commands"))
                  if header(r, "ww_redriven_from") == pos]
        self.assertEqual(len(copies), 1)
        c = copies[0]
        self.assertEqual((c.partition, c.value, c.key),
                         (origin, value, b"trainer-1"))
        self.assertEqual(header(c, "ce_id"), "cmd-" + uid)
        self.assertFalse([k for k, _ in c.headers if k.startswith("ww_dlq_")])

        # again: refused; --all: nothing left here; still one of each
        rc, out, err = self.ctl("dlq", "redrive", "trainer.commands",
                                "--offset", str(md.offset), "--partition",
                                str(md.partition))
        self.assertEqual(rc, 1)
        self.assertIn("%s was redriven already, to %s/%d/%d" % (
            pos, self.topic("trainer.commands"), c.partition, c.offset), err)
        rc, out, err = self.ctl("--json", "dlq", "redrive",
                                "trainer.commands.dlq", "--all")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["redriven"], [])
        text = self.ok("dlq", "list", "trainer.commands")
        self.assertIn("offset=%d " % md.offset, text)
        self.assertIn("redriven=%s/%d/%d" % (self.topic("trainer.commands"),
                                              c.partition, c.offset), text)
        time.sleep(2)  # whatever else was going to happen, has
        self.assertEqual(len(self.facts_of(uid, "TrainingScheduled")), 1)
        self.assertEqual(len(self.facts_of(uid, "TrainingConfirmed")), 1)
        self.assertIn("amount=1", self.ok("users", "get-balance", user))

    def test_two_redrives_at_once_commit_one_copy(self):
        topic = self.topic("wwctl-race")
        self.create_topic(topic)
        self.create_topic(topic + ".dlq")
        md = self.produce(topic + ".dlq", b"letter", [
            ("ww_dlq_reason", b"test"), ("ww_dlq_topic", topic.encode())])
        procs = [subprocess.Popen(
            [WWCTL, "--json", "dlq", "redrive", "wwctl-race", "--all"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True) for _ in range(2)]
        results = [p.communicate(timeout=120) + (p.returncode,)
                   for p in procs]
        sent = 0
        for out, err, rc in results:
            self.assertIn(rc, (0, 1), err)
            if rc == 0:
                sent += len(json.loads(out)["redriven"])
            else:
                self.assertIn("took over", err)
        self.assertEqual(sent, 1, results)
        copies = read_topic(self.cluster.brokers, topic)
        self.assertEqual(len(copies), 1)
        self.assertEqual(header(copies[0], "ww_redriven_from"),
                         "%s.dlq/0/%d" % (topic, md.offset))

    # ---------- JSON of the gRPC commands ----------

    def test_grpc_answers_as_json(self):
        j = json.loads(self.ok("--json", "trainings", "get", self.t1))
        want = {"trainingUuid": self.t1, "userId": self.rich,
                "time": self.h1, "notes": "legs", "status": "CANCELED"}
        self.assertEqual({k: j[k] for k in want}, want)
        self.assertEqual(j.get("balanceRefund", "0"), "1")  # int64: a string
        self.assertEqual(json.loads(self.ok("--json", "users", "get-balance",
                                            self.rich)), {"amount": "5"})
        self.assertEqual(json.loads(self.ok("--json", "users", "get-balance",
                                            "nobody-" + uuid.uuid4().hex)),
                         {})  # 0 is the default: left out
        self.assertEqual(json.loads(self.ok("--json", "health", "users")),
                         {"status": "SERVING"})
        self.assertEqual(json.loads(self.ok("--json", "trainer",
                                            "is-hour-available", self.h2)),
                         {"isAvailable": True})
        self.assertEqual(json.loads(self.ok("--json", "trainer",
                                            "make-available", hour())), {})
        rc, out, err = self.ctl("--json", "trainings", "get",
                                str(uuid.uuid4()))
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(json.loads(err)["error"]["code"], "NOT_FOUND")
        # text output is unchanged without --json
        self.assertEqual(self.ok("users", "get-balance", self.rich),
                         "amount=5\n")

    def test_fixtures_twice_writes_no_fact_the_second_time(self):
        first = json.loads(self.ok("--json", "fixtures"))
        self.assertGreater(first["hours_available"], 0)
        self.assertEqual(first["calls_failed"], 0)
        self.assertGreater(first["users_credited"], 0)
        time.sleep(1)
        before = len(read_topic(self.cluster.brokers,
                                self.topic("trainer.events")))
        ubefore = len(read_topic(self.cluster.brokers,
                                 self.topic("users.events")))
        second = json.loads(self.ok("--json", "fixtures"))
        self.assertEqual(second, first)
        time.sleep(1)
        self.assertEqual(len(read_topic(self.cluster.brokers,
                                        self.topic("trainer.events"))),
                         before)
        self.assertEqual(len(read_topic(self.cluster.brokers,
                                        self.topic("users.events"))),
                         ubefore)


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
