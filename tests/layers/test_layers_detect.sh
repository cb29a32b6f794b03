#!/usr/bin/env bash
# The layer check itself: in a copy of the layer folders, each wrong include
# and each wrong link below must be reported, and the untouched copy must
# pass.
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for d in common schemas domain bus rpc auth services tools; do
  mkdir -p "$work/$d" && cp -r "$root/$d/." "$work/$d/"
done
python3 "$here/check_layers.py" "$work" >/dev/null

expect_refused() { # file, include line, text the report must contain
  local file=$1 line=$2 want=$3
  cp "$work/$file" "$work/$file.orig"
  printf '%s\n' "$line" >> "$work/$file"
  if out=$(python3 "$here/check_layers.py" "$work"); then
    echo "FAIL: '$line' in $file was not reported"; exit 1
  fi
  grep -qF "$want" <<<"$out" || { echo "FAIL: report lacks '$want':"; echo "$out"; exit 1; }
  mv "$work/$file.orig" "$work/$file"
  echo "ok: $file: $line"
}
expect_refused rpc/ww_rpc_server.c '#include "ww_auth_jwt.h"' 'rpc/ may not include "ww_auth_jwt.h"'
expect_refused rpc/ww_rpc_server.c '#include "trainer.pb-c.h"' 'rpc/ may not include "trainer.pb-c.h"'
expect_refused rpc/ww_rpc_call.c '#include "ww_host_serve.h"' 'belongs to services/host/'
expect_refused domain/ww_time.c '#include <librdkafka/rdkafka.h>' 'domain/ may not use <librdkafka/rdkafka.h>'
expect_refused domain/ww_ids.c '#include <grpc/grpc.h>' 'domain/ may not use <grpc/grpc.h>'
expect_refused domain/ww_users_domain.c '#include "ww_bus_config.h"' 'domain/ may not include "ww_bus_config.h"'
expect_refused auth/ww_auth_jwt.c '#include "ww_rpc_server.h"' 'auth/ may not include "ww_rpc_server.h"'
expect_refused bus/ww_bus_tail.c '#include "ww_trainer_domain.h"' 'bus/ may not include "ww_trainer_domain.h"'
expect_refused common/ww_log.c '#include "ww_bus_config.h"' 'common/ may not include'
expect_refused services/trainer/ww_trainer_grpc.c '#include "ww_users_grpc.h"' 'services/trainer/ may not include "ww_users_grpc.h"'
expect_refused domain/ww_canon.c '#include "no_such_header.h"' 'belongs to no layer folder'
expect_refused domain/ww_ids.c '#include "ww_log.h"' 'domain/ may include only ww_clock.h, ww_err.h, ww_rfc3339.h of common/, not "ww_log.h"'
expect_refused rpc/CMakeLists.txt 'target_link_libraries(ww_rpc PUBLIC ww_auth)' 'rpc/ may not link ww_auth (it belongs to auth/)'
expect_refused domain/CMakeLists.txt 'target_link_libraries(ww_domain PRIVATE PkgConfig::RDKAFKA)' 'domain/ may not link PkgConfig::RDKAFKA'
expect_refused auth/CMakeLists.txt 'target_link_libraries(ww_auth PUBLIC ww_trainer)' 'auth/ may not link ww_trainer (it belongs to services/trainer/)'
expect_refused bus/CMakeLists.txt 'target_link_libraries(ww_bus PUBLIC ww_nothing)' 'ww_nothing is built by no layer folder'
python3 "$here/check_layers.py" "$work" >/dev/null
echo "every wrong include and link was reported"
