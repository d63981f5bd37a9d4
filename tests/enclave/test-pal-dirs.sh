#!/bin/bash
# timeout: 200
# Which PAL rune loads (docs/enclave-containers.md, 2; issue 10, item 4):
# rune opens the PAL once, beneath an allowed directory's fd, and the init
# loads that fd; an allowed directory must be root's all the way up (a
# sticky ancestor such as /tmp passes when the next component is root's).
# Every case also checks nothing is left behind.
. "$(dirname "$0")/lib.sh"

need_builds "$PALDIR/libtestpal-v2.so"

# outside_pal DIR: DIR/lib.so, a shared object whose constructor creates
# $T/LOADED (it has no PAL symbols: rune refuses it, after loading it).
outside_pal() {
	mkdir -p "$1"
	printf '%s\n' '#include <fcntl.h>' '#include <unistd.h>' \
		'__attribute__((constructor)) static void loaded(void)' \
		"{ close(open(\"$T/LOADED\", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)); }" >"$T/outside.c"
	${CC:-cc} -shared -fPIC -o "$1/lib.so" "$T/outside.c" || fail "cc: cannot build the outside PAL"
	chmod 0755 "$1/lib.so"
}

# swapper A B SECONDS: swaps two names atomically (renameat2 RENAME_EXCHANGE)
# in a loop for SECONDS at most (run in the background: exec makes $! python).
swapper() {
	exec "$PY" - "$@" <<-'EOF'
		import ctypes, os, sys, time
		libc = ctypes.CDLL(None, use_errno=True)
		a, b, end = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), time.time() + float(sys.argv[3])
		while time.time() < end:
		    if libc.renameat2(-100, a, -100, b, 2) != 0:  # AT_FDCWD, RENAME_EXCHANGE
		        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
	EOF
}

t_race_swap_dir() {
	# The allowed dir A holds sub/lib.so, the PAL named by the config; an
	# exchanger keeps flipping A/sub between that directory and a symlink
	# to a directory outside A whose lib.so marks $T/LOADED when loaded.
	local A=$T/race/pal sw i ok=0 refused=0 other=0 end
	mkdir -p "$A/sub"
	cp "$PALDIR/libtestpal-v2.so" "$A/sub/lib.so"
	outside_pal "$T/race/outside"
	ln -s "$T/race/outside" "$A/alt"
	local EXTRA_PAL_DIRS=$A
	enclave_bundle "$A/sub/lib.so" ""
	cfg_args app exit 0
	swapper "$A/sub" "$A/alt" 30 &
	sw=$!
	trap 'kill $sw 2>/dev/null; wait $sw 2>/dev/null' EXIT
	end=$((SECONDS + 20))
	for ((i = 0; i < 80 && SECONDS < end; i++)); do
		ct_run
		if [ "$RC" = 0 ]; then
			ok=$((ok + 1))
		elif [[ $ERR == *"not in an allowed PAL directory"* ]]; then
			refused=$((refused + 1))
		else
			other=$((other + 1))
			echo "# try $i: rc=$RC: $ERR"
		fi
		rt delete --force "$ID" >/dev/null 2>&1 || true
		[ ! -e "$T/LOADED" ] || break
	done
	kill $sw 2>/dev/null || true
	wait $sw 2>/dev/null || true
	trap - EXIT
	echo "# $((ok + refused + other)) tries: $ok ran the allowed PAL, $refused refused, $other other failures"
	[ ! -e "$T/LOADED" ] || fail "a PAL outside the allowed directory was loaded (try $((ok + refused + other)))"
	[ "$ok" -gt 0 ] || fail "the allowed PAL never ran"
	[ "$refused" -gt 0 ] || fail "the swap never showed (not a race)"
}

t_writable_parent() {
	# DIR's parent belongs to uid 1000; then group- and other-writable ones; then DIR itself.
	local P=$T/wp
	mkdir -p "$P/user/pal" "$P/group/pal" "$P/other/pal" "$P/self/pal"
	for d in user group other self; do
		cp "$PALDIR/libtestpal-v2.so" "$P/$d/pal/lib.so"
	done
	chown 1000:1000 "$P/user"
	chmod 0775 "$P/group"
	chmod 0777 "$P/other"
	chown 1000 "$P/self/pal"
	for d in user group other self; do
		local dir=$P/$d/pal bad=$P/$d
		[ $d = self ] && bad=$dir
		EXTRA_PAL_DIRS=$dir enclave_bundle "$dir/lib.so"
		cfg_args app hello
		EXTRA_PAL_DIRS=$dir assert_create_refused "PAL directory $dir: $bad is writable by a non-root user"
		[ ! -e "$SH/pal.log" ] || fail "the PAL under $bad was loaded: $(calls)"
	done
	# a symlink to the allowed dir: the directories it passes through count too
	ln -s "$P/user/pal" "$P/link"
	EXTRA_PAL_DIRS=$P/link enclave_bundle "$P/link/lib.so"
	cfg_args app hello
	EXTRA_PAL_DIRS=$P/link assert_create_refused "PAL directory $P/link: $P/user is writable by a non-root user"
}

t_sticky_ancestor() {
	# /tmp-like: sticky and world-writable, with a root-owned directory in it
	local S=$T/sticky
	mkdir -p "$S/pal" "$S/user/pal"
	chmod 1777 "$S"
	cp "$PALDIR/libtestpal-v2.so" "$S/pal/lib.so"
	cp "$PALDIR/libtestpal-v2.so" "$S/user/pal/lib.so"
	local EXTRA_PAL_DIRS="$S/pal $S/user/pal"
	enclave_bundle "$S/pal/lib.so"
	cfg_args app hello
	ct_run
	assert_rc 0 "a PAL under a sticky ancestor"
	assert_eq "testpal v2: hello" "$OUT" "stdout"
	# the next component is not root's: its owner can swap what is below
	chown 1000 "$S/user"
	enclave_bundle "$S/user/pal/lib.so"
	cfg_args app hello
	assert_create_refused "PAL directory $S/user/pal: $S/user is writable by a non-root user"
	# nor may the allowed directory itself be sticky and writable
	local EXTRA_PAL_DIRS=$S
	cp "$PALDIR/libtestpal-v2.so" "$S/lib.so"
	enclave_bundle "$S/lib.so"
	cfg_args app hello
	assert_create_refused "PAL directory $S: $S is writable by a non-root user"
	# a symlink in a sticky directory must be root's
	ln -s "$S/pal" "$S/link"
	chown -h 1000 "$S/link"
	EXTRA_PAL_DIRS=$S/link enclave_bundle "$S/link/lib.so"
	cfg_args app hello
	EXTRA_PAL_DIRS=$S/link assert_create_refused "PAL directory $S/link: symlink $S/link .*not owned by root"
}

# assert_create_refused MUST-MENTION-REGEX: create and run fail, one clear line, nothing left
assert_create_refused() {
	local err1
	rtc create --bundle "$B" "$ID"
	assert_fails "create"
	assert_nothing_left "$ID"
	err1=$ERR
	ct_run
	assert_fails "run"
	assert_nothing_left "$ID"
	assert_match "$1" "$ERR" "run's error"
	ERR=$err1
	assert_clear_error "$1"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c .)" "lines on stderr"
}

tcase "a directory swapped on the PAL's path never loads a PAL outside the allowed dir" t_race_swap_dir
tcase "an allowed dir with a non-root-writable ancestor (or itself) refused, naming it" t_writable_parent
tcase "a sticky ancestor (like /tmp) with a root-owned next component works" t_sticky_ancestor
