#!/bin/bash
# timeout: 180
# Threads in the LibOS (tests/libos/threads.c), static musl, glibc PIE and
# glibc ET_EXEC builds through the PAL: 8
# pthreads with a mutex, a condition variable, TLS and distinct tids; a
# timed condition wait and sleeping threads; exit() from a thread while
# main waits in pthread_join; main's pthread_exit leaving the last thread
# to end the process: each output and status as a native run's. The
# manifest's thread count bounds the threads: past it pthread_create
# fails with EAGAIN (one stderr line), nothing hangs, and a TCS freed by
# an ended thread is used again. (test-libos-rune.sh runs it through rune.)
set -u
. "$(dirname "$0")/lib.sh"
libos_need
T=$(mktemp -d /tmp/rune-libos-threads.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
SRC=$SRCDIR/tests/libos/threads.c

build_variants "$SRC" "$T/th" threads
variants=$VARIANTS

# image V [rune-image options]: $T/r-V with the program as /bin/th
image() {
	local v=$1
	shift
	mkdir -p "$T/r-$v/bin"
	cp "$T/th-$v" "$T/r-$v/bin/th"
	"$RUNE_IMAGE" build --rootfs "$T/r-$v" --key "$KEY" --no-default-trusted --host-argv "$@" \
		-- /bin/th >/dev/null
}

# same V ARGS...: the enclave's output and status are the native run's
same() {
	local v=$1 out rc nout nrc
	shift
	out=$(timeout -k 2 30 "$PAL_HOST" --args "root=$T/r-$v" "$LIBOS_PAL" /bin/th "$@" 2>"$T/err")
	rc=$?
	nout=$("$T/th-$v" "$@" 2>/dev/null)
	nrc=$?
	if [ -n "$nout" ] && [ "$out" == "$nout" ] && [ "$rc" == "$nrc" ]; then
		ok "$v: $* (as native)"
	else
		nok "$v: $* (as native)"
		echo "# enclave rc=$rc native rc=$nrc"
		diff <(echo "$nout") <(echo "$out") | sed 's/^/# /'
		sed 's/^/# stderr: /' "$T/err"
	fi
}

for v in $variants; do
	if ! image "$v"; then
		nok "$v: rune-image build"
		continue
	fi
	same "$v" work 8
	same "$v" timed
	same "$v" exit-thread
	same "$v" main-exits
	# 16 TCS by default: 15 threads besides main. Ended threads free theirs.
	same "$v" limit 15
	for i in 1 2 3; do same "$v" work 12; done 2>&1 | sort -u
done

# The manifest's thread count bounds them: 4 TCS, main and 3 threads.
for v in $variants; do
	image "$v" --threads 4 || continue
	out=$(timeout -k 2 30 "$PAL_HOST" --args "root=$T/r-$v" "$LIBOS_PAL" /bin/th limit 10 2>"$T/err")
	rc=$?
	if [ "$rc" == 0 ] &&
		[ "$out" == "$(printf 'started 3 of 10: Resource temporarily unavailable\njoined 3')" ] &&
		[ "$(grep -c "^libos: " "$T/err")" == 1 ] && grep -q "all 4 enclave threads are in use" "$T/err"; then
		ok "$v: past the manifest's 4 threads pthread_create fails with EAGAIN, once said"
	else
		nok "$v: past the manifest's 4 threads pthread_create fails with EAGAIN, once said"
		echo "$out" | sed 's/^/# out: /'
		sed 's/^/# stderr: /' "$T/err"
	fi
done

exit $((_n > 0))
