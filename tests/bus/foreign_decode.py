#!/usr/bin/env python3
"""Decodes records of a topic the way a foreign consumer would, with nothing
but schemas/: kcat fetches the records, protoc (grpc_tools) generates the
classes, and each record's ce_type header names its message.

usage: foreign_decode.py BROKERS TOPIC COUNT SCHEMAS_DIR
prints one line per record: "<ce_id> <ce_type> <message as compact JSON>"
"""
import glob
import os
import subprocess
import sys
import tempfile

import grpc_tools
from grpc_tools import protoc
from google.protobuf import descriptor_pool, json_format, message_factory


def generate(schemas_dir, out):
    protos = [os.path.relpath(p, schemas_dir) for p in
              glob.glob(os.path.join(schemas_dir, "**", "*.proto"),
                        recursive=True)]
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    rc = protoc.main(["protoc", f"-I{schemas_dir}", f"-I{include}",
                      f"--python_out={out}", *protos])
    if rc != 0:
        sys.exit(f"protoc failed ({rc})")
    sys.path.insert(0, out)
    for p in protos:
        __import__(p[:-len(".proto")].replace("/", ".") + "_pb2")


def records(brokers, topic, count):
    # %h: headers as n=v CSV on one line; %R: value length (4 bytes, big
    # endian); %s: the value itself.
    raw = subprocess.run(
        ["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning",
         "-c", str(count), "-q", "-f", "%h\n%R%s"],
        check=True, capture_output=True, timeout=60).stdout
    pos = 0
    for _ in range(count):
        end = raw.index(b"\n", pos)
        headers = dict(kv.split("=", 1) for kv in
                       raw[pos:end].decode().split(",") if kv)
        n = int.from_bytes(raw[end + 1:end + 5], "big", signed=True)
        pos = end + 5
        value = raw[pos:pos + max(n, 0)]
        pos += max(n, 0)
        yield headers, value


def main():
    brokers, topic, count, schemas_dir = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as out:
        generate(schemas_dir, out)
        pool = descriptor_pool.Default()
        for headers, value in records(brokers, topic, int(count)):
            cls = message_factory.GetMessageClass(
                pool.FindMessageTypeByName(headers["ce_type"]))
            msg = cls()
            msg.ParseFromString(value)
            body = json_format.MessageToJson(msg, indent=None,
                                             sort_keys=True)
            print(headers["ce_id"], headers["ce_type"], body.replace("\n", ""))


if __name__ == "__main__":
    main()
