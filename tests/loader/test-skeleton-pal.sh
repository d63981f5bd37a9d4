#!/bin/bash
# The skeleton PALs v1-v3 through a tiny PAL host (dlopen, pal_init,
# pal_exec / pal_create_process+pal_exec, pal_kill, pal_get_local_report,
# pal_destroy) on whatever backend this host has (the emulator here).
# timeout: 120
set -u
BUILD=${BUILD:-$PWD/build}
HOST=$BUILD/tests-bin/pal-host
SKEL=$BUILD/share/skeleton
tmp=$(mktemp -d /tmp/skel-pal.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export SGX_EMU_SECRET=$tmp/secret

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
check() { # name cond...
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

if [ ! -x "$HOST" ] || [ ! -f "$SKEL/encl.ss" ]; then
	echo "skip - skeleton PAL: not built (make all)"
	exit 0
fi
expected_mr=$(od -An -tx1 -j960 -N32 "$SKEL/encl.ss" | tr -d ' \n')

# run DIR ARGS...: stdout to $tmp/out, stderr to $tmp/err, status in $rc
run() {
	local dir=$1 host=$HOST
	shift
	[ "$1" != --kill-race ] || { host=$BUILD/tests-bin/pal-kill-race && shift; }
	(cd "$dir" && "$host" "$@") >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

for v in 1 2 3; do
	pal=$BUILD/lib/liberpal-skeleton-v$v.so
	check "v$v: the PAL is 0755" [ "$(stat -c %a "$pal")" = 755 ]
	run "$SKEL" "$pal" skeleton hello
	check "v$v: hello prints the enclave's greeting" \
		[ $rc = 0 -a "$(cat "$tmp/out")" = "Hello from the skeleton enclave!" ]
	run "$SKEL" "$pal" skeleton
	check "v$v: no argument is hello" grep -q "Hello from the skeleton enclave" "$tmp/out"
	check "v$v: the emulator says so on stderr" \
		bash -c "[ -e /dev/sgx_enclave ] || grep -q 'SGX emulator' '$tmp/err'"
	run "$SKEL" "$pal" skeleton exit 7
	check "v$v: exit 7 gives 7" [ $rc = 7 ]
	run "$SKEL" "$pal" skeleton exit 0
	check "v$v: exit 0 gives 0" [ $rc = 0 ]
	start=$SECONDS
	run "$SKEL" "$pal" skeleton sleep 1
	check "v$v: sleep 1 returns 0 after a second" [ $rc = 0 -a $((SECONDS - start)) -ge 1 ]
	run "$SKEL" "$pal" skeleton report
	check "v$v: report prints the signed MRENCLAVE" grep -qx "mrenclave: $expected_mr" "$tmp/out"
	run "$SKEL" --args "$SKEL" "$pal" skeleton bogus
	check "v$v: unknown command: usage on stderr, status 2" \
		bash -c "[ $rc = 2 ] && grep -q usage '$tmp/err'"
	# The directory from the args, from another cwd.
	run "$tmp" --args "$SKEL" "$pal" skeleton exit 3
	check "v$v: enclave directory from the args" [ $rc = 3 ]
	run "$tmp" "$pal" skeleton hello
	check "v$v: no enclave in the cwd: pal_init fails clearly" \
		bash -c "[ $rc = 125 ] && grep -q 'encl.ss' '$tmp/err'"
done

for v in 2 3; do
	pal=$BUILD/lib/liberpal-skeleton-v$v.so
	for sig in 15 9; do
		start=$SECONDS
		run "$SKEL" --kill-after 0.5 $sig "$pal" skeleton sleep 30
		check "v$v: pal_kill $sig ends sleep with $((128 + sig))" \
			[ $rc = $((128 + sig)) -a $((SECONDS - start)) -lt 10 ]
	done
done

# pal_kill against a process that is ending: the wake-up write is held (the
# helper interposes write(2)) while the process ends; it must reach the
# process's eventfd, not an fd that took its number once closed.
for v in 2 3; do
	run "$SKEL" --kill-race "$BUILD/lib/liberpal-skeleton-v$v.so"
	check "v$v: pal_kill never writes to the eventfd of a process that ended meanwhile" \
		[ $rc = 0 ]
	[ $rc = 0 ] || sed 's/^/# /' "$tmp/out" "$tmp/err"
done

run "$SKEL" --report "$BUILD/lib/liberpal-skeleton-v3.so"
check "v3: pal_get_local_report carries the signed MRENCLAVE" \
	grep -qx "mrenclave: $expected_mr" "$tmp/out"

# A bad SIGSTRUCT fails pal_init with the EINIT class.
mkdir -p "$tmp/bad"
cp "$SKEL/encl.elf" "$SKEL/encl.ss" "$tmp/bad/"
printf '\x01' | dd of="$tmp/bad/encl.ss" bs=1 seek=600 conv=notrunc status=none
run "$tmp/bad" "$BUILD/lib/liberpal-skeleton-v2.so" skeleton hello
check "tampered SIGSTRUCT: pal_init fails with SGX_INVALID_SIGNATURE" \
	bash -c "[ $rc = 125 ] && grep -q 'EINIT: SGX_INVALID_SIGNATURE' '$tmp/err'"
cp "$SKEL/encl.ss" "$tmp/bad/"
printf '\x90' | dd of="$tmp/bad/encl.elf" bs=1 seek=$((0x5000 + 64)) conv=notrunc status=none
run "$tmp/bad" "$BUILD/lib/liberpal-skeleton-v3.so" skeleton hello
check "SIGSTRUCT of another image: SGX_INVALID_MEASUREMENT" \
	bash -c "[ $rc = 125 ] && grep -q 'EINIT: SGX_INVALID_MEASUREMENT' '$tmp/err'"

check "only pal_* symbols exported" bash -c \
	"! nm -D --defined-only '$BUILD/lib/liberpal-skeleton-v3.so' | awk '{print \$3}' | grep -v '^pal_'"
check "v1 exports no pal_kill" bash -c \
	"! nm -D --defined-only '$BUILD/lib/liberpal-skeleton-v1.so' | grep -q pal_kill"

# No usable emulator secret at load time: pal_init says so, and does not
# look for one inside the (container's) cwd later.
(cd "$SKEL" && SGX_EMU_SECRET=/proc/nonexistent/secret SGX_LOADER_BACKEND=emulator \
	"$HOST" "$BUILD/lib/liberpal-skeleton-v3.so" skeleton) >"$tmp/out" 2>"$tmp/err"
rc=$?
check "emulator secret unavailable at load: pal_init fails clearly" \
	bash -c "[ $rc = 125 ] && grep -q \"emulator's secret was not available\" '$tmp/err'"
check "the emulator secret is created 0600" [ "$(stat -c %a "$SGX_EMU_SECRET")" = 600 ]

# Several processes in one enclave at once (what `rune exec` does), one TCS each.
for v in 2 3; do
	pal=$BUILD/lib/liberpal-skeleton-v$v.so
	start=$SECONDS
	run "$SKEL" --concurrent 3 "$pal" skeleton sleep 1
	check "v$v: 3 concurrent sleeps take about a second" [ $rc = 0 -a $((SECONDS - start)) -lt 3 ]
	run "$SKEL" --concurrent 4 "$pal" skeleton hello
	check "v$v: 4 concurrent hellos" [ $rc = 0 -a "$(grep -c 'Hello from the skeleton' "$tmp/out")" = 4 ]
	run "$SKEL" --concurrent 5 "$pal" skeleton sleep 1
	check "v$v: a 5th concurrent process is refused (4 TCS)" \
		bash -c "[ $rc = 125 ] && grep -q 'busy' '$tmp/err'"
done
