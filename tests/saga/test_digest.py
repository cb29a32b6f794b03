"""State digests on the real broker: after a saga through 2 trainer and 2
users instances, every replica of a service answers the same digest
(`wwctl digest`, AdminService), a fresh `wwctl replay` to the offsets a
replica answered gives that digest too, the demo fixtures loaded twice
leave the digest as once, and the replay draws its bar on a terminal.

usage: test_digest.py TRAINER_BIN USERS_BIN WWCTL_BIN PROTO_DIR"""
import json
import os
import subprocess
import sys
import time
import unittest
import uuid

TRAINER_BIN, USERS_BIN, WWCTL, PROTO_DIR = sys.argv[1:5]
del sys.argv[1:]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wwsaga  # noqa: E402

wwsaga.load(PROTO_DIR)
from wwcluster import Cluster  # noqa: E402
from wwsaga import Client, Status, eventually, fresh_hour  # noqa: E402


class Digests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(TRAINER_BIN, USERS_BIN, trainers=2, users=2)
        cls.env = dict(cls.cluster.env)
        cls.env["KAFKA_BROKERS"] = cls.cluster.brokers

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("unclean exits %s\n%s" %
                                 (bad, cls.cluster.logs()))

    def wwctl(self, *args, env=None, want=0):
        p = subprocess.run([WWCTL] + list(args), env=env or self.env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, want, "wwctl %s:\n%s%s" %
                         (" ".join(args), p.stdout, p.stderr))
        return p

    def digest(self, service, inst):
        return json.loads(self.wwctl("digest", service, "--addr", inst.addr,
                                     "--json").stdout)

    def settled(self, service):
        """Both replicas' digests once they agree (their models apply the
        same facts a few milliseconds apart)."""
        insts = (self.cluster.trainers if service == "trainer"
                 else self.cluster.users)
        deadline = time.time() + 30
        while True:
            got = [self.digest(service, i) for i in insts]
            if all(g["sha256"] == got[0]["sha256"] and
                   g["partitions"] == got[0]["partitions"] for g in got):
                return got
            if time.time() > deadline:
                self.fail("replicas disagree: %s" % got)
            time.sleep(0.2)

    def replay(self, service, to=None):
        args = ["replay", service, "--json"]
        if to:
            args += ["--to-offsets", ",".join(
                "%d:%s" % (p["partition"], p["eventsOffset"]) for p in to)]
        return json.loads(self.wwctl(*args).stdout)

    def saga(self):
        a = Client(self.cluster.trainers[0], self.cluster.users[0])
        b = Client(self.cluster.trainers[1], self.cluster.users[1])
        for i, credits in enumerate((2, 0, 1)):
            user = "digest-%s" % uuid.uuid4().hex[:8]
            when = fresh_hour(13 + i)
            if credits:
                a.credit(user, credits)
            a.open_hour(when)
            uid = str(uuid.uuid4())
            b.schedule(uid, user, when)
            want = Status.SCHEDULED if credits else Status.REJECTED
            self.assertEqual(eventually(lambda: a.get(uid).status, want),
                             want)
            if credits == 2:
                self.assertEqual(b.cancel(uid), 1)

    def test_replicas_and_a_replay_agree(self):
        self.saga()
        for service in ("trainer", "users"):
            got = self.settled(service)
            first = got[0]
            self.assertEqual(len(first["sha256"]), 64)
            self.assertEqual(len(first["partitions"]), self.cluster.partitions)
            self.assertGreater(sum(int(p["applied"])
                                   for p in first["partitions"]), 0)
            self.assertEqual({g["instanceId"] for g in got},
                             {i.name for i in (self.cluster.trainers
                                               if service == "trainer"
                                               else self.cluster.users)})
            replayed = self.replay(service, to=first["partitions"])
            self.assertEqual(replayed["sha256"], first["sha256"])
            self.assertEqual(replayed["partitions"], first["partitions"])
            # nothing written since: the whole log gives the same state
            self.assertEqual(self.replay(service)["sha256"], first["sha256"])
            # an earlier offset is another state
            some = [p for p in first["partitions"] if int(p["applied"]) > 0][0]
            earlier = [dict(p) for p in first["partitions"]]
            earlier[some["partition"]]["eventsOffset"] = "0"
            self.assertNotEqual(self.replay(service, to=earlier)["sha256"],
                                first["sha256"])

    def test_fixtures_twice_leave_the_digest_as_once(self):
        env = dict(self.env)
        env["TRAINER_GRPC_ADDR"] = self.cluster.trainers[0].addr
        env["USERS_GRPC_ADDR"] = self.cluster.users[0].addr
        self.wwctl("fixtures", env=env)
        once = {s: self.settled(s)[0] for s in ("trainer", "users")}
        self.wwctl("fixtures", env=env)
        time.sleep(1)
        twice = {s: self.settled(s)[0] for s in ("trainer", "users")}
        for s in once:
            self.assertEqual(twice[s]["sha256"], once[s]["sha256"], s)

    def test_replay_draws_a_bar_on_a_terminal_and_lines_elsewhere(self):
        # util-linux `script` gives the command a pseudo-terminal
        cmd = "%s replay users" % WWCTL
        p = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                           env=self.env, capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # bytes: text mode would read the bar's carriage return as a newline
        self.assertIn(b"\r[###", p.stdout)
        self.assertIn(b"100.0%", p.stdout)
        self.assertIn(b"ETA", p.stdout)
        plain = self.wwctl("replay", "users")
        self.assertNotIn("\r", plain.stderr)
        self.assertIn("100.0% of the end captured at start", plain.stderr)

    def test_bad_usage_is_refused_with_a_message(self):
        p = self.wwctl("replay", "users", "--to-offsets", "9:x", want=2)
        self.assertIn("--to-offsets", p.stderr)
        p = self.wwctl("digest", "nobody", want=2)
        self.assertIn("trainer or users", p.stderr)
        env = dict(self.env)
        env.pop("KAFKA_BROKERS")
        p = self.wwctl("replay", "users", env=env, want=2)
        self.assertIn("KAFKA_BROKERS", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
