"""wwctl as a shell sees it, without services or broker: every command has
--help (usage, environment, exit status), bad input exits 2 with a message
naming what is wrong (also as JSON with --json), a call or broker that
fails exits 1, and local mode warns once, only for another host.

usage: test_wwctl_cli.py WWCTL"""
import json
import os
import socket
import subprocess
import sys
import unittest

WWCTL = sys.argv[1]
del sys.argv[1]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ctl(*args, env=None, timeout=60):
    e = {k: v for k, v in os.environ.items()
         if k not in ("KAFKA_BROKERS", "WW_KAFKA_CONFIG", "TRAINER_GRPC_ADDR",
                      "USERS_GRPC_ADDR", "WW_TOPIC_PREFIX")}
    e.update({"GRPC_NO_TLS": "true", "WW_LOG_LEVEL": "warn"})
    e.update(env or {})
    p = subprocess.run([WWCTL] + list(args), env=e, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def commands():
    rc, out, _ = ctl("--help")
    assert rc == 0, out
    names, listing = [], False
    for line in out.splitlines():
        if line.startswith("Commands:"):
            listing = True
        elif listing and line.startswith("  "):
            names.append(line.split()[0])
        elif listing:
            break
    return names


class Help(unittest.TestCase):
    def test_every_command_has_help(self):
        names = commands()
        for want in ("trainer", "trainings", "users", "health", "fixtures",
                     "tail", "dlq"):
            self.assertIn(want, names)
        for name in names:
            rc, out, err = ctl(name, "--help")
            self.assertEqual(rc, 0, (name, err))
            self.assertTrue(out.startswith("usage: wwctl"), (name, out))
            for part in ("Environment:", "Exit status", "--json"):
                self.assertIn(part, out, (name, part))
            # the same help through `wwctl help NAME` and `-h` anywhere
            self.assertEqual(ctl("help", name)[1], out)
            self.assertEqual(ctl(name, "x", "-h")[1], out)

    def test_wwctl_without_a_command_is_a_usage_error(self):
        rc, out, err = ctl()
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("usage: wwctl", err)


class BadInput(unittest.TestCase):
    CASES = [
        (["bogus"], 'unknown command "bogus"'),
        (["trainer", "is-hour-available"], "missing TIME"),
        (["trainer", "is-hour-available", "yesterday"], 'time "yesterday"'),
        (["trainer", "is-hour-available", "2031-02-30T13:00:00Z"],
         "February"),
        (["trainer", "update-hour", "2031-01-01T13:00:00Z", "2", "0"],
         'HAS_TRAINING "2"'),
        (["trainer", "open", "2031-01-01T13:00:00Z"],
         'unknown trainer command "open"'),
        (["trainer", "make-available", "2031-01-01T13:00:00Z", "extra"],
         'unexpected argument "extra"'),
        (["users", "update-balance", "bob", "lots"], 'CHANGE "lots"'),
        (["users", "get-balance"], "missing USER"),
        (["trainings", "cancel", "x", "--bogus"], "unknown option --bogus"),
        (["trainings", "get", "x", "--by-trainer"], "--by-trainer"),
        (["health", "billing"], "neither trainer nor users"),
        (["--timeout-ms", "0", "health"], "--timeout-ms"),
        (["--timeout-ms"], "--timeout-ms needs a value"),
        (["tail"], "missing TOPIC"),
        (["tail", "trainer.events", "--from", "yesterday"], '--from "yesterday"'),
        (["tail", "trainer.events", "--from", "-3"], "--from"),
        (["tail", "trainer.events", "--type", "Nope"], "no schema type"),
        (["tail", "trainer.events", "--partition", "x"], "--partition"),
        (["tail", "bad/topic"], "no Kafka topic name"),
        (["tail", "a", "b"], 'unexpected argument "b"'),
        (["dlq", "list"], "missing TOPIC"),
        (["dlq", "purge", "trainer.commands"], 'unknown dlq command "purge"'),
        (["dlq", "redrive", "trainer.commands"], "either --offset N or --all"),
        (["dlq", "redrive", "trainer.commands", "--all", "--offset", "1"],
         "either --offset N or --all"),
        (["dlq", "redrive", "trainer.commands", "--offset", "-1"], "--offset"),
        (["dlq", "list", "trainer.commands", "--all"], "list takes no"),
    ]

    def test_bad_input_exits_2_naming_what_is_wrong(self):
        env = {"TRAINER_GRPC_ADDR": "127.0.0.1:%d" % closed_port(),
               "USERS_GRPC_ADDR": "127.0.0.1:%d" % closed_port(),
               "KAFKA_BROKERS": "127.0.0.1:%d" % closed_port()}
        for args, text in self.CASES:
            rc, out, err = ctl(*args, env=env)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(text, err, args)
            self.assertEqual(out, "", args)

    def test_usage_errors_as_json(self):
        rc, _, err = ctl("--json", "trainer", "is-hour-available", "noon")
        self.assertEqual(rc, 2)
        e = json.loads(err)["error"]
        self.assertEqual(e["code"], "USAGE")
        self.assertIn("noon", e["message"])

    def test_an_unset_environment_exits_2(self):
        rc, _, err = ctl("trainings", "get", "x",
                         env={"TRAINER_GRPC_ADDR": ""})
        self.assertEqual(rc, 2)
        self.assertIn("TRAINER_GRPC_ADDR is empty", err)
        rc, _, err = ctl("tail", "trainer.events", "-e")
        self.assertEqual(rc, 2)
        self.assertIn("KAFKA_BROKERS", err)
        rc, _, err = ctl("dlq", "list", "trainer.commands")
        self.assertEqual(rc, 2)
        self.assertIn("KAFKA_BROKERS", err)


class Failures(unittest.TestCase):
    def test_a_failed_call_exits_1_with_its_status(self):
        env = {"TRAINER_GRPC_ADDR": "127.0.0.1:%d" % closed_port()}
        rc, out, err = ctl("--timeout-ms", "1000", "health", env=env)
        self.assertEqual(rc, 1)
        self.assertIn("UNAVAILABLE", err)
        rc, out, err = ctl("--json", "--timeout-ms", "1000", "trainer",
                           "is-hour-available", "2031-01-01T13:00:00Z",
                           env=env)
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(err)["error"]["code"], "UNAVAILABLE")

    def test_a_broker_that_does_not_answer_exits_1(self):
        env = {"KAFKA_BROKERS": "127.0.0.1:%d" % closed_port()}
        for args in (["tail", "trainer.events", "-e"],
                     ["dlq", "list", "trainer.commands"],
                     ["dlq", "redrive", "trainer.commands", "--all"]):
            rc, out, err = ctl("--timeout-ms", "2000", *args, env=env,
                               timeout=120)
            self.assertEqual(rc, 1, (args, err[-500:]))
            self.assertIn("wwctl %s:" % args[0], err)


class LocalModeWarning(unittest.TestCase):
    def test_no_warning_for_this_host(self):
        port = closed_port()
        for addr in ("127.0.0.1:%d" % port, "localhost:%d" % port,
                     "[::1]:%d" % port):
            rc, _, err = ctl("--timeout-ms", "500", "health",
                             env={"TRAINER_GRPC_ADDR": addr})
            self.assertEqual(rc, 1)
            self.assertNotIn("plaintext gRPC", err, addr)

    def test_one_warning_per_process_for_another_host(self):
        # fixtures dials both services: two remote dials, one line
        rc, _, err = ctl("--timeout-ms", "500", "fixtures",
                         env={"TRAINER_GRPC_ADDR": "ww-remote.invalid:1",
                              "USERS_GRPC_ADDR": "ww-remote.invalid:2"})
        self.assertEqual(rc, 1)
        self.assertEqual(err.count("plaintext gRPC"), 1, err[:2000])
        self.assertIn("plaintext gRPC to ww-remote.invalid:1", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
