#!/bin/bash
# Builds a busybox-static OCI bundle, shared by `make demo` and `make bench`.
#
#   scripts/mkbundle.sh DIR [--tty] [args...]
#
# DIR/rootfs: Debian's static /bin/busybox with every applet symlinked to it,
#             a minimal /etc/passwd and /etc/group.
# DIR/config.json: `runc spec`'s defaults (from runc when installed, else the
#             same JSON written with python3's stdlib), terminal false unless
#             --tty, args as given (default: sh -c 'echo hello from a rune
#             container').
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
"$busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$rootfs/$(dirname "$applet")"
	ln -sf /bin/busybox "$rootfs/$applet"
done
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

rm -f "$dir/config.json"
if command -v runc >/dev/null 2>&1 && runc spec --bundle "$dir" 2>/dev/null; then
	:
else
	rm -f "$dir/config.json"
fi

# Either edit runc's spec or write the same defaults (runc 1.1's `runc spec`).
"$py" - "$dir/config.json" "$tty" "$@" <<'EOF'
import json, os, sys

path, tty, args = sys.argv[1], sys.argv[2] == "true", sys.argv[3:]
caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
default = {
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": True,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
        ],
        "cwd": "/",
        "capabilities": {k: list(caps) for k in
                         ("bounding", "effective", "permitted", "ambient")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                     "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": t} for t in
                       ("pid", "network", "ipc", "uts", "mount")],
        "maskedPaths": [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
            "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        ],
        "readonlyPaths": [
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger",
        ],
    },
}
if os.path.exists(path):
    with open(path) as f:
        spec = json.load(f)
else:
    spec = default
spec["process"]["terminal"] = tty
spec["process"]["args"] = args
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(spec, f, indent="\t")
    f.write("\n")
os.rename(tmp, path)
EOF
