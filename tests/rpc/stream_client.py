#!/usr/bin/env python3
"""A grpcio client of the bidirectional echo stream of test_rpc_stream.c.

    stream_client.py TARGET MODE [ARGS...]

The echo method /test.Echo/Chat takes and returns google.protobuf.BytesValue;
a request's value is "<seq> <reply_bytes> [padding]", its reply "<seq>"
padded to reply_bytes. Every mode prints one line of `key=value` words that
the C test judges, and exits 0 whatever the outcome:

  order N          N requests, each reply read before the next request;
                   half-close; prints the replies' order and the status
  pipeline N       N requests sent at once, then every reply
  cancel N         N requests and replies, then cancels the call
  stall N SIZE     N requests of SIZE bytes asking for 1 MiB replies, and
                   no reply read until the client's sending stops making
                   progress; prints how many requests grpcio had taken by
                   then, then reads every reply
  hold SECONDS     one request and its reply, then "held" on a line of its
                   own, then waits (deadline SECONDS) for the server to end
                   the stream; prints its status
  garbage          one request that is not a BytesValue
  notoken          no authorization metadata
"""
import sys
import threading
import time

import grpc
from google.protobuf import wrappers_pb2

METHOD = "/test.Echo/Chat"
TOKEN = [("authorization", "Bearer good")]


def request(seq, reply_bytes=16, pad=0):
    value = f"{seq} {reply_bytes} ".encode() + b"x" * pad
    return wrappers_pb2.BytesValue(value=value)


def seq_of(reply):
    return int(reply.value.split(b" ")[0].rstrip(b"."))


def chat(channel, raw=False):
    if raw:
        return channel.stream_stream(METHOD)
    return channel.stream_stream(
        METHOD,
        request_serializer=wrappers_pb2.BytesValue.SerializeToString,
        response_deserializer=wrappers_pb2.BytesValue.FromString)


def status_words(err):
    return f"status={err.code().name} details={err.details()!r}"


class Outbox:
    """Requests handed to grpcio one by one, counting what it took."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = []
        self.taken = 0
        self.closed = False

    def put(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def __iter__(self):
        return self

    def __next__(self):
        with self.cond:
            while not self.items and not self.closed:
                self.cond.wait()
            if not self.items:
                raise StopIteration
            self.taken += 1
            return self.items.pop(0)


def mode_order(ch, n):
    box = Outbox()
    replies = chat(ch)(box, metadata=TOKEN, timeout=60)
    seqs = []
    for i in range(n):
        box.put(request(i))
        seqs.append(seq_of(next(replies)))
    box.close()
    rest = list(replies)
    ordered = seqs == list(range(n))
    print(f"ordered={ordered} got={len(seqs)} extra={len(rest)} "
          f"status={replies.code().name} details={replies.details()!r}")


def mode_pipeline(ch, n):
    reqs = [request(i) for i in range(n)]
    replies = chat(ch)(iter(reqs), metadata=TOKEN, timeout=60)
    seqs = [seq_of(r) for r in replies]
    print(f"ordered={seqs == list(range(n))} got={len(seqs)} "
          f"status={replies.code().name}")


def mode_cancel(ch, n):
    box = Outbox()
    replies = chat(ch)(box, metadata=TOKEN, timeout=60)
    got = 0
    for i in range(n):
        box.put(request(i))
        seq_of(next(replies))
        got += 1
    replies.cancel()
    try:
        next(replies)
        print(f"got={got} after_cancel=reply")
    except grpc.RpcError as e:
        print(f"got={got} after_cancel={e.code().name}")


def mode_stall(ch, n, size):
    box = Outbox()
    for i in range(n):
        box.put(request(i, 1 << 20, size))
    box.close()
    replies = chat(ch)(box, metadata=TOKEN, timeout=120)
    # Not reading: grpcio takes requests only as fast as it can write them.
    last, since = -1, time.monotonic()
    while time.monotonic() - since < 3.0 and box.taken < n:
        if box.taken != last:
            last, since = box.taken, time.monotonic()
        time.sleep(0.1)
    taken = box.taken
    seqs = [seq_of(r) for r in replies]
    print(f"taken_before_reading={taken} ordered={seqs == list(range(n))} "
          f"got={len(seqs)} status={replies.code().name}")


def mode_hold(ch, seconds):
    box = Outbox()
    replies = chat(ch)(box, metadata=TOKEN, timeout=seconds)
    box.put(request(0))
    seq_of(next(replies))
    print("held", flush=True)
    try:
        n = len(list(replies))
        print(f"got={n} status=OK")
    except grpc.RpcError as e:
        print(status_words(e))
    box.close()


def mode_garbage(ch):
    replies = chat(ch, raw=True)(iter([b"\xff\xff\xff\xff"]), metadata=TOKEN,
                                 timeout=30)
    try:
        n = len(list(replies))
        print(f"got={n} status=OK")
    except grpc.RpcError as e:
        print(status_words(e))


def mode_notoken(ch):
    replies = chat(ch)(iter([request(0)]), timeout=30)
    try:
        n = len(list(replies))
        print(f"got={n} status=OK")
    except grpc.RpcError as e:
        print(status_words(e))


def main():
    target, mode, *args = sys.argv[1:]
    with grpc.insecure_channel(target) as ch:
        if mode == "order":
            mode_order(ch, int(args[0]))
        elif mode == "pipeline":
            mode_pipeline(ch, int(args[0]))
        elif mode == "cancel":
            mode_cancel(ch, int(args[0]))
        elif mode == "stall":
            mode_stall(ch, int(args[0]), int(args[1]))
        elif mode == "hold":
            mode_hold(ch, float(args[0]))
        elif mode == "garbage":
            mode_garbage(ch)
        elif mode == "notoken":
            mode_notoken(ch)
        else:
            print(f"unknown mode {mode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
