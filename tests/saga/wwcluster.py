"""A Wild Workouts cluster for the saga tests: N trainer and M users
instances of the real binaries, as separate processes on free ports, on the
broker in KAFKA_BROKERS with a topic prefix of their own, short session and
transaction timeouts; plus kafka-python readers of its topics.

Shared by tests/saga/*.py (their stubs come from proto/ via wwinterop)."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings

import grpc

# kafka-python 3.0 still reads its protocol files the deprecated way
warnings.filterwarnings("ignore", category=DeprecationWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop", "python"))
from wwinterop import free_port, wait_serving  # noqa: E402

SESSION_MS = 6000
TXN_MS = 10000


class Instance:
    """One service process; `name` doubles as its WW_INSTANCE_ID."""

    def __init__(self, binary, name, env):
        self.binary, self.name, self.env = binary, name, env
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.log = tempfile.NamedTemporaryFile(prefix="ww-%s-" % name,
                                               suffix=".log", delete=False)
        self.proc = None
        self.start()

    def start(self):
        env = dict(self.env)
        env.update({"WW_INSTANCE_ID": self.name, "WW_LISTEN_ADDR": self.addr})
        self.proc = subprocess.Popen([self.binary], env=env,
                                     stderr=self.log, stdout=self.log)
        self.channel = grpc.insecure_channel(self.addr)
        # it listens at once, and serves once its read model caught up
        if not wait_serving(self.channel, 90, self.proc):
            raise RuntimeError("%s did not start serving:\n%s" %
                               (self.name, self.log_text()[-3000:]))

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self):
        self.signal(signal.SIGKILL)
        self.proc.wait()
        self.channel.close()

    def stop(self, timeout=30):
        """SIGTERM; the exit code (0: clean, and no leak under the
        sanitizer build)."""
        self.channel.close()
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1
        finally:
            self.log.close()

    def log_text(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def owns(self, partition):
        """True when this instance's decider holds `partition` now, as its
        log says (the last rebalance decides)."""
        owned = set()
        for line in self.log_text().splitlines():
            if "bus processor" in line and ".decider." in line and \
                    " revoked=" in line:
                owned = set()
            if "decider event=owner" in line:
                for field in line.split():
                    if field.startswith("partition="):
                        owned.add(int(field.split("=")[1]))
        return partition in owned


class Cluster:
    def __init__(self, trainer_bin, users_bin, trainers=2, users=2,
                 partitions=3, extra_env=None):
        self.prefix = "saga-%s." % uuid.uuid4().hex[:10]
        self.brokers = os.environ["KAFKA_BROKERS"]
        self.partitions = partitions
        env = dict(os.environ)
        for k in ("TRAINER_GRPC_ADDR", "USERS_GRPC_ADDR", "WW_LISTEN_ADDR"):
            env.pop(k, None)
        env.update({
            "GRPC_NO_TLS": "true",
            "WW_TOPIC_PREFIX": self.prefix,
            "WW_KAFKA_PARTITIONS": str(partitions),
            "WW_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_MS),
            "WW_KAFKA_TRANSACTION_TIMEOUT_MS": str(TXN_MS),
            "WW_LOG_LEVEL": os.environ.get("WW_SAGA_LOG_LEVEL", "info"),
        })
        env.update(extra_env or {})
        self.env = env
        self.trainers = [Instance(trainer_bin, "tr-%d" % i, env)
                         for i in range(trainers)]
        self.users = [Instance(users_bin, "us-%d" % i, env)
                      for i in range(users)]

    def topic(self, name):
        return self.prefix + name

    def stop(self):
        codes = {}
        for inst in self.trainers + self.users:
            codes[inst.name] = inst.stop()
        return codes

    def logs(self):
        return "\n".join("== %s\n%s" % (i.name, i.log_text()[-30000:])
                         for i in self.trainers + self.users)


def java_partition(key, partitions):
    """The partition the Java client (and kafka-python) picks for a key."""
    from kafka.partitioner.default import murmur2
    return (murmur2(key.encode()) & 0x7fffffff) % partitions


def read_topic(brokers, topic, timeout=20):
    """Every committed record of `topic` (read_committed), as kafka-python
    ConsumerRecords, in partition then offset order."""
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=brokers, enable_auto_commit=False,
                      isolation_level="read_committed",
                      auto_offset_reset="earliest", group_id=None,
                      consumer_timeout_ms=1000)
    parts = [TopicPartition(topic, p)
             for p in sorted(c.partitions_for_topic(topic) or [])]
    c.assign(parts)
    ends = c.end_offsets(parts)
    out = {tp.partition: [] for tp in parts}
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(c.position(tp) >= ends[tp] for tp in parts):
            break
        for tp, recs in c.poll(timeout_ms=200).items():
            out[tp.partition].extend(recs)
    c.close()
    return [r for p in sorted(out) for r in out[p]]


def header(rec, name):
    for k, v in rec.headers or []:
        if k == name:
            return v.decode()
    return None
