#!/bin/bash
# timeout: 300
# RA-TLS from an enclave container (issue 16): `rune-image build --bundle
# --attestation dcap` turns a bundle holding the tests' helper (libratls,
# OpenSSL, dynamically linked) into a TEE image; under `rune` the helper
# makes a key and its TCG DICE certificate with a quote from
# /dev/attestation/quote inside the LibOS enclave and serves TLS in the
# container's network namespace; ratls-verify there checks the enclave
# (rune-image's MRENCLAVE, the emulator root), and nothing is left behind.
# Then the same without libratls in the workload: `--ratls-cert/--ratls-key`
# make the LibOS serve a certificate and key it made in the enclave, and a
# static Go HTTPS server that only loads those files serves RA-TLS; what
# rune-image refuses with them. The host gets no quote of either enclave
# with report data of its own (a regression test: it could certify its own
# key), only one with none.
. "$(dirname "$0")/../enclave/lib.sh"
. "$(dirname "$0")/lib.sh"
libos_need
HELPER=$BUILD/tests-bin/ratls-helper
V=$BUILD/bin/ratls-verify

# verify_in_ct POLICY: ratls-verify of 127.0.0.1:8443 in the container's
# network namespace ($pid's), trusting the emulator root ($T/root.pem)
verify_in_ct() {
	nsenter --net="/proc/$pid/ns/net" timeout 30 "$V" --root-ca "$T/root.pem" \
		--policy "$1" 127.0.0.1:8443 2>&1
}

# serve_verified: the image just built (its MRENCLAVE in $T/mr) started
# (ct_serve, 127.0.0.1:8443) and checked by ratls-verify for that
# MRENCLAVE: $mr, $pid and ratls-verify's $out, in the caller's locals
serve_verified() {
	mr=$(sed -n 's/^MRENCLAVE: *//p' "$T/mr")
	"$BUILD/bin/sgx-tools" emulator-root-ca >"$T/root.pem" || fail "emulator-root-ca"
	printf '{"mrenclave": "%s"}\n' "$mr" >"$T/policy.json"
	ct_serve 127.0.0.1:8443 "$T/srv.out"
	pid=$CT_PID
	out=$(verify_in_ct "$T/policy.json") || true
}

# host_report_data_refused: the running enclave ($ID, attestation_type
# dcap) gives the host no quote of report data the host chose (it would
# bind a key of the host's), and still one with none, for its MRENCLAVE.
host_report_data_refused() {
	rt attest --quote --report-data 00112233 "$ID" >"$T/q.out" 2>"$T/q.err" &&
		fail "the host got a quote of its own report data: $(head -c 80 "$T/q.out")"
	assert_contains "Operation not permitted" "$(cat "$T/q.err")" \
		"rune attest --quote --report-data: refused"
	rt attest --quote "$ID" >"$T/q.b64" 2>"$T/q.err" || fail "rune attest --quote: $(cat "$T/q.err")"
	"$BUILD/bin/sgx-tools" verify-quote --root-ca "$T/root.pem" --mrenclave "$mr" "$T/q.b64" \
		>/dev/null 2>"$T/q.err" || fail "verify-quote of the all-zero quote: $(cat "$T/q.err")"
}

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
	serve_verified
	assert_contains "mrenclave: $mr" "$out" "ratls-verify: the enclave is rune-image's MRENCLAVE"
	assert_contains "form: dice" "$out" "the DICE evidence"
	assert_contains "debug: false" "$out" "not a DEBUG enclave"
	host_report_data_refused
	out=$(nsenter --net="/proc/$pid/ns/net" timeout 30 "$V" 127.0.0.1:8443 2>&1) || true
	assert_contains "not in the Intel SGX Root CA" "$out" "without --root-ca: the emulator's quote refused"
	wait_status "$ID" stopped 30
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

# go_build SRC OUT: a static Go program (skips without go).
go_build() {
	command -v go >/dev/null || skip "no go (apt-get install golang-go)"
	(cd "$T" && env HOME="$T" GOCACHE="$T/gocache" GOPATH="$T/gopath" GO111MODULE=off \
		CGO_ENABLED=0 go build -o "$2" "$1") || fail "go build $1"
}

t_ratls_files() {
	local pid out mr
	[ -x "$V" ] || fail "ratls-verify is not built (make all)"
	go_build "$SRCDIR/tests/libos/go/httpsd.go" "$T/httpsd"
	new_bundle
	cfg_set .process.terminal false
	cp "$T/httpsd" "$B/rootfs/bin/httpsd"
	# The Go runtime reserves about 700 MiB of address space: the heap holds it.
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 1G --no-default-trusted \
		--attestation dcap --ratls-cert /tls/cert.pem --ratls-key /tls/key.pem \
		-- /bin/httpsd 127.0.0.1:8443 /tls/cert.pem /tls/key.pem >"$T/mr" 2>"$T/mr.err" ||
		fail "rune-image: $(cat "$T/mr.err")"
	grep -qx 'ratls_cert /tls/cert.pem' "$B/rootfs/.rune/manifest" || fail "no ratls_cert line in the manifest"
	serve_verified
	assert_contains "mrenclave: $mr" "$out" "ratls-verify: the Go server's certificate is of rune-image's MRENCLAVE"
	assert_contains "form: dice" "$out" "the DICE evidence the LibOS made"
	printf '{"mrenclave": "%064d"}\n' 0 >"$T/other.json"
	out=$(verify_in_ct "$T/other.json") && fail "another MRENCLAVE accepted: $out"
	assert_contains "MRENCLAVE: expected 0000" "$out" "another MRENCLAVE expected: refused"
	out=$(nsenter --net="/proc/$pid/ns/net" curl -sk --max-time 20 https://127.0.0.1:8443/hi)
	assert_eq "hello over TLS from GET /hi" "$out" "HTTPS with the LibOS's key"
	host_report_data_refused
	out=$(nsenter --net="/proc/$pid/ns/net" curl -sk --max-time 20 https://127.0.0.1:8443/quit)
	assert_eq "bye" "$out" "GET /quit"
	wait_status "$ID" stopped 30
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_ratls_files_refused() { # what rune-image build refuses with --ratls-cert/--ratls-key
	local why
	new_bundle
	printf '#!/bin/sh\n' >"$B/rootfs/bin/srv"
	chmod +x "$B/rootfs/bin/srv"
	for why in "--ratls-cert /c.pem --ratls-key /k.pem|they need quotes" \
		"--attestation dcap --ratls-cert /c.pem|the certificate and the key go together" \
		"--attestation dcap --ratls-cert c.pem --ratls-key /k.pem|an absolute path" \
		"--attestation dcap --ratls-cert /c.pem --ratls-key /c.pem|the same path" \
		"--attestation dcap --ratls-cert /dev/c.pem --ratls-key /k.pem|under /dev or /proc" \
		"--attestation dcap --host-argv --ratls-cert /c.pem --ratls-key /k.pem|not with the host's argv"; do
		# shellcheck disable=SC2086
		"$RUNE_IMAGE" build --rootfs "$B/rootfs" --key "$KEY" ${why%%|*} -- /bin/srv \
			>/dev/null 2>"$T/err" && fail "rune-image accepted ${why%%|*}"
		assert_contains "${why#*|}" "$(cat "$T/err")" "refused: ${why%%|*}"
		[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one line: $(cat "$T/err")"
		[ -e "$B/rootfs/.rune" ] && fail "rune-image left $B/rootfs/.rune behind"
	done
	return 0
}

tcase "rune create/start: an RA-TLS server in the enclave (quote from /dev/attestation), checked by ratls-verify" t_ratls_server
tcase "rune-image --ratls-cert/--ratls-key: an unmodified Go HTTPS server serves the LibOS's RA-TLS certificate" t_ratls_files
tcase "rune-image --ratls-cert/--ratls-key: refused without quotes, alone, relative, twice, under /dev, with the host's argv" t_ratls_files_refused
