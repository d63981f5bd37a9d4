#!/bin/bash
# timeout: 180
# libratls end to end on the emulated QE of a scratch SGX_EMU_SECRET
# (docs/attestation.md): RA-TLS certificates made by the tests' helper in
# both forms, good and each part tampered, verified by ratls-verify --cert
# and over TLS against a small server; DEBUG enclaves refused by default;
# policy files; collateral (TCB status, QE identity, CRLs, signatures over
# the bytes served) each part tampered; verify-quote's Intel root pin.
set -uo pipefail
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
H=$BUILD/tests-bin/ratls-helper
V=$BUILD/bin/ratls-verify
S=$BUILD/bin/sgx-tools
for b in "$H" "$V" "$S"; do
	[ -x "$b" ] || {
		echo "not ok - ratls: $b is not built (make all)"
		exit 1
	}
done
T=$(mktemp -d /tmp/ratls-test.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export SGX_EMU_SECRET=$T/emu/sgx-emu-secret
"$S" emulator-root-ca >"$T/root.pem" || exit 1
ROOT=(--root-ca "$T/root.pem")
failed=0

ok() { echo "ok - $1"; }
nok() {
	echo "not ok - $1"
	failed=1
}
# run CMD...: status in RC, stdout in OUT, stderr in ERR (bounded)
run() {
	RC=0
	timeout -k 5 30 "$@" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
# expect_ok NAME PATTERN: exit 0 and stdout matches
expect_ok() {
	if [ "$RC" = 0 ] && [[ $OUT =~ $2 ]]; then ok "$1"; else nok "$1 (rc $RC: $ERR / $OUT)"; fi
}
# refused NAME PATTERN: exit 1, one line on stderr matching PATTERN
refused() {
	if [ "$RC" = 1 ] && [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] && [[ $ERR =~ $2 ]]; then
		ok "$1: $ERR"
	else
		nok "$1 (rc $RC, expected /$2/: $ERR)"
	fi
}
cert() { # NAME HELPER-ARGS...: a certificate in $T/NAME.pem, key $T/NAME.key
	local n=$1
	shift
	"$H" cert --key "$T/$n.key" --cert "$T/$n.pem" "$@" || nok "helper cert $n $*"
}

# --- certificates, each form ---
for form in dice legacy; do
	label=$form
	[ $form = legacy ] && label=legacy-gramine
	cert good-$form --form $form
	run "$V" "${ROOT[@]}" --cert "$T/good-$form.pem"
	expect_ok "$form certificate verified" "form: $label"
	# The extension carries the quote with the report data binding the key.
	oid=2.23.133.5.4.9
	[ $form = legacy ] && oid=0.6.9.42.840.113741.1337.6
	if openssl x509 -in "$T/good-$form.pem" -noout -text | grep -q "$oid"; then
		ok "$form certificate: extension $oid"
	else
		nok "$form certificate: extension $oid"
	fi
	key_binding="RA-TLS key binding: report data .*expected"
	[ $form = dice ] && key_binding='RA-TLS key binding: "pubkey-hash" .*expected'
	# Each tampering: helper --tamper | what | the refusal.
	while IFS='|' read -r tamper what pattern; do
		cert t --form $form --tamper "$tamper"
		run "$V" "${ROOT[@]}" --cert "$T/t.pem"
		refused "$form: $what" "$pattern"
	done <<-CASES
		quote|a byte of the quote's MRENCLAVE|quote signature: does not verify
		binding|a quote whose report data is not the binding|RA-TLS key binding: report data .*expected [0-9a-f]+, found 0+\$
		key|another key in the certificate|$key_binding
		selfsig|signed by another key|self-signature does not verify
		expired|expired|RA-TLS certificate: expired
		noevidence|no evidence|RA-TLS certificate: no evidence
	CASES
done
cert t --form dice --tamper tag
run "$V" "${ROOT[@]}" --cert "$T/t.pem"
refused "dice: CBOR tag 60001 instead of 60000" "RA-TLS evidence: not CBOR tag 60000"
cert both --form both
run "$V" "${ROOT[@]}" --cert "$T/both.pem"
expect_ok "both forms: the DICE evidence is the one verified" "form: dice"
run "$V" --cert "$T/good-dice.pem"
refused "without --root-ca the emulator's chain is refused (Intel root pinned)" "not in the Intel SGX Root CA: expected SHA-256 44a0196b"

# --- DEBUG and policies ---
cert debug --form dice --attributes 0x6
run "$V" "${ROOT[@]}" --cert "$T/debug.pem"
refused "default policy: a DEBUG enclave refused" "DEBUG: expected a production enclave, found a DEBUG enclave"
AB=$(printf 'ab%.0s' {1..32})
printf '{"mrenclave": "%s", "allow_debug": true}\n' "$AB" >"$T/p-debug.json"
run "$V" "${ROOT[@]}" --policy "$T/p-debug.json" --cert "$T/debug.pem"
expect_ok "a policy allowing DEBUG" "debug: true"
cert prod --form legacy --isvprodid 7 --isvsvn 3
printf '{"mrenclave": "%s", "mrsigner": "%s", "isvprodid": 7, "min_isvsvn": 3}\n' "$AB" "$(printf 'cd%.0s' {1..32})" >"$T/p.json"
run "$V" "${ROOT[@]}" --policy "$T/p.json" --cert "$T/prod.pem"
expect_ok "policy: MRENCLAVE, MRSIGNER, ISVPRODID, minimum ISVSVN" "isvsvn: 3"
printf '{"mrenclave": "%s", "min_isvsvn": 4}\n' "$AB" >"$T/p.json"
run "$V" "${ROOT[@]}" --policy "$T/p.json" --cert "$T/prod.pem"
refused "policy: ISVSVN below the minimum" "ISVSVN: expected at least 4, found 3"
printf '{"mrsigner": "%s", "isvprodid": 8}\n' "$(printf 'cd%.0s' {1..32})" >"$T/p.json"
run "$V" "${ROOT[@]}" --policy "$T/p.json" --cert "$T/prod.pem"
refused "policy: another ISVPRODID" "ISVPRODID: expected 8, found 7"
printf '{"mrenclave": "%s"}\n' "$(printf '00%.0s' {1..32})" >"$T/p.json"
run "$V" "${ROOT[@]}" --policy "$T/p.json" --cert "$T/prod.pem"
refused "policy: another MRENCLAVE" "MRENCLAVE: expected 0+, found (ab)+$"
for bad in '{"isvprodid": 1}' '{"mrenclave": "abc"}' '{"mrenclave": "'"$AB"'", "colour": 1}' '{"mrenclave": "'"$AB"'", "tcb_status": ["Revoked"]}' '[1]' '{'; do
	printf '%s\n' "$bad" >"$T/p.json"
	run "$V" "${ROOT[@]}" --policy "$T/p.json" --cert "$T/prod.pem"
	refused "a bad policy refused: $bad" "^ratls-verify: policy $T/p.json: "
done

# --- over TLS ---
serve() { # NAME: a server for $T/NAME.{key,pem} ($PORT), N connections
	rm -f "$T/port"
	"$H" serve --key "$T/$1.key" --cert "$T/$1.pem" --port-file "$T/port" --count "${2:-1}" >/dev/null &
	pids+=($!)
	for _ in $(seq 50); do
		[ -s "$T/port" ] && break
		sleep 0.1
	done
	PORT=$(cat "$T/port" 2>/dev/null)
}
serve good-dice 2
run "$V" "${ROOT[@]}" "127.0.0.1:$PORT"
expect_ok "ratls-verify over TLS: the server's enclave" "mrenclave: $AB"
run "$V" "${ROOT[@]}" --json "127.0.0.1:$PORT"
if [ "$RC" = 0 ] && python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["verdict"] == "ok" and d["form"] == "dice" and d["debug"] is False' "$OUT"; then
	ok "ratls-verify --json"
else
	nok "ratls-verify --json ($RC: $OUT $ERR)"
fi
serve debug
run "$V" "${ROOT[@]}" "127.0.0.1:$PORT"
refused "ratls-verify over TLS: a DEBUG enclave refused by default" "^ratls-verify: 127.0.0.1:$PORT: DEBUG: expected a production enclave"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=plain -days 1 \
	-keyout "$T/plain.key" -out "$T/plain.pem" 2>/dev/null
serve plain
run "$V" "${ROOT[@]}" "127.0.0.1:$PORT"
refused "ratls-verify over TLS: an ordinary certificate refused" "RA-TLS certificate: no evidence"
run "$V" "${ROOT[@]}" --timeout 3 "127.0.0.1:$PORT"
refused "nothing listening: refused in one line" "connect to 127.0.0.1:$PORT"
run "$V" "${ROOT[@]}" --json --cert "$T/debug.pem"
if [ "$RC" = 1 ] && python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["verdict"] == "refused" and d["check"] == "DEBUG", d' "$OUT"; then
	ok "ratls-verify --json: the refusal and its check"
else
	nok "ratls-verify --json refusal ($RC: $OUT $ERR)"
fi
run "$V" not-host-port
if [ "$RC" = 2 ] && [[ $ERR =~ "not HOST:PORT" ]]; then ok "a bad target: usage error"; else nok "a bad target ($RC $ERR)"; fi

# --- collateral ---
"$H" quote --report-data 0011 >"$T/q.bin" || nok "helper quote"
coll() { # DIR HELPER-ARGS...
	local d=$T/$1
	shift
	rm -rf "$d"
	mkdir -p "$d"
	"$H" collateral "$d" "$@" || nok "helper collateral $*"
}
# vq_s: verify-quote with the collateral in $T/s
vq_s() { run "$S" verify-quote "${ROOT[@]}" --collateral "$T/s" "$T/q.bin"; }
coll c
run "$S" verify-quote "$T/q.bin" "${ROOT[@]}" --collateral "$T/c"
expect_ok "collateral: TCB status UpToDate (options after QUOTE)" "tcb status: UpToDate"
run "$S" verify-quote "${ROOT[@]}" "$T/q.bin"
expect_ok "no collateral: not checked" "tcb status: not checked"
for st in SWHardeningNeeded ConfigurationNeeded ConfigurationAndSWHardeningNeeded OutOfDate OutOfDateConfigurationNeeded; do
	coll s --tcb-status $st
	run "$S" verify-quote "${ROOT[@]}" --collateral "$T/s" --json "$T/q.bin"
	expect_ok "collateral: TCB status $st reported, authentic" "\"tcb_status\": \"$st\""
done
coll s --tcb-status SWHardeningNeeded
printf '{"mrenclave": "%s", "tcb_status": ["UpToDate"]}\n' "$AB" >"$T/p.json"
run "$S" verify-quote "${ROOT[@]}" --collateral "$T/s" --policy "$T/p.json" "$T/q.bin"
refused "policy: TCB status not accepted" "TCB status: expected UpToDate, found SWHardeningNeeded"
coll s --qe-status OutOfDate --tcb-status ConfigurationNeeded
vq_s
expect_ok "QE OutOfDate and platform ConfigurationNeeded converge" "tcb status: OutOfDateConfigurationNeeded"
coll s --pcesvn 14
vq_s
expect_ok "PCESVN below the first level: the next level's status" "tcb status: OutOfDate"
# Each refused: helper options | what | the refusal.
while IFS='|' read -r args what pattern; do
	coll s $args
	vq_s
	refused "$what" "$pattern"
done <<'CASES'
--tcb-status Revoked|a Revoked TCB level refused|TCB status: Revoked
--qe-status Revoked|a Revoked QE refused|TCB status: Revoked .*QE
--revoke-pck|the PCK certificate in the CRL refused|PCK certificate chain: certificate 0 is revoked
--fmspc 00906ed50000|TCB info for another FMSPC|TCB info: FMSPC .*expected 00906ed50000, found 52554e454d55
--next-update-days -1|expired TCB info|tcbinfo.json: expired
CASES
coll s
sed -i 's/"tcbEvaluationDataNumber":17/"tcbEvaluationDataNumber":18/' "$T/s/tcbinfo.json"
vq_s
refused "TCB info altered" "tcbinfo.json signature: does not verify"
coll s
sed -i 's/"isvprodid":1/"isvprodid":2/' "$T/s/qeidentity.json"
vq_s
refused "QE identity altered" "qeidentity.json signature: does not verify"
coll s
python3 -c 'import json, sys; p = sys.argv[1]; d = json.load(open(p)); json.dump(d, open(p, "w"), indent=1)' "$T/s/tcbinfo.json"
vq_s
refused "TCB info re-serialised (same JSON, other bytes)" "tcbinfo.json signature: does not verify"
coll s
python3 -c 'import sys; p = sys.argv[1]; d = open(p).read(); open(p, "w").write("{\n  " + d[1:].replace(",\"signature\"", ",\n  \"signature\"", 1))' "$T/s/qeidentity.json"
vq_s
expect_ok "whitespace outside the signed body: still verifies" "tcb status: UpToDate"
coll s
rm "$T/s/pck.crl"
vq_s
refused "a collateral file missing" "collateral: open $T/s/pck.crl: No such file"
coll s
echo garbage >"$T/s/root-ca.crl"
vq_s
refused "a CRL that is none" "root-ca.crl: not a CRL"
SGX_EMU_SECRET=$T/other/sgx-emu-secret coll o
run "$S" verify-quote "${ROOT[@]}" --collateral "$T/o" "$T/q.bin"
refused "collateral signed under another root" "PCK certificate chain: does not verify to the root CA: (unable to get certificate CRL|CRL signature failure)|TCB signing chain: does not verify"
coll s
cp "$T/o/tcb-signing-chain.pem" "$T/s/"
vq_s
refused "a TCB signing chain of another root" "TCB signing chain: does not verify to the root CA"
run "$S" verify-quote "${ROOT[@]}" --collateral "$T/c" --json "$T/q.bin"
expect_ok "--json with collateral" '"tcb_status": "UpToDate"'
serve good-legacy
run "$V" "${ROOT[@]}" --collateral "$T/c" "127.0.0.1:$PORT"
expect_ok "ratls-verify with collateral over TLS" "tcb status: UpToDate"
exit $failed
