#!/usr/bin/env bash
# Builds the `minimal` image (the thesis's Alpine role) from Debian's busybox-static and the agent.
# The same inputs give the same bytes: sorted entries, mtime 0, owner 0, relative symlinks.
# usage: build-minimal-image.sh OUT_DIR AGENT_BINARY
# writes OUT_DIR/minimal.tar, OUT_DIR/minimal.sha256 and OUT_DIR/rootfs (the tar unpacked)
set -euo pipefail
out=${1:?usage: build-minimal-image.sh OUT_DIR AGENT_BINARY}
agent=${2:?usage: build-minimal-image.sh OUT_DIR AGENT_BINARY}
busybox=${BUSYBOX:-/bin/busybox}

die() { echo "build-minimal-image: $*" >&2; exit 1; }
[ -x "$busybox" ] || die "$busybox not found: apt-get install busybox-static"
"$busybox" --list-full >/dev/null 2>&1 || die "$busybox does not list its applets"
if ldd "$busybox" >/dev/null 2>&1; then die "$busybox is dynamically linked: install busybox-static, not busybox"; fi
[ -x "$agent" ] || die "agent $agent not found: build the ctrbench-agent target first"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
r=$stage/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,dev,sys,tmp,root,var/tmp,run,home,data}
install -m 0755 "$busybox" "$r/bin/busybox"
# Relative links, so the image means the same thing inside a container and seen from the host.
"$busybox" --list-full | sort | while read -r applet; do
    [ "$applet" = bin/busybox ] && continue
    dir=$(dirname "$applet")
    up=$(echo "$dir" | sed -E 's#[^/]+#..#g')
    [ -e "$r/$applet" ] || ln -s "$up/bin/busybox" "$r/$applet"
done
install -m 0755 "$agent" "$r/usr/bin/ctrbench-agent"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
printf 'ctrbench\n' >"$r/etc/hostname"
printf '127.0.0.1 localhost\n' >"$r/etc/hosts"
chmod 1777 "$r/tmp" "$r/var/tmp"
chmod 0700 "$r/root"

mkdir -p "$out"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$r" -cf "$out/minimal.tar.new" .
mv "$out/minimal.tar.new" "$out/minimal.tar"
(cd "$out" && sha256sum minimal.tar >minimal.sha256)
rm -rf "$out/rootfs"
mkdir -p "$out/rootfs"
tar --numeric-owner -xpf "$out/minimal.tar" -C "$out/rootfs"
echo "minimal image: $out/rootfs ($(cut -c1-16 "$out/minimal.sha256"))"
