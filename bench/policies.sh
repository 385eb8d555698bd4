#!/usr/bin/env bash
# Runs every scenario in scenarios/policies/ under every offload policy and prints one CSV row per pair, for
# docs/kv-offload-policies.md. Usage: bench/policies.sh [build-dir] > policies.csv
set -euo pipefail
cd "$(dirname "$0")/.."
kvsim=${1:-build}/sim/kvsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
echo "scenario,policy,session_throughput_per_hour,ttft_p50_s,ttft_p99_s,swap_stall_mean_s,swap_bytes_out,recompute_tokens,gpu_stalled,gpu_idle"
for scenario in scenarios/policies/*.yaml; do
  name=$(basename "$scenario" .yaml)
  for policy in swap recompute offload-idle prefetch layerwise cost-aware tiered; do
    "$kvsim" run "$scenario" --quiet --out "$out/$name-$policy" --set scheduler.kv_offload.policy=$policy
    s="$out/$name-$policy/summary.json"
    echo "$name,$policy,$(get "$s" "round(d['session_throughput_per_hour'],2)"),$(get "$s" "round(d['ttft']['p50_s'],3)"),$(get "$s" "round(d['ttft']['p99_s'],2)"),$(get "$s" "round(d['swap']['stall_mean_s'],3)"),$(get "$s" "d['swap']['bytes_out']"),$(get "$s" "int(d['recompute']['tokens'])"),$(get "$s" "round(d['time_breakdown']['stalled'],3)"),$(get "$s" "round(d['time_breakdown']['idle'],3)")"
  done
done
