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
  local steps sim
  steps=$(sed -n 's/.*"steps_executed": \([0-9.e+]*\).*/\1/p' "$out/$name/summary.json")
  sim=$(sed -n 's/.*"sim_time_s": \([0-9.e+]*\).*/\1/p' "$out/$name/summary.json")
  printf '| %s | %.0f | %.0f | %.2f | %.1f | %.0f |\n' "$name" "$sim" "$steps" "$wall" "$((rss_kb / 1024))" \
    "$(awk -v s="$steps" -v w="$wall" 'BEGIN { print (w > 0 ? s / w : 0) }')"
}

{
  echo "# kvsim benchmark results"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), kvsim $("$kvsim" --version)."
  echo
  echo "| benchmark | simulated s | forward steps | wall s | peak RSS MiB | steps per wall s |"
  echo "|---|---|---|---|---|---|"
  run paper-8gpu-200users-1h scenarios/bench/paper-8gpu-200users.yaml
  run paper-1gpu-25users-1h scenarios/bench/paper-8gpu-200users.yaml --set hardware.count=1 --set workload.arrival.users=25
  run paper-2gpu-50users-1h scenarios/bench/paper-8gpu-200users.yaml --set hardware.count=2 --set workload.arrival.users=50
  run paper-4gpu-100users-1h scenarios/bench/paper-8gpu-200users.yaml --set hardware.count=4 --set workload.arrival.users=100
  run paper-8gpu-200users-4h scenarios/bench/paper-8gpu-200users.yaml --set workload.duration=4h
} | tee bench/results.md
