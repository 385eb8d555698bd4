#!/usr/bin/env bash
# Replays both real vLLM runs of ../shared/vllm-runs/ with the matching kernel profile and with a model fitted to
# that profile, and prints kvsim's comparison tables (docs/validation.md quotes them).
# Usage: scripts/validate.sh [build-dir] [out-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-out/validation}
kvsim="$build/sim/kvsim"
data=../shared/vllm-runs
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }
[ -d "$data/runs" ] || { echo "no $data/runs: the real vLLM runs are read from ../shared/vllm-runs" >&2; exit 2; }
mkdir -p "$out"
for gpu in RTXPRO6000 RTX4090; do
  run="$data/runs/$gpu/Llama-3.1-8B"
  bundle="$data/profiles/$gpu/meta-llama/Llama-3.1-8B/bf16"
  echo "## $gpu, Llama-3.1-8B: profiled"
  "$kvsim" replay "$run" --profile "$bundle" --out "$out/$gpu-profiled"
  echo "## $gpu, Llama-3.1-8B: fitted to its own bundle"
  "$kvsim" calibrate "$bundle" -o "$out/$gpu-fitted.json"
  "$kvsim" replay "$run" --step-model "fitted:$out/$gpu-fitted.json" --out "$out/$gpu-fitted"
  echo "## $gpu, Llama-3.1-8B: roofline (datasheet peaks)"
  "$kvsim" replay "$run" --step-model roofline --out "$out/$gpu-roofline"
done
echo "## cross-model: fitted on Llama-3.1-8B, checked on Qwen3-32B (RTX PRO 6000, tp1)"
"$kvsim" calibrate "$data/profiles/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16" -o "$out/cross.json" \
  --check "$data/profiles/RTXPRO6000/Qwen/Qwen3-32B/bf16"
