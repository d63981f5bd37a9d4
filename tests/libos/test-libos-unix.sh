#!/bin/bash
# timeout: 240
# Unix domain sockets and sendmmsg/recvmmsg in the LibOS
# (tests/libos/unixprobe.c through the PAL, compared with the same program
# run natively in a chroot, glibc and musl static PIEs): stream, seqpacket
# and datagram sockets at paths of an allowed directory, abstract names,
# socketpair (shared with a child of fork), sendmmsg/recvmmsg counts;
# then, in the enclave only: a peer on the host side answering at a path of
# the allowed directory, bind and connect outside allowed paths refused
# with EACCES and one line saying why, symlinks in the allowed directory
# resolved inside the root (never outside it), SCM_RIGHTS refused (EINVAL).
set -u
. "$(dirname "$0")/lib.sh"
libos_need

T=$(mktemp -d /tmp/libos-unixsock.XXXXXX)
PEER=
cleanup() {
	[ -n "$PEER" ] && kill "$PEER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
build_pies "$SRCDIR/tests/libos/unixprobe.c" "$T/unixprobe"

# same NAME ROOT ARGS...: the enclave's output and status are the chroot's
same() {
	same_chroot "$1" "$2" /bin/unixprobe "${@:3}"
}

# enclave NAME WANT ARGS...: the enclave's output is WANT
enclave() {
	local name=$1 want=$2
	shift 2
	pal_run 60 "$R" /bin/unixprobe "$@"
	if [ "$OUT" == "$want" ]; then
		ok "$name"
	else
		echo "# want: $want"
		echo "$OUT" | sed 's/^/# got: /'
		echo "$ERR" | sed 's/^/# stderr: /'
		nok "$name"
	fi
}

for libc in glibc musl; do
	if [ ! -x "$T/unixprobe-$libc" ]; then
		echo "ok - $libc # SKIP the static PIE could not be built (musl-tools missing?)"
		continue
	fi
	R=$T/root-$libc
	mkdir -p "$R/bin" "$R/data" "$R/out" "$R/tmp"
	cp "$T/unixprobe-$libc" "$R/bin/unixprobe"
	echo data >"$R/data/file"
	"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 16M --debug --host-argv \
		--trusted /data --allowed /out -- /bin/unixprobe >/dev/null 2>"$T/err"
	check "$libc: rune-image build" test $? -eq 0
	same "$libc: SOCK_STREAM at a path: bind, listen, accept, connect, names, shutdown, unlink" \
		"$R" stream /out
	same "$libc: SOCK_SEQPACKET at a path: records kept" "$R" seqpacket /out
	same "$libc: SOCK_DGRAM at paths: sendto, recvfrom with the sender's name (truncated too), connect, bad lengths" \
		"$R" dgram /out
	same "$libc: abstract names, autobind" "$R" abstract "rune-libos-unixprobe-$$"
	same "$libc: socketpair stream, dgram, seqpacket; shared with a child of fork" "$R" pair
	same "$libc: sendmmsg, recvmmsg: counts, partial success, MSG_WAITFORONE, timeout" "$R" mmsg

	# a native peer on the host at ROOT/out/peer.sock: upper-cases what it gets
	rm -f "$R/out/peer.sock"
	timeout 30 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); print("ready", flush=True)
c, _ = s.accept(); d = b""
while True:
    b = c.recv(64)
    if not b: break
    d += b
c.sendall(d.upper()); c.close()' "$R/out/peer.sock" >"$T/peer.out" &
	PEER=$!
	for _ in $(seq 50); do
		[ -S "$R/out/peer.sock" ] && grep -q ready "$T/peer.out" && break
		sleep 0.1
	done
	enclave "$libc: a host peer at a path of the allowed directory answers" \
		"reply 5: HELLO" connect /out/peer.sock hello
	wait "$PEER"
	PEER=

	enclave "$libc: bind outside allowed paths: EACCES" "bind /data/x.sock: EACCES" bind /data/x.sock
	check "$libc: ... and one line on stderr says why" \
		grep -q "bind /data/x.sock: a unix socket's path must be below an allowed path: EACCES" "$T/err"
	enclave "$libc: bind in the enclave's /tmp: EACCES" "bind /tmp/x.sock: EACCES" bind /tmp/x.sock
	enclave "$libc: bind relative to the working directory, outside: EACCES" \
		"bind x.sock: EACCES" bind x.sock
	enclave "$libc: connect outside allowed paths: EACCES" "connect: EACCES" connect /data/file hi
	check "$libc: ... and one line on stderr says why" \
		grep -q "connect /data/file: a unix socket's path must be below an allowed path" "$T/err"

	# symlinks in the allowed directory: resolved inside the root, as allowed files' are
	mkdir -p "$T/outside-$libc" "$R/out/real"
	ln -s "$T/outside-$libc" "$R/out/link"
	ln -s /out/real "$R/out/inroot"
	enclave "$libc: bind through a symlink to a host directory: resolved in the root (ENOENT)" \
		"bind /out/link/s.sock: ENOENT" bind /out/link/s.sock
	check "$libc: ... and nothing was created outside the root" test ! -e "$T/outside-$libc/s.sock"
	enclave "$libc: bind through a symlink to /out/real: followed inside the root" \
		"bind /out/inroot/s.sock: ok" bind /out/inroot/s.sock
	check "$libc: ... the socket is in ROOT/out/real" test -S "$R/out/real/s.sock"

	enclave "$libc: SCM_RIGHTS: sendmsg EINVAL, sendmmsg counts the messages before it" \
		"$(printf 'sendmsg SCM_RIGHTS: EINVAL\nsendmmsg, the second with SCM_RIGHTS: 1')" scm
	check "$libc: ... and one line on stderr says why" \
		grep -q "sendmsg: ancillary data is not supported: EINVAL" "$T/err"
done
exit $((_n > 0))
