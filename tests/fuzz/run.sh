#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz/ (clang, ASan + UBSan, whole project instrumented) and runs each for
# $SECONDS_PER_TARGET seconds (default 60) on a copy of its seed corpus in build-fuzz/fuzz/corpus/ (the committed
# corpus in tests/fuzz/corpus/ is never modified). Prints executions and findings per target; crash, timeout,
# OOM and leak inputs land in build-fuzz/fuzz/artifacts/<target>/. Exits non-zero if any target found something.
#
#   tests/fuzz/run.sh                        # 60 s per target
#   SECONDS_PER_TARGET=600 tests/fuzz/run.sh fuzz_scenario   # one target, longer
#   JOBS=4 tests/fuzz/run.sh                 # build parallelism (default 2)
set -uo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_TARGET="${SECONDS_PER_TARGET:-60}"
JOBS="${JOBS:-2}"
BUILD=build-fuzz
declare -A CORPUS=([fuzz_units]=units [fuzz_scenario]=scenario [fuzz_hf_config]=hf [fuzz_trace]=trace)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_units fuzz_scenario fuzz_hf_config fuzz_trace)
for t in "${TARGETS[@]}"; do
  [ -n "${CORPUS[$t]:-}" ] || { echo "unknown target '$t'; known: ${!CORPUS[*]}" >&2; exit 2; }
done

mkdir -p "$BUILD/fuzz"
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DKVSIM_FUZZ=ON -DKVSIM_BUILD_TESTS=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/fuzz/configure.log" 2>&1 \
  || { cat "$BUILD/fuzz/configure.log" >&2; echo "run.sh: configure failed" >&2; exit 2; }
cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}" || { echo "run.sh: build failed" >&2; exit 2; }

# Leaks are findings; UBSan stops at the first report (the build also uses -fno-sanitize-recover=undefined).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
summary=()
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/fuzz/corpus/$t"
  artifacts="$BUILD/fuzz/artifacts/$t"
  log="$BUILD/fuzz/$t.log"
  mkdir -p "$corpus" "$artifacts"
  cp -n "tests/fuzz/corpus/${CORPUS[$t]}/"* "$corpus/"  # seeds join what earlier runs found
  before=$(find "$artifacts" -type f | wc -l)
  touch "$log.start"
  echo "== $t: ${SECONDS_PER_TARGET}s on $corpus (log $log)"
  "$BUILD/tests/fuzz/$t" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -z "$execs" ] && execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  new=$(( $(find "$artifacts" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
    status=1
    summary+=("$t: ${execs:-?} executions, ${cov:-cov: ?}, FINDING (exit $rc, $new new artifact(s) in $artifacts)")
    grep -m3 -E '^==[0-9]+==ERROR|runtime error|^fuzz_[a-z_]+:|deadly signal|ERROR: libFuzzer' "$log" | sed 's/^/    /'
    find "$artifacts" -type f -newer "$log.start" -printf '    %p\n' | head -5
  else
    summary+=("$t: ${execs:-?} executions, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) inputs, no findings")
  fi
done

echo
echo "== fuzz summary (${SECONDS_PER_TARGET}s per target)"
printf '  %s\n' "${summary[@]}"
exit "$status"
