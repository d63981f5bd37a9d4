#!/bin/bash
# Builds what the pure cgroup v2 VM check needs into OUT (default
# $BUILD/v2vm-rune) and prints OUT on its last line:
#   vmlinuz    a kernel: $RUNE_V2_KERNEL, else a cached one, else the
#              host's readable /boot/vmlinuz-*, else Debian's
#              linux-image-amd64 (apt-get download + dpkg-deb; nothing is
#              installed)
#   initrd.gz  busybox-static, rune ($BUILD/bin/rune, or $V2VM_RUNTIME) with the shared
#              libraries ldd names, busybox bundles whose config.json files
#              are made here by tests/integration/ocicfg.py, and the test
#              scripts (init.sh as /init, vm-tests.sh)
# Exit 3 (after a message) when no kernel can be had: the caller skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
# V2VM_RUNTIME=runc (or a path) puts that runtime in the image as /bin/rune
# instead, to validate the checks against runc.
RUNE=${V2VM_RUNTIME:-$BUILD/bin/rune}
[[ $RUNE == */* ]] || RUNE=$(command -v "$RUNE")
out=${1:-$BUILD/v2vm-$(basename "$RUNE")}
BUSYBOX=${BUSYBOX:-/bin/busybox}
OCICFG=$SRCDIR/tests/integration/ocicfg.py
mkdir -p "$out"
out=$(cd "$out" && pwd)

[ -x "$RUNE" ] || { echo "build: $RUNE is not built (make all)" >&2; exit 1; }
[ -x "$BUSYBOX" ] || { echo "build: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 3; }
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
	{ echo "build: $BUSYBOX is not static (busybox-static)" >&2; exit 3; }

tmp=$(mktemp -d /tmp/rune-v2vm-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ------------------------------------------------------------ kernel
# The kernel is cached in $BUILD/v2vm-kernel (shared by every OUT).
kcache=$BUILD/v2vm-kernel
get_kernel() {
	local k pkg
	if [ -n "${RUNE_V2_KERNEL:-}" ]; then
		cp "$RUNE_V2_KERNEL" "$out/vmlinuz"
		return
	fi
	if [ -s "$kcache/vmlinuz" ]; then
		cp "$kcache/vmlinuz" "$out/vmlinuz"
		return
	fi
	mkdir -p "$kcache"
	for k in /boot/vmlinuz-*; do
		if [ -f "$k" ] && [ -r "$k" ]; then
			cp "$k" "$kcache/vmlinuz"
			cp "$k" "$out/vmlinuz"
			echo "build: kernel from $k" >&2
			return
		fi
	done
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		echo "build: no kernel: no /boot/vmlinuz-*, and apt knows no linux-image-amd64" >&2
		exit 3
	fi
	if ! (cd "$tmp" && apt-get download "$pkg" >"$tmp/apt.log" 2>&1); then
		echo "build: no kernel: apt-get download $pkg failed: $(tail -1 "$tmp/apt.log")" >&2
		exit 3
	fi
	dpkg-deb --fsys-tarfile "$tmp"/"$pkg"_*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
	cp "$tmp"/boot/vmlinuz-* "$kcache/vmlinuz.tmp"
	mv "$kcache/vmlinuz.tmp" "$kcache/vmlinuz"
	echo "$pkg" >"$kcache/package"
	cp "$kcache/vmlinuz" "$out/vmlinuz"
	echo "build: kernel from $pkg" >&2
}
get_kernel

# ------------------------------------------------------------ initramfs
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,newroot,etc,lib64,lib/x86_64-linux-gnu,bundles}
cp "$BUSYBOX" "$root/bin/busybox"
cp "$RUNE" "$root/bin/rune"
for lib in $(ldd "$RUNE" | awk '/=> \// { print $3 } /^[[:space:]]*\/.*ld-linux/ { print $1 }'); do
	case $lib in
	*ld-linux*) cp -L "$lib" "$root/lib64/" ;;
	*) cp -L "$lib" "$root/lib/x86_64-linux-gnu/" ;;
	esac
done
cp "$here/init.sh" "$root/init"
cp "$here/vm-tests.sh" "$root/vm-tests.sh"
chmod 0755 "$root/init"

# The bundles share one read-only rootfs: busybox and its applets.
rfs=$root/bundles/rootfs
mkdir -p "$rfs"/{bin,etc,proc,sys,dev,tmp,root,share,hp}
cp "$BUSYBOX" "$rfs/bin/busybox"
for a in $("$BUSYBOX" --list); do [ -e "$rfs/bin/$a" ] || ln -s busybox "$rfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rfs/etc/passwd"
echo 'root:x:0:' >"$rfs/etc/group"
chmod 1777 "$rfs/tmp"

# bundle NAME ARGS_JSON [PY]: bundles/NAME/config.json, cgroupsPath
# /v2-NAME, the shared rootfs, /dev/shm big enough, /share bound from the
# VM's /share; PY edits the config (`c`).
bundle() {
	local d=$root/bundles/$1
	mkdir -p "$d"
	python3 "$OCICFG" gen "$d/config.json" "$2"
	python3 "$OCICFG" py "$d/config.json" "
c['root'] = {'path': '/bundles/rootfs', 'readonly': True}
c['linux']['cgroupsPath'] = '/v2-$1'
for m in c['mounts']:
    if m['destination'] == '/dev/shm':
        m['options'] = ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=256m']
c['mounts'].append({'destination': '/share', 'type': 'bind', 'source': '/share', 'options': ['rbind', 'rw']})
${3:-}
"
}
HOG='echo 1000 >/proc/self/oom_score_adj; dd if=/dev/zero bs=1M count=64 2>/dev/null | tail >/dev/null'
bundle hello '["sh", "-c", "echo hello; cat /proc/self/cgroup"]'
# with a cgroup namespace: runc 1.1 mounts the hierarchy's root without one
bundle inside '["sh", "-c", "cd /sys/fs/cgroup && cat cpu.weight cpu.max cpuset.cpus memory.max pids.max"]' \
	"c['linux']['resources'].update({'cpu': {'shares': 512, 'quota': 20000, 'period': 100000, 'cpus': '0'}, 'memory': {'limit': 16777216}, 'pids': {'limit': 9}}); c['linux']['namespaces'].append({'type': 'cgroup'})"
bundle oom "[\"sh\", \"-c\", \"$HOG\"]" "c['linux']['resources']['memory'] = {'limit': 16777216}"
bundle nolimit "[\"sh\", \"-c\", \"$HOG\"]"
bundle pids '["sh", "-c", "(for i in $(seq 20); do sleep 60 & done) 2>/share/pids.err; echo done >/share/pids.done; exec sleep 60"]' \
	"c['linux']['resources']['pids'] = {'limit': 8}"
bundle pause '["sh", "-c", "while :; do echo x >>/share/counter; usleep 50000; done"]'
bundle update '["sleep", "600"]' \
	"c['linux']['resources']['memory'] = {'limit': 16777216}; c['linux']['resources']['pids'] = {'limit': 100}"
bundle cpu '["sh", "-c", "while :; do :; done"]' \
	"c['linux']['resources']['cpu'] = {'shares': 512, 'quota': 2000, 'period': 100000, 'cpus': '0'}"
# /dev/wkmsg (c 1:11 = kmsg, mode 0600): a write-only open needs no
# capability, so only the device program decides.
DEVS="c['linux']['devices'] = [{'path': '/dev/wkmsg', 'type': 'c', 'major': 1, 'minor': 11, 'fileMode': 384}]"
bundle devices '["sh", "-c", "stat -c \"%t:%T %a\" /dev/wkmsg; (echo rune-v2vm >/dev/wkmsg) 2>&1 && echo wrote; echo x >/dev/null && echo null-ok"]' \
	"$DEVS; c['linux']['resources']['devices'].append({'allow': True, 'type': 'c', 'major': 1, 'minor': 11, 'access': 'w'})"
bundle devdeny '["sh", "-c", "(echo rune-v2vm >/dev/wkmsg) 2>&1 && echo wrote; echo x >/dev/null && echo null-ok"]' "$DEVS"
bundle hugetlb '["sh", "-c", "fallocate -l 4M /hp/a && echo a-ok; fallocate -l 4M /hp/b 2>&1 || echo b-failed"]' \
	"c['linux']['resources']['hugepageLimits'] = [{'pageSize': '2MB', 'limit': 4194304}]; c['mounts'].append({'destination': '/hp', 'type': 'hugetlbfs', 'source': 'hugetlbfs', 'options': ['pagesize=2M']})"
bundle events '["sh", "-c", "sleep 600 & sleep 600"]' \
	"c['linux']['resources']['memory'] = {'limit': 33554432}; c['linux']['resources']['pids'] = {'limit': 20}"
bundle userns '["sh", "-c", "id -u; cat /proc/self/uid_map; sleep 600"]' \
	"c['linux']['namespaces'].append({'type': 'user'}); c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]; c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]"
bundle badcpus '["true"]' "c['linux']['resources']['cpu'] = {'cpus': '6-7'}"
bundle unified '["sleep", "600"]' "c['linux']['resources']['unified'] = {'memory.high': '20971520', 'pids.max': '7'}"
(cd "$root" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$out/initrd.gz.tmp"
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
echo "$out"
