#!/bin/bash
# timeout: 120
# Remote attestation on the emulator (docs/attestation.md): `rune attest
# --quote` of a skeleton enclave container, checked by `sgx-tools
# verify-quote` against this host's emulator root CA (MRENCLAVE, MRSIGNER,
# report data; base64 from a file, raw bytes from stdin; --json); each
# tampering refused by the check it breaks, a chain rooted elsewhere,
# other expected values; bad uses refused in one line.
. "$(dirname "$0")/lib.sh"

SGX_TOOLS=$BUILD/bin/sgx-tools
need_builds "$SKELLIB/liberpal-skeleton-v3.so" "$SKELLIB/liberpal-skeleton-v2.so" \
	"$SKELDIR/encl.elf" "$SKELDIR/encl.ss" "$SGX_TOOLS" "$PALDIR/libtestpal-v3.so"
if [ -e /dev/sgx_enclave ]; then
	echo "skip - $_script (SGX hardware: quotes need Intel's DCAP library, a later slice)"
	exit 0
fi
SIGNED_MR=$("$SGX_TOOLS" dump "$SKELDIR/encl.ss" | sed -n 's/^mrenclave: //p')
SIGNED_SIGNER=$("$SGX_TOOLS" dump "$SKELDIR/encl.ss" | sed -n 's/^mrsigner: //p')
RD=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
Q=$T/quote.b64

# sgxt ARGS...: sgx-tools, output in OUT/ERR, status in RC
sgxt() {
	RC=0
	timeout -k 5 20 "$SGX_TOOLS" "$@" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	return 0
}

# A running skeleton v$1 enclave container ($ID).
skel_running() {
	fast_bundle "c$((_nfb + 1))" -- ENCLAVE_TYPE=intelSgx \
		ENCLAVE_RUNTIME_PATH="$SKELLIB/liberpal-skeleton-v$1.so" ENCLAVE_RUNTIME_ARGS=/enclave
	cfg_py "c['process']['cwd'] = '/home/test'; c['mounts'].append({'destination': '/enclave', 'type': 'bind', 'source': '$SKELDIR', 'options': ['rbind', 'ro']})"
	cfg_args skeleton sleep 60
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_status "$ID" running 5
}

t_round_trip() {
	skel_running 3
	rtc attest --quote --report-data "$RD" "$ID"
	assert_rc 0 "attest --quote"
	assert_eq 1 "$(printf '%s\n' "$OUT" | wc -l)" "one line on stdout"
	assert_match '^[A-Za-z0-9+/]+=*$' "$OUT" "base64"
	printf '%s\n' "$OUT" >"$Q"
	"$SGX_TOOLS" emulator-root-ca >"$T/root.pem"
	assert_match 'BEGIN CERTIFICATE' "$(cat "$T/root.pem")" "emulator-root-ca prints a PEM"
	assert_match 'EMULATOR Root CA' "$(openssl x509 -noout -subject -in "$T/root.pem")" \
		"its subject says it is the emulator's"
	sgxt verify-quote --root-ca "$T/root.pem" --mrenclave "$SIGNED_MR" \
		--mrsigner "$SIGNED_SIGNER" --report-data "$RD" "$Q"
	assert_rc 0 "verify-quote: $ERR"
	assert_contains "verdict: ok" "$OUT"
	assert_contains "mrenclave: $SIGNED_MR" "$OUT"
	assert_contains "report_data: $RD" "$OUT"
	# Raw bytes on stdin, options after the operand.
	base64 -d "$Q" >"$T/quote.bin"
	RC=0
	OUT=$(timeout 20 "$SGX_TOOLS" verify-quote - --root-ca "$T/root.pem" --json <"$T/quote.bin") || RC=$?
	assert_rc 0 "verify-quote - (raw, stdin)"
	assert_eq "$SIGNED_MR" "$(echo "$OUT" | jget .mrenclave)" "--json mrenclave"
	# --json: every field.
	rtc attest --quote --json --report-data abcd "$ID"
	assert_rc 0 "attest --quote --json"
	assert_eq 3 "$(echo "$OUT" | jget .header.version)" "header.version"
	assert_eq 2 "$(echo "$OUT" | jget .header.att_key_type)" "header.att_key_type"
	assert_eq "$SIGNED_MR" "$(echo "$OUT" | jget .report_body.mrenclave)" "report_body.mrenclave"
	assert_eq "abcd$(printf '00%.0s' {1..62})" "$(echo "$OUT" | jget .report_body.report_data)" \
		"short report data zero-padded"
	assert_eq 5 "$(echo "$OUT" | jget .signature_data.certification_data.type)" "cert type 5"
	assert_eq 32 "$(echo "$OUT" | jget .signature_data.qe_auth_data.size)" "QE auth data size"
	assert_match 'BEGIN CERTIFICATE' "$(echo "$OUT" | jget .signature_data.certification_data.pem)" "PEM chain"
	# Version 4 and 5 quotes (the emulated QE on request) verify, their JSON says so.
	for v in 4 5; do
		SGX_EMU_QUOTE_VERSION=$v rtc attest --quote --report-data "$RD" "$ID"
		assert_rc 0 "attest --quote, version $v"
		printf '%s\n' "$OUT" >"$T/q$v"
		sgxt verify-quote --root-ca "$T/root.pem" --mrenclave "$SIGNED_MR" \
			--report-data "$RD" "$T/q$v"
		assert_rc 0 "verify-quote of a version $v quote: $ERR"
		SGX_EMU_QUOTE_VERSION=$v rtc attest --quote --json "$ID"
		assert_eq "$v 0 6 5" "$(echo "$OUT" | jq_py '"%d %d %d %d" % (d["header"]["version"],
			d["header"]["tee_type"], d["signature_data"]["certification_data"]["outer_type"],
			d["signature_data"]["certification_data"]["type"])')" \
			"version $v: TEE type 0, the type-5 chain inside type 6"
	done
	# The same root CA whatever --root is, and a second quote verifies too.
	"$SGX_TOOLS" emulator-root-ca | cmp -s - "$T/root.pem" || fail "emulator-root-ca changed"
	rtc attest --quote "$ID"
	printf '%s\n' "$OUT" | "$SGX_TOOLS" verify-quote --root-ca "$T/root.pem" \
		--report-data "" - >/dev/null || fail "quote without report data"
	rtc kill "$ID" TERM
	wait_status "$ID" stopped 10
}

# refused CHECK-PREFIX WHAT VERIFY-ARGS...: verify-quote fails, one line naming the check
refused() {
	local check=$1 what=$2
	shift 2
	sgxt verify-quote "$@"
	assert_rc 1 "$what: exit 1"
	assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "$what: one line ($ERR)"
	assert_match "^sgx-tools verify-quote: $check" "$ERR" "$what"
}

# flip OFFSET: the quote with a byte flipped, in $T/t.bin
flip() {
	"$PY" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); o = int(sys.argv[2]); b[o] ^= 1; open(sys.argv[3], "wb").write(b)' \
		"$T/quote.bin" "$1" "$T/t.bin"
}

t_tampered() {
	[ -s "$T/quote.bin" ] || fail "no quote from the round trip"
	flip $((48 + 64))
	refused "quote signature: " "report body (MRENCLAVE)" --root-ca "$T/root.pem" "$T/t.bin"
	flip $((48 + 320 + 5))
	refused "quote signature: " "report body (report data)" --root-ca "$T/root.pem" "$T/t.bin"
	flip $((436 + 128 + 64))
	refused "QE report signature: " "QE report" --root-ca "$T/root.pem" "$T/t.bin"
	flip $((436 + 10))
	refused "quote signature: " "quote signature" --root-ca "$T/root.pem" "$T/t.bin"
	flip $((436 + 64 + 1))
	refused "attestation key binding: " "attestation key" --root-ca "$T/root.pem" "$T/t.bin"
	# Another host's emulator root: the chain is not rooted in it.
	SGX_EMU_SECRET=$T/elsewhere/sgx-emu-secret "$SGX_TOOLS" emulator-root-ca >"$T/other.pem"
	refused "PCK certificate chain: rooted in " "a chain rooted elsewhere" --root-ca "$T/other.pem" "$T/quote.bin"
	refused "MRENCLAVE: expected $(printf '0%.0s' {1..64}), found $SIGNED_MR" "another MRENCLAVE" \
		--root-ca "$T/root.pem" --mrenclave "$(printf '0%.0s' {1..64})" "$T/quote.bin"
	sgxt verify-quote --json --root-ca "$T/root.pem" --mrenclave "$(printf '0%.0s' {1..64})" "$T/quote.bin"
	assert_rc 1 "verify-quote --json, refused"
	assert_eq "refused MRENCLAVE $(printf '0%.0s' {1..64}) $SIGNED_MR" \
		"$(echo "$OUT" | jq_py '" ".join([d["verdict"], d["check"], d["expected"], d["found"]])')" \
		"--json refusal: verdict, check, expected, found"
	flip $((48 + 64))
	sgxt verify-quote --json --root-ca "$T/root.pem" "$T/t.bin"
	assert_eq "quote signature" "$(echo "$OUT" | jget .check)" "--json refusal: the check"
	refused "MRSIGNER: expected " "another MRSIGNER" \
		--root-ca "$T/root.pem" --mrsigner "$SIGNED_MR" "$T/quote.bin"
	refused "report data: expected " "other report data" --root-ca "$T/root.pem" --report-data ff "$T/quote.bin"
	head -c 1000 "$T/quote.bin" >"$T/t.bin"
	refused "quote: 1000 bytes, shorter" "a truncated quote" --root-ca "$T/root.pem" "$T/t.bin"
	echo 'not a quote!' >"$T/t.bin"
	refused "quote .*: neither a raw quote nor base64" "garbage" --root-ca "$T/root.pem" "$T/t.bin"
	refused "root CA: not a PEM certificate" "a root CA that is no PEM" --root-ca "$T/t.bin" "$T/quote.bin"
	"$PY" -c 'import re, sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", d, re.S).group(0))' \
		"$T/quote.bin" >"$T/pck.pem"
	refused "root CA: .* is not a self-signed certificate" "a root CA that is the PCK certificate" --root-ca "$T/pck.pem" "$T/quote.bin"
	# Nothing trusts the emulator root unless told to: the pinned Intel root only.
	refused "PCK certificate chain: rooted in .*EMULATOR Root CA.*not in the Intel SGX Root CA: expected SHA-256 44a0196b" \
		"without --root-ca, the emulator's quote" "$T/quote.bin"
}

t_bad_uses() {
	skel_running 3
	# Usage errors: the reason, then "Try 'rune attest --help'."
	rtc attest --quote --target-info /dev/null "$ID"
	assert_fails "--quote with --target-info"
	assert_match "^rune attest: --target-info with --quote: .*quoting enclave" "$ERR"
	rtc attest --json "$ID"
	assert_fails "--json without --quote"
	assert_match "^rune attest: --json goes with --quote" "$ERR"
	rtc attest --quote --report-data 123 "$ID"
	assert_fails "odd report data"
	assert_clear_error "odd number of hex digits"
	assert_eq "" "$OUT" "nothing on stdout"
	# rune under another emulator secret than the container's: its QE's key differs.
	SGX_EMU_SECRET=$T/another/sgx-emu-secret rtc attest --quote "$ID"
	assert_fails "attest --quote under another emulator secret"
	assert_clear_error "MAC does not verify .*must share SGX_EMU_SECRET"
	rtc kill "$ID" TERM
	wait_status "$ID" stopped 10
}

t_v2_refused() {
	skel_running 2
	rtc attest --quote "$ID"
	assert_fails "attest --quote on a v2 PAL"
	assert_clear_error "v3"
	assert_eq "" "$OUT" "nothing on stdout"
}

# A PAL whose REPORT is made up (no enclave made it: its MAC is no report
# key's) or drops the report data: no quote.
t_forged_report() {
	enclave_bundle v3 "log=/share/pal.log"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	wait_log_call exec 10
	rtc attest --quote "$ID"
	assert_fails "attest --quote of a made-up REPORT"
	assert_clear_error "emulated QE: the enclave's REPORT: its MAC does not verify .*SGX_EMU_SECRET"
	assert_eq "" "$OUT" "nothing on stdout"
	assert_eq "$(printf '%02x' 0x15)" "$(recf get_local_report "['targetinfo_head']" | cut -c65-66)" \
		"the REPORT asked for is aimed at the QE (its ATTRIBUTES in the TARGETINFO)"
	enclave_bundle v3 "log=/share/pal.log,report=nodata"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	wait_log_call exec 10
	rtc attest --quote --report-data cafe01 "$ID"
	assert_fails "attest --quote when the PAL drops the report data"
	assert_clear_error "REPORTDATA .* is not the report data asked for"
}

# SGX hardware's quotes need Intel's DCAP quote library: not installed here.
t_hardware_refused() {
	skel_running 3
	SGX_LOADER_BACKEND=sgx rtc attest --quote "$ID"
	assert_fails "attest --quote with the hardware provider"
	assert_clear_error "Intel's DCAP quote library"
	assert_eq "" "$OUT" "nothing on stdout"
	rtc kill "$ID" TERM
	wait_status "$ID" stopped 10
}

tcase "attest --quote: verify-quote with the emulator root CA, MRENCLAVE, MRSIGNER, report data, --json" t_round_trip
tcase "verify-quote: each tampering refused by the check it breaks, one line" t_tampered
tcase "attest --quote: bad uses refused clearly" t_bad_uses
tcase "attest --quote on a PAL v2 container refused clearly" t_v2_refused
tcase "attest --quote: a made-up REPORT or one without the report data asked gets no quote" t_forged_report
tcase "attest --quote on SGX hardware without Intel's DCAP library: refused, naming it" t_hardware_refused
