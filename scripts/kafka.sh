#!/usr/bin/env bash
# A single-node KRaft broker (combined broker + controller) for tests.
#
#   scripts/kafka.sh start DIR   fresh data dir in DIR, free 127.0.0.1 ports;
#                                prints the bootstrap address when a librdkafka
#                                metadata round trip succeeds (kcat -L)
#   scripts/kafka.sh stop DIR    stops it (SIGTERM, then SIGKILL) and waits
#   scripts/kafka.sh restart DIR stops it and starts it again on the same
#                                ports and data dir (tests of broker restarts)
#
# Settings are test-friendly: no auto topic creation, no initial rebalance
# delay, replication 1 for the internal topics, and timed-out transactions
# aborted within seconds so a killed client's open transaction (and with it
# the last stable offset) moves on quickly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|restart DIR" >&2; exit 2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts the broker of $dir (already formatted) and waits for metadata.
launch() {
  local home jcp brokers
  home=$(ww_kafka_home)
  jcp="$home/libs/*"
  # setsid: the broker gets its own process group, so stop can kill it whole
  # and a Ctrl-C aimed at the test run does not reach it before the trap does.
  setsid java -Xms256m -Xmx768m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
       -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" \
       -Dkafka.log.file="$dir/kafka.log" \
       -cp "$jcp" kafka.Kafka "$dir/server.properties" >>"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  brokers="127.0.0.1:$port"
  for _ in $(seq 1 240); do
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "Kafka exited during start:" >&2; tail -30 "$dir/stdout.log" "$dir/kafka.log" >&2 || true; exit 1
    fi
    if kcat -L -b "$brokers" -m 2 >/dev/null 2>&1; then
      echo "$brokers" >"$dir/brokers"; echo "$brokers"; return 0
    fi
    sleep 0.5
  done
  echo "Kafka did not answer metadata within 120 s" >&2; "$0" stop "$dir"; exit 1
}

case "$cmd" in
start)
  home=$(ww_kafka_home)
  [ -f "$home/.complete" ] || { echo "Kafka jars missing in $home: run scripts/bootstrap.sh" >&2; exit 1; }
  rm -rf "$dir"; mkdir -p "$dir/data"
  port=$(free_port); cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
transaction.max.timeout.ms=900000
transaction.remove.expired.transaction.cleanup.interval.ms=60000
log.flush.interval.messages=9223372036854775807
PROPS
  jcp="$home/libs/*"
  java -cp "$jcp" kafka.tools.StorageTool format -t "$(java -cp "$jcp" kafka.tools.StorageTool random-uuid)" \
       -c "$dir/server.properties" >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
  launch
  ;;
stop)
  [ -f "$dir/pid" ] || exit 0
  pid=$(cat "$dir/pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
  ;;
restart)
  [ -f "$dir/server.properties" ] || { echo "no broker in $dir" >&2; exit 1; }
  "$0" stop "$dir"
  port=$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$dir/server.properties")
  launch
  ;;
*) echo "usage: $0 start|stop|restart DIR" >&2; exit 2 ;;
esac
