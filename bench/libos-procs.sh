#!/bin/bash
# Processes in the LibOS, side by side with the same program run natively
# (chroot into the same rootfs), in one run (docs/benchmarks.md): system
# call round trips (one the LibOS answers, one it takes to the host), fork +
# exit + wait, posix_spawn + wait (a new enclave of the image each), and a
# pipe between two processes (sealed records over a host socket) with 4 KiB
# writes. bench/procs.c measures inside; each figure is the median of N runs.
#
# Environment: BUILD (default ./build), N (default 3), LOOPS (forks and
# spawns per run, default 10), MIB (through the pipe, default 16), HEAP
# (rune-image --heap, default 64M), BASE (another build tree, e.g. an older
# commit's: its pal-host and PAL run the same image, a column of their own),
# PAGING_DELAY=1 (a column more: the enclave with the emulator spending the
# time its EPC paging model charges, docs/epc.md; a parent and a child of
# the default 64M heap are past the default 93.5 MiB EPC; not the pipe,
# each of whose switches between the two would reload one), KEEP=1 keeps the
# work dir. The EPC registry is the run's own (the paging model scans it).
# Needs root.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$top/build}
N=${N:-3}
LOOPS=${LOOPS:-10}
MIB=${MIB:-16}
HEAP=${HEAP:-64M}
PAL=$BUILD/lib/liberpal-libos.so
HOST=$BUILD/tests-bin/pal-host
KEY=$BUILD/share/skeleton/signing_key.pem

for f in "$BUILD/bin/rune-image" "$PAL" "$HOST" "$KEY"; do
	[ -e "$f" ] || {
		echo "libos-procs: $f is missing (make all)" >&2
		exit 1
	}
done
W=$(mktemp -d /tmp/rune-bench-procs.XXXXXX)
cleanup() { [ "${KEEP:-0}" == 1 ] && echo "kept $W" >&2 || rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
export SGX_EMU_SECRET=$W/sgx-emu-secret
export SGX_EPC_DIR=$W/epc
mkdir -p "$SGX_EPC_DIR"

R=$W/root
mkdir -p "$R/bin"
gcc -static-pie -O2 -o "$R/bin/procs" "$here/procs.c" || exit 1
"$BUILD/bin/rune-image" build --rootfs "$R" --key "$KEY" --no-default-trusted --host-argv \
	--heap "$HEAP" -- /bin/procs >/dev/null || exit 1

for ((i = 0; i < N; i++)); do
	chroot "$R" /bin/procs "$LOOPS" "$MIB" >>"$W/native" 2>/dev/null
	timeout -k 2 300 "$HOST" --args "root=$R" "$PAL" /bin/procs "$LOOPS" "$MIB" \
		>>"$W/enclave" 2>/dev/null
	[ -z "${BASE:-}" ] ||
		timeout -k 2 300 "$BASE/tests-bin/pal-host" --args "root=$R" \
			"$BASE/lib/liberpal-libos.so" /bin/procs "$LOOPS" "$MIB" >>"$W/base" 2>/dev/null
	[ "${PAGING_DELAY:-0}" != 1 ] ||
		SGX_EMU_EPC_PAGING_DELAY=1 timeout -k 2 600 "$HOST" --args "root=$R" "$PAL" \
			/bin/procs "$LOOPS" 0 >>"$W/delay" 2>/dev/null
done

median() { # NAME FILE
	awk -v k="$1" '$1 == k { print $2 }' "$2" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}
echo
echo "## LibOS processes (bench/libos-procs.sh, N=$N, heap $HEAP)"
echo
head="| | native | LibOS enclave | ratio |"
sep="|---|---|---|---|"
[ -z "${BASE:-}" ] || head="$head LibOS enclave, BASE's PAL |" sep="$sep---|"
[ "${PAGING_DELAY:-0}" != 1 ] || head="$head LibOS enclave, EPC paging delay on |" sep="$sep---|"
echo "$head"
echo "$sep"
for k in syscall ocall fork spawn pipe; do
	unit=$(awk -v k="$k" '$1 == k { print $3; exit }' "$W/native")
	a=$(median "$k" "$W/native")
	b=$(median "$k" "$W/enclave")
	r=$(awk -v a="$a" -v b="$b" -v k="$k" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", k == "pipe" ? a / b : b / a; else print "-" }')
	case $k in
	syscall) name="system call answered inside (getppid: AEX, EENTER, EEXIT, ERESUME)" ;;
	ocall) name="system call taken to the host (sched_yield: + EEXIT, EENTER)" ;;
	fork) name="fork + exit + wait" ;;
	spawn) name="posix_spawn + wait" ;;
	pipe) name="pipe to a child, 4 KiB writes ($MIB MiB)" ;;
	esac
	line="| $name | $a $unit | $b $unit | $r |"
	[ -z "${BASE:-}" ] || line="$line $(median "$k" "$W/base") $unit |"
	if [ "${PAGING_DELAY:-0}" = 1 ] && [ "$k" = pipe ]; then
		line="$line not run |"
	elif [ "${PAGING_DELAY:-0}" = 1 ]; then
		line="$line $(median "$k" "$W/delay") $unit |"
	fi
	echo "$line"
done
