#!/usr/bin/env bash
# Shows that a change leaves every scenario's outputs byte-identical: runs each scenario in scenarios/ with two
# kvsim binaries (or against outputs saved earlier) and compares summary.json, sessions.csv, rounds.csv and
# transfers.csv with cmp. Exits 1 and names the files on any difference.
#
# Usage: scripts/same-outputs.sh save DIR [BUILD]      run every scenario with BUILD/sim/kvsim, keep outputs in DIR
#        scripts/same-outputs.sh check DIR [BUILD]     run them again and compare with DIR
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: same-outputs.sh save|check DIR [BUILD]}
dir=${2:?usage: same-outputs.sh save|check DIR [BUILD]}
kvsim=${3:-build}/sim/kvsim
[ -x "$kvsim" ] || { echo "no kvsim at $kvsim: build first" >&2; exit 2; }
files="summary.json sessions.csv rounds.csv transfers.csv"
# summary.json names the version (git describe), which differs between any two commits by design.
strip() { grep -v '"kvsim_version"' "$1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
count=0
for scenario in $(find scenarios -name '*.yaml' | sort); do
  name=$(echo "${scenario#scenarios/}" | tr / _)
  name=${name%.yaml}
  out="$tmp/$name"
  [ "$mode" = save ] && out="$dir/$name"
  rm -rf "$out"
  if ! "$kvsim" run "$scenario" --quiet --out "$out" > "$tmp/log" 2>&1; then
    echo "FAILED to run $scenario:" >&2
    cat "$tmp/log" >&2
    status=1
    continue
  fi
  count=$((count + 1))
  [ "$mode" = save ] && continue
  for f in $files; do
    if [ "$f" = summary.json ]; then
      cmp -s <(strip "$dir/$name/$f") <(strip "$out/$f") || { echo "DIFFERS: $scenario $f"; status=1; }
    else
      cmp -s "$dir/$name/$f" "$out/$f" || { echo "DIFFERS: $scenario $f"; status=1; }
    fi
  done
done
echo "$mode: $count scenarios, status $status"
exit $status
