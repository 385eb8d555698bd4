#!/usr/bin/env bash
# On-demand benchmark (not in CI) of issue 6's sweep: the paper's running example (Yi-34B, 50K documents, one
# A100, 20 GB/s PCIe) under Poisson arrivals from 1 to 40 sessions per hour (40 points) x 2 offload policies
# (swap, recompute) = 80 runs of one simulated hour, --jobs 2, with the plots at the end. Prints the wall time,
# and leaves the sweep in $OUT (default out/bench-sweep) for `kvsim plot` and docs/sweeps.md.
#
#   bench/sweep.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kvsim="$build/sim/kvsim"
out=${OUT:-out/bench-sweep}
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }
rm -rf "$out"
start=$(date +%s.%N)
"$kvsim" sweep scenarios/paper/yi34b-50k-a100.yaml --set workload.arrival.type=poisson \
  --param workload.arrival.rate=1:40:1/h --param scheduler.kv_offload.policy=swap,recompute \
  --jobs 2 --plot --out "$out"
end=$(date +%s.%N)
runs=$(wc -l < "$out/points.jsonl")
awk -v s="$start" -v e="$end" -v n="$runs" \
  'BEGIN { printf "bench/sweep.sh: %d runs (40 points x 2 policies) in %.1f s wall with --jobs 2, %.3f s per run\n", n, e - s, (e - s) / n }'
