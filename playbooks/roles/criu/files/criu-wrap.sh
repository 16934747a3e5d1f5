#!/bin/bash
# criu-wrap.sh BINARY: makes BINARY a wrapper that runs the criu on PATH with CRIU_FAULT=130, CRIU's
# own switch to its path without x86 hardware breakpoints (criu-dump-probe.sh says when a host needs
# it). A criu that was BINARY itself moves to /usr/local/lib/ctrbench/criu first.
set -euo pipefail
binary=$1
real=$(command -v criu)
if [ "$real" = "$binary" ]; then
    install -D -m 0755 "$real" /usr/local/lib/ctrbench/criu
    real=/usr/local/lib/ctrbench/criu
fi
cat > "$binary.new" <<WRAPPER
#!/bin/sh
# ctrbench's criu role: x86 hardware breakpoints never fire on this host, so CRIU's dump would wait
# forever for its parasite to trap; CRIU_FAULT=130 selects CRIU's own path without them.
CRIU_FAULT=130 exec $real "\$@"
WRAPPER
chmod 0755 "$binary.new"
mv "$binary.new" "$binary"
