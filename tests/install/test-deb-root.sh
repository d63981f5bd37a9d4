#!/bin/bash
# timeout: 900
# The packages (issue 18) in a throwaway Debian 12 root: a minimal tree made
# by debootstrap from the Debian archive this host's apt uses, cached in
# $RUNE_TEST_CACHE (/var/cache/rune-tests; about a minute and 210 MB the
# first time, then reused; remove it to refresh), seen through an overlay
# whose upper layer is in a temp dir, so the cache stays pristine. Inside,
# in a private mount namespace (unshare -m: nothing can leak) and chroot:
# apt-get install ./*.deb, with their dependencies from the archive; rune
# --version; a busybox container; libratls0 in the loader's cache and
# libratls-dev's files; rune-signd's user and directory, not
# enabled, nothing started; an upgrade to a second version of the packages
# (the same files, version bumped) keeping the administrator's conffile
# edits and the user; remove (conffiles stay), then purge with autoremove:
# no file is left that was not there before the install, no user.
set -uo pipefail
# shellcheck source=tests/install/lib.sh
. "$(dirname "$0")/lib.sh"

for tool in debootstrap dh dpkg-buildpackage unshare; do
	if ! command -v $tool >/dev/null; then
		echo "skip - debian packages in a debootstrap root ($tool missing: scripts/install-deps.sh)"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ] || { ! command -v busybox >/dev/null && ! [ -x /bin/busybox ]; }; then
	echo "skip - debian packages in a debootstrap root (needs root and busybox-static)"
	exit 0
fi

T=$(mktemp -d /tmp/rune-deb-root.XXXXXX)
trap 'rm -rf "$T"' EXIT
debs "$T/build.log"

# The archive this host's apt uses (one-line or deb822 sources), Debian 12.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
	sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) bookworm .*/\2/p; s/^URIs: *\([^ ]*\).*/\1/p' |
	grep -v security | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
CACHE=${RUNE_TEST_CACHE:-/var/cache/rune-tests}/debootstrap-bookworm-minbase
if [ ! -x "$CACHE/usr/bin/apt-get" ]; then
	mkdir -p "${CACHE%/*}"
	rm -rf "$CACHE.new"
	start=$(date +%s)
	if ! debootstrap --variant=minbase bookworm "$CACHE.new" "$mirror" >"$T/debootstrap.log" 2>&1; then
		nok "debootstrap bookworm from $mirror" "$(tail -20 "$T/debootstrap.log")"
		rm -rf "$CACHE.new"
		exit 1
	fi
	mv "$CACHE.new" "$CACHE"
	ok "debootstrap bookworm (minbase) from $mirror into $CACHE: $(($(date +%s) - start)) s"
else
	ok "debootstrap root reused from $CACHE"
fi

# The second version: the same packages, version +1 (and their = dependencies).
mkdir -p "$T/v1" "$T/v2" "$T/x"
cp "$DEB"/*.deb "$T/v1/"
v1=$(dpkg-deb -f "$DEB"/rune_*.deb Version)
repacked=0
for d in "$DEB"/*.deb; do
	x=$T/x/$(basename "$d")
	if dpkg-deb -R "$d" "$x" && sed -i "s/$v1/$v1+1/g" "$x/DEBIAN/control" &&
		dpkg-deb -b -Zxz "$x" "$T/v2/" >/dev/null; then
		repacked=$((repacked + 1))
	else
		nok "repack $d as $v1+1"
	fi
done
ok "a second version of the packages: $repacked of them, $v1+1"

scripts/mkbundle.sh "$T/bb" >/dev/null

cat >"$T/inroot.sh" <<'EOF'
set -u
T=$1 CACHE=$2 V1=$3
ok() { echo "ok - $1"; }
nok() { printf '# %s\n' "${@:2}"; echo "not ok - $1"; }
R=$T/root
mkdir -p "$R" "$T/ov/up" "$T/ov/work"
mount -t overlay overlay -o "lowerdir=$CACHE,upperdir=$T/ov/up,workdir=$T/ov/work" "$R" ||
	{ nok "throwaway root" "overlay over $CACHE failed"; exit 1; }
mount -t proc proc "$R/proc" && mount --rbind /sys "$R/sys" && mount --rbind /dev "$R/dev" ||
	{ nok "throwaway root" "proc, sys, dev"; exit 1; }
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp /etc/apt/sources.list "$R/etc/apt/" 2>/dev/null
cp -r /etc/apt/sources.list.d/. "$R/etc/apt/sources.list.d/" 2>/dev/null
cp /usr/share/keyrings/debian-archive-keyring.gpg "$R/usr/share/keyrings/" 2>/dev/null
mkdir -p "$R/debs"
cp -r "$T/v1" "$T/v2" "$T/bb" "$R/debs/"
inr() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
# What the root holds, but the volatile, the package manager's own, and
# the shadow tools' backups (/etc/passwd- ...) that adduser leaves.
files() {
	(cd "$R" && find . -xdev -path ./proc -prune -o -path ./sys -prune -o -path ./dev -prune \
		-o -path ./tmp -prune -o -path ./run -prune -o -path ./debs -prune -o -path ./var/lib/apt -prune \
		-o -path ./var/lib/dpkg -prune -o -path ./var/cache -prune -o -path ./var/log -prune \
		-o -path './etc/*-' -prune -o -print) | sort
}
if ! inr apt-get update >"$T/update.log" 2>&1; then
	nok "apt-get update in the root" "$(tail -10 "$T/update.log")"
	exit 1
fi
files >"$T/before"
# The host's archive may have newer libraries than the tree: the root's
# apt resolves the packages' computed dependencies.
if inr sh -c 'cd /debs/v1 && apt-get install -y --no-install-recommends ./*.deb' >"$T/apt.log" 2>&1; then
	ok "apt-get install ./*.deb ($(grep -c '^Setting up' "$T/apt.log") packages set up)"
else
	nok "apt-get install ./*.deb" "$(tail -20 "$T/apt.log")"
	exit 1
fi
v=$(inr rune --version 2>&1)
case $v in
"rune version "*) ok "rune --version: ${v%%$'\n'*}" ;;
*) nok "rune --version" "$v" ;;
esac
out=$(inr sh -c 'cd /debs/bb && timeout 30 rune --root /run/rune-test run bb1' 2>&1)
[ "$out" = "hello from a rune container" ] && ok "rune run: a busybox container in the Debian 12 root" ||
	nok "rune run: a busybox container in the Debian 12 root" "$out"
inr timeout 10 rune --root /run/rune-test delete --force bb1 >/dev/null 2>&1
# libratls0 and libratls-dev: the library in the loader's cache (the
# ldconfig trigger ran), the header and its includes there; with a
# compiler in the root (minbase has none), a program built against them.
if inr ldconfig -p | grep "libratls.so.0 .*=> \(/usr\)\?/lib/libratls.so.0$" >/dev/null &&
	[ "$(readlink "$R/usr/lib/libratls.so")" = libratls.so.0 ] && [ -f "$R/usr/lib/libratls.a" ] &&
	[ -f "$R/usr/include/ratls/ratls.h" ] && [ -f "$R/usr/include/sgx/quote.h" ] &&
	[ -f "$R/usr/include/sgx/arch.h" ] && [ -f "$R/usr/include/common/error.h" ] &&
	[ -f "$R/usr/include/openssl/ssl.h" ]; then
	ok "libratls0 in the loader's cache; libratls-dev's header, its includes and OpenSSL's"
else
	nok "libratls0 and libratls-dev installed" "$(inr ldconfig -p | grep ratls; ls -l "$R/usr/lib/libratls"*)"
fi
if inr sh -c 'command -v cc' >/dev/null; then
	printf '#include <ratls/ratls.h>\n#include <string.h>\nint main(void) { return strcmp(ratls_tcb_status_name(RATLS_TCB_UP_TO_DATE), "UpToDate") != 0; }\n' \
		>"$R/debs/ratls-user.c"
	inr sh -c 'cc -o /debs/ratls-user /debs/ratls-user.c -lratls && /debs/ratls-user' >"$T/cc.log" 2>&1 &&
		ok "libratls-dev: a program builds with <ratls/ratls.h>, links -lratls and runs in the root" ||
		nok "libratls-dev: a program builds against it in the root" "$(cat "$T/cc.log")"
else
	echo "skip - a program built against libratls-dev in the root (no compiler there; test-deb.sh builds one)"
fi
inr rune-signd --version | grep -q '^rune-signd version' && ok "rune-signd --version" || nok "rune-signd --version"
uid=$(inr id -u rune-signd 2>/dev/null)
[ -n "$uid" ] && [ "$(inr stat -c '%U %a' /etc/rune/signd)" = "rune-signd 700" ] &&
	ok "rune-signd: system user $uid, /etc/rune/signd its own" || nok "rune-signd: its user" "$uid"
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/rune-signd.service" ] &&
	ok "rune-signd: not enabled on install" || nok "rune-signd: not enabled on install"
grep -q "rune-signd is installed but not enabled" "$T/apt.log" &&
	ok "the postinst says it is not enabled, and what to do" || nok "the postinst says so"

# Upgrade, with the administrator's edits in the conffiles.
sed -i 's/"0.0.0.0:8443"/"127.0.0.1:9443"/' "$R/etc/rune/signd.json"
echo ' ' >>"$R/etc/rune/config.json"
sums=$(md5sum "$R/etc/rune/signd.json" "$R/etc/rune/config.json")
if inr sh -c 'cd /debs/v2 && apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold ./*.deb' >"$T/apt2.log" 2>&1 &&
	[ "$(inr dpkg-query -W -f '${Version}' rune-signd)" = "$V1+1" ]; then
	ok "upgrade to $V1+1"
else
	nok "upgrade to $V1+1" "$(tail -20 "$T/apt2.log")"
fi
[ "$(md5sum "$R/etc/rune/signd.json" "$R/etc/rune/config.json")" = "$sums" ] &&
	ok "upgrade keeps the edited conffiles" || nok "upgrade keeps the edited conffiles" "$(cat "$R/etc/rune/signd.json")"
[ "$(inr id -u rune-signd 2>/dev/null)" = "$uid" ] && ok "upgrade keeps the rune-signd user" || nok "upgrade keeps the user"
! grep -q "rune-signd is installed but not enabled" "$T/apt2.log" &&
	ok "the first-install note is not repeated on upgrade" || nok "the note on upgrade"

pkgs=$(cd "$T/v1" && ls *.deb | sed 's/_.*//')
# shellcheck disable=SC2086
if inr apt-get remove -y $pkgs >"$T/remove.log" 2>&1; then
	[ -e "$R/etc/rune/signd.json" ] && [ -e "$R/etc/rune/config.json" ] && [ ! -e "$R/usr/bin/rune-signd" ] &&
		ok "remove: binaries gone, conffiles kept" || nok "remove: conffiles kept" "$(ls "$R/etc/rune")"
else
	nok "remove" "$(tail -20 "$T/remove.log")"
fi
# shellcheck disable=SC2086
# Removed packages from local files are no longer apt's to name: dpkg
# purges them, then apt the dependencies they pulled in.
if inr dpkg --purge $pkgs >"$T/purge.log" 2>&1 && inr apt-get autoremove --purge -y >>"$T/purge.log" 2>&1; then
	ok "purge, and autoremove of the dependencies"
else
	nok "purge, and autoremove of the dependencies" "$(tail -20 "$T/purge.log")"
fi
left=$(comm -13 "$T/before" <(files))
[ -z "$left" ] && ok "purge leaves no file behind" || nok "purge leaves no file behind" "$left"
[ ! -e "$R/var/log/rune-signd" ] && ! inr getent passwd rune-signd >/dev/null && ! inr getent group rune-signd >/dev/null &&
	ok "purge removes the rune-signd user and group" || nok "purge removes the rune-signd user and group"
EOF
# Its own mount and PID namespaces: if this script is stopped, unshare's
# death kills the namespace's first process and with it every process of
# the root (apt, dpkg, containers); the mounts go with the namespace.
unshare -m -p --fork --kill-child --mount-proc --propagation private bash "$T/inroot.sh" "$T" "$CACHE" "$v1"
# The overlay's layers are in $T, removed by the trap.
