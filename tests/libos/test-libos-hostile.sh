#!/bin/bash
# timeout: 60
# The LibOS enclave against a host that breaks the protocol
# (tests/libos/hostile-host.c): replayed exception entries do nothing, a
# mailbox inside the ELRANGE is refused, ecalls out of order are refused
# and leave the enclave dead, threads can't be entered unless the LibOS
# started them.
set -u
. "$(dirname "$0")/lib.sh"
libos_need
HOSTILE=$BUILD/tests-bin/libos-hostile-host
T=$(mktemp -d /tmp/rune-libos-hostile.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
gcc -static-pie -O2 -o "$T/probe" "$SRCDIR/tests/libos/probe.c" || {
	echo "not ok - build the probe"
	exit 1
}
mkdir -p "$T/root/bin"
cp "$T/probe" "$T/root/bin/probe"
"$RUNE_IMAGE" build --rootfs "$T/root" --key "$KEY" --heap 16M --host-argv --no-default-trusted \
	-- /bin/probe >/dev/null || {
	echo "not ok - rune-image build"
	exit 1
}
out=$(timeout 20 "$HOSTILE" "$T/root" replay /bin/probe args time exit 0)
echo "$out" | grep -E '^(not )?ok - '
body=$(echo "$out" | grep -vE '^(not )?ok - ')
if [ "$body" == "$(printf 'argc 5\nargv[0] /bin/probe\nargv[1] args\nargv[2] time\nargv[3] exit\nargv[4] 0\ntime ok')" ]; then
	echo "ok - replayed entries: the output is written exactly once"
else
	echo "$body" | sed 's/^/# /'
	echo "not ok - replayed entries: the output is written exactly once"
fi
timeout 20 "$HOSTILE" "$T/root" mailbox /bin/probe | grep -E '^(not )?ok - '
timeout 20 "$HOSTILE" "$T/root" order /bin/probe args | grep -E '^(not )?ok - '
timeout 20 "$HOSTILE" "$T/root" threads /bin/probe args | grep -E '^(not )?ok - '
# An image for a program linked at 0x400000, loaded where the host likes.
mkdir -p "$T/root2/bin"
gcc -static -no-pie -O2 -o "$T/root2/bin/probe" "$SRCDIR/tests/libos/probe.c" &&
	"$RUNE_IMAGE" build --rootfs "$T/root2" --key "$KEY" --heap 16M --no-default-trusted \
		-- /bin/probe >/dev/null || echo "not ok - build the ET_EXEC image"
timeout 20 "$HOSTILE" "$T/root2" elsewhere /bin/probe | grep -E '^(not )?ok - '
exit 0
