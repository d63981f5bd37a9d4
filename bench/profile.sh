#!/bin/bash
# Where does `run /bin/true` spend its time?  One strace -f of each
# runtime's `run` on the bench's bundle, summarised side by side; what it
# costs to move a child into v1 cgroups from the parent and by itself
# (bench/cgmig.c); and with
# PERF=1 a perf profile of 30 runs each (by program image, then the hottest
# symbols).  Traces stay in $BUILD/bench/profile/ for reading.
#
#   BUILD=build bench/profile.sh            # or: PERF=1 bench/profile.sh
#
# Runs in a private mount namespace with /sys/fs/cgroup/unified hidden (as
# make bench does when crun refuses the hybrid layout) and the runtimes'
# roots on a tmpfs; everything it mounts goes away with the namespace.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
export BUILD=${BUILD:-$top/build}
export OUT=$BUILD/bench/profile
export RUNE_BIN=${RUNE:-$BUILD/bin/rune}
export PERF=${PERF:-0}

inner() {
	if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		mount --make-rprivate /
		umount /sys/fs/cgroup/unified &&
			mount -t tmpfs -o size=64m profile-hidden-unified /sys/fs/cgroup/unified
	fi
	mount -t tmpfs -o size=64m profile-roots "$OUT/root" || exit 1
	local rt bin i
	for rt in $RTS; do
		bin=$(command -v "$rt")
		[ "$rt" = rune ] && bin=$RUNE_BIN
		mkdir -p "$OUT/root/$rt"
		strace -f -c -o "$OUT/$rt.count" "$bin" --root "$OUT/root/$rt" run --bundle "$OUT/bundle" "prof-$rt-1" \
			>/dev/null 2>&1
		strace -f -o "$OUT/$rt.trace" "$bin" --root "$OUT/root/$rt" run --bundle "$OUT/bundle" "prof-$rt-2" \
			>/dev/null 2>&1
	done
	strace -f -c -o "$OUT/floor.count" "$(command -v unshare)" --mount --pid --net --uts --ipc --fork \
		"$(command -v chroot)" "$OUT/bundle/rootfs" /bin/true
	strace -f -o "$OUT/floor.trace" "$(command -v unshare)" --mount --pid --net --uts --ipc --fork \
		"$(command -v chroot)" "$OUT/bundle/rootfs" /bin/true
	"$BUILD/bench/cgmig" 3 >"$OUT/cgmig.txt" 2>&1
	[ "$PERF" = 1 ] || return 0
	for rt in $RTS; do
		bin=$(command -v "$rt")
		[ "$rt" = rune ] && bin=$RUNE_BIN
		: >"$OUT/$rt.plan"
		for i in $(seq 1 30); do
			printf 'r\t%s\t--root\t%s\trun\t--bundle\t%s\tperf-%s-%s\n' "$bin" "$OUT/root/$rt" \
				"$OUT/bundle" "$rt" "$i" >>"$OUT/$rt.plan"
		done
		perf record -q -g -o "$OUT/$rt.perf" -- "$BUILD/bench/timeit" "$OUT/$rt.plan" >/dev/null 2>&1
	done
}

if [ "${1:-}" = __inner ]; then
	inner
	exit $?
fi

if [ "$(id -u)" != 0 ]; then
	echo "profile: run as root" >&2
	exit 1
fi
command -v strace >/dev/null || {
	echo "profile: needs strace (apt-get install --no-install-recommends strace)" >&2
	exit 1
}
if [ "$PERF" = 1 ] && ! command -v perf >/dev/null; then
	echo "profile: PERF=1 needs perf (linux-perf)" >&2
	exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT/root"
for t in timeit cgmig; do
	cc -O2 -std=gnu11 -D_GNU_SOURCE -o "$BUILD/bench/$t" "$here/$t.c" || exit 1
done
"$top/scripts/mkbundle.sh" "$OUT/bundle" /bin/true >/dev/null || exit 1
RTS=""
for rt in rune crun runc; do
	bin=$(command -v "$rt")
	[ "$rt" = rune ] && bin=$RUNE_BIN
	[ -n "$bin" ] && [ -x "$bin" ] && RTS="$RTS $rt"
done
export RTS
unshare --mount --propagation private -- "$BASH" "$here/profile.sh" __inner
rmdir "$OUT/root"/* "$OUT/root" 2>/dev/null

# One line a program: syscalls, failures, tasks, execs, mount-family calls,
# then the most frequent syscalls.
summary() {
	local n=$1 c=$OUT/$1.count t=$OUT/$1.trace
	[ -s "$c" ] || return
	local total failed tasks execs mounts top
	total=$(awk '$NF == "total" { print $(NF - 2) }' "$c")
	failed=$(awk '$NF == "total" { print $(NF - 1) }' "$c")
	tasks=$(awk '{ print $1 }' "$t" | sort -u | wc -l)
	execs=$(grep -cE ' execve(at)?\(.*= 0$|<\.\.\. execve(at)? resumed>.*= 0$' "$t")
	mounts=$(grep -cE ' (mount|open_tree|move_mount|mount_setattr|fsmount|fsconfig|umount2)\(' "$t")
	top=$(awk 'NR > 2 && $1 !~ /^-/ && $NF != "total" { print $4, $NF }' "$c" | sort -rn | head -n 6 |
		awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$total" "$failed" "$tasks" "$execs" "$mounts" "$top"
}

echo "## strace -f of one \`run /bin/true\` (runc spec defaults)"
echo
echo "| program | syscalls | failed | tasks | successful execs | mount calls | most frequent |"
echo "|---|---|---|---|---|---|---|"
for n in floor $RTS; do summary "$n"; done
echo
if [ -s "$OUT/cgmig.txt" ]; then
	echo "### Moving a new child into its cgroups (bench/cgmig.c, v1 hierarchies)"
	echo '```'
	cat "$OUT/cgmig.txt"
	echo '```'
	echo
fi
if [ "$PERF" = 1 ]; then
	for n in $RTS; do
		[ -s "$OUT/$n.perf" ] || continue
		echo "### perf: $n, 30 runs, by command and image"
		echo '```'
		perf report -i "$OUT/$n.perf" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
			grep -E '^ +[0-9]' | head -n 8
		echo '```'
		echo "### perf: $n, hottest symbols"
		echo '```'
		perf report -i "$OUT/$n.perf" --no-children --sort sym --stdio -g none 2>/dev/null |
			grep -E '^ +[0-9]' | head -n 12
		echo '```'
	done
fi
echo "traces: $OUT"
