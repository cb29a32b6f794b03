#!/usr/bin/env python3
"""Fake GCE metadata server (and JWKS host) for the auth tests.

Serves on 127.0.0.1, port chosen by the OS, printed as the first stdout line.
The test steers it through files in DIR, read on every request:
  mode      ok | 500 | garbage | slow   (missing = ok)
  token     the identity token answered in mode ok (minted by the test with
            its test key)
  jwks.json served at /jwks.json
  jwks_cache_control  sent as the JWKS answer's Cache-Control header
  jwks_delay          seconds the JWKS answer waits (missing = 0)
It writes DIR/count (identity requests seen), DIR/last_audience,
DIR/jwks_count (JWKS requests received), DIR/jwks_done (answered) and
DIR/jwks_inflight_max (most JWKS requests held at once). With --tls CERT KEY it speaks https (for the JWKS fetch).
"""
import argparse
import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse

IDENTITY = "/computeMetadata/v1/instance/service-accounts/default/identity"
lock = threading.Lock()
jwks_inflight = 0


def read(d, name, default=""):
    try:
        with open(os.path.join(d, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


def bump(d, name):
    with lock:
        n = int(read(d, name, "0") or 0) + 1
        with open(os.path.join(d, name + ".tmp"), "w") as f:
            f.write(str(n))
        os.replace(os.path.join(d, name + ".tmp"), os.path.join(d, name))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        data = body.encode()
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the slow mode is meant to make it)

    def do_GET(self):
        d = self.server.dir
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/jwks.json":
            return self.jwks(d)
        if url.path != IDENTITY:
            return self.reply(404, "not found")
        bump(d, "count")
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, "missing Metadata-Flavor header")
        audience = urllib.parse.parse_qs(url.query).get("audience", [""])[0]
        with open(os.path.join(d, "last_audience"), "w") as f:
            f.write(audience)
        mode = read(d, "mode", "ok")
        if mode == "500":
            return self.reply(500, "internal error")
        if mode == "garbage":
            return self.reply(200, "<html>this is not a token</html>")
        if mode == "slow":
            time.sleep(5)
        return self.reply(200, read(d, "token"))


    def jwks(self, d):
        global jwks_inflight
        bump(d, "jwks_count")
        with lock:
            jwks_inflight += 1
            most = max(jwks_inflight, int(read(d, "jwks_inflight_max", "0") or 0))
            with open(os.path.join(d, "jwks_inflight_max"), "w") as f:
                f.write(str(most))
        try:
            time.sleep(float(read(d, "jwks_delay", "0") or 0))
            cc = read(d, "jwks_cache_control")
            self.reply(200, read(d, "jwks.json"), [("Cache-Control", cc)] if cc else [])
        finally:
            with lock:
                jwks_inflight -= 1
            bump(d, "jwks_done")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.dir = a.dir
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
