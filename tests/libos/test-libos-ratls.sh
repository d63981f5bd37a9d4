#!/bin/bash
# timeout: 180
# An RA-TLS server in a LibOS enclave (issue 16's stretch): the tests'
# helper, dynamically linked with libratls and OpenSSL, runs in the enclave
# through the PAL, makes a key and its TCG DICE certificate with a quote
# from /dev/attestation/quote (the emulated QE), and serves TLS on
# 127.0.0.1; ratls-verify on the host checks it against rune-image's
# MRENCLAVE (policy file) and the emulator root, and the default policy.
set -u
. "$(dirname "$0")/lib.sh"
libos_need
HELPER=$BUILD/tests-bin/ratls-helper
V=$BUILD/bin/ratls-verify
[ -x "$HELPER" ] && [ -x "$V" ] || {
	nok "ratls-helper and ratls-verify built (make all)"
	exit 1
}
T=$(mktemp -d /tmp/rune-libos-ratls.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
R=$T/root

# The rootfs: the helper and the libraries ldd names (and ld.so).
mkdir -p "$R/bin"
cp "$HELPER" "$R/bin/ratls-helper"
for l in $(ldd "$HELPER" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do
	mkdir -p "$R/$(dirname "$l")"
	cp -L "$l" "$R/$l"
done
if ! "$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 128M --host-argv --attestation dcap \
	-- /bin/ratls-helper >"$T/mr" 2>"$T/err"; then
	nok "rune-image build of the RA-TLS server's rootfs"
	sed 's/^/# /' "$T/err"
	exit 1
fi
mr=$(sed -n 's/^MRENCLAVE: *//p' "$T/mr")
"$BUILD/bin/sgx-tools" emulator-root-ca >"$T/root.pem"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout -k 2 90 "$PAL_HOST" --args "root=$R" "$LIBOS_PAL" /bin/ratls-helper serve --attested \
	--port "$port" --count 2 >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do
	grep -q listening "$T/out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "listening on 127.0.0.1:$port" "$T/out"; then
	nok "the RA-TLS server in the enclave listens"
	sed 's/^/# /' "$T/out" "$T/err" | head -20
	exit 1
fi
ok "the RA-TLS server in the enclave listens (its certificate made from /dev/attestation/quote)"
printf '{"mrenclave": "%s"}\n' "$mr" >"$T/policy.json"
out=$(timeout 30 "$V" --root-ca "$T/root.pem" --policy "$T/policy.json" "127.0.0.1:$port" 2>&1)
if [ -n "$mr" ] && [[ $out == *"mrenclave: $mr"* ]] && [[ $out == *"form: dice"* ]]; then
	ok "ratls-verify: the server's enclave is rune-image's MRENCLAVE (policy), DICE evidence"
else
	nok "ratls-verify: the server's enclave is rune-image's MRENCLAVE (policy), DICE evidence"
	printf '%s\n' "$out" | sed 's/^/# /'
	sed 's/^/# server: /' "$T/err" | head -10
fi
out=$(timeout 30 "$V" "127.0.0.1:$port" 2>&1)
if [[ $out == *"not in the Intel SGX Root CA"* ]]; then
	ok "without --root-ca: the emulator's quote refused (Intel root pinned)"
else
	nok "without --root-ca: the emulator's quote refused (Intel root pinned)"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
wait "$pid"
rc=$?
pid=
[ "$rc" = 0 ] && ok "the server in the enclave exits 0 after its two connections" ||
	nok "the server in the enclave exits 0 after its two connections (rc $rc)"

# The LibOS's own RA-TLS files (rune-image --ratls-cert/--ratls-key): the
# probe, with a fixed argv, prints them, stats them and tries to write the
# key. The certificate verifies offline for the image's MRENCLAVE, the key
# is its key, the files are read-only and each start makes a new pair.
P=$T/proot
mkdir -p "$P/bin"
build_probes "$T" >/dev/null 2>&1 || true
cp "$T/probe-glibc" "$P/bin/probe"
if ! "$RUNE_IMAGE" build --rootfs "$P" --key "$KEY" --heap 64M --attestation dcap \
	--ratls-cert /tls/cert.pem --ratls-key /tls/key.pem -- /bin/probe cat /tls/cert.pem \
	cat /tls/key.pem stat /tls/key.pem write /tls/key.pem x write /tls/cert.pem x \
	ls /tls >"$T/pmr" 2>"$T/err"; then
	nok "rune-image build --ratls-cert --ratls-key of the probe"
	sed 's/^/# /' "$T/err"
	exit 1
fi
pmr=$(sed -n 's/^MRENCLAVE: *//p' "$T/pmr")
pem_of() { # LABEL FILE: the PEM block of that label
	sed -n "/^-----BEGIN $1-----\$/,/^-----END $1-----\$/p" "$2"
}
for run in 1 2; do
	timeout -k 2 60 "$PAL_HOST" --args "root=$P" "$LIBOS_PAL" /bin/probe >"$T/p$run.out" 2>"$T/p$run.err"
	pem_of CERTIFICATE "$T/p$run.out" >"$T/c$run.pem"
	pem_of "EC PRIVATE KEY" "$T/p$run.out" >"$T/k$run.pem"
done
printf '{"mrenclave": "%s"}\n' "$pmr" >"$T/ppolicy.json"
out=$(timeout 30 "$V" --root-ca "$T/root.pem" --policy "$T/ppolicy.json" --cert "$T/c1.pem" 2>&1)
if [ -n "$pmr" ] && [[ $out == *"mrenclave: $pmr"* ]] && [[ $out == *"form: dice"* ]]; then
	ok "the LibOS's RA-TLS certificate verifies for the image's MRENCLAVE (DICE evidence)"
else
	nok "the LibOS's RA-TLS certificate verifies for the image's MRENCLAVE (DICE evidence)"
	printf '%s\n' "$out" | sed 's/^/# /'
	sed 's/^/# enclave: /' "$T/p1.out" "$T/p1.err" | head -20
fi
kpub=$(openssl pkey -in "$T/k1.pem" -pubout 2>/dev/null)
cpub=$(openssl x509 -in "$T/c1.pem" -noout -pubkey 2>/dev/null)
check "the key file holds the certificate's private key (P-256, SEC 1 PEM)" \
	test -n "$kpub" -a "$kpub" == "$cpub"
check "the certificate is self-signed by that key" \
	sh -c 'openssl verify -CAfile "$1" -check_ss_sig "$1" >/dev/null' - "$T/c1.pem"
grep -c '^write /tls/\(key\|cert\).pem: Permission denied$' "$T/p1.out" | grep -qx 2 &&
	grep -qx "stat /tls/key.pem: file" "$T/p1.out" &&
	ok "the files are regular and read-only: writing either is EACCES" ||
	nok "the files are regular and read-only: writing either is EACCES"
[ -s "$T/k2.pem" ] && ! cmp -s "$T/k1.pem" "$T/k2.pem" && ! cmp -s "$T/c1.pem" "$T/c2.pem" &&
	ok "each start makes a new key and certificate" ||
	nok "each start makes a new key and certificate"
exit $((_n > 0))
