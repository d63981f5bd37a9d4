#!/bin/bash
# timeout: 300
# make install: the allowed PAL directory follows PREFIX, also when the tree
# was built for another prefix first, and nothing is written outside
# $(DESTDIR)$(PREFIX) (issue 12, item 7). Builds in its own temp tree.
set -uo pipefail
cd "$(dirname "$0")/../.."
T=$(mktemp -d /tmp/rune-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
B=$T/build

ok() { echo "ok - $1"; }
nok() {
	echo "# $2"
	echo "not ok - $1"
}

if ! make -s -j2 BUILD="$B" all >"$T/build.log" 2>&1; then
	tail -20 "$T/build.log" | sed 's/^/# /'
	nok "build" "make all failed"
	exit 1
fi
touch "$T/stamp"
if ! make -s -j2 BUILD="$B" install PREFIX=/opt/rune-x DESTDIR="$T/dest" >"$T/install.log" 2>&1; then
	tail -20 "$T/install.log" | sed 's/^/# /'
	nok "install to another prefix" "make install failed"
	exit 1
fi
outside=$(find /usr /etc /opt /var/lib -xdev -newer "$T/stamp" \( -type f -o -type l \) \
	-path '*rune*' -print 2>/dev/null | head -5)
[ -z "$outside" ] && ok "install writes only under DESTDIR/PREFIX" ||
	nok "install writes only under DESTDIR/PREFIX" "written elsewhere: $outside"
R=$T/dest/opt/rune-x/bin/rune
if [ -x "$R" ] && [ -e "$T/dest/opt/rune-x/lib/rune/pal/liberpal-skeleton-v3.so" ]; then
	ok "rune and the PALs installed under the prefix"
else
	nok "rune and the PALs installed under the prefix" "$(find "$T/dest" -maxdepth 4 | head)"
fi
U=$T/dest/opt/rune-x/lib/systemd/system/rune-signd.service
if [ -x "$T/dest/opt/rune-x/bin/rune-signd" ] && grep -q '^ExecStart=/opt/rune-x/bin/rune-signd ' "$U" 2>/dev/null; then
	ok "rune-signd and its systemd unit (for the prefix) installed"
else
	nok "rune-signd and its systemd unit (for the prefix) installed" "$(grep ExecStart "$U" 2>&1)"
fi
U=$T/dest/opt/rune-x/lib/systemd/system/rune-device-plugin.service
if [ -x "$T/dest/opt/rune-x/bin/rune-device-plugin" ] &&
	grep -q '^ExecStart=/opt/rune-x/bin/rune-device-plugin$' "$U" 2>/dev/null; then
	ok "rune-device-plugin and its systemd unit (for the prefix) installed"
else
	nok "rune-device-plugin and its systemd unit (for the prefix) installed" "$(grep ExecStart "$U" 2>&1)"
fi
# libratls: a program builds against the installed header and library, and runs.
P=$T/dest/opt/rune-x
printf '#include <ratls/ratls.h>\nint main(void) { return strcmp(ratls_tcb_status_name(RATLS_TCB_UP_TO_DATE), "UpToDate") != 0; }\n' >"$T/ratls-user.c"
if cc -include string.h -I"$P/include" -o "$T/ratls-user" "$T/ratls-user.c" -L"$P/lib" -lratls 2>"$T/cc.log" &&
	LD_LIBRARY_PATH=$P/lib "$T/ratls-user"; then
	ok "libratls installed: a program builds with its header and links -lratls"
else
	nok "libratls installed: a program builds with its header and links -lratls" "$(cat "$T/cc.log")"
fi
if [ "$(readlink "$P/lib/libratls.so")" = libratls.so.0 ] && [ -f "$P/lib/libratls.so.0" ] &&
	cc -include string.h -I"$P/include" -o "$T/ratls-static" "$T/ratls-user.c" "$P/lib/libratls.a" \
		-lssl -lcrypto -ljansson -lcbor -lpthread -ldl 2>"$T/cc.log" && "$T/ratls-static"; then
	ok "libratls installed: libratls.so.0, the link libratls.so, and a self-contained libratls.a"
else
	nok "libratls installed: libratls.so.0, the link libratls.so, and a self-contained libratls.a" \
		"$(ls -l "$P/lib"; cat "$T/cc.log")"
fi
# libratls.so.0's ABI is its installed headers: it exports what they
# declare (src/ratls/libratls.map), not libsgx's or libratls's internals.
H="$P/include/ratls/ratls.h $P/include/sgx/quote.h $P/include/common/error.h"
exports=$(nm -D --defined-only "$P/lib/libratls.so.0" | awk '{print $3}')
# shellcheck disable=SC2086
odd=$(for s in $exports; do grep -qE "\b$s(\(|;)" $H || echo "exported, not declared: $s"; done
	for s in $(grep -ohE '\bratls_[a-z_]+\(' "$P/include/ratls/ratls.h" | tr -d '(' | sort -u); do
		grep -qx "$s" <<<"$exports" || echo "declared, not exported: $s"
	done)
if [ -n "$exports" ] && [ -z "$odd" ]; then
	ok "libratls.so.0 exports its headers' functions, nothing else"
else
	nok "libratls.so.0 exports its headers' functions, nothing else" "$odd"
fi
# The installed rune allows its own PAL directory: the refusal lists it.
mkdir -p "$T/bundle/rootfs"
cp /bin/busybox "$T/bundle/rootfs/" 2>/dev/null || true
(cd "$T/bundle" && "$R" spec) || true
python3 - "$T/bundle/config.json" <<-'PY'
	import json, sys
	c = json.load(open(sys.argv[1]))
	c["process"]["terminal"] = False
	c["process"]["args"] = ["/busybox", "true"]
	c["process"]["env"] += ["ENCLAVE_TYPE=intelSgx", "ENCLAVE_RUNTIME_PATH=/elsewhere/libpal.so"]
	json.dump(c, open(sys.argv[1], "w"))
PY
err=$("$R" --root "$T/state" run --bundle "$T/bundle" rit-install 2>&1)
case $err in
*"/opt/rune-x/lib/rune/pal"*) ok "the installed rune's allowed PAL directory follows PREFIX" ;;
*) nok "the installed rune's allowed PAL directory follows PREFIX" "error: $err" ;;
esac
"$R" --root "$T/state" delete --force rit-install >/dev/null 2>&1 || true
