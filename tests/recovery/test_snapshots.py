#!/usr/bin/env python3
"""Snapshots on the real broker, with the users binary as a process (and
the trainer's through the same path).

An instance writes snapshots of its partitions (every 300 ms here) while
it takes writes; restarted (snapshots off from then on), it loads them and
replays only the events after them: its catch-up reports exactly the
writes made since, and its digest equals a fresh `wwctl replay`. A
snapshot that does not decode, and one whose state does not match its
SHA-256, are each ignored with a WARN line naming the partition, which is
then replayed from its beginning, to the same digest.

`wwctl replay` over a million facts stops cleanly on Ctrl-C: exit 130, a
line saying how far it got, nothing on stdout.

    test_snapshots.py TRAINER_BIN USERS_BIN WWCTL_BIN FILL_BIN PROTO_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "saga"))
TRAINER_BIN, USERS_BIN, WWCTL, FILL_BIN, PROTO_DIR = sys.argv[1:6]
del sys.argv[1:6]
import wwsaga  # noqa: E402

wwsaga.load(PROTO_DIR)
from wwcluster import Cluster, header  # noqa: E402
from wwsaga import schema_classes  # noqa: E402

USERS = ["snap-%02d" % i for i in range(12)]


class SnapshotCase(unittest.TestCase):
    """One instance of SERVICE on a broker of its own, writing snapshots
    every 300 ms."""
    SERVICE = "users"

    def setUp(self):
        users = self.SERVICE == "users"
        self.cl = Cluster(TRAINER_BIN, USERS_BIN, trainers=0 if users else 1,
                          users=1 if users else 0, partitions=3,
                          extra_env={"WW_SNAPSHOT_INTERVAL_MS": "300",
                                     "WW_SNAPSHOT_MIN_RECORDS": "1"})
        self.inst = (self.cl.users if users else self.cl.trainers)[0]
        self.env = dict(self.cl.env, KAFKA_BROKERS=self.cl.brokers)

    def tearDown(self):
        self.inst.stop()

    def write(self, n):
        stub = wwsaga.users_pb2_grpc.UsersServiceStub(self.inst.channel)
        for i in range(n):
            stub.UpdateTrainingBalance(
                wwsaga.users_pb2.UpdateTrainingBalanceRequest(
                    user_id=USERS[i % len(USERS)], amount_change=1 + i % 3),
                timeout=20)

    def wwctl(self, *args):
        p = subprocess.run([WWCTL] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return json.loads(p.stdout)

    def digest(self):
        return self.wwctl("digest", self.SERVICE, "--addr", self.inst.addr,
                          "--json")

    def snapshotted(self):
        """partition -> events_offset of the newest snapshot in the log."""
        out = {}
        for m in re.finditer(r"event=snapshot topic=\S+ partition=(\d+) "
                             r"events_offset=(\d+)", self.inst.log_text()):
            out[int(m.group(1))] = int(m.group(2))
        return out

    def restart(self, **env):
        self.inst.stop()
        self.inst.env = dict(self.inst.env, **env)
        self.inst.log = open(self.inst.log.name, "a")  # one log, appended
        mark = len(self.inst.log_text())
        self.inst.start()
        return mark

    def caught_up_facts(self, since):
        text = self.inst.log_text()[since:]
        m = re.search(r"event=caught_up \S+ facts=(\d+)", text)
        self.assertIsNotNone(m, text[-3000:])
        return int(m.group(1)), text

    def covered(self):
        """Waits for snapshots that cover every partition's current state;
        the digest and the partitions that hold facts."""
        deadline = time.time() + 30
        while True:
            d = self.digest()
            want = {p["partition"]: int(p["eventsOffset"])
                    for p in d["partitions"] if int(p["eventsOffset"]) > 0}
            got = self.snapshotted()
            if want and all(got.get(p) == o for p, o in want.items()):
                return d, want
            self.assertLess(time.time(), deadline, (want, got))
            time.sleep(0.2)


class TrainerSnapshots(SnapshotCase):
    """The trainer's state (hours and trainings of its roster) through the
    same snapshot path: loaded on restart, only later facts replayed."""
    SERVICE = "trainer"

    def write(self, n):
        stub = wwsaga.trainer_pb2_grpc.TrainerServiceStub(self.inst.channel)
        for _ in range(n):
            stub.MakeHourAvailable(wwsaga.trainer_pb2.UpdateHourRequest(
                time=wwsaga.ts(wwsaga.fresh_hour(13))), timeout=20)

    def test_restart_loads_the_trainer_snapshot_and_replays_the_rest(self):
        self.write(20)
        d, want = self.covered()
        # one trainer id: its facts live on one partition
        self.assertEqual(len(want), 1, d)
        mark = self.restart(WW_SNAPSHOT_INTERVAL_MS="0")
        facts, text = self.caught_up_facts(mark)
        self.assertEqual(facts, 0, "nothing after the snapshot")
        self.assertEqual(text.count("event=snapshot_loaded"), 1, text)
        self.assertEqual(self.digest()["sha256"], d["sha256"])
        self.write(5)
        after = self.digest()
        mark = self.restart()
        facts, _ = self.caught_up_facts(mark)
        self.assertEqual(facts, 5, "exactly the writes after the snapshot")
        self.assertEqual(self.digest()["sha256"], after["sha256"])
        self.assertEqual(self.wwctl("replay", "trainer", "--json")["sha256"],
                         after["sha256"])


class Snapshots(SnapshotCase):
    def test_restart_replays_only_what_follows_the_snapshots(self):
        self.write(40)
        d, want = self.covered()
        self.assertEqual(len(want), 3, d)  # 12 users over 3 partitions

        mark = self.restart(WW_SNAPSHOT_INTERVAL_MS="0")
        facts, text = self.caught_up_facts(mark)
        self.assertEqual(facts, 0, "nothing after the snapshots")
        self.assertEqual(text.count("event=snapshot_loaded"), 3, text)
        self.assertEqual(self.digest()["sha256"], d["sha256"])

        self.write(9)
        after = self.digest()
        mark = self.restart()
        facts, text = self.caught_up_facts(mark)
        self.assertEqual(facts, 9, "exactly the writes after the snapshots")
        self.assertEqual(self.digest()["sha256"], after["sha256"])
        self.assertEqual(self.digest()["partitions"], after["partitions"])
        self.assertEqual(self.wwctl("replay", "users", "--json")["sha256"],
                         after["sha256"])

        # a snapshot that does not decode, and one that does not match its
        # SHA-256: both ignored, their partitions replayed in full
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        topic = self.cl.topic("users.snapshots")
        c = KafkaConsumer(bootstrap_servers=self.cl.brokers, group_id=None,
                          enable_auto_commit=False)
        newest = {}
        for p in range(3):
            tp = TopicPartition(topic, p)
            c.assign([tp])
            end = c.end_offsets([tp])[tp]
            c.seek(tp, end - 1)
            recs = c.poll(timeout_ms=10000, max_records=1)
            newest[p] = recs[tp][0]
        c.close()
        cls = schema_classes(PROTO_DIR)
        bad = cls("wildworkouts.events.v1.StateSnapshot")()
        bad.ParseFromString(newest[1].value)
        state = bytearray(bad.state)
        state[-1] ^= 0x01
        bad.state = bytes(state)  # the SHA-256 stays the old one
        prod = KafkaProducer(bootstrap_servers=self.cl.brokers)
        prod.send(topic, partition=0, key=b"0", value=b"\x00garbage",
                  headers=newest[0].headers).get(timeout=30)
        prod.send(topic, partition=1, key=b"1", value=bad.SerializeToString(),
                  headers=newest[1].headers).get(timeout=30)
        prod.close()
        applied = {p["partition"]: int(p["applied"])
                   for p in after["partitions"]}
        mark = self.restart()
        facts, text = self.caught_up_facts(mark)
        ignored = re.findall(r"event=snapshot_ignored topic=\S+ "
                             r"partition=(\d+) .*?msg=\"([^\"]*)\"", text)
        self.assertEqual(sorted(int(p) for p, _ in ignored), [0, 1], text)
        why = dict((int(p), m) for p, m in ignored)
        self.assertIn("does not decode", why[0])
        self.assertIn("SHA-256 does not match", why[1])
        self.assertEqual(text.count("event=snapshot_loaded"), 1, text)
        kept = cls("wildworkouts.events.v1.StateSnapshot")()
        kept.ParseFromString(newest[2].value)
        self.assertEqual(facts, applied[0] + applied[1] +
                         (applied[2] - kept.applied),
                         "partitions 0 and 1 replayed from their start, 2 "
                         "after its snapshot")
        self.assertEqual(self.digest()["sha256"], after["sha256"])
        self.assertEqual(header(newest[2], "ce_type"),
                         "wildworkouts.events.v1.StateSnapshot")


    def test_replay_stops_cleanly_on_ctrl_c(self):
        facts = 1000000
        subprocess.run([FILL_BIN, str(facts), "10000"], env=self.env,
                       check=True, capture_output=True, timeout=600)
        p = subprocess.Popen([WWCTL, "replay", "users"], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        first = p.stderr.readline()  # the first progress line, after 1 s
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 130, first + err)
        self.assertEqual(out, "")
        m = re.search(r"interrupted after (\d+) records", err)
        self.assertIsNotNone(m, first + err)
        self.assertGreater(int(m.group(1)), 0)
        self.assertLess(int(m.group(1)), facts)


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
