#!/usr/bin/env bash
# On-demand cluster benchmark (not run in CI): wall time and peak RSS of scenarios/bench/cluster-pd.yaml at
# 16, 32 and 64 replicas (users scaled with them), and the ratios between them, measured in one run.
# Targets (issue #17): 64 replicas, 2000 users, 1 simulated hour under 10 s and 500 MB; cost linear in replicas.
# Usage: bench/cluster.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kvsim="$build/sim/kvsim"
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scenario=scenarios/bench/cluster-pd.yaml

echo "| replicas | users | wall s | peak RSS MiB | rounds completed | network moves | wall s per replica |"
echo "|---|---|---|---|---|---|---|"
for scale in 1 2 4; do
  prefill=$((4 * scale)) decode=$((12 * scale)) users=$((500 * scale))
  replicas=$((prefill + decode))
  /usr/bin/time -f "%e %M" -o "$out/time" "$kvsim" run "$scenario" --quiet --out "$out/r$replicas" \
    --set cluster.pools.prefill.replicas=$prefill --set cluster.pools.decode.replicas=$decode \
    --set workload.arrival.users=$users --set workload.duration=1h
  read -r wall rss_kb < "$out/time"
  rounds=$(sed -n 's/.*"rounds_completed": \([0-9.e+]*\).*/\1/p' "$out/r$replicas/summary.json")
  moves=$(sed -n 's/.*"moves": \([0-9.e+]*\).*/\1/p' "$out/r$replicas/summary.json")
  printf '| %d | %d | %.2f | %.0f | %.0f | %.0f | %.4f |\n' "$replicas" "$users" "$wall" "$((rss_kb / 1024))" \
    "$rounds" "$moves" "$(awk -v w="$wall" -v r="$replicas" 'BEGIN { print w / r }')"
done
