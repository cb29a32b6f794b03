#!/usr/bin/env bash
# Benchmark: our C trainer/users services vs a small grpc-go server over the
# same protos, in one run on one machine. Servers are pinned to one core and
# the load generator to another (taskset), one server under load at a time.
#   bench/run.sh            prints Markdown tables (see docs/benchmarks.md)
# Two load generators, each where it measures the server and not itself:
#  - concurrency 1 (latency): ghz, one connection, one call at a time;
#  - saturation (throughput): h2load, which sends the same unary gRPC call
#    as a raw HTTP/2 POST (5-byte gRPC prefix + serialised request) on many
#    streams per connection at a fraction of ghz's cost per call: on two
#    cores ghz saturates its own core long before the server's.
# Every response is checked to be gRPC status OK, not just HTTP 200: one
# call per server and method is decoded in full (trailer grpc-status: 0),
# and the servers count their outcomes (our per-call log lines at info; the
# grpc-go server's counters) against the load generator's count.
# Our servers run at the default WW_LOG_LEVEL=info (a log line per call) and
# again at warn (no per-call lines).
# Env: BENCH_SECONDS (5, concurrency-1 rows), BENCH_SAT_SECONDS (4),
#      BENCH_ROUNDS (3 interleaved rounds of saturation rows; the best
#      round is shown), BENCH_CONNECTIONS (4), BENCH_STREAMS (32 per
#      connection), SERVER_CPU (0), LOAD_CPU (1),
#      BENCH_BASELINE (another build folder, e.g. of an older commit: its
#      trainer gets saturation rows of its own, "baseline"),
#      BENCH_VARIANT_ENV (e.g. WW_RPC_CQ=callback: our trainer started
#      again with it, rows "variant"),
#      BENCH_METRICS=1 (our trainer started again with its Prometheus
#      endpoint on, WW_METRICS_ADDR, scraped once a second during its rows
#      as a Prometheus server would: saturation rows "ours IsHourAvailable,
#      metrics on" beside the same trainer with metrics off, and their
#      ratio). Saturation rows count the server's
#      sendmsg(2) and write(2) calls with perf stat (syscall tracepoints;
#      "-" where perf cannot). Needs build/ (cmake --build build), a Go
#      toolchain, h2load and nghttp (nghttp2-client).
# Scratch files (generated Go server, logs, load-generator output) go to
# build/bench-run/, emptied at every start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lib.sh"
secs=${BENCH_SECONDS:-5}
sat_secs=${BENCH_SAT_SECONDS:-4}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNECTIONS:-4}
streams=${BENCH_STREAMS:-32}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
build="$WW_ROOT/build"
[ -x "$build/services/trainer/trainer" ] || { echo "build first: cmake --build build" >&2; exit 1; }
for t in h2load nghttp; do
  command -v $t >/dev/null 2>&1 || { echo "$t missing: scripts/bootstrap.sh installs nghttp2-client" >&2; exit 1; }
done

bin=$(WW_GO_TOOLS_GHZ=1 "$WW_ROOT/scripts/go-tools.sh")
command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
export PATH="$bin:$PATH"

# A folder of its own: build/bench is where CMake puts bench_txn, bench_bus
# and bench_auth, which this script must never wipe.
work="$build/bench-run"
rm -rf "$work"; mkdir -p "$work/go"
cp -r "$here/go-server/." "$work/go/"
protoc -I"$WW_ROOT/proto" -I/usr/include \
  --go_out="$work/go" --go_opt=module=wwbench \
  --go-grpc_out="$work/go" --go-grpc_opt=module=wwbench \
  --go_opt=Mtrainer.proto=wwbench/gen/trainer --go-grpc_opt=Mtrainer.proto=wwbench/gen/trainer \
  --go_opt=Musers.proto=wwbench/gen/users --go-grpc_opt=Musers.proto=wwbench/gen/users \
  trainer.proto users.proto
(cd "$work/go" && go build -buildvcs=false -o "$work/goserver" .)

# The requests as gRPC frames for h2load, encoded by protoc from the same
# text as ghz's JSON: 2026-12-01T13:00:00Z is a working hour (12-20 UTC).
ts='{"time":"2026-12-01T13:00:00Z"}'
user='{"user_id":"bench-user"}'
frame() { # FILE MESSAGE TEXT: writes the 5-byte prefix + serialised message
  local raw="$work/$1.raw"
  printf '%s\n' "$3" | protoc -I"$WW_ROOT/proto" -I/usr/include \
    --encode="$2" trainer.proto users.proto >"$raw"
  python3 - "$raw" "$work/$1" <<'PY'
import struct, sys
body = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b"\0" + struct.pack(">I", len(body)) + body)
PY
}
frame hour.bin trainer.IsHourAvailableRequest 'time { seconds: 1796130000 }'
frame user.bin users.GetTrainingBalanceRequest 'user_id: "bench-user"'

source "$WW_ROOT/tests/support/ww_test_proc.sh" # free_port, wait_port, wait_serving
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

declare -A port pid log
start_ours() { # NAME BINARY LEVEL [VAR=VALUE...]
  local p; p=$(free_port)
  env GRPC_NO_TLS=true WW_LOG_LEVEL=$3 WW_LISTEN_ADDR=127.0.0.1:$p "${@:4}" \
    taskset -c "$server_cpu" "$2" 2>"$work/$1.log" &
  pids+=($!); pid[$1]=$!; port[$1]=$p; log[$1]="$work/$1.log"
}
baseline=${BENCH_BASELINE:-}
variant_env=${BENCH_VARIANT_ENV:-}
# The extra servers' names end in their log level: at info their per-call
# lines are counted against h2load's (server_counts).
var_level=info
for kv in $variant_env; do
  case $kv in WW_LOG_LEVEL=*) var_level=${kv#*=} ;; esac
done
[ -z "$baseline" ] || start_ours tr-base-info "$baseline/services/trainer/trainer" info
[ -z "$variant_env" ] || start_ours "tr-var-$var_level" "$build/services/trainer/trainer" "$var_level" $variant_env
metrics=${BENCH_METRICS:-0}
if [ "$metrics" = 1 ]; then
  metrics_port=$(free_port)
  start_ours tr-met-info "$build/services/trainer/trainer" info WW_METRICS_ADDR=127.0.0.1:$metrics_port
fi
start_ours tr-info "$build/services/trainer/trainer" info
start_ours us-info "$build/services/users/users" info
start_ours tr-warn "$build/services/trainer/trainer" warn
start_ours us-warn "$build/services/users/users" warn
port[go]=$(free_port)
taskset -c "$server_cpu" "$work/goserver" -addr 127.0.0.1:${port[go]} 2>"$work/go.log" &
pids+=($!); pid[go]=$!; log[go]="$work/go.log"
for k in "${!port[@]}"; do wait_port "${port[$k]}" 5; done
# ours listen at once and serve once their read models caught up
for k in "${!port[@]}"; do [ "$k" = go ] || wait_serving "${port[$k]}" 60; done
sleep 1

rss_kib() { awk '/^VmRSS/ {print $2}' /proc/"$1"/status; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
hz=$(getconf CLK_TCK)
declare -A idle
for k in "${!pid[@]}"; do idle[$k]=$(rss_kib "${pid[$k]}"); done

# Full decode of one call: the trailers must carry grpc-status 0.
check_one() { # SERVER PATH BODY
  local out
  out=$(nghttp -v -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$work/$3" "http://127.0.0.1:${port[$1]}$2" 2>&1 | tr -d '\0')
  grep -aq 'grpc-status: 0' <<<"$out" || { echo "$1 $2: not gRPC OK:" >&2; grep -a 'grpc-' <<<"$out" >&2; exit 1; }
}

# Outcomes counted by the server itself, cumulative: "ok failed".
server_counts() { # SERVER PATH
  if [ "$1" = go ]; then
    kill -USR1 "${pid[go]}"; sleep 0.2
    sed -n 's/.*calls ok=\([0-9]*\) failed=\([0-9]*\).*/\1 \2/p' "${log[go]}" | tail -1
  elif [[ $1 == *-info ]]; then
    sleep 0.1 # batched log lines are due within 10 ms
    echo "$(grep -c "method=$2 status=OK " "${log[$1]}" || true)" \
         "$(grep "method=$2 status=" "${log[$1]}" | grep -vc 'status=OK ' || true)"
  else
    echo "- -"
  fi
}

declare -A per100k
# row LABEL SERVER PATH BODY GHZ_METHOD GHZ_DATA CONCURRENCY(1|sat)
row() {
  local label=$1 s=$2 path=$3 body=$4 method=$5 data=$6 mode=$7
  local out="$work/$s-${path##*/}-$mode" t0 t1 c0 c1 dur=$secs
  [ "$mode" = 1 ] || dur=$sat_secs
  check_one "$s" "$path" "$body"
  c0=$(server_counts "$s" "$path")
  t0=$(cpu_ticks "${pid[$s]}")
  if [ "$mode" = 1 ]; then
    taskset -c "$load_cpu" ghz --insecure --proto "$WW_ROOT/proto/${method%%.*}.proto" \
      --import-paths "$WW_ROOT/proto,/usr/include" --call "$method" -d "$data" \
      -c 1 --connections 1 -z "${secs}s" --format json \
      127.0.0.1:"${port[$s]}" >"$out.json"
  else
    # The server's system calls over the row: perf runs beside h2load and
    # stops (SIGINT) when h2load is done.
    local perf_pid=
    if perf stat -e syscalls:sys_enter_sendmsg true >/dev/null 2>&1; then
      perf stat -x, -e syscalls:sys_enter_sendmsg,syscalls:sys_enter_write \
        -p "${pid[$s]}" -o "$out.perf" &
      perf_pid=$!
    fi
    taskset -c "$load_cpu" h2load -t 1 -c "$conns" -m "$streams" -D "$dur" \
      -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/$body" \
      --log-file="$out.tsv" "http://127.0.0.1:${port[$s]}$path" >"$out.txt"
    [ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
  fi
  t1=$(cpu_ticks "${pid[$s]}")
  c1=$(server_counts "$s" "$path")
  python3 - "$out" "$mode" "$label" "$(( t1 - t0 ))" "$hz" "$dur" \
    "$(rss_kib "${pid[$s]}")" "$c0" "$c1" "$(( conns * streams ))" "$work/rows.tsv" <<'PY'
import json, re, sys
out, mode, label, ticks, hz, secs, rss, c0, c1, inflight, rows = sys.argv[1:]
if mode == "1":
    r = json.load(open(out + ".json"))
    lat = {d["percentage"]: d["latency"] / 1000 for d in r.get("latencyDistribution") or []}
    p50, p99 = lat.get(50, 0), lat.get(99, 0)
    ok = (r.get("statusCodeDistribution") or {}).get("OK", 0)
    total = r["count"]
    qps = r["rps"]
    gen = "ghz, 1 connection, 1 call at a time"
else:
    txt = open(out + ".txt").read()
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", txt)
    qps = float(m.group(3))
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded", txt)
    total, ok = int(m.group(2)), int(m.group(3))
    lats = sorted(int(l.split("\t")[2]) for l in open(out + ".tsv")
                  if l.split("\t")[1] == "200")
    p50 = lats[len(lats) // 2] if lats else 0
    p99 = lats[min(len(lats) - 1, len(lats) * 99 // 100)] if lats else 0
    gen = "h2load"
# System calls per OK call (saturation rows with perf only).
sys_per = {}
try:
    for l in open(out + ".perf"):
        f = l.strip().split(",")
        if len(f) > 2 and f[0].isdigit():
            sys_per[f[2].split(":")[-1]] = int(f[0]) / max(ok, 1)
except OSError:
    pass
# Server-side check: every HTTP 200 h2load counted must be a gRPC OK the
# server counted; the only non-OK calls allowed are the streams h2load
# cuts off when its duration ends (at most connections x streams).
check = "HTTP 200: %d/%d" % (ok, total)
a, b = c0.split(), c1.split()
if a[0] != "-":
    srv_ok, srv_fail = int(b[0]) - int(a[0]), int(b[1]) - int(a[1])
    if srv_ok < ok or srv_fail > int(inflight):
        sys.exit("%s: server counted %d OK, %d failed; client %d OK" % (label, srv_ok, srv_fail, ok))
    check = "%d/%d; server: %d OK, %d cut off at the end" % (ok, total, srv_ok, srv_fail)
elif mode == "1":
    check = "%d/%d gRPC OK" % (ok, total)
cpu_s = int(ticks) / int(hz)
calls = max(ok, 1)
with open(rows, "a") as f:
    f.write("\t".join(str(x) for x in (
        label, mode, qps, p50, p99, 100.0 * cpu_s / float(secs),
        100000.0 * cpu_s / calls, int(rss) / 1024, check,
        sys_per.get("sys_enter_sendmsg", -1),
        sys_per.get("sys_enter_write", -1))) + "\n")
PY
}

tr=/trainer.TrainerService/IsHourAvailable
us=/users.UsersService/GetTrainingBalance
mib() { awk "BEGIN{printf \"%.1f\", $1/1024}"; }
row "ours IsHourAvailable" tr-info $tr hour.bin trainer.TrainerService.IsHourAvailable "$ts" 1
row "grpc-go IsHourAvailable" go $tr hour.bin trainer.TrainerService.IsHourAvailable "$ts" 1
row "ours GetTrainingBalance" us-info $us user.bin users.UsersService.GetTrainingBalance "$user" 1
row "grpc-go GetTrainingBalance" go $us user.bin users.UsersService.GetTrainingBalance "$user" 1
# Saturation rows in interleaved rounds: the machine is shared, and a
# round where another process took part of the server core says little
# about the server; the best round of each row is shown.
for _ in $(seq "$rounds"); do
  row "ours IsHourAvailable" tr-info $tr hour.bin - - sat
  [ -z "$baseline" ] || row "baseline IsHourAvailable" tr-base-info $tr hour.bin - - sat
  [ -z "$variant_env" ] || row "variant IsHourAvailable" "tr-var-$var_level" $tr hour.bin - - sat
  if [ "$metrics" = 1 ]; then
    # scraped meanwhile, as a Prometheus server would (every second, more
    # often than the usual 15 s), by one long-lived client: an interpreter
    # started per scrape would cost the shared cores more than the scrape
    python3 -c '
import sys, time, urllib.request
while True:
    time.sleep(1)
    urllib.request.urlopen(sys.argv[1], timeout=5).read()
' "http://127.0.0.1:$metrics_port/metrics" &
    scraper=$!
    row "ours IsHourAvailable, metrics on" tr-met-info $tr hour.bin - - sat
    kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true
  fi
  row "ours IsHourAvailable, log warn" tr-warn $tr hour.bin - - sat
  row "grpc-go IsHourAvailable" go $tr hour.bin - - sat
  row "ours GetTrainingBalance" us-info $us user.bin - - sat
  row "ours GetTrainingBalance, log warn" us-warn $us user.bin - - sat
  row "grpc-go GetTrainingBalance" go $us user.bin - - sat
done

echo "Servers on CPU $server_cpu, load generator on CPU $load_cpu, $(nproc) CPUs, $(uname -r)."
echo "Concurrency 1: ghz, ${secs}s per row. Saturation (sat): h2load, $conns connections x $streams streams, $rounds rounds of ${sat_secs}s per row, best round shown (QPS range of the rounds in brackets); CPU per call: median of the rounds."
echo "Idle RSS (MiB): ours trainer $(mib ${idle[tr-info]}), ours users $(mib ${idle[us-info]}), grpc-go (both services) $(mib ${idle[go]})."
python3 - "$work/rows.tsv" <<'PY'
import statistics, sys
rows, order = {}, []
for l in open(sys.argv[1]):
    f = l.rstrip("\n").split("\t")
    key = (f[0], f[1])
    if key not in rows:
        rows[key] = []
        order.append(key)
    rows[key].append([f[0], f[1]] + [float(x) for x in f[2:8]] + [f[8]] +
                     [float(x) for x in f[9:11]])
def best_round(rs):
    # Another process on the server core only ever takes QPS away, so the
    # best round is the closest to the server's own capacity; the whole
    # round is shown, so a row's figures belong together.
    return max(rs, key=lambda r: r[2])
med = {k: best_round(v) for k, v in rows.items()}
print()
print("| server, method | concurrency | QPS | p50 µs | p99 µs | server CPU | server CPU s per 100k calls | sendmsg per call | write per call | RSS after MiB | responses OK |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
def per_call(rs, i):
    # Median over the rounds; "-" without counts (concurrency 1, no perf).
    xs = [x[i] for x in rs if x[i] >= 0]
    return "%.3f" % statistics.median(xs) if xs else "-"
for k in order:
    r = med[k]
    qps = "%.0f" % r[2]
    if len(rows[k]) > 1:
        qs = [x[2] for x in rows[k]]
        qps += " (%.0f–%.0f)" % (min(qs), max(qs))
    cpu100k = statistics.median(x[6] for x in rows[k])
    print("| %s | %s | %s | %.0f | %.0f | %.0f%% | %.2f | %s | %s | %.1f | %s |" % (
        r[0], r[1], qps, r[3], r[4], r[5], cpu100k, per_call(rows[k], 9),
        per_call(rows[k], 10), r[7], r[8]))
# Efficiency: median over rounds of CPU s per 100k calls.
cpu = {k: statistics.median(x[6] for x in v) for k, v in rows.items()}
print()
print("| method | ours / grpc-go: QPS at saturation | calls per server CPU-second at saturation | p50 at concurrency 1 |")
print("|---|---|---|---|")
for m in ("IsHourAvailable", "GetTrainingBalance"):
    go1, gos = med[("grpc-go " + m, "1")], med[("grpc-go " + m, "sat")]
    o1 = med[("ours " + m, "1")]
    oi, ow = med[("ours " + m, "sat")], med[("ours %s, log warn" % m, "sat")]
    cg, ci, cw = cpu[("grpc-go " + m, "sat")], cpu[("ours " + m, "sat")], cpu[("ours %s, log warn" % m, "sat")]
    print("| %s | %.2fx (log warn: %.2fx) | %.2fx (log warn: %.2fx) | %.2fx (%.0f vs %.0f µs) |" % (
        m, oi[2] / gos[2], ow[2] / gos[2], cg / ci, cg / cw, o1[3] / go1[3], o1[3], go1[3]))
# The extra trainer rows against the same run's grpc-go and our trainer.
extra = [k for k in cpu if k[0] in ("baseline IsHourAvailable", "variant IsHourAvailable",
                                    "ours IsHourAvailable, metrics on")]
if extra:
    print()
    print("| trainer rows, saturation | calls per server CPU-second vs grpc-go | vs ours | best QPS |")
    print("|---|---|---|---|")
    cg, co = cpu[("grpc-go IsHourAvailable", "sat")], cpu[("ours IsHourAvailable", "sat")]
    for k in extra:
        print("| %s | %.2fx | %.2fx | %.0f |" % (k[0], cg / cpu[k], co / cpu[k], med[k][2]))
on = med.get(("ours IsHourAvailable, metrics on", "sat"))
if on:
    off = med[("ours IsHourAvailable", "sat")]
    print()
    print("Metrics on / off, IsHourAvailable at saturation (best rounds): "
          "%.0f / %.0f QPS = %.3fx (target >= 0.95x)." % (on[2], off[2], on[2] / off[2]))
PY
