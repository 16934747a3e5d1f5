#!/usr/bin/env bash
# playbooks/run-matrix.yml against this host (local connection) with --quick: the host is set up,
# the project built, the quick matrix run, its CSV and metadata fetched into <results>/<host>/, and
# the report made. Checks the rows (every candidate of candidates.yml has one: measured or skipped)
# and that the quick matrix stays under 15 minutes.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; exit 77; }
command -v ansible-playbook >/dev/null || { echo "skipped: ansible-playbook not installed"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
btrfs_before=$(findmnt -n --mountpoint /var/lib/ctrbench/btrfs >/dev/null && echo yes || echo no)
start=$(date +%s)
# The host is set up and the project built (./ctrbench.sh test did it; playbooks.idempotent checks the
# setup's playbooks): the playbook's own setup step is skipped here.
[ -x "$SRC/build/harness" ] || { echo "skipped: build the project first (./ctrbench.sh setup)"; exit 77; }
(cd "$SRC/playbooks" && ansible-playbook -i inventory/localhost.ini run-matrix.yml -e "matrix_flags=--quick" -e ctrbench_setup=false \
    -e "results_dir=$tmp" -e "host_results_dir=$tmp/host" >"$tmp/run.log" 2>&1) || { tail -40 "$tmp/run.log"; fail "run-matrix.yml failed"; }
elapsed=$(( $(date +%s) - start ))
grep -A8 "Show how it went" "$tmp/run.log" | sed -n '1,10p'
csv=$(ls "$tmp"/localhost/matrix-*-localhost.csv 2>/dev/null | head -1)
[ -n "$csv" ] || fail "no CSV fetched into $tmp/localhost/"
[ -f "${csv%.csv}.json" ] || fail "no metadata fetched beside $csv"
names=$(/usr/bin/python3 -c "import yaml; print('\n'.join(c['name'] for c in yaml.safe_load(open('$SRC/candidates.yml'))['candidates']))")
for n in $names; do grep -q ",$n," "$csv" || fail "candidate $n has no row"; done
ok=$(grep -c ",ok," "$csv")
[ "$ok" -gt 50 ] || fail "only $ok successful runs"
grep -q ",lean-lean-overlay-minimal-v1-rootful,.*,boot,,1,0,.*,ok," "$csv" || fail "no lean boot row"
report=$(ls "$tmp"/report/*/report.md 2>/dev/null | head -1)
[ -n "$report" ] && grep -q "## The best configuration" "$report" || fail "no report"
m=$(/usr/bin/python3 -c "import json; m=json.load(open('${csv%.csv}.json')); o=m.get('harness_overhead',{}); print(round(m['elapsed_s']), round(o.get('percent_of_run',0),3))")
echo "run-matrix.yml --quick: ${elapsed}s in all (matrix itself $(echo $m | cut -d' ' -f1)s), $ok ok runs, harness overhead $(echo $m | cut -d' ' -f2)% of run time"
[ "$(echo $m | cut -d' ' -f1)" -lt 900 ] || fail "the quick matrix took longer than 15 minutes"
# Nothing written into the user's results/ or left in /tmp by the test.
ls "$SRC"/results/*"$(basename "${csv%-localhost.csv}")"* 2>/dev/null && fail "the test wrote into $SRC/results/"
ls /tmp/ctrbench-ansible.log /tmp/ctrbench-playbook-* 2>/dev/null && fail "logs left in /tmp"
rm -rf "$SRC/build/last-quick-matrix-report"; cp -r "$(dirname "$report")" "$SRC/build/last-quick-matrix-report" 2>/dev/null || true  # for a look after the test
# The host as found: docker on its storage, no btrfs loop mount the matrix made.
[ "$btrfs_before" = yes ] || ! findmnt -n --mountpoint /var/lib/ctrbench/btrfs >/dev/null || fail "the btrfs loop mount was left"
echo ok
