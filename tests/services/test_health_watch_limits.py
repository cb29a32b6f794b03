#!/usr/bin/env python3
"""Health.Watch streams are bounded in the real binary (issue 12).

Health needs no token, so the users binary (local mode, on the suite's
broker) started with WW_HEALTH_WATCHES_PER_CONN=3 and WW_HEALTH_WATCHES=4
admits three Watch streams on one connection and refuses a fourth with
RESOURCE_EXHAUSTED naming the connection's limit; a second connection gets
the one place left and is then refused naming the server's limit; Check is
still answered; a cancelled stream frees its place; at shutdown the open
streams end and the binary exits 0.

    test_health_watch_limits.py USERS_BIN PROTO_DIR
"""
import os
import sys
import time
import unittest

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop", "python"))
from wwinterop import Service, generate_stubs  # noqa: E402

USERS_BIN, PROTO_DIR = sys.argv[1:3]
del sys.argv[1:3]
generate_stubs(PROTO_DIR)
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402

SERVING = health_pb2.HealthCheckResponse.SERVING


def connection(addr):
    """A channel with a connection of its own (not shared with others)."""
    ch = grpc.insecure_channel(addr,
                               options=[("grpc.use_local_subchannel_pool", 1)])
    grpc.channel_ready_future(ch).result(timeout=30)
    return ch


def watch(channel, service=""):
    """A Watch stream and its first message (or the error ending it)."""
    stream = health_pb2_grpc.HealthStub(channel).Watch(
        health_pb2.HealthCheckRequest(service=service), timeout=120)
    try:
        return stream, next(stream)
    except grpc.RpcError as e:
        return stream, e


class WatchLimits(unittest.TestCase):
    def test_watch_streams_are_capped_per_connection_and_in_total(self):
        svc = Service(USERS_BIN, {"WW_HEALTH_WATCHES_PER_CONN": "3",
                                  "WW_HEALTH_WATCHES": "4"})
        a, b = connection(svc.addr), connection(svc.addr)
        try:
            open_a = []
            for name in ("", "users.UsersService", ""):
                stream, first = watch(a, name)
                self.assertNotIsInstance(first, grpc.RpcError, first)
                self.assertEqual(first.status, SERVING)
                open_a.append(stream)
            _, refused = watch(a)
            self.assertIsInstance(refused, grpc.RpcError)
            self.assertEqual(refused.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertIn("too many Health.Watch streams on this connection "
                          "(limit 3)", refused.details())

            last, first = watch(b)
            self.assertNotIsInstance(first, grpc.RpcError, first)
            _, refused = watch(b)
            self.assertIsInstance(refused, grpc.RpcError)
            self.assertEqual(refused.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertIn("too many Health.Watch streams on this server "
                          "(limit 4)", refused.details())
            check = health_pb2_grpc.HealthStub(b).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=10)
            self.assertEqual(check.status, SERVING)

            # A cancelled stream frees its place (the cancel reaches the
            # server asynchronously: retry for a while).
            open_a.pop().cancel()
            admitted = None
            until = time.time() + 30
            while time.time() < until:
                stream, first = watch(b)
                if not isinstance(first, grpc.RpcError):
                    admitted = stream
                    break
                self.assertEqual(first.code(),
                                 grpc.StatusCode.RESOURCE_EXHAUSTED)
                time.sleep(0.1)
            self.assertIsNotNone(admitted, "no place after a cancel")
        finally:
            a.close()
            b.close()
            code = svc.stop()
        self.assertEqual(code, 0, svc.log_text()[-3000:])


if __name__ == "__main__":
    unittest.main()
