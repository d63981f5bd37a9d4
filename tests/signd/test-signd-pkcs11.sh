#!/bin/bash
# rune-signd with its key on a PKCS#11 token (issue 15): SoftHSM2 with a
# configuration and token directory of this test's own (SOFTHSM2_CONF), a
# 3072-bit e=3 key made with openssl and imported with softhsm2-util. The
# SIGSTRUCTs and v1 signatures signed through the token equal, byte for
# byte, those signed with the same key from its PEM file (RSA PKCS#1 v1.5
# is deterministic), and verify; concurrent requests share the token. The
# PIN comes from --pin-file or the URI's pin-source, never argv. Refused at
# start, one line each: a 2048-bit key, exponent 65537, a wrong PIN, no
# PIN, a PIN file readable by others, pin-value= in the URI, no such token
# or key, a malformed URI, a PEM key and a URI at once.
# timeout: 120
set -uo pipefail

# shellcheck source=tests/signd/lib.sh
. "$(dirname "$0")/lib.sh"
prerequisites curl openssl python3 softhsm2-util
MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -e "$m" ] && MODULE=$m && break
done
[ -n "$MODULE" ] || {
	nok "prerequisites" "no libsofthsm2.so (apt-get install softhsm2)"
	exit 1
}

workdir signd-pkcs11-test

# SoftHSM2: this test's own configuration and tokens, gone with $W.
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$W" >softhsm2.conf
export SOFTHSM2_CONF=$W/softhsm2.conf
# The test's PINs are on softhsm2-util's command line (a throwaway token); rune-signd's never are.
if softhsm2-util --init-token --free --label signd-test --pin 4321 --so-pin 8765 >hsm.log 2>&1 &&
	"$T" gen-key --out key.pem 2>/dev/null &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 -out k2048.pem 2>/dev/null &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out k65537.pem 2>/dev/null &&
	softhsm2-util --import key.pem --token signd-test --label sgx-key --id 01 --pin 4321 >>hsm.log 2>&1 &&
	softhsm2-util --import k2048.pem --token signd-test --label small-key --id 02 --pin 4321 >>hsm.log 2>&1 &&
	softhsm2-util --import k65537.pem --token signd-test --label f4-key --id 03 --pin 4321 >>hsm.log 2>&1; then
	ok "SoftHSM2 token with three imported keys"
else
	nok "SoftHSM2 token" "$(cat hsm.log)"
	exit 1
fi
openssl pkey -in key.pem -pubout -out pub.pem
echo 4321 >pin
echo 0000 >badpin

FIXED=(--date 20260101)
"$T" gendata --elf "$ELF" "${FIXED[@]}" --out material.bin 2>/dev/null
"$T" sign --key key.pem --elf "$ELF" "${FIXED[@]}" --out local.ss 2>/dev/null
echo "hello, token" >msg.txt
openssl dgst -sha256 -sign key.pem -out pem.sig msg.txt
TOK=$("$D" gen-token ci --tokens tokens.json)
AUTH=(-H "Authorization: Bearer $TOK")
CURL_TLS=()
URI="pkcs11:token=signd-test;object=sgx-key;type=private?module-path=$MODULE"
COMMON=(--listen 127.0.0.1:0 --insecure-http --tokens tokens.json --audit-log audit.log)

if start d.log "${COMMON[@]}" --pkcs11-uri "$URI" --pin-file pin; then
	ok "started with the key on the token ($URL)"
	req "v2 through the token" 200 "${AUTH[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
	cp body.out p11.ss
	verifies "sgx-tools verify: the token's SIGSTRUCT" p11.ss
	cmp -s p11.ss local.ss && ok "the token's SIGSTRUCT equals the PEM key's, byte for byte" ||
		nok "the token's SIGSTRUCT equals the PEM key's"
	req "public key from the token" 200 "${AUTH[@]}" "$URL/api/v1/signature/public-key"
	cmp -s body.out pub.pem && ok "the public key is the PEM key's" || nok "the public key is the PEM key's" "$(cat body.out)"
	req "v1 through the token" 200 "${AUTH[@]}" --data-binary @msg.txt "$URL/api/v1/signature/pkcs1"
	python3 -c 'import base64,json; open("p11.sig","wb").write(base64.b64decode(json.load(open("body.out"))["signature"]))'
	openssl dgst -sha256 -verify pub.pem -signature p11.sig msg.txt >/dev/null 2>&1 &&
		ok "openssl verifies the token's v1 signature" || nok "openssl verifies the token's v1 signature"
	cmp -s p11.sig pem.sig && ok "the token's v1 signature equals openssl's with the PEM key" ||
		nok "the token's v1 signature equals openssl's with the PEM key"
	# Concurrent signatures: one session each, from the pool.
	for i in $(seq 8); do
		curl -s -o "c$i.ss" -w '%{http_code}\n' "${AUTH[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct" >"c$i.code" &
	done
	wait $(jobs -p | grep -v "^$PID$") 2>/dev/null
	good=0
	for i in $(seq 8); do [ "$(cat "c$i.code")" = 200 ] && cmp -s "c$i.ss" local.ss && good=$((good + 1)); done
	[ $good = 8 ] && ok "8 concurrent signatures through the token, all equal" || nok "8 concurrent signatures" "$good of 8"
	grep -q "$(cat pin)" d.log && nok "the PIN is not in the daemon's output" || ok "the PIN is not in the daemon's output"
	stop && ok "SIGTERM, exit 0" || nok "SIGTERM, exit 0"
else
	nok "started with the key on the token"
fi

# The PIN from the URI's pin-source, the URI in the configuration file.
cat >conf.json <<EOF
{
  "listen": "127.0.0.1:0",
  "insecure_http": true,
  "pkcs11_uri": "pkcs11:token=signd-test;id=%01?module-path=$MODULE&pin-source=file:$W/pin",
  "tokens": "$W/tokens.json",
  "audit_log": "$W/audit.log"
}
EOF
if start d2.log --config conf.json; then
	req "pin-source=file: and id=, from the configuration" 200 "${AUTH[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
	cmp -s body.out local.ss && ok "the same SIGSTRUCT again" || nok "the same SIGSTRUCT again"
	stop
else
	nok "pin-source=file: and id=, from the configuration"
fi

# No module-path: the modules p11-kit has registered (softhsm2 registers itself).
if [ -e /usr/share/p11-kit/modules/softhsm2.module ]; then
	if start d3.log "${COMMON[@]}" --pkcs11-uri "pkcs11:token=signd-test;object=sgx-key" --pin-file pin; then
		req "no module-path: found through p11-kit's registered modules" 200 "${AUTH[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
		cmp -s body.out local.ss && ok "the same SIGSTRUCT through the registered module" || nok "the same SIGSTRUCT through the registered module"
		stop
	else
		nok "no module-path: found through p11-kit's registered modules"
	fi
else
	echo "skip - no module-path (softhsm2 is not registered with p11-kit here)"
fi

u() { echo "pkcs11:token=signd-test;object=$1?module-path=$MODULE"; }
refuse "a 2048-bit key on the token" "2048 bits, SGX needs 3072" "${COMMON[@]}" --pkcs11-uri "$(u small-key)" --pin-file pin
refuse "exponent 65537 on the token" "exponent is not 3" "${COMMON[@]}" --pkcs11-uri "$(u f4-key)" --pin-file pin
refuse "a wrong PIN" "wrong PIN" "${COMMON[@]}" --pkcs11-uri "$(u sgx-key)" --pin-file badpin
refuse "no PIN" "needs a PIN" "${COMMON[@]}" --pkcs11-uri "$(u sgx-key)"
cp pin pin-644 && chmod 644 pin-644
refuse "a PIN file readable by others" "readable by group or others" "${COMMON[@]}" --pkcs11-uri "$(u sgx-key)" --pin-file pin-644
refuse "pin-value= in the URI" "pin-value= refused" "${COMMON[@]}" --pkcs11-uri "$(u sgx-key)&pin-value=4321"
grep -q 4321 refuse.err && nok "the refused pin-value is not repeated" "$(cat refuse.err)" || ok "the refused pin-value is not repeated"
refuse "no such key" "no private key matches" "${COMMON[@]}" --pkcs11-uri "$(u nothing)" --pin-file pin
refuse "no such token" "no token matches" "${COMMON[@]}" --pkcs11-uri "pkcs11:token=nothing?module-path=$MODULE" --pin-file pin
refuse "no such module" "PKCS#11 module /nonexistent.so" "${COMMON[@]}" --pkcs11-uri "pkcs11:token=x?module-path=/nonexistent.so" --pin-file pin
refuse "a malformed URI" "PKCS#11 URI" "${COMMON[@]}" --pkcs11-uri "http://example/" --pin-file pin
refuse "a PEM key and a URI" "choose one" "${COMMON[@]}" --pkcs11-uri "$(u sgx-key)" --pin-file pin --key key.pem
refuse "a PIN file without a URI" "without a PKCS#11 URI" "${COMMON[@]}" --key key.pem --pin-file pin
grep -q 4321 refuse.err d.log d2.log audit.log && nok "no PIN in any output" || ok "no PIN in any output"

none_left "no daemon left running"
