#!/bin/bash
# timeout: 600
# make deb (issue 18): the packages build (or build/deb is reused when no
# file of the tree is newer), lintian reports no error and no warning that
# is not overridden, each package holds what it should, and they install
# with apt-get into a throwaway root: a private mount namespace with
# overlays over /usr, /etc and /var whose upper layers live in the temp dir,
# so the host's files and dpkg database stay as they are. There: rune
# --version, a busybox container, a skeleton enclave container through the
# packaged PAL directory and config, nothing started, purge leaving nothing.
# RUNE_DEB_REPRO=1 also builds the packages a second time (about 2 minutes
# here) and compares the bytes.
set -uo pipefail
# shellcheck source=tests/install/lib.sh
. "$(dirname "$0")/lib.sh"

for tool in dh dpkg-buildpackage lintian unshare; do
	if ! command -v $tool >/dev/null; then
		echo "skip - debian packages ($tool missing: apt-get install debhelper dpkg-dev lintian)"
		exit 0
	fi
done
if ! command -v busybox >/dev/null && ! [ -x /bin/busybox ]; then
	echo "skip - debian packages (busybox-static missing)"
	exit 0
fi

T=$(mktemp -d /tmp/rune-deb.XXXXXX)
status_before=$(md5sum </var/lib/dpkg/status)
trap 'rm -rf "$T"' EXIT

debs "$T/build.log"

pkgs="rune rune-pal-skeleton rune-libos sgx-tools containerd-shim-rune rune-device-plugin librune-dev libratls0 libratls-dev rune-signd"
for p in $pkgs; do
	[ -e "$(ls "$DEB/${p}_"*.deb 2>/dev/null)" ] || nok "package $p built" "$(ls "$DEB")"
done

lintian --no-tag-display-limit "$DEB"/*.deb >"$T/lintian.log" 2>&1
check "lintian: no error and no warning without an override" "$(cat "$T/lintian.log")" \
	eval '! grep -q "^[EW]: " "$T/lintian.log"'

# What each package holds (files and links; directories and /usr/share/doc aside).
expect_unsorted() {
	case $1 in
	rune) echo /etc/rune/config.json /usr/bin/rune
	      ls docs/man | grep '^rune' | grep -v '^rune-signd\|^rune-device-plugin' | sed 's|^|/usr/share/man/man8/|; s|$|.gz|' ;;
	rune-pal-skeleton) echo /usr/lib/rune/pal/liberpal-skeleton-v{1,2,3}.so \
		/usr/lib/rune/skeleton/encl.elf /usr/share/rune/skeleton/encl.elf ;;
	rune-libos) echo /usr/bin/rune-image /usr/lib/rune/pal/liberpal-libos.so \
		/usr/lib/rune/libos/libos.elf /usr/share/rune/libos/libos.elf ;;
	sgx-tools) echo /usr/bin/sgx-tools /usr/share/man/man8/sgx-tools.8.gz \
		/usr/bin/ratls-verify /usr/share/man/man8/ratls-verify.8.gz ;;
	containerd-shim-rune) echo /usr/bin/containerd-shim-rune-v2 \
		/usr/share/doc/containerd-shim-rune/examples/containerd-rune.toml ;;
	rune-device-plugin) echo /usr/bin/rune-device-plugin \
		/usr/lib/systemd/system/rune-device-plugin.service \
		/usr/share/man/man8/rune-device-plugin.8.gz ;;
	librune-dev) echo /usr/include/rune/pal.h ;;
	libratls0) echo /usr/lib/libratls.so.0 ;;
	libratls-dev) echo /usr/lib/libratls.so /usr/lib/libratls.a /usr/include/ratls/ratls.h \
		/usr/include/sgx/quote.h /usr/include/sgx/arch.h /usr/include/common/error.h ;;
	rune-signd) echo /usr/bin/rune-signd /usr/share/man/man8/rune-signd.8.gz /etc/rune/signd.json \
		/lib/systemd/system/rune-signd.service /usr/share/doc/rune-signd/README.Debian \
		/usr/share/doc/rune-signd/examples/signd.example.json ;;
	esac | tr ' ' '\n'
	[ -e "debian/$1.lintian-overrides" ] && echo "/usr/share/lintian/overrides/$1"
}
expect() {
	expect_unsorted "$1" | sort
}
for p in $pkgs; do
	dpkg-deb -c "$DEB/${p}_"*.deb | grep -v '^d' | awk '{print $6}' | sed 's|^\.||' |
		grep -v '^/usr/share/doc/[^/]*/\(copyright\|changelog.gz\)$' | sort >"$T/$p.files"
	check "package $p holds its files" "$(diff <(expect $p) "$T/$p.files")" \
		cmp -s <(expect $p) "$T/$p.files"
done
check "rune ships /etc/rune/config.json as a root-owned conffile" \
	"$(dpkg-deb -I "$DEB"/rune_*.deb conffiles; dpkg-deb -c "$DEB"/rune_*.deb | grep config.json)" \
	eval '[ "$(dpkg-deb -I "$DEB"/rune_*.deb conffiles)" = /etc/rune/config.json ] &&
		dpkg-deb -c "$DEB"/rune_*.deb | grep "^-rw-r--r-- root/root .*/etc/rune/config.json$" >/dev/null'
check "libratls0: its SONAME, shlibs (this version or later), symbols (the map's), the ldconfig trigger" \
	"$(dpkg-deb -I "$DEB"/libratls0_*.deb shlibs symbols triggers)" \
	eval 'dpkg-deb -I "$DEB"/libratls0_*.deb shlibs | grep -x "libratls 0 libratls0 (>= [^)]*)" >/dev/null &&
		[ "$(dpkg-deb -I "$DEB"/libratls0_*.deb symbols | grep -c "^ [a-z_]*@Base ")" = \
			"$(grep -cE "^[[:space:]]+[a-z_]+;$" src/ratls/libratls.map)" ] &&
		dpkg-deb -I "$DEB"/libratls0_*.deb triggers | grep -x "activate-noawait ldconfig" >/dev/null'
check "libratls-dev: libratls.so links to libratls.so.0, of the same version" \
	"$(dpkg-deb -c "$DEB"/libratls-dev_*.deb | grep libratls.so; dpkg-deb -f "$DEB"/libratls-dev_*.deb Depends)" \
	eval 'dpkg-deb -c "$DEB"/libratls-dev_*.deb | grep " \./usr/lib/libratls.so -> libratls.so.0$" >/dev/null &&
		dpkg-deb -f "$DEB"/libratls-dev_*.deb Depends | grep "libratls0 (= $(dpkg-deb -f "$DEB"/libratls0_*.deb Version))" >/dev/null'
deps=$(for d in "$DEB"/*.deb; do dpkg-deb -f "$d" Pre-Depends Depends Recommends; done)
check "no package pulls in cgroupfs-mount" "$deps" eval '! grep -q cgroupfs-mount <<<"$deps"'
scripts=$(for d in "$DEB"/*.deb; do
	dpkg-deb -I "$d" | grep -E '^ +[0-9]+ bytes.*(pre|post)(inst|rm)' >/dev/null && basename "${d%%_*}"
done)
check "maintainer scripts in rune-signd only (nothing else does anything on install)" "$scripts" \
	test "$scripts" = rune-signd
check "rune-signd ships /etc/rune/signd.json as a root-owned conffile" \
	"$(dpkg-deb -I "$DEB"/rune-signd_*.deb conffiles)" \
	eval '[ "$(dpkg-deb -I "$DEB"/rune-signd_*.deb conffiles)" = /etc/rune/signd.json ] &&
		dpkg-deb -c "$DEB"/rune-signd_*.deb | grep "^-rw-r--r-- root/root .*/etc/rune/signd.json$" >/dev/null'
mkdir "$T/signd" && dpkg-deb -e "$DEB"/rune-signd_*.deb "$T/signd/DEBIAN" && dpkg-deb -x "$DEB"/rune-signd_*.deb "$T/signd"
unit=$T/signd/lib/systemd/system/rune-signd.service
check "rune-signd's unit: its own user, no capabilities, the packaged binary" "$(cat "$unit")" \
	eval 'grep -qx User=rune-signd "$unit" && grep -qx Group=rune-signd "$unit" &&
		grep -qx CapabilityBoundingSet= "$unit" && grep -q "^ExecStart=/usr/bin/rune-signd --config /etc/rune/signd.json$" "$unit" &&
		grep -qx NoNewPrivileges=yes "$unit" && grep -qx ProtectSystem=strict "$unit"'
check "rune-signd: the user made in postinst, removed in postrm on purge" "$(cat "$T/signd/DEBIAN/postinst" "$T/signd/DEBIAN/postrm")" \
	eval 'grep -q "adduser --system --group" "$T/signd/DEBIAN/postinst" &&
		grep -q "deluser --system" "$T/signd/DEBIAN/postrm"'
# dh_installsystemd --no-enable: the enable step is guarded by
# debian-installed (false on a first install; without --no-enable,
# was-enabled is true then and enables it), and deb-systemd-invoke starts
# only enabled units.
check "rune-signd: not enabled on install (restarted on upgrade only if enabled)" "$(cat "$T/signd/DEBIAN/postinst")" \
	eval 'grep -q "if deb-systemd-helper debian-installed .rune-signd.service." "$T/signd/DEBIAN/postinst" &&
		grep -q "deb-systemd-invoke \$_dh_action .rune-signd.service." "$T/signd/DEBIAN/postinst"'
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/signd/etc/rune/signd.json" &&
	ok "rune-signd's conffile is JSON" || nok "rune-signd's conffile is JSON"

# The throwaway root. The containers' state, bundles and keys are in $T.
scripts/mkbundle.sh "$T/bb" >/dev/null
scripts/mkbundle.sh "$T/eb" skeleton hello >/dev/null
python3 - "$T/eb/config.json" <<-'EOF'
	import json, sys
	c = json.load(open(sys.argv[1]))
	c["process"]["env"] += ["ENCLAVE_TYPE=intelSgx",
	    "ENCLAVE_RUNTIME_PATH=/usr/lib/rune/pal/liberpal-skeleton-v3.so"]
	json.dump(c, open(sys.argv[1], "w"))
EOF
cat >"$T/inroot.sh" <<'EOF'
set -u
T=$1 DEB=$2
ok() { echo "ok - $1"; }
nok() { printf '# %s\n' "${@:2}"; echo "not ok - $1"; }
for d in usr etc var; do
	mkdir -p "$T/ov/$d/up" "$T/ov/$d/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/up,workdir=$T/ov/$d/work" "/$d" ||
		{ nok "throwaway root" "overlay over /$d failed"; exit 1; }
done
ctrd_before=$(cat /etc/containerd/config.toml 2>/dev/null | md5sum)
export DEBIAN_FRONTEND=noninteractive
if apt-get install -y --no-install-recommends -o Debug::NoLocking=1 "$DEB"/*.deb >"$T/apt.log" 2>&1; then
	ok "apt-get install ./*.deb"
else
	nok "apt-get install ./*.deb" "$(tail -20 "$T/apt.log")"
	exit 1
fi
v=$(rune --version 2>&1)
case $v in
"rune version "*) ok "rune --version: ${v%%$'\n'*}" ;;
*) nok "rune --version" "$v" ;;
esac
out=$(cd "$T/bb" && timeout 30 rune --root "$T/state" run bb1 2>&1)
[ "$out" = "hello from a rune container" ] && ok "busybox container from the installed rune" ||
	nok "busybox container from the installed rune" "$out"
timeout 10 rune --root "$T/state" delete --force bb1 >/dev/null 2>&1
sgx-tools gen-key --out "$T/key.pem" >/dev/null 2>&1 &&
	cp /usr/share/rune/skeleton/encl.elf "$T/eb/rootfs/" &&
	sgx-tools sign --key "$T/key.pem" --elf "$T/eb/rootfs/encl.elf" --out "$T/eb/rootfs/encl.ss" >/dev/null 2>&1
out=$(cd "$T/eb" && timeout 60 rune --root "$T/state" run eb1 2>&1)
case $out in
*"Hello from the skeleton enclave"*) ok "skeleton enclave container through the packaged PAL directory" ;;
*) nok "skeleton enclave container through the packaged PAL directory" "$out" ;;
esac
timeout 10 rune --root "$T/state" delete --force eb1 >/dev/null 2>&1
[ "$(cat /etc/containerd/config.toml 2>/dev/null | md5sum)" = "$ctrd_before" ] &&
	ok "containerd's config untouched" || nok "containerd's config untouched" "it changed"
# By executable, not by name: other rune processes may run on a shared host.
new=$(for e in /proc/[0-9]*/exe; do readlink "$e"; done 2>/dev/null |
	grep -xE '/usr/bin/(rune|rune-signd|rune-image|sgx-tools|containerd-shim-rune-v2)' || true)
[ -z "$new" ] && ok "nothing started on install" || nok "nothing started on install" "$new"
# libratls-dev: a program builds with the installed header, links
# -lratls (libratls.so.0 found by the loader's cache) or the static
# library, and runs.
printf '#include <ratls/ratls.h>\n#include <string.h>\nint main(void) { return strcmp(ratls_tcb_status_name(RATLS_TCB_UP_TO_DATE), "UpToDate") != 0; }\n' >"$T/ratls-user.c"
if cc -o "$T/ratls-user" "$T/ratls-user.c" -lratls >"$T/cc.log" 2>&1 && "$T/ratls-user" &&
	ldd "$T/ratls-user" | grep "libratls.so.0 => \(/usr\)\?/lib/libratls.so.0" >/dev/null; then
	ok "libratls-dev: a program builds with <ratls/ratls.h>, links -lratls and runs"
else
	nok "libratls-dev: a program builds with <ratls/ratls.h>, links -lratls and runs" "$(cat "$T/cc.log"; ldd "$T/ratls-user")"
fi
if cc -static-libgcc -o "$T/ratls-static" "$T/ratls-user.c" /usr/lib/libratls.a \
	-lssl -lcrypto -ljansson -lcbor -lpthread -ldl >"$T/cc.log" 2>&1 && "$T/ratls-static" &&
	! ldd "$T/ratls-static" | grep libratls >/dev/null; then
	ok "libratls-dev: the static libratls.a links alone (with its libraries) and runs"
else
	nok "libratls-dev: the static libratls.a links alone (with its libraries) and runs" "$(cat "$T/cc.log")"
fi
getent passwd rune-signd >/dev/null && [ "$(stat -c '%U %G %a' /etc/rune/signd)" = "rune-signd rune-signd 700" ] &&
	ok "rune-signd: its system user, and /etc/rune/signd its own (0700)" ||
	nok "rune-signd: its system user and /etc/rune/signd" "$(getent passwd rune-signd; ls -ld /etc/rune/signd)"
[ ! -e /etc/systemd/system/multi-user.target.wants/rune-signd.service ] &&
	ok "rune-signd: not enabled" || nok "rune-signd: not enabled" "it is"
pkgs=$(cd "$DEB" && ls *.deb | sed 's/_.*//')
# what they hold: every file and link, and the directories of their own
paths=$(for d in "$DEB"/*.deb; do dpkg-deb -c "$d" | grep -v '^d' | awk '{print $6}' | sed 's|^\.||'; done
	echo /etc/rune /usr/lib/rune /usr/share/rune /usr/include/rune /usr/include/ratls /usr/include/sgx \
		/usr/include/common /var/log/rune-signd
	for p in $pkgs; do echo "/usr/share/doc/$p"; done)
if apt-get purge -y $pkgs >"$T/purge.log" 2>&1; then
	left=$(for f in $paths; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done)
	[ -z "$left" ] && ok "purge leaves nothing behind" || nok "purge leaves nothing behind" "$left"
	! getent passwd rune-signd >/dev/null && ! getent group rune-signd >/dev/null &&
		ok "purge removes the rune-signd user and group" ||
		nok "purge removes the rune-signd user and group" "$(getent passwd rune-signd; getent group rune-signd)"
else
	nok "purge leaves nothing behind" "$(tail -20 "$T/purge.log")"
fi
EOF
unshare -m --propagation private bash "$T/inroot.sh" "$T" "$DEB"
check "the host's dpkg database untouched" "status changed" \
	test "$(md5sum </var/lib/dpkg/status)" = "$status_before"

if [ -n "${RUNE_DEB_REPRO:-}" ]; then
	if make -s BUILD="$T/b2" deb >"$T/build2.log" 2>&1; then
		diffs=$(cd "$DEB" && for d in *.deb; do cmp -s "$d" "$T/b2/deb/$d" || echo "$d differs"; done)
		check "reproducible: a second build gives the same bytes" "$diffs" test -z "$diffs"
	else
		nok "reproducible: a second build gives the same bytes" "$(tail -20 "$T/build2.log")"
	fi
else
	echo "skip - reproducible (RUNE_DEB_REPRO=1 builds twice: about 2 minutes more)"
fi
