#!/usr/bin/env bash
# Issue 15's goals for the checkpoint workloads on lean, each printed with its figure and a ratio
# against a baseline measured in the same run:
#   lazy restore at 1024 MB  vs  lazy restore at 1 MB            (goal: <= 2.0x: lazy restore is flat)
#   lazy restore at 1 MB     vs  10 ms, and vs a bare clone + exec + wait of this host (lean_bench)
#   the lean container's own overhead in the checkpoint workload (create + start)
#                            vs  1 ms, and vs the same bare clone + exec + wait
# The bare clone + exec + wait (no namespaces, no container) is what any process start costs here:
# it says how this host's speed compares with the seed's.
# usage: bench/checkpoint_ratios.sh [BUILD_DIR]   (RUNS=N, default 10)
set -euo pipefail
build=$(readlink -f "${1:-build}")
runs=${RUNS:-10}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
figure() {  # JSON FIGURE PARAM: the median of a named figure (or "container": create + start) for PARAM
    "$py" - "$@" <<'PY'
import json, statistics, sys
j, name, param = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
for r in j["results"]:
    if r["param"] != param:
        continue
    s = r["summary"]
    if name == "container":
        c, t = s["create_ms"]["samples"], s["start_ms"]["samples"]
        print("%.3f" % statistics.median(a + b for a, b in zip(c, t)))
    else:
        print("%.3f" % s["figures"][name]["median"])
    sys.exit(0)
sys.exit("no " + name + " for " + param + " in " + sys.argv[1])
PY
}
ratio() { "$py" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }
verdict() { "$py" -c 'import sys; print("met" if float(sys.argv[1]) <= float(sys.argv[2]) else "NOT met")' "$1" "$2"; }

"$build/harness" --driver lean --test checkpoint-lazy --param mem=1 --param mem=1024 --runs "$runs" --warmup 1 \
    --out "$tmp/lazy.csv" >/dev/null 2>&1 || { echo "checkpoint-lazy failed: $(tail -2 "$tmp/lazy.csv")"; exit 1; }
"$build/harness" --driver lean --test checkpoint --param mem=1 --runs "$runs" --warmup 1 \
    --out "$tmp/eager.csv" >/dev/null 2>&1 || { echo "checkpoint failed: $(tail -2 "$tmp/eager.csv")"; exit 1; }
"$build/bench/lean_bench" --benchmark_filter='BM_BareCloneExecWait' --benchmark_min_time=0.5 \
    --benchmark_format=json > "$tmp/bare.json" 2>/dev/null
bare=$("$py" -c 'import json,sys; b=json.load(open(sys.argv[1]))["benchmarks"][0]; print("%.3f" % (b["real_time"] / 1e6 if b["time_unit"] == "ns" else b["real_time"] / 1e3 if b["time_unit"] == "us" else b["real_time"]))' "$tmp/bare.json")

lazy1=$(figure "$tmp/lazy.json" restore_ms 1)
lazy1024=$(figure "$tmp/lazy.json" restore_ms 1024)
eager1=$(figure "$tmp/eager.json" restore_ms 1)
container=$(figure "$tmp/eager.json" container 1)
echo "checkpoint on lean, medians of $runs runs (criu $(/usr/local/lib/ctrbench/criu --version 2>/dev/null | sed -n 's/Version: //p'))"
echo "  bare clone + exec + wait on this host (lean_bench):  $bare ms"
echo "  lazy restore 1024 MB: $lazy1024 ms, 1 MB: $lazy1 ms:  ratio $(ratio "$lazy1024" "$lazy1")x (goal <= 2.0x: $("$py" -c 'import sys; a, b = map(float, sys.argv[1:]); print("met" if a <= 2 * b else "NOT met")' "$lazy1024" "$lazy1"))"
echo "  lazy restore 1 MB: $lazy1 ms (goal <= 10 ms: $(verdict "$lazy1" 10)); $(ratio "$lazy1" "$bare")x a bare clone + exec + wait"
echo "  eager restore 1 MB: $eager1 ms; $(ratio "$eager1" "$bare")x a bare clone + exec + wait"
echo "  lean container overhead (create + start): $container ms (goal <= 1 ms: $(verdict "$container" 1); seed 002: 6 ms); $(ratio "$container" "$bare")x a bare clone + exec + wait"
