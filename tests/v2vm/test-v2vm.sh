#!/bin/bash
# timeout: 420
# rune on a pure cgroup v2 host: a small VM (qemu-system-x86_64, TCG)
# booting Debian's kernel with an initramfs of busybox-static, rune and
# busybox bundles (tests/v2vm/build.sh); its /init runs vm-tests.sh, whose
# "ok - v2vm: ..." lines come back on the serial console and are printed
# here.  Skipped, with the reason, when qemu or a kernel is missing.
# RUNE_V2_KERNEL=PATH picks the kernel; V2VM_RUNTIME=runc runs the same
# checks with runc as the VM's "rune" (validation); V2VM_TIMEOUT (default 300 s) bounds
# the VM; V2VM_LOG=FILE keeps the console log.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
export BUILD=${BUILD:-$SRCDIR/build}
QEMU=${QEMU:-qemu-system-x86_64}
if ! command -v "$QEMU" >/dev/null; then
	echo "skip - v2vm (qemu-system-x86_64 is not installed: apt-get install --no-install-recommends qemu-system-x86)"
	exit 0
fi
if [ -z "${V2VM_RUNTIME:-}" ] && [ ! -x "$BUILD/bin/rune" ]; then
	echo "not ok - v2vm: $BUILD/bin/rune is not built (make all)"
	exit 1
fi
tmp=$(mktemp -d /tmp/rune-v2vm.XXXXXX)
qpid=
cleanup() {
	[ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

start=$SECONDS
bst=0
out=$(bash "$here/build.sh" 2>"$tmp/build.err" | tail -1) || bst=$?
if [ $bst = 3 ]; then
	echo "skip - v2vm ($(tail -1 "$tmp/build.err"))"
	exit 0
elif [ $bst != 0 ] || [ ! -s "$out/vmlinuz" ] || [ ! -s "$out/initrd.gz" ]; then
	sed 's/^/# /' "$tmp/build.err" | tail -10
	echo "not ok - v2vm: building the VM image failed"
	exit 1
fi
echo "# image built in $((SECONDS - start))s ($(du -h "$out/initrd.gz" | cut -f1) initramfs)"

log=${V2VM_LOG:-$tmp/console.log}
# -accel tcg even where /dev/kvm exists: the check must behave the same on
# CI hosts without KVM.  hugepages=8 gives the hugetlb case its pages.
vmstart=$SECONDS
timeout -k 5 "${V2VM_TIMEOUT:-300}" "$QEMU" -accel tcg -m 512 -smp 2 -nographic -no-reboot \
	-kernel "$out/vmlinuz" -initrd "$out/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=1 quiet hugepages=8 rdinit=/init" \
	-nic none >"$log" 2>&1 </dev/null &
qpid=$!
wait $qpid
qrc=$?
qpid=
tr -d '\r' <"$log" | grep -E '^(ok|not ok|skip) - |^# ' 
n=$(tr -d '\r' <"$log" | grep -cE '^(ok|not ok) - ')
if ! tr -d '\r' <"$log" | grep -q '^# v2vm done'; then
	echo "# the VM did not finish (qemu status $qrc, $((SECONDS - vmstart))s); console tail:"
	tr -d '\r' <"$log" | grep -vE '^(ok|not ok|skip) - ' | tail -25 | sed 's/^/#   /'
	echo "not ok - v2vm: the VM ran vm-tests.sh to the end ($n results)"
	exit 1
fi
if [ "$n" -lt 40 ]; then
	echo "not ok - v2vm: too few results ($n)"
	exit 1
fi
echo "# VM ran ${n} checks in $((SECONDS - vmstart))s (qemu status $qrc)"
