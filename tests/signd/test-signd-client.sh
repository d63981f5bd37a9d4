#!/bin/bash
# sgx-tools sign --server (issue 15), the signing client (libsignd-client):
# against rune-signd over TLS with a token file, with a client certificate,
# through the v1 API, and over plain HTTP on loopback; each SIGSTRUCT equals
# a local sign with the same key. Refusals come back with the server's
# status and reason, and nothing is written. Against a lying server (a small
# Python one on loopback) the client refuses a SIGSTRUCT for other
# material, one whose signature does not verify, a truncated answer, and
# gives up on a server that does not answer by --timeout.
# timeout: 120
set -uo pipefail

# shellcheck source=tests/signd/lib.sh
. "$(dirname "$0")/lib.sh"
prerequisites openssl python3
workdir signd-client-test

"$T" gen-key --out key.pem 2>/dev/null
FIXED=(--elf "$ELF" --date 20260101)
"$T" sign --key key.pem "${FIXED[@]}" --out local.ss 2>/dev/null
"$T" sign --key key.pem "${FIXED[@]}" --isvsvn 7 --out local-svn7.ss 2>/dev/null
tls_server_cert signd.test # not localhost: a URL with localhost must not match it
client_ca ca
client_cert alice alice.example ca
"$D" gen-token ci --tokens clients.json >ci.token
python3 - clients.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["clients"].append({"name": "alice", "cert_cn": "alice.example"})
json.dump(j, open(sys.argv[1], "w"))
PY

# sgx_sign ARGS...: sgx-tools sign ARGS --out out.ss (none before), within 20 s; its output in
# sign.out and sign.err, its exit status.
sgx_sign() {
	rm -f out.ss
	timeout 20 "$T" sign "$@" --out out.ss >sign.out 2>sign.err
}
# sign_ok NAME EXPECTED ARGS...: sgx-tools sign ARGS --out out.ss succeeds and out.ss equals EXPECTED.
sign_ok() {
	local name=$1 want=$2
	shift 2
	if sgx_sign "$@" && cmp -s out.ss "$want"; then
		ok "$name"
	else
		nok "$name" "$(cat sign.err)"
	fi
}
# sign_fails NAME TEXT ARGS...: sgx-tools sign fails, says TEXT on one line, writes nothing.
sign_fails() {
	local name=$1 text=$2 rc
	shift 2
	sgx_sign "$@"
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $rc -gt 128 ]; then
		nok "$name" "exit $rc: $(cat sign.err)"
	elif [ -e out.ss ]; then
		nok "$name" "wrote out.ss anyway"
	elif [ "$(wc -l <sign.err)" -ne 1 ] || ! grep -qF -- "$text" sign.err; then
		nok "$name" "expected one line with '$text': $(cat sign.err)"
	else
		ok "$name ($(cat sign.err))"
	fi
}

# ---- against rune-signd over TLS, flags only ----
if start d.log --listen 127.0.0.1:0 --tls-cert tls.crt --tls-key tls.key --client-ca ca.crt \
	--key key.pem --tokens clients.json --audit-log audit.log; then
	S=(--server "$URL" --cacert tls.crt)
	sign_ok "--server with --token-file: the local sign's SIGSTRUCT" local.ss "${S[@]}" --token-file ci.token "${FIXED[@]}"
	verifies "sgx-tools verify: the served SIGSTRUCT" out.ss
	sign_ok "--server with a client certificate" local.ss "${S[@]}" --client-cert alice.crt --client-key alice.key "${FIXED[@]}"
	sign_ok "--server --v1 (signature and public key, assembled here)" local.ss "${S[@]}" --token-file ci.token --v1 "${FIXED[@]}"
	sign_ok "--server with SIGSTRUCT fields (ISVSVN 7)" local-svn7.ss "${S[@]}" --token-file ci.token "${FIXED[@]}" --isvsvn 7
	sign_ok "--server with a path after the port" local.ss --server "$URL/" --cacert tls.crt --token-file ci.token "${FIXED[@]}"
	sign_fails "a DEBUG enclave: the server's 403 and reason" "refused (403): DEBUG enclave" "${S[@]}" --token-file ci.token "${FIXED[@]}" --attributes 0x6
	sign_fails "no credentials: the server's 401" "refused (401): no credentials" "${S[@]}" "${FIXED[@]}"
	echo signd_0000 >bad.token
	sign_fails "a bad token: 401" "invalid token" "${S[@]}" --token-file bad.token "${FIXED[@]}"
	sign_fails "the wrong CA for the server" "the server's certificate" --server "$URL" --token-file ci.token "${FIXED[@]}"
	sign_fails "a host the certificate does not name" "the server's certificate" --server "https://localhost:$PORT" --cacert tls.crt --token-file ci.token "${FIXED[@]}"
	sign_fails "plain HTTP to the TLS port" "sign by http://" --server "http://127.0.0.1:$PORT" --token-file ci.token "${FIXED[@]}"
	stop && ok "rune-signd: SIGTERM, exit 0" || nok "rune-signd: SIGTERM, exit 0"
	grep '"client":"alice"' audit.log | grep '"decision":"signed"' | grep -q '"auth":"certificate"' &&
		ok "the audit log has alice's signature by certificate" || nok "the audit log has alice's signature by certificate"
else
	nok "rune-signd over TLS"
fi
sign_fails "nobody listening" "Connection refused" --server "https://127.0.0.1:$PORT" --cacert tls.crt --token-file ci.token "${FIXED[@]}"

# ---- plain HTTP on loopback ----
if start d2.log --listen 127.0.0.1:0 --insecure-http --key key.pem --tokens clients.json --audit-log audit.log; then
	sign_ok "--server http:// on loopback with a token" local.ss --server "$URL" --token-file ci.token "${FIXED[@]}"
	stop
else
	nok "rune-signd over plain HTTP"
fi

# ---- a lying server: what it answers depends on the path prefix ----
"$T" sign --key key.pem "${FIXED[@]}" --attributes 0x6 --out other.ss 2>/dev/null
python3 - local.ss other.ss >liar.port 2>liar.log <<'PY' &
import http.server, sys, time
good, other = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
bad = bytearray(good); bad[600] ^= 1
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.path.split("/")[1]
        if mode == "slow":
            time.sleep(8)
        if mode == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (good[:1000], good[1000:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = {"other": other, "badsig": bytes(bad), "short": good[:100]}.get(mode, good)
        status = 500 if mode == "html" else 200
        if mode == "html":
            body = b"<html>oops</html>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.timeout = 1
deadline = time.time() + 100
while time.time() < deadline:
    s.handle_request()
PY
LIAR=$!
PIDS+=("$LIAR")
for _ in $(seq 100); do [ -s liar.port ] && break; sleep 0.05; done
L=http://127.0.0.1:$(cat liar.port)
sign_ok "the fake server's honest answer is taken" local.ss --server "$L/good" --token-file ci.token "${FIXED[@]}"
sign_ok "a chunked answer" local.ss --server "$L/chunked" --token-file ci.token "${FIXED[@]}"
sign_fails "a SIGSTRUCT for other material: refused" "not for the material sent" --server "$L/other" --token-file ci.token "${FIXED[@]}"
sign_fails "a SIGSTRUCT whose signature does not verify: refused" "does not verify" --server "$L/badsig" --token-file ci.token "${FIXED[@]}"
sign_fails "a truncated SIGSTRUCT: refused" "100 bytes" --server "$L/short" --token-file ci.token "${FIXED[@]}"
sign_fails "a 500 with HTML: status and body" "refused (500): <html>oops</html>" --server "$L/html" --token-file ci.token "${FIXED[@]}"
start_s=$SECONDS
sign_fails "a server that does not answer: --timeout 2" "timed out" --server "$L/slow" --token-file ci.token --timeout 2 "${FIXED[@]}"
[ $((SECONDS - start_s)) -le 5 ] && ok "gave up within the timeout ($((SECONDS - start_s)) s)" || nok "gave up within the timeout" "$((SECONDS - start_s)) s"
kill "$LIAR" 2>/dev/null

# ---- usage: exit status 2, the error first ----
# usage_fails NAME TEXT ARGS...
usage_fails() {
	local name=$1 text=$2 rc
	shift 2
	sgx_sign "$@"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -e out.ss ] && head -1 sign.err | grep -qF -- "$text"; then
		ok "$name ($(head -1 sign.err))"
	else
		nok "$name" "exit $rc: $(cat sign.err)"
	fi
}
usage_fails "--key and --server" "one of them" --key key.pem --server "$L" "${FIXED[@]}"
usage_fails "neither --key nor --server" "one of them" "${FIXED[@]}"
usage_fails "--token-file without --server" "go with --server" --key key.pem --token-file ci.token "${FIXED[@]}"
usage_fails "--client-cert without --client-key" "go together" --server "$L" --client-cert alice.crt "${FIXED[@]}"
sign_fails "a client certificate over http://" "needs an https://" --server "$L" --client-cert alice.crt --client-key alice.key "${FIXED[@]}"
sign_fails "a missing token file" "token file" --server "$L" --token-file nothing.token "${FIXED[@]}"
sign_fails "a URL that is not one" "expected https://" --server "ftp://x" --token-file ci.token "${FIXED[@]}"
sign_fails "a bad port" "bad port" --server "https://127.0.0.1:99999" --token-file ci.token "${FIXED[@]}"

none_left "nothing left running"
