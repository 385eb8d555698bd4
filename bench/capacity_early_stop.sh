#!/usr/bin/env bash
# On-demand benchmark (not in CI) of issue 17's early stop: the capacity search a new user tries for Llama-3-70B
# with 128K-token documents on 8 H100s, tensor parallelism 4 against 8, 10 simulated hours per run
# (scenarios/capacity/llama3-70b-128k-8xh100.yaml), once with the early stop and once without (--no-early-stop).
# Prints both wall times, both answers (capacity.csv), and whether they are the same; leaves the searches in
# $OUT-on and $OUT-off (default out/bench-capacity-early-stop-{on,off}). SKIP_OFF=1 runs only the early-stop search.
#
#   bench/capacity_early_stop.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kvsim="$build/sim/kvsim"
out=${OUT:-out/bench-capacity-early-stop}
slo=${SLO:-ttft_p90=30s,decode_rate_p50=6tok/s}
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }

search() {  # search NAME [FLAGS...]: runs the search into $out-NAME, prints its wall time
  local name=$1
  shift
  rm -rf "$out-$name"
  local start end
  start=$(date +%s.%N)
  "$kvsim" capacity scenarios/capacity/llama3-70b-128k-8xh100.yaml --slo "$slo" \
    --param hardware.tensor_parallel=4,8 --horizon 10h --jobs 2 --out "$out-$name" "$@" > "$out-$name.txt"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$name" -v p="$(tail -n +2 "$out-$name/probes.csv" | wc -l)" \
    'BEGIN { printf "early stop %s: %.1f s wall, %d probes\n", n, e - s, p }'
  cat "$out-$name.txt"
}

answer() {  # the answer: capacity.csv but the interval's high end (column 6), which the early stop can lower, and
  # the probe count (last), which follows it
  awk -F, -v OFS=, '{ $6 = ""; $NF = ""; print }' "$1"
}

mkdir -p "$(dirname "$out")"
search on
[ "${SKIP_OFF:-0}" = 1 ] && exit 0
search off --no-early-stop
if diff <(answer "$out-on/capacity.csv") <(answer "$out-off/capacity.csv") > /dev/null; then
  echo "same answer with and without the early stop:"
  answer "$out-on/capacity.csv"
  echo "interval high ends (max_rate_ci_high_per_hour), with and without:"
  cut -d, -f6 "$out-on/capacity.csv" | paste -d' ' - <(cut -d, -f6 "$out-off/capacity.csv")
else
  echo "DIFFERENT answers:"
  diff <(answer "$out-on/capacity.csv") <(answer "$out-off/capacity.csv") || true
  exit 1
fi
