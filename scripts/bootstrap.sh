#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently.
#   scripts/bootstrap.sh         everything (the test command uses this):
#   - Debian packages (compilers, gRPC C core, protobuf-c, librdkafka, OpenSSL,
#     libcurl, jansson, libmicrohttpd, kcat, a JDK and Maven for the broker),
#   - the pinned Apache Kafka broker jars (scripts/kafka/pom.xml) into
#     $WW_CACHE/kafka-<version>/libs, outside the build tree,
#   - Python interop packages (pinned) into $WW_CACHE/venv,
#   - Go tools (pinned): protoc-gen-go(-grpc), grpc-health-probe and buf, into
#     $WW_CACHE/go/bin.
#   scripts/bootstrap.sh --run   only what building and running need (the
#                                run command uses this): the Debian build
#                                dependencies, no broker, Python, Go or test
#                                tools.
# A second run finds everything in place and does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

run_only=false
[ "${1:-}" = --run ] && run_only=true

debs=(
  build-essential cmake ninja-build pkg-config
  libgrpc-dev protobuf-compiler libprotobuf-dev
  protobuf-c-compiler libprotobuf-c-dev
  librdkafka-dev libssl-dev libcurl4-openssl-dev libjansson-dev
  libmicrohttpd-dev
)
$run_only || debs+=(
  clang-14 libclang-rt-14-dev protobuf-compiler-grpc
  kcat openssl python3 python3-venv openjdk-17-jre-headless maven clang-format-14
  nghttp2-client
)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  ww_log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

$run_only && exit 0

kafka_dir=$(ww_kafka_home)
if [ ! -f "$kafka_dir/.complete" ]; then
  ww_log "fetching Apache Kafka $WW_KAFKA_VERSION into $kafka_dir"
  rm -rf "$kafka_dir"; mkdir -p "$kafka_dir"
  mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$kafka_dir/libs" >"$kafka_dir/fetch.log" 2>&1 \
    || { cat "$kafka_dir/fetch.log" >&2; exit 1; }
  ls "$kafka_dir/libs/kafka_2.13-$WW_KAFKA_VERSION.jar" >/dev/null
  touch "$kafka_dir/.complete"
fi

venv="$WW_CACHE/venv"
req="$here/requirements.txt"
if [ ! -f "$venv/.complete" ] || ! cmp -s "$req" "$venv/.complete"; then
  ww_log "creating Python venv $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.complete"
fi

# Go tools (pinned, built with the machine's Go toolchain into the cache):
# the grpc-go interop client's code generators, the health probe the recovery
# test runs as Kubernetes would, and buf for the schema checks.
"$here/go-tools.sh" >/dev/null
"$here/buf.sh" --version >/dev/null
