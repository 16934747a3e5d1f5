#!/usr/bin/env bash
# Builds the `full` image (the thesis's CentOS role: a whole distribution) with debootstrap: Debian
# minbase plus lighttpd, sqlite3, tar, iputils-ping, busybox, and the agent. debootstrap output is not
# byte-for-byte reproducible, so the image is rebuilt only when its inputs change (a stamp of them).
# usage: build-full-image.sh OUT_DIR AGENT_BINARY
# writes OUT_DIR/full.tar, OUT_DIR/full.sha256 and OUT_DIR/rootfs
set -euo pipefail
out=${1:?usage: build-full-image.sh OUT_DIR AGENT_BINARY}
agent=${2:?usage: build-full-image.sh OUT_DIR AGENT_BINARY}
suite=${CTRBENCH_SUITE:-bookworm}
mirror=${CTRBENCH_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
packages=lighttpd,sqlite3,tar,iputils-ping,busybox

die() { echo "build-full-image: $*" >&2; exit 1; }
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
[ -x "$agent" ] || die "agent $agent not found: build the ctrbench-agent target first"
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap)"

stamp="suite=$suite packages=$packages script=$(sha256sum "$0" | cut -c1-16) agent=$(sha256sum "$agent" | cut -c1-16)"
if [ -f "$out/full.tar" ] && [ -f "$out/inputs" ] && [ "$(cat "$out/inputs")" = "$stamp" ]; then
    echo "full image: up to date ($out)"
    exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
echo "full image: debootstrap $suite (minbase + $packages) from $mirror; this takes a few minutes"
debootstrap --variant=minbase --include="$packages" "$suite" "$stage/root" "$mirror" >"$stage/debootstrap.log" 2>&1 ||
    { tail -20 "$stage/debootstrap.log" >&2; die "debootstrap failed"; }
r=$stage/root
install -m 0755 "$agent" "$r/usr/bin/ctrbench-agent"
# What a container image does not need: package caches, logs, the apt lists.
rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/var/log/* "$r"/tmp/*
printf 'ctrbench\n' >"$r/etc/hostname"
mkdir -p "$out"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu --xattrs -C "$r" -cf "$out/full.tar.new" .
mv "$out/full.tar.new" "$out/full.tar"
(cd "$out" && sha256sum full.tar >full.sha256)
rm -rf "$out/rootfs"
mkdir -p "$out/rootfs"
tar --numeric-owner -xpf "$out/full.tar" -C "$out/rootfs"
echo "$stamp" >"$out/inputs"
echo "full image: $out/rootfs ($(du -sh "$out/rootfs" | cut -f1), $(cut -c1-16 "$out/full.sha256"))"
