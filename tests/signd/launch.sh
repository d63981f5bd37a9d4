# shellcheck shell=bash
# signd_launch BINARY LOG ARGS...: rune-signd (BINARY) started in the
# background with ARGS, its stderr in LOG; waits (10 s at most) for its
# "listening on URL" line. Sets SIGND_PID and URL (empty if it did not
# start). Shared by tests/signd/lib.sh and the tests of the signature
# service's clients (tests/shim/test-carrier.sh).
signd_launch() {
	local bin=$1 log=$2
	shift 2
	"$bin" "$@" 2>"$log" &
	SIGND_PID=$!
	URL=
	for _ in $(seq 200); do
		URL=$(sed -n 's/^rune-signd: listening on \([^ ]*\) .*/\1/p' "$log")
		[ -n "$URL" ] && break
		kill -0 "$SIGND_PID" 2>/dev/null || break
		sleep 0.05
	done
}
