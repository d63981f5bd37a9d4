#!/bin/bash
# timeout: 240
# Processes in the LibOS (tests/libos/spawn.c), static musl, glibc PIE and
# glibc ET_EXEC builds through the PAL: posix_spawn and vfork start the
# program again as a child enclave of the same image; argv, env, exit
# statuses, a child killed by a signal, getppid, pipes in both directions
# (5000 lines through one), a program not in the manifest (ENOENT), a vfork
# child's _exit, WNOHANG and ECHILD: each output and status as a native
# chroot run's. What crosses the host between the enclaves is sealed: the
# bytes of a pipe never appear in the host's socket traffic, and a host that
# alters a record stops the child with one line, nothing hanging. No
# process is left behind, also when the parent is killed.
set -u
. "$(dirname "$0")/lib.sh"
libos_need
T=$(mktemp -d /tmp/rune-libos-spawn.XXXXXX)
cleanup() {
	# Children of the PAL's processes end with them (PR_SET_PDEATHSIG): look anyway.
	pkill -KILL -f "root=$T/" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
SRC=$SRCDIR/tests/libos/spawn.c

build_variants "$SRC" "$T/sp" spawn
variants=$VARIANTS

image() {
	mkdir -p "$T/r-$1/bin"
	cp "$T/sp-$1" "$T/r-$1/bin/sp"
	"$RUNE_IMAGE" build --rootfs "$T/r-$1" --key "$KEY" --no-default-trusted --host-argv \
		-- /bin/sp >/dev/null
}

# enclave V ARGS...: $OUT, $RC, $T/err
enclave() {
	local v=$1
	shift
	OUT=$(timeout -k 2 60 "$PAL_HOST" --args "root=$T/r-$v" "$LIBOS_PAL" /bin/sp "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
}

for v in $variants; do
	if ! image "$v"; then
		nok "$v: rune-image build"
		continue
	fi
	nout=$(chroot "$T/r-$v" /bin/sp 2>/dev/null)
	nrc=$?
	enclave "$v"
	same_as "$v: spawn, pipes, statuses and waits as native" "$nout" "$nrc"
	check "$v: exec of a program outside the manifest is ENOENT, quietly (a PATH search)" \
		eval '! grep -q "no-such-program" "$T/err"'
done

# Files through execve: a trusted file at its offset, an allowed file as stdout.
for v in $variants; do
	mkdir -p "$T/f-$v/bin" "$T/f-$v/out"
	cp "$T/sp-$v" "$T/f-$v/bin/sp"
	"$RUNE_IMAGE" build --rootfs "$T/f-$v" --key "$KEY" --no-default-trusted --host-argv \
		--allowed /out -- /bin/sp >/dev/null || continue
	nout=$(chroot "$T/f-$v" /bin/sp files 2>/dev/null)
	nrc=$?
	OUT=$(timeout -k 2 60 "$PAL_HOST" --args "root=$T/f-$v" "$LIBOS_PAL" /bin/sp files 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	same_as "$v: files passed through execve (trusted at an offset, allowed as stdout) as native" \
		"$nout" "$nrc"
	# natively in a session of its own: its kill(0) must not reach this script
	nout=$(setsid -w chroot "$T/f-$v" /bin/sp groups 2>/dev/null)
	nrc=$?
	OUT=$(timeout -k 2 60 "$PAL_HOST" --args "root=$T/f-$v" "$LIBOS_PAL" /bin/sp groups 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	same_as "$v: kill(0), kill(-pgid): the caller's group and a child's own, as native" \
		"$nout" "$nrc"
done

# fork: a copy of the process in a child enclave (musl, glibc PIE, ET_EXEC).
FSRC=$SRCDIR/tests/libos/fork.c
for v in $variants; do
	build_variant "$v" "$FSRC" "$T/r-$v/bin/fk" || continue
	"$RUNE_IMAGE" build --rootfs "$T/r-$v" --key "$KEY" --no-default-trusted --host-argv \
		-- /bin/fk >/dev/null || continue
	nout=$(chroot "$T/r-$v" /bin/fk 2>/dev/null)
	nrc=$?
	OUT=$(timeout -k 2 60 "$PAL_HOST" --args "root=$T/r-$v" "$LIBOS_PAL" /bin/fk 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	same_as "$v: fork (a copy: memory, pipes, exec, statuses) as native" "$nout" "$nrc"
done

v=glibc
image "$v" || exit 1

# execve outside a vfork (sh -c 'exec prog'): the signals the process is
# sent reach the program that replaced it (its TERM handler runs).
OUT=$(timeout -k 2 60 "$PAL_HOST" --kill-after 1.5 15 --args "root=$T/r-$v" "$LIBOS_PAL" \
	/bin/sp exec-term 2>"$T/err")
RC=$?
if [ "$OUT" == "$(printf 'waiting\ngot TERM')" ] && [ "$RC" == 7 ]; then
	ok "execve: a signal to the process reaches the program that replaced it"
else
	nok "execve: a signal to the process reaches the program that replaced it"
	echo "# rc=$RC"
	sed 's/^/# out: /' <<<"$OUT"
	sed 's/^/# stderr: /' "$T/err"
fi

# The host's view: a line through a pipe between two enclaves, under strace.
if command -v strace >/dev/null; then
	timeout -k 2 60 strace -f -qq -e signal=none -e trace=sendto,recvfrom -s 4096 -o "$T/trace" \
		"$PAL_HOST" --args "root=$T/r-$v" "$LIBOS_PAL" /bin/sp secret >"$T/out" 2>"$T/err"
	if grep -q "read 18 bytes, 1 lines" "$T/out" && grep -q "sendto" "$T/trace" &&
		! grep -q "TOP-SECRET" "$T/trace" && ! grep -q "child" "$T/trace"; then
		ok "pipe bytes and the child's argv cross the host sealed"
	else
		nok "pipe bytes and the child's argv cross the host sealed"
		sed 's/^/# out: /' "$T/out"
		grep -E "SECRET|child" "$T/trace" | cut -c1-200 | sed 's/^/# trace: /'
	fi
else
	echo "ok - pipe bytes cross the host sealed # SKIP no strace"
fi

# A host that alters what it carries: every record of 40 bytes or more sent by the PAL.
cat >"$T/tamper.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);
	char copy[65536];

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
	if (len < 40 || len > sizeof(copy))
		return real(fd, buf, len, flags);
	memcpy(copy, buf, len);
	copy[len - 1] ^= 1; /* the record's tag */
	return real(fd, copy, len, flags);
}
EOF
if gcc -shared -fPIC -o "$T/tamper.so" "$T/tamper.c" -ldl; then
	OUT=$(LD_PRELOAD=$T/tamper.so timeout -k 2 60 "$PAL_HOST" --args "root=$T/r-$v" "$LIBOS_PAL" \
		/bin/sp secret 2>"$T/err")
	RC=$?
	# The parent then writes to a pipe nobody reads: SIGPIPE, as natively.
	if [ "$RC" != 124 ] && grep -q "posix_spawn: " <<<"$OUT" &&
		grep -q "failed authentication" "$T/err"; then
		ok "a record the host altered stops the child, said on stderr, nothing hangs"
	else
		nok "a record the host altered stops the child, said on stderr, nothing hangs"
		echo "# rc=$RC"
		sed 's/^/# out: /' <<<"$OUT"
		sed 's/^/# stderr: /' "$T/err"
	fi
fi

# The parent killed while a child runs: the child's host process goes too.
"$PAL_HOST" --args "root=$T/r-$v" "$LIBOS_PAL" /bin/sp >/dev/null 2>&1 &
pal=$!
for _ in $(seq 200); do
	[ "$(pgrep -c -f "^$PAL_HOST --args root=$T/r-$v")" -ge 2 ] && break
	sleep 0.05
done
kill -KILL "$pal" 2>/dev/null
wait "$pal" 2>/dev/null
for _ in $(seq 40); do
	pgrep -f "^$PAL_HOST --args root=$T/r-$v" >/dev/null || break
	sleep 0.05
done
check "no child process outlives a killed parent" \
	bash -c "! pgrep -f '^$PAL_HOST --args root=$T/r-$v'"

exit $((_n > 0))
