#!/usr/bin/env bash
# The arrows of the code stay one-way: harness -> workloads -> driver contract <- each driver ->
# drivers/common -> core. An engine's folder includes the contract, drivers/common/, core/ and its
# own files, never another engine's; drivers/common/ includes only the contract and core/; core/
# includes nothing of the project outside itself; no driver includes the harness or a workload.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bad=0
includes() { grep -rhoE '#include "[a-z_]+/[a-z_]+/?' "$@" 2>/dev/null | sed 's|#include "||' | sort -u; }
for dir in drivers/*/; do
    d=$(basename "$dir")
    [ "$d" = common ] && continue
    hits=$(includes "$dir" | grep -E '^drivers/[a-z_]+/$' | grep -vxE "drivers/($d|common)/")
    [ -z "$hits" ] || { echo "FAIL: drivers/$d includes $(echo $hits)"; bad=1; }
done
hits=$(includes drivers/common | grep -E '^drivers/[a-z_]+/$' | grep -vx 'drivers/common/')
[ -z "$hits" ] || { echo "FAIL: drivers/common includes $(echo $hits)"; bad=1; }
hits=$(grep -rhoE '#include "[a-z_]+/' drivers | sort -u | grep -vE '"(drivers|core)/')
[ -z "$hits" ] || { echo "FAIL: drivers/ includes $(echo $hits) (a driver knows only the contract, common and core)"; bad=1; }
hits=$(grep -rhoE '#include "[a-z_]+/' core | sort -u | grep -v '"core/')
[ -z "$hits" ] || { echo "FAIL: core/ includes $(echo $hits)"; bad=1; }
hits=$(grep -rhoE '#include "[a-z_]+/' workloads datasets | sort -u | grep -E '"harness/')
[ -z "$hits" ] || { echo "FAIL: workloads/ includes $(echo $hits)"; bad=1; }
[ $bad = 0 ] && echo "ok: one-way includes (harness -> workloads -> contract <- drivers -> common -> core)"
exit $bad
