#!/bin/bash
# timeout: 600
# The resource tests again on a pure cgroup v1 layout, made from this
# hybrid host in a private mount namespace: `unshare -m` (/ made rprivate)
# with the cgroup2 mount at /sys/fs/cgroup/unified unmounted.  Case names
# get a "v1: " prefix.  Afterwards the host (whose namespace still has the
# cgroup2 mount) is checked for cgroup dirs the namespace could not see.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
export BUILD=${BUILD:-$SRCDIR/build}
if [ "$(id -u)" != 0 ]; then
	echo "skip - v1 layout (needs root)"
	exit 0
fi
if ! command -v unshare >/dev/null; then
	echo "skip - v1 layout (no unshare)"
	exit 0
fi
v2=$(awk '$9 == "cgroup2" { print $5 }' /proc/self/mountinfo | head -1)
v1n=$(awk '$9 == "cgroup" { n++ } END { print n + 0 }' /proc/self/mountinfo)
if [ "$v1n" = 0 ]; then
	echo "skip - v1 layout (no cgroup v1 hierarchies on this host)"
	exit 0
fi
export RES_TAG=v1 RES_PFX="rv1$$"
scripts=${V1_SCRIPTS:-limits update events userns clear-errors}
rc=0
for s in $scripts; do
	echo "# --- test-$s.sh on pure v1"
	# shellcheck disable=SC2016
	unshare -m --propagation private bash -c '
		v2=$1 s=$2
		if [ -n "$v2" ]; then umount "$v2" || { echo "not ok - v1: umount $v2"; exit 1; }; fi
		if awk '\''$9 == "cgroup2"'\'' /proc/self/mountinfo | grep -q .; then
			echo "not ok - v1: a cgroup2 mount is still visible"; exit 1
		fi
		exec bash "$0" ' "$here/test-$s.sh" "$v2" "$s" || rc=1
done
# From the host's namespace: nothing left on any hierarchy, cgroup2 included.
left=$(find /sys/fs/cgroup -maxdepth 2 -type d -name "$RES_PFX*" 2>/dev/null)
if [ -n "$left" ]; then
	echo "# left: $left"
	echo "not ok - v1: host clean afterwards (cgroup2 included)"
	rc=1
else
	echo "ok - v1: host clean afterwards (cgroup2 included)"
fi
exit $rc
