#!/usr/bin/env python3
"""A grpcio client calling the TLS test server with a bearer token.

    grpc_client.py PORT CA_PEM TOKEN_FILE
Prints "<status name> <details>" and exits 0 whatever the status, so the C
test judges the outcome. Raw bytes in and out: no generated code needed.
"""
import sys

import grpc


def main():
    port, ca_path, token_path = sys.argv[1:4]
    with open(ca_path, "rb") as f:
        ca = f.read()
    with open(token_path) as f:
        token = f.read().strip()
    creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=ca),
        grpc.access_token_call_credentials(token))
    with grpc.secure_channel(f"127.0.0.1:{port}", creds) as ch:
        call = ch.unary_unary("/test.Echo/Call")
        try:
            reply = call(b"ping", timeout=5)
            print(f"OK {reply.decode()}")
        except grpc.RpcError as e:
            print(f"{e.code().name} {e.details()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
