#!/usr/bin/env python3
"""One unary call from grpcio, over TLS with a bearer token.

    grpc_call.py TARGET CA_PEM TOKEN_FILE METHOD_PATH REQUEST_HEX
Prints one line, "OK <response hex>" or "<status name> <details>", and exits
0 whatever the status, so the C test judges the outcome
(tests/support/ww_test_grpcio.h runs it). The request and response are
serialised by the C test with the project's own protobuf-c code, so the
bytes on the wire are exactly what our servers expect and no generated
Python code is needed.
"""
import sys

import grpc


def main():
    target, ca_path, token_path, method, request_hex = sys.argv[1:6]
    with open(ca_path, "rb") as f:
        ca = f.read()
    with open(token_path) as f:
        token = f.read().strip()
    creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=ca),
        grpc.access_token_call_credentials(token))
    with grpc.secure_channel(target, creds) as ch:
        call = ch.unary_unary(method)
        try:
            reply = call(bytes.fromhex(request_hex), timeout=5)
            print(f"OK {reply.hex()}")
        except grpc.RpcError as e:
            print(f"{e.code().name} {e.details()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
