#!/bin/bash
# rune-signd: expiring tokens and revoked client certificates (issue 15).
# Tokens: gen-token --expires (relative and absolute, refused in the past
# or malformed), a token that works until its time and is 401 after it with
# the reason in the answer and the audit log; an expiry changed in the
# tokens file takes effect on SIGHUP; a malformed one stops the start.
# CRLs: a CA run with `openssl ca`; --client-crl (and tls.client_crl): a
# certificate works, is revoked, and after the new CRL and SIGHUP is 401
# with "revoked" in the reason and the audit line, while another client's
# certificate goes on working; a CRL from another CA, an out-of-date CRL,
# a CRL without a client CA are refused at start; a bad CRL on SIGHUP
# keeps the old one.
# timeout: 90
set -uo pipefail

# shellcheck source=tests/signd/lib.sh
. "$(dirname "$0")/lib.sh"
prerequisites curl openssl python3
workdir signd-expiry-crl-test

"$T" gen-key --out key.pem 2>/dev/null
"$T" gendata --elf "$ELF" --date 20260101 --out material.bin 2>/dev/null

# reload: SIGHUP to the daemon, waits for its Nth "reloaded" (or error) line.
reloads=0
reload() {
	reloads=$((reloads + 1))
	kill -HUP "$PID"
	for _ in $(seq 100); do
		[ "$(grep -c -e 'reloaded' -e 'reload (keeping' d.log)" -ge "$reloads" ] && return
		sleep 0.05
	done
}
# set_expiry NAME WHEN: sets (or with "", removes) a client's token_expires in tokens.json.
set_expiry() {
	python3 - tokens.json "$1" "$2" <<'PY'
import json, sys
path, name, when = sys.argv[1:]
t = json.load(open(path))
for c in t["clients"]:
    if c["name"] == name:
        if when:
            c["token_expires"] = when
        else:
            c.pop("token_expires", None)
json.dump(t, open(path, "w"))
PY
}

# ---- expiring tokens ----
TOK_LONG=$("$D" gen-token long --expires 30d --tokens tokens.json)
TOK_SHORT=$("$D" gen-token short --expires 6s --tokens tokens.json)
TOK_DATE=$("$D" gen-token dated --expires 2099-01-31 --tokens tokens.json)
TOK_FOREVER=$("$D" gen-token forever --tokens tokens.json)
python3 - tokens.json <<'PY' >exp.check 2>&1 && ok "gen-token --expires stores the time: $(cat exp.check)" || nok "gen-token --expires stores the time" "$(cat exp.check)"
import json, sys, datetime
c = {x["name"]: x for x in json.load(open(sys.argv[1]))["clients"]}
now = datetime.datetime.now(datetime.timezone.utc)
def t(n):
    return datetime.datetime.strptime(c[n]["token_expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
assert 29 * 86400 < (t("long") - now).total_seconds() <= 30 * 86400 + 5, c["long"]
assert 0 < (t("short") - now).total_seconds() <= 7, c["short"]
assert c["dated"]["token_expires"] == "2099-01-31T00:00:00Z", c["dated"]
assert "token_expires" not in c["forever"]
print(c["long"]["token_expires"], c["dated"]["token_expires"])
PY
for bad in 2001-01-01 -5d 0d 12x tomorrow 2030-13-01 9999999999d; do
	if "$D" gen-token "bad$RANDOM" --expires "$bad" --tokens tokens.json >gen.out 2>gen.err; then
		nok "gen-token --expires $bad: refused" "$(cat gen.out gen.err)"
	elif [ -s gen.out ] || [ "$(wc -l <gen.err)" -ne 1 ]; then
		nok "gen-token --expires $bad: one line, no token" "$(cat gen.out gen.err)"
	else
		ok "gen-token --expires $bad: refused ($(cat gen.err))"
	fi
done

if ! start d.log --listen 127.0.0.1:0 --insecure-http --key key.pem --tokens tokens.json --audit-log audit.log; then
	nok "start with expiring tokens"
	exit 1
fi
CURL_TLS=()
sign() { req "$1" "$2" -H "Authorization: Bearer $3" --data-binary @material.bin "$URL/api/v2/sigstruct"; }
sign "a token before its expiry: signed" 200 "$TOK_SHORT"
sign "a token that expires in 30 days: signed" 200 "$TOK_LONG"
sign "a token with an expiry date: signed" 200 "$TOK_DATE"
sign "a token without expiry: signed" 200 "$TOK_FOREVER"
sleep 6.2
sign "the same token after its expiry: 401" 401 "$TOK_SHORT"
reason_has "the refusal says it expired, and whose" "the token of client 'short' expired at"
grep -q '"status":401.*"reason":"the token of client '"'"'short'"'"' expired at' audit.log &&
	ok "the audit line of the expired token names the reason" ||
	nok "the audit line of the expired token names the reason" "$(tail -1 audit.log)"
sign "the other tokens still work" 200 "$TOK_LONG"

# The expiry is the tokens file's, reloaded on SIGHUP: past, then removed.
set_expiry long 2020-01-01T00:00:00Z
reload
sign "an expiry moved into the past, after SIGHUP: 401" 401 "$TOK_LONG"
reason_has "expired in 2020: the reason" "expired at 2020-01-01T00:00:00Z"
set_expiry long ""
reload
sign "the expiry removed, after SIGHUP: signed again" 200 "$TOK_LONG"
set_expiry forever yesterday
reload
grep -q "reload (keeping the clients and policies we had).*token_expires" d.log &&
	ok "a malformed token_expires on SIGHUP: reported, the old clients kept" ||
	nok "a malformed token_expires on SIGHUP" "$(tail -2 d.log)"
sign "the old clients kept: the token without expiry still works" 200 "$TOK_FOREVER"
stop && ok "SIGTERM, exit 0" || nok "SIGTERM, exit 0"
grep -qF -e "$TOK_SHORT" -e "$TOK_LONG" audit.log d.log && nok "no token in the logs" || ok "no token in the logs"
refuse "a malformed token_expires stops the start" "client 'forever': token_expires: expected YYYY-MM-DDTHH:MM:SSZ" \
	--listen 127.0.0.1:0 --insecure-http --key key.pem --tokens tokens.json --audit-log r.log
echo '{"clients": [{"name": "x", "cert_cn": "x", "token_expires": "2030-01-01T00:00:00Z"}]}' >c-noexp.json
refuse "token_expires without a token" "token_expires without a token" \
	--listen 127.0.0.1:0 --insecure-http --key key.pem --tokens c-noexp.json --audit-log r.log

# ---- client certificate revocation lists ----
# ca_init NAME: a CA run by `openssl ca` (its database in NAME.db), NAME.crt/NAME.key.
ca_init() {
	client_ca "$1"
	mkdir "$1.db" && : >"$1.db/index.txt" && echo 01 >"$1.db/serial" && echo 01 >"$1.db/crlnumber"
	cat >"$1.cnf" <<CNF
[ca]
default_ca = c
[c]
database = $1.db/index.txt
new_certs_dir = $1.db
serial = $1.db/serial
crlnumber = $1.db/crlnumber
certificate = $1.crt
private_key = $1.key
default_md = sha256
default_days = 1
default_crl_days = 1
policy = p
unique_subject = no
x509_extensions = client
[p]
commonName = supplied
[client]
extendedKeyUsage = clientAuth
CNF
}
# ca_issue CA NAME CN: NAME.crt/NAME.key issued by CA through its database.
ca_issue() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$2.key" \
		-out "$2.csr" -subj "/CN=$3" 2>/dev/null
	openssl ca -batch -config "$1.cnf" -in "$2.csr" -out "$2.crt" -notext >/dev/null 2>&1
	chmod 600 "$2.key"
}
# ca_crl CA OUT [OPENSSL-CA-ARGS]: the CA's current CRL.
ca_crl() {
	local ca=$1 out=$2
	shift 2
	openssl ca -batch -config "$ca.cnf" -gencrl -out "$out" "$@" >/dev/null 2>&1
}

tls_server_cert
ca_init ca
ca_init evil
ca_issue ca alice alice.example
ca_issue ca bob bob.example
ca_crl ca crl.pem && ca_crl evil evil-crl.pem && ok "CA, client certificates and an empty CRL" || nok "CA and CRL"
"$D" add-client alice --cert-cn alice.example --tokens clients.json &&
	"$D" add-client bob --cert-cn bob.example --tokens clients.json || nok "add-client"
cat >conf.json <<EOF
{
  "listen": "127.0.0.1:0",
  "tls": { "cert": "$W/tls.crt", "key": "$W/tls.key", "client_ca": "$W/ca.crt",
           "client_crl": "$W/crl.pem" },
  "signing_key": "$W/key.pem",
  "tokens": "$W/clients.json",
  "audit_log": "$W/crl-audit.log"
}
EOF
: >d.log
reloads=0
if ! start d.log --config conf.json; then
	nok "start with a client CRL"
	exit 1
fi
ok "listening with a client CA and its CRL (tls.client_crl)"
CURL_TLS=(--cacert tls.crt)
certsign() { req "$1" "$2" --cert "$3.crt" --key "$3.key" --data-binary @material.bin "$URL/api/v2/sigstruct"; }
certsign "alice's certificate, not revoked: signed" 200 alice
openssl ca -batch -config ca.cnf -revoke alice.crt -crl_reason keyCompromise >/dev/null 2>&1
certsign "alice revoked, the CRL not yet reloaded: still signed" 200 alice
ca_crl ca crl.pem
reload
certsign "alice revoked, after the new CRL and SIGHUP: 401" 401 alice
reason_has "the refusal says revoked" "revoked"
grep -q '"status":401.*"reason":"client certificate refused: [^"]*revoked' crl-audit.log &&
	ok "the audit line names the revocation" || nok "the audit line names the revocation" "$(tail -1 crl-audit.log)"
certsign "bob, not revoked: still signed" 200 bob
cp crl.pem crl.good && cp evil-crl.pem crl.pem
reload
grep -q "reload (keeping.*client CRL .*not signed by the client CA" d.log &&
	ok "another CA's CRL on SIGHUP: reported, the old one kept" || nok "another CA's CRL on SIGHUP" "$(tail -2 d.log)"
certsign "the old CRL kept: alice still refused" 401 alice
certsign "the old CRL kept: bob still signed" 200 bob
cp crl.good crl.pem
stop && ok "SIGTERM, exit 0" || nok "SIGTERM, exit 0"

BASE=(--listen 127.0.0.1:0 --key key.pem --tokens clients.json --audit-log r.log --tls-cert tls.crt --tls-key tls.key)
refuse "--client-crl from another CA" "not signed by the client CA" "${BASE[@]}" --client-ca ca.crt --client-crl evil-crl.pem
refuse "--client-crl without --client-ca" "needs the CA it is from" "${BASE[@]}" --client-crl crl.pem
echo garbage >junk.pem
refuse "--client-crl with no CRL in it" "no PEM CRL" "${BASE[@]}" --client-ca ca.crt --client-crl junk.pem
ca_crl ca stale.pem -crlsec 1
sleep 2.5 # past its next update, to the second
refuse "an out-of-date CRL" "out of date" "${BASE[@]}" --client-ca ca.crt --client-crl stale.pem
cp crl.pem crl-ww.pem && chmod 666 crl-ww.pem
refuse "a CRL writable by others" "client CRL" "${BASE[@]}" --client-ca ca.crt --client-crl crl-ww.pem

none_left "no daemon left running"
