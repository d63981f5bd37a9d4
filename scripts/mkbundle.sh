#!/bin/bash
# Builds a busybox-static OCI bundle, shared by `make demo` and `make bench`.
#
#   scripts/mkbundle.sh DIR [--tty] [args...]
#
# DIR/rootfs: Debian's static /bin/busybox with every applet symlinked to it,
#             a minimal /etc/passwd and /etc/group.
# DIR/config.json: `runc spec`'s defaults (tests/integration/ocicfg.py),
#             terminal false unless --tty, args as given (default: sh -c
#             'echo hello from a rune container').
set -euo pipefail

usage() {
	echo "usage: $0 DIR [--tty] [args...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
tty=false
if [ "${1:-}" = "--tty" ]; then
	tty=true
	shift
fi
if [ $# -eq 0 ]; then
	set -- sh -c 'echo hello from a rune container'
fi

busybox=${BUSYBOX:-/bin/busybox}
if ! [ -x "$busybox" ] || ! "$busybox" --list-full >/dev/null 2>&1; then
	echo "mkbundle: $busybox missing or not a busybox (apt-get install busybox-static)" >&2
	exit 1
fi
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rootfs=$dir/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run,var/tmp}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
chmod 0700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
# Every applet a symlink to /bin/busybox: one process for ~400 links.
"$busybox" --list-full | "$py" -c '
import os, sys
root = sys.argv[1]
for applet in sys.stdin.read().split():
    if applet == "bin/busybox":
        continue
    path = os.path.join(root, applet)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink("/bin/busybox", path)
' "$rootfs" || exit 1
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOF
echo "rune" >"$rootfs/etc/hostname"

# The integration tests' generator writes runc 1.1's `runc spec` defaults.
ocicfg=$(dirname "$0")/../tests/integration/ocicfg.py
"$py" "$ocicfg" gen "$dir/config.json" "$("$py" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")"
"$py" "$ocicfg" set "$dir/config.json" .process.terminal "$tty"
