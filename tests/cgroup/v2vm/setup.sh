#!/bin/bash
# Gets what the pure-v2 VM test needs into $1 (default $BUILD/v2vm):
# a Debian kernel (vmlinuz and brd.ko, extracted from the linux-image package
# fetched with apt-get download; nothing installed) and an initramfs holding
# busybox-static, cgroup-tool with its libraries, and inner.sh as the test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../../build}
out=${1:-$BUILD/v2vm}
tool=$BUILD/tests-bin/cgroup-tool
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ ! -s "$out/vmlinuz" ] || [ ! -s "$out/brd.ko" ]; then
	if [ -n "${RUNE_V2_KERNEL:-}" ]; then
		cp "$RUNE_V2_KERNEL" "$out/vmlinuz"
		: >"$out/brd.ko"
	else
		pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
		[ -n "$pkg" ] || { echo "setup: no linux-image package known to apt" >&2; exit 1; }
		tmp=$(mktemp -d)
		trap 'rm -rf "$tmp"' EXIT
		(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1)
		# The kernel, and brd.ko: a RAM disk to put io limits on.
		dpkg-deb --fsys-tarfile "$tmp"/*.deb |
			tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' '*/drivers/block/brd.ko'
		cp "$tmp"/boot/vmlinuz-* "$out/vmlinuz"
		cp "$(find "$tmp" -name brd.ko)" "$out/brd.ko"
	fi
fi

# The initramfs is rebuilt every time: the tool and the test change.
root=$(mktemp -d)
trap 'rm -rf "$root" ${tmp:+"$tmp"}' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$root/bin/busybox"
cp "$tool" "$root/bin/cgroup-tool"
for lib in $(ldd "$tool" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
	case $lib in
	*ld-linux*) cp "$lib" "$root/lib64/" ;;
	*) cp "$lib" "$root/lib/x86_64-linux-gnu/" ;;
	esac
done
cp "$here/inner.sh" "$root/inner.sh"
cp "$out/brd.ko" "$root/brd.ko"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "# booted: $(uname -r)"
sh /inner.sh
echo "# inner.sh exit $?"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$out/initrd.gz"
echo "$out"
