#!/usr/bin/env bash
# The seed table of docs/sweeps.md: `kvsim capacity` on the paper's example for seeds 1-5 under swap and recompute,
# with the default replicates and horizon. Usage: scripts/capacity-seeds.sh [KVSIM] [extra capacity flags...]
set -euo pipefail
kvsim=${1:-build/sim/kvsim}
shift || true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| policy | seed | estimate (sessions/h) | 95% interval | probes |"
echo "|---|---|---|---|---|"
for policy in swap recompute; do
  for seed in 1 2 3 4 5; do
    "$kvsim" capacity scenarios/paper/yi34b-50k-a100.yaml --slo ttft_p90=30s,decode_rate_p50=6tok/s \
      --set scheduler.kv_offload.policy="$policy" --seed "$seed" --out "$out/$policy-$seed" "$@" >/dev/null 2>&1
    awk -F, -v p="$policy" -v s="$seed" 'NR == 1 { for (i = 1; i <= NF; ++i) c[$i] = i; next }
      { printf "| %s | %s | %s | %s to %s | %s |\n", p, s, $c["max_rate_per_hour"], $c["max_rate_ci_low_per_hour"],
        ($c["max_rate_ci_high_per_hour"] == "" ? "unbounded" : $c["max_rate_ci_high_per_hour"]), $c["probes"] }' \
      "$out/$policy-$seed/capacity.csv"
  done
done
