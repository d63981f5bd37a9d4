#!/bin/bash
# The cgroup module on a pure cgroup v2 host with every controller: a small
# VM (qemu under TCG; RUNE_V2_KVM=1 for KVM) booting Debian's kernel
# with an initramfs of busybox + cgroup-tool (tests/cgroup/v2vm/). This
# host's cgroup2 has no controllers (all bound to v1), so only a VM shows v2
# limits biting. Skipped when qemu is not installed (make check-v2 sets it up).
# timeout: 600
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../build}
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "skip - v2 vm: qemu-system-x86_64 not installed (make check-v2 installs it)"
	exit 0
fi
if [ ! -x "$BUILD/tests-bin/cgroup-tool" ]; then
	echo "not ok - v2 vm: $BUILD/tests-bin/cgroup-tool is not built"
	exit 1
fi
out=$(BUILD=$BUILD "$here/v2vm/setup.sh" 2>&1 | tail -1)
if [ ! -s "$out/vmlinuz" ] || [ ! -s "$out/initrd.gz" ]; then
	echo "not ok - v2 vm: setup failed: $out"
	exit 1
fi
# TCG by default: nested KVM (this project's hosts are VMs) hangs at boot.
accel=tcg
[ "${RUNE_V2_KVM:-0}" = 1 ] && [ -w /dev/kvm ] && accel=kvm
log=$(mktemp /tmp/rune-v2vm.XXXXXX)
trap 'rm -f "$log"' EXIT
timeout 400 qemu-system-x86_64 -machine accel=$accel -m 512 -smp 2 -nographic -no-reboot \
	-kernel "$out/vmlinuz" -initrd "$out/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=1 hugepages=4" >"$log" 2>&1 </dev/null
rc=$?
tr -d '\r' <"$log" | grep -E '^(ok|not ok|skip) - |^# '
n=$(tr -d '\r' <"$log" | grep -cE '^(ok|not ok) - ')
if [ "$n" -lt 20 ] || ! tr -d '\r' <"$log" | grep -q '^# inner.sh exit'; then
	echo "not ok - v2 vm: the VM did not finish its tests (qemu rc=$rc, $n results)"
	tr -d '\r' <"$log" | tail -20 | sed 's/^/# /'
	exit 1
fi
