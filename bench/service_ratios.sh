#!/usr/bin/env bash
# Issue 15's goals for the service workloads on lean, each printed with its figure and the ratio to its
# baseline, both measured in this run (medians; "ready" = create, or the request, .. first correct 200):
#   JVM service:    cold  vs  restored from its checkpoint         (goal: restored >= 10x sooner)
#   Python service: cold  vs  restored                             (goal: restored >= 3x sooner)
#   JVM service:    plain restore (pool=0)  vs  from a pre-started pool (pool=2)   (goal: the pool sooner)
# usage: bench/service_ratios.sh [BUILD_DIR]   (RUNS=N, default 5; DRIVER=lean)
set -euo pipefail
build=$(readlink -f "${1:-build}")
runs=${RUNS:-5}
driver=${DRIVER:-lean}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
figure() {  # JSON FIGURE PARAM: the median of a named figure for PARAM
    "$py" - "$@" <<'PY'
import json, sys
j, name, param = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
for r in j["results"]:
    if r["param"] == param and name in r["summary"].get("figures", {}):
        print("%.1f" % r["summary"]["figures"][name]["median"])
        sys.exit(0)
sys.exit("no " + name + " for " + param + " in " + sys.argv[1])
PY
}
ratio() { "$py" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }
# BASELINE FIGURE GOAL: whether BASELINE / FIGURE >= GOAL, from the figures, not the rounded ratio
atleast() { "$py" -c 'import sys; a, b, g = map(float, sys.argv[1:]); print("met" if a / b >= g else "NOT met")' "$1" "$2" "$3"; }
# BASELINE FIGURE: whether FIGURE is sooner than BASELINE
sooner() { "$py" -c 'import sys; print("met" if float(sys.argv[2]) < float(sys.argv[1]) else "NOT met")' "$1" "$2"; }
run() {  # TEST NAME ARGS...: the harness, its results in $tmp/NAME.csv/.json
    local test=$1 name=$2
    shift 2
    "$build/harness" --driver "$driver" --test "$test" "$@" --runs "$runs" --warmup 1 --out "$tmp/$name.csv" >/dev/null 2>&1 ||
        { echo "$test failed: $(cut -d, -f24 "$tmp/$name.csv" 2>/dev/null | sort -u | tail -2)"; exit 1; }
}
run service cold
run service-restored restored
run service-pool pool --param pool=0 --param pool=2
echo "services on $driver, medians of $runs runs, time to the first correct 200 (ms)"
for app in jvm python; do
    cold=$(figure "$tmp/cold.json" ready_ms "$app")
    restored=$(figure "$tmp/restored.json" ready_ms "$app")
    goal=$([ "$app" = jvm ] && echo 10 || echo 3)
    r=$(ratio "$cold" "$restored")
    echo "  $app: cold $cold, restored $restored: restored ${r}x sooner (goal >= ${goal}x: $(atleast "$cold" "$restored" "$goal"))"
done
plain=$(figure "$tmp/pool.json" ready_ms 0)
pooled=$(figure "$tmp/pool.json" ready_ms 2)
refill=$(figure "$tmp/pool.json" refill_ms 2)
r=$(ratio "$plain" "$pooled")
echo "  jvm: plain restore (pool=0) $plain, from a pool of 2 $pooled: the pool ${r}x sooner (goal > 1x: $(sooner "$plain" "$pooled")); refilling the pool: $refill per request, off its path"
