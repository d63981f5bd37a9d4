#!/bin/bash
# Runs each libFuzzer target in $BUILD/fuzz for FUZZ_SECONDS on a seed
# corpus built from ../shared/vectors/sgx (if present) and a tiny ELF.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$PWD/build}
SECONDS_EACH=${FUZZ_SECONDS:-60}
V=$PWD/../shared/vectors/sgx

tiny_elf() { # dir: a small static ELF with a TCS section first
	command -v gcc >/dev/null || return 0
	local t
	t=$(mktemp -d)
	printf '.section .tcs,"aw"\n.fill 4096,1,0\n.text\n.globl e\ne: ret\n.data\n.quad 1\n' >"$t/e.S"
	gcc -c "$t/e.S" -o "$t/e.o" && ld -static -nostdlib -e e "$t/e.o" -o "$t/e.elf" &&
		cp "$t/e.elf" "$1/tiny.elf"
	rm -rf "$t"
}

seed() { # target dir
	local dir=$2
	mkdir -p "$dir"
	case $1 in
	fuzz-sigstruct)
		[ -r "$V/encl.ss" ] && cp "$V/encl.ss" "$dir/encl.ss"
		printf '\x01' >"$dir/catsig" && head -c 256 /dev/zero >>"$dir/catsig"
		;;
	fuzz-image)
		# Flat: "tcs,rwx*5\0" + image (even first byte selects flat).
		[ -r "$V/encl.bin" ] && { printf '\x00tcs,rwx*5\x00' && cat "$V/encl.bin"; } >"$dir/flat"
		printf '\x00tcs,rw\x00' >"$dir/flat-small" && head -c 5000 /dev/zero >>"$dir/flat-small"
		tiny_elf "$dir"
		;;
	fuzz-quote)
		# The smallest well-formed quote of each version (3; 4 and 5 with the
		# type-6 wrapper; 5 with its body descriptor), and each with a PEM chain's frame.
		python3 - "$dir" <<-'EOF'
			import struct, sys
			def quote(version, auth, cert):
			    qe = bytes(448) + struct.pack("<H", len(auth)) + auth + struct.pack("<HI", 5, len(cert)) + cert
			    sig = bytes(128) + (qe if version == 3 else struct.pack("<HI", 6, len(qe)) + qe)
			    head = struct.pack("<HHIHH", version, 2, 0, 8 if version == 3 else 0, 13 if version == 3 else 0) + bytes(36)
			    if version == 5:
			        head += struct.pack("<HI", 1, 384)
			    return head + bytes(384) + struct.pack("<I", len(sig)) + sig
			pem = b"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"
			for v in (3, 4, 5):
			    open(sys.argv[1] + "/empty-v%d" % v, "wb").write(quote(v, b"", b""))
			    open(sys.argv[1] + "/chain-v%d" % v, "wb").write(quote(v, bytes(range(32)), pem * 3))
		EOF
		;;
	fuzz-ratls-cert)
		# RA-TLS certificates in both forms, DER, from the tests' helper (scratch emulator keys).
		if [ -x "$BUILD/tests-bin/ratls-helper" ]; then
			local t
			t=$(mktemp -d)
			for form in dice legacy; do
				SGX_EMU_SECRET=$t/sgx-emu-secret "$BUILD/tests-bin/ratls-helper" cert --form $form \
					--key "$t/k.pem" --cert "$t/c.pem" >/dev/null 2>&1 &&
					openssl x509 -in "$t/c.pem" -outform DER -out "$dir/$form.der"
			done
			rm -rf "$t"
		fi
		;;
	fuzz-collateral)
		# PCS-shaped documents, signed bodies first.
		printf '{"tcbInfo":{"id":"SGX","version":3,"tcbLevels":[{"tcb":{"pcesvn":1}}]},"enclaveIdentity":{"id":"QE"},"signature":"%0128d"}' 0 >"$dir/tcb"
		printf '{ "enclaveIdentity" : {"id":"QE","a":["}",{"b":"\\""}]} , "signature":"%0128d"}' 0 >"$dir/qe"
		;;
	fuzz-config)
		python3 tests/integration/ocicfg.py gen "$dir/spec.json" '["sh", "-c", "true"]'
		printf '{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["a"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":18446744073709551615,"hard":1}]},"linux":{"sysctl":{"net.ipv4.ip_forward":"1"},"namespaces":[{"type":"network"}]}}' >"$dir/rlimit.json"
		;;
	fuzz-elf-layout)
		# Described layouts (see fuzz/fuzz-elf-layout.c): 3 segments, 2 TCS, a heap.
		python3 - "$dir/layout" <<-'EOF'
			import struct, sys
			d = struct.pack("<HBHBBQIQB", 2, 1, 2, 1, 0, 0x3000, 1, 0x1000, 2)
			for vaddr, memsz, filesz, flags in ((0, 0x1000, 4096, 6), (0x1000, 0x1000, 16, 5), (0x2000, 0x2000, 0, 3)):
			    d += struct.pack("<QQHB", vaddr, memsz, filesz, flags)
			open(sys.argv[1], "wb").write(d)
		EOF
		tiny_elf "$dir"
		;;
	esac
}

# Arguments: target names to run (default: every built target).
rc=0
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("$BUILD"/fuzz/fuzz-*)
for bin in "${targets[@]}"; do
	[[ $bin == */* ]] || bin=$BUILD/fuzz/$bin
	[[ $bin != *-crash-* && $bin != *-leak-* && $bin != *-timeout-* && $bin != *-oom-* ]] || continue
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus=$BUILD/fuzz/corpus-$name
	seed "$name" "$corpus"
	echo "== $name for ${SECONDS_EACH}s (corpus $corpus)"
	"$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$BUILD/fuzz/$name-" "$corpus" 2>&1 | tail -3 || rc=1
done
exit $rc
