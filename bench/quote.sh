#!/bin/bash
# make bench-quote: quote generation on the emulator and quote verification,
# with and without collateral, per operation, against the ECDSA floor (bench/quote.c, docs/benchmarks.md).
#   BUILD   build tree (default ./build; make all first)
#   N       operations of each kind (default 200)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$top/build}
work=$(mktemp -d /tmp/rune-bench-quote.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -I"$top/include" -o "$work/quote" \
	"$here/quote.c" "$BUILD/lib/libratls.a" "$BUILD/lib/libsgx.a" "$BUILD"/obj/src/common/*.o \
	-lssl -ljansson -lcbor -lcrypto -lpthread -ldl
# The emulator's secret and quoting keys: a scratch pair, not the host's;
# collateral signed under its root by the tests' helper.
export SGX_EMU_SECRET=$work/sgx-emu-secret
mkdir "$work/collateral"
"$BUILD/tests-bin/ratls-helper" collateral "$work/collateral"
"$work/quote" "${N:-200}" "$work/collateral"
