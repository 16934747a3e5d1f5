#!/usr/bin/env bash
# ctrbench's two entry points on a fresh Debian 12 machine, as root:
#   ./ctrbench.sh bench   install, build, run the lean boot benchmark, then the quick candidate matrix and its report
#   ./ctrbench.sh test    install, build, run all tests (unit, lean integration, command line)
#   ./ctrbench.sh setup   install, set up the engines, build (what playbooks/run-matrix.yml runs on each host)
# CTRBENCH_CMAKE_ARGS adds CMake options (CI sets -DCTRBENCH_WERROR=ON).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "ctrbench.sh: $*" >&2; exit 1; }

# Debian packages: the toolchain, the libraries of the build, and what the images and tests use.
PACKAGES=(g++ cmake make pkg-config debootstrap libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
          libbenchmark-dev libcap-dev libseccomp-dev libcpp-httplib-dev libnl-route-3-dev libyaml-cpp-dev busybox-static util-linux tar coreutils
          ansible-core python3-apt hyperfine libsqlite3-dev libarchive-dev nettle-dev libacl1-dev liblzma-dev
          libzstd-dev liblz4-dev libbz2-dev zlib1g-dev libxml2-dev libicu-dev python3-matplotlib python3-scipy
          python3-yaml btrfs-progs clang-format lxc-dev openjdk-17-jdk-headless
          libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc)

# containerd's .proto files (the containerd driver's gRPC stubs are made from them at build time) and
# gogo.proto, which they import: Debian ships them in these Go source packages, whose install would
# pull in about 150 more; only their files are needed, unpacked into build/deps.
PROTO_PACKAGES=(golang-github-containerd-containerd-dev golang-github-gogo-protobuf-dev)

# Only the tests need these: Debian's clang 19 and its libFuzzer runtime (tests/fuzz.sh).
TEST_PACKAGES=(clang-19 libclang-rt-19-dev)

install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "ctrbench.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

protos() {
    local deps=build/deps root
    for root in /usr/share/gocode/src $deps/usr/share/gocode/src; do
        [ -f $root/github.com/containerd/containerd/api/services/tasks/v1/tasks.proto ] &&
            [ -f $root/github.com/gogo/protobuf/gogoproto/gogo.proto ] && return 0
    done
    mkdir -p $deps/debs
    local get=(apt-get download -qq -o APT::Sandbox::User=root "${PROTO_PACKAGES[@]}")
    (cd $deps/debs && "${get[@]}") || { apt-get update -qq && (cd $deps/debs && "${get[@]}"); } ||
        die "cannot download ${PROTO_PACKAGES[*]} (containerd's .proto files) from Debian's archive"
    for deb in $deps/debs/*.deb; do dpkg-deb -x "$deb" $deps; done
}

build() {
    # shellcheck disable=SC2086
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CTRBENCH_CMAKE_ARGS:-} >/dev/null
    cmake --build build -j"$(nproc)"
    # The Debian images: full, and service (the service workloads'). Their debootstraps (a few minutes
    # the first time, then cached) were started beside the compile; this adds the agent. Without one,
    # its runs are skipped with the reason; the rest runs.
    local img
    for img in full service; do
        cmake --build build --target image-$img || echo "ctrbench.sh: the $img image could not be built; its runs will be skipped" >&2
    done
}

# The images' debootstraps, in the background (they wait on the network and dpkg, the compile on the CPU).
debootstraps() {
    mkdir -p build/images
    local img
    for img in full service; do
        datasets/build-debian-image.sh $img build/images >build/debootstrap-$img.log 2>&1 &
    done
}

# The engines (crun, runc, runsc, docker, containerd, podman, lxc, lxd, QEMU's microvm) and criu
# through the Ansible playbooks (playbooks/site.yml): installed, configured, daemons started. An engine that fails to set up is skipped by the harness with a reason.
setup_engines() {
    (cd playbooks && ansible-playbook site.yml >../build/ansible.log 2>&1) ||
        echo "ctrbench.sh: engine setup failed (see build/ansible.log); drivers that cannot run will be skipped" >&2
}

setup() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages, and containers need root)"
    install_packages "$@"
    protos
    # The engines' setup (apt, daemons, criu's build) and the images' debootstraps beside ctrbench's
    # build: much of them waits on the network or dpkg. A failed build waits for them.
    mkdir -p build
    debootstraps
    setup_engines &
    local engines=$!
    trap 'wait 2>/dev/null' EXIT
    build
    wait "$engines"
    trap - EXIT
}

run_bench() {
    echo "== lean: boot (harness --driver lean --test boot)"
    ./build/harness --driver lean --test boot
    echo "== lean: seed 000's microbenchmark (benchmark_lean_container 5)"
    ./build/benchmark_lean_container 5
    # Then every candidate of candidates.yml this host can run, quickly (the full matrix: harness
    # --matrix all); the others are listed with the reason they are skipped. Then the report.
    local run
    run="results/matrix-quick-$(date -u +%Y%m%dT%H%M%S)"
    echo "== the candidate matrix, quick (harness --matrix all --quick)"
    ./build/harness --matrix all --quick --out "$run.csv" ||
        echo "ctrbench.sh: some matrix runs failed; their rows say why (the rest is measured)" >&2
    echo "== the report"
    /usr/bin/python3 analysis/report.py "$run.csv" --out "$run-report"
}

run_tests() {
    # Two at a time: the tests that touch the host take turns (RESOURCE_LOCK host), the fuzz test's
    # own build and run go beside them (tests/CMakeLists.txt).
    ctest --test-dir build --output-on-failure --timeout 600 -j2
}

case "${1:-}" in
    bench) setup; run_bench ;;
    test) setup "${TEST_PACKAGES[@]}"; run_tests ;;
    setup) setup ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
