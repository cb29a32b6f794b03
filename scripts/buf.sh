#!/usr/bin/env bash
# Runs the pinned buf (schema lint and breaking-change checks), installing it
# into $WW_CACHE/go/bin first if missing. Needs a Go toolchain (go >= 1.24)
# on PATH or in /usr/local/go/bin. Arguments go to buf unchanged:
#   scripts/buf.sh lint
# A lock keeps concurrent test runs from building it twice at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

BUF=github.com/bufbuild/buf/cmd/buf@v1.75.0

bin="$WW_CACHE/go/bin"
mkdir -p "$bin"
stamp="$bin/.buf-version"
if [ ! -x "$bin/buf" ] || [ ! -f "$stamp" ] || ! grep -qxF "$BUF" "$stamp"; then
  exec 9>"$bin/.buf.lock"
  flock 9
  if [ ! -x "$bin/buf" ] || [ ! -f "$stamp" ] || ! grep -qxF "$BUF" "$stamp"; then
    if ! command -v go >/dev/null 2>&1; then
      if [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH
      else echo "buf.sh: no Go toolchain found (need go >= 1.24)" >&2; exit 1; fi
    fi
    ww_log "installing $BUF"
    GOBIN="$bin" go install "$BUF"
    echo "$BUF" >"$stamp"
  fi
  exec 9>&-
fi
exec "$bin/buf" "$@"
