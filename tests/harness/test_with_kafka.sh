#!/usr/bin/env bash
# The broker harness must always stop its broker: when the command fails (its
# exit code passes through) and when the run is interrupted.
set -uo pipefail
root=$1
unset KAFKA_BROKERS WW_KAFKA_DIR
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed+1)); else echo "FAIL: $1" >&2; failed=$((failed+1)); fi; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# 1. A failing command: its code comes back, the broker is gone.
out=$(mktemp)
"$root/scripts/with-kafka.sh" bash -c 'echo "$WW_KAFKA_DIR $(cat "$WW_KAFKA_DIR/pid") $KAFKA_BROKERS"; exit 7' >"$out"
rc=$?
read -r dir pid brokers <"$out"
check "exit code of the command passes through (got $rc)" '[ "$rc" = 7 ]'
check "a broker address was given ($brokers)" '[[ "$brokers" == 127.0.0.1:* ]]'
check "broker process $pid stopped after failure" '! alive "$pid"'
check "data dir $dir removed" '[ ! -e "$dir" ]'

# 2. Interrupted (SIGTERM) while the command runs.
"$root/scripts/with-kafka.sh" bash -c 'echo "$WW_KAFKA_DIR $(cat "$WW_KAFKA_DIR/pid")"; sleep 120' >"$out" &
runner=$!
for _ in $(seq 1 120); do [ -s "$out" ] && break; sleep 0.5; done
read -r dir pid <"$out"
check "broker $pid running during the command" 'alive "$pid"'
kill -TERM "$runner"; wait "$runner"; rc=$?
check "interrupted run exits non-zero (got $rc)" '[ "$rc" -ne 0 ]'
check "broker process $pid stopped after SIGTERM" '! alive "$pid"'
check "data dir $dir removed after SIGTERM" '[ ! -e "$dir" ]'
rm -f "$out"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
