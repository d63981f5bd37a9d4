#!/bin/bash
# timeout: 400
# The resource tests on a pure cgroup v2 layout made from this hybrid host
# in a private mount namespace: `unshare -m` (/ made rprivate), every v1
# hierarchy and the /sys/fs/cgroup tmpfs unmounted, cgroup2 mounted alone
# at /sys/fs/cgroup.  Every controller but hugetlb is bound to v1 here, so
# this v2 has none of cpu/memory/pids/io: it exercises rune's v2 paths that
# need no controller (cgroup.freeze for pause/resume, the eBPF device
# program, hugetlb.*.max, userns) and the clear errors for the missing
# controllers; limits that need them skip (the VM, make check-v2, shows
# them).  Case names get a "v2host: " prefix.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
export BUILD=${BUILD:-$SRCDIR/build}
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	echo "skip - v2host layout (needs root and unshare)"
	exit 0
fi
if ! grep -qw cgroup2 /proc/filesystems; then
	echo "skip - v2host layout (no cgroup2 in this kernel)"
	exit 0
fi
export RES_TAG=v2host RES_PFX="rv2$$"
scripts=${V2HOST_SCRIPTS:-limits update events userns clear-errors}
rc=0
for s in $scripts; do
	echo "# --- test-$s.sh on pure v2 (no controllers but hugetlb)"
	# shellcheck disable=SC2016
	unshare -m --propagation private bash -c '
		for m in $(awk '\''$9 == "cgroup" || $9 == "cgroup2" { print $5 }'\'' /proc/self/mountinfo | sort -r); do
			umount "$m" || { echo "not ok - v2host: umount $m"; exit 1; }
		done
		umount /sys/fs/cgroup 2>/dev/null
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || { echo "not ok - v2host: mount cgroup2"; exit 1; }
		exec bash "$0"' "$here/test-$s.sh" || rc=1
done
# From the host's namespace: the same cgroup2 hierarchy is /sys/fs/cgroup/unified here.
left=$(find /sys/fs/cgroup -maxdepth 2 -type d -name "$RES_PFX*" 2>/dev/null)
if [ -n "$left" ]; then
	echo "# left: $left"
	echo "not ok - v2host: host clean afterwards"
	rc=1
else
	echo "ok - v2host: host clean afterwards"
fi
exit $rc
