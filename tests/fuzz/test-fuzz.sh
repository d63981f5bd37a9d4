#!/bin/bash
# timeout: 900
# Builds the libFuzzer targets (make fuzz-build: fuzz/fuzz-*.c with clang,
# ASan and UBSan) and runs each for FUZZ_SECONDS (default 20) on its seed
# corpus through fuzz/run.sh: one "ok" line per target that found nothing.
# Skips cleanly when clang or libFuzzer is missing. A crash leaves its input
# in $BUILD/fuzz/NAME-crash-* (reproduce: $BUILD/fuzz/NAME FILE).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build}
SECS=${FUZZ_SECONDS:-20}
CLANG=${FUZZ_CC:-clang}

if ! command -v "$CLANG" >/dev/null; then
	echo "skip - fuzz targets: $CLANG is not installed"
	exit 0
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' >"$probe/p.c"
if ! "$CLANG" -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
	echo "skip - fuzz targets: $CLANG has no libFuzzer"
	exit 0
fi
if ! make -s BUILD="$BUILD" FUZZ_CC="$CLANG" fuzz-build >"$probe/build.log" 2>&1; then
	sed 's/^/# /' "$probe/build.log" | tail -20
	echo "not ok - build the fuzz targets"
	exit 1
fi
for src in fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	before=$(ls "$BUILD/fuzz/$name"-{crash,leak,timeout,oom}-* 2>/dev/null | wc -l)
	if FUZZ_SECONDS=$SECS BUILD="$BUILD" fuzz/run.sh "$name" >"$probe/$name.log" 2>&1; then
		echo "ok - $name: ${SECS}s without a finding ($(grep -o 'Done [0-9]* runs' "$probe/$name.log" | tail -1))"
	else
		sed 's/^/# /' "$probe/$name.log" | tail -20
		ls "$BUILD/fuzz/$name"-{crash,leak,timeout,oom}-* 2>/dev/null | tail -n +$((before + 1)) | sed 's/^/# new finding: /'
		echo "not ok - $name: a finding in ${SECS}s"
	fi
done
