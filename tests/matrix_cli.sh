#!/usr/bin/env bash
# harness --matrix as a user runs it: --dry-run lists every candidate of candidates.yml once, as
# runnable or skipped with a reason, and the plan's duration; bad input is one line and exit 2.
set -uo pipefail
H=${1:?harness binary}
SRC=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
out=$("$H" --matrix all --dry-run 2>/dev/null) || fail "--dry-run exited $?"
names=$(/usr/bin/python3 -c "import yaml,sys; print('\n'.join(c['name'] for c in yaml.safe_load(open('$SRC/candidates.yml'))['candidates']))")
for n in $names; do
    [ "$(echo "$out" | grep -cE "^  $n +(runnable|skipped: .+)")" = 1 ] || fail "$n is not listed once as runnable or skipped"
done
echo "$out" | grep -qE "^  lean-lean-overlay-minimal-v1-rootful +runnable" || fail "lean is not runnable"
echo "$out" | grep -qE "^  docker-runc-zfs-minimal-v1-rootful +skipped: storage zfs needs the zfs filesystem" || fail "zfs reason"
echo "$out" | grep -qE "^  microvm-qemu-initramfs-minimal-v1-rootful +(runnable|skipped: (qemu-system-x86_64 is not installed|no guest kernel at))" || fail "microvm: neither runnable nor its probe's reason"
echo "$out" | grep -qE "^  lxd-lxc-dir-minimal-v1-rootful +(runnable|skipped: (lxd is not running|LXD has no storage pool))" || fail "lxd: neither runnable nor its probe's reason"
echo "$out" | grep -qE "^plan: [0-9]+ runnable, [0-9]+ skipped; .* expected duration ~" || fail "no plan line"
# Skipped candidates also grouped by reason, with a count, each reason once.
echo "$out" | grep -qE "^  [0-9]+ skipped: storage zfs needs the zfs filesystem, which this kernel lacks \(docker-runc-zfs" || fail "no grouped skip line"
[ "$(echo "$out" | sed -n '/^skipped, by reason:/,/^plan:/p' | grep -c 'skipped: storage zfs needs')" = 1 ] || fail "a reason is listed twice"
# --quick is a fraction of the full plan.
q=$("$H" --matrix all --dry-run --quick 2>/dev/null | grep '^plan:')
echo "$q" | grep -q "(quick)" || fail "quick plan: $q"
# Bad input: one line on stderr, exit 2, nothing written.
check_error() {
    local want=$1; shift
    local err rc
    err=$("$H" "$@" 2>&1 >/dev/null); rc=$?
    [ "$rc" = 2 ] || fail "$* exited $rc, not 2 ($err)"
    [ "$(echo "$err" | wc -l)" = 1 ] || fail "$* printed more than one line: $err"
    echo "$err" | grep -q -- "$want" || fail "$*: '$err' does not say '$want'"
}
check_error "unknown candidate 'nope'" --matrix nope --dry-run
check_error "unknown key 'colour'" --matrix colour=red --dry-run
check_error "--driver and --matrix exclude each other" --matrix all --driver lean
check_error "--dry-run is for --matrix" --driver lean --dry-run
check_error "unknown test 'nap'" --matrix all --test boot,nap --dry-run
check_error "give it alone" --resume /tmp/x.csv --quick
# A broken candidate file: one line naming the candidate and the problem, exit 1.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed 's/{name: docker-runc-vfs-minimal-v1-rootful, manager: docker, runtime: runc/{name: docker-runc-vfs-minimal-v1-rootful, manager: docker, runtime: youki/' \
    "$SRC/candidates.yml" >"$tmp/bad.yml"
err=$("$H" --matrix all --dry-run --candidates "$tmp/bad.yml" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] || fail "bad candidates file exited $rc"
echo "$err" | grep -q "candidate docker-runc-vfs-minimal-v1-rootful: unknown runtime 'youki'" || fail "bad file: $err"
# Resuming a file that is not there names the file, not its metadata; one whose metadata is gone says so.
check_error "cannot resume $tmp/none.csv: no such file" --resume "$tmp/none.csv"
touch "$tmp/nometa.csv"
err=$("$H" --resume "$tmp/nometa.csv" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] && echo "$err" | grep -q "metadata .* is missing" || fail "resume without metadata: $rc $err"
echo "ok: every candidate listed; reasons and errors as expected"
