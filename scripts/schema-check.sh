#!/usr/bin/env bash
# The schema checks CI runs, over the buf workspace (buf.yaml: proto/ and
# schemas/) of the git repository containing the current directory:
#   scripts/schema-check.sh lint
#   scripts/schema-check.sh breaking [REF]   (REF: default HEAD~1)
# `breaking` compares the working tree with the commit REF, checked out into
# a temporary directory. When REF has no buf.yaml yet (the checks are being
# introduced), each module directory that REF already had is compared on its
# own with buf's defaults, so even the introducing commit cannot slip in a
# breaking change. When REF does not exist (a repository's first commit)
# there is nothing to compare and the check passes, saying so; in a shallow
# clone that lacks REF it fails instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
buf="$here/buf.sh"

root=$(git rev-parse --show-toplevel)
cd "$root"
modules=(proto schemas)

case "${1:-}" in
  lint)
    exec "$buf" lint
    ;;
  breaking)
    ref=${2:-HEAD~1}
    if ! git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
      if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
        # Passing here would let any change through unchecked.
        echo "schema-check: $ref is not in this shallow clone; fetch the" \
             "history (git fetch --unshallow) to compare" >&2
        exit 1
      fi
      echo "schema-check: no commit $ref to compare with; nothing can break"
      exit 0
    fi
    base=$(mktemp -d)
    trap 'rm -rf "$base"' EXIT
    git archive "$ref" | tar -x -C "$base"
    if [ -f "$base/buf.yaml" ]; then
      "$buf" breaking --against "$base"
    else
      for m in "${modules[@]}"; do
        if [ -d "$base/$m" ]; then
          "$buf" breaking "$m" --against "$base/$m"
        else
          echo "schema-check: $m is new since $ref; nothing can break"
        fi
      done
    fi
    echo "schema-check: no breaking change against $ref"
    ;;
  *)
    echo "usage: $0 lint | breaking [REF]" >&2
    exit 2
    ;;
esac
