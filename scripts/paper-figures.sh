#!/usr/bin/env bash
# Regenerates the paper's Figures 2 and 3 from runs (docs/paper-reproduction.md), as kvsim sweeps with their
# sweep.csv (measured columns beside analyze_* columns) and plots (kvsim plot):
#   $OUT/fig2-{context,hardware,tp,moe}/   Figure 2's rows under load (scenarios/figures/fig2-yi34b.yaml)
#   $OUT/fig3-{yi34b,command-r-plus}/      Figure 3: one session's prefill and decode GPU time
# About 15 s on 2 cores.
#
#   scripts/paper-figures.sh [build-dir]        (OUT defaults to out/paper-figures)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kvsim="$build/sim/kvsim"
out=${OUT:-out/paper-figures}
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }
rm -rf "$out"
fig2=scenarios/figures/fig2-yi34b.yaml
pcie20=(--set hardware.host_link.bandwidth=20GBps)
"$kvsim" sweep "$fig2" --param workload.document_tokens=4K,8K,16K,32K,50K "${pcie20[@]}" --plot --out "$out/fig2-context"
"$kvsim" sweep "$fig2" --param hardware.gpu.catalog=rtx-4090,a100-sxm-80g,h100-sxm,h200,b200,mi300x,gh200 \
  --plot --out "$out/fig2-hardware" || true  # the RTX 4090 cannot hold the weights: one failed point, exit 1
"$kvsim" sweep "$fig2" --param hardware.tensor_parallel=1,2,4,8 "${pcie20[@]}" --plot --out "$out/fig2-tp"
"$kvsim" sweep "$fig2" --param model.moe_upcycle=dense,8x2 --set hardware.tensor_parallel=8 "${pcie20[@]}" \
  --plot --out "$out/fig2-moe"
for model in yi34b command-r-plus; do
  "$kvsim" sweep "scenarios/figures/fig3-$model.yaml" --param workload.document_tokens=10K,20K,50K,100K,200K \
    --param workload.rounds=1,5,20,100 --param model.kv_compression.attention.linear_layer_fraction=0,1 \
    --plot --out "$out/fig3-$model"
done
echo "scripts/paper-figures.sh: figures in $out/"
