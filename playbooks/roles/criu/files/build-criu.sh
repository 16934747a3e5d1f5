#!/bin/bash
# build-criu.sh SUITE RUNDIR BINARY: criu from the source tarball of Debian release SUITE, built static
# and without its optional libraries (GnuTLS, nftables, SELinux, BPF, DRM: pkg-config is told they are
# absent), with its kernel-probe cache in RUNDIR, installed as BINARY. The release's source index goes into a
# directory of this build's own, given to apt on its command line: the host's APT configuration never
# names that release, so no binary package of it can come in.
set -euo pipefail
suite=$1 rundir=$2 binary=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir -p lists/partial
cat > src.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt=(-qq -o Dir::Etc::sourcelist="$tmp/src.sources" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$tmp/lists"
     -o APT::Sandbox::User=root)
apt-get "${apt[@]}" update
# The upstream tarball only, checked against the release's Sources index.
apt-get "${apt[@]}" source --tar-only criu
tar xf criu_*.orig.tar.*
cd criu-*/
cat > "$tmp/pkg-config" <<'PKGCONFIG'
#!/bin/sh
for a in "$@"; do case "$a" in libselinux|gnutls|libnftables|libbpf|libdrm) exit 1;; esac; done
exec pkg-config "$@"
PKGCONFIG
chmod +x "$tmp/pkg-config"
# Built as usual, then the binary linked again static (LDFLAGS=-static from the start would also reach
# the parasite's and restorer's blobs, which must stay as they are).
build() { make -j"$(nproc)" criu RUNDIR="$rundir" PKG_CONFIG="$tmp/pkg-config" "$@" >> build.log 2>&1 ||
    { tail -30 build.log >&2; exit 1; }; }
build
rm criu/criu
build LDFLAGS=-static
install -D -m 0755 criu/criu "$binary.new"
mv "$binary.new" "$binary"
