#!/bin/bash
# rune-signd end to end (issue 15): every endpoint over plain HTTP (a
# configuration file) and TLS (flags only, a self-signed certificate made
# here), authentication, policies, SIGSTRUCTs that sgx-tools verifies and
# that equal a local sign, v1 signatures that openssl verifies, hostile
# input, refusals at start (one line each), SIGHUP reload, graceful SIGTERM,
# the audit log; and nothing left behind.
# timeout: 240
set -uo pipefail

# shellcheck source=tests/signd/lib.sh
. "$(dirname "$0")/lib.sh"
prerequisites curl openssl python3
workdir signd-test

# ---- the key, the clients, the material ----
"$T" gen-key --out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
TOK_CI=$("$D" gen-token ci --tokens tokens.json 2>gen.err)
TOK_STRICT=$("$D" gen-token strict --policy strict --tokens tokens.json 2>>gen.err)
TOK_TEMP=$("$D" gen-token temp --tokens tokens.json 2>>gen.err)
if [[ $TOK_CI =~ ^signd_[0-9a-f]{64}$ ]] && [ ! -s gen.err ] && [ "$(stat -c %a tokens.json)" = 600 ] &&
	! grep -q "$TOK_CI" tokens.json; then
	ok "gen-token prints the token alone, stores only its hash (mode 600)"
else
	nok "gen-token" "token '$TOK_CI', stderr $(cat gen.err), mode $(stat -c %a tokens.json)"
fi
"$D" gen-token ci --tokens tokens.json >dup.out 2>dup.err
[ $? -ne 0 ] && [ ! -s dup.out ] && grep -q "exists" dup.err && ok "gen-token refuses a name twice" ||
	nok "gen-token refuses a name twice" "$(cat dup.out dup.err)"

FIXED=(--date 20260101)
"$T" gendata --elf "$ELF" "${FIXED[@]}" --out material.bin 2>/dev/null
"$T" sign --key key.pem --elf "$ELF" "${FIXED[@]}" --out local.ss 2>/dev/null
"$T" gendata --elf "$ELF" "${FIXED[@]}" --attributes 0x6 --out debug.bin 2>/dev/null
"$T" gendata --elf "$ELF" "${FIXED[@]}" --attributes-mask 0xfffffffffffffffd --out debugfree.bin 2>/dev/null
"$T" gendata --elf "$ELF" "${FIXED[@]}" --isvprodid 1 --isvsvn 3 --out p1s3.bin 2>/dev/null
"$T" gendata --elf "$ELF" "${FIXED[@]}" --isvprodid 1 --isvsvn 9 --out p1s9.bin 2>/dev/null
"$T" sign --key key.pem --elf "$ELF" "${FIXED[@]}" --isvprodid 1 --isvsvn 3 --out local-p1s3.ss 2>/dev/null
head -c 100 material.bin >truncated.bin
head -c 256 /dev/urandom >garbage.bin
head -c 10000000 /dev/zero >big.bin
: >empty.bin
echo "hello, signer" >msg.txt

cat >plain.json <<EOF
{
  "listen": "127.0.0.1:0",
  "insecure_http": true,
  "signing_key": "$W/key.pem",
  "tokens": "$W/tokens.json",
  "audit_log": "$W/audit.log",
  "limits": { "timeout_seconds": 2, "threads": 2 },
  "policies": {
    "strict": { "isvprodid": [1], "isvsvn_min": 2, "isvsvn_max": 5 }
  }
}
EOF
chmod 600 plain.json

# ---- plain HTTP, from the configuration file ----
CURL_TLS=()
if ! start plain.log --config plain.json; then
	nok "start with plain.json"
	exit 1
fi
case $URL in http://127.0.0.1:*) ok "listening on a free port ($URL)" ;; *) nok "listen URL $URL" ;; esac
AUTH=(-H "Authorization: Bearer $TOK_CI")

req "GET /ping" 200 "$URL/ping"
[ "$(cat body.out)" = ping ] && ok "/ping says ping" || nok "/ping says ping" "$(cat body.out)"
req "GET /healthz" 200 "$URL/healthz"
[ "$(cat body.out)" = ok ] && ok "/healthz says ok" || nok "/healthz says ok" "$(cat body.out)"
req "HEAD /" 200 -I "$URL/"

req "no token: 401" 401 "$URL/api/v1/signature/public-key"
reason_has "no token: the reason" "no credentials"
grep -qi '^WWW-Authenticate: Bearer' headers.out && ok "401 names the Bearer scheme" || nok "401 names the Bearer scheme"
req "bad token: 401" 401 -H "Authorization: Bearer signd_0000" "$URL/api/v2/sigstruct" --data-binary @material.bin
reason_has "bad token: the reason" "invalid token"
req "other scheme: 401" 401 -H "Authorization: Basic Y2k6eA==" "$URL/api/v2/sigstruct"
req "unknown path without a token: 401, not 404" 401 "$URL/api/v9/nothing"
req "unknown path with a token: 404" 404 "${AUTH[@]}" "$URL/api/v9/nothing"
req "GET on the v2 endpoint: 405" 405 "${AUTH[@]}" "$URL/api/v2/sigstruct"

req "GET public-key" 200 "${AUTH[@]}" "$URL/api/v1/signature/public-key"
cmp -s body.out pub.pem && ok "public-key is the signing key's (PEM)" || nok "public-key is the signing key's" "$(head -2 body.out)"

# v2: the SIGSTRUCT, verified, and byte for byte the local sign's.
req "POST v2 sigstruct" 200 "${AUTH[@]}" -H 'Content-Type: application/octet-stream' --data-binary @material.bin "$URL/api/v2/sigstruct"
cp body.out remote.ss
[ "$(stat -c %s remote.ss)" = 1808 ] && ok "v2 returns 1808 bytes" || nok "v2 returns 1808 bytes" "$(stat -c %s remote.ss)"
verifies "sgx-tools verify: v2 SIGSTRUCT against the enclave" remote.ss
cmp -s remote.ss local.ss && ok "v2 SIGSTRUCT equals a local sign with the same key and date" ||
	nok "v2 SIGSTRUCT equals a local sign"

# v1, Inclavare's API: JSON with a base64 signature and the public key.
req "POST v1 pkcs1 (material, text/plain)" 200 "${AUTH[@]}" -H 'Content-Type: text/plain' --data-binary @material.bin "$URL/api/v1/signature/pkcs1"
grep -qi '^Content-Type: application/json' headers.out && ok "v1 answers application/json" || nok "v1 answers application/json"
python3 - <<'PY' && ok "v1 JSON has signature (base64, 384 bytes) and publicKey" || nok "v1 JSON keys"
import base64, json
j = json.load(open("body.out"))
assert set(j) == {"signature", "publicKey"}, j.keys()
sig = base64.b64decode(j["signature"], validate=True)
assert len(sig) == 384
open("v1.sig", "wb").write(sig)
open("v1.pub", "w").write(j["publicKey"])
PY
if "$T" catsig --material material.bin --signature v1.sig --public-key v1.pub --out catsig.ss 2>catsig.err &&
	cmp -s catsig.ss local.ss; then
	ok "sgx-tools catsig with the v1 signature gives the same SIGSTRUCT"
else
	nok "sgx-tools catsig with the v1 signature" "$(cat catsig.err)"
fi
req "POST v1 pkcs1 (opaque bytes, form content type)" 200 "${AUTH[@]}" --data-binary @msg.txt "$URL/api/v1/signature/pkcs1"
python3 -c 'import base64,json; j=json.load(open("body.out")); open("msg.sig","wb").write(base64.b64decode(j["signature"])); open("msg.pub","w").write(j["publicKey"])'
if openssl dgst -sha256 -verify msg.pub -signature msg.sig msg.txt >dgst.out 2>&1; then
	ok "openssl dgst -sha256 -verify: the v1 signature"
else
	nok "openssl dgst -sha256 -verify: the v1 signature" "$(cat dgst.out)"
fi

# The default policy: no DEBUG, not even one the mask leaves free; v1 too.
req "DEBUG enclave under the default policy: 403" 403 "${AUTH[@]}" --data-binary @debug.bin "$URL/api/v2/sigstruct"
reason_has "DEBUG refusal: JSON reason" "does not allow DEBUG"
req "DEBUG left free by the mask: 403" 403 "${AUTH[@]}" --data-binary @debugfree.bin "$URL/api/v2/sigstruct"
reason_has "DEBUG-free mask refusal: JSON reason" "leaves DEBUG free"
req "DEBUG material through v1: 403" 403 "${AUTH[@]}" --data-binary @debug.bin "$URL/api/v1/signature/pkcs1"

# A client with its own policy: ISVPRODID 1, ISVSVN 2-5.
STRICT=(-H "Authorization: Bearer $TOK_STRICT")
req "strict client, ISVPRODID 1 ISVSVN 3: signed" 200 "${STRICT[@]}" --data-binary @p1s3.bin "$URL/api/v2/sigstruct"
cmp -s body.out local-p1s3.ss && ok "strict client's SIGSTRUCT equals the local sign" || nok "strict client's SIGSTRUCT equals the local sign"
req "strict client, ISVSVN 9: 403" 403 "${STRICT[@]}" --data-binary @p1s9.bin "$URL/api/v2/sigstruct"
reason_has "ISVSVN refusal: JSON reason" "ISVSVN 9 is outside the range 2-5"
req "strict client, ISVPRODID 0: 403" 403 "${STRICT[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
reason_has "ISVPRODID refusal: JSON reason" "ISVPRODID 0"

# Hostile input.
req "10 MB body: 413" 413 "${AUTH[@]}" --data-binary @big.bin "$URL/api/v2/sigstruct"
reason_has "10 MB body: JSON reason" "the limit is 65536"
req "truncated material: 400" 400 "${AUTH[@]}" --data-binary @truncated.bin "$URL/api/v2/sigstruct"
reason_has "truncated material: JSON reason" "100 bytes, expected 256"
req "empty body: 400" 400 "${AUTH[@]}" --data-binary @empty.bin "$URL/api/v2/sigstruct"
req "empty body on v1: 400" 400 "${AUTH[@]}" --data-binary @empty.bin "$URL/api/v1/signature/pkcs1"
req "256 random bytes on v2: 400" 400 "${AUTH[@]}" --data-binary @garbage.bin "$URL/api/v2/sigstruct"
reason_has "random bytes: JSON reason" "not SIGSTRUCT signing material"
# A chunked body over the limit: too late for a status, the connection is closed.
curl -s -o /dev/null "${AUTH[@]}" -H 'Transfer-Encoding: chunked' --data-binary @big.bin "$URL/api/v2/sigstruct"
req "after a chunked 10 MB body, still serving" 200 "$URL/ping"

# Slow loris: half a request, then nothing; others are served, it is cut at the timeout (2 s).
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /api/v2/sigstruct HTTP/1.1\r\nHost: x\r\n' >&3
req "a slow client does not block the others" 200 "$URL/healthz"
start_s=$SECONDS
if timeout 8 cat <&3 >/dev/null; then
	ok "the slow client is disconnected after the timeout ($((SECONDS - start_s)) s)"
else
	nok "the slow client is disconnected after the timeout"
fi
exec 3<&-

# SIGHUP: a revoked token stops working, the others go on.
req "temp client before revocation" 200 -H "Authorization: Bearer $TOK_TEMP" --data-binary @material.bin "$URL/api/v2/sigstruct"
"$D" revoke-token temp --tokens tokens.json
kill -HUP "$PID"
for _ in $(seq 100); do grep -q 'reloaded' plain.log && break; sleep 0.05; done
req "revoked token after SIGHUP: 401" 401 -H "Authorization: Bearer $TOK_TEMP" --data-binary @material.bin "$URL/api/v2/sigstruct"
req "other tokens after SIGHUP: still 200" 200 "${AUTH[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
# A broken tokens file on SIGHUP: kept what it had, said so.
cp tokens.json tokens.good
echo '{"clients": [' >tokens.json
kill -HUP "$PID"
for _ in $(seq 100); do grep -q 'keeping the clients' plain.log && break; sleep 0.05; done
grep -q 'keeping the clients' plain.log && ok "a broken tokens file on SIGHUP is reported" || nok "a broken tokens file on SIGHUP is reported" "$(tail -2 plain.log)"
req "and the old clients still work" 200 "${AUTH[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
cp tokens.good tokens.json

# Graceful SIGTERM: a request in flight (a slow upload) still gets its answer.
head -c 60000 /dev/urandom >slow.bin
curl -s -o slow.out -w '%{http_code}' --limit-rate 20k "${AUTH[@]}" --data-binary @slow.bin "$URL/api/v1/signature/pkcs1" >slow.code &
CURL=$!
sleep 1
kill -TERM "$PID"
wait "$CURL"
wait "$PID"
rc=$?
[ "$(cat slow.code)" = 200 ] && ok "SIGTERM: the request in flight is answered (200)" || nok "SIGTERM: the request in flight is answered" "status $(cat slow.code)"
[ $rc -eq 0 ] && grep -q '^rune-signd: stopped$' plain.log && ok "SIGTERM: exits 0 after 'stopped'" || nok "SIGTERM: exits 0" "rc $rc: $(tail -3 plain.log)"
curl -s -o /dev/null --max-time 2 "$URL/ping" && nok "the port is closed after stop" || ok "the port is closed after stop"

# The audit log: one JSON line per request, never a token.
python3 - audit.log <<'PY' >audit.check 2>&1 && ok "audit log: $(cat audit.check)" || nok "audit log" "$(cat audit.check)"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines]
for r in recs:
    for k in ("time", "client", "remote", "method", "endpoint", "status", "decision", "reason"):
        assert k in r, (k, r)
signed = [r for r in recs if r["decision"] == "signed"]
assert signed and all(len(r["mrsigner"]) == 64 for r in signed), "signed lines without mrsigner"
assert all(len(r["mrenclave"]) == 64 for r in signed if r.get("material") != "opaque")
refused = [r for r in recs if r["status"] == 403]
assert refused and all(r["reason"] and r["decision"] == "refused" for r in refused)
assert any(r["status"] == 401 and r["client"] is None for r in recs)
assert any(r["status"] == 413 for r in recs)
assert any(r["status"] is None and "chunked body" in r["reason"] for r in recs), "no line for the chunked body"
assert any(r["decision"] == "aborted" and r["endpoint"] is None for r in recs), "no line for the slow client"
assert any(r["client"] == "strict" and r.get("policy") == "strict" for r in recs)
print(f"{len(recs)} lines, {len(signed)} signed, {len(refused)} refused")
PY
if grep -qF -e "$TOK_CI" -e "$TOK_STRICT" -e "$TOK_TEMP" audit.log plain.log; then
	nok "no token in the audit log or the daemon's log"
else
	ok "no token in the audit log or the daemon's log"
fi

# ---- TLS, flags only ----
# (without the configuration file, the strict client's policy does not exist)
"$D" revoke-token strict --tokens tokens.json
tls_server_cert
tls_server_cert other other
FLAGS=(--key key.pem --tokens tokens.json --audit-log tls-audit.log)
if start tls.log --listen 127.0.0.1:0 --tls-cert tls.crt --tls-key tls.key --no-api-v1 "${FLAGS[@]}"; then
	case $URL in https://*) ok "TLS from flags only ($URL)" ;; *) nok "TLS URL $URL" ;; esac
	CURL_TLS=(--cacert tls.crt)
	req "TLS: GET /ping" 200 "$URL/ping"
	req "TLS: POST v2 sigstruct" 200 "${AUTH[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
	cmp -s body.out local.ss && ok "TLS: the SIGSTRUCT equals the local sign" || nok "TLS: the SIGSTRUCT equals the local sign"
	req "TLS: no token: 401" 401 --data-binary @material.bin "$URL/api/v2/sigstruct"
	req "TLS: v1 disabled by --no-api-v1: 403" 403 "${AUTH[@]}" --data-binary @material.bin "$URL/api/v1/signature/pkcs1"
	reason_has "v1 disabled: JSON reason" "v1 signing API is disabled"
	CURL_TLS=(--cacert other.crt)
	curl -s -o /dev/null "${CURL_TLS[@]}" "$URL/ping"
	rc=$?
	[ $rc -eq 60 ] && ok "TLS with a wrong CA: refused by the client (curl 60)" || nok "TLS with a wrong CA" "curl exit $rc"
	curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$PORT/ping" && nok "plain HTTP on the TLS port: refused" || ok "plain HTTP on the TLS port: refused"
	CURL_TLS=(--cacert tls.crt)
	req "TLS: still serving after bad clients" 200 "$URL/healthz"
	sleep 0.2
	grep -q '"decision":"aborted".*TLS handshake' tls-audit.log && ok "TLS: the failed handshakes are audited" ||
		nok "TLS: the failed handshakes are audited" "$(tail -3 tls-audit.log)"
	stop && ok "TLS daemon: SIGTERM, exit 0" || nok "TLS daemon: SIGTERM, exit 0"
	CURL_TLS=()
else
	nok "TLS from flags only"
fi

# ---- refusals at start: one line each ----
BASE=(--listen 127.0.0.1:0 --insecure-http --audit-log "$W/r-audit.log")
cp tokens.json t-ww.json && chmod 666 t-ww.json
refuse "tokens file writable by others" "writable by group or others" "${BASE[@]}" --key key.pem --tokens t-ww.json
cp tokens.json t-nobody.json && chown 65534 t-nobody.json
refuse "tokens file not owned by root" "owned by uid 65534" "${BASE[@]}" --key key.pem --tokens t-nobody.json
echo '{"clients": [{"name": "x"' >t-garbage.json
refuse "garbage tokens file" "tokens file" "${BASE[@]}" --key key.pem --tokens t-garbage.json
cp key.pem k-read.pem && chmod 644 k-read.pem
refuse "signing key readable by others" "readable by group or others" "${BASE[@]}" --key k-read.pem --tokens tokens.json
openssl genrsa -out k2048.pem 2048 2>/dev/null
refuse "a 2048-bit key" "2048 bits, SGX needs 3072" "${BASE[@]}" --key k2048.pem --tokens tokens.json
openssl genrsa -out k65537.pem 3072 2>/dev/null
refuse "exponent 65537" "exponent is not 3" "${BASE[@]}" --key k65537.pem --tokens tokens.json
refuse "plain HTTP on a non-loopback address" "only on a loopback address" --listen 0.0.0.0:0 --insecure-http --key key.pem --tokens tokens.json --audit-log r.log
refuse "no TLS and no --insecure-http" "no TLS certificate" --listen 127.0.0.1:0 --key key.pem --tokens tokens.json --audit-log r.log
refuse "no tokens" "no clients" --listen 127.0.0.1:0 --insecure-http --key key.pem --audit-log r.log
echo '{"listen": "127.0.0.1:0", "tsl": {}}' >c-typo.json
refuse "a config key misspelled" "unknown key 'tsl'" --config c-typo.json
echo '{"listen": ' >c-garbage.json
refuse "a config that is not JSON" "c-garbage.json: line" --config c-garbage.json
echo '{"policies": {"p": {"allow_debug": "yes"}}}' >c-policy.json
refuse "a bad policy" "policy 'p'" --config c-policy.json "${BASE[@]}" --key key.pem --tokens tokens.json
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >busy.port &
BUSY=$!
PIDS+=("$BUSY")
for _ in $(seq 100); do [ -s busy.port ] && break; sleep 0.05; done
refuse "a port in use" "cannot listen on 127.0.0.1:$(cat busy.port)" --listen "127.0.0.1:$(cat busy.port)" --insecure-http --key key.pem --tokens tokens.json --audit-log r.log
kill "$BUSY" 2>/dev/null

# ---- nothing left behind ----
none_left "no daemon left running" "$BUSY"
