#!/usr/bin/env bash
# Installs the pinned Go code generators (protoc-gen-go, protoc-gen-go-grpc),
# grpc-health-probe (the probe Kubernetes runs against grpc.health.v1; the
# recovery test uses it), grpcurl (the reflection tests call the services
# with it, without .proto files) and the load generator ghz into
# $WW_CACHE/go/bin, idempotently, and prints that directory. Needs a Go
# toolchain (go >= 1.24) on PATH or in /usr/local/go/bin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
HEALTH_PROBE=github.com/grpc-ecosystem/grpc-health-probe@v0.4.62
GRPCURL=github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
GHZ=github.com/bojand/ghz/cmd/ghz@v0.121.0

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH
  else echo "go-tools: no Go toolchain found (need go >= 1.24)" >&2; exit 1; fi
fi
bin="$WW_CACHE/go/bin"
mkdir -p "$bin"
stamp="$bin/.versions"
want="$PROTOC_GEN_GO $PROTOC_GEN_GO_GRPC $HEALTH_PROBE $GRPCURL ${WW_GO_TOOLS_GHZ:+$GHZ}"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  ww_log "installing Go tools: $want"
  GOBIN="$bin" go install "$PROTOC_GEN_GO"
  GOBIN="$bin" go install "$PROTOC_GEN_GO_GRPC"
  GOBIN="$bin" go install "$HEALTH_PROBE"
  GOBIN="$bin" go install "$GRPCURL"
  if [ -n "${WW_GO_TOOLS_GHZ:-}" ]; then GOBIN="$bin" go install "$GHZ"; fi
  echo "$want" >"$stamp"
fi
echo "$bin"
