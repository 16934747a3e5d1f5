#!/usr/bin/env bash
# kill -9 of the harness in the middle of its runs, on every driver this host can run (the phases
# of a boot run take turns, so the kill lands in one of create, start, exec, stop or clean), then
# `harness --cleanup` (for the first driver: its next run, which sweeps before it starts): it says what
# it removed, and nothing of the killed run is left — no container in any engine, no bundle,
# writable layer, cgroup, mount or process (issue 13).
set -uo pipefail
harness=${1:?usage: cleanup_kill9.sh HARNESS}
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/leftovers.sh"
list=$("$harness" --list)
# One driver: a boot run killed with -9 once two runs are written, then its leftovers swept — by the
# next run of the harness (first=1: it sweeps before it measures, and says so) or by --cleanup.
# "ok" or "FAIL: ..." as its last line.
one_driver() {
    local d=$1 first=$2 pid out left
    setsid "$harness" --driver "$d" --test boot --runs 500 --warmup 0 --out "$tmp/$d.csv" >"$tmp/$d-run.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do  # until two runs are written (at most 60 s)
        [ -f "$tmp/$d.csv" ] && [ "$(wc -l < "$tmp/$d.csv")" -ge 3 ] && break
        sleep 0.1
    done
    [ -s "$tmp/$d.csv" ] || { kill -9 "$pid"; cat "$tmp/$d-run.log"; fail "$d: no run was written"; }
    sleep "0.0$((RANDOM % 10))"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    if [ "$first" = 1 ]; then
        out=$("$harness" --driver "$d" --test boot --runs 1 --warmup 0 --out "$tmp/next.csv" 2>&1) ||
            fail "$d: the next run failed: $out"
        echo "$out" | grep -q "harness: removed .*ctrbench-$pid-.*left by a ctrbench run that is gone" ||
            fail "$d: the next run did not say it removed the dead run's leftovers: $out"
        echo "$d (killed pid $pid after $(($(wc -l < "$tmp/$d.csv") - 1)) runs): the next run removed $(echo "$out" | grep -c '^harness: removed')"
    else
        out=$("$harness" --cleanup) || fail "$d: --cleanup exited non-zero: $out"
        echo "$d (killed pid $pid after $(($(wc -l < "$tmp/$d.csv") - 1)) runs): $(echo "$out" | tail -1)"
    fi
    left=$(leftovers_settled "$pid")
    [ -z "$left" ] || fail "$d: left behind after --cleanup: $left"
    echo ok
}
# The first available driver alone (its next run must find the dead run's leftovers itself), then the
# others side by side: a --cleanup only touches what dead runs left, never another driver's live run.
drivers=()
for d in ${DRIVERS:-lean crun runc docker podman lxc lxd microvm containerd}; do  # DRIVERS: some of them
    if ! echo "$list" | grep -qE "^  $d +available"; then echo "skipped $d: not available here"; continue; fi
    if [ ${#drivers[@]} = 0 ]; then
        one_driver "$d" 1 >"$tmp/$d.log" 2>&1
    else
        one_driver "$d" 0 >"$tmp/$d.log" 2>&1 &
    fi
    drivers+=("$d")
done
[ ${#drivers[@]} -gt 0 ] || { echo "skipped: no driver available"; exit 77; }
await_drivers "$tmp" "${drivers[@]}"
ran=${#drivers[@]}
out=$("$harness" --cleanup)
[ "$out" = "cleanup: nothing left by ctrbench runs that are gone" ] || fail "a second --cleanup still found: $out"
echo "ok: $ran driver(s) killed with -9 mid-run, --cleanup left nothing"
