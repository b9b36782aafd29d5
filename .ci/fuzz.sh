#!/usr/bin/env bash
# .ci/fuzz.sh - the libFuzzer target tests/fuzz/fuzz_ops (its header says what
# it checks and how inputs are encoded). Any crash, contract violation,
# sanitizer report, leak or timeout fails the run.
#
#  1. builds it with clang in ./build-fuzz: -DCLCNN_FUZZ=ON (library and target
#     with ASan + UBSan and libFuzzer's coverage), static library, no tests
#     or bench;
#  2. replays every file of tests/fuzz/corpus, each of which must pass;
#  3. fuzzes for FUZZ_SECONDS (default 60) with the fixed seed FUZZ_SEED
#     (default 1, so a CI run repeats the same mutations) on a copy of the
#     corpus in a temporary folder, so the repository is never modified, and
#     prints the number of executions from libFuzzer's final stats.
# A failing input is kept in build-fuzz/artifacts/ and printed in hex;
# replay it with build-fuzz/tests/fuzz/fuzz_ops FILE.
#
# LeakSanitizer uses .ci/lsan.supp (PoCL's own LLVM leaks) with
# fast_unwind_on_malloc=0: libFuzzer leaves the fast unwinder on, which stops
# in libstdc++ for LLVM's allocations, so their stacks would not reach the
# libLLVM frames the suppressions name. CLCNN_WERROR does not apply here (see
# .ci/sanitize.sh: sanitizer instrumentation gives false-positive warnings).
# Needs clang and libclang-rt-dev (libFuzzer and the sanitizer runtimes) from
# .ci/packages-ci.txt. About 80 s on 2 cores, the build included, with a warm
# PoCL kernel cache; up to 5 minutes with a cold one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
t0=$SECONDS
seconds=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-1}
command -v clang >/dev/null || { echo "fuzz: clang is not installed (apt-get install clang libclang-rt-dev)" >&2; exit 1; }

# ---- 1. build -----------------------------------------------------------------
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLCNN_FUZZ=ON \
  -DCLCNN_BUILD_TESTS=OFF -DCLCNN_BUILD_BENCH=OFF -DBUILD_SHARED_LIBS=OFF -DCLCNN_WERROR=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" >&2
bin=$root/build-fuzz/tests/fuzz/fuzz_ops
build_s=$((SECONDS - t0))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
art=$root/build-fuzz/artifacts
rm -rf "$art"
mkdir -p "$art" "$tmp/corpus"
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/.ci/lsan.supp
export CLCNN_CACHE_DIR=$tmp/clcnn-cache # the program cache, where the library has one

failed() { # $1: what failed, $2: its log
  tail -n 60 "$2" >&2
  for f in "$art"/*; do
    [ -f "$f" ] || continue
    echo "fuzz: failing input $f:" >&2
    od -An -tx1 -v "$f" >&2
  done
  echo "fuzz: FAILED: $1 (log above; replay with $bin FILE)" >&2
  exit 1
}

# ---- 2. replay the corpus -----------------------------------------------------
corpus=(tests/fuzz/corpus/*)
t1=$SECONDS
# -timeout=600: the first OpenCL inputs build the kernels, up to a minute
# each with a cold PoCL cache (in .ci/run, sanitize.sh has warmed it: ~2 s).
if ! "$bin" -artifact_prefix="$art/" -timeout=600 "${corpus[@]}" >"$tmp/replay.log" 2>&1; then
  failed "a corpus file" "$tmp/replay.log"
fi
replayed=$(grep -c '^Executed ' "$tmp/replay.log" || true)
if [ "$replayed" -ne "${#corpus[@]}" ]; then
  failed "replayed $replayed of ${#corpus[@]} corpus files" "$tmp/replay.log"
fi
replay_s=$((SECONDS - t1))

# ---- 3. fuzz for a bounded time -----------------------------------------------
cp "${corpus[@]}" "$tmp/corpus/"
t2=$SECONDS
# -timeout: an input runs in milliseconds once the replay has built the
# kernels. The outer timeout is a backstop.
fuzz() {
  timeout $((seconds + 300)) "$bin" -seed="$seed" -max_total_time="$seconds" -max_len=1024 -timeout=120 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$art/" "$tmp/corpus" >"$tmp/fuzz.log" 2>&1
}
# LSan's leak tracer itself sometimes crashes as the process exits ("Tracer
# caught signal 11 ... LeakSanitizer has encountered a fatal error"), after
# libFuzzer has finished every run without a finding: no finding about
# clcnn, and no leak check done. That alone gets one rerun; any other
# failure fails at once.
if ! fuzz; then
  if grep -q 'LeakSanitizer has encountered a fatal error' "$tmp/fuzz.log" &&
    grep -q '^Done [0-9]* runs' "$tmp/fuzz.log" &&
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer: detected|libFuzzer)|runtime error:|SUMMARY: ' "$tmp/fuzz.log"; then
    tail -n 8 "$tmp/fuzz.log" >&2
    echo "fuzz: LSan's tracer crashed at exit after a clean run (above); fuzzing once more" >&2
    rm -f "$art"/*
    fuzz || failed "fuzzing (seed $seed), rerun" "$tmp/fuzz.log"
  else
    failed "fuzzing (seed $seed)" "$tmp/fuzz.log"
  fi
fi
fuzz_s=$((SECONDS - t2))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/fuzz.log")
cov=$(grep -o 'cov: [0-9]*' "$tmp/fuzz.log" | tail -n 1 | tr -d 'cov: ')
if [ -z "$execs" ] || [ "$execs" -eq 0 ]; then
  failed "no final stats from libFuzzer" "$tmp/fuzz.log"
fi
corpus_out=$(find "$tmp/corpus" -type f | wc -l)

echo "fuzz: build ${build_s} s; ${replayed} corpus files replayed in ${replay_s} s;" \
  "${execs} executions in ${fuzz_s} s (${rate}/s, seed ${seed}, ${cov:-?} coverage points," \
  "corpus ${#corpus[@]} -> ${corpus_out} files); $((SECONDS - t0)) s in all"
