# ww_test_proc.sh - ports for shell tests and benchmarks (source it), the
# shell side of ww_test_proc.h.
#   free_port          prints a TCP port on 127.0.0.1 that was free a moment
#                      ago (the kernel picked it; use it soon)
#   wait_port PORT [S] returns once 127.0.0.1:PORT accepts a connection, or
#                      fails after S seconds (default 10) saying so
#   wait_serving PORT [S] [PROBE ARGS]
#                      returns once grpc-health-probe (scripts/go-tools.sh)
#                      finds 127.0.0.1:PORT SERVING, or fails after S seconds
#                      (default 60) saying so: a service listens at once and
#                      serves once its read model caught up. PROBE ARGS go to
#                      the probe (-tls -tls-ca-cert ...). Needs WW_CACHE
#                      (scripts/lib.sh).

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  local port=$1 tries=$(( ${2:-10} * 20 ))
  for _ in $(seq "$tries"); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $port never opened" >&2
  return 1
}

wait_serving() {
  local port=$1 tries=$(( ${2:-60} * 10 ))
  local probe="${WW_CACHE:?source scripts/lib.sh first}/go/bin/grpc-health-probe"
  shift; [ $# -gt 0 ] && shift
  [ -x "$probe" ] || { echo "grpc-health-probe missing: run scripts/go-tools.sh" >&2; return 1; }
  for _ in $(seq "$tries"); do
    "$probe" -addr=127.0.0.1:"$port" "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "127.0.0.1:$port never served" >&2
  return 1
}
