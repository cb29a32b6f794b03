"""Topic settings at start, through the trainer binary on the real broker,
read back with kafka-python's admin client (not the service's own code):

  - a fresh start creates every topic with the catalogue's settings as the
    topic's own (events, dead letters and the peer's events kept forever,
    replies one hour with hourly segments, snapshots compacted and kept
    forever, commands with the broker's defaults), and a restart accepts
    them;
  - a topic pre-created with another retention (plus an unrelated
    override), and one created without any override, make the binary
    refuse to start: both named, each wrong setting with the value found
    and the one expected, nothing changed on the broker;
  - with WW_KAFKA_FIX_TOPICS=1 it starts, both topics have the catalogue's
    settings, the unrelated override is still there, and the next start
    without the flag is accepted;
  - on the shared embedded cluster (tools/ww-embedded-kafka, librdkafka's
    mock, which has no admin API) the check is skipped with one WARN line
    and the service starts.

usage: test_topic_settings.py TRAINER_BIN EMBEDDED_KAFKA_BIN"""
import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
import warnings

# kafka-python 3.0 still reads its protocol files the deprecated way
warnings.filterwarnings("ignore", category=DeprecationWarning)
from kafka.admin import (ConfigResource, ConfigResourceType,  # noqa: E402
                         KafkaAdminClient, NewTopic)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop", "python"))
from wwinterop import free_port  # noqa: E402

TRAINER_BIN, EMBEDDED_BIN = sys.argv[1:3]
del sys.argv[1:3]

PARTITIONS = 2
FOREVER = {"cleanup.policy": "delete", "retention.ms": "-1",
           "retention.bytes": "-1"}
SHORT = {"cleanup.policy": "delete", "retention.ms": "3600000",
         "segment.ms": "3600000"}
COMPACTED = {"cleanup.policy": "compact", "retention.ms": "-1",
             "retention.bytes": "-1", "max.message.bytes": "67108864"}
# The trainer's topics (its peer is users) and what the catalogue says.
CATALOGUE = {
    "trainer.commands": {},
    "trainer.events": FOREVER,
    "trainer.replies": SHORT,
    "trainer.snapshots": COMPACTED,
    "trainer.commands.dlq": FOREVER,
    "users.events": FOREVER,
    "users.events.dlq": FOREVER,
}


class Trainer:
    """One trainer process with its log in a file."""

    def __init__(self, env):
        self.port = free_port()
        e = dict(os.environ)
        for k in ("TRAINER_GRPC_ADDR", "USERS_GRPC_ADDR"):
            e.pop(k, None)
        e.update({"GRPC_NO_TLS": "true", "WW_INSTANCE_ID": "settings-tr",
                  "WW_LISTEN_ADDR": "127.0.0.1:%d" % self.port,
                  "WW_KAFKA_PARTITIONS": str(PARTITIONS),
                  "WW_KAFKA_START_TIMEOUT_MS": "20000"})
        e.update(env)
        self.log = tempfile.NamedTemporaryFile(prefix="ww-settings-",
                                               suffix=".log", delete=False)
        self.proc = subprocess.Popen([TRAINER_BIN], env=e, stdout=self.log,
                                     stderr=self.log)

    def text(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def wait_started(self, timeout=90):
        """True once the log says it serves (it listens before it checked
        its topics); False when it ended first."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "event=serving" in self.text():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def wait_exit(self, timeout=90):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait_exit(timeout)


class TopicSettings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.brokers = os.environ["KAFKA_BROKERS"]
        cls.admin = KafkaAdminClient(bootstrap_servers=cls.brokers)

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()

    def prefix(self):
        return "settings-%s." % uuid.uuid4().hex[:10]

    def own_settings(self, topic):
        """The topic's own settings (its dynamic overrides): name -> value."""
        res = self.admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)])
        configs = res["topic"][topic]
        return {name: c["value"] for name, c in configs.items()
                if c["config_source"] == "DYNAMIC_TOPIC_CONFIG"}

    def wait_own_settings(self, topic, want, timeout=30):
        """The topic's own settings once they read as created: a topic the
        broker has just accepted can describe with no overrides for a
        moment, before its configuration has reached this broker."""
        deadline = time.time() + timeout
        got = self.own_settings(topic)
        while got != want and time.time() < deadline:
            time.sleep(0.1)
            got = self.own_settings(topic)
        self.assertEqual(got, want, "%s never read as created" % topic)
        return got

    def partitions(self, topic):
        meta = self.admin.describe_topics([topic])[0]
        self.assertEqual(meta["error_code"], 0, meta)
        return len(meta["partitions"])

    def start(self, env, expect_start=True):
        t = Trainer(env)
        ok = t.wait_started()
        if ok != expect_start:
            t.stop()
            self.fail("trainer %s:\n%s" % (
                "did not start" if expect_start else "started", t.text()))
        return t

    def assertCleanStop(self, t):
        self.assertEqual(t.stop(), 0, t.text()[-3000:])

    def test_a_fresh_start_creates_the_topics_as_the_catalogue_says(self):
        p = self.prefix()
        t = self.start({"WW_TOPIC_PREFIX": p})
        self.assertNotIn("topic_setting_wrong", t.text())
        self.assertCleanStop(t)
        for topic, want in CATALOGUE.items():
            with self.subTest(topic=topic):
                self.assertEqual(self.own_settings(p + topic), want)
                self.assertEqual(self.partitions(p + topic), PARTITIONS)
        # the users' own snapshots are theirs to create
        self.assertNotIn(p + "users.snapshots",
                         self.admin.list_topics())
        # a restart finds them as they should be
        t = self.start({"WW_TOPIC_PREFIX": p})
        self.assertNotIn("topic_setting_wrong", t.text())
        self.assertNotIn("topic_fixed", t.text())
        self.assertCleanStop(t)

    def test_wrong_settings_refuse_the_start_until_fixed(self):
        p = self.prefix()
        events, replies = p + "trainer.events", p + "trainer.replies"
        before = {events: {"retention.ms": "86400000",
                           "max.message.bytes": "2000000"},
                  replies: {}}
        self.admin.create_topics([
            NewTopic(events, PARTITIONS, 1, topic_configs=before[events]),
            NewTopic(replies, PARTITIONS, 1),
        ])
        for topic, settings in before.items():
            self.wait_own_settings(topic, settings)

        t = self.start({"WW_TOPIC_PREFIX": p}, expect_start=False)
        code, log = t.wait_exit(), t.text()
        self.assertEqual(code, 1, log)
        self.assertIn("event=topic_setting_wrong topic=%s setting=retention.ms "
                      "found=86400000 from=topic want=-1" % events, log)
        self.assertIn("event=topic_setting_wrong topic=%s "
                      "setting=retention.bytes found=-1 from=default want=-1"
                      % events, log)
        self.assertIn("event=topic_setting_wrong topic=%s setting=segment.ms "
                      "found=604800000 from=default want=3600000" % replies,
                      log)
        failed = [l for l in log.splitlines() if "event=start_failed" in l]
        self.assertEqual(len(failed), 1, log)
        self.assertIn("2 topics are not as the catalogue says", failed[0])
        self.assertIn("WW_KAFKA_FIX_TOPICS=1", failed[0])
        self.assertIn(events, failed[0])
        self.assertIn(replies, failed[0])
        # only the wrong ones are named
        self.assertNotIn("topic=%strainer.snapshots" % p, log)
        # refusing changes nothing
        for topic, settings in before.items():
            self.assertEqual(self.own_settings(topic), settings)

        t = self.start({"WW_TOPIC_PREFIX": p, "WW_KAFKA_FIX_TOPICS": "1"})
        log = t.text()
        self.assertCleanStop(t)
        self.assertIn("event=topic_fixed topic=%s changed=" % events, log)
        self.assertIn('kept="max.message.bytes=2000000"', log)
        self.assertEqual(self.own_settings(events),
                         dict(FOREVER, **{"max.message.bytes": "2000000"}))
        self.assertEqual(self.own_settings(replies), SHORT)
        self.assertEqual(log.count("event=topic_fixed"), 2, log)

        t = self.start({"WW_TOPIC_PREFIX": p})
        self.assertNotIn("topic_setting_wrong", t.text())
        self.assertCleanStop(t)

    def test_the_embedded_cluster_is_not_checked_and_says_so(self):
        emb = subprocess.Popen([EMBEDDED_BIN], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env=dict(os.environ,
                                        WW_KAFKA_PARTITIONS=str(PARTITIONS),
                                        WW_TOPIC_PREFIX=""))
        try:
            brokers = emb.stdout.readline().strip()
            self.assertTrue(brokers.startswith("127.0.0.1:"), brokers)
            t = self.start({"KAFKA_BROKERS": brokers, "WW_TOPIC_PREFIX": ""})
            log = t.text()
            self.assertCleanStop(t)
            self.assertEqual(log.count("event=topic_settings_unchecked"), 1,
                             log)
            self.assertIn("librdkafka's mock", log)
            self.assertNotIn("topic_setting_wrong", log)
        finally:
            emb.terminate()
            code = emb.wait(timeout=30)
            emb.stdout.close()
            self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
