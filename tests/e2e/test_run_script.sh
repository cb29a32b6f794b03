#!/usr/bin/env bash
# The README's run command as a new user meets it: on the embedded default
# it brings both services up, the example calls it prints work (an open hour
# is booked and then no longer free), and SIGTERM stops everything.
set -uo pipefail
root=$1 build=$2
unset KAFKA_BROKERS
source "$root/tests/support/ww_test_proc.sh" # free_port
export TRAINER_GRPC_ADDR=127.0.0.1:$(free_port) USERS_GRPC_ADDR=127.0.0.1:$(free_port)
export WW_BUILD_DIR=$build WW_TOPIC_PREFIX=run-test-$$.
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed+1)); else echo "FAIL: $1" >&2; failed=$((failed+1)); fi; }

log=$(mktemp)
"$root/scripts/run.sh" >"$log" 2>&1 &
runner=$!
for _ in $(seq 1 240); do grep -q 'is running' "$log" && break; kill -0 $runner 2>/dev/null || break; sleep 0.5; done
check "run.sh says the system is running" 'grep -q "is running" "$log"'
check "run.sh started the embedded Kafka" 'grep -q "embedded Kafka" "$log"'
check "both services are listed" 'grep -q "trainer at $TRAINER_GRPC_ADDR" "$log" && grep -q "users at $USERS_GRPC_ADDR" "$log"'

# The example calls exactly as printed.
mapfile -t calls < <(grep -E '^ +/.*/wwctl ' "$log" | sed 's/^ *//')
check "three example calls printed (got ${#calls[@]})" '[ ${#calls[@]} = 3 ]'
export GRPC_NO_TLS=true
out1=$(eval "${calls[0]}" 2>/dev/null); out2=$(eval "${calls[1]}" 2>/dev/null); out3=$(eval "${calls[2]}" 2>/dev/null)
out4=$(eval "${calls[0]}" 2>/dev/null)
check "the example hour is open ($out1)" '[ "$out1" = is_available=true ]'
check "the example training is scheduled ($out2)" '[ "$out2" = ok ]'
check "the demo user has credits ($out3)" '[[ "$out3" == amount=* ]] && [ "${out3#amount=}" -gt 0 ]'
check "the booked hour is no longer open ($out4)" '[ "$out4" = is_available=false ]'

kill -TERM $runner; wait $runner
check "run.sh stops on SIGTERM" '! kill -0 $runner 2>/dev/null'
sleep 0.5
check "the trainer port is closed again" '! (exec 3<>/dev/tcp/${TRAINER_GRPC_ADDR%:*}/${TRAINER_GRPC_ADDR#*:}) 2>/dev/null'
[ "$failed" = 0 ] || cat "$log" >&2
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
