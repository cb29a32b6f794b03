#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a real Kafka
# broker, runs the whole suite with ctest, stops the broker.
#   scripts/test.sh              build/       (warnings are errors)
#   scripts/test.sh --sanitize   build-asan/  ASan + UBSan, without label `slow`
# Extra arguments after `--` go to ctest (e.g. -- -R smoke).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

build="$WW_ROOT/build"; cmake_args=(); ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) build="$WW_ROOT/build-asan"; cmake_args+=(-DWW_SANITIZE=ON); ctest_args+=(-LE slow) ;;
    --) shift; ctest_args+=("$@"); break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

"$here/bootstrap.sh"
cmake -S "$WW_ROOT" -B "$build" -G Ninja -DWW_WERROR=ON -DWW_BUILD_TESTS=ON \
  -DWW_VENV_PYTHON="$WW_CACHE/venv/bin/python" "${cmake_args[@]}" >/dev/null
cmake --build "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$WW_ROOT/tests/support/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$here/with-kafka.sh" ctest --test-dir "$build" --output-on-failure -j2 "${ctest_args[@]}"
