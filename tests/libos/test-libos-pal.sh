#!/bin/bash
# timeout: 120
# The LibOS through its PAL (tests-bin/pal-host dlopens liberpal-libos.so as
# rune's init would), on this host's SGX backend (the emulator here): static
# PIE musl and glibc programs give the native output byte for byte (args,
# env, stdio, trusted file reads, exit codes, a crash, abort, sleep), pal_kill
# stops the workload at its next system call or sleep, a tampered
# trusted file is EACCES with one stderr line naming it, files outside the
# manifest do not exist, a tampered executable or SIGSTRUCT is refused,
# ET_EXEC runs at its own addresses, a dynamically linked glibc program
# runs through its ld.so and libc (trusted files), one without its
# interpreter in the image is refused with one line, rune-image is
# deterministic whatever the rootfs path, file times or directory order, its
# default trusted set follows file symlinks but not directory ones, and
# rune-image inspect checks the SIGSTRUCT against the enclave.
set -u
. "$(dirname "$0")/lib.sh"
libos_need

T=$(mktemp -d /tmp/rune-libos-pal.XXXXXX)
trap 'rm -rf "$T"' EXIT
build_probes "$T" || {
	echo "not ok - build the probes"
	exit 1
}
export SGX_EMU_SECRET=$T/sgx-emu-secret

# mkroot DIR PROBE: a rootfs with the probe as /bin/probe and two data files.
mkroot() {
	mkdir -p "$1/bin" "$1/data/sub" "$1/etc" "$1/tmp"
	cp "$2" "$1/bin/probe"
	printf 'trusted content\nline 2\n' >"$1/data/file"
	printf 'nested\n' >"$1/data/sub/inner"
	printf 'not in the manifest\n' >"$1/data/other"
}

# run_pal ROOT ARGS...: $OUT, $ERR, $RC
run_pal() {
	local root=$1
	shift
	OUT=$(timeout -k 2 20 "$PAL_HOST" --args "root=$root" --env FOO=bar --env HOME=/root \
		"$LIBOS_PAL" "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
}

# native PROBE ARGS...: the same program run natively, argv[0] /bin/probe
native() {
	local p=$1
	shift
	NOUT=$(cd "$T" && env -i FOO=bar HOME=/root bash -c 'exec -a /bin/probe "$0" "$@"' "$p" "$@" 2>/dev/null)
	NRC=$?
}

same() { # NAME ROOT PROBE ARGS...: enclave output and status == native
	local name=$1 root=$2 probe=$3
	shift 3
	run_pal "$root" /bin/probe "$@"
	native "$probe" "$@"
	same_as "$name" "$NOUT" "$NRC"
}

for libc in musl glibc; do
	probe=$T/probe-$libc
	if [ ! -x "$probe" ]; then
		echo "skip - $libc: the static PIE could not be built (musl-tools missing?)"
		continue
	fi
	R=$T/root-$libc
	mkroot "$R" "$probe"
	"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 32M --host-argv \
		--trusted /data/file --trusted /data/sub -- /bin/probe >"$T/mr" 2>"$T/err"
	check "$libc: rune-image build" test $? -eq 0 -a -s "$R/.rune/libos.elf"
	same "$libc: args, env, exit status" "$R" "$probe" args env FOO env HOME env NOPE exit 3
	same "$libc: clock_gettime/time through checked OCALLs" "$R" "$probe" time
	same "$libc: malloc (brk/mmap on the enclave heap)" "$R" "$probe" malloc 1000 malloc 300000
	run_pal "$R" /bin/probe cat /data/file cat /data/sub/inner
	check "$libc: trusted files read (sha256 verified)" test "$OUT" == "$(printf 'size 23\ntrusted content\nline 2\nat 2: ust\nsize 7\nnested\nat 2: ste')" -a "$RC" == 0
	run_pal "$R" /bin/probe cat /data/other cat /bin/../data/./file
	check "$libc: a file outside the manifest does not exist" \
		test "$(echo "$OUT" | head -1)" == "open /data/other: No such file or directory"
	check "$libc: paths are normalised" test "$(echo "$OUT" | sed -n 2p)" == "size 23"
	run_pal "$R" /bin/probe ls /data ls /data/sub ls /bin ls /nope stat /data stat /data/sub/inner
	check "$libc: directories of trusted files (getdents64, stat)" test "$OUT" == "$(printf '%s\n' \
		'file file' 'sub dir' 'inner file' 'probe file' \
		'opendir /nope: No such file or directory' 'stat /data: dir' 'stat /data/sub/inner: file')"
	run_pal "$R" /bin/probe ls /data/sub cat /data/sub/inner
	NOUT=$(chroot "$R" /bin/probe ls /data/sub cat /data/sub/inner)
	check "$libc: a directory of trusted files lists as native (chroot)" test -n "$NOUT" -a "$OUT" == "$NOUT"
	tmpcmds=(write /tmp/a hello append /tmp/a " world" cat /tmp/a write /tmp/b x ls /tmp
		write /tmp/b yz cat /tmp/b unlink /tmp/a cat /tmp/a ls /tmp stat /tmp write /nodir/x y)
	run_pal "$R" /bin/probe "${tmpcmds[@]}"
	NOUT=$(chroot "$R" /bin/probe "${tmpcmds[@]}" 2>/dev/null)
	rm -f "$R/tmp/a" "$R/tmp/b"
	if [ -n "$NOUT" ] && [ "$OUT" == "$NOUT" ]; then
		ok "$libc: an in-enclave /tmp: create, append, truncate, list, unlink, as native"
	else
		diff <(echo "$NOUT") <(echo "$OUT") | sed 's/^/# /'
		nok "$libc: an in-enclave /tmp: create, append, truncate, list, unlink, as native"
	fi
	run_pal "$R" /bin/probe write /data/file no unlink /data/file cat /data/file
	check "$libc: trusted files are read-only (EACCES, EROFS) and stay intact" \
		test "$OUT" == "$(printf '%s\n' 'write /data/file: Permission denied' \
			'unlink /data/file: Read-only file system' 'size 23' 'trusted content' 'line 2' \
			'at 2: ust')"
	run_pal "$R" /bin/probe stderr
	check "$libc: stderr is the workload's, stdout untouched" \
		test "$OUT" == "" -a "$(echo "$ERR" | grep -c '^to stderr$')" == 1
	run_pal "$R" /bin/probe crash
	check "$libc: a crash is exit 139 with one line" \
		test "$RC" == 139 -a "$(echo "$ERR" | grep -c 'killed by signal 11')" == 1
	same "$libc: signals to self: handler, blocked then unblocked, ignored" "$R" "$probe" signals
	same "$libc: a SIGSEGV handler runs (exit 42 from it)" "$R" "$probe" segv-handler
	OUT=$(seq 1 2000 | timeout -k 2 20 "$PAL_HOST" --args "root=$R" "$LIBOS_PAL" /bin/probe stdin 2>/dev/null)
	check "$libc: stdin through the host (read OCALLs)" test "$OUT" == "$(seq 1 2000; echo 'stdin: 8893 bytes')"
	cdcmds=(cd /data cat file cd sub ls . cd .. cd /nope cd /data/file cd / cat data/sub/inner)
	run_pal "$R" /bin/probe "${cdcmds[@]}"
	NOUT=$(chroot "$R" /bin/probe "${cdcmds[@]}")
	check "$libc: chdir/getcwd and relative paths as native (chroot)" test -n "$NOUT" -a "$OUT" == "$NOUT"
	timeout -k 2 20 "$PAL_HOST" --args "root=$R" "$LIBOS_PAL" /bin/probe yes 2>"$T/err" | head -1 >"$T/out"
	rc=${PIPESTATUS[0]}
	check "$libc: a broken stdout is SIGPIPE (141), as native" \
		test "$(cat "$T/out")" == y -a "$rc" == 141 -a "$(grep -c 'without SIGPIPE' "$T/err")" == 0
	run_pal "$R" /bin/probe abort
	check "$libc: abort() is exit 134" test "$RC" == 134

	# tampering: same size and different bytes, then another size
	cp "$R/data/file" "$T/file.orig"
	printf 'trusted contenX\nline 2\n' >"$R/data/file"
	run_pal "$R" /bin/probe cat /data/file exit 0
	check "$libc: tampered trusted file: EACCES" \
		test "$OUT" == "open /data/file: Permission denied" -a "$RC" == 0
	check "$libc: tampered trusted file: one stderr line naming it" \
		test "$(echo "$ERR" | grep -c '^libos: /data/file: SHA-256 differs from the manifest: refused$')" == 1
	echo more >>"$R/data/file"
	run_pal "$R" /bin/probe cat /data/file
	check "$libc: trusted file of another size: EACCES" \
		test "$OUT" == "open /data/file: Permission denied" -a \
		"$(echo "$ERR" | grep -c '/data/file: size differs')" == 1
	cp "$T/file.orig" "$R/data/file"
	cp "$R/bin/probe" "$T/probe.orig"
	printf 'X' | dd of="$R/bin/probe" bs=1 seek=1000 conv=notrunc status=none
	run_pal "$R" /bin/probe args
	check "$libc: tampered executable refused" \
		test "$RC" != 0 -a -z "$OUT" -a "$(echo "$ERR" | grep -c '^libos: /bin/probe: SHA-256 differs')" == 1
	cp "$T/probe.orig" "$R/bin/probe"
done

# The rest with glibc's probe.
R=$T/root-glibc
same "nanosleep through the host" "$R" "$T/probe-glibc" sleep 100 exit 0
start=$SECONDS
OUT=$(timeout -k 2 20 "$PAL_HOST" --args "root=$R" --kill-after 0.5 15 "$LIBOS_PAL" /bin/probe spin 2>"$T/err")
RC=$?
check "pal_kill stops a workload making system calls (143)" test "$RC" == 143 -a "$OUT" == spinning
OUT=$(timeout -k 2 20 "$PAL_HOST" --args "root=$R" --kill-after 0.3 15 "$LIBOS_PAL" /bin/probe sleep 10000 2>"$T/err")
RC=$?
check "pal_kill cuts a sleep short" test "$RC" == 143 -a $((SECONDS - start)) -lt 8
# Interrupts: a workload that makes no system call still takes a signal.
start=$SECONDS
OUT=$(timeout -k 2 20 "$PAL_HOST" --args "root=$R" --kill-after 0.5 15 "$LIBOS_PAL" /bin/probe compute 2>"$T/err")
RC=$?
check "pal_kill TERM stops a workload that makes no system call (143, an interrupt)" \
	test "$RC" == 143 -a "$OUT" == computing -a $((SECONDS - start)) -lt 8
OUT=$(timeout -k 2 20 "$PAL_HOST" --args "root=$R" --kill-after 0.5 10 "$LIBOS_PAL" /bin/probe compute-handler 2>"$T/err")
RC=$?
check "pal_kill USR1 runs the workload's handler where it was computing; its vector registers survive the handler" \
	test "$RC" == 0 -a "$OUT" == "$(printf 'computing\nhandler ran for 10, xmm8 kept')"
same "XMM0-15 survive system calls (AEX saves, ERESUME restores the XSAVE state)" "$R" "$T/probe-glibc" xmm 300
# Syscall tracing at loglevel debug: DEBUG enclaves only.
"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 32M --host-argv --debug -- /bin/probe >/dev/null
OUT=$(timeout -k 2 20 "$PAL_HOST" --log-level debug --args "root=$R" "$LIBOS_PAL" /bin/probe args 2>"$T/err")
check "a DEBUG enclave says so and traces every system call at loglevel debug" \
	test "$(grep -c '^libos: DEBUG enclave' "$T/err")" == 1 -a \
	"$(grep -c '^libos: \[1\] syscall 1 (0x1, ' "$T/err")" -ge 1
"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 32M --host-argv -- /bin/probe >/dev/null
OUT=$(timeout -k 2 20 "$PAL_HOST" --log-level debug --args "root=$R" "$LIBOS_PAL" /bin/probe args 2>"$T/err")
check "a production enclave runs untraced, and says so at loglevel debug" \
	test "$(grep -c 'syscall' "$T/err")" == 0 -a "$(grep -c 'runs untraced' "$T/err")" == 1
# argv fixed by the manifest: the host's argv is ignored
"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 32M --env FOO=fixed -- /bin/probe args env FOO >/dev/null
run_pal "$R" /bin/probe exit 9
check "argv and env fixed by the manifest win over the host's" \
	test "$OUT" == "$(printf 'argc 4\nargv[0] /bin/probe\nargv[1] args\nargv[2] env\nargv[3] FOO\nFOO=fixed')" -a "$RC" == 0

# SIGSTRUCT that does not match the manifest: EINIT refuses
cp "$R/.rune/libos.sig" "$T/sig.orig"
printf 'Y' | dd of="$R/.rune/libos.elf" bs=1 seek=$(($(stat -c %s "$R/.rune/libos.elf") - 8)) conv=notrunc status=none
run_pal "$R" /bin/probe
check "a manifest changed after signing is refused (EINIT)" \
	test "$RC" == 125 -a "$(echo "$ERR" | grep -c 'SGX_INVALID_MEASUREMENT')" == 1

# refused programs: one line naming the file and the reason
mkdir -p "$T/r2/bin"
cp "$T/hello-exec" "$T/r2/bin/exec"
cp "$T/hello-dyn" "$T/r2/bin/dyn"
"$RUNE_IMAGE" build --rootfs "$T/r2" --key "$KEY" --heap 16M -- /bin/exec >/dev/null
gcc -static -no-pie -O2 -Wl,-Ttext-segment=0x20000 -o "$T/r2/bin/low" "$T/hello.c"
"$RUNE_IMAGE" build --rootfs "$T/r2" --key "$KEY" --heap 16M -- /bin/low >/dev/null 2>"$T/err"
check "rune-image: an ET_EXEC linked below the LibOS's end is refused naming it" \
	grep -q '^rune-image: /bin/low: linked at 0x20000, below the end of the LibOS' "$T/err"
run_pal "$T/r2" /bin/exec
check "ET_EXEC (gcc -static, linked at 0x400000) runs in an enclave based at 0" \
	test "$RC" == 0 -a "$OUT" == hi -a "$(grep -c '^enclave_base 0$' "$T/r2/.rune/manifest")" == 1
"$RUNE_IMAGE" build --rootfs "$T/r2" --key "$KEY" --heap 16M -- /bin/dyn >/dev/null
run_pal "$T/r2" /bin/dyn
check "a dynamic program without its interpreter in the image: one line names it" \
	test "$RC" == 127 -a "$(echo "$ERR" | grep -c '^libos: ')" == 1 -a \
	"$(echo "$ERR" | grep -c '^libos: /bin/dyn: its interpreter /lib64/ld-linux-x86-64.so.2 is not a trusted file')" == 1
# A dynamically linked glibc program: ld.so (its PT_INTERP) and libc, trusted files of the
# image (the default set: /lib*), map it; the same output as natively.
R3=$T/root-dyn
mkroot "$R3" "$T/hello-dyn"
gcc -O2 -o "$R3/bin/probe" "$SRCDIR/tests/libos/probe.c"
mkdir -p "$R3/lib/x86_64-linux-gnu" "$R3/lib64"
cp -L /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
	"$R3/lib/x86_64-linux-gnu/"
ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R3/lib64/ld-linux-x86-64.so.2"
"$RUNE_IMAGE" build --rootfs "$R3" --key "$KEY" --heap 32M --host-argv --trusted /data/file \
	-- /bin/probe >/dev/null
same "dynamic glibc (ld.so, libc.so.6): args, env, exit status" "$R3" "$R3/bin/probe" \
	args env FOO env HOME exit 3
same "dynamic glibc: malloc (brk/mmap)" "$R3" "$R3/bin/probe" malloc 1000 malloc 300000
run_pal "$R3" /bin/probe cat /data/file
check "dynamic glibc: a trusted file read" test "$RC" == 0 -a "$(echo "$OUT" | sed -n 2p)" == "trusted content"
printf 'X' | dd of="$R3/lib/x86_64-linux-gnu/libc.so.6" bs=1 seek=100 conv=notrunc status=none
run_pal "$R3" /bin/probe args
check "a tampered library: refused naming it (ld.so cannot load it), the program never runs" \
	test "$RC" == 127 -a -z "$OUT" -a \
	"$(echo "$ERR" | grep -c '^libos: /lib/x86_64-linux-gnu/libc.so.6: SHA-256 differs from the manifest')" == 1
"$RUNE_IMAGE" build --rootfs "$T/r2" --key "$KEY" -- /bin/missing >/dev/null 2>"$T/err"
check "rune-image: a missing entrypoint is an error naming it" \
	grep -q 'rune-image: .*/bin/missing' "$T/err"

# determinism: another path, other mtimes, files created in another order
mkdir -p "$T/x/y/root3/data/sub" "$T/x/y/root3/etc" "$T/x/y/root3/bin"
printf 'nested\n' >"$T/x/y/root3/data/sub/inner"
printf 'trusted content\nline 2\n' >"$T/x/y/root3/data/file"
cp "$T/probe-glibc" "$T/x/y/root3/bin/probe"
touch -d '2001-01-01' "$T/x/y/root3/data/file" "$T/x/y/root3/bin/probe"
b1=$("$RUNE_IMAGE" build --rootfs "$T/root-glibc" --key "$KEY" --heap 32M --host-argv \
	--trusted /data/file --trusted /data/sub -- /bin/probe | sed -n 's/^MRENCLAVE: //p')
b2=$("$RUNE_IMAGE" build --rootfs "$T/x/y/root3" --key "$KEY" --heap 32M --host-argv \
	--trusted /data/sub --trusted /data/file -- /bin/probe | sed -n 's/^MRENCLAVE: //p')
check "rune-image: same inputs, same MRENCLAVE (path, times, order)" test -n "$b1" -a "$b1" == "$b2"
check "rune-image: the manifest is identical too" cmp -s "$T/root-glibc/.rune/manifest" "$T/x/y/root3/.rune/manifest"
b3=$("$RUNE_IMAGE" build --rootfs "$T/x/y/root3" --key "$KEY" --heap 64M --host-argv \
	--trusted /data/sub --trusted /data/file -- /bin/probe | sed -n 's/^MRENCLAVE: //p')
check "rune-image: another heap, another MRENCLAVE" test -n "$b3" -a "$b1" != "$b3"
dump=$("$BUILD/bin/sgx-tools" dump "$T/x/y/root3/.rune/libos.sig" | sed -n 's/^mrenclave: //p')
check "rune-image: the SIGSTRUCT signs the printed MRENCLAVE" test "$dump" == "$b3"
# the default trusted set, symlinks, inspect
mkdir -p "$T/r4/bin" "$T/r4/etc/sub" "$T/r4/usr/bin" "$T/r4/data"
cp "$T/probe-glibc" "$T/r4/bin/probe"
echo conf >"$T/r4/etc/sub/conf"
ln -s ../../bin/probe "$T/r4/usr/bin/probe-link"
ln -s . "$T/r4/usr/bin/loop"
ln -s /nonexistent "$T/r4/usr/bin/dangling"
echo data >"$T/r4/data/notdefault"
"$RUNE_IMAGE" build --rootfs "$T/r4" --key "$KEY" --heap 16M --host-argv -- /bin/probe >/dev/null 2>"$T/err"
check "rune-image: default trusted set (/etc, /usr; file symlinks; no dir-link loops)" \
	test "$(grep -c '^trusted ' "$T/r4/.rune/manifest")" == 3 -a \
	"$(grep -c '^trusted .* \(/etc/sub/conf\|/usr/bin/probe-link\|/bin/probe\)$' "$T/r4/.rune/manifest")" == 3
run_pal "$T/r4" /bin/probe cat /etc/sub/conf cat /data/notdefault
check "a default trusted file reads, a file outside the set does not exist" \
	test "$OUT" == "$(printf 'size 5\nconf\nat 2: nf\n\nopen /data/notdefault: No such file or directory')"
"$RUNE_IMAGE" build --rootfs "$T/r4" --key "$KEY" --heap 16M --no-default-trusted -- /bin/probe >/dev/null
check "rune-image --no-default-trusted: the entrypoint only" test "$(grep -c '^trusted ' "$T/r4/.rune/manifest")" == 1
out=$("$RUNE_IMAGE" inspect "$T/r4")
rc=$?
mr=$("$BUILD/bin/sgx-tools" dump "$T/r4/.rune/libos.sig" | sed -n 's/^mrenclave: //p')
check "rune-image inspect: manifest, MRENCLAVE, a valid SIGSTRUCT for it" \
	test $rc == 0 -a "$(echo "$out" | grep -c '^entrypoint /bin/probe$')" == 1 -a \
	"$(echo "$out" | sed -n 's/^MRENCLAVE: //p')" == "$mr" -a \
	"$(echo "$out" | grep -c '^SIGSTRUCT: signature valid, signs this enclave$')" == 1
cp "$T/root-glibc/.rune/libos.sig" "$T/r4/.rune/libos.sig"
"$RUNE_IMAGE" inspect "$T/r4" >"$T/out" 2>&1
check "rune-image inspect: a SIGSTRUCT of another enclave is flagged (exit 1)" \
	test $? == 1 -a "$(grep -c 'signs ANOTHER enclave' "$T/out")" == 1
exit 0
