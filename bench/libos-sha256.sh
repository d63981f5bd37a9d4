#!/bin/bash
# The LibOS reading a big trusted file, side by side with the same program
# run natively (chroot into the same rootfs), in one run (docs/benchmarks.md):
#   1. Debian's busybox-static `sha256sum` of a SIZE_MB trusted file (it
#      reads 4 KiB at a time: one system call per 4 KiB);
#   2. the same file read with 1 MiB reads (tests/libos/fprobe.c `sum`,
#      an FNV-1a over the bytes): the LibOS's file path (OCALLs, the copy
#      into the enclave, the per-chunk SHA-256) with few system calls;
#   3. the enclave's start (fprobe with nothing to do), included in 1 and 2.
# Each is the median of N runs, alternating inside and native.
#
# Environment: BUILD (default ./build), N (default 3), SIZE_MB (default 256),
# KEEP=1 keeps the work dir. Needs root (chroot), busybox-static, gcc.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$top/build}
N=${N:-3}
SIZE_MB=${SIZE_MB:-256}
PAL=$BUILD/lib/liberpal-libos.so
HOST=$BUILD/tests-bin/pal-host
KEY=$BUILD/share/skeleton/signing_key.pem

for f in "$BUILD/bin/rune-image" "$PAL" "$HOST" "$KEY" /bin/busybox; do
	[ -e "$f" ] || {
		echo "libos-sha256: $f is missing (make all; busybox-static)" >&2
		exit 1
	}
done
W=$(mktemp -d /tmp/rune-bench-libos.XXXXXX)
cleanup() { [ "${KEEP:-0}" == 1 ] && echo "kept $W" >&2 || rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
export SGX_EMU_SECRET=$W/sgx-emu-secret

R=$W/root
mkdir -p "$R/bin" "$R/data"
cp /bin/busybox "$R/bin/busybox"
gcc -static-pie -O2 -o "$R/bin/fprobe" "$top/tests/libos/fprobe.c" || exit 1
head -c $((SIZE_MB << 20)) /dev/urandom >"$R/data/big"

# secs CMD...: wall seconds of one run (stdout to $W/out, stderr to $W/err)
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$W/out" 2>"$W/err" || {
		echo "libos-sha256: failed: $* ($(tail -1 "$W/err"))" >&2
		return 1
	}
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'; }

# bench NAME ENTRY ARGS...: an image with ENTRY, N runs inside and natively
bench() {
	local name=$1 entry=$2 i in=() nat=() a b
	shift 2
	"$BUILD/bin/rune-image" build --rootfs "$R" --key "$KEY" --heap 64M --host-argv \
		--no-default-trusted --trusted /data -- "$entry" >/dev/null || exit 1
	for ((i = 0; i < N; i++)); do
		in+=("$(secs "$HOST" --args "root=$R" "$PAL" "$entry" "$@")") || exit 1
		a=$(cat "$W/out")
		nat+=("$(secs chroot "$R" "$entry" "$@")") || exit 1
		b=$(cat "$W/out")
		[ "$a" == "$b" ] || {
			echo "libos-sha256: $name: the outputs differ: '$a' '$b'" >&2
			exit 1
		}
	done
	IN=$(printf '%s\n' "${in[@]}" | median)
	NAT=$(printf '%s\n' "${nat[@]}" | median)
}

bench start /bin/fprobe
start_in=$IN start_nat=$NAT
bench sha256sum /bin/busybox sha256sum /data/big
sha_in=$IN sha_nat=$NAT
bench sum /bin/fprobe sum /data/big 1048576
sum_in=$IN sum_nat=$NAT

row() { # NAME INSIDE NATIVE
	awk -v n="$1" -v i="$2" -v t="$3" -v mb="$SIZE_MB" 'BEGIN {
		printf "| %s | %.2f s (%.0f MB/s) | %.2f s (%.0f MB/s) | %.2fx |\n",
			n, i, mb * 1.048576 / i, t, mb * 1.048576 / t, t / i }'
}
echo "| $SIZE_MB MiB trusted file, median of $N | inside the enclave | native | throughput ratio |"
echo "|---|---|---|---|"
row "busybox sha256sum (4 KiB reads)" "$sha_in" "$sha_nat"
row "read with 1 MiB reads (fprobe sum)" "$sum_in" "$sum_nat"
echo "| enclave start (fprobe, nothing to do) | $start_in s | $start_nat s | |"
