#!/usr/bin/env bash
# Benchmark: IsHourAvailable against the real trainer binary, plaintext
# (GRPC_NO_TLS=true) against TLS + per-call token, same load, same run.
# Both trainers run on one pinned core, ghz on another (taskset); rounds
# alternate plaintext / secure so a noisy neighbour hits both alike.
# The token is minted with a key made for this run, served by the fake
# metadata server (tests/auth/fake_metadata.py) and fetched from it as a
# client would, then sent by ghz on every call; the server verifies it once
# and answers it from its cache afterwards. Ends with the cold verification
# rate from bench_auth (distinct tokens, one signature check each).
#   bench/auth_grpc.sh        prints a Markdown table (docs/benchmarks.md)
# Env: BENCH_SECONDS (5), BENCH_ROUNDS (2), BENCH_SAT_CONCURRENCY (64),
#      SERVER_CPU (0), LOAD_CPU (1). Needs build/ and a Go toolchain (ghz).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lib.sh"
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-2}
sat=${BENCH_SAT_CONCURRENCY:-64}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
build="$WW_ROOT/build"
trainer="$build/services/trainer/trainer"
[ -x "$trainer" ] || { echo "build first: cmake --build build" >&2; exit 1; }

bin=$(WW_GO_TOOLS_GHZ=1 "$WW_ROOT/scripts/go-tools.sh")
export PATH="$bin:$PATH"

work="$build/bench-auth"
rm -rf "$work"; mkdir -p "$work/meta"
"$WW_ROOT/tests/auth/gen_certs.sh" "$work/pki"

# A signing key, its JWKS and an RS256 identity token for https://localhost,
# made for this run only.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/sign.key" 2>/dev/null
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
modulus=$(openssl rsa -in "$work/sign.key" -noout -modulus | cut -d= -f2 | xxd -r -p | b64url)
printf '{"keys":[{"kty":"RSA","kid":"bench1","alg":"RS256","use":"sig","n":"%s","e":"AQAB"}]}' \
  "$modulus" >"$work/jwks.json"
now=$(date +%s)
header=$(printf '{"alg":"RS256","kid":"bench1","typ":"JWT"}' | b64url)
payload=$(printf '{"iss":"https://accounts.google.com","aud":"https://localhost","sub":"bench","email":"bench@wild-workouts.test","iat":%d,"exp":%d}' \
  "$now" $((now + 3600)) | b64url)
sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$work/sign.key" -binary | b64url)
printf '%s.%s.%s' "$header" "$payload" "$sig" >"$work/meta/token"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
source "$WW_ROOT/tests/support/ww_test_proc.sh" # free_port, wait_serving

coproc META { exec python3 "$WW_ROOT/tests/auth/fake_metadata.py" "$work/meta"; }
pids+=($!)
read -r meta_port <&"${META[0]}"
token=$(curl -sf -H 'Metadata-Flavor: Google' \
  "http://127.0.0.1:$meta_port/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://localhost")
[ -n "$token" ] || { echo "no token from the metadata server" >&2; exit 1; }

p_plain=$(free_port); p_tls=$(free_port)
GRPC_NO_TLS=true WW_LOG_LEVEL=warn WW_LISTEN_ADDR=127.0.0.1:$p_plain \
  taskset -c "$server_cpu" "$trainer" 2>"$work/plain.log" & pids+=($!); pid_plain=$!
WW_LOG_LEVEL=warn WW_LISTEN_ADDR=127.0.0.1:$p_tls \
  WW_TLS_CERT="$work/pki/server.pem" WW_TLS_KEY="$work/pki/server.key" \
  WW_JWKS="$work/jwks.json" WW_JWT_AUDIENCE=https://localhost \
  WW_CALLERS="service=https://accounts.google.com|bench" \
  taskset -c "$server_cpu" "$trainer" 2>"$work/tls.log" & pids+=($!); pid_tls=$!
wait_serving "$p_plain"
wait_serving "$p_tls" 60 -tls -tls-ca-cert="$work/pki/ca.pem" -tls-server-name=localhost
sleep 1

cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
hz=$(getconf CLK_TCK)
ts='{"time":"2026-12-01T13:00:00Z"}'

# run MODE PID PORT CONCURRENCY -> one table row, QPS also in $work/qps-MODE-C
run() {
  local mode=$1 pid=$2 port=$3 c=$4 out t0 t1
  local -a sec=(--insecure)
  if [ "$mode" = "TLS + token" ]; then
    sec=(--cacert "$work/pki/ca.pem" --cname localhost
         -m "{\"authorization\":\"Bearer $token\"}")
  fi
  out="$work/run.json"
  t0=$(cpu_ticks "$pid")
  taskset -c "$load_cpu" ghz "${sec[@]}" --proto "$WW_ROOT/proto/trainer.proto" \
    --import-paths "$WW_ROOT/proto,/usr/include" --call trainer.TrainerService.IsHourAvailable \
    -d "$ts" -c "$c" --connections $(( c > 1 ? 4 : 1 )) -z "${secs}s" --format json \
    127.0.0.1:"$port" >"$out"
  t1=$(cpu_ticks "$pid")
  python3 - "$out" "$mode" "$c" "$(( t1 - t0 ))" "$hz" "$secs" "$work/qps-${mode// /}-$c" <<'PY'
import json, sys
out, mode, c, ticks, hz, secs, qps_file = sys.argv[1:]
r = json.load(open(out))
lat = {d["percentage"]: d["latency"] for d in r.get("latencyDistribution") or []}
codes = r.get("statusCodeDistribution") or {}
ok = codes.get("OK", 0)
total = sum(codes.values())  # the non-OK ones: calls in flight when ghz stops
cpu = 100.0 * int(ticks) / int(hz) / float(secs)
per_core = r["rps"] / (cpu / 100.0) if cpu > 0 else 0
with open(qps_file, "a") as f:
    f.write("%f\n" % r["rps"])
print("| %s | %s | %.0f | %.0f | %.0f | %.0f%% | %.0f | %d/%d |" % (
    mode, c, r["rps"], lat.get(50, 0) / 1000, lat.get(99, 0) / 1000, cpu,
    per_core, ok, total))
PY
}

echo "trainer on CPU $server_cpu, ghz on CPU $load_cpu, ${secs}s per row, $rounds rounds, $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| IsHourAvailable | concurrency | QPS | p50 µs | p99 µs | server CPU | QPS per server core | OK/total |"
echo "|---|---|---|---|---|---|---|---|"
for c in 1 "$sat"; do
  for _ in $(seq "$rounds"); do
    run "plaintext" $pid_plain $p_plain "$c"
    run "TLS + token" $pid_tls $p_tls "$c"
  done
done
echo
for c in 1 "$sat"; do
  python3 - "$work/qps-plaintext-$c" "$work/qps-TLS+token-$c" "$c" <<'PY'
import sys
plain = [float(x) for x in open(sys.argv[1])]
tls = [float(x) for x in open(sys.argv[2])]
p, t = sum(plain) / len(plain), sum(tls) / len(tls)
print("concurrency %s: TLS + token / plaintext = %.2f (mean QPS %.0f / %.0f)" % (sys.argv[3], t / p, t, p))
PY
done
if grep -q 'status=UNAUTHENTICATED' "$work/tls.log"; then echo "error: refused calls, see $work/tls.log" >&2; exit 1; fi
echo
echo "Cold verification (distinct tokens, bench_auth):"
"$build/bench/auth/bench_auth" cold | grep '^bench auth' || true
