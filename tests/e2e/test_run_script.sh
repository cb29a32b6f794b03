#!/usr/bin/env bash
# The README's run command as a new user meets it: on the embedded default
# it brings both services up and loads the demo data, plays the saga once
# and shows it (PENDING, SCHEDULED, one credit spent), the example calls it
# prints show the saga (a booking PENDING then SCHEDULED with one credit
# spent; a user without credits REJECTED and the hour free again), and
# SIGTERM stops everything, the services before the embedded broker.
set -uo pipefail
root=$1 build=$2
unset KAFKA_BROKERS
source "$root/tests/support/ww_test_proc.sh" # free_port
export TRAINER_GRPC_ADDR=127.0.0.1:$(free_port) USERS_GRPC_ADDR=127.0.0.1:$(free_port)
export TRAINER_METRICS_ADDR=127.0.0.1:$(free_port) USERS_METRICS_ADDR=127.0.0.1:$(free_port)
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
# The metrics URLs as printed answer with the text format.
mapfile -t urls < <(grep -oE 'metrics at http://[^ ]+/metrics' "$log" | sed 's/^metrics at //')
check "two metrics URLs printed (got ${#urls[@]})" '[ ${#urls[@]} = 2 ] && [ "${urls[0]}" = "http://$TRAINER_METRICS_ADDR/metrics" ] && [ "${urls[1]}" = "http://$USERS_METRICS_ADDR/metrics" ]'
scrape() { python3 -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())" "$1"; }
for u in "${urls[@]}"; do
  text=$(scrape "$u")
  check "$u serves grpc_server_started_total" 'grep -q "^# TYPE grpc_server_started_total counter" <<<"$text"'
done

# The saga run.sh plays itself: PENDING right after the booking, then
# SCHEDULED, and demo-bartek (5 credits in the fixtures) pays one.
played=$(sed -n '/^The saga, played once:/,/^$/p' "$log")
check "run.sh plays the saga" '[ -n "$played" ]'
check "the played booking is answered ok" 'grep -qx "      ok" <<<"$played"'
check "the played booking ends SCHEDULED" '[[ "$(grep status= <<<"$played" | tail -1)" == *status=SCHEDULED* ]]'
check "the played balance goes 5 -> 4" '[ "$(grep -o "amount=[0-9]*" <<<"$played" | tr "\n" " ")" = "amount=5 amount=4 " ]'

# The example calls exactly as printed: the saga, as a new user sees it.
mapfile -t calls < <(grep -E '^ +/.*/wwctl ' "$log" | sed 's/^ *//')
check "eight example calls printed (got ${#calls[@]})" '[ ${#calls[@]} = 8 ]'
check "the demo fixtures were loaded" 'grep -q "fixtures: [1-9][0-9]* hours available" "$log"'
export GRPC_NO_TLS=true
run() { eval "${calls[$1]}" 2>/dev/null; }
# again: eventually equal to $2 (the saga runs on Kafka after the call)
settles() { local i out; for i in $(seq 1 100); do out=$(run "$1"); [[ "$out" == *"$2"* ]] && return 0; sleep 0.1; done; echo "got: $out" >&2; return 1; }
before=$(run 0); open=$(run 1); booked=$(run 2)
check "the demo user has credits ($before)" '[[ "$before" == amount=* ]] && [ "${before#amount=}" -gt 0 ]'
check "the example hour is open ($open)" '[ "$open" = is_available=true ]'
check "the example training is booked ($booked)" '[ "$booked" = ok ]'
check "the booking settles SCHEDULED" 'settles 3 status=SCHEDULED'
check "the demo user paid one credit" 'settles 4 "amount=$(( ${before#amount=} - 1 ))"'
check "the booked hour is no longer open" '[ "$(run 1)" = is_available=false ]'
check "a user without credits can book" '[ "$(run 5)" = ok ]'
check "that training ends REJECTED" 'settles 6 status=REJECTED'
check "and its hour is free again" 'settles 7 is_available=true'

kill -TERM $runner; wait $runner
check "run.sh stops on SIGTERM" '! kill -0 $runner 2>/dev/null'
sleep 0.5
check "the trainer port is closed again" '! (exec 3<>/dev/tcp/${TRAINER_GRPC_ADDR%:*}/${TRAINER_GRPC_ADDR#*:}) 2>/dev/null'
check "the users port is closed again" '! (exec 3<>/dev/tcp/${USERS_GRPC_ADDR%:*}/${USERS_GRPC_ADDR#*:}) 2>/dev/null'
[ "$failed" = 0 ] || cat "$log" >&2
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
