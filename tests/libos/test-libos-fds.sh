#!/bin/bash
# timeout: 240
# Descriptors in the LibOS (tests/libos/fdprobe.c through the PAL, compared
# with the same program run natively in a chroot, glibc and musl static
# PIEs): dup, dup2, dup3 and fcntl F_DUPFD(_CLOEXEC) for files, /tmp files,
# pipes, eventfds, epolls and sockets, with Linux's errors, a close-on-exec
# flag per descriptor and the open file description (offset, status flags)
# shared between duplicates; poll, ppoll, select and pselect6 over the
# readiness epoll uses (sockets through a host epoll), files always ready,
# timeouts, wakeups by other threads and connections, EINTR on a signal;
# pseudo-files: /dev/null, zero, random, urandom as native, and
# /dev/attestation (tests/libos/attest.c, enclave only): a report with the
# written data and the MRENCLAVE/MRSIGNER rune-image printed, its MAC
# under the target's report key (tests-bin/libos-verify-report).
set -u
. "$(dirname "$0")/lib.sh"
libos_need

T=$(mktemp -d /tmp/libosfd-fds.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
build_pies "$SRCDIR/tests/libos/fdprobe.c" "$T/fdprobe"

# same NAME ROOT ARGS...: the enclave's output and status are the chroot's
same() {
	same_chroot "$1" "$2" /bin/fdprobe "${@:3}"
}

for libc in glibc musl; do
	if [ ! -x "$T/fdprobe-$libc" ]; then
		echo "skip - $libc: the static PIE could not be built (musl-tools missing?)"
		continue
	fi
	R=$T/root-$libc
	mkdir -p "$R/bin" "$R/data" "$R/tmp" "$R/out" "$R/dev"
	# the native run's devices (the enclave's are the LibOS's own)
	for d in "null 3" "zero 5" "random 8" "urandom 9"; do
		set -- $d
		mknod -m 666 "$R/dev/$1" c 1 "$2"
	done
	cp "$T/fdprobe-$libc" "$R/bin/fdprobe"
	printf 'trusted content\nline 2\n' >"$R/data/file"
	"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 16M --host-argv --trusted /data --allowed /out \
		-- /bin/fdprobe >/dev/null 2>"$T/err"
	check "$libc: rune-image build" test $? -eq 0
	same "$libc: dup, dup2, dup3, F_DUPFD: errors, shared offsets and status flags, per-fd FD_CLOEXEC, every fd kind" \
		"$R" dup dupw /tmp/f dupw /out/f
	same "$libc: poll, ppoll: pipes, eventfds, files, sockets, POLLNVAL/HUP/ERR, timeouts, woken by a thread, a connection, a signal (EINTR)" \
		"$R" poll
	same "$libc: select, pselect: read/write sets, EBADF, EINVAL, timeouts and the time left, woken by a thread" \
		"$R" select
	same "$libc: /dev/null, /dev/zero, /dev/random, /dev/urandom: served inside, as Linux's" "$R" devs
	same "$libc: sendmsg, recvmsg (UDP): iovecs gathered and scattered, the sender's address, limits" \
		"$R" msg
done

# /dev/attestation: a report of this enclave for itself, with the data written
A=$T/root-attest
mkdir -p "$A/bin"
if gcc -static-pie -O2 -o "$A/bin/attest" "$SRCDIR/tests/libos/attest.c"; then
	"$RUNE_IMAGE" build --rootfs "$A" --key "$KEY" --heap 16M -- /bin/attest >"$T/mr" 2>"$T/err"
	check "attest: rune-image build" test $? -eq 0
	mrenclave=$(sed -n 's/^MRENCLAVE: *//p' "$T/mr")
	mrsigner=$(sed -n 's/^MRSIGNER: *//p' "$T/mr")
	pal_run 60 "$A" /bin/attest
	field() { echo "$OUT" | sed -n "s/^$1 //p"; }
	VR=$BUILD/tests-bin/libos-verify-report
	check "/dev/attestation/report: its MAC verifies with my_target_info's report key (the emulator's)" \
		"$VR" "$(field report-self)" "$(field target-self)"
	check "/dev/attestation/report for another target_info: with that target's key only" \
		eval '"$VR" "$(field report-other)" "$(field target-other)" &&
			! "$VR" "$(field report-other)" "$(field target-self)" >/dev/null'
	OUT=$(echo "$OUT" | grep -Ev '^(report|target)-(self|other) ')
	want="attestation_type none
user_report_data reads back: 1
MRENCLAVE $mrenclave
MRSIGNER $mrsigner
report data is user_report_data: 1
my_target_info has the report's MRENCLAVE: 1, ATTRIBUTES/XFRM: 1
the report's MAC is set: 1
report opened for writing: Permission denied
a write past 64 bytes: 4, then: No space left on device
/dev/attestation: attestation_type my_target_info quote report target_info user_report_data"
	if [ -n "$mrenclave" ] && [ "$OUT" == "$want" ] && [ "$RC" == 0 ]; then
		ok "/dev/attestation: user_report_data, my_target_info -> target_info, report: rune-image's MRENCLAVE and MRSIGNER, the data written"
	else
		echo "# rc=$RC"
		diff <(echo "$want") <(echo "$OUT") | sed 's/^/# /'
		sed 's/^/# stderr: /' "$T/err"
		nok "/dev/attestation: user_report_data, my_target_info -> target_info, report: rune-image's MRENCLAVE and MRSIGNER, the data written"
	fi
else
	nok "build attest"
fi

# /dev/attestation/quote: a DCAP quote from the host's quoting enclave (the
# emulated one), verified against this host's emulator root CA, of this
# enclave (rune-image's MRENCLAVE) and the data written; only where the
# manifest says attestation_type dcap.
Q=$T/root-quote
SGXT=$BUILD/bin/sgx-tools
mkdir -p "$Q/bin"
if gcc -static-pie -O2 -o "$Q/bin/quote" "$SRCDIR/tests/libos/quote.c" &&
	"$SGXT" emulator-root-ca >"$T/root.pem" 2>"$T/err"; then
	"$RUNE_IMAGE" build --rootfs "$Q" --key "$KEY" --heap 16M --attestation dcap \
		-- /bin/quote >"$T/mr" 2>"$T/err"
	mr=$(sed -n 's/^MRENCLAVE: *//p' "$T/mr")
	pal_run 60 "$Q" /bin/quote
	rd=$(printf 'rune libos quote test' | od -An -tx1 | tr -d ' \n')
	if [ -n "$mr" ] && echo "$OUT" | "$SGXT" verify-quote --root-ca "$T/root.pem" \
		--mrenclave "$mr" --report-data "$rd" - >"$T/v" 2>&1; then
		ok "/dev/attestation/quote: a quote of this enclave with the data written, verified to the emulator root"
	else
		nok "/dev/attestation/quote: a quote of this enclave with the data written, verified to the emulator root"
		sed 's/^/# /' "$T/v"
		echo "$OUT" | head -3 | sed 's/^/# out: /'
		sed 's/^/# stderr: /' "$T/err"
	fi
	"$RUNE_IMAGE" build --rootfs "$Q" --key "$KEY" --heap 16M -- /bin/quote >/dev/null 2>&1
	pal_run 60 "$Q" /bin/quote
	check "/dev/attestation/quote without attestation_type dcap: EACCES, one line says why" \
		eval '[ "$OUT" == "open quote: Permission denied" ] &&
			[ "$(grep -c "attestation_type is not dcap" "$T/err")" == 1 ]'
else
	nok "build quote"
fi
exit 0
