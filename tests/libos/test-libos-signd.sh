#!/bin/bash
# timeout: 120
# rune-image build and convert --sign-server (issues 13, 14 and 15): the TEE image signed by
# rune-signd (plain HTTP on loopback, a bearer token) instead of a local
# key: the same MRENCLAVE, MRSIGNER and SIGSTRUCT as a local sign with the
# service's key, and it runs; the service's refusals (a DEBUG enclave under
# the default policy, no token) fail the build with one line naming the
# service and its reason, and leave no TEE files behind.
set -u
. "$(dirname "$0")/lib.sh"
libos_need
D=$BUILD/bin/rune-signd
SGXT=$BUILD/bin/sgx-tools
T=$(mktemp -d /tmp/rune-libos-signd.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
cd "$T" || exit 1

"$SGXT" gen-key --out key.pem 2>/dev/null && chmod 600 key.pem
"$D" gen-token ci --tokens clients.json >ci.token 2>/dev/null
"$D" --listen 127.0.0.1:0 --insecure-http --key key.pem --tokens clients.json \
	--audit-log audit.log 2>d.log &
PID=$!
URL=
for _ in $(seq 200); do
	URL=$(sed -n 's/^rune-signd: listening on \([^ ]*\) .*/\1/p' d.log)
	[ -n "$URL" ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$URL" ]; then
	nok "rune-signd started: $(cat d.log)"
	exit 1
fi

for r in local remote; do
	mkdir -p "$r/bin"
	printf '#include <stdio.h>\nint main(void){puts("signed by the service");return 0;}\n' >hello.c
	gcc -static-pie -O2 -o "$r/bin/hello" hello.c
done
"$RUNE_IMAGE" build --rootfs local --key key.pem --no-default-trusted -- /bin/hello >local.mr
"$RUNE_IMAGE" build --rootfs remote --sign-server "$URL" --token-file ci.token \
	--no-default-trusted -- /bin/hello >remote.mr 2>remote.err
check "--sign-server: MRENCLAVE and MRSIGNER as a local sign with the service's key" \
	eval '[ -s remote.mr ] && diff local.mr remote.mr'
check "--sign-server: the SIGSTRUCT is the local sign's, byte for byte" \
	cmp -s local/.rune/libos.sig remote/.rune/libos.sig
OUT=$(timeout -k 2 30 "$PAL_HOST" --args "root=$T/remote" "$LIBOS_PAL" /bin/hello 2>/dev/null)
check "the service-signed image runs" test "$OUT" == "signed by the service"
check "the service's audit log has the signature" grep -q '"decision":"sign' audit.log

# rune-image convert --sign-server: the same archive, byte for byte, as with the service's key.
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$SRCDIR/tests/clients/mkimage.py" oci local img.tar \
	localhost/rune-signd:hello --format oci --cmd '["/bin/hello"]'
"$RUNE_IMAGE" convert --key key.pem img.tar img-local.tar >/dev/null 2>conv.err
"$RUNE_IMAGE" convert --sign-server "$URL" --token-file ci.token img.tar img-remote.tar \
	>/dev/null 2>>conv.err
check "convert --sign-server: the archive a convert with the service's key writes" \
	eval '[ -s img-remote.tar ] && cmp -s img-local.tar img-remote.tar'
"$RUNE_IMAGE" convert --sign-server "$URL" img.tar img-refused.tar >/dev/null 2>refused.err
RC=$?
check "convert --sign-server without a token: refused (401), one line, no output" \
	eval '[ "$RC" != 0 ] && [ "$(wc -l <refused.err)" == 1 ] && grep -q "401" refused.err &&
		[ ! -e img-refused.tar ]'
sed 's/^/# convert: /' conv.err

# Refusals: one line naming the service and the reason; nothing written.
mkdir -p refused/bin && cp remote/bin/hello refused/bin/hello
"$RUNE_IMAGE" build --rootfs refused --sign-server "$URL" --token-file ci.token --debug \
	--no-default-trusted -- /bin/hello >refused.out 2>refused.err
RC=$?
check "a DEBUG enclave under the default policy: refused, one line, no TEE files" \
	eval '[ "$RC" != 0 ] && [ "$(wc -l <refused.err)" == 1 ] && grep -q "$URL" refused.err &&
		grep -qi "debug" refused.err && [ ! -e refused/.rune/libos.sig ]'
"$RUNE_IMAGE" build --rootfs refused --sign-server "$URL" --no-default-trusted \
	-- /bin/hello >refused.out 2>refused.err
RC=$?
check "no token: refused (401), one line" \
	eval '[ "$RC" != 0 ] && [ "$(wc -l <refused.err)" == 1 ] && grep -q "401" refused.err'
"$RUNE_IMAGE" build --rootfs refused --sign-server "$URL" --key key.pem -- /bin/hello \
	>/dev/null 2>&1
check "--key and --sign-server together: a usage error (2)" test $? == 2
sed 's/^/# stderr: /' remote.err
exit $((_n > 0))
