#!/bin/bash
# make bench-libos: start of a static hello in a LibOS enclave container
# against the same binary natively (directly, and in an ordinary rune
# container), side by side in one run.  See docs/benchmarks.md.
#
# Environment:
#   BUILD     build tree (make exports it; default ./build)
#   N         samples of each case (default 20)
#   HEAPS     enclave heaps, rune-image --heap values (default "64M 1G")
#   BASE      another build tree (e.g. an older commit's) whose PAL also
#             runs the same images through pal-host: before/after in one run
#   TIMEOUT   seconds before one command is killed (default 60)
#   KEEP      1: keep the work directory
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
msg() { echo "bench-libos: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
	msg "must run as root (containers)"
	exit 1
fi
export BUILD=${BUILD:-$top/build}
N=${N:-20}
HEAPS=${HEAPS:-64M 1G}
TIMEOUT=${TIMEOUT:-60}
BASE=${BASE:-}
for f in "$BUILD/bin/rune" "$BUILD/bin/rune-image" "$BUILD/lib/liberpal-libos.so" \
	"$BUILD/tests-bin/pal-host" "$BUILD/share/skeleton/signing_key.pem"; do
	[ -e "$f" ] || {
		msg "$f is missing (make all)"
		exit 1
	}
done
if [ -n "$BASE" ] && ! { [ -x "$BASE/tests-bin/pal-host" ] && [ -e "$BASE/lib/liberpal-libos.so" ]; }; then
	msg "BASE=$BASE has no tests-bin/pal-host or lib/liberpal-libos.so"
	exit 1
fi

WORK=$(mktemp -d /tmp/rune-bench-libos.XXXXXX)
PFX=rbl$$
cleanup() {
	local id
	for id in "$WORK"/root/"$PFX"-*; do
		[ -d "$id" ] && "$RUNE" --root "$WORK/root" delete --force "${id##*/}" >/dev/null 2>&1
	done
	umount -l "$WORK/root" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then msg "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"/{root,bin} "$BUILD/bench"
# State on a tmpfs, as /run is on most hosts (see bench/run.sh).
mount -t tmpfs -o size=64m,mode=0700 rune-bench-libos "$WORK/root" 2>/dev/null || true
# rune is rebuilt at times while we run: a snapshot of it.
cp "$BUILD/bin/rune" "$WORK/bin/rune"
RUNE=$WORK/bin/rune
TIMEIT=$BUILD/bench/timeit
cc -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -o "$TIMEIT" "$here/timeit.c" || exit 1

# The workload: a static (ET_EXEC, as Go's) hello.
printf '#include <stdio.h>\nint main(void){puts("hello");return 0;}\n' >"$WORK/hello.c"
gcc -static -O2 -o "$WORK/bin/hello" "$WORK/hello.c" || exit 1

# One busybox bundle per case: the ordinary one, and one TEE image per heap.
mkbundle() { # DIR
	"$top/scripts/mkbundle.sh" "$1" /bin/hello >/dev/null || exit 1
	cp "$WORK/bin/hello" "$1/rootfs/bin/hello"
}
mkbundle "$WORK/plain"
KEY=$BUILD/share/skeleton/signing_key.pem
: >"$WORK/build.tsv"
for h in $HEAPS; do
	mkbundle "$WORK/e$h"
	# Untimed first build (page cache), then N timed ones of the same image.
	"$BUILD/bin/rune-image" build --bundle "$WORK/e$h" --key "$KEY" --heap "$h" \
		-- /bin/hello >"$WORK/e$h.mr" || exit 1
	for i in $(seq 1 5); do
		printf 'build:%s\t%s\tbuild\t--bundle\t%s\t--key\t%s\t--heap\t%s\t--\t/bin/hello\n' \
			"$h" "$BUILD/bin/rune-image" "$WORK/e$h" "$KEY" "$h"
	done >>"$WORK/build.plan"
done

# One sample of every case, in the order of round $1 (rotating).
round() {
	local i=$1 h lines=()
	lines+=("direct	$WORK/bin/hello")
	lines+=("ordinary	$RUNE	--root	$WORK/root	run	--bundle	$WORK/plain	$PFX-o$i")
	for h in $HEAPS; do
		lines+=("enclave:$h	$RUNE	--root	$WORK/root	--pal-dir	$BUILD/lib	run	--bundle	$WORK/e$h	$PFX-e$h-$i")
		lines+=("pal:$h	$BUILD/tests-bin/pal-host	--args	root=$WORK/e$h/rootfs	$BUILD/lib/liberpal-libos.so	/bin/hello")
		[ -n "$BASE" ] &&
			lines+=("base:$h	$BASE/tests-bin/pal-host	--args	root=$WORK/e$h/rootfs	$BASE/lib/liberpal-libos.so	/bin/hello")
	done
	local n=${#lines[@]} k
	for ((k = 0; k < n; k++)); do
		printf '%s\n' "${lines[$(((i + k) % n))]}"
	done
}
# Round 0 warms up (page cache, first containers): label "-", not reported.
{
	round 0 | sed 's/^[^\t]*\t/-\t/'
	for i in $(seq 1 "$N"); do round "$i"; done
} >"$WORK/run.plan"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
msg "rune-image build: 5 samples per heap; starts: $N rounds of every case (plus a warm-up)"
"$TIMEIT" -t "$TIMEOUT" -l "$WORK/build.log" "$WORK/build.plan" >"$WORK/build.tsv"
"$TIMEIT" -t "$TIMEOUT" -l "$WORK/run.log" "$WORK/run.plan" >"$WORK/run.tsv"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
if grep -q "^hello" "$WORK/run.log"; then :; else
	msg "no hello in the output: see $WORK/run.log"
fi

export N HEAPS BASE LOAD_START LOAD_END
V_TREE=$(git -C "$top" describe --always --dirty 2>/dev/null)
export V_TREE
python3 "$here/libos_report.py" "$WORK" >"$WORK/results.md" || exit 1
# Peak EPC of the hello enclave: SGX1 adds every page at load, so what the
# created container holds (rune state's epc.usage) is its peak.
{
	echo
	echo "Peak EPC of the hello enclave (rune state's epc.usage after create; SGX1 adds every page at load):"
	echo
	echo "| heap | EPC |"
	echo "|---|---|"
	for h in $HEAPS; do
		id=$PFX-epc-$h
		"$RUNE" --root "$WORK/root" --pal-dir "$BUILD/lib" create --bundle "$WORK/e$h" "$id" \
			</dev/null >/dev/null 2>&1
		u=$("$RUNE" --root "$WORK/root" state "$id" 2>/dev/null |
			python3 -c 'import json, sys; print(json.load(sys.stdin).get("epc", {}).get("usage", 0))' 2>/dev/null)
		"$RUNE" --root "$WORK/root" delete --force "$id" >/dev/null 2>&1
		echo "| $h | $(awk -v u="${u:-0}" 'BEGIN { printf "%.1f MiB", u / 1048576 }') |"
	done
} >>"$WORK/results.md"
cp "$WORK/results.md" "$BUILD/bench/libos.md"
cat "$WORK/results.md"
msg "written to $BUILD/bench/libos.md"
