#!/usr/bin/env bash
# Session throughput of the paper's running example against the number of closed-loop users, for docs/.
# Usage: bench/closed_loop_curve.sh [scenario] [build-dir] > curve.csv
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/paper/yi34b-50k-a100.yaml}
kvsim=${2:-build}/sim/kvsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
field() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p" "$2" | head -1; }
echo "users,session_throughput_per_hour,ttft_p50_s,ttft_p90_s,mean_resident,gpu_idle_fraction,swap_stall_mean_s"
for users in ${USERS:-1 2 3 4 5 6 8 10 12 16 24 32 48 64}; do
  "$kvsim" run "$scenario" --quiet --out "$out/$users" --set workload.arrival.users=$users \
    --set workload.duration=4h --set workload.warmup=30min
  s="$out/$users/summary.json"
  echo "$users,$(field session_throughput_per_hour "$s"),$(sed -n '/"ttft"/,/}/p' "$s" | sed -n 's/.*"p50_s": \(.*\),/\1/p'),$(sed -n '/"ttft"/,/}/p' "$s" | sed -n 's/.*"p90_s": \(.*\),/\1/p'),$(field mean_resident "$s"),$(field idle "$s"),$(field stall_mean_s "$s")"
done
