#!/usr/bin/env bash
# The playbooks are idempotent: after one run, a second changes nothing and fails nothing. Checked for
# site.yml (on a host ./ctrbench.sh setup has set up, its first run here is that second run: run twice
# only when the first changed something), then for a candidate playbook that reconfigures Docker
# (btrfs on a loop file, its own data root); the overlay2 candidate's playbook puts Docker back.
set -euo pipefail
cd "$(dirname "$0")/../playbooks"
command -v ansible-playbook >/dev/null || { echo "skipped: ansible-playbook not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; exit 77; }
logs=$(mktemp -d); trap 'rm -rf "$logs"' EXIT
mounted_before=$(findmnt -n --mountpoint /var/lib/ctrbench/btrfs >/dev/null && echo yes || echo no)
twice() {
    local book=$1 log=$logs/$(basename "$1" .yml)
    ansible-playbook "$book" >"$log-1.log" 2>&1 || { tail -20 "$log-1.log"; exit 1; }
    if [ "${2:-}" = once-if-unchanged ] && grep -E '^localhost +:' "$log-1.log" | grep -q 'changed=0 '; then
        cp "$log-1.log" "$log-2.log"
    else
        ansible-playbook "$book" >"$log-2.log" 2>&1 || { tail -20 "$log-2.log"; exit 1; }
    fi
    local recap
    recap=$(grep -E '^localhost +:' "$log-2.log")
    echo "$book, second run: $recap"
    echo "$recap" | grep -q 'changed=0 ' || { grep -B2 'changed:' "$log-2.log"; exit 1; }
    echo "$recap" | grep -q 'failed=0 '
}
twice site.yml once-if-unchanged
twice candidates/docker-crun-btrfs-minimal-v1-rootful.yml
[ "$(docker info --format '{{.Driver}}')" = btrfs ] || { echo "docker is not on btrfs after its candidate's playbook"; exit 1; }
ansible-playbook candidates/docker-crun-overlay2-minimal-v1-rootful.yml >"$logs/back.log" 2>&1 || { tail -20 "$logs/back.log"; exit 1; }
[ "$(docker info --format '{{.Driver}}')" = overlay2 ] || { echo "the overlay2 candidate's playbook did not put docker back on overlay2"; exit 1; }
# A candidate this kernel cannot have: its playbook fails with the reason.
if out=$(ansible-playbook candidates/docker-runc-zfs-minimal-v1-rootful.yml 2>&1); then echo "the zfs playbook succeeded"; exit 1; fi
echo "$out" | grep -q "storage zfs needs the zfs filesystem, which this kernel lacks" || { echo "$out" | tail -5; exit 1; }
# Leave the host as found: the btrfs candidate's loop filesystem, now unused (docker is on overlay2).
[ "$mounted_before" = yes ] || umount /var/lib/ctrbench/btrfs
# LXD's btrfs pool exists only while a btrfs candidate needs it: its playbook makes it, a dir
# candidate's removes it (the images' copies in it first), and nothing of it stays mounted.
if command -v lxc >/dev/null && lxc storage show ctrbench-dir >/dev/null 2>&1; then
    ansible-playbook candidates/lxd-lxc-btrfs-minimal-v1-rootful.yml >"$logs/lxd-btrfs.log" 2>&1 || { tail -20 "$logs/lxd-btrfs.log"; exit 1; }
    lxc storage show ctrbench-btrfs >/dev/null || { echo "the lxd btrfs candidate's playbook made no ctrbench-btrfs pool"; exit 1; }
    ansible-playbook candidates/lxd-lxc-dir-minimal-v1-rootful.yml >"$logs/lxd-dir.log" 2>&1 || { tail -20 "$logs/lxd-dir.log"; exit 1; }
    if lxc storage show ctrbench-btrfs >/dev/null 2>&1; then echo "the lxd dir candidate's playbook left the btrfs pool"; exit 1; fi
    if findmnt -rn -o TARGET | grep -q ctrbench-btrfs; then echo "LXD's btrfs pool is still mounted"; exit 1; fi
fi
echo "ok"
