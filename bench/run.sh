#!/usr/bin/env bash
# Benchmark: our C trainer/users services vs a small grpc-go server over the
# same protos, driven by ghz, in one run on one machine. Servers are pinned
# to one core and ghz to another (taskset), so the numbers compare one
# server core each. Runs are short and bounded (BENCH_SECONDS per cell).
#   bench/run.sh            prints a Markdown table (see docs/benchmarks.md)
# Env: BENCH_SECONDS (5), BENCH_SAT_CONCURRENCY (64), SERVER_CPU (0),
#      LOAD_CPU (1). Needs build/ (cmake --build build) and a Go toolchain.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lib.sh"
secs=${BENCH_SECONDS:-5}
sat=${BENCH_SAT_CONCURRENCY:-64}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
build="$WW_ROOT/build"
[ -x "$build/services/trainer/trainer" ] || { echo "build first: cmake --build build" >&2; exit 1; }

bin=$(WW_GO_TOOLS_GHZ=1 "$WW_ROOT/scripts/go-tools.sh")
command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
export PATH="$bin:$PATH"

work="$build/bench"
rm -rf "$work"; mkdir -p "$work/go"
cp -r "$here/go-server/." "$work/go/"
protoc -I"$WW_ROOT/proto" -I/usr/include \
  --go_out="$work/go" --go_opt=module=wwbench \
  --go-grpc_out="$work/go" --go-grpc_opt=module=wwbench \
  --go_opt=Mtrainer.proto=wwbench/gen/trainer --go-grpc_opt=Mtrainer.proto=wwbench/gen/trainer \
  --go_opt=Musers.proto=wwbench/gen/users --go-grpc_opt=Musers.proto=wwbench/gen/users \
  trainer.proto users.proto
(cd "$work/go" && go build -buildvcs=false -o "$work/goserver" .)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }

p_tr=$(free_port); p_us=$(free_port); p_go=$(free_port)
GRPC_NO_TLS=true WW_LOG_LEVEL=warn WW_LISTEN_ADDR=127.0.0.1:$p_tr \
  taskset -c "$server_cpu" "$build/services/trainer/trainer" 2>"$work/trainer.log" & pids+=($!); pid_tr=$!
GRPC_NO_TLS=true WW_LOG_LEVEL=warn WW_LISTEN_ADDR=127.0.0.1:$p_us \
  taskset -c "$server_cpu" "$build/services/users/users" 2>"$work/users.log" & pids+=($!); pid_us=$!
taskset -c "$server_cpu" "$work/goserver" -addr 127.0.0.1:$p_go 2>"$work/goserver.log" & pids+=($!); pid_go=$!
wait_port "$p_tr"; wait_port "$p_us"; wait_port "$p_go"
sleep 1

rss_kib() { awk '/^VmRSS/ {print $2}' /proc/"$1"/status; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
hz=$(getconf CLK_TCK)
idle_tr=$(rss_kib $pid_tr); idle_us=$(rss_kib $pid_us); idle_go=$(rss_kib $pid_go)

# run NAME PID PORT METHOD DATA CONCURRENCY
run() {
  local name=$1 pid=$2 port=$3 method=$4 data=$5 c=$6
  local out="$work/$name-$c.json" t0 t1
  t0=$(cpu_ticks "$pid")
  taskset -c "$load_cpu" ghz --insecure --proto "$WW_ROOT/proto/${method%%.*}.proto" \
    --import-paths "$WW_ROOT/proto,/usr/include" --call "$method" -d "$data" \
    -c "$c" --connections $(( c > 1 ? 4 : 1 )) -z "${secs}s" --format json \
    127.0.0.1:"$port" >"$out"
  t1=$(cpu_ticks "$pid")
  python3 - "$out" "$name" "$c" "$(( t1 - t0 ))" "$hz" "$secs" "$(rss_kib "$pid")" <<'PY'
import json, sys
out, name, c, ticks, hz, secs, rss = sys.argv[1:]
r = json.load(open(out))
lat = {d["percentage"]: d["latency"] for d in r.get("latencyDistribution") or []}
errs = sum((r.get("errorDistribution") or {}).values())
ok = (r.get("statusCodeDistribution") or {}).get("OK", 0)
cpu = 100.0 * int(ticks) / int(hz) / float(secs)
per_core = r["rps"] / (cpu / 100.0) if cpu > 0 else 0
print("| %s | %s | %.0f | %.0f | %.0f | %.0f%% | %.0f | %.1f | %d/%d |" % (
    name, c, r["rps"], lat.get(50, 0) / 1000, lat.get(99, 0) / 1000, cpu,
    per_core, int(rss) / 1024, ok, ok + errs))
PY
}

ts='{"time":"2026-12-01T13:00:00Z"}'
user='{"user_id":"bench-user"}'
echo "Servers on CPU $server_cpu, ghz on CPU $load_cpu, ${secs}s per row, $(nproc) CPUs, $(uname -r)."
echo "Idle RSS (MiB): ours trainer $(awk "BEGIN{printf \"%.1f\", $idle_tr/1024}"), ours users $(awk "BEGIN{printf \"%.1f\", $idle_us/1024}"), grpc-go (both services) $(awk "BEGIN{printf \"%.1f\", $idle_go/1024}")."
echo
echo "| server, method | concurrency | QPS | p50 µs | p99 µs | server CPU | QPS per server core | RSS after MiB | OK/total |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in 1 "$sat"; do
  run "ours IsHourAvailable" $pid_tr $p_tr trainer.TrainerService.IsHourAvailable "$ts" "$c"
  run "grpc-go IsHourAvailable" $pid_go $p_go trainer.TrainerService.IsHourAvailable "$ts" "$c"
  run "ours GetTrainingBalance" $pid_us $p_us users.UsersService.GetTrainingBalance "$user" "$c"
  run "grpc-go GetTrainingBalance" $pid_go $p_go users.UsersService.GetTrainingBalance "$user" "$c"
done
