#!/usr/bin/env bash
# The playbooks are idempotent: after one run of site.yml, a second changes nothing and fails nothing.
set -euo pipefail
cd "$(dirname "$0")/../playbooks"
command -v ansible-playbook >/dev/null || { echo "skipped: ansible-playbook not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; exit 77; }
ansible-playbook site.yml >/tmp/ctrbench-playbook-1.log 2>&1 || { tail -20 /tmp/ctrbench-playbook-1.log; exit 1; }
ansible-playbook site.yml >/tmp/ctrbench-playbook-2.log 2>&1 || { tail -20 /tmp/ctrbench-playbook-2.log; exit 1; }
recap=$(grep -E '^localhost +:' /tmp/ctrbench-playbook-2.log)
echo "second run: $recap"
echo "$recap" | grep -q 'changed=0 ' || { grep -B2 'changed:' /tmp/ctrbench-playbook-2.log; exit 1; }
echo "$recap" | grep -q 'failed=0 '
