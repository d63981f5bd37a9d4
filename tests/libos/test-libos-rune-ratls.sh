#!/bin/bash
# timeout: 180
# RA-TLS from an enclave container (issue 16): `rune-image build --bundle
# --attestation dcap` turns a bundle holding the tests' helper (libratls,
# OpenSSL, dynamically linked) into a TEE image; under `rune` the helper
# makes a key and its TCG DICE certificate with a quote from
# /dev/attestation/quote inside the LibOS enclave and serves TLS in the
# container's network namespace; ratls-verify there checks the enclave
# (rune-image's MRENCLAVE, the emulator root), and nothing is left behind.
. "$(dirname "$0")/../enclave/lib.sh"
. "$(dirname "$0")/lib.sh"
libos_need
HELPER=$BUILD/tests-bin/ratls-helper
V=$BUILD/bin/ratls-verify

t_ratls_server() {
	local pid out l mr
	[ -x "$HELPER" ] && [ -x "$V" ] || fail "ratls-helper and ratls-verify are not built (make all)"
	new_bundle
	cfg_set .process.terminal false
	cp "$HELPER" "$B/rootfs/bin/ratls-helper"
	for l in $(ldd "$HELPER" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$B/rootfs/$(dirname "$l")"
		cp -L "$l" "$B/rootfs/$l"
	done
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 128M --attestation dcap \
		-- /bin/ratls-helper serve --attested --port 8443 --count 2 >"$T/mr" 2>"$T/mr.err" ||
		fail "rune-image: $(cat "$T/mr.err")"
	mr=$(sed -n 's/^MRENCLAVE: *//p' "$T/mr")
	"$BUILD/bin/sgx-tools" emulator-root-ca >"$T/root.pem" || fail "emulator-root-ca"
	printf '{"mrenclave": "%s"}\n' "$mr" >"$T/policy.json"
	ct_serve 127.0.0.1:8443 "$T/srv.out"
	pid=$CT_PID
	out=$(nsenter --net="/proc/$pid/ns/net" timeout 30 "$V" --root-ca "$T/root.pem" \
		--policy "$T/policy.json" 127.0.0.1:8443 2>&1) || true
	assert_contains "mrenclave: $mr" "$out" "ratls-verify: the enclave is rune-image's MRENCLAVE"
	assert_contains "form: dice" "$out" "the DICE evidence"
	assert_contains "debug: false" "$out" "not a DEBUG enclave"
	out=$(nsenter --net="/proc/$pid/ns/net" timeout 30 "$V" 127.0.0.1:8443 2>&1) || true
	assert_contains "not in the Intel SGX Root CA" "$out" "without --root-ca: the emulator's quote refused"
	wait_status "$ID" stopped 30
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

tcase "rune create/start: an RA-TLS server in the enclave (quote from /dev/attestation), checked by ratls-verify" t_ratls_server
