#!/usr/bin/env bash
# kill -9 of the harness in each phase of a run (create, start, exec, stop, clean: the harness kills
# itself once that phase of its 2nd run returned, CTRBENCH_TEST_KILL_AFTER, before recording it), on
# every driver this host can run, in a matrix run; then `harness --cleanup` leaves nothing of the
# killed process, and `harness --resume` completes the run with every row exactly once (issue 13).
set -uo pipefail
harness=${1:?usage: kill9_phases.sh HARNESS}
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/leftovers.sh"
RUNS=2
list=$("$harness" --list)
# One driver's kills after the PHASES given (default: all five), resumes and checks; "ok"/"FAIL: ..."
# as its last line.
one_driver() {
    local cand=$1 d=${1%%-*} phase csv pid rc out left its
    shift
    local phases=("$@")
    [ $# -gt 0 ] || phases=(create start exec stop clean)
    for phase in "${phases[@]}"; do
        csv="$tmp/$d-$phase.csv"
        CTRBENCH_TEST_KILL_AFTER=$phase:2 setsid "$harness" --matrix "$cand" --no-setup --test boot \
            --runs $RUNS --warmup 0 --out "$csv" >"$tmp/$d-$phase-run.log" 2>&1 &
        pid=$!
        wait "$pid"
        rc=$?
        [ $rc = 137 ] || { tail -5 "$tmp/$d-$phase-run.log"; fail "$d $phase: the harness was not killed (exit $rc)"; }
        out=$("$harness" --cleanup) || fail "$d $phase: --cleanup exited non-zero: $out"
        left=$(leftovers_settled "$pid")
        [ -z "$left" ] || fail "$d $phase: left behind after --cleanup: $left"
        "$harness" --resume "$csv" --no-setup >"$tmp/$d-$phase-resume.log" 2>&1 ||
            { tail -5 "$tmp/$d-$phase-resume.log"; fail "$d $phase: --resume failed"; }
        its=$(grep ",$cand,.*,boot,," "$csv" | awk -F, '$14 == "0" && $23 == "ok" {print $13}' | sort -n | tr '\n' ' ')
        [ "$its" = "1 2 " ] || fail "$d $phase: after --resume the measured runs are '$its', not '1 2 '"
        echo "$d killed after $phase of run 2: $(echo "$out" | tail -1); resumed: runs $its"
    done
    echo ok
}
# The drivers side by side (nothing here is timed; --cleanup only touches what dead runs left, so
# one driver's sweep never takes another's live containers). microvm, a VM boot per run (4.2 s under
# TCG in the quick matrix), was the test's tail alone: its phases go in two sweeps side by side (the test: 84 s in
# the last CI; 65 s on a quiet host with the split).
sweeps=() drivers=()
for cand in lean-lean-overlay-minimal-v1-rootful crun-crun-overlay-minimal-v1-rootful \
    runc-runc-overlay-minimal-v1-rootful docker-runc-overlay2-minimal-v1-rootful \
    podman-crun-overlay-minimal-v1-rootful lxc-lxc-dir-minimal-v1-rootful \
    lxd-lxc-dir-minimal-v1-rootful microvm-qemu-initramfs-minimal-v1-rootful \
    containerd-runc-overlayfs-minimal-v1-rootful; do
    d=${cand%%-*}
    if ! echo "$list" | grep -qE "^  $d +available"; then echo "skipped $d: not available here"; continue; fi
    if [ "$d" = microvm ]; then
        one_driver "$cand" create start exec >"$tmp/$d-a.log" 2>&1 &
        one_driver "$cand" stop clean >"$tmp/$d-b.log" 2>&1 &
        sweeps+=("$d-a" "$d-b")
    else
        one_driver "$cand" >"$tmp/$d.log" 2>&1 &
        sweeps+=("$d")
    fi
    drivers+=("$d")
done
[ ${#drivers[@]} -gt 0 ] || { echo "skipped: no driver available"; exit 77; }
await_drivers "$tmp" "${sweeps[@]}"
echo "ok: ${#drivers[@]} driver(s) killed with -9 after each phase, nothing left after --cleanup, every run once after --resume"
