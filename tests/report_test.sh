#!/usr/bin/env bash
# analysis/report.py builds the report from a small recorded matrix CSV: each plot (PNG and SVG),
# tables, the fastest candidate per workload with how sure, skipped candidates, the best overall.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 -c "import matplotlib, scipy" 2>/dev/null || { echo "skipped: Debian's python3-matplotlib/python3-scipy missing"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/in/hostA" "$tmp/in/hostB"
cp "$SRC/tests/data/matrix-sample.csv" "$SRC/tests/data/matrix-sample.json" "$tmp/in/hostA/"
# A second host: the same rows under another host name, side by side in every plot.
sed 's/,vm,/,hostb,/' "$SRC/tests/data/matrix-sample.csv" >"$tmp/in/hostB/b.csv"
/usr/bin/python3 "$SRC/analysis/report.py" "$tmp/in" --out "$tmp/out" || fail "report.py failed"
md="$tmp/out/report.md"
for fig in boot_phases io_sqlite io_files http ping throughput; do
    for ext in png svg; do
        [ "$(stat -c %s "$tmp/out/$fig.$ext" 2>/dev/null || echo 0)" -gt 2000 ] || fail "$fig.$ext missing or empty"
    done
    grep -q "($fig.png)" "$md" || fail "report.md does not show $fig"
done
for want in "## Hosts" "| vm |" "hostb" "Fastest on vm: \*\*" "Best on vm: \*\*" "| median | p95 |" "## Skipped" \
            "storage zfs needs the zfs filesystem" "## The best configuration" "On \*\*vm\*\*: \*\*"; do
    grep -q -- "$want" "$md" || fail "report.md lacks '$want'"
done
# Bad input: a clear message, non-zero.
echo "a,b" >"$tmp/bad.csv"
err=$(/usr/bin/python3 "$SRC/analysis/report.py" "$tmp/bad.csv" --out "$tmp/o2" 2>&1) && fail "a foreign CSV was accepted"
echo "$err" | grep -q "is not a ctrbench results file" || fail "bad input: $err"
echo "ok: $(ls "$tmp/out" | tr '\n' ' ')"
