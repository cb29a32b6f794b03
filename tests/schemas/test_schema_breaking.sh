#!/usr/bin/env bash
# Proves scripts/schema-check.sh catches what it must and passes what it
# may, in throw-away git repositories holding a copy of buf.yaml, proto/
# and schemas/:
#   - a repository of one commit: nothing to compare, passes;
#   - the commit introducing buf.yaml, contracts unchanged: passes;
#   - a renumbered field in schemas/ (after the introduction): fails;
#   - a renumbered field in proto/: fails;
#   - the introducing commit itself renumbering a field: fails;
#   - a new field (compatible): passes;
#   - lint: a field name against the default rules in schemas/ fails.
#   test_schema_breaking.sh SOURCE_ROOT
set -euo pipefail
src=$(cd "$1" && pwd)
check="$src/scripts/schema-check.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.invalid
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.invalid

failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1" >&2; failures=$((failures + 1)); }

# expect_rc WANT NAME CMD...: WANT is "pass" or "fail"; the output is kept
# in $work/out for further checks.
expect() {
  local want=$1 name=$2; shift 2
  local rc=0
  "$@" >"$work/out" 2>&1 || rc=$?
  if { [ "$want" = pass ] && [ $rc -eq 0 ]; } ||
     { [ "$want" = fail ] && [ $rc -ne 0 ]; }; then
    pass "$name"
  else
    fail "$name (want $want, exit $rc)"; sed 's/^/    /' "$work/out" >&2
  fi
}

# A repository whose first commit has the contracts but no buf.yaml.
new_repo() {
  local r="$work/$1"
  mkdir -p "$r"
  git -C "$r" init -q
  cp -r "$src/proto" "$src/schemas" "$r/"
  find "$r/proto" "$r/schemas" -type f ! -name '*.proto' -delete
  git -C "$r" add -A
  git -C "$r" commit -qm "contracts"
  echo "$r"
}
commit() { git -C "$1" add -A && git -C "$1" commit -qm "$2"; }

common="schemas/wildworkouts/events/v1/common.proto"
grep -q 'int64 offset = 2;' "$src/$common" ||
  { echo "test premise: $common no longer has 'int64 offset = 2;'" >&2; exit 1; }
grep -q 'bool is_available = 1;' "$src/proto/trainer.proto" ||
  { echo "test premise: proto/trainer.proto changed" >&2; exit 1; }

r=$(new_repo single)
expect pass "one commit: nothing to compare" \
  bash -c "cd '$r' && '$check' breaking"

r=$(new_repo intro)
cp "$src/buf.yaml" "$r/"
commit "$r" "schema checks"
expect pass "introducing buf.yaml, contracts unchanged" \
  bash -c "cd '$r' && '$check' breaking"
expect pass "lint of the copied contracts" bash -c "cd '$r' && '$check' lint"

sed -i 's/int64 offset = 2;/int64 offset = 3;/' "$r/$common"
commit "$r" "renumber"
expect fail "renumbered field in schemas/" \
  bash -c "cd '$r' && '$check' breaking"
grep -q 'offset' "$work/out" || fail "the failure names the renumbered field"
git -C "$r" reset -q --hard HEAD~1

sed -i 's/bool is_available = 1;/bool is_available = 7;/' "$r/proto/trainer.proto"
commit "$r" "renumber a seed field"
expect fail "renumbered field in proto/" \
  bash -c "cd '$r' && '$check' breaking"
git -C "$r" reset -q --hard HEAD~1

sed -i 's/int64 offset = 2;/int64 offset = 2;\n  int32 attempt = 3;/' "$r/$common"
commit "$r" "add a field"
expect pass "a new field is compatible" bash -c "cd '$r' && '$check' breaking"
git -C "$r" reset -q --hard HEAD~1

sed -i 's/int64 offset = 2;/int64 offset = 2;\n  int32 badName = 3;/' "$r/$common"
expect fail "lint: a camelCase field in schemas/" \
  bash -c "cd '$r' && '$check' lint"
git -C "$r" checkout -q -- .

r=$(new_repo intro-breaking)
cp "$src/buf.yaml" "$r/"
sed -i 's/int64 offset = 2;/int64 offset = 3;/' "$r/$common"
commit "$r" "schema checks, and a renumbered field"
expect fail "the introducing commit renumbers a field" \
  bash -c "cd '$r' && '$check' breaking"

if [ $failures -ne 0 ]; then echo "$failures case(s) failed" >&2; exit 1; fi
echo "all cases passed"
