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
for want in "## Hosts" "| vm |" "hostb" "Lowest median on vm: " "| median | p95 |" "## Skipped" \
            "storage zfs needs the zfs filesystem" "## The best configuration" \
            "On \*\*vm\*\*: not enough runs to decide"; do
    grep -q -- "$want" "$md" || fail "report.md lacks '$want'"
done
# The verdict carries its uncertainty. Host syn: A is clearly fastest in two workloads of 5 runs
# each; one ping sample where A is worst must not count. Host tie: A and B ran alike.
/usr/bin/python3 - "$SRC/tests/data/matrix-sample.csv" "$tmp/syn/s.csv" <<'PY'
import csv, random, sys, os
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
head = next(csv.reader(open(sys.argv[1])))
rng = random.Random(7)
rows = []
def run(host, cand, workload, param, i, t, value=""):
    r = dict.fromkeys(head, "")
    r.update(run_id="syn", host=host, candidate=cand, driver="lean", workload=workload, param=param, iteration=i,
             warmup=0, create_ms=t / 3, start_ms=t / 3, exec_ms=t / 3, stop_ms=0.1, clean_ms=0.1, value=value, status="ok")
    rows.append(r)
for cand, base in (("A", 1.0), ("B", 2.0), ("C", 3.0)):
    for i in range(1, 6):
        run("syn", cand, "boot", "", i, base + rng.uniform(0, 0.1))
        run("syn", cand, "files-read", "10", i, 2 * base + rng.uniform(0, 0.1))
    run("syn", cand, "ping", "10", 1, 1, value={"A": 0.144, "B": 0.083, "C": 0.09}[cand])
for cand in ("A", "B"):
    for i in range(1, 6):
        run("tie", cand, "boot", "", i, [1.0, 1.1, 1.2, 1.3, 1.4][i - 1])
# Checkpoint rows: a driver with the phases (lean), and an engine that restores whole containers
# (podman): no phase columns, its figure only.
for mem in ("1", "1024"):
    for i in range(1, 4):
        run("ckpt", "L", "checkpoint", mem, i, 30, value=16)
        run("ckpt", "P", "checkpoint", mem, i, 0, value=800)
        rows[-1].update(create_ms="", start_ms="", exec_ms="", stop_ms="", clean_ms="")
# Service rows: cold and restored through the phases (L: 3000 vs 200 ms for the JVM), an engine's
# restore and the pool measured by the workload (no phases, "ms to first 200").
for i in range(1, 4):
    run("svc", "L", "service", "jvm", i, 3000)
    run("svc", "L", "service-restored", "jvm", i, 200)
    for w_, p_, v in (("service-pool", "2", 150), ("service-restored", "python", 900)):
        run("svc", "L" if w_ == "service-pool" else "P", w_, p_, i, 0, value=v)
        rows[-1].update(create_ms="", start_ms="", exec_ms="", stop_ms="", clean_ms="", unit="ms to first 200")
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=head)
w.writeheader()
w.writerows(rows)
PY
/usr/bin/python3 "$SRC/analysis/report.py" "$tmp/syn" --out "$tmp/syn-out" >/dev/null || fail "report.py failed on the synthetic runs"
grep -q 'On \*\*syn\*\*: \*\*A\*\*, first in 100 % of 1000 resamples' "$tmp/syn-out/report.md" ||
    fail "syn verdict: $(grep 'On \*\*syn' "$tmp/syn-out/report.md")"
grep -q 'over 2 workload/parameter pair(s); 1 more with fewer than 3 runs left out' "$tmp/syn-out/report.md" ||
    fail "the n=1 ping pair was not left out: $(grep 'On \*\*syn' "$tmp/syn-out/report.md")"
grep -q 'On \*\*tie\*\*: no clear winner' "$tmp/syn-out/report.md" || fail "tie verdict: $(grep 'On \*\*tie' "$tmp/syn-out/report.md")"
grep -q "Fastest on syn: \*\*A\*\*" "$tmp/syn-out/report.md" || fail "no fastest verdict for syn"
# The checkpoint figure and table (seed 002's), also with rows without phases (podman's restore).
grep -q "## checkpoint and restore (seed 002)" "$tmp/syn-out/report.md" || fail "no checkpoint section"
grep -q "| ckpt | L | eager | container | 20 | 20 |" "$tmp/syn-out/report.md" || fail "no container row for L"
[ "$(stat -c %s "$tmp/syn-out/checkpoint.png" 2>/dev/null || echo 0)" -gt 2000 ] || fail "checkpoint.png missing"
# The services' figure and table: cold against restored, the ratio, the pool; rows without phases too.
grep -q "## services cold vs restored" "$tmp/syn-out/report.md" || fail "no service section"
grep -q "| svc | L | jvm | 3000 | 200 | 15.0× | pool=2: 150 |" "$tmp/syn-out/report.md" ||
    fail "service row for L: $(grep '| svc | L' "$tmp/syn-out/report.md")"
grep -q "| svc | P | python | — | 900 | — | — |" "$tmp/syn-out/report.md" || fail "no service row for P (no phases)"
[ "$(stat -c %s "$tmp/syn-out/service.png" 2>/dev/null || echo 0)" -gt 2000 ] || fail "service.png missing"
# The boot bars are labelled with the table's statistic (the median of per-run create+start+exec),
# not a sum of per-phase medians: each candidate's table median appears as its label.
/usr/bin/python3 - "$md" "$tmp/out/boot_phases.svg" <<'PY' || fail "boot plot labels differ from the table"
import re, sys
md, svg = open(sys.argv[1]).read(), open(sys.argv[2]).read()
boot = md.split("### boot")[1].split("###")[0]
rows = [l.split("|") for l in boot.splitlines() if l.startswith("| vm |")]
assert rows, "no boot table"
for r in rows:
    cand, median = r[2].strip(), float(r[4])
    label = f"{median:.1f} ms"
    assert label in svg, f"{cand}: table median {median} but no label '{label}' in the plot"
# Fastest first, as the table; panels of at most 10x each, so the fast stacks are not slivers.
for panel in svg.split('<g id="axes_')[1:]:
    labels = [float(m) for m in re.findall(r">\s*(\d+\.\d) ms<", panel)]
    assert labels == sorted(labels), f"bars not fastest first: {labels}"
assert "(1 of " in svg and "by time)" in svg, "lean (7 ms) and docker (600 ms) share one linear panel"
PY
# Bad input: a clear message, non-zero.
echo "a,b" >"$tmp/bad.csv"
err=$(/usr/bin/python3 "$SRC/analysis/report.py" "$tmp/bad.csv" --out "$tmp/o2" 2>&1) && fail "a foreign CSV was accepted"
echo "$err" | grep -q "is not a ctrbench results file" || fail "bad input: $err"
echo "ok: $(ls "$tmp/out" | tr '\n' ' ')"
