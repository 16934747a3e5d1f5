#!/bin/bash
# criu-wrap.sh BINARY STATIC no-breakpoints|plain: makes BINARY (the criu on PATH of the engines) a
# wrapper that runs STATIC, with CRIU_FAULT=130 (CRIU's own switch to its path without x86 hardware
# breakpoints; criu-dump-probe.sh says when a host needs it) where the host needs it.
set -euo pipefail
binary=$1 static=$2 mode=$3
fault=""
[ "$mode" = no-breakpoints ] && fault="CRIU_FAULT=130 "
cat > "$binary.new" <<WRAPPER
#!/bin/sh
# ctrbench's criu role: the static criu it built${fault:+; x86 hardware breakpoints never fire on this host,
# so CRIU's dump would wait forever for its parasite to trap: CRIU_FAULT=130 selects CRIU's own path without them}.
${fault}exec $static "\$@"
WRAPPER
chmod 0755 "$binary.new"
mv "$binary.new" "$binary"
