#!/bin/bash
# timeout: 240
# Files in the LibOS (tests/libos/fprobe.c through the PAL, compared with
# the same program run natively in a chroot): trusted files verified per
# 16 KiB chunk as they are read (rune-image writes "chunk" lines only for
# files of more than one chunk; a file bigger than the enclave heap reads
# whole; odd read sizes, preads and mmaps across chunk boundaries; a
# tampered chunk fails the read of that chunk only, with EACCES and one
# stderr line, the chunks before it still read); allowed paths (rune-image
# --allowed) pass through to the host's files as native, what is neither
# trusted nor allowed does not exist.
set -u
. "$(dirname "$0")/lib.sh"
libos_need

T=$(mktemp -d /tmp/rune-libos-files.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
gcc -static-pie -O2 -o "$T/fprobe" "$SRCDIR/tests/libos/fprobe.c" || {
	echo "not ok - build fprobe"
	exit 1
}

# run_pal ROOT ARGS...: fprobe ARGS in the enclave: $OUT, $ERR, $RC
run_pal() { pal_run 120 "$1" /bin/fprobe "${@:2}"; }

# same NAME ROOT ARGS...: the enclave's output is the chroot's, its status 0
same() {
	local name=$1 root=$2 nout
	shift 2
	run_pal "$root" "$@"
	nout=$(chroot "$root" /bin/fprobe "$@" 2>/dev/null)
	same_as "$name" "$nout" 0
}

R=$T/root
mkdir -p "$R/bin" "$R/data" "$R/etc"
cp "$T/fprobe" "$R/bin/fprobe"
printf 'small\n' >"$R/data/small"
head -c 16384 /dev/urandom >"$R/data/one"
head -c 16385 /dev/urandom >"$R/data/two"
head -c $((200 * 1024 + 5)) /dev/urandom >"$R/data/mid"
cp "$R/data/mid" "$R/data/mid2" # same content: chunk lines once, under /data/mid
head -c $((64 * 1024 * 1024 + 123)) /dev/urandom >"$R/data/big"
"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 16M --host-argv --trusted /data \
	-- /bin/fprobe >/dev/null 2>"$T/err"
check "rune-image build" test $? -eq 0
M=$R/.rune/manifest
chunks_of() { # PATH: the chunk lines after PATH's trusted line
	awk -v p="$1" '$1 == "trusted" { on = ($4 == p); next } on && $1 == "chunk"' "$M" | wc -l
}
check "chunk lines: none for files of one chunk (6 B, 16 KiB), one per chunk above" \
	test "$(chunks_of /data/small)" == 0 -a "$(chunks_of /data/one)" == 0 -a \
	"$(chunks_of /data/two)" == 2 -a "$(chunks_of /data/mid)" == 13 -a \
	"$(chunks_of /data/big)" == 4097
idx=$(awk '$1 == "trusted" { on = ($4 == "/data/mid"); next } on && $1 == "chunk" { print $2 }' "$M" | tr '\n' ' ')
check "chunk lines are numbered from 0, in order" test "$idx" == "$(seq -s ' ' 0 12) "
c5=$(awk '$1 == "trusted" { on = ($4 == "/data/mid"); next } on && $2 == 5 { print $3 }' "$M")
check "a chunk line holds that chunk's SHA-256" test "$c5" == \
	"$(dd if="$R/data/mid" bs=16384 skip=5 count=1 status=none | sha256sum | cut -d' ' -f1)"

check "a file of an earlier one's content has no chunk lines of its own" \
	test "$(chunks_of /data/mid2)" == 0 -a \
	"$(grep -c "^trusted $(sha256sum <"$R/data/mid" | cut -d' ' -f1) 204805 " "$M")" == 2
same "a file of an earlier one's content reads through that one's chunk lines" "$R" \
	sum /data/mid2 7777 pread /data/mid2 16380 40000 mmap /data/mid2 0 300000

same "a 64 MiB trusted file reads whole with a 16 MiB heap" "$R" sum /data/big 65536
same "odd read sizes across chunks" "$R" sum /data/mid 7777 sum /data/mid 100000 \
	sum /data/two 4096 sum /data/one 3 sum /data/small 4096
same "preads across chunk boundaries and past the end" "$R" pread /data/mid 16380 40000 \
	pread /data/mid 0 204805 pread /data/mid 204800 100 pread /data/two 16384 10
same "mmap of a trusted file gives verified content" "$R" mmap /data/mid 16384 50000 \
	mmap /data/mid 0 300000 mmap /data/two 0 16385 mmap /data/small 0 4096

# tamper with chunk 5 of /data/mid (bytes 81920..98303)
flip_byte "$R/data/mid" $((5 * 16384 + 100))
run_pal "$R" sum /data/mid 4096
check "a tampered chunk fails its read with EACCES; the chunks before it read" \
	test "$OUT" == "sum /data/mid: Permission denied after 81920 bytes" -a "$RC" == 0
check "a tampered chunk: one stderr line naming the file and the chunk" \
	test "$(echo "$ERR" | grep -c '^libos: /data/mid: SHA-256 differs from the manifest (chunk 5): refused$')" == 1 \
	-a "$(echo "$ERR" | grep -c '^libos:')" == 1
run_pal "$R" pread /data/mid 0 65536 pread /data/mid 98304 4096 pread /data/mid 90000 10 \
	mmap /data/mid 0 65536 mmap /data/mid 81920 4096
check "a tampered chunk: reads and mmaps elsewhere work, of it fail" test "$OUT" == "$(printf '%s\n' \
	"pread /data/mid 0: 65536 bytes, $(chroot "$R" /bin/fprobe pread /data/mid 0 65536 | sed 's/.*bytes, //')" \
	"pread /data/mid 98304: 4096 bytes, $(chroot "$R" /bin/fprobe pread /data/mid 98304 4096 | sed 's/.*bytes, //')" \
	'pread /data/mid: Permission denied' \
	"mmap /data/mid 0: 65536 bytes, $(chroot "$R" /bin/fprobe mmap /data/mid 0 65536 | sed 's/.*bytes, //')" \
	'mmap /data/mid: Permission denied')"
# the copy is checked against the first file's chunk lines, not passed by them
flip_byte "$R/data/mid2" $((7 * 16384 + 9))
run_pal "$R" sum /data/mid2 4096
check "a tampered copy fails at its own chunk, named by its own path" \
	test "$OUT" == "sum /data/mid2: Permission denied after 114688 bytes" -a \
	"$(echo "$ERR" | grep -c '^libos: /data/mid2: SHA-256 differs from the manifest (chunk 7): refused$')" == 1

# Allowed paths: passed through to the host's files, as native (chroot)
A=$T/alw
mkdir -p "$A/bin" "$A/data/out" "$A/out"
cp "$T/fprobe" "$A/bin/fprobe"
echo input >"$A/data/in"
echo secret >"$A/secret"
head -c 1000000 /dev/urandom >"$A/out/big"
"$RUNE_IMAGE" build --rootfs "$A" --key "$KEY" --heap 16M --host-argv --no-default-trusted \
	--trusted /data/in --allowed /out --allowed /data/./out/ -- /bin/fprobe >/dev/null 2>"$T/err"
check "rune-image --allowed: allowed lines, normalised, sorted with the trusted ones" \
	test "$(grep -E '^(trusted|allowed) ' "$A/.rune/manifest" | awk '{ print $1, $NF }' | tr '\n' ,)" == \
	"trusted /bin/fprobe,trusted /data/in,allowed /data/out,allowed /out,"
acmds=(write /out/a hello append /out/a world cat /out/a mkdir /out/d write /out/d/x 1 ls /out
	stat /out/a stat /out unlink /out/d/x rmdir /out/d unlink /out/nope ls /data
	sum /out/big 4096 pread /out/big 5000 100000 mmap /out/big 4096 10000
	write /data/out/f yes ls /data/out cat /data/out/f ls /out/nope)
reset_out() { rm -rf "$A/out/a" "$A/out/d" "$A/data/out/f"; }
reset_out
run_pal "$A" "${acmds[@]}"
check "allowed: what the enclave wrote is the host's (an output directory)" \
	test "$(cat "$A/out/a")" == "$(printf 'hello\nworld')" -a "$(cat "$A/data/out/f")" == yes
reset_out
nout=$(chroot "$A" /bin/fprobe "${acmds[@]}")
reset_out
if [ -n "$nout" ] && [ "$OUT" == "$nout" ] && [ "$RC" == 0 ]; then
	ok "allowed: create, append, read, mkdir, list, stat, unlink, rmdir, pread, mmap, as native"
else
	diff <(echo "$nout") <(echo "$OUT") | sed 's/^/# /'
	echo "$ERR" | sed 's/^/# stderr: /'
	nok "allowed: create, append, read, mkdir, list, stat, unlink, rmdir, pread, mmap, as native"
fi
run_pal "$A" cat /secret ls / write /data/in x mkdir /data/new write /new y
check "neither trusted nor allowed: does not exist; trusted files and their directories stay read-only" \
	test "$OUT" == "$(printf '%s\n' 'cat /secret: No such file or directory' 'ls /: bin data out' \
		'write /data/in: Permission denied' 'mkdir /data/new: Read-only file system' \
		'write /new: No such file or directory')" -a ! -e "$A/new" -a ! -e "$A/data/new"
"$RUNE_IMAGE" build --rootfs "$A" --key "$KEY" --heap 16M --no-default-trusted --trusted /data/in \
	--allowed /data -- /bin/fprobe >/dev/null 2>"$T/err"
check "rune-image: an allowed path holding a trusted file is refused naming both" \
	grep -q '^rune-image: --allowed /data: /data/in is a trusted file' "$T/err"
"$RUNE_IMAGE" build --rootfs "$A" --key "$KEY" --heap 16M --allowed / -- /bin/fprobe >/dev/null 2>"$T/err"
check "rune-image: --allowed / is refused" grep -q '^rune-image: --allowed /: would pass every file through' "$T/err"

# SHA-NI where the CPU has it (a DEBUG enclave says which code hashes)
"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 16M --host-argv --debug --trusted /data \
	-- /bin/fprobe >/dev/null 2>&1
run_pal "$R" sum /data/two 4096
if grep -qw sha_ni /proc/cpuinfo && grep -qw ssse3 /proc/cpuinfo; then
	want="SHA-NI"
else
	want="portable code"
fi
check "the LibOS hashes with SHA-NI where the CPU has it ($want here)" \
	test "$(echo "$ERR" | grep -c "^libos: SHA-256 of trusted files: $want\$")" == 1 -a \
	"$(echo "$OUT" | sed 's/,.*//')" == "sum /data/two: 16385 bytes"
exit 0
