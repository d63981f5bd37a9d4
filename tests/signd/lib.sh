# shellcheck shell=bash
# Helpers of the rune-signd test scripts (sourced): TAP-like lines, the
# prerequisites, a private work directory cleaned up at exit, the daemon
# started on a free loopback port, requests with curl, certificates.
# It sets D (rune-signd), T (sgx-tools) and ELF (the skeleton enclave); the
# caller sets CURL_TLS (curl options) before req.
# Environment: SRCDIR, BUILD (from tests/run.sh; else this tree's build/).

: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD:=$SRCDIR/build}"
D=$BUILD/bin/rune-signd
# shellcheck source=tests/signd/launch.sh
. "$SRCDIR/tests/signd/launch.sh"
T=$BUILD/bin/sgx-tools
ELF=$BUILD/share/skeleton/encl.elf

ok() { echo "ok - $1"; }
nok() {
	[ -n "${2:-}" ] && echo "# $2"
	echo "not ok - $1"
}

# prerequisites COMMAND...: D, T, ELF and the COMMANDs are there, or
# "not ok - prerequisites" and exit 1.
prerequisites() {
	local f c
	for f in "$D" "$T" "$ELF"; do
		[ -e "$f" ] || {
			nok "prerequisites" "missing $f (make all)"
			exit 1
		}
	done
	for c in "$@"; do
		command -v "$c" >/dev/null || {
			nok "prerequisites" "no $c (scripts/install-deps.sh)"
			exit 1
		}
	done
}

# workdir NAME: W, a new /tmp/NAME.XXXXXX, made the current directory
# (umask 077); PIDS, the processes to kill at exit. At exit (trap): the
# processes of PIDS are killed and W is removed.
workdir() {
	W=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	PIDS=()
	trap cleanup EXIT
	cd "$W" || exit 1
	umask 077
}
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$W"
}

# none_left NAME [PID]: passes if no process of PIDS (but PID) still runs.
none_left() {
	local p left=
	for p in "${PIDS[@]}"; do
		[ "$p" = "${2:-}" ] && continue
		kill -0 "$p" 2>/dev/null && left="$left $p"
	done
	if [ -z "$left" ]; then ok "$1"; else nok "$1" "pids$left"; fi
}

# start LOG ARGS...: starts the daemon, waits for "listening on URL"; sets PID, URL, PORT.
start() {
	local log=$1
	shift
	signd_launch "$D" "$log" "$@"
	PID=$SIGND_PID
	PIDS+=("$PID")
	PORT=${URL##*:}
	[ -n "$URL" ] || echo "# daemon did not start: $(cat "$log")"
	[ -n "$URL" ]
}

# stop: SIGTERM to the daemon, waits for it; its exit status.
stop() {
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
}

# req NAME STATUS CURL-ARGS...: passes if the status is STATUS; the body is in body.out.
req() {
	local name=$1 want=$2 got
	shift 2
	got=$(curl -s --max-time 20 -o body.out -D headers.out -w '%{http_code}' "${CURL_TLS[@]}" "$@")
	if [ "$got" = "$want" ]; then ok "$name"; else nok "$name" "status $got, expected $want: $(head -c 300 body.out)"; fi
}

# verifies NAME SIGSTRUCT: passes if sgx-tools verify finds SIGSTRUCT good for ELF.
verifies() {
	if "$T" verify --sigstruct "$2" --elf "$ELF" >verify.out 2>&1; then ok "$1"; else nok "$1" "$(cat verify.out)"; fi
}

# json KEY: the body's value of KEY ("" if not JSON or absent).
json() {
	python3 -c 'import json,sys; print(json.load(open("body.out")).get(sys.argv[1], ""))' "$1" 2>/dev/null
}

# reason_has NAME TEXT: the refusal's JSON reason contains TEXT.
reason_has() {
	local r
	r=$(json reason)
	case $r in
	*"$2"*) ok "$1 ($r)" ;;
	*) nok "$1" "reason: '$r', body: $(head -c 300 body.out)" ;;
	esac
}

# refuse NAME TEXT ARGS...: the daemon refuses to start, exit != 0, exactly one line naming TEXT.
refuse() {
	local name=$1 text=$2 rc
	shift 2
	timeout 10 "$D" "$@" >refuse.out 2>refuse.err
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then
		nok "$name" "exit $rc: $(cat refuse.err)"
	elif [ "$(wc -l <refuse.err)" -ne 1 ] || [ -s refuse.out ]; then
		nok "$name" "expected one line, got: $(cat refuse.out refuse.err)"
	elif ! grep -qF -- "$text" refuse.err; then
		nok "$name" "no '$text' in: $(cat refuse.err)"
	else
		ok "$name ($(cat refuse.err))"
	fi
}

# tls_server_cert [CN [NAME]]: NAME.crt/NAME.key [tls] for 127.0.0.1 (self-signed, P-256),
# subject CN [localhost].
tls_server_cert() {
	local name=${2:-tls}
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$name.key" \
		-out "$name.crt" -days 2 -subj "/CN=${1:-localhost}" -addext 'subjectAltName=IP:127.0.0.1' 2>/dev/null
	chmod 600 "$name.key"
}

# client_ca NAME: NAME.crt/NAME.key, a CA for client certificates.
client_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
		-out "$1.crt" -days 2 -subj "/CN=$1" 2>/dev/null
}

# client_cert NAME CN CA [EKU]: NAME.crt/NAME.key, a client certificate with subject CN,
# issued by CA, with extended key usage EKU [clientAuth].
client_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$2" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -set_serial "$RANDOM$RANDOM" \
		-days 1 -out "$1.crt" -extfile <(printf 'extendedKeyUsage=%s\n' "${4:-clientAuth}") 2>/dev/null
	chmod 600 "$1.key"
}
