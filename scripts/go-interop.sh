#!/usr/bin/env bash
# The grpc-go interop test: installs the pinned generators, generates Go stubs
# from proto/ into a copy of tests/interop/go under WORK_DIR (generated code
# is never committed), and runs `go test` against the given binaries.
#   scripts/go-interop.sh WORK_DIR TRAINER_BIN USERS_BIN [go test args]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
work=$(abs "$1") trainer=$(abs "$2") users=$(abs "$3"); shift 3

bin=$("$here/go-tools.sh")
command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
export PATH="$bin:$PATH"

rm -rf "$work"; mkdir -p "$work"
cp -r "$WW_ROOT/tests/interop/go/." "$work/"
m=()
# health: the test uses grpc-go's own grpc_health_v1 client instead.
for p in trainer users trainings; do
  m+=("--go_opt=M$p.proto=wwinterop/gen/$p" "--go-grpc_opt=M$p.proto=wwinterop/gen/$p")
done
protoc -I"$WW_ROOT/proto" -I/usr/include \
  --go_out="$work" --go_opt=module=wwinterop \
  --go-grpc_out="$work" --go-grpc_opt=module=wwinterop "${m[@]}" \
  trainer.proto users.proto trainings.proto
cd "$work"
TRAINER_BIN="$trainer" USERS_BIN="$users" go test -count=1 "$@" ./...
