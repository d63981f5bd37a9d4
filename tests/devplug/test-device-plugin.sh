#!/bin/bash
# timeout: 180
# rune-device-plugin against a fake kubelet (fake_kubelet.py, python3-grpcio),
# all in a temp directory (never the host's /var/lib/kubelet): it tries again
# after a kubelet refuses its registration, hangs up on one that never
# answers after its --timeout, registers
# alibabacloud.com/sgx_epc_MiB, serves GetDevicePluginOptions, ListAndWatch
# (16 devices for a 16Mi emulated EPC; a SIGHUP after the config says 32Mi
# pushes 32), Allocate (SGX_EPC_LIMIT, the device nodes of --dev-dir, the
# aesmd mount), GetPreferredAllocation and PreStartContainer; refuses
# malformed requests without dying; serves and registers again after a
# kubelet restart that removed every socket; exits on SIGTERM, removing its
# socket. Then the same against a kubelet written with Go's gRPC, the real
# kubelet's library (gokubelet.go, built here: about 45 s), and bad flags
# are one-line errors.
set -uo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
export SRCDIR
PLUGIN=$BUILD/bin/rune-device-plugin

if [ ! -x "$PLUGIN" ]; then
	echo "not ok - $PLUGIN is not built"
	exit 1
fi
"$SRCDIR/scripts/install-client-deps.sh" devplug >&2 || {
	echo "skip - python3-grpcio or Go's gRPC is not installed (scripts/install-client-deps.sh devplug)"
	exit 0
}

T=$(mktemp -d /tmp/rune-devplug.XXXXXX)
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
# stop_plugin WHAT: SIGTERM (the fake kubelet sent it already, or not), exit status 0
stop_plugin() {
	local prc
	kill -TERM "$PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$PID"
	prc=$?
	PID=
	if [ "$prc" = 0 ]; then
		echo "ok - $1: SIGTERM: exit status 0"
	else
		echo "not ok - $1: SIGTERM: exit status $prc"
	fi
	return "$prc"
}
trap cleanup EXIT

mkdir -p "$T/plugins" "$T/dev" "$T/aesmd" "$T/proto"
export RUNE_PROTO_CACHE=$T/proto
# A character device standing for /dev/sgx_enclave (/dev/null's numbers).
mknod "$T/dev/sgx_enclave" c 1 3
printf '{"emulator": {"epc_size": "16Mi"}}\n' >"$T/config.json"

# The plugin first (it serves before it registers), then the kubelet comes:
# the plugin must register when kubelet.sock appears.
"$PLUGIN" --plugin-dir "$T/plugins" --dev-dir "$T/dev" --config "$T/config.json" \
	--aesmd-socket-dir "$T/aesmd" --rescan 0 --timeout 3 2>"$T/plugin.log" &
PID=$!
/usr/bin/python3 "$SRCDIR/tests/devplug/fake_kubelet.py" "$T/plugins" "$PID" "$T/config.json" "$T/dev" "$T/aesmd"
rc=$?
stop_plugin "python kubelet"
src=$?
if [ "$rc" != 0 ] || [ "$src" != 0 ]; then
	sed 's/^/# plugin: /' "$T/plugin.log"
fi

# The kubelet's own gRPC library (Go): registration, options, ListAndWatch, Allocate.
printf '{"emulator": {"epc_size": "16Mi"}}\n' >"$T/config.json"
mkdir -p "$T/goplugins"
if GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$T/gocache GOFLAGS= \
	go build -o "$T/gokubelet" "$SRCDIR/tests/devplug/gokubelet.go" >"$T/go.log" 2>&1; then
	"$PLUGIN" --plugin-dir "$T/goplugins" --dev-dir "$T/dev" --config "$T/config.json" --rescan 0 \
		2>"$T/plugin.log" &
	PID=$!
	timeout 60 "$T/gokubelet" "$T/goplugins"
	rc=$?
	stop_plugin "go kubelet"
	src=$?
	if [ "$rc" != 0 ] || [ "$src" != 0 ]; then
		sed 's/^/# plugin: /' "$T/plugin.log"
	fi
else
	sed 's/^/# /' "$T/go.log" | tail -20
	echo "not ok - go kubelet: build tests/devplug/gokubelet.go"
fi

# Bad flags and config: one line, non-zero, nothing left behind.
bad() { # NAME WANT_IN_MESSAGE ARGS...
	local name=$1 want=$2 out rc
	shift 2
	out=$(timeout 10 "$PLUGIN" --plugin-dir "$T/plugins" --dev-dir "$T/dev" "$@" 2>&1)
	rc=$?
	out=$(printf '%s\n' "$out" | grep -v "^Try 'rune-device-plugin --help'.$")
	if [ "$rc" != 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ $out == *"$want"* ]]; then
		echo "ok - $name"
	else
		echo "not ok - $name: rc $rc, output: $out"
	fi
}
printf '{"emulator": {"epc_size": "lots"}}\n' >"$T/bad.json"
bad "a malformed emulator.epc_size is refused, naming it" "emulator.epc_size" --config "$T/bad.json"
chmod 0666 "$T/config.json"
bad "a config file others may write is refused" "not writable by others" --config "$T/config.json"
bad "--aesmd-socket-dir must be a directory" "--aesmd-socket-dir" --aesmd-socket-dir "$T/none"
bad "--rescan takes seconds" "--rescan" --rescan soon
bad "a missing plugin directory is an error" "bind" --plugin-dir "$T/none" --config "$T/bad.json.none"
left=$(ls "$T/plugins")
if [ -z "$left" ]; then
	echo "ok - nothing left in the plugin directory"
else
	echo "not ok - left in the plugin directory: $left"
fi
