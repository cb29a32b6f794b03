#!/usr/bin/env bash
# Recovery with a long log, in one run on the broker in KAFKA_BROKERS
# (scripts/with-kafka.sh bench/restart.sh):
#   1. users.events gets BENCH_FACTS facts over BENCH_USERS users
#      (tests/recovery/recovery_fill);
#   2. a users instance restarts without a snapshot: time from exec to
#      SERVING (grpc-health-probe), and its resident memory against the
#      same binary serving an empty state;
#   3. it runs with snapshots on until every partition has one (their
#      sizes and build+publish times from its log), then restarts again:
#      time to SERVING with the snapshots;
#   4. UpdateTrainingBalance under load (ghz, BENCH_CONCURRENCY callers,
#      BENCH_SECONDS) with snapshots off and then written continuously
#      (WW_SNAPSHOT_INTERVAL_MS=100): the call's p50/p99 either way.
# Env: BENCH_FACTS (1000000), BENCH_USERS (1000000), BENCH_SECONDS (10),
#      BENCH_CONCURRENCY (8). Needs build/ with the tests (recovery_fill).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lib.sh"
source "$WW_ROOT/tests/support/ww_test_proc.sh" # free_port, wait_serving
build=${WW_BUILD_DIR:-$WW_ROOT/build}
facts=${BENCH_FACTS:-1000000}
users=${BENCH_USERS:-1000000}
secs=${BENCH_SECONDS:-10}
conc=${BENCH_CONCURRENCY:-8}
: "${KAFKA_BROKERS:?run through scripts/with-kafka.sh}"
bin=$(WW_GO_TOOLS_GHZ=1 "$WW_ROOT/scripts/go-tools.sh")
export PATH="$bin:$PATH"
work="$build/bench-run/restart"
rm -rf "$work"; mkdir -p "$work"

export WW_TOPIC_PREFIX="bench-restart-$$." GRPC_NO_TLS=true WW_LOG_LEVEL=info
export WW_INSTANCE_ID=bench-users WW_KAFKA_START_TIMEOUT_MS=120000
port=$(free_port)
export WW_LISTEN_ADDR=127.0.0.1:$port
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

now_ms() { date +%s%3N; }
rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
start() { # LOG [VAR=VALUE...]: starts users; sets pid and ms (to SERVING)
  local log=$1; shift
  local t0; t0=$(now_ms)
  env "$@" "$build/services/users/users" >"$work/$log" 2>&1 & pid=$!
  wait_serving "$port" 300
  ms=$(( $(now_ms) - t0 ))
}
stop() { kill "$pid"; wait "$pid" || true; pid=; }

start empty.log WW_SNAPSHOT_INTERVAL_MS=0; empty_ms=$ms
sleep 1; empty_rss=$(rss_mib "$pid"); stop

"$build/tests/recovery/recovery_fill" "$facts" "$users" >/dev/null

start cold.log WW_SNAPSHOT_INTERVAL_MS=0; cold_ms=$ms
sleep 1; cold_rss=$(rss_mib "$pid"); stop

start snap.log WW_SNAPSHOT_INTERVAL_MS=200 WW_SNAPSHOT_MIN_RECORDS=1
parts=${WW_KAFKA_PARTITIONS:-6}
for _ in $(seq 600); do
  n=$( (grep -o "event=snapshot topic=[^ ]* partition=[0-9]*" \
         "$work/snap.log" || true) | sort -u | wc -l)
  [ "$n" -ge "$parts" ] && break
  sleep 0.1
done
stop
snap_bytes=$(grep -o "event=snapshot .* bytes=[0-9]*" "$work/snap.log" |
             sed 's/.*bytes=//' | sort -n | tail -1)
snap_ms=$(grep -o "event=snapshot .*duration_ms=[0-9]*" "$work/snap.log" |
          sed 's/.*duration_ms=//' | sort -n | tail -1)

start warm.log WW_SNAPSHOT_INTERVAL_MS=0; warm_ms=$ms
sleep 1; warm_rss=$(rss_mib "$pid")
warm_facts=$(grep -o "event=caught_up .*facts=[0-9]*" "$work/warm.log" |
             sed 's/.*facts=//')
stop

echo "### Restart of users with $facts facts over $users users"
echo "| start | to SERVING ms | facts replayed | RSS MiB |"
echo "|---|---|---|---|"
echo "| empty log | $empty_ms | 0 | $empty_rss |"
echo "| no snapshot | $cold_ms | $facts | $cold_rss |"
echo "| with snapshots | $warm_ms | $warm_facts | $warm_rss |"
echo
echo "State: $(( cold_rss - empty_rss )) MiB resident for $users users" \
     "($(( (cold_rss - empty_rss) * 1000000 / users )) MiB per 1,000,000)."
echo "Largest snapshot: $snap_bytes bytes of state, built and published in" \
     "at most $snap_ms ms."

load() { # LABEL VAR=VALUE...: ghz against UpdateTrainingBalance
  local label=$1; shift
  start "load-$label.log" "$@"
  ghz --insecure --proto "$WW_ROOT/proto/users.proto" \
    --call users.UsersService.UpdateTrainingBalance \
    -d '{"user_id":"fill-{{.RequestNumber}}","amount_change":1}' \
    -c "$conc" -z "${secs}s" --format=json "127.0.0.1:$port" \
    >"$work/ghz-$label.json"
  local written
  written=$(grep -c "event=snapshot " "$work/load-$label.log" || true)
  stop
  python3 - "$work/ghz-$label.json" "$label" "$written" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lat = {d["percentage"]: d["latency"] / 1e6 for d in r["latencyDistribution"]}
ok = r["statusCodeDistribution"].get("OK", 0)
print("| %s | %.0f | %.1f | %.1f | %d/%d | %s |" % (
    sys.argv[2], r["rps"], lat[50], lat[99], ok, r["count"], sys.argv[3]))
EOF
}
echo
echo "### UpdateTrainingBalance with $users users, $conc callers, ${secs}s"
echo "| snapshots | calls/s | p50 ms | p99 ms | OK | snapshots written |"
echo "|---|---|---|---|---|---|"
load off WW_SNAPSHOT_INTERVAL_MS=0
load every-100ms WW_SNAPSHOT_INTERVAL_MS=100 WW_SNAPSHOT_MIN_RECORDS=1
