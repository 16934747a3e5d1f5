#!/usr/bin/env bash
# Builds a Debian image with debootstrap (minbase plus the image's packages), then the agent:
#   full      the thesis's CentOS role (a whole distribution): lighttpd, sqlite3, tar, iputils-ping, busybox
#   service   the service workloads' (seeds 001 and 003): Python 3 with Flask, OpenJDK 17's runtime, and the
#             two services of workloads/service/ (app.py; Server.java, compiled here with the host's javac)
# The debootstrap (minutes) is kept apart from the agent: IMAGES_DIR/debootstrap/NAME.tar, redone only
# when the suite, the packages or this script change, so a new agent costs seconds. Without AGENT the
# script makes only that (./ctrbench.sh starts it beside the compile); two runs wait for each other.
# debootstrap output is not byte-for-byte reproducible, so the image is rebuilt only when its inputs change.
# usage: build-debian-image.sh full|service IMAGES_DIR [AGENT_BINARY]
# writes IMAGES_DIR/NAME/NAME.tar, NAME.sha256 and rootfs (the tar unpacked)
set -euo pipefail
usage="usage: build-debian-image.sh full|service IMAGES_DIR [AGENT_BINARY]"
name=${1:?$usage}
images=${2:?$usage}
agent=${3:-}
src=$(cd "$(dirname "$0")/.." && pwd)
suite=${CTRBENCH_SUITE:-bookworm}
mirror=${CTRBENCH_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
die() { echo "build-debian-image ($name): $*" >&2; exit 1; }
case $name in
    full) packages=lighttpd,sqlite3,tar,iputils-ping,busybox ;;
    service) packages=python3-flask,openjdk-17-jre-headless,busybox ;;
    *) die "unknown image '$name' (full or service)" ;;
esac
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap)"
[ -z "$agent" ] || [ -x "$agent" ] || die "agent $agent not found: build the ctrbench-agent target first"
if [ "$name" = service ] && [ -n "$agent" ]; then
    command -v javac >/dev/null || die "javac not found (the JVM service is compiled here): apt-get install openjdk-17-jdk-headless"
fi

# The debootstrap, cached (one at a time: a second run waits for the first's and finds it made).
cache=$images/debootstrap
mkdir -p "$cache"
base=$cache/$name.tar
base_stamp="suite=$suite packages=$packages script=$(sha256sum "$0" | cut -c1-16)"
exec 9>"$cache/$name.lock"
flock 9
if [ -f "$base" ] && [ "$(cat "$cache/$name.inputs" 2>/dev/null)" = "$base_stamp" ]; then
    echo "$name image: debootstrap up to date ($base)"
else
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    echo "$name image: debootstrap $suite (minbase + $packages) from $mirror; this takes a few minutes"
    debootstrap --variant=minbase --include="$packages" "$suite" "$stage/root" "$mirror" >"$stage/debootstrap.log" 2>&1 ||
        { tail -20 "$stage/debootstrap.log" >&2; die "debootstrap failed"; }
    r=$stage/root
    # What a container image does not need: package caches, logs, the apt lists.
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/var/log/* "$r"/tmp/*
    # The service image is imported by every engine: its documentation and translations (57 MB) stay out.
    [ "$name" = service ] && rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/locale/*
    printf 'ctrbench\n' >"$r/etc/hostname"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu --xattrs -C "$r" -cf "$base.new" .
    mv "$base.new" "$base"
    echo "$base_stamp" >"$cache/$name.inputs"
    rm -rf "$stage"
    trap - EXIT
fi
flock -u 9
[ -n "$agent" ] || exit 0

# The image: the debootstrap, the agent, the image's own files.
out=$images/$name
extra=()
[ "$name" = service ] && extra=("$src/workloads/service/app.py" "$src/workloads/service/Server.java")
stamp="$base_stamp base=$(stat -c %Y "$base") agent=$(sha256sum "$agent" | cut -c1-16)"
for f in "${extra[@]}"; do stamp="$stamp $(basename "$f")=$(sha256sum "$f" | cut -c1-16)"; done
if [ -f "$out/$name.tar" ] && [ -d "$out/rootfs/bin" ] && [ "$(cat "$out/inputs" 2>/dev/null)" = "$stamp" ]; then
    echo "$name image: up to date ($out)"
    exit 0
fi
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/bin"
install -m 0755 "$agent" "$stage/usr/bin/ctrbench-agent"
if [ "$name" = service ]; then
    svc=$stage/opt/ctrbench/service
    mkdir -p "$svc"
    install -m 0644 "$src/workloads/service/app.py" "$svc/app.py"
    javac --release 17 -d "$svc" "$src/workloads/service/Server.java" >"$stage/javac.log" 2>&1 ||
        { cat "$stage/javac.log" >&2; die "javac of workloads/service/Server.java failed"; }
    rm -f "$stage/javac.log"
    chmod -R a+rX "$stage/opt"
fi
# The debootstrap's tar, then the additions appended with the same normalisation.
cp "$base" "$out/$name.tar.new"
add=(./usr/bin/ctrbench-agent)
[ "$name" = service ] && add+=(./opt/ctrbench)
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$stage" -rf "$out/$name.tar.new" "${add[@]}"
mv "$out/$name.tar.new" "$out/$name.tar"
(cd "$out" && sha256sum "$name.tar" >"$name.sha256")
rm -rf "$out/rootfs"
mkdir -p "$out/rootfs"
tar --numeric-owner -xpf "$out/$name.tar" -C "$out/rootfs"
echo "$stamp" >"$out/inputs"
echo "$name image: $out/rootfs ($(du -sh "$out/rootfs" | cut -f1), $(cut -c1-16 "$out/$name.sha256"))"
