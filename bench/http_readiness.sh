#!/usr/bin/env bash
# HTTP readiness, lean against docker with runc, measured in the same run: the time from create to
# the first HTTP 200 from the server inside ("ready" = create + start + exec + response), and
# t_response = tr - te alone. Prints both medians and the ratio docker/lean (goal: >= 10x).
# usage: bench/http_readiness.sh [BUILD_DIR]   (RUNS=N to change the number of runs, default 20)
set -euo pipefail
build=$(readlink -f "${1:-build}")
runs=${RUNS:-20}
py=/usr/bin/python3  # Debian's interpreter, whatever python3 is first on PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { "$py" -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["summary"][sys.argv[2] + "_ms"]["median"])' "$1" "$2"; }
ratio() { "$py" -c 'import sys; print("%.1f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

run() {  # driver [runtime]
    local out="$tmp/$1${2:+-$2}"
    if ! "$build/harness" --driver "$1" ${2:+--runtime "$2"} --test http --runs "$runs" --warmup 3 --out "$out.csv" >"$out.log" 2>&1; then
        echo "$1${2:+ ($2)}: failed: $(grep -m1 'harness:' "$out.log" || tail -1 "$out.log")" >&2
        return 1
    fi
    echo "$out.json"
}
lean=$(run lean) || exit 1
lr=$(median "$lean" ready); lt=$(median "$lean" response)
echo "lean http: ready (create..first 200) median $lr ms; t_response median $lt ms"
if docker=$(run docker runc); then
    dr=$(median "$docker" ready); dt=$(median "$docker" response)
    echo "docker (runc) http: ready median $dr ms; t_response median $dt ms"
    echo "ratio docker/lean, ready: $(ratio "$dr" "$lr")x (goal: >= 10x)"
else
    echo "docker: skipped (see above)"
fi
