#!/usr/bin/env bash
# Runs a command with a fresh real Kafka broker and always stops the broker
# afterwards (on success, failure, Ctrl-C or SIGTERM).
#   scripts/with-kafka.sh ctest --test-dir build
# The command sees KAFKA_BROKERS=127.0.0.1:<port>. An already set
# KAFKA_BROKERS is used as is and no broker is started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
if [ -n "${KAFKA_BROKERS:-}" ]; then exec "$@"; fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/ww-kafka.XXXXXX")
cleanup() { "$here/kafka.sh" stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
child=
# The command runs in the background so a signal is handled at once (bash
# defers traps until a foreground child ends); it is passed on to the command.
forward() { [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; exit "$1"; }
trap 'forward 130' INT
trap 'forward 143' TERM
start=$EPOCHREALTIME
KAFKA_BROKERS=$("$here/kafka.sh" start "$dir")
export KAFKA_BROKERS
ww_log "Kafka $WW_KAFKA_VERSION up at $KAFKA_BROKERS in $(python3 -c "import sys; print(round(float(sys.argv[1]) - float(sys.argv[2]), 1))" "$EPOCHREALTIME" "$start") s"
export WW_KAFKA_DIR=$dir
"$@" &
child=$!
wait "$child"
