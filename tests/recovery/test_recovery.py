#!/usr/bin/env python3
"""Start-up is recovery, probed as Kubernetes would.

A users instance starts on fresh topics, takes a write and stops; then
users.events gets FACTS more facts (recovery_fill) and the instance starts
again, as the same instance. While it replays, the real grpc-health-probe
says NOT_SERVING (exit 4) overall and for users.UsersService, Watch streams
of both names say NOT_SERVING, and a write and a read are answered
UNAVAILABLE "users is catching up (...: X of Y offsets read ...)". Then the
probes and the streams say SERVING, the refused write (same idempotency
key) succeeds exactly once, and the balances include every replayed fact.

A start that cannot reach Kafka listens NOT_SERVING, refuses calls saying
it is connecting, and exits 1 naming why once WW_KAFKA_START_TIMEOUT_MS has
passed.

    test_recovery.py USERS_BIN FILL_BIN HEALTH_PROBE PROTO_DIR
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop", "python"))
from wwinterop import free_port, generate_stubs  # noqa: E402

USERS_BIN, FILL_BIN, PROBE, PROTO_DIR = sys.argv[1:5]
del sys.argv[1:5]
generate_stubs(PROTO_DIR)
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402
import users_pb2  # noqa: E402
import users_pb2_grpc  # noqa: E402

# about three seconds of replay on an idle 2-core machine, more under load
FACTS, FILL_USERS = 600000, 1000
SERVICE = "users.UsersService"
# grpc-health-probe's exit codes (its main.go)
PROBE_SERVING, PROBE_RPC_FAILED, PROBE_NOT_SERVING = 0, 3, 4
S = health_pb2.HealthCheckResponse
C = grpc.StatusCode


def probe(addr, service=None):
    """The real probe, as a kubelet's exec probe runs it: exit code, output."""
    args = [PROBE, "-addr=" + addr, "-connect-timeout=5s", "-rpc-timeout=5s"]
    if service is not None:
        args.append("-service=" + service)
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


class Instance:
    def __init__(self, env, port):
        self.port, self.addr = port, "127.0.0.1:%d" % port
        env = dict(env, WW_LISTEN_ADDR=self.addr)
        self.log = tempfile.NamedTemporaryFile(prefix="ww-recovery-",
                                               suffix=".log", delete=False)
        self.proc = subprocess.Popen([USERS_BIN], env=env, stdout=self.log,
                                     stderr=self.log)
        self.channel = grpc.insecure_channel(self.addr)
        self.users = users_pb2_grpc.UsersServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def wait_port(self, timeout=120):
        """Returns once the port accepts connections (the server listens
        before it replays), so neither the probe nor the channel starts in
        a reconnect backoff."""
        until = time.time() + timeout
        while time.time() < until and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                time.sleep(0.01)
        return False

    def stop(self, timeout=60):
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1

    def log_text(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()

    # wait_for_ready: the channel was made before the port opened and may be
    # in its reconnect backoff; an UNAVAILABLE must come from the server.
    def credit(self, user, n, key):
        return self.users.UpdateTrainingBalance(
            users_pb2.UpdateTrainingBalanceRequest(user_id=user,
                                                   amount_change=n),
            timeout=30, metadata=(("idempotency-key", key),),
            wait_for_ready=True)

    def balance(self, user):
        return self.users.GetTrainingBalance(
            users_pb2.GetTrainingBalanceRequest(user_id=user),
            timeout=30, wait_for_ready=True).amount


class Watcher(threading.Thread):
    """Collects what one Watch stream sends until it says SERVING."""

    def __init__(self, inst, name):
        super().__init__(daemon=True)
        self.name_, self.statuses, self.error = name, [], None
        self.stream = inst.health.Watch(
            health_pb2.HealthCheckRequest(service=name), timeout=580,
            wait_for_ready=True)

    def run(self):
        try:
            for r in self.stream:
                self.statuses.append(r.status)
                if r.status == S.SERVING:
                    break
        except grpc.RpcError as e:
            self.error = e
        finally:
            self.stream.cancel()


def fill_balance(user_index):
    """What recovery_fill credits fill-<user_index>."""
    return len(range(user_index, FACTS, FILL_USERS))


class RecoveryTest(unittest.TestCase):
    def setUp(self):
        self.env = dict(os.environ)
        for k in ("TRAINER_GRPC_ADDR", "USERS_GRPC_ADDR", "WW_LISTEN_ADDR"):
            self.env.pop(k, None)
        self.env.update({
            "GRPC_NO_TLS": "true",
            "WW_TOPIC_PREFIX": "recovery-%s." % uuid.uuid4().hex[:10],
            "WW_INSTANCE_ID": "us-recovery",
            "WW_KAFKA_PARTITIONS": "3",
            "WW_KAFKA_SESSION_TIMEOUT_MS": "6000",
            "WW_KAFKA_TRANSACTION_TIMEOUT_MS": "10000",
            "WW_LOG_LEVEL": "info",
        })
        self.instances = []

    def tearDown(self):
        for inst in self.instances:
            inst.stop()

    def start(self, env=None):
        inst = Instance(env or self.env, free_port())
        self.instances.append(inst)
        self.assertTrue(inst.wait_port(), inst.log_text()[-3000:])
        return inst

    def wait_serving(self, inst, timeout=240):
        until = time.time() + timeout
        while time.time() < until:
            rc, out = probe(inst.addr)
            if rc == PROBE_SERVING:
                return
            self.assertIsNone(inst.proc.poll(), inst.log_text()[-3000:])
            time.sleep(0.2)
        self.fail("never SERVING:\n" + inst.log_text()[-3000:])

    def assert_catching_up(self, call, what):
        with self.assertRaises(grpc.RpcError, msg=what) as cm:
            call()
        self.assertEqual(cm.exception.code(), C.UNAVAILABLE, what)
        self.assertIn("users is catching up", cm.exception.details(), what)
        return cm.exception.details()

    def test_a_restarting_instance_is_not_serving_until_it_caught_up(self):
        first = self.start()
        self.wait_serving(first)
        first.credit("rec-a", 5, "rec-a-first")
        self.assertEqual(first.balance("rec-a"), 5)
        self.assertEqual(first.stop(), 0, first.log_text()[-3000:])

        fill = subprocess.run([FILL_BIN, str(FACTS), str(FILL_USERS)],
                              env=self.env, capture_output=True, text=True,
                              timeout=300)
        self.assertEqual(fill.returncode, 0, fill.stderr)

        again = self.start()
        watchers = [Watcher(again, ""), Watcher(again, SERVICE)]
        for w in watchers:
            w.start()
        seen = {"": [], SERVICE: []}
        refusals = []
        until = time.time() + 400
        while time.time() < until:
            for name in seen:
                rc, out = probe(again.addr, name or None)
                seen[name].append(rc)
                self.assertIn(rc, (PROBE_SERVING, PROBE_NOT_SERVING), out)
            if seen[""][-1] == PROBE_NOT_SERVING and \
                    not any("offsets read" in r for r in refusals):
                # the same key each time: a refusal leaves nothing behind
                refusals.append(self.assert_catching_up(
                    lambda: again.credit("rec-a", 1, "rec-a-again"),
                    "a write while the probe says NOT_SERVING"))
                refusals.append(self.assert_catching_up(
                    lambda: again.balance("rec-a"),
                    "a read while the probe says NOT_SERVING"))
            if seen[""][-1] == PROBE_SERVING and \
                    seen[SERVICE][-1] == PROBE_SERVING:
                break
            self.assertIsNone(again.proc.poll(), again.log_text()[-3000:])
            time.sleep(0.05)  # a probe process per name and round, no more
        log = again.log_text()

        for name, codes in seen.items():
            # NOT_SERVING for the whole replay, then SERVING for good
            self.assertIn(PROBE_NOT_SERVING, codes, (name, seen, log[-3000:]))
            first_ok = codes.index(PROBE_SERVING)
            self.assertTrue(all(c == PROBE_NOT_SERVING
                                for c in codes[:first_ok]), (name, codes))
            self.assertTrue(all(c == PROBE_SERVING
                                for c in codes[first_ok:]), (name, codes))
        rc, out = probe(again.addr, "no.SuchService")
        self.assertEqual(rc, PROBE_RPC_FAILED, out)

        # a refusal that says how far the replay is: X of Y offsets, X < Y
        progress = [re.search(r"(\d+) of (\d+) offsets read", r)
                    for r in refusals]
        progress = [m for m in progress if m]
        self.assertTrue(progress, refusals)
        read, total = int(progress[-1].group(1)), int(progress[-1].group(2))
        self.assertLess(read, total, refusals)
        self.assertGreaterEqual(total, FACTS)

        for w in watchers:
            w.join(timeout=120)
            self.assertIsNone(w.error, (w.name_, w.error))
            self.assertGreaterEqual(len(w.statuses), 2, (w.name_, w.statuses))
            self.assertEqual(w.statuses[0], S.NOT_SERVING,
                             (w.name_, w.statuses))
            self.assertEqual(w.statuses[-1], S.SERVING, (w.name_, w.statuses))
            self.assertTrue(all(s == S.NOT_SERVING for s in w.statuses[:-1]),
                            (w.name_, w.statuses))

        # serving: the refused write goes through once, the replayed facts
        # are all there
        again.credit("rec-a", 1, "rec-a-again")
        again.credit("rec-a", 1, "rec-a-again")  # a retry: the same result
        self.assertEqual(again.balance("rec-a"), 6)
        for i in (0, 7, FILL_USERS - 1):
            self.assertEqual(again.balance("fill-%04d" % i), fill_balance(i))

        m = re.search(r"event=caught_up topic=\S+ facts=(\d+)", log)
        self.assertTrue(m, log[-3000:])
        self.assertGreaterEqual(int(m.group(1)), FACTS + 1)
        self.assertLess(log.index("event=caught_up"), log.index("event=serving"))
        self.assertLess(log.index("event=listening"),
                        log.index("event=replaying"))
        self.assertEqual(again.stop(), 0, again.log_text()[-3000:])

    def test_a_start_that_cannot_reach_kafka_is_not_serving_then_fails(self):
        env = dict(self.env, KAFKA_BROKERS="127.0.0.1:%d" % free_port(),
                   WW_KAFKA_START_TIMEOUT_MS="4000")
        inst = self.start(env)
        codes, refusal = [], None
        until = time.time() + 120
        while inst.proc.poll() is None and time.time() < until:
            rc, out = probe(inst.addr)
            codes.append(rc)
            if rc == PROBE_NOT_SERVING and refusal is None:
                refusal = self.assert_catching_up(
                    lambda: inst.credit("nobody", 1, "k"),
                    "a write while Kafka cannot be reached")
        self.assertEqual(inst.proc.wait(timeout=60), 1, inst.log_text())
        log = inst.log_text()
        self.assertIn(PROBE_NOT_SERVING, codes, log)
        self.assertNotIn(PROBE_SERVING, codes, log)
        self.assertIn("connecting to Kafka", refusal or "", codes)
        self.assertIn("event=start_failed", log)
        self.assertNotIn("event=serving", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
