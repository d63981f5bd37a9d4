#!/bin/bash
# Installs the Debian packages the client integration tests (tests/clients/)
# need, only those missing.  Usage: install-client-deps.sh [GROUP...]
# Groups: common podman containerd docker cri devplug (default: all).
#
# --no-install-recommends matters: docker.io recommends cgroupfs-mount, which
# would remount this kind of host's cgroups (hybrid v1 + unified).  apt-get
# update runs only when an install fails (a fresh machine's lists may be old).
set -euo pipefail

declare -A group=(
	[common]="busybox-static util-linux procps python3"
	[podman]="podman conmon"
	[containerd]="containerd"
	[docker]="docker.io"
	[cri]="containerd python3-grpcio python3-protobuf protobuf-compiler"
	[devplug]="python3-grpcio python3-protobuf protobuf-compiler golang-go golang-google-grpc-dev golang-google-protobuf-dev"
)
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(podman containerd docker cri devplug)
read -ra pkgs <<<"${group[common]}"
for g in "${want[@]}"; do
	[ -n "${group[$g]+x}" ] || { echo "install-client-deps: unknown group '$g'" >&2; exit 2; }
	read -ra more <<<"${group[$g]}"
	pkgs+=("${more[@]}")
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-client-deps: missing packages (run as root): ${missing[*]}" >&2
	exit 1
fi
# Several test scripts may call this at once: serialize on a lock.
exec 9>/run/rune-install-client-deps.lock
flock 9
echo "install-client-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Daemons must not start (and policy-rc.d keeps dpkg from starting
# containerd/docker services on hosts with an init system).
opts=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
log=$(mktemp /tmp/install-client-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
if ! apt-get install "${opts[@]}" "${missing[@]}" >"$log" 2>&1; then
	echo "install-client-deps: install failed, running apt-get update" >&2
	apt-get update -q >>"$log" 2>&1 || true
	if ! apt-get install "${opts[@]}" "${missing[@]}" >>"$log" 2>&1; then
		tail -20 "$log" >&2
		exit 1
	fi
fi
