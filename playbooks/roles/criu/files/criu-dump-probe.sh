#!/bin/bash
# criu-dump-probe.sh CRIU: dumps a sleeping process with CRIU, as the checkpoint workloads will.
# Prints "ok"; "no-breakpoints" when the dump only works on CRIU's path without x86 hardware
# breakpoints (in some VMs they never fire, and the dump waits forever at "Waiting for <pid> to
# trap"; CRIU_FAULT=130 is CRIU's own switch to that path); or "fails" and exits 1.
set -uo pipefail
criu=$1
tmp=$(mktemp -d)
setsid sleep 60 </dev/null >/dev/null 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.2
try() {  # env... : dump $pid (criu kills it once dumped), at most 10 s
    rm -rf "$tmp/img" && mkdir "$tmp/img"
    env "$@" timeout -s KILL 10 "$criu" dump -t "$pid" -D "$tmp/img" -o dump.log >/dev/null 2>&1
}
if try; then echo ok; exit 0; fi
# criu killed mid-dump leaves the process stopped under its ptrace; it resumes when criu dies
kill -CONT "$pid" 2>/dev/null
if try CRIU_FAULT=130; then echo no-breakpoints; exit 0; fi
echo fails
tail -3 "$tmp/img/dump.log" >&2
exit 1
