# Sourced by the kill -9 tests: what a harness process PID left on this host, one thing per line —
# cgroups, writable layers, bundles, LXC containers, mounts, runtime state, docker and podman containers, LXD instances,
# containerd containers and snapshots, processes
# named after it. Empty when it left nothing.
leftovers_of() {
    local pid=$1 h
    for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
        find "$h" -maxdepth 3 \( -name "ctrbench-$pid*" -o -name "lxc.*.ctrbench-$pid-*" \) 2>/dev/null
    done
    ls -d /var/lib/ctrbench/layers/*/"ctrbench-$pid-"* /run/ctrbench/bundles/"ctrbench-$pid-"* \
        /var/lib/ctrbench/lxc/"ctrbench-$pid-"* /run/ctrbench/microvm/"ctrbench-$pid-"* /run/ctrbench/lxd/"ctrbench-$pid-"* \
        /run/ctrbench/containerd/"ctrbench-$pid-"* 2>/dev/null
    grep "ctrbench-$pid-" /proc/self/mountinfo
    ls -d /run/crun/"ctrbench-$pid-"* /run/runc/"ctrbench-$pid-"* 2>/dev/null
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
        docker ps -a --filter "name=ctrbench-$pid-" --format '{{.Names}}'
    fi
    if command -v podman >/dev/null; then
        podman --cgroup-manager cgroupfs ps -a --filter "name=ctrbench-$pid-" --format '{{.Names}}' 2>/dev/null
    fi
    if [ -S /var/lib/lxd/unix.socket ] && command -v lxc >/dev/null; then
        lxc list --format csv -c n 2>/dev/null | grep "^ctrbench-$pid-" || true
    fi
    if [ -S /run/containerd/containerd.sock ] && command -v ctr >/dev/null; then
        { ctr -n ctrbench containers ls -q; ctr -n ctrbench snapshots ls | awk 'NR > 1 {print $1}'; } 2>/dev/null |
            grep "^ctrbench-$pid-" || true
    fi
    pgrep -f "ctrbench-$pid-" || true
}

# leftovers_of once what the dead run's own children (a `podman start` the harness was waiting for
# when it was killed, say) have finished: up to 10 s.
leftovers_settled() {
    local pid=$1 left i
    for i in $(seq 20); do
        left=$(leftovers_of "$pid")
        [ -z "$left" ] && return 0
        sleep 0.5
    done
    echo "$left"
}

# await_drivers DIR NAME...: the kill -9 tests' drivers (or a driver's sweeps) run side by side, each
# writing DIR/<name>.log; waits for them all, shows each log, and fails (the caller's fail) unless every one
# ended with the line "ok".
await_drivers() {
    local dir=$1 d failed=0
    shift
    wait
    for d in "$@"; do
        cat "$dir/$d.log"
        [ "$(tail -1 "$dir/$d.log")" = ok ] || failed=1
    done
    [ $failed = 0 ] || fail "see above"
}
