#!/bin/bash
# timeout: 180
# make demo's script (scripts/demo.sh) on the build tree: it exits 0, shows
# what was measured and signed, runs busybox's own sha256sum inside a LibOS
# enclave with the native run's output, and leaves nothing behind.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
n=0
check() {
	if eval "$2"; then echo "ok - $1"; else
		echo "not ok - $1"
		n=$((n + 1))
	fi
}
before=$(ls -d /tmp/rune-demo.* 2>/dev/null | wc -l)
out=$(BUILD=$BUILD timeout -k 5 150 bash "$top/scripts/demo.sh" </dev/null 2>&1)
rc=$?
check "make demo's script exits 0" '[ $rc = 0 ]'
check "it shows the skeleton's MRENCLAVE checked against a report" \
	'grep -q "the enclave that ran is the one measured and signed: yes" <<<"$out"'
check "it prints the LibOS image's MRENCLAVE and MRSIGNER" \
	'grep -q "^MRENCLAVE: [0-9a-f]\{64\}$" <<<"$out" && grep -q "^MRSIGNER: [0-9a-f]\{64\}$" <<<"$out"'
check "busybox sha256sum ran inside the enclave with the native output" \
	'grep -q "the same output: the program ran unmodified inside the enclave" <<<"$out"'
check "nothing left in /tmp" '[ "$(ls -d /tmp/rune-demo.* 2>/dev/null | wc -l)" = "$before" ]'
[ $n = 0 ] || echo "$out" | tail -30 | sed 's/^/# /'
exit $((n > 0))
