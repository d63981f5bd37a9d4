#!/bin/bash
# timeout: 180
# Debian's own, dynamically linked CPython (python3, its shared libraries
# and its standard library, every file trusted) inside the LibOS enclave
# through the PAL: a script using json, math, re, os.listdir of a trusted
# directory and subprocess (a child enclave of the same image running
# python3 again), its output and exit status as a native run in the same
# rootfs (chroot).
set -u
. "$(dirname "$0")/lib.sh"
libos_need
# Debian's (not a pyenv or venv shim on PATH).
[ -x /usr/bin/python3 ] || {
	echo "ok - python3 in the enclave # SKIP no /usr/bin/python3"
	exit 0
}
PY=$(readlink -f /usr/bin/python3)
LIB=$("$PY" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
T=$(mktemp -d /tmp/rune-libos-python.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SGX_EMU_SECRET=$T/sgx-emu-secret
R=$T/root

# The rootfs: python3, the libraries ldd names (and ld.so), the standard library.
mkdir -p "$R/usr/bin" "$R/data" "$R/$(dirname "$LIB")"
cp "$PY" "$R/usr/bin/python3"
for l in $(ldd "$PY" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do
	mkdir -p "$R/$(dirname "$l")"
	cp -L "$l" "$R/$l"
done
(cd "$(dirname "$LIB")" && tar cf - --exclude=test --exclude=__pycache__ --exclude=idlelib \
	--exclude=tkinter --exclude=ensurepip "$(basename "$LIB")") | tar xf - -C "$R/$(dirname "$LIB")"
echo a >"$R/data/a"
echo b >"$R/data/b"
cat >"$R/t.py" <<'PYEOF'
import json, math, os, re, subprocess, sys
print(json.dumps({"v": list(sys.version_info[:2]), "pi": round(math.pi, 5)}))
print(re.sub(r"(\w+)@(\w+)", r"\2 at \1", "user@example"))
print(sorted(os.listdir("/data")))
r = subprocess.run([sys.executable, "-c", "import sys; print('child', sys.argv[1:])", "x"],
                   capture_output=True, text=True)
print("subprocess:", r.returncode, r.stdout.strip())
sys.exit(3)
PYEOF
if ! "$RUNE_IMAGE" build --rootfs "$R" --key "$KEY" --heap 256M --host-argv --trusted /t.py \
	--trusted /data -- /usr/bin/python3 >/dev/null 2>"$T/err"; then
	nok "rune-image build of a python3 rootfs"
	sed 's/^/# /' "$T/err"
	exit 1
fi
nout=$(env -i "$(command -v chroot)" "$R" /usr/bin/python3 /t.py 2>/dev/null)
nrc=$?
OUT=$(timeout -k 2 120 "$PAL_HOST" --args "root=$R" "$LIBOS_PAL" /usr/bin/python3 /t.py 2>"$T/err")
RC=$?
ERR=$(head -20 "$T/err")
same_as "python3 (dynamic CPython, its stdlib trusted): json, re, listdir, subprocess, exit 3 as native" \
	"$nout" "$nrc"
exit $((_n > 0))
