#!/bin/bash
# Runs every test and ends with "N passed, N failed, N skipped".
#  - unit tests: executables in $BUILD/tests/ (exit 0 pass, 77 skip)
#  - integration tests: tests/**/test-*.sh; they print TAP-like lines
#    "ok - NAME", "not ok - NAME", "skip - NAME" and each is counted;
#    a script that dies without reporting a failure counts as one failure.
# Each test runs under a timeout (a "# timeout: N" line in a script sets it);
# on SIGTERM a script gets 60 s more to clean up before SIGKILL.
# TESTS=pattern limits the run to tests whose path matches.
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-$PWD/build}
export SRCDIR=$PWD
export PATH=$BUILD/bin:$PATH
pass=0 fail=0 skip=0
failed_names=()
logdir=$(mktemp -d /tmp/rune-tests.XXXXXX)
# The host-wide EPC registry (docs/epc.md) of the enclaves the tests make:
# ours, not the host's /run/rune-epc (daemons the tests start inherit it).
# A client daemon that does not pass it on makes the default one: an empty
# one that was not there before goes again.
export SGX_EPC_DIR=${SGX_EPC_DIR:-$logdir/epc}
epc_default_existed=0
[ -e /run/rune-epc ] && epc_default_existed=1
cleanup_run() {
	rm -rf "$logdir"
	[ "$epc_default_existed" = 1 ] || rmdir /run/rune-epc 2>/dev/null || true
}
trap cleanup_run EXIT

run_one() { # name timeout cmd...
	local name=$1 t=$2
	shift 2
	local log=$logdir/$(echo "$name" | tr '/' '_').log
	local start=$SECONDS
	timeout -k 60 "$t" "$@" >"$log" 2>&1 </dev/null
	local rc=$?
	local ok nok sk
	ok=$(grep -c '^ok - ' "$log")
	nok=$(grep -c '^not ok - ' "$log")
	sk=$(grep -c '^skip - ' "$log")
	if [ $((ok + nok + sk)) -eq 0 ]; then
		case $rc in
		0) ok=1 ;;
		77) sk=1 ;;
		*) nok=1 ;;
		esac
	elif [ $rc -ne 0 ] && [ $nok -eq 0 ]; then
		nok=1
	fi
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "not ok - $name: timed out after ${t}s" >>"$log"
	pass=$((pass + ok)) fail=$((fail + nok)) skip=$((skip + sk))
	if [ $nok -gt 0 ]; then
		echo "FAIL $name (rc=$rc, $((SECONDS - start))s)"
		# Each failure with the diagnostics before it, then the end of the log.
		grep -B12 '^not ok - ' "$log" | head -150 | sed 's/^/    /'
		echo "    [end of the log]"
		tail -15 "$log" | sed 's/^/    /'
		failed_names+=("$name")
	else
		echo "PASS $name ($ok ok, $sk skipped, $((SECONDS - start))s)"
		grep '^skip - ' "$log" | sed 's/^/    /'
	fi
}

for t in $(find "$BUILD/tests" -maxdepth 1 -type f -perm -u+x 2>/dev/null | sort); do
	[ -n "${TESTS:-}" ] && [[ $t != *${TESTS}* ]] && continue
	if [ -n "${RUNE_VALGRIND:-}" ]; then
		run_one "unit/$(basename "$t")" 600 valgrind -q --leak-check=full \
			--errors-for-leak-kinds=definite --error-exitcode=99 "$t"
	else
		run_one "unit/$(basename "$t")" 120 "$t"
	fi
done
for t in $(find tests -name 'test-*.sh' -type f | sort); do
	[ -n "${TESTS:-}" ] && [[ $t != *${TESTS}* ]] && continue
	to=$(sed -n 's/^# timeout: \([0-9]*\).*/\1/p' "$t" | head -1)
	run_one "$t" "${to:-300}" bash "$t"
done

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
