#!/usr/bin/env python3
"""What a Python tool learns from a server through grpcio-reflection alone.

    reflection_client.py TARGET SERVICE [METHOD JSON]

No .proto file and no generated code: the descriptors come from the
server's reflection service (grpcio-reflection asks grpc.reflection.v1alpha).
Prints `key=value` lines the C test judges, and exits 0 whatever it found:

  services=<every service listed, sorted, comma-separated>
  methods=<SERVICE's methods, sorted>            (its descriptor, resolved)
  input=<METHOD's request type> output=<its response type>
  reply=<METHOD called with JSON, the reply as JSON>   (when METHOD is given)
  unknown_symbol=<the status of a symbol the server lacks>
  extension=<the answer for an extension nobody declares>
  extension_numbers=<the extension numbers of SERVICE's first request type>
  one_stream=<for several questions on one stream: each answer's kind, in
             order, and whether it echoes its question>
  file=<for each FILE given with --file: the files answered, in order>
  symbol=<for each SYMBOL given with --symbol: the first file answered>
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import \
    ProtoReflectionDescriptorDatabase


def ask(stub, **question):
    """One request on a fresh reflection stream: its one response."""
    req = reflection_pb2.ServerReflectionRequest(**question)
    return next(iter(stub.ServerReflectionInfo(iter([req]), timeout=30)))


def files_of(resp):
    from google.protobuf.descriptor_pb2 import FileDescriptorProto
    names = []
    for raw in resp.file_descriptor_response.file_descriptor_proto:
        names.append(FileDescriptorProto.FromString(raw).name)
    return names


def main():
    args = sys.argv[1:]
    files = [args[i + 1] for i, a in enumerate(args) if a == "--file"]
    symbols = [args[i + 1] for i, a in enumerate(args) if a == "--symbol"]
    plain = [a for i, a in enumerate(args)
             if a not in ("--file", "--symbol") and
             (i == 0 or args[i - 1] not in ("--file", "--symbol"))]
    target, service = plain[0:2]
    method_name, body = (plain[2:4] + [None, None])[:2]
    with grpc.insecure_channel(target) as ch:
        db = ProtoReflectionDescriptorDatabase(ch)
        print("services=" + ",".join(sorted(db.get_services())))
        pool = descriptor_pool.DescriptorPool(db)
        svc = pool.FindServiceByName(service)
        print("methods=" + ",".join(sorted(m.name for m in svc.methods)))
        first = sorted(svc.methods, key=lambda m: m.name)[0]
        if method_name:
            m = svc.methods_by_name[method_name]
            print(f"input={m.input_type.full_name} "
                  f"output={m.output_type.full_name}")
            req_cls = message_factory.GetMessageClass(m.input_type)
            resp_cls = message_factory.GetMessageClass(m.output_type)
            req = json_format.Parse(body, req_cls())
            call = ch.unary_unary(f"/{service}/{method_name}",
                                  request_serializer=req_cls.SerializeToString,
                                  response_deserializer=resp_cls.FromString)
            reply = call(req, timeout=30)
            as_json = json_format.MessageToDict(
                reply, always_print_fields_with_no_presence=True)
            print("reply=" + json.dumps(as_json, sort_keys=True))
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        r = ask(stub, file_containing_symbol="no.such.Symbol")
        print(f"unknown_symbol={r.error_response.error_code} "
              f"{r.error_response.error_message}")
        r = ask(stub, file_containing_extension=reflection_pb2.ExtensionRequest(
            containing_type=first.input_type.full_name, extension_number=100))
        print(f"extension={r.error_response.error_code} "
              f"{r.error_response.error_message}")
        r = ask(stub, all_extension_numbers_of_type=first.input_type.full_name)
        n = r.all_extension_numbers_response
        print(f"extension_numbers={n.base_type_name}:"
              f"{list(n.extension_number)}")
        questions = [
            reflection_pb2.ServerReflectionRequest(list_services="*"),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol=service),
            reflection_pb2.ServerReflectionRequest(file_by_filename="nope"),
            reflection_pb2.ServerReflectionRequest(host="h"),
        ]
        answers = list(stub.ServerReflectionInfo(iter(questions), timeout=30))
        kinds = [f"{a.WhichOneof('message_response')}:"
                 f"{a.original_request == q}"
                 for a, q in zip(answers, questions)]
        print(f"one_stream={len(answers)} " + ",".join(kinds))
        for f in files:
            print(f"file={f}:" + ",".join(
                files_of(ask(stub, file_by_filename=f))))
        for sym in symbols:
            names = files_of(ask(stub, file_containing_symbol=sym))
            print(f"symbol={sym}:" + (names[0] if names else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
