#!/bin/bash
# timeout: 240
# Static Go (CGO_ENABLED=0, Debian's golang-go) inside the LibOS enclave,
# through the PAL: tests/libos/go/probe.go's goroutines, channels, mutexes,
# WaitGroup, sync.Once, timers (Sleep, Ticker, After, AfterFunc: the
# runtime's poller runs on the LibOS's epoll and pipes), a trusted file,
# args, env and os.Exit give the native run's output and status, byte for
# byte; os/exec of a child (a new enclave) with its output through a pipe
# the poller reads; a panic is exit 2 with Go's message on stderr.
set -u
. "$(dirname "$0")/lib.sh"
libos_need
if ! command -v go >/dev/null; then
	echo "ok - static Go in the enclave # SKIP no go (apt-get install golang-go)"
	exit 0
fi
T=$(mktemp -d /tmp/rune-libos-go.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
R=$T/root
mkdir -p "$R/bin" "$R/data"
if ! (cd "$T" && env HOME="$T" GOCACHE="$T/gocache" GOPATH="$T/gopath" GO111MODULE=off \
	CGO_ENABLED=0 go build -o "$R/bin/probe" "$SRCDIR/tests/libos/go/probe.go") 2>"$T/err"; then
	echo "not ok - go build"
	sed 's/^/# /' "$T/err"
	exit 1
fi
printf 'go reads this\n' >"$R/data/file"
printf 'not in the manifest\n' >"$R/data/other"
# The Go runtime reserves about 700 MiB of address space: the heap holds it.
"$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --no-default-trusted --trusted /data/file \
	--host-argv --heap 1G -- /bin/probe >/dev/null 2>"$T/err" || {
	echo "not ok - rune-image build"
	sed 's/^/# /' "$T/err"
	exit 1
}

# same NAME ARGS...: enclave output and status == a native run in the rootfs
same() {
	local name=$1 out rc nout nrc
	shift
	out=$(timeout -k 2 90 "$PAL_HOST" --args "root=$R" --env HOME=/root "$LIBOS_PAL" \
		/bin/probe "$@" 2>"$T/err")
	rc=$?
	# Natively /data/other is not there: inside, files outside the manifest are not.
	mv "$R/data/other" "$T/other"
	nout=$(env -i HOME=/root "$(command -v chroot)" "$R" /bin/probe "$@" 2>"$T/nerr")
	nrc=$?
	mv "$T/other" "$R/data/other"
	if [ -n "$nout" ] && [ "$out" == "$nout" ] && [ "$rc" == "$nrc" ]; then
		ok "$name"
	else
		nok "$name"
		echo "# enclave rc=$rc native rc=$nrc"
		diff <(echo "$nout") <(echo "$out") | sed 's/^/# /'
		sed 's/^/# stderr: /' "$T/err" | head -20
	fi
}

same "go: goroutines, channels, sync, timers, files, args, env, exit 3 (as native)" all x y
# os/exec gives a child /dev/null: natively it must be there (inside, the LibOS serves it).
mkdir -p "$R/dev" && mknod -m 666 "$R/dev/null" c 1 3
same "go: os/exec of a child enclave, Output() through a pipe, Run(), exit statuses (as native)" exec
rm -rf "$R/dev"
out=$(timeout -k 2 90 "$PAL_HOST" --args "root=$R" "$LIBOS_PAL" /bin/probe panic 2>"$T/err")
rc=$?
if [ "$rc" == 2 ] && grep -q '^panic: assignment to entry in nil map' "$T/err" &&
	grep -q '^goroutine 1 \[running\]:' "$T/err"; then
	ok "go: a panic exits 2 with Go's message and trace on stderr"
else
	nok "go: a panic exits 2 with Go's message and trace on stderr"
	echo "# rc=$rc"
	sed 's/^/# stderr: /' "$T/err" | head -20
fi
exit $((_n > 0))
