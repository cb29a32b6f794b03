#!/usr/bin/env bash
# The write path against its floor, in one run on the broker in
# KAFKA_BROKERS (scripts/with-kafka.sh bench/saga.sh):
#   1. bench_bare_txn: a bare transactional loop in plain librdkafka with the
#      services' batching, under 1, 16 and 64 concurrent callers;
#   2. bench_schedule: TrainingsService.ScheduleTraining on one trainer and
#      one users instance (release build, WW_LOG_LEVEL=warn), at 1, 16 and
#      64 callers, with PENDING -> SCHEDULED read from trainer.events.
# Env: BENCH_SECONDS (5 per row), WW_LOG_LEVEL (warn; at info the services
# print each processor's commits and records when they stop, shown at the
# end, at the cost of a log line per call). Needs build/ with the benchmarks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lib.sh"
source "$WW_ROOT/tests/support/ww_test_proc.sh" # free_port, wait_serving
"$WW_ROOT/scripts/go-tools.sh" >/dev/null        # grpc-health-probe
build=${WW_BUILD_DIR:-$WW_ROOT/build}
secs=${BENCH_SECONDS:-5}
: "${KAFKA_BROKERS:?run through scripts/with-kafka.sh}"
work="$build/bench-run/saga"
rm -rf "$work"; mkdir -p "$work"

echo "### Bare transactional loop (plain librdkafka)"
"$build/bench/bench_bare_txn" "$secs" 1 16 64

export WW_TOPIC_PREFIX="bench-saga-$$." GRPC_NO_TLS=true WW_LOG_LEVEL=${WW_LOG_LEVEL:-warn}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true' EXIT
tp=$(free_port); up=$(free_port)
WW_INSTANCE_ID=bench-trainer WW_LISTEN_ADDR=127.0.0.1:$tp \
  "$build/services/trainer/trainer" 2>"$work/trainer.log" & pids+=($!)
WW_INSTANCE_ID=bench-users WW_LISTEN_ADDR=127.0.0.1:$up \
  "$build/services/users/users" 2>"$work/users.log" & pids+=($!)
wait_serving "$tp" 120 && wait_serving "$up" 120
echo
echo "### ScheduleTraining through the log"
"$build/bench/bench_schedule" 127.0.0.1:$tp 127.0.0.1:$up "$secs" 1 16 64
kill -TERM "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
pids=()
if grep -q "stopped commits=" "$work"/*.log; then
  echo
  echo "### Processors at stop (whole run, setup included)"
  grep -ho "txn_id=[^ ]* stopped commits=[0-9]* records=[0-9]* produced=[0-9]*" \
    "$work"/*.log
fi
