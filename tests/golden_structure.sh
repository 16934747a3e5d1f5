#!/usr/bin/env bash
# The results' format does not drift: the CSV's columns and the JSON's keys of a single run (boot,
# http, throughput: each adds its own option; isolation: a row per probe) and of a quick lean matrix are those recorded in
# tests/golden/ (values are left out: only the structure is compared, tests/golden/structure.py).
# A change of format is a decision: re-record with `tests/golden_structure.sh HARNESS --record`.
set -uo pipefail
harness=${1:?usage: golden_structure.sh HARNESS [--record]}
record=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (the lean runtime)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
run() { "$harness" "$@" > out.log 2>&1 || { echo "FAIL: harness $* exited non-zero:"; tail -5 out.log; exit 1; }; }
run --driver lean --test boot --runs 2 --warmup 1 --out single-boot.csv
run --driver lean --test http --runs 1 --warmup 0 --out single-http.csv
run --driver lean --test throughput --runs 1 --warmup 0 --out single-tp.csv
run --driver lean --test isolation --out single-isolation.csv
run --matrix driver=lean --quick --test boot,http --no-setup --out matrix.csv
bad=0
for name in single-boot single-http single-tp single-isolation matrix; do
    python3 "$here/golden/structure.py" "$name.csv" > "$name.txt" || { echo "FAIL: cannot read $name"; exit 1; }
    if [ "$record" = --record ]; then
        cp "$name.txt" "$here/golden/$name.txt"
    elif ! diff -u "$here/golden/$name.txt" "$name.txt"; then
        echo "FAIL: the structure of $name differs from tests/golden/$name.txt (lines - recorded, + now)"
        bad=1
    fi
done
[ $bad = 0 ] && echo "ok: CSV columns and JSON keys as recorded (single boot, http, throughput, isolation; lean matrix)"
exit $bad
