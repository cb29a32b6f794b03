"""Prometheus metrics of the real binaries on the real broker: one trainer
and one users instance with WW_METRICS_ADDR set, scraped over HTTP and
parsed with the official parser (prometheus_client.parser):

  - after N calls with known codes, grpc_server_started_total,
    grpc_server_handled_total and the handling histogram's count moved by
    exactly N, with go-grpc-prometheus' labels;
  - a saga that completes moves the trainings gauge and the completions by
    outcome, and leaves no PENDING training aged;
  - the read model's lag, and the consumer groups' lag, reach 0 once
    caught up; transactions are counted committed;
  - a poison command counts one dead letter for trainer.commands.dlq;
  - the process figures are there and plausible;
  - only GET and HEAD /metrics are answered: other paths 404, other
    methods 405 (with Allow);
  - 1,000 scrapes from a thread pool do not disturb calls made meanwhile;
  - an instance without WW_METRICS_ADDR serves no metrics.

usage: test_metrics.py TRAINER_BIN USERS_BIN PROTO_DIR"""
import concurrent.futures
import http.client
import os
import re
import sys
import time
import unittest
import uuid

import grpc
from prometheus_client.parser import text_string_to_metric_families

TRAINER_BIN, USERS_BIN, PROTO_DIR = sys.argv[1:4]
del sys.argv[1:4]

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "saga"))
import wwsaga  # noqa: E402

wwsaga.load(PROTO_DIR)
from wwcluster import Cluster, Instance  # noqa: E402
from wwsaga import C, Client, Status, eventually, fresh_hour  # noqa: E402

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_port(inst):
    """The port the instance logged for its endpoint (WW_METRICS_ADDR with
    port 0 picks a free one)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        m = re.search(r"event=metrics addr=\S+ port=(\d+)", inst.log_text())
        if m:
            return int(m.group(1))
        time.sleep(0.1)
    raise AssertionError("no metrics line in the log of %s" % inst.name)


def request(port, method="GET", path="/metrics", body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        c.close()


def scrape(port):
    """{(name, frozenset(labels.items())): value} of every sample."""
    status, headers, text = request(port)
    assert status == 200, (status, text)
    assert headers.get("Content-Type") == CONTENT_TYPE, headers
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def matching(samples, name, **labels):
    """Samples of `name` whose labels include `labels`, by partition."""
    want = set(labels.items())
    return {dict(k[1]).get("partition"): v for k, v in samples.items()
            if k[0] == name and want <= set(k[1])}


def grpc_labels(service, method, code=None, kind="unary"):
    d = {"grpc_type": kind, "grpc_service": service, "grpc_method": method}
    if code:
        d["grpc_code"] = code
    return d


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(TRAINER_BIN, USERS_BIN, trainers=1, users=1,
                              extra_env={"WW_METRICS_ADDR": "127.0.0.1:0",
                                         "WW_KAFKA_STATS_INTERVAL_MS": "500"})
        cls.trainer, cls.users = cls.cluster.trainers[0], cls.cluster.users[0]
        cls.tport = metrics_port(cls.trainer)
        cls.uport = metrics_port(cls.users)
        cls.c = Client(cls.trainer, cls.users)

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("unclean exits %s\n%s" %
                                 (bad, cls.cluster.logs()))

    def test_calls_move_the_grpc_counters_by_exactly_their_number(self):
        hours = ("trainer.TrainerService", "IsHourAvailable")
        trainings = ("trainings.TrainingsService", "GetTraining")
        before = scrape(self.tport)
        n_ok, n_bad, n_invalid = 7, 3, 4
        when = fresh_hour()
        for _ in range(n_ok):
            self.c.available(when)
        stub = wwsaga.trainer_pb2_grpc.TrainerServiceStub(
            self.trainer.channel)
        for _ in range(n_bad):  # no time: INVALID_ARGUMENT
            with self.assertRaises(grpc.RpcError) as cm:
                stub.IsHourAvailable(wwsaga.trainer_pb2.IsHourAvailableRequest(),
                                     timeout=10)
            self.assertEqual(cm.exception.code(), C.INVALID_ARGUMENT)
        for _ in range(n_invalid):  # a malformed uuid: INVALID_ARGUMENT
            with self.assertRaises(grpc.RpcError) as cm:
                self.c.get("not-a-uuid")
            self.assertEqual(cm.exception.code(), C.INVALID_ARGUMENT)
        after = scrape(self.tport)

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        self.assertEqual(moved("grpc_server_started_total",
                               **grpc_labels(*hours)), n_ok + n_bad)
        self.assertEqual(moved("grpc_server_handled_total",
                               **grpc_labels(*hours, "OK")), n_ok)
        self.assertEqual(moved("grpc_server_handled_total",
                               **grpc_labels(*hours, "InvalidArgument")),
                         n_bad)
        self.assertEqual(moved("grpc_server_handling_seconds_count",
                               **grpc_labels(*hours)), n_ok + n_bad)
        self.assertEqual(moved("grpc_server_handling_seconds_bucket",
                               le="+Inf", **grpc_labels(*hours)),
                         n_ok + n_bad)
        self.assertGreater(moved("grpc_server_handling_seconds_sum",
                                 **grpc_labels(*hours)), 0)
        self.assertEqual(moved("grpc_server_handled_total",
                               **grpc_labels(*trainings, "InvalidArgument")),
                         n_invalid)
        self.assertEqual(moved("grpc_server_started_total",
                               **grpc_labels(*trainings)), n_invalid)
        # every code of every method is there from the start, at 0 or more
        for code in ("OK", "NotFound", "Unauthenticated", "Unavailable"):
            self.assertIn(("grpc_server_handled_total",
                           frozenset(grpc_labels(*hours, code).items())),
                          after)
        self.assertIn(("grpc_server_started_total", frozenset(grpc_labels(
            "grpc.health.v1.Health", "Watch", kind="server_stream").items())),
            after)
        for version in ("v1", "v1alpha"):  # reflection: a bidi stream
            self.assertIn(("grpc_server_started_total", frozenset(grpc_labels(
                "grpc.reflection.%s.ServerReflection" % version,
                "ServerReflectionInfo", kind="bidi_stream").items())), after)

    def test_a_completed_saga_moves_the_trainings_gauge(self):
        before = scrape(self.tport)
        rich, poor = "m-" + uuid.uuid4().hex[:8], "m-" + uuid.uuid4().hex[:8]
        self.c.credit(rich, 1)
        w1, w2 = fresh_hour(), fresh_hour()
        self.c.open_hour(w1)
        self.c.open_hour(w2)
        ok, rejected = str(uuid.uuid4()), str(uuid.uuid4())
        self.c.schedule(ok, rich, w1)
        self.c.schedule(rejected, poor, w2)
        self.assertEqual(eventually(lambda: self.c.get(ok).status,
                                    Status.SCHEDULED, 60), Status.SCHEDULED)
        self.assertEqual(eventually(lambda: self.c.get(rejected).status,
                                    Status.REJECTED, 60), Status.REJECTED)

        def moved(name, **labels):
            s = scrape(self.tport)
            return value(s, name, **labels) - value(before, name, **labels)

        self.assertEqual(eventually(lambda: moved("ww_trainings",
                                                  status="SCHEDULED"), 1, 30),
                         1)
        self.assertEqual(moved("ww_trainings", status="REJECTED"), 1)
        self.assertEqual(moved("ww_trainings", status="PENDING"), 0)
        self.assertEqual(eventually(lambda: moved(
            "ww_saga_completions_total", outcome="scheduled"), 1, 30), 1)
        self.assertEqual(moved("ww_saga_completions_total",
                               outcome="rejected"), 1)
        self.assertEqual(value(scrape(self.tport),
                               "ww_trainings_oldest_pending_age_seconds"), 0)
        # the decider committed transactions for them
        after = scrape(self.tport)
        group = self.cluster.prefix + "trainer.decider"
        self.assertGreater(value(after, "ww_kafka_transactions_total",
                                 group=group, outcome="committed"),
                           value(before, "ww_kafka_transactions_total",
                                 group=group, outcome="committed"))
        self.assertGreater(value(after,
                                 "ww_kafka_transaction_duration_seconds_count",
                                 group=group), 0)
        self.assertGreater(value(after, "ww_kafka_transaction_records_sum",
                                 group=group), 0)

    def test_lag_reaches_zero_once_caught_up(self):
        user = "m-" + uuid.uuid4().hex[:8]
        for _ in range(5):
            self.c.credit(user, 1)
        self.assertEqual(eventually(lambda: self.c.balance(user), 5), 5)
        for port, svc in ((self.tport, "trainer"), (self.uport, "users")):
            topic = self.cluster.topic(svc + ".events")

            def lags():
                s = scrape(port)
                return matching(s, "ww_read_model_lag", topic=topic)

            got = lags()
            self.assertEqual(len(got), self.cluster.partitions, got)
            deadline = time.time() + 30
            while any(got.values()) and time.time() < deadline:
                time.sleep(0.2)
                got = lags()
            self.assertEqual(set(got.values()), {0.0}, got)
            offsets = matching(scrape(port), "ww_read_model_applied_offset",
                               topic=topic)
            self.assertGreater(sum(offsets.values()), 0, offsets)
        # the users decider's consumer, from librdkafka's statistics
        group = self.cluster.prefix + "users.decider"

        def consumer_lags():
            return matching(scrape(self.uport), "ww_kafka_consumer_lag",
                            group=group,
                            topic=self.cluster.topic("users.commands"))

        deadline = time.time() + 30
        got = consumer_lags()
        while (len(got) < self.cluster.partitions or any(got.values())) and \
                time.time() < deadline:
            time.sleep(0.2)
            got = consumer_lags()
        self.assertEqual(len(got), self.cluster.partitions, got)
        self.assertEqual(set(got.values()), {0.0}, got)
        positions = matching(scrape(self.uport), "ww_kafka_consumer_position",
                             group=group)
        self.assertGreater(sum(positions.values()), 0, positions)

    def test_a_poison_command_counts_one_dead_letter(self):
        from kafka import KafkaProducer
        dlq = self.cluster.topic("trainer.commands.dlq")
        before = value(scrape(self.tport), "ww_kafka_dlq_records_total",
                       topic=dlq)
        p = KafkaProducer(bootstrap_servers=self.cluster.brokers)
        p.send(self.cluster.topic("trainer.commands"), key=b"trainer-1",
               value=b"\xff\x00not protobuf",
               headers=[("ce_specversion", b"1.0"), ("ce_id", b"poison-m"),
                        ("ce_type",
                         b"wildworkouts.events.v1.ScheduleTrainingCommand"),
                        ("ce_source", b"/test"),
                        ("ce_time", b"2026-12-01T10:00:00.000Z"),
                        ("content-type", b"application/protobuf")])
        p.flush()
        p.close()
        got = eventually(lambda: value(scrape(self.tport),
                                       "ww_kafka_dlq_records_total",
                                       topic=dlq) - before, 1, 30)
        self.assertEqual(got, 1)

    def test_process_figures(self):
        s = scrape(self.tport)
        self.assertGreater(value(s, "process_resident_memory_bytes"), 1e6)
        self.assertGreater(value(s, "process_open_fds"), 3)
        self.assertGreaterEqual(value(s, "process_max_fds"),
                                value(s, "process_open_fds"))
        start = value(s, "process_start_time_seconds")
        self.assertLess(abs(start - time.time()), 900, start)
        self.assertLessEqual(start, time.time())
        self.assertGreater(value(s, "process_cpu_seconds_total"), 0)

    def test_only_get_and_head_of_metrics_are_answered(self):
        for path in ("/", "/metric", "/metrics/", "/metrics/x", "/x?y"):
            status, _, _ = request(self.tport, "GET", path)
            self.assertEqual(status, 404, path)
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            status, headers, _ = request(self.tport, method, "/metrics",
                                         body=b"x=1")
            self.assertEqual(status, 405, method)
            self.assertEqual(headers.get("Allow"), "GET, HEAD")
        status, headers, body = request(self.tport, "HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, "")
        self.assertEqual(headers.get("Content-Type"), CONTENT_TYPE)
        # the endpoint still answers after all of that
        self.assertIn(("process_open_fds", frozenset()), scrape(self.tport))

    def test_a_thousand_parallel_scrapes_do_not_disturb_calls(self):
        when = fresh_hour()
        self.c.open_hour(when)
        before = value(scrape(self.tport), "grpc_server_handled_total",
                       **grpc_labels("trainer.TrainerService",
                                     "IsHourAvailable", "OK"))
        scrapes = 1000
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futs = [pool.submit(scrape, self.tport) for _ in range(scrapes)]
            calls = 0
            while not all(f.done() for f in futs):
                self.assertTrue(self.c.available(when))
                calls += 1
            done = [f.result() for f in futs]  # each parsed, status 200
        self.assertEqual(len(done), scrapes)
        self.assertGreater(calls, 0)
        after = value(scrape(self.tport), "grpc_server_handled_total",
                      **grpc_labels("trainer.TrainerService",
                                    "IsHourAvailable", "OK"))
        self.assertEqual(after - before, calls)

    def test_no_endpoint_without_the_setting(self):
        env = dict(self.cluster.env)
        env.pop("WW_METRICS_ADDR")
        # topics of its own: the cluster's groups do not see it
        env["WW_TOPIC_PREFIX"] = self.cluster.prefix + "off."
        inst = Instance(TRAINER_BIN, "tr-nometrics", env)
        try:
            self.assertNotIn("event=metrics", inst.log_text())
        finally:
            self.assertEqual(inst.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
