#!/usr/bin/env bash
# The arrows of the code stay one-way: an engine's folder includes the contract, drivers/common/ and
# its own files, never another engine's; drivers/common/ includes only the contract.
set -uo pipefail
cd "$(dirname "$0")/../drivers" || exit 1
bad=0
for dir in */; do
    d=${dir%/}
    [ "$d" = common ] && continue
    hits=$(grep -rhoE '#include "drivers/[a-z_]+/' "$d" | sed 's|#include "drivers/||; s|/$||' | sort -u | grep -vxE "$d|common")
    [ -z "$hits" ] || { echo "FAIL: drivers/$d includes drivers/$hits"; bad=1; }
done
hits=$(grep -rhoE '#include "drivers/[a-z_]+/' common | sort -u | grep -v 'drivers/common/')
[ -z "$hits" ] || { echo "FAIL: drivers/common includes $hits"; bad=1; }
[ $bad = 0 ] && echo "ok: no engine folder includes another's; drivers/common includes only the contract"
exit $bad
