"""10,000 concurrent calls from several client processes against the real
trainer binary: every call must end OK, the server must stay up, and it must
exit cleanly on SIGTERM (under the sanitizer build that exit code also
carries LeakSanitizer's verdict).

usage: test_concurrency.py TRAINER_BIN PROTO_DIR [PROCESSES] [CALLS]"""
import asyncio
import datetime
import multiprocessing
import sys
import time

from wwinterop import Service, generate_stubs


def worker(addr, stub_dir, calls, index, start_at, out):
    sys.path.insert(0, stub_dir)
    import grpc
    import trainer_pb2
    import trainer_pb2_grpc
    from google.protobuf import timestamp_pb2

    async def run():
        async with grpc.aio.insecure_channel(addr) as ch:
            await ch.channel_ready()
            stub = trainer_pb2_grpc.TrainerServiceStub(ch)
            base = datetime.datetime(2033, 1, 1, 12, tzinfo=datetime.timezone.utc)

            async def one(i):
                t = timestamp_pb2.Timestamp()
                t.FromDatetime(base + datetime.timedelta(days=(index * calls + i) % 3000))
                try:
                    if i % 10 == 0:
                        await stub.MakeHourAvailable(
                            trainer_pb2.UpdateHourRequest(time=t), timeout=60)
                    else:
                        await stub.IsHourAvailable(
                            trainer_pb2.IsHourAvailableRequest(time=t), timeout=60)
                    return None
                except grpc.RpcError as e:
                    return "%s %s" % (e.code(), e.details())

            while time.time() < start_at:  # every process fires together
                await asyncio.sleep(0.005)
            return await asyncio.gather(*(one(i) for i in range(calls)))

    results = asyncio.run(run())
    errors = [r for r in results if r is not None]
    out.put((index, len(results), errors[:5], len(errors)))


def main():
    trainer_bin, proto_dir = sys.argv[1], sys.argv[2]
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    total = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
    calls = total // procs
    stub_dir = generate_stubs(proto_dir)
    svc = Service(trainer_bin)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0
    ps = [ctx.Process(target=worker, args=(svc.addr, stub_dir, calls, i, start_at, out))
          for i in range(procs)]
    t0 = time.time()
    for p in ps:
        p.start()
    results = [out.get(timeout=300) for _ in ps]
    for p in ps:
        p.join(timeout=60)
    elapsed = time.time() - max(t0, start_at)
    done = sum(r[1] for r in results)
    errors = sum(r[3] for r in results)
    rc = svc.stop()
    print("calls=%d processes=%d errors=%d elapsed_s=%.2f server_exit=%s"
          % (done, procs, errors, elapsed, rc))
    for r in results:
        if r[3]:
            print("process %d: %d errors, e.g. %s" % (r[0], r[3], r[2]))
    if done != calls * procs or errors or rc != 0:
        if rc != 0:
            print(svc.log_text()[-4000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
