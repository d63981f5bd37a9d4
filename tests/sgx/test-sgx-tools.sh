#!/bin/bash
# sgx-tools end to end: known answers from $SGX_VECTORS (CI: ../shared/vectors/sgx), local and
# remote-signer (openssl) signing, dump, verify, and bad inputs.
# timeout: 120
set -uo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
T=$BUILD/bin/sgx-tools
V=${SGX_VECTORS:-$SRCDIR/../shared/vectors/sgx}
MRENCLAVE=b999536238fcf4e9d360ef6cd3e0c20ef8a684c7b93f74a9c4a4c6d517d61fc0
MRSIGNER=2f9f8fd4fe12d77232f1d87571ca8252ca27714efe7705e46222cffd5a22e8c4

if [ ! -x "$T" ]; then
	echo "not ok - sgx-tools binary missing at $T"
	exit 1
fi
work=$(mktemp -d /tmp/sgx-tools-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
FLAT=(--image encl.bin --pages 'tcs,rwx*5')
VFIELDS=(--date 0 --vendor 0 --attributes 0x4 --xfrm 0x3 --attributes-mask 0 --xfrm-mask 0 --miscmask 0)
if [ -r "$V/encl.ss" ]; then
	# The vectors directory is read-only: work on copies.
	cp "$V/encl.bin" "$V/encl.ss" "$V/encl.pem" .
	chmod u+w encl.*
else
	# Without the vectors: a random image and key, signed by us; only the
	# known answers are skipped, everything else still runs.
	echo "skip - known answers: vectors not found at $V"
	head -c 24576 /dev/urandom >encl.bin
	openssl genrsa -3 -out encl.pem 3072 2>/dev/null
	"$T" sign --key encl.pem "${FLAT[@]}" "${VFIELDS[@]}" --out encl.ss
	MRENCLAVE=$("$T" measure "${FLAT[@]}")
	MRSIGNER=$("$T" verify --sigstruct encl.ss | sed -n 's/^mrsigner: //p')
fi

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; }
check() { # name cmd...: passes if cmd succeeds
	local name=$1
	shift
	if "$@" >out.log 2>err.log; then ok "$name"; else nok "$name: $(tail -1 err.log)"; fi
}
refuse() { # name cmd...: passes if cmd fails with exactly one line on stderr naming a reason
	local name=$1
	shift
	if "$@" >out.log 2>err.log; then
		nok "$name: accepted"
	elif [ "$(grep -vc '^Try ' err.log)" -ne 1 ]; then
		nok "$name: expected one error line, got: $(cat err.log)"
	else
		ok "$name ($(head -1 err.log))"
	fi
}

# measure
m=$("$T" measure "${FLAT[@]}" --size 32768 --ssa-frame-size 1)
[ "$m" = "$MRENCLAVE" ] && ok "measure encl.bin" || nok "measure encl.bin: $m"
m=$("$T" measure --image encl.bin --pages tcs,rwx,rwx,rwx*3)
[ "$m" = "$MRENCLAVE" ] && ok "measure default size, split spec" || nok "measure default size: $m"
m=$("$T" measure "${FLAT[@]}" --size 65536)
[ "$m" != "$MRENCLAVE" ] && ok "measure: size is measured" || nok "measure: size ignored"

# sign reproduces encl.ss byte for byte
check "sign encl.bin with encl.pem" "$T" sign --key encl.pem "${FLAT[@]}" "${VFIELDS[@]}" --out re.ss
wrote() { # name expected-line: what the last command said on stderr, and nothing on stdout
	if [ "$(cat err.log)" = "$2" ] && [ ! -s out.log ]; then ok "$1"; else
		nok "$1: stdout '$(cat out.log)', stderr '$(cat err.log)'"; fi
}
wrote "sign says what it wrote" "wrote SIGSTRUCT re.ss (MRENCLAVE $MRENCLAVE, MRSIGNER $MRSIGNER)"
cmp -s re.ss encl.ss && ok "re-signed SIGSTRUCT equals encl.ss" || nok "re-signed SIGSTRUCT differs"

# verify
check "verify encl.ss" "$T" verify --sigstruct encl.ss
check "verify encl.ss against encl.bin" "$T" verify --sigstruct encl.ss "${FLAT[@]}"
grep -q "^mrsigner: $MRSIGNER$" out.log && ok "verify prints mrsigner" || nok "verify mrsigner"
refuse "verify against another image" "$T" verify --sigstruct encl.ss --image encl.bin --pages 'tcs,rwx*4,rw'

# dump, text and JSON
"$T" dump encl.ss >dump.txt 2>err.log
grep -q "^mrenclave: $MRENCLAVE$" dump.txt && grep -q "^mrsigner: $MRSIGNER$" dump.txt &&
	grep -q '^attributes: 0x0000000000000004$' dump.txt && grep -q '^exponent: 3$' dump.txt &&
	ok "dump" || nok "dump: $(cat dump.txt err.log | head -5)"
if "$T" dump --json encl.ss >dump.json && python3 - dump.json "$MRENCLAVE" "$MRSIGNER" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mrenclave"] == sys.argv[2] and d["mrsigner"] == sys.argv[3]
assert d["xfrm"] == "0x0000000000000003" and d["isvsvn"] == 0 and d["signature_valid"] == "yes"
PY
	ok "dump --json"
else
	nok "dump --json"
fi

# EINIT dry run against SECS values
check "verify: masks 0 accept any SECS attributes" "$T" verify --sigstruct encl.ss \
	--secs-attributes 0x6 --secs-xfrm 0x7 --secs-miscselect 1
refuse "verify: EINITTOKENKEY refused" "$T" verify --sigstruct encl.ss --secs-attributes 0x24
grep -q SGX_INVALID_EINITTOKEN err.log && ok "verify names SGX_INVALID_EINITTOKEN" ||
	nok "verify class: $(cat err.log)"

# gen-key + sign with defaults
check "gen-key" "$T" gen-key --out key.pem
KEYSIGNER=$(sed -n 's/^wrote key key\.pem (RSA-3072, e=3, PKCS#8 PEM, mode 0600, MRSIGNER \([0-9a-f]\{64\}\))$/\1/p' err.log)
[ -n "$KEYSIGNER" ] && [ ! -s out.log ] && ok "gen-key says what it wrote" ||
	nok "gen-key: stdout '$(cat out.log)', stderr '$(cat err.log)'"
[ "$(stat -c %a key.pem)" = 600 ] && ok "gen-key mode 0600" || nok "gen-key mode"
openssl rsa -in key.pem -noout -text 2>/dev/null | grep -q 'publicExponent: 3 ' &&
	ok "gen-key: RSA e=3" || nok "gen-key: exponent"
refuse "gen-key refuses to overwrite" "$T" gen-key --out key.pem
check "sign with defaults" "$T" sign --key key.pem "${FLAT[@]}" --out def.ss
grep -q "^wrote SIGSTRUCT def.ss (MRENCLAVE $MRENCLAVE, MRSIGNER ${KEYSIGNER:-none})$" err.log &&
	ok "the key's MRSIGNER gen-key printed is its SIGSTRUCTs'" || nok "MRSIGNER: $(cat err.log)"
check "verify default-signed" "$T" verify --sigstruct def.ss "${FLAT[@]}"
check "verify default-signed: AVX is outside the xfrm mask" "$T" verify --sigstruct def.ss \
	--secs-xfrm 0x7
refuse "verify default-signed: DEBUG refused" "$T" verify --sigstruct def.ss --secs-attributes 0x6
grep -q SGX_INVALID_ATTRIBUTE err.log && ok "verify names SGX_INVALID_ATTRIBUTE" ||
	nok "verify class: $(cat err.log)"
refuse "verify default-signed: miscselect refused" "$T" verify --sigstruct def.ss \
	--secs-miscselect 1
"$T" dump def.ss >def.txt
today=$(date -u +%Y%m%d)
grep -q "^date: 0x$today$" def.txt && grep -q '^attributes_mask: 0xffffffffffffffff$' def.txt &&
	grep -q '^xfrm_mask: 0x0000000000000003$' def.txt && ok "sign defaults" ||
	nok "sign defaults: $(grep -E '^(date|attributes_mask|xfrm_mask):' def.txt | tr '\n' ' ')"
SOURCE_DATE_EPOCH=0 "$T" sign --key key.pem "${FLAT[@]}" --isvprodid 7 --isvsvn 0x10 \
	--vendor intel --out epoch.ss 2>/dev/null && "$T" dump epoch.ss >epoch.txt &&
	grep -q '^date: 0x19700101$' epoch.txt && grep -q '^isvsvn: 16$' epoch.txt &&
	grep -q '^vendor: 0x00008086$' epoch.txt && ok "sign fields and SOURCE_DATE_EPOCH" ||
	nok "sign fields"

# remote signer: gendata -> openssl dgst -sha256 -sign -> catsig -> verify
check "gendata" "$T" gendata "${FLAT[@]}" "${VFIELDS[@]}" --out material.bin
wrote "gendata says what it wrote" "wrote signing material material.bin (256 bytes, MRENCLAVE $MRENCLAVE)"
[ "$(stat -c %s material.bin)" = 256 ] && ok "gendata writes 256 bytes" || nok "gendata size"
{ head -c 128 encl.ss; tail -c +901 encl.ss | head -c 128; } >expected.bin
cmp -s material.bin expected.bin && ok "gendata material = encl.ss signed ranges" || nok "gendata material"
openssl dgst -sha256 -sign encl.pem -out sig.bin material.bin
openssl rsa -in encl.pem -pubout -out pub.pem 2>/dev/null
openssl rsa -in encl.pem -RSAPublicKey_out -out pub-pkcs1.pem 2>/dev/null
check "catsig (SPKI public key)" "$T" catsig --material material.bin --signature sig.bin \
	--public-key pub.pem --out remote.ss
wrote "catsig says what it wrote" "wrote SIGSTRUCT remote.ss (MRENCLAVE $MRENCLAVE, MRSIGNER $MRSIGNER)"
cmp -s remote.ss encl.ss && ok "remote-signed SIGSTRUCT equals encl.ss" || nok "remote-signed differs"
check "catsig (PKCS#1 public key)" "$T" catsig --material material.bin --signature sig.bin \
	--public-key pub-pkcs1.pem --out remote1.ss
cmp -s remote1.ss encl.ss && ok "PKCS#1 public key gives the same" || nok "PKCS#1 differs"
check "catsig (private key PEM as public key)" "$T" catsig --material material.bin \
	--signature sig.bin --public-key encl.pem --out remote2.ss
cmp -s remote2.ss encl.ss && ok "private key PEM gives the same" || nok "private key PEM differs"
check "verify remote-signed" "$T" verify --sigstruct remote.ss "${FLAT[@]}"
openssl rsa -in key.pem -pubout -out other.pem 2>/dev/null
refuse "catsig with the wrong public key" "$T" catsig --material material.bin --signature sig.bin \
	--public-key other.pem --out bad.ss
[ ! -e bad.ss ] && ok "catsig writes nothing on failure" || nok "catsig wrote bad.ss"
head -c 200 sig.bin >sig-short.bin
refuse "catsig with a truncated signature" "$T" catsig --material material.bin \
	--signature sig-short.bin --public-key pub.pem --out bad.ss
refuse "catsig with a non-key" "$T" catsig --material material.bin --signature sig.bin \
	--public-key material.bin --out bad.ss
openssl genrsa -3 -out k2048.pem 2048 2>/dev/null
refuse "sign with a 2048-bit key" "$T" sign --key k2048.pem "${FLAT[@]}" --out bad.ss
openssl genrsa -out k65537.pem 3072 2>/dev/null
refuse "sign with e=65537" "$T" sign --key k65537.pem "${FLAT[@]}" --out bad.ss

openssl pkey -in key.pem -aes256 -passout pass:secret -out enc.pem 2>/dev/null
refuse "sign with an encrypted key (no prompt)" "$T" sign --key enc.pem "${FLAT[@]}" --out bad.ss

# bad inputs
head -c 1807 encl.ss >short.ss
refuse "verify truncated SIGSTRUCT" "$T" verify --sigstruct short.ss
refuse "dump truncated SIGSTRUCT" "$T" dump short.ss
cat encl.ss encl.ss >long.ss
refuse "verify oversized SIGSTRUCT" "$T" verify --sigstruct long.ss
refuse "verify missing file" "$T" verify --sigstruct does-not-exist.ss
refuse "measure missing image" "$T" measure --image does-not-exist --pages tcs
refuse "sign missing key" "$T" sign --key nokey.pem "${FLAT[@]}" --out x.ss
cp encl.ss flipped.ss
printf '\x01' | dd of=flipped.ss bs=1 seek=960 conv=notrunc status=none
refuse "verify tampered enclave hash" "$T" verify --sigstruct flipped.ss
cp encl.ss flipped.ss
printf '\x00' | dd of=flipped.ss bs=1 seek=1500 conv=notrunc status=none
refuse "verify tampered q2" "$T" verify --sigstruct flipped.ss
refuse "measure: spec too short" "$T" measure --image encl.bin --pages 'tcs,rwx*4'
refuse "measure: bad page type" "$T" measure --image encl.bin --pages 'tcs,wx*5'
refuse "measure: bad count" "$T" measure --image encl.bin --pages 'tcs,rwx*'
refuse "measure: size too small" "$T" measure "${FLAT[@]}" --size 16384
refuse "measure: size not a power of two" "$T" measure "${FLAT[@]}" --size 40000
refuse "measure: ELF that is not" "$T" measure --elf encl.bin
refuse "sign: bad date" "$T" sign --key encl.pem "${FLAT[@]}" --date 20261332 --out x.ss
refuse "sign: bad vendor" "$T" sign --key encl.pem "${FLAT[@]}" --vendor 7 --out x.ss
refuse "sign: isvsvn out of range" "$T" sign --key encl.pem "${FLAT[@]}" --isvsvn 70000 --out x.ss
refuse "unknown option" "$T" sign --bogus
refuse "unknown command" "$T" frobnicate
"$T" sign --help >/dev/null && ok "sign --help" || nok "sign --help"

# --version and 'version': the build's version and commit, as rune prints them.
version=$(cat "$SRCDIR/VERSION" 2>/dev/null || echo 0.1.0)
for args in --version version; do
	if "$T" $args >out.log 2>err.log && [ "$(sed -n 1p out.log)" = "sgx-tools version $version" ] &&
		grep -qE '^commit: ([0-9a-f]{7,}|unknown)$' out.log && [ "$(wc -l <out.log)" = 2 ]; then
		ok "sgx-tools $args"
	else
		nok "sgx-tools $args: $(cat out.log err.log)"
	fi
done
refuse "version takes no argument" "$T" version x
grep -q "^sgx-tools version: unexpected argument 'x'$" err.log && ok "version: the argument is named" ||
	nok "version x: $(cat err.log)"

# Every command's --help lists each long option the command takes, and
# takes each one its help names. What a command takes is asked of the
# binary: every option name in the sources is tried on every command, and
# only one the command does not take is refused as an unknown option.
# The man page names them all too.
names=$(grep -ohE '"[a-z][a-z-]*", (required|no)_argument' "$SRCDIR"/src/sgx-tools/*.[ch] |
	cut -d'"' -f2 | sort -u | grep -vx help)
cmds=$("$T" --help | sed -nE 's/^  ([a-z-]+) .*/\1/p')
MAN=$SRCDIR/docs/man/sgx-tools.8
# The commands the man page describes: lines that start with \fBCOMMAND (roff: \- for -).
mancmds=$(sed -n 's/^\\fB\([a-z]\+\(\\-[a-z]\+\)*\).*/\1/p' "$MAN" 2>/dev/null)
[ -n "$names" ] && [ "$(echo "$cmds" | wc -l)" -ge 8 ] && ok "option names and commands found" ||
	nok "option names '$names', commands '$cmds'"
takes() { # cmd name: does cmd take --name? (a value that can't be written or read)
	"$T" "$1" "--$2" "$work/no/such/dir" >/dev/null 2>opt.log
	! grep -q "unknown option '--$2'" opt.log
}
for cmd in $cmds; do
	if ! "$T" "$cmd" --help >help.txt 2>err.log || [ ! -s help.txt ]; then
		nok "$cmd --help: $(cat err.log)"
		continue
	fi
	missing="" unknown="" noman=""
	for name in $names; do
		takes "$cmd" "$name" || continue
		grep -qE -- "--$name([^a-z-]|\$)" help.txt || missing="$missing --$name"
		grep -qF -- "\-\-${name//-/\\-}" "$MAN" 2>/dev/null || noman="$noman --$name"
	done
	# Not "--secs-*" (a family), nor "sgx-tools [COMMAND] --X" (another command's).
	for word in $(grep -oE -- "(sgx-tools ([a-z-]+ )?)?--[a-z]([a-z0-9-]*[a-z0-9])?(-\\*)?" help.txt |
		sed "s/^sgx-tools $cmd //" | grep -v -e '\*$' -e '^sgx-tools' | sort -u); do
		takes "$cmd" "${word#--}" || unknown="$unknown $word"
	done
	[ -z "$missing$unknown" ] && ok "$cmd --help lists exactly the options $cmd takes" ||
		nok "$cmd --help: options not listed:${missing:- none}; listed, not taken:${unknown:- none}"
	[ -z "$noman" ] && echo "$mancmds" | grep -qxF -- "${cmd//-/\\-}" &&
		ok "sgx-tools(8) describes $cmd and its options" ||
		nok "sgx-tools(8) lacks $cmd or its options:$noman"
done

# A tool over libsgx reaches it through include/sgx only (issue 12).
if grep -rn '#include "libsgx/' "$SRCDIR"/src/sgx-tools "$SRCDIR"/src/skeleton >inc.log; then
	nok "libsgx internals included: $(tr '\n' ' ' <inc.log)"
else
	ok "sgx-tools and the skeleton PAL include only libsgx's public headers"
fi

# An ELF enclave laid out like the kernel selftest's, if a compiler is around.
if command -v gcc >/dev/null && command -v ld >/dev/null; then
	cat >encl.lds <<'LDS'
OUTPUT_FORMAT(elf64-x86-64)
PHDRS { tcs PT_LOAD; text PT_LOAD; data PT_LOAD; }
SECTIONS {
	. = 0;
	.tcs : { *(.tcs*) } : tcs
	. = ALIGN(4096);
	.text : { *(.text*) } : text
	. = ALIGN(4096);
	.data : { *(.data*) *(.bss*) } : data
	/DISCARD/ : { *(.note*) *(.comment*) *(.eh_frame*) }
}
LDS
	cat >encl.S <<'ASM'
	.section ".tcs", "aw"
	.balign 4096
	.fill 1, 8, 0		# state
	.fill 1, 8, 0		# flags
	.quad ssa		# ossa
	.fill 1, 4, 0		# cssa
	.fill 1, 4, 1		# nssa
	.quad entry		# oentry
	.fill 1, 8, 0		# aep
	.fill 1, 8, 0		# ofsbase
	.fill 1, 8, 0		# ogsbase
	.fill 1, 4, 0xffffffff
	.fill 1, 4, 0xffffffff
	.fill 4024, 1, 0
	.text
	.global entry
entry:
	mov $4, %rax		# EEXIT to RBX
	.byte 0x0f, 0x01, 0xd7
	.data
	.balign 4096
ssa:
	.fill 4096, 1, 0
ASM
	if gcc -c encl.S -o encl.o 2>err.log &&
		ld -T encl.lds -static -nostdlib -e entry -z noexecstack encl.o -o encl.elf 2>>err.log; then
		m1=$("$T" measure --elf encl.elf)
		m2=$("$T" measure --elf encl.elf --heap 64K --stack 16K --tcs 2)
		[ ${#m1} = 64 ] && [ ${#m2} = 64 ] && [ "$m1" != "$m2" ] && ok "measure --elf (layout options are measured)" ||
			nok "measure --elf: '$m1' '$m2'"
		check "sign --elf" "$T" sign --key key.pem --elf encl.elf --heap 64K --stack 16K --tcs 2 --out elf.ss
		check "verify --elf" "$T" verify --sigstruct elf.ss --elf encl.elf --heap 64K --stack 16K --tcs 2
		refuse "verify --elf with another layout" "$T" verify --sigstruct elf.ss --elf encl.elf
		refuse "--pages with --elf" "$T" measure --elf encl.elf --pages tcs
		refuse "--heap with --image" "$T" measure "${FLAT[@]}" --heap 4096
		head -c 100 encl.elf >trunc.elf
		refuse "measure truncated ELF" "$T" measure --elf trunc.elf
		refuse "measure --elf: a heap past the 8 GiB max_enclave_size" timeout 20 "$T" measure \
			--elf encl.elf --heap 9G
		grep -q max_enclave_size err.log && ok "the error names max_enclave_size" ||
			nok "no max_enclave_size in: $(cat err.log)"
	else
		echo "skip - ELF enclave: could not build ($(tail -1 err.log))"
	fi
else
	echo "skip - ELF enclave: no gcc/ld"
fi

# Files that are not regular files are refused before they are opened: a
# FIFO used to block open for ever, a symlink to /dev/zero opened the device.
mkfifo fifo.ss fifo.elf
ln -s /dev/zero zero.ss
refuse "verify: SIGSTRUCT that is a FIFO" timeout 10 "$T" verify --sigstruct fifo.ss
grep -q "not a regular file" err.log && ok "FIFO: not a regular file" || nok "FIFO: $(cat err.log)"
refuse "verify: SIGSTRUCT symlinked to /dev/zero" timeout 10 "$T" verify --sigstruct zero.ss
refuse "measure: ELF that is a FIFO" timeout 10 "$T" measure --elf fifo.elf
refuse "sign: key that is a FIFO" timeout 10 "$T" sign --key fifo.ss "${FLAT[@]}" --out x.ss
