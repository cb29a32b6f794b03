"""Shared by the Python interop tests: stub generation from proto/ at test
time, and starting/stopping the real service binaries on free ports."""
import importlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc


def generate_stubs(proto_dir):
    """Compiles proto/*.proto with grpc_tools.protoc into a temporary
    directory and puts it on sys.path; returns the directory."""
    from grpc_tools import protoc
    import grpc_tools

    out = tempfile.mkdtemp(prefix="ww-pystubs-")
    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    protos = ["trainer.proto", "users.proto", "trainings.proto", "health.proto"]
    rc = protoc.main(["protoc", "-I" + proto_dir, "-I" + wkt,
                      "--python_out=" + out, "--grpc_python_out=" + out] + protos)
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed with %d" % rc)
    sys.path.insert(0, out)
    importlib.invalidate_caches()
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_serving(channel, timeout, proc=None):
    """True once grpc.health.v1 Check("") answers SERVING on `channel`; False
    when `proc` ended first or `timeout` seconds passed. A service listens
    before its read model caught up and is NOT_SERVING until then, so
    tests wait for this, not for the port. Raw bytes: an empty request, and
    SERVING is field 1 = 1."""
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    until = time.time() + timeout
    while time.time() < until:
        try:
            if check(b"", timeout=2, wait_for_ready=True) == b"\x08\x01":
                return True
        except grpc.RpcError:
            pass
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


class Service:
    """One service binary on 127.0.0.1:<free port>, GRPC_NO_TLS=true."""

    def __init__(self, binary, extra_env=None):
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        env = dict(os.environ)
        for k in ("TRAINER_GRPC_ADDR", "USERS_GRPC_ADDR"):
            env.pop(k, None)
        # Each service keeps its state on topics of its own (the suite's
        # broker is shared).
        env.update({"GRPC_NO_TLS": "true", "WW_LISTEN_ADDR": self.addr,
                    "WW_LOG_LEVEL": "warn",
                    "WW_TOPIC_PREFIX": "py-%d-%d." % (os.getpid(), self.port)})
        env.update(extra_env or {})
        self.log = tempfile.NamedTemporaryFile(prefix="ww-svc-", suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen([binary], env=env, stderr=self.log)
        self.channel = grpc.insecure_channel(self.addr)
        grpc.channel_ready_future(self.channel).result(timeout=60)
        if not wait_serving(self.channel, 90, self.proc):
            raise RuntimeError("%s never served:\n%s" %
                               (binary, self.log_text()[-3000:]))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signals the process; returns its exit code (0 = clean, which under
        the sanitizer build also means no leak was reported)."""
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1

    def log_text(self):
        with open(self.log.name) as f:
            return f.read()
