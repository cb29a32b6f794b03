"""Checks compose.yaml against the programs, since no container engine runs
here: every variable set on our services is one the C programs read, every
published port is one the service listens on (gRPC, then metrics), every *_GRPC_ADDR points at
a service that listens there, and the broker image is the pinned version."""
import pathlib
import re
import sys

import yaml

root = pathlib.Path(sys.argv[1])
compose = yaml.safe_load((root / "compose.yaml").read_text())
services = compose["services"]
failures = []


def fail(msg):
    failures.append(msg)


# A variable counts as read when its name is a string literal in our C
# sources, passed to getenv()/ww_env_*() or kept in a constant that is
# (e.g. `.addr_env = "TRAINER_GRPC_ADDR"`).
sources = [p for d in ("common", "domain", "bus", "rpc", "auth", "services", "tools")
           for p in (root / d).rglob("*.c")]
read_vars = set()
for path in sources:
    text = path.read_text(errors="replace")
    read_vars.update(re.findall(r'(?:getenv|ww_env_\w+)\(\s*"([A-Z0-9_]+)"', text))
    read_vars.update(re.findall(r'"([A-Z][A-Z0-9_]*_(?:ADDR|BROKERS|ID|TLS|FIXTURES|PREFIX|CONFIG))"', text))

pom = (root / "scripts/kafka/pom.xml").read_text()
pinned = re.search(r"<artifactId>kafka_2.13</artifactId>\s*<version>([^<]+)</version>", pom).group(1)
kafka = services.get("kafka")
kafka_addr = None
if not kafka:
    fail("no kafka service")
elif kafka["image"] != f"apache/kafka:{pinned}":
    fail(f"kafka image {kafka['image']} is not the pinned apache/kafka:{pinned}")
else:
    adv = kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    kafka_addr = re.search(r"PLAINTEXT://([^,]+)", adv).group(1)

listen = {}
built_here = {name: s for name, s in services.items() if "build" in s}
if set(built_here) != {"trainer", "users", "fixtures"}:
    fail(f"services built from the Dockerfile are {sorted(built_here)}, "
         "want trainer, users and the one-shot fixtures")
ours = {n: built_here[n] for n in ("trainer", "users") if n in built_here}
ids = [s.get("environment", {}).get("WW_INSTANCE_ID") for s in ours.values()]
if None in ids or len(set(ids)) != len(ids):
    fail(f"each service needs a WW_INSTANCE_ID of its own, got {ids}")
loader = built_here.get("fixtures", {})
if "wwctl --timeout-ms 30000 fixtures" not in " ".join(loader.get("command", [])):
    fail("the fixtures service does not run wwctl fixtures")
for var in loader.get("environment", {}):
    if var not in read_vars:
        fail(f"fixtures: {var} is set but no program reads it")
for name, svc in ours.items():
    env = svc.get("environment", {})
    for var in env:
        if var not in read_vars:
            fail(f"{name}: {var} is set but no program reads it")
    if env.get("KAFKA_BROKERS") != kafka_addr:
        fail(f"{name}: KAFKA_BROKERS={env.get('KAFKA_BROKERS')} but the broker advertises {kafka_addr}")
    addr = env.get("WW_LISTEN_ADDR")
    if not addr:
        fail(f"{name}: no WW_LISTEN_ADDR")
        continue
    port = addr.rsplit(":", 1)[1]
    listen[name] = port
    published = [str(p).rsplit(":", 1)[-1] for p in svc.get("ports", [])]
    want = [port]
    metrics = env.get("WW_METRICS_ADDR")
    if not metrics:
        fail(f"{name}: no WW_METRICS_ADDR (the metrics endpoint)")
    else:
        want.append(metrics.rsplit(":", 1)[1])
    if published != want:
        fail(f"{name}: publishes container ports {published}, listens on {want}")
    if svc.get("command", [None])[0] != name:
        fail(f"{name}: command {svc.get('command')} does not run the {name} binary")

for name, svc in list(ours.items()) + [("fixtures", loader)]:
    env = svc.get("environment", {})
    for var, target in (("TRAINER_GRPC_ADDR", "trainer"), ("USERS_GRPC_ADDR", "users")):
        want = f"{target}:{listen.get(target)}"
        if env.get(var) != want:
            fail(f"{name}: {var}={env.get(var)}, but {target} listens at {want}")

built = (root / "Dockerfile").read_text()
for binary in ("trainer", "users"):
    if f"/build/services/{binary}/{binary}" not in built:
        fail(f"Dockerfile does not install the {binary} binary")

for f in failures:
    print("FAIL:", f)
if failures:
    print("0 passed, 1 failed")
    sys.exit(1)
print("compose.yaml: every variable and port matches the programs")
print("1 passed, 0 failed")
