#!/bin/busybox sh
# shellcheck shell=dash
# /init of the pure cgroup v2 VM (tests/v2vm/build.sh packs it).
# Stage 1 copies the initramfs to a tmpfs and switch_roots into it: the
# runtimes' pivot_root refuses the initramfs itself.  Stage 2 mounts the
# API filesystems and cgroup2 alone at /sys/fs/cgroup, runs vm-tests.sh
# (TAP-ish lines on the serial console) and powers off.
export PATH=/bin
if [ "${1:-}" != stage2 ]; then
	/bin/busybox mkdir -p /newroot
	/bin/busybox mount -t tmpfs -o size=200m,mode=0755 tmpfs /newroot
	for d in bin lib lib64 etc bundles init vm-tests.sh; do
		/bin/busybox cp -a "/$d" /newroot/
	done
	/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run /newroot/share
	exec /bin/busybox switch_root /newroot /init stage2
fi
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /share
chmod 0777 /share
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
echo 1 >/proc/sys/kernel/printk 2>/dev/null
echo "# v2vm booted: kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ { print $2 / 1024 }' /proc/meminfo)M"
start=$(cut -d. -f1 /proc/uptime)
sh /vm-tests.sh
echo "# v2vm done: status $?, $(($(cut -d. -f1 /proc/uptime) - start))s of tests"
sync
poweroff -f
