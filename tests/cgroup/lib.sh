# Sourced by tests/cgroup/test-*.sh: they drive rune's cgroup module on the
# real host through cgroup-tool, under /rune-cgtest-PID, and check in an EXIT
# trap that no cgroup directory is left on any hierarchy, even on failure.
set -uo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
TOOL=$BUILD/tests-bin/cgroup-tool
if [ ! -x "$TOOL" ]; then
	echo "not ok - $TOOL is not built (make $TOOL)"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "skip - cgroup tests need root"
	exit 0
fi
CG_PREFIX=/rune-cgtest-$$
TMP=$(mktemp -d /tmp/rune-cgtest.XXXXXX)
BG_PIDS=()

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
skip() { echo "skip - $*"; }
# check NAME CMD...: one TAP line for CMD's status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# cg NAME: a cgroup path under this test's prefix.
cg() { echo "$CG_PREFIX/$1"; }
mountpoints() { "$TOOL" detect | awk 'NR > 1 { print $2 }'; }
# gone PATH: the cgroup exists on no hierarchy.
gone() {
	local m
	for m in $(mountpoints); do
		[ -e "$m$1" ] && { echo "# left behind: $m$1"; return 1; }
	done
	return 0
}
# bg CMD...: runs CMD in the background, remembered for cleanup; sets BG.
bg() {
	"$@" &
	BG=$!
	BG_PIDS+=("$BG")
}
# reap PID: waits for a background job (in this shell, not a subshell) and
# sets ST to its status as the shell reports it (143 for SIGTERM...).
reap() {
	wait "$1" 2>/dev/null
	ST=$?
}
# file_of PATH CONTROLLER FILE: where the controller's FILE for PATH lives.
file_of() {
	local d
	d=$("$TOOL" dir "$1" "$2") || return 1
	echo "${d#* }/$3"
}

cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	"$TOOL" destroy "$CG_PREFIX" --kill 2>/dev/null
	if gone "$CG_PREFIX"; then
		ok "cleanup: no cgroup left under $CG_PREFIX on any hierarchy"
	else
		not_ok "cleanup: cgroups left under $CG_PREFIX"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
