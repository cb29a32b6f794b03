#!/usr/bin/env python3
"""Fails when an #include or a link runs against the layers of
docs/architecture.md.

Every C file of a layer folder is read; each quoted include is resolved to
the folder that owns the header (a project header by its file name,
generated protobuf-c headers by their .proto), each system include is
matched against the libraries the layer may use. Any include a layer may
not use, and any quoted header that no folder owns, is reported with its
file and line. The layer's CMakeLists.txt is read the same way: every
library its target_link_libraries names must be one the layer may use, so
a dependency cannot enter through the link line without an include.

Usage: check_layers.py ROOT     exit 0 when clean, 1 with a report
"""
import os
import re
import sys

# Layer folders, bottom up, with the project folders each may include and the
# system headers it may use. A folder may always include its own headers.
# `proto-wkt` is google.protobuf.*, `proto-health` grpc.health.v1 (part of
# the runtime), `proto-app` the applications' contracts, `proto-admin`
# wildworkouts.admin.v1 (served by services/host for both services),
# `proto-reflection` grpc.reflection.v1 (part of the runtime) and
# `proto-descriptors` the descriptor sets each binary's reflection answers
# from (linked in by the binaries).
PURE_C = ("std", "posix-basic")
LAYERS = {
    # threads: the metrics registry's creation and render locks
    "common": {"uses": set(),
               "system": PURE_C + ("posix-io", "jansson", "threads")},
    "schemas": {"uses": {"proto-wkt"}, "system": PURE_C + ("protobuf-c",)},
    # the rules use only the parts of common/ that do no I/O
    "domain": {"uses": {"common"}, "system": PURE_C,
               "only": {"common": {"ww_err.h", "ww_clock.h",
                                   "ww_rfc3339.h"}}},
    "bus": {"uses": {"common"},
            "system": PURE_C + ("posix-io", "threads", "rdkafka",
                                "protobuf-c")},
    "rpc": {"uses": {"common", "proto-wkt", "proto-health",
                     "proto-reflection"},
            "system": PURE_C + ("posix-io", "threads", "grpc", "protobuf-c")},
    "auth": {"uses": {"common"},
             "system": PURE_C + ("posix-io", "threads", "grpc", "openssl",
                                 "curl", "jansson")},
    "services/host": {"uses": {"common", "domain", "bus", "rpc", "auth",
                               "schemas", "proto-wkt", "proto-health",
                               "proto-admin"},
                      "system": ("*",)},
    # trainer and users never include each other: they meet only through
    # the event schemas on Kafka and the gRPC contracts.
    "services/trainer": {"uses": {"common", "domain", "bus", "rpc", "auth",
                                  "services/host", "schemas", "proto-wkt",
                                  "proto-health", "proto-app", "proto-admin",
                                  "proto-descriptors"},
                         "system": ("*",)},
    "services/users": {"uses": {"common", "domain", "bus", "rpc", "auth",
                                "services/host", "schemas", "proto-wkt",
                                "proto-health", "proto-app", "proto-admin",
                                "proto-descriptors"},
                       "system": ("*",)},
    "tools": {"uses": {"common", "domain", "bus", "rpc", "auth",
                       "services/host", "services/trainer", "services/users",
                       "schemas", "proto-wkt", "proto-health", "proto-app",
                       "proto-admin"},
              "system": ("*",)},
}

# System headers by family; a header not listed here is refused in a layer
# without "*" (add it to the family it belongs to).
SYSTEM = {
    "std": {"assert.h", "ctype.h", "errno.h", "inttypes.h", "limits.h",
            "stdarg.h", "stdbool.h", "stddef.h", "stdint.h", "stdio.h",
            "stdlib.h", "string.h", "strings.h", "stdatomic.h", "math.h"},
    "posix-basic": set(),
    "posix-io": {"time.h", "unistd.h", "fcntl.h", "signal.h", "sched.h",
                 "sys/random.h", "sys/types.h", "sys/stat.h", "poll.h"},
    "threads": {"pthread.h"},
    "rdkafka": {"librdkafka/"},
    "protobuf-c": {"protobuf-c/"},
    "grpc": {"grpc/"},
    "openssl": {"openssl/"},
    "curl": {"curl/"},
    "jansson": {"jansson.h"},
}

# Generated headers (build/gen), by the .proto they come from.
GENERATED = {
    "google/protobuf/": "proto-wkt",
    "health.pb-c.h": "proto-health",
    "grpc/reflection/": "proto-reflection",
    "ww_descriptors/": "proto-descriptors",
    "admin.pb-c.h": "proto-admin",
    "trainer.pb-c.h": "proto-app",
    "trainings.pb-c.h": "proto-app",
    "users.pb-c.h": "proto-app",
    "wildworkouts/": "schemas",
}

# Libraries the build makes outside the layer folders (cmake/WwProtobufC),
# by what they hold; and imported system libraries, by family.
GENERATED_LIBS = {
    "ww_proto_wkt": "proto-wkt",
    "ww_proto_health": "proto-health",
    "ww_proto_reflection": "proto-reflection",
    "ww_proto": "proto-app",
    "ww_proto_admin": "proto-admin",
    "ww_descriptors_trainer": "proto-descriptors",
    "ww_descriptors_users": "proto-descriptors",
    "ww_schemas_gen": "schemas",
}
SYSTEM_LIBS = {
    "PkgConfig::RDKAFKA": "rdkafka",
    "PkgConfig::GRPC": "grpc",
    "PkgConfig::PROTOBUF_C": "protobuf-c",
    "PkgConfig::OPENSSL": "openssl",
    "PkgConfig::CURL": "curl",
    "PkgConfig::JANSSON": "jansson",
    "Threads::Threads": "threads",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SKIP_DIRS = {".git", "build", "build-asan", "tests", "bench", "scripts",
             "docs", "proto"}


def owners(root):
    """Header file name -> the layer folder holding it."""
    found = {}
    for layer in LAYERS:
        d = os.path.join(root, layer)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if name.endswith(".h"):
                found.setdefault(name, set()).add(layer)
    return found


def layer_of(root, path):
    rel = os.path.relpath(path, root)
    best = None
    for layer in LAYERS:
        if rel.startswith(layer + "/") and (best is None or
                                            len(layer) > len(best)):
            best = layer
    return best


def system_allowed(layer, header):
    families = LAYERS[layer]["system"]
    if "*" in families:
        return True
    for fam in families:
        for entry in SYSTEM[fam]:
            if header == entry or (entry.endswith("/") and
                                   header.startswith(entry)):
                return True
    return False


def cmake_text(path):
    """A CMakeLists.txt without its comments."""
    with open(path, encoding="utf-8") as f:
        return "\n".join(line.split("#", 1)[0] for line in f)


LIBRARY = re.compile(r"\badd_library\(\s*([A-Za-z0-9_]+)")
LINK = re.compile(r"\btarget_link_libraries\(([^)]*)\)")
KEYWORDS = {"PUBLIC", "PRIVATE", "INTERFACE"}


def check_links(root):
    """Every library a layer's CMakeLists.txt links against its uses."""
    problems, lists, built = [], {}, {}
    for layer in LAYERS:
        path = os.path.join(root, layer, "CMakeLists.txt")
        if os.path.isfile(path):
            lists[layer] = cmake_text(path)
            for name in LIBRARY.findall(lists[layer]):
                built[name] = layer
    for layer, text in lists.items():
        for m in LINK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            where = f"{layer}/CMakeLists.txt:{line}"
            for lib in m.group(1).split()[1:]:
                if lib in KEYWORDS or lib.startswith("$<"):
                    continue
                if lib in SYSTEM_LIBS or "::" in lib:
                    fam = SYSTEM_LIBS.get(lib)
                    families = LAYERS[layer]["system"]
                    if "*" not in families and fam not in families:
                        problems.append(f"{where}: {layer}/ may not link "
                                        f"{lib}")
                    continue
                target = built.get(lib) or GENERATED_LIBS.get(lib)
                if target is None:
                    if lib.startswith("ww"):
                        problems.append(f"{where}: {lib} is built by no "
                                        "layer folder")
                    continue
                if target != layer and target not in LAYERS[layer]["uses"]:
                    problems.append(f"{where}: {layer}/ may not link {lib} "
                                    f"(it belongs to {target}/)")
    return problems


def check(root):
    problems = check_links(root)
    heads = owners(root)
    missing = [layer for layer in LAYERS
               if not os.path.isdir(os.path.join(root, layer))]
    for layer in missing:
        problems.append(f"{layer}/: layer folder is missing")
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir.split(os.sep)[0] in SKIP_DIRS:
            dirnames[:] = []
            continue
        for name in sorted(filenames):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            layer = layer_of(root, path)
            if layer is None:
                problems.append(f"{os.path.relpath(path, root)}: C file "
                                "outside every layer folder")
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    kind, header = m.groups()
                    where = f"{os.path.relpath(path, root)}:{lineno}"
                    if kind == "<":
                        if not system_allowed(layer, header):
                            problems.append(
                                f"{where}: {layer}/ may not use <{header}>")
                        continue
                    target = None
                    for prefix, gen_layer in GENERATED.items():
                        if header == prefix or (prefix.endswith("/") and
                                                header.startswith(prefix)):
                            target = gen_layer
                    if target is None:
                        holders = heads.get(os.path.basename(header))
                        if not holders:
                            problems.append(f'{where}: "{header}" belongs '
                                            "to no layer folder")
                            continue
                        if layer in holders:
                            continue
                        target = sorted(holders)[0]
                    if target != layer and target not in LAYERS[layer]["uses"]:
                        problems.append(f'{where}: {layer}/ may not include '
                                        f'"{header}" (it belongs to '
                                        f"{target}/)")
                        continue
                    only = LAYERS[layer].get("only", {}).get(target)
                    if only and os.path.basename(header) not in only:
                        problems.append(f'{where}: {layer}/ may include only '
                                        f"{', '.join(sorted(only))} of "
                                        f'{target}/, not "{header}"')
    return problems


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    problems = check(root)
    if problems:
        print("layer violations (see docs/architecture.md, \"Layers\"):")
        for p in problems:
            print("  " + p)
        return 1
    print(f"layers clean: {', '.join(LAYERS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
