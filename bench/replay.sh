#!/usr/bin/env bash
# On-demand benchmark (not run in CI): wall time and peak RSS of `kvsim replay` of the two real 300-request vLLM runs
# in ../shared/vllm-runs/, with each step model. The target (issue #16) is under 1 s wall per replay.
# Usage: bench/replay.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kvsim="$build/sim/kvsim"
data=../shared/vllm-runs
[ -x "$kvsim" ] || { echo "build kvsim first: cmake -S . -B $build && cmake --build $build -j2" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "| replay | step model | requests | wall s | peak RSS MiB |"
echo "|---|---|---|---|---|"
for gpu in RTXPRO6000 RTX4090; do
  run="$data/runs/$gpu/Llama-3.1-8B"
  bundle="$data/profiles/$gpu/meta-llama/Llama-3.1-8B/bf16"
  "$kvsim" calibrate "$bundle" -o "$out/$gpu.json" >/dev/null
  for model in roofline profiled fitted; do
    case $model in
      roofline) args=(--step-model roofline) ;;
      profiled) args=(--profile "$bundle") ;;
      fitted) args=(--step-model "fitted:$out/$gpu.json") ;;
    esac
    /usr/bin/time -f "%e %M" -o "$out/time" "$kvsim" replay "$run" "${args[@]}" --quiet --out "$out/$gpu-$model"
    read -r wall rss_kb < "$out/time"
    printf '| %s | %s | %s | %.2f | %.0f |\n' "$gpu/Llama-3.1-8B" "$model" \
      "$(wc -l < "$run/requests.jsonl")" "$wall" "$((rss_kb / 1024))"
  done
done
