#!/usr/bin/env bash
# On-demand benchmarks (not run in CI): wall time, peak RSS and simulated steps per second of kvsim runs.
# Writes bench/results.md. Usage: bench/run.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kvsim="$build/sim/kvsim"
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run NAME SCENARIO [--set ...]: one row of the results table
run() {
  local name=$1 scenario=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$out/time" "$kvsim" run "$scenario" --quiet --out "$out/$name" "$@"
  read -r wall rss_kb < "$out/time"
  local steps sim acts
  steps=$(sed -n 's/.*"steps_executed": \([0-9.e+]*\).*/\1/p' "$out/$name/summary.json")
  acts=$(sed -n 's/.*"step_activities": \([0-9.e+]*\).*/\1/p' "$out/$name/summary.json")
  sim=$(sed -n 's/.*"sim_time_s": \([0-9.e+]*\).*/\1/p' "$out/$name/summary.json")
  printf '| %s | %.0f | %.0f | %.0f | %.2f | %.1f | %.0f |\n' "$name" "$sim" "$steps" "$acts" "$wall" \
    "$((rss_kb / 1024))" "$(awk -v s="$steps" -v w="$wall" 'BEGIN { print (w > 0 ? s / w : 0) }')"
}

bench=scenarios/bench/paper-8gpu-200users.yaml
{
  echo "# kvsim benchmark results"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), kvsim $("$kvsim" --version). Fast-forward is on unless a row"
  echo "says off."
  echo
  echo "| benchmark | simulated s | forward steps | step activities | wall s | peak RSS MiB | steps per wall s |"
  echo "|---|---|---|---|---|---|---|"
  run paper-8gpu-200users-1h "$bench"
  run paper-8gpu-200users-1h-ff-off "$bench" --set scheduler.fast_forward=false
  run paper-8gpu-200users-1d "$bench" --set workload.duration=1d
  run paper-1gpu-25users-1h "$bench" --set hardware.count=1 --set workload.arrival.users=25
  run paper-2gpu-50users-1h "$bench" --set hardware.count=2 --set workload.arrival.users=50
  run paper-4gpu-100users-1h "$bench" --set hardware.count=4 --set workload.arrival.users=100
  run paper-8gpu-200users-2h "$bench" --set workload.duration=2h
  run paper-8gpu-200users-4h "$bench" --set workload.duration=4h
  run llama2-7b-10k-requests scenarios/bench/llama2-7b-10k-requests.yaml
  run llama2-7b-10k-requests-ff-off scenarios/bench/llama2-7b-10k-requests.yaml --set scheduler.fast_forward=false
  echo
  OUT="$out/sweep" bench/sweep.sh "$build" 2>/dev/null | tail -1
} | tee bench/results.md
