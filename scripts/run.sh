#!/usr/bin/env bash
# The main job: builds if needed, then runs the whole system on the embedded
# default until Ctrl-C:
#   - one in-process Kafka (librdkafka's mock cluster) unless KAFKA_BROKERS is
#     set, its address given to every process started here,
#   - the trainer and users services in local mode (GRPC_NO_TLS=true),
#   - the demo fixtures loaded through them (wwctl fixtures: 30 days of
#     hours, a few users with credits); the saga played once, with its
#     output (a booking PENDING, then SCHEDULED, a credit spent); then
#     example calls to try: the same, and a user without credits REJECTED
#     with the hour free again.
# Addresses: TRAINER_GRPC_ADDR (default 127.0.0.1:3000), USERS_GRPC_ADDR
# (default 127.0.0.1:3001); their Prometheus metrics (WW_METRICS_ADDR of each
# service) on TRAINER_METRICS_ADDR (default 127.0.0.1:9464) and
# USERS_METRICS_ADDR (default 127.0.0.1:9465), printed with the rest.
# WW_BUILD_DIR: the build to use (default build/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

"$here/bootstrap.sh" --run   # what building and running need, no test tools
build=${WW_BUILD_DIR:-$WW_ROOT/build}
[ -f "$build/build.ninja" ] || cmake -S "$WW_ROOT" -B "$build" -G Ninja -DWW_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" >/dev/null || cmake --build "$build"

export GRPC_NO_TLS=true
export WW_LOG_LEVEL=${WW_LOG_LEVEL:-warn}  # no line per call in the terminal
export TRAINER_GRPC_ADDR=${TRAINER_GRPC_ADDR:-127.0.0.1:3000}
export USERS_GRPC_ADDR=${USERS_GRPC_ADDR:-127.0.0.1:3001}
TRAINER_METRICS_ADDR=${TRAINER_METRICS_ADDR:-127.0.0.1:9464}
USERS_METRICS_ADDR=${USERS_METRICS_ADDR:-127.0.0.1:9465}
export WW_TOPIC_PREFIX=${WW_TOPIC_PREFIX:-}

pids=() broker_pid=
# The services stop first, while the embedded broker still answers them:
# with it gone, each one's Kafka clients would wait out their timeouts.
stop() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  [ ${#pids[@]} -gt 0 ] && wait "${pids[@]}" 2>/dev/null || true
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ww_log "stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

binary() { local p="$build/$1"; [ -x "$p" ] && echo "$p"; }

if [ -z "${KAFKA_BROKERS:-}" ]; then
  embedded=$(binary tools/ww-embedded-kafka) || { ww_log "missing: tools/ww-embedded-kafka (the embedded broker)"; exit 1; }
  fifo=$(mktemp -u); mkfifo "$fifo"
  "$embedded" >"$fifo" &
  broker_pid=$!
  read -r KAFKA_BROKERS <"$fifo"; rm -f "$fifo"
  export KAFKA_BROKERS
  ww_log "embedded Kafka (librdkafka mock cluster) at $KAFKA_BROKERS: no transaction markers, so exactly-once holds on a real broker only"
else
  ww_log "using Kafka at $KAFKA_BROKERS"
fi

started=()
for svc in trainer users; do
  if bin=$(binary "services/$svc/$svc"); then
    var="$(echo "$svc" | tr a-z A-Z)_GRPC_ADDR"
    mvar="$(echo "$svc" | tr a-z A-Z)_METRICS_ADDR"
    WW_LISTEN_ADDR=${!var} WW_METRICS_ADDR=${!mvar} WW_INSTANCE_ID=$svc-1 "$bin" &
    pids+=($!); started+=("$svc at ${!var}, metrics at http://${!mvar}/metrics")
  else
    ww_log "missing: the $svc service is not built yet (services/$svc)"
  fi
done
[ ${#started[@]} -gt 0 ] || { ww_log "no service to run yet"; exit 1; }

wwctl="$build/tools/wwctl"
# The services answer once their read models caught up; then the demo data.
for _ in $(seq 1 120); do
  "$wwctl" health trainer >/dev/null 2>&1 && "$wwctl" health users >/dev/null 2>&1 && break
  sleep 0.5
done
"$wwctl" --timeout-ms 30000 fixtures || { ww_log "loading the demo fixtures failed"; exit 1; }

# Tomorrow 14:00 and 15:00 UTC are open in the demo fixtures (two slots of
# three are), 16:00 of the day after too.
hour=$(date -u -d tomorrow +%Y-%m-%dT14:00:00Z)
other=$(date -u -d tomorrow +%Y-%m-%dT15:00:00Z)
booking=$(cat /proc/sys/kernel/random/uuid) broke=$(cat /proc/sys/kernel/random/uuid)
# The saga once, played here as a user would see it: demo-bartek books the
# day after tomorrow, 16:00; the booking is held PENDING until users has
# spent the credit, then SCHEDULED, and the balance is one less.
show() { printf '  $ wwctl %s\n' "$*"; "$wwctl" "$@" 2>&1 | sed 's/^/      /' || true; }
saga_hour=$(date -u -d '2 days' +%Y-%m-%dT16:00:00Z)
saga=$(cat /proc/sys/kernel/random/uuid)
echo
echo "The saga, played once:"
show users get-balance demo-bartek
show trainings schedule "$saga" demo-bartek "$saga_hour" played-by-run.sh
show trainings get "$saga"
for _ in $(seq 1 100); do
  "$wwctl" trainings get "$saga" 2>/dev/null | grep -q 'status=PENDING' || break
  sleep 0.1
done
show trainings get "$saga"
show users get-balance demo-bartek

cat <<MSG

Wild Workouts is running (Ctrl-C to stop):
$(printf '  %s\n' "${started[@]}")
  Kafka   at $KAFKA_BROKERS

Try, in another terminal:
  export TRAINER_GRPC_ADDR=$TRAINER_GRPC_ADDR USERS_GRPC_ADDR=$USERS_GRPC_ADDR GRPC_NO_TLS=true
  $wwctl users get-balance demo-anna
  $wwctl trainer is-hour-available $hour
  $wwctl trainings schedule $booking demo-anna $hour "first session"
  $wwctl trainings get $booking
  $wwctl users get-balance demo-anna
  $wwctl trainings schedule $broke nobody $other
  $wwctl trainings get $broke
  $wwctl trainer is-hour-available $other

The booking is PENDING until users has spent the credit, then SCHEDULED
(a moment later: ask again), and demo-anna has one credit less; "nobody" has
no credits, so that training ends REJECTED and its hour is free again.

MSG
wait -n "${pids[@]}" ${broker_pid:+"$broker_pid"}
ww_log "a process exited; stopping the rest"
