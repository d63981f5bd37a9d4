#!/bin/bash
# Installs the Debian packages the build and the tests need, only those missing.
# --no-install-recommends: docker.io recommends cgroupfs-mount, which remounts
# this kind of host's cgroups.
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev clang-format valgrind
      libjansson-dev libarchive-dev libcbor-dev libmicrohttpd-dev libgnutls28-dev libp11-kit-dev softhsm2 libbearssl-dev
      libseccomp-dev libcap-dev libssl-dev linux-libc-dev libsystemd-dev protobuf-c-compiler libprotobuf-c-dev libnghttp2-dev
      busybox-static musl-tools golang-go runc crun time iproute2 util-linux procps python3 curl openssl
      debhelper dpkg-dev lintian libcurl4-openssl-dev debootstrap)
[ -n "${RUNE_EXTRA_DEPS:-}" ] && pkgs+=($RUNE_EXTRA_DEPS)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages (run as root): ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
	{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
