#!/bin/bash
# make demo: runs rune on a built-in default.
#
# 1. An ordinary container: a busybox-static bundle (scripts/mkbundle.sh)
#    run with `rune --root TMP run ID`, showing its output, hostname, the
#    container as `rune state`/`list` see it, and ps from inside.
# 2. An enclave container, when the skeleton enclave runtime is built
#    ($BUILD/lib/liberpal-skeleton-v3.so and $BUILD/share/skeleton/encl.elf):
#    the same bundle with ENCLAVE_TYPE=intelSgx and the PAL, running
#    `skeleton hello` inside the enclave (the emulator on hosts without SGX).
#
# Environment: BUILD (make exports it), RUNE (default $BUILD/bin/rune; e.g.
# RUNE=runc to try the demo with another runtime).
# 3. What was measured and signed: MRENCLAVE (sgx-tools measure), the
#    SIGSTRUCT's check and signer (sgx-tools verify), then a local report
#    from inside the running enclave (rune attest) carrying the same
#    MRENCLAVE and MRSIGNER.
# 4. The container's own program inside an enclave, with the LibOS: the
#    busybox bundle's unmodified /usr/bin/sha256sum over a data file, the rootfs
#    turned into a signed TEE image by rune-image (MRENCLAVE and MRSIGNER
#    printed, the manifest's trusted files), run with rune and checked
#    against the same program run natively.
# Exit status: non-zero when any container fails, the report disagrees
# with what was signed, or the enclave's output differs from the native one.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$top/build}
RUNE=${RUNE:-$BUILD/bin/rune}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

if [ -t 1 ]; then
	bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	bold() { printf '\n== %s\n' "$*"; }
fi
show() {
	printf '$ %s\n' "$*"
	"$@"
}

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (containers need namespaces and cgroups)" >&2
	exit 1
fi
if ! command -v "$RUNE" >/dev/null 2>&1; then
	echo "demo: $RUNE not found: build it with make" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/rune-demo.XXXXXX)
root=$tmp/state
id=demo-$$
eid=demo-enclave-$$
started=""

cleanup() {
	local c
	for c in $started; do
		"$RUNE" --root "$root" delete --force "$c" >/dev/null 2>&1
	done
	for c in $started; do
		for d in /sys/fs/cgroup/*/"$c" /sys/fs/cgroup/"$c"; do
			[ -d "$d" ] || continue
			case $(stat -f -c %T "$d" 2>/dev/null) in
			cgroupfs | cgroup2fs) ;;
			*) continue ;;
			esac
			for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	grep -F " $tmp" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$root"
bold "$("$RUNE" --version 2>/dev/null | head -n 1 || echo "$RUNE")"
bundle=$tmp/bundle
bold "building a busybox-static bundle in $bundle"
"$top/scripts/mkbundle.sh" "$bundle" /bin/sh /demo.sh || exit 1
cat >"$bundle/rootfs/demo.sh" <<'EOF'
echo "hello from a rune container"
echo "hostname: $(hostname)"
echo "pid in the container: $$"
echo "id: $(id)"
echo "processes:"
ps
EOF
echo "rootfs: $(ls "$bundle/rootfs/bin" | wc -l) entries in /bin, config.json from runc spec's defaults"

bold "ordinary container: $RUNE --root $root run $id"
started="$id"
show "$RUNE" --root "$root" run --bundle "$bundle" "$id"
rc=$?
if [ $rc -ne 0 ]; then
	echo "demo: the ordinary container failed (exit $rc)" >&2
	exit 1
fi

# The same bundle, detached, so that state, list and ps have something to see.
bold "a detached container: state, list, ps"
$PY - "$bundle/config.json" <<'EOF' || exit 1
import json, sys
p = sys.argv[1]
spec = json.load(open(p))
spec["process"]["args"] = ["sleep", "30"]
json.dump(spec, open(p, "w"), indent="\t")
EOF
started="$id $id-bg"
printf '$ %s\n' "$RUNE --root $root run --detach --bundle $bundle $id-bg"
if "$RUNE" --root "$root" run --detach --bundle "$bundle" "$id-bg" </dev/null >/dev/null; then
	show "$RUNE" --root "$root" state "$id-bg"
	echo
	show "$RUNE" --root "$root" list
	show "$RUNE" --root "$root" ps "$id-bg"
	show "$RUNE" --root "$root" delete --force "$id-bg"
else
	echo "demo: detached run failed; skipping state/list/ps"
fi

bold "enclave container"
pal=$BUILD/lib/liberpal-skeleton-v3.so
encl=$BUILD/share/skeleton/encl.elf
missing=""
[ -f "$pal" ] || missing="$missing $pal"
[ -f "$encl" ] || missing="$missing $encl"
[ -f "${encl%.elf}.ss" ] || missing="$missing ${encl%.elf}.ss"
if [ -n "$missing" ]; then
	echo "skipped: the enclave runtime is not built (missing:$missing)"
	exit 0
fi
if [ "$(basename "$RUNE")" != rune ]; then
	echo "skipped: $RUNE is not rune (enclave containers are rune's)"
	exit 0
fi
mkdir -p "$bundle/rootfs/skeleton"
cp "$encl" "${encl%.elf}.ss" "$bundle/rootfs/skeleton/"
$PY - "$bundle/config.json" "$pal" <<'EOF' || exit 1
import json, sys
p = sys.argv[1]
spec = json.load(open(p))
spec["process"]["args"] = ["skeleton", "hello"]
spec["process"]["cwd"] = "/skeleton"
spec["process"]["env"] += ["ENCLAVE_TYPE=intelSgx",
                           "ENCLAVE_RUNTIME_PATH=" + sys.argv[2],
                           "ENCLAVE_RUNTIME_ARGS=/skeleton"]
json.dump(spec, open(p, "w"), indent="\t")
EOF
echo "process.env: ENCLAVE_TYPE=intelSgx ENCLAVE_RUNTIME_PATH=$pal ENCLAVE_RUNTIME_ARGS=/skeleton"
echo "process.args: [skeleton, hello], cwd /skeleton (encl.elf, encl.ss)"
if [ -e /dev/sgx_enclave ]; then
	echo "SGX device present: the hardware backend runs the enclave"
else
	echo "no /dev/sgx_enclave: the SGX emulator runs the enclave"
fi
tools=$BUILD/bin/sgx-tools
bold "what is measured and signed"
show "$tools" measure --elf "$encl" | tee "$tmp/mrenclave"
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
show "$tools" verify --sigstruct "${encl%.elf}.ss" --elf "$encl" | tee "$tmp/verify"
if [ "${PIPESTATUS[0]}" != 0 ]; then
	echo "demo: the skeleton's SIGSTRUCT does not verify" >&2
	exit 1
fi
started="$id $id-bg $eid $eid-bg"
bold "enclave container: $RUNE --root $root --pal-dir $BUILD/lib run $eid"
show "$RUNE" --root "$root" --pal-dir "$BUILD/lib" run --bundle "$bundle" "$eid"
erc=$?
if [ $erc -ne 0 ]; then
	echo "demo: the enclave container failed (exit $erc); see the error above" >&2
	exit 1
fi
bold "a local report from inside the running enclave: rune attest"
$PY - "$bundle/config.json" <<'EOF' || exit 1
import json, sys
p = sys.argv[1]
spec = json.load(open(p))
spec["process"]["args"] = ["skeleton", "sleep", "30"]
json.dump(spec, open(p, "w"), indent="\t")
EOF
if ! "$RUNE" --root "$root" --pal-dir "$BUILD/lib" run --detach --bundle "$bundle" "$eid-bg" \
	</dev/null >/dev/null; then
	echo "demo: the detached enclave container failed" >&2
	exit 1
fi
show "$RUNE" --root "$root" attest --report-data 64656d6f "$eid-bg" | tee "$tmp/report"
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
show "$RUNE" --root "$root" delete --force "$eid-bg"
$PY - "$tmp/mrenclave" "$tmp/verify" "$tmp/report" <<'EOF'
import json, sys
# Each file starts with the command line `show` printed.
measured = open(sys.argv[1]).read().splitlines()[1].split()[0]
signer = [l.split()[-1] for l in open(sys.argv[2]) if l.startswith("mrsigner")]
text = open(sys.argv[3]).read()
report = json.loads(text[text.index("{"):])
ok = report.get("mrenclave") == measured and (not signer or report.get("mrsigner") == signer[0])
print("\nthe enclave that ran is the one measured and signed: %s" % ("yes" if ok else "NO"))
print("  MRENCLAVE %s\n  MRSIGNER  %s\n  backend   %s" % (report.get("mrenclave"),
      report.get("mrsigner"), report.get("source", "?")))
sys.exit(0 if ok else 1)
EOF
[ $? = 0 ] || exit 1

bold "your own program inside an enclave: the LibOS"
image=$BUILD/bin/rune-image
lbundle=$tmp/libos-bundle
for f in "$image" "$BUILD/lib/liberpal-libos.so" "$BUILD/share/libos/libos.elf"; do
	if [ ! -e "$f" ]; then
		echo "skipped: the LibOS is not built (missing $f)"
		exit 0
	fi
done
"$top/scripts/mkbundle.sh" "$lbundle" /usr/bin/sha256sum /data/hello.txt >/dev/null || exit 1
mkdir -p "$lbundle/rootfs/data"
echo "hello from inside an enclave" >"$lbundle/rootfs/data/hello.txt"
echo "busybox-static's own /usr/bin/sha256sum, unmodified, over /data/hello.txt"
show "$tools" gen-key --out "$tmp/signing.pem" >/dev/null || exit 1
show "$image" build --bundle "$lbundle" --key "$tmp/signing.pem" --trusted /data || exit 1
echo "trusted files in the signed manifest: $(grep -c '^trusted ' "$lbundle/rootfs/.rune/manifest")" \
	"(a SHA-256 per 16 KiB chunk: a changed byte is refused when read)"
started="$id $id-bg $eid $eid-bg $eid-libos"
bold "enclave container: $RUNE --root $root --pal-dir $BUILD/lib run $eid-libos"
printf '$ %s\n' "$RUNE --root $root --pal-dir $BUILD/lib run --bundle $lbundle $eid-libos"
"$RUNE" --root "$root" --pal-dir "$BUILD/lib" run --bundle "$lbundle" "$eid-libos" \
	</dev/null >"$tmp/libos.out"
lrc=$?
cat "$tmp/libos.out"
if [ $lrc -ne 0 ]; then
	echo "demo: the LibOS enclave container failed (exit $lrc); see the error above" >&2
	exit 1
fi
"$RUNE" --root "$root" delete --force "$eid-libos" >/dev/null 2>&1
native=$(cd "$lbundle/rootfs" && chroot . /usr/bin/sha256sum /data/hello.txt)
echo "natively: $native"
if [ "$(cat "$tmp/libos.out")" != "$native" ]; then
	echo "demo: the enclave's output differs from the native run" >&2
	exit 1
fi
echo "the same output: the program ran unmodified inside the enclave"
