#!/usr/bin/env bash
# The harness's command line and the candidate file parser (with --matrix selections) under libFuzzer
# (Debian's clang 19, with address and undefined-behaviour sanitizers), FUZZ_SECONDS (default 10)
# each, from the seeds in tests/fuzz/corpus/ and the project's candidates.yml: no crash, no
# exception, every rejection one line (the targets abort otherwise). Builds into BUILD_DIR, with
# FUZZ_JOBS compile jobs (default: every core).
set -uo pipefail
build=${1:?usage: fuzz.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-10}
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v clang++-19 >/dev/null || ! ls /usr/lib/llvm-19/lib/clang/19/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "skipped: needs clang-19 and libclang-rt-19-dev (apt-get install clang-19 libclang-rt-19-dev)"
    exit 77
fi
mkdir -p "$build"
cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DCTRBENCH_FUZZ=ON \
    >"$build/configure.log" 2>&1 || { tail -20 "$build/configure.log"; fail "cmake configure"; }
cmake --build "$build" --target cli_fuzz candidates_fuzz -j"${FUZZ_JOBS:-$(nproc)}" >"$build/build.log" 2>&1 ||
    { grep -E "error" "$build/build.log" | head -20; fail "build of the fuzz targets"; }
for target in cli candidates; do
    corpus=$(mktemp -d)
    cp "$src/tests/fuzz/corpus/$target/"* "$corpus/"
    [ $target = candidates ] && cp "$src/candidates.yml" "$corpus/"
    if ! "$build/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/${target}-" "$corpus" >"$build/$target.log" 2>&1; then
        grep -E "ERROR|SUMMARY|Test unit written" "$build/$target.log" | head -10
        rm -rf "$corpus"
        fail "$target: libFuzzer found an input that crashes or breaks the one-line rule (above; the input is in $build)"
    fi
    echo "$target: $(grep -E '^stat::number_of_executed_units' "$build/$target.log" | awk '{print $2}') inputs in ${seconds}s, no crash"
    rm -rf "$corpus"
done
echo "ok: the command line and the candidate parser survived ${seconds}s of libFuzzer each"
