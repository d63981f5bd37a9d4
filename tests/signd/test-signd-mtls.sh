#!/bin/bash
# rune-signd client certificates (mTLS, issue 15): a CA made here with
# openssl, client certificates mapped by their subject CN to clients and
# policies in the clients file, curl --cert/--key. Refused: no credentials,
# a certificate from another CA, an expired one, one not for client
# authentication, an unknown CN, a certificate and a token of two different
# clients; a removed client after SIGHUP. The audit line says how the
# client authenticated. Refusals at start: --client-ca without TLS.
# timeout: 120
set -uo pipefail

# shellcheck source=tests/signd/lib.sh
. "$(dirname "$0")/lib.sh"
prerequisites curl openssl python3
workdir signd-mtls-test

"$T" gen-key --out key.pem 2>/dev/null
FIXED=(--date 20260101)
"$T" gendata --elf "$ELF" "${FIXED[@]}" --out material.bin 2>/dev/null
"$T" gendata --elf "$ELF" "${FIXED[@]}" --attributes 0x6 --out debug.bin 2>/dev/null
"$T" sign --key key.pem --elf "$ELF" "${FIXED[@]}" --out local.ss 2>/dev/null
"$T" sign --key key.pem --elf "$ELF" "${FIXED[@]}" --attributes 0x6 --out local-debug.ss 2>/dev/null

tls_server_cert
client_ca ca
client_ca evil
client_cert alice alice.example ca
client_cert bob bob.example ca
client_cert mallory alice.example evil         # alice's CN, another CA
client_cert stranger stranger.example ca       # a good certificate, no client of the server
client_cert server-only alice.example ca serverAuth
# An expired certificate for alice: openssl ca sets the dates.
mkdir ca.db && : >ca.db/index.txt && echo 01 >ca.db/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = c
[c]
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in alice.csr -out expired.crt \
	-startdate 20200101000000Z -enddate 20200102000000Z -notext >/dev/null 2>&1
cp alice.key expired.key

TOK_CI=$("$D" gen-token ci --tokens clients.json)
"$D" add-client alice --cert-cn alice.example --tokens clients.json >add.out 2>&1 &&
	"$D" add-client bob --cert-cn bob.example --policy dev --tokens clients.json >>add.out 2>&1 &&
	[ ! -s add.out ] && [ "$(stat -c %a clients.json)" = 600 ] &&
	ok "add-client: two certificate clients, quietly" || nok "add-client" "$(cat add.out)"
"$D" add-client carol --cert-cn alice.example --tokens clients.json >add.out 2>&1
[ $? -ne 0 ] && grep -q "client 'alice' has CN 'alice.example'" add.out &&
	ok "add-client refuses a CN another client has" || nok "add-client refuses a CN another client has" "$(cat add.out)"
"$D" add-client dave --tokens clients.json >add.out 2>&1
[ $? -ne 0 ] && grep -q -- "--cert-cn CN is required" add.out &&
	ok "add-client without --cert-cn: refused" || nok "add-client without --cert-cn" "$(cat add.out)"
cat >conf.json <<EOF
{
  "listen": "127.0.0.1:0",
  "tls": { "cert": "$W/tls.crt", "key": "$W/tls.key", "client_ca": "$W/ca.crt" },
  "signing_key": "$W/key.pem",
  "tokens": "$W/clients.json",
  "audit_log": "$W/audit.log",
  "policies": { "dev": { "allow_debug": true } }
}
EOF

if ! start d.log --config conf.json; then
	nok "start with a client CA"
	exit 1
fi
ok "listening with client certificates ($URL)"
CURL_TLS=(--cacert tls.crt)
ALICE=(--cert alice.crt --key alice.key)

req "no credentials: 401" 401 --data-binary @material.bin "$URL/api/v2/sigstruct"
reason_has "no credentials: the reason names both methods" "or a client certificate"
req "alice's certificate: v2 signed" 200 "${ALICE[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
cmp -s body.out local.ss && ok "alice's SIGSTRUCT equals a local sign" || nok "alice's SIGSTRUCT equals a local sign"
req "alice's certificate: public key" 200 "${ALICE[@]}" "$URL/api/v1/signature/public-key"
req "alice under the default policy: DEBUG 403" 403 "${ALICE[@]}" --data-binary @debug.bin "$URL/api/v2/sigstruct"
reason_has "alice's DEBUG refusal names the policy" "policy 'default'"
req "bob under policy dev: DEBUG signed" 200 --cert bob.crt --key bob.key --data-binary @debug.bin "$URL/api/v2/sigstruct"
cmp -s body.out local-debug.ss && ok "bob's DEBUG SIGSTRUCT equals a local sign" || nok "bob's DEBUG SIGSTRUCT equals a local sign"
req "a token still works beside certificates" 200 -H "Authorization: Bearer $TOK_CI" --data-binary @material.bin "$URL/api/v2/sigstruct"
req "alice's certificate with ci's token: 401" 401 "${ALICE[@]}" -H "Authorization: Bearer $TOK_CI" --data-binary @material.bin "$URL/api/v2/sigstruct"
reason_has "certificate and token of two clients: the reason" "send one"

req "alice's CN from another CA: 401" 401 --cert mallory.crt --key mallory.key --data-binary @material.bin "$URL/api/v2/sigstruct"
reason_has "another CA: the reason" "client certificate refused"
req "an expired certificate: 401" 401 --cert expired.crt --key expired.key --data-binary @material.bin "$URL/api/v2/sigstruct"
reason_has "expired: the reason" "expired"
req "a certificate for servers only (EKU serverAuth): 401" 401 --cert server-only.crt --key server-only.key --data-binary @material.bin "$URL/api/v2/sigstruct"
reason_has "wrong key purpose: the reason" "client certificate refused"
req "a good certificate of no client: 401" 401 --cert stranger.crt --key stranger.key --data-binary @material.bin "$URL/api/v2/sigstruct"
reason_has "unknown CN: the reason" "'stranger.example' is no client"
req "a bad certificate, even on an unknown path: 401" 401 --cert mallory.crt --key mallory.key "$URL/nothing"
req "the health check needs no certificate" 200 "$URL/healthz"

# SIGHUP: alice removed from the clients file.
"$D" revoke-token alice --tokens clients.json
kill -HUP "$PID"
for _ in $(seq 100); do grep -q 'reloaded' d.log && break; sleep 0.05; done
req "alice removed, after SIGHUP: 401" 401 "${ALICE[@]}" --data-binary @material.bin "$URL/api/v2/sigstruct"
req "bob after SIGHUP: still 200" 200 --cert bob.crt --key bob.key --data-binary @material.bin "$URL/api/v2/sigstruct"
stop && ok "SIGTERM, exit 0" || nok "SIGTERM, exit 0"

python3 - audit.log <<'PY' >audit.check 2>&1 && ok "audit log: $(cat audit.check)" || nok "audit log" "$(cat audit.check)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
cert = [r for r in recs if r.get("auth") == "certificate" and r["decision"] == "signed"]
assert {r["client"] for r in cert} == {"alice", "bob"}, cert
assert all(r["cert_cn"] in ("alice.example", "bob.example") for r in cert)
assert any(r.get("auth") == "token" and r["client"] == "ci" for r in recs)
refused = [r for r in recs if r["status"] == 401]
assert any("expired" in r["reason"] for r in refused)
assert any(r.get("cert_cn") == "stranger.example" and r["client"] is None for r in refused)
print(f"{len(recs)} lines, {len(cert)} signed by certificate")
PY

# Refusals at start, one line each.
BASE=(--listen 127.0.0.1:0 --key key.pem --tokens clients.json --audit-log r.log)
refuse "--client-ca without TLS" "need TLS" "${BASE[@]}" --insecure-http --client-ca ca.crt
cp ca.crt ca-ww.crt && chmod 666 ca-ww.crt
refuse "a client CA writable by others" "client CA" --config conf.json --client-ca ca-ww.crt
echo '{"clients": [{"name": "x"}]}' >c-none.json
refuse "a client with neither token nor certificate" "neither a token" "${BASE[@]}" --tls-cert tls.crt --tls-key tls.key --tokens c-none.json
echo '{"clients": [{"name": "x", "cert_cn": "a"}, {"name": "y", "cert_cn": "a"}]}' >c-dup.json
refuse "two clients with one CN" "the same cert_cn 'a'" "${BASE[@]}" --tls-cert tls.crt --tls-key tls.key --tokens c-dup.json

none_left "no daemon left running"
