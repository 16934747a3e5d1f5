#!/bin/bash
# criu-static-ok.sh CRIU: exits 0 when CRIU is a statically linked criu that passes `criu check`.
set -uo pipefail
criu=$1
[ -x "$criu" ] || exit 1
# A static executable has no program interpreter.
if LC_ALL=C readelf -l "$criu" 2>/dev/null | grep -q 'Requesting program interpreter'; then exit 1; fi
"$criu" check >/dev/null 2>&1
