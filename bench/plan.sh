#!/usr/bin/env bash
# On-demand benchmark (not in CI) of issue 17's `kvsim plan`: the paper's running example (Yi-34B, 50K documents,
# 5 rounds, 20 GB/s PCIe) under Poisson arrivals at 800 sessions per hour, one simulated hour, on a budget of 8
# A100s, under TTFT p90 <= 10 s and a median decode rate of at least 6 tok/s (faster than reading). Every default
# candidate (TP 1, 2, 4, 8; mixed and, where the build has cluster.pools, P/D splits; two routers; swap and
# recompute) is pruned or simulated with --jobs 2. Then the winner's scenario runs alone and must meet the SLOs.
# Prints the wall time; the done-when bound is 60 s on 2 cores.
#
#   bench/plan.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kvsim="$build/sim/kvsim"
out=${OUT:-out/bench-plan}
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }
rm -rf "$out" "$out-alone"
mkdir -p "$(dirname "$out")"
start=$(date +%s.%N)
"$kvsim" plan scenarios/paper/yi34b-50k-a100.yaml --gpus a100:8 --slo ttft_p90=10s,decode_rate_p50=6tok/s \
  --set workload.arrival.type=poisson --set workload.arrival.rate=800/h --jobs 2 --out "$out"
end=$(date +%s.%N)
"$kvsim" run "$out/winner.yaml" --quiet --out "$out-alone"
python3 - "$out-alone/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p90, rate = s["ttft"]["p90_s"], s["decode"]["rate_p50_tok_per_s"]
ok = p90 <= 10 and rate >= 6
print(f"bench/plan.sh: the winner run alone: TTFT p90 {p90:.3f} s, decode rate p50 {rate:.1f} tok/s: "
      f"{'meets' if ok else 'MISSES'} the SLOs")
sys.exit(0 if ok else 1)
PY
ran=$(wc -l < "$out/points.jsonl")
total=$(($(wc -l < "$out/candidates.csv") - 1))
awk -v s="$start" -v e="$end" -v n="$ran" -v t="$total" \
  'BEGIN { printf "bench/plan.sh: %d candidates, %d simulated, frontier in %.1f s wall with --jobs 2 (bound: 60 s)\n", t, n, e - s }'
