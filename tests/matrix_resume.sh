#!/usr/bin/env bash
# A matrix run killed mid-way (SIGKILL: no cleanup; SIGINT: Ctrl-C) and resumed never repeats or
# loses a run: in the end each unit has exactly its warmup and measured rows, iterations 1..N once.
# After it, no container of the lean runtime is left (mounts, cgroups, processes).
set -uo pipefail
H=${1:?harness binary}
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
CAND=lean-lean-overlay-minimal-v1-rootful
RUNS=400
mounts_before=$(awk '{print $2}' /proc/self/mounts | sort)
rows() { grep ",$CAND,.*,boot,,[0-9]*,$1," "$tmp/$2.csv" | grep -vc ",interrupted,"; }
for sig in KILL INT; do
    "$H" --matrix $CAND --test boot --runs $RUNS --warmup 2 --out "$tmp/$sig.csv" >"$tmp/$sig.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        [ -f "$tmp/$sig.csv" ] && [ "$(wc -l <"$tmp/$sig.csv")" -ge 60 ] && break
        sleep 0.02
    done
    kill -$sig $pid; wait $pid; rc=$?
    before=$(grep -c ",ok," "$tmp/$sig.csv")
    [ "$before" -lt $((RUNS + 2)) ] || fail "$sig came too late: the run had finished"
    if [ $sig = INT ]; then
        [ $rc = 130 ] || fail "Ctrl-C exited $rc, not 130"
        grep -q "continue with: harness --resume" "$tmp/$sig.log" || fail "Ctrl-C does not say how to resume"
    fi
    "$H" --resume "$tmp/$sig.csv" >"$tmp/$sig.resume.log" 2>&1 || { cat "$tmp/$sig.resume.log"; fail "resume after $sig failed"; }
    grep -q "boot: .*(n=$RUNS)" "$tmp/$sig.resume.log" || { cat "$tmp/$sig.resume.log"; fail "the resumed unit's summary line does not count all $RUNS runs"; }
    [ "$(rows 0 $sig)" = $RUNS ] || fail "after $sig + resume: $(rows 0 $sig) measured rows, not $RUNS"
    [ "$(rows 1 $sig)" = 2 ] || fail "after $sig + resume: $(rows 1 $sig) warmup rows, not 2"
    dups=$(grep ",$CAND,.*,boot,," "$tmp/$sig.csv" | grep -v ",interrupted," | cut -d, -f13,14 | sort | uniq -d | head -3)
    [ -z "$dups" ] || fail "after $sig + resume: iterations recorded twice: $dups"
    /usr/bin/python3 - "$tmp/$sig.json" <<'PY' || fail "metadata after $sig"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["resumed"], "no resume recorded"
assert m["matrix"]["settings"]["runs"] == 400
# The unit's summary comes from every row, before and after the interruption: once, with n = 400.
units = [r for r in m["results"] if r["workload"] == "boot"]
assert len(units) == 1, f"{len(units)} summaries of the boot unit, not 1"
n = units[0]["summary"]["total_ms"]["n"]
assert n == 400, f"the resumed unit's summary says n={n}, the CSV holds 400 measured runs"
PY
    echo "$sig after $before rows, then resumed: $RUNS measured + 2 warmup rows, none twice"
done
# Nothing of the lean runtime left behind (the resume swept what SIGKILL left).
left=$(comm -13 <(echo "$mounts_before") <(awk '{print $2}' /proc/self/mounts | sort) | head -3)
[ -z "$left" ] || fail "mounts left: $left"
for d in /sys/fs/cgroup/*/ctrbench-* /sys/fs/cgroup/unified/ctrbench-*; do
    [ -e "$d" ] || continue
    pid=${d##*ctrbench-}
    kill -0 "$pid" 2>/dev/null || fail "cgroup of a dead harness left: $d"
done
echo ok
