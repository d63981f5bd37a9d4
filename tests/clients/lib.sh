# shellcheck shell=bash
# Shared helpers for tests/clients/test-*.sh: rune under real clients
# (podman/conmon, containerd + runc v2 shim, dockerd, containerd CRI).
#
# A script sets CLIENT (a name) and sources this file, which:
#  - installs the client's Debian packages (scripts/install-client-deps.sh);
#  - makes a temp dir $CT (short: unix socket paths) and a unique prefix
#    $PFX that every container name, cgroup parent and namespace carries;
#  - builds a busybox-static rootfs with the skeleton enclave in /enclave;
#  - writes $CT/rune-pal, a wrapper that runs `rune --pal-dir $BUILD/lib`
#    (clients cannot pass rune's global flags).
# The script defines client_stop (stop the daemon, remove what it made) and
# may define client_case_cleanup (run after each case, e.g. `podman rm -af`).
# `tcase NAME FUNCTION` runs a case in a subshell with `set -eE`, printing
# "ok - NAME" / "not ok - NAME" (after "# " diagnostics) / "skip - NAME (..)".
# At exit (trap, also on failure): client_stop, then the host is checked for
# anything left behind (processes, mounts, cgroups, netns, temp files), which
# is reported as "not ok - CLIENT: host clean", then removed by force.
#
# Environment: BUILD, SRCDIR (from tests/run.sh), CASES (regex of case names),
# KEEP_TMP=1 (keep $CT), CLIENT_TIMEOUT (seconds per client call, default 60).

set -u
set -o pipefail
CL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$CL_DIR/../.." && pwd)}"
: "${BUILD:=$SRCDIR/build}"
RUNE=${RUNE:-$BUILD/bin/rune}
PY=/usr/bin/python3
MKIMAGE=$CL_DIR/mkimage.py
BUSYBOX=${BUSYBOX:-/bin/busybox}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-60}
PAL=$BUILD/lib/liberpal-skeleton-v3.so
ENCL_DIR=$BUILD/share/skeleton
export LC_ALL=C
# no __pycache__ in the source tree (cri.py, ctrd_update.py import protogen)
export PYTHONDONTWRITEBYTECODE=1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

: "${CLIENT:?set CLIENT before sourcing lib.sh}"
PFX="rcl${CLIENT:0:3}$$"
_t0=$SECONDS

if [ ! -x "$RUNE" ]; then
	echo "# $RUNE is not an executable (run 'make all')"
	echo "not ok - $CLIENT: rune built"
	exit 1
fi

# need_pkgs GROUP...: install the client's packages or fail the script.
need_pkgs() {
	local out
	if ! out=$("$SRCDIR/scripts/install-client-deps.sh" "$@" 2>&1); then
		printf '%s\n' "$out" | tail -15 | sed 's/^/# /'
		echo "not ok - $CLIENT: install Debian packages ($*)"
		exit 1
	fi
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	echo "# packages ready after $((SECONDS - _t0))s"
}

CT=$(mktemp -d "/tmp/rcl-$CLIENT.XXXXXX")
chmod 0755 "$CT"
_netns_before=$(ls /run/netns /var/run/docker/netns 2>/dev/null | sort)
# containerd's shims put sockets in /run/containerd/s and ctr its fifos in
# /run/containerd/fifo whatever the config: remove those dirs at the end if
# this run made them (and they are empty)
_run_ctrd_existed=0
[ -e /run/containerd ] && _run_ctrd_existed=1

# ---------------------------------------------------------------- images

build_rootfs() { # DIR
	if [ -f "$ENCL_DIR/encl.elf" ] && [ -f "$ENCL_DIR/encl.ss" ]; then
		"$PY" "$MKIMAGE" rootfs "$1" --enclave "$ENCL_DIR"
	else
		"$PY" "$MKIMAGE" rootfs "$1"
	fi
}

# import_busybox CLIENT NAME: the busybox rootfs as image $IMG through
# `CLIENT import` (docker and podman alike); a failure ends the script.
import_busybox() {
	build_rootfs "$CT/rootfs"
	"$PY" "$MKIMAGE" tar "$CT/rootfs" "$CT/rootfs.tar"
	cl "$1" import --change 'CMD ["sh"]' "$CT/rootfs.tar" "$IMG"
	if [ "$RC" != 0 ]; then
		printf '%s\n' "$ERR" | sed 's/^/# /'
		echo "not ok - $2: import the busybox image"
		exit 1
	fi
	echo "ok - $2: import the busybox image"
}

# have_enclave: the PAL and the enclave files are built.
have_enclave() {
	[ -f "$PAL" ] && [ -f "$ENCL_DIR/encl.elf" ] && [ -f "$ENCL_DIR/encl.ss" ]
}

# tee_src FORMAT NAME OUT: the busybox rootfs as an image archive
# (mkimage.py --format FORMAT) whose command is `sha256sum /etc/passwd`;
# skips without the LibOS. tee_convert SRC OUT [FLAG...]: `rune-image
# convert`. tee_image FORMAT NAME OUT: both, the output named NAME-tee.
TEE_KEY=$BUILD/share/skeleton/signing_key.pem
tee_src() {
	[ -x "$BUILD/bin/rune-image" ] && [ -f "$BUILD/lib/liberpal-libos.so" ] && [ -f "$TEE_KEY" ] ||
		skip "the LibOS is not built"
	"$PY" "$MKIMAGE" oci "$CT/rootfs" "$3" "$2" --format "$1" \
		--cmd '["sha256sum","/etc/passwd"]' --created 2024-05-06T07:08:09Z
}
tee_convert() {
	"$BUILD/bin/rune-image" convert --key "$TEE_KEY" --heap 32M "${@:3}" "$1" "$2" \
		>"$CT/conv.out" 2>&1 || fail "rune-image convert: $(cat "$CT/conv.out")"
}
tee_image() {
	tee_src "$1" "$2" "$CT/conv-src.tar"
	tee_convert "$CT/conv-src.tar" "$3" --tag "$2-tee"
	rm -f "$CT/conv-src.tar"
}

# tee_load_run CLIENT FORMAT NAME RUN-FLAG...: tee_image of NAME loaded
# with `CLIENT load` (docker, podman: the same CLI), run by `CLIENT run
# --rm RUN-FLAGS NAME-tee`: the output is the native run's, and with
# /etc/passwd replaced by a bind mount the LibOS refuses it.
tee_load_run() {
	local c=$1 fmt=$2 name=$3 img=$3-tee
	shift 3
	tee_image "$fmt" "$name" "$CT/conv-tee.tar"
	cl_ok "$c" load -i "$CT/conv-tee.tar"
	rm -f "$CT/conv-tee.tar"
	cl "$c" run --rm "$@" "$img"
	assert_rc 0 "$c run of the converted image ($ERR)"
	assert_eq "$(chroot "$CT/rootfs" /bin/sha256sum /etc/passwd)" "$OUT" "output (as native)"
	echo "not the image's" >"$CT/passwd"
	cl "$c" run --rm "$@" -v "$CT/passwd:/etc/passwd:ro" "$img"
	assert_fails "run with a trusted file replaced"
	assert_match "libos: /etc/passwd: [a-zA-Z-]+ differs from the manifest: refused" "$ERR" \
		"the LibOS's refusal"
	assert_contains "/etc/passwd': Permission denied" "$ERR" "the workload's error"
	cl_ok "$c" rmi "$img"
}

# The runtime wrapper for enclave containers: rune with --pal-dir.
cat >"$CT/rune-pal" <<WRAP
#!/bin/sh
exec "$RUNE" --pal-dir "$BUILD/lib" "\$@"
WRAP
chmod 0755 "$CT/rune-pal"

# ------------------------------------------------------------ reporting

fail() {
	echo "# FAIL: $*"
	if [ -n "${RC:-}" ]; then
		echo "# last client call: rc=$RC: ${CMD:-}"
		[ -n "${OUT:-}" ] && printf '%s\n' "$OUT" | head -20 | sed 's/^/#   out: /'
		[ -n "${ERR:-}" ] && printf '%s\n' "$ERR" | head -20 | sed 's/^/#   err: /'
	fi
	exit 1
}
skip() {
	echo "$*" >"$CT/.skip"
	exit 77
}
assert_rc() { [ "$RC" = "$1" ] || fail "${2:-client} exited $RC, expected $1"; }
assert_fails() { [ "$RC" != 0 ] || fail "${1:-client} succeeded, expected a failure"; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"; }
assert_match() { [[ $2 =~ $1 ]] || fail "${3:-value} does not match /$1/: '$2'"; }
assert_contains() { [[ $2 == *"$1"* ]] || fail "${3:-value} lacks '$1': '$2'"; }

# cl CMD...: run a client command under a timeout, capturing stdout/stderr
# into $OUT/$ERR, status into $RC; never fails by itself.
cl() {
	CMD="$*"
	RC=0
	timeout -k 5 "$CLIENT_TIMEOUT" "$@" >"$CT/.out" 2>"$CT/.err" </dev/null || RC=$?
	OUT=$(tr -d '\r' <"$CT/.out")
	ERR=$(tr -d '\r' <"$CT/.err")
	return 0
}
# cl_ok CMD...: cl, requiring exit 0.
cl_ok() {
	cl "$@"
	[ "$RC" = 0 ] || fail "command failed"
}
# cl_tty CMD...: like cl, but CMD's stdin/stdout/stderr are a pseudo-terminal
# (CI has none: script(1) makes one).  Output (CR stripped) in $OUT.
cl_tty() {
	local q
	q=$(printf '%q ' "$@")
	CMD="$* (under a pty)"
	RC=0
	timeout -k 5 "$CLIENT_TIMEOUT" script -qefc "$q" /dev/null >"$CT/.out" 2>"$CT/.err" </dev/null || RC=$?
	OUT=$(tr -d '\r' <"$CT/.out")
	ERR=$(tr -d '\r' <"$CT/.err")
	return 0
}

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	local n=$(($1 * 5)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# cgroup_of PID CONTROLLER: the process's cgroup path (v1 controller).
cgroup_of() { sed -n "s/^[0-9]*:[^:]*\\b$2\\b[^:]*://p" "/proc/$1/cgroup"; }
# memory_limit_of PID: the memory limit of the process's memory cgroup,
# whatever the layout (v1 memory.limit_in_bytes, v2 memory.max).
memory_limit_of() {
	local cg
	cg=$(cgroup_of "$1" memory)
	if [ -n "$cg" ] && [ -f "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" ]; then
		cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes"
		return
	fi
	cg=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
	for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ -f "$m$cg/memory.max" ] && cat "$m$cg/memory.max" && return
	done
	echo "?"
}
# state_of PID: the process state letter (R S D T Z ...)
state_of() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
# frozen PID: the process is in a frozen freezer cgroup.
frozen() {
	local cg
	cg=$(cgroup_of "$1" freezer)
	if [ -n "$cg" ] && [ -f "/sys/fs/cgroup/freezer$cg/freezer.state" ]; then
		[ "$(cat "/sys/fs/cgroup/freezer$cg/freezer.state")" = FROZEN ]
		return
	fi
	cg=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
	for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ -f "$m$cg/cgroup.freeze" ] && [ "$(cat "$m$cg/cgroup.freeze")" = 1 ] && return 0
	done
	return 1
}

# ------------------------------------------------------------ cases

_on_err() { echo "# line $3: command failed (status $1): $2" >&2; }

# tcase NAME FUNCTION [ARG...]
tcase() {
	local name=$1 rc t0=$SECONDS
	shift
	if [ -n "${CASES:-}" ] && ! [[ $name =~ $CASES ]]; then
		return 0
	fi
	rm -f "$CT/.skip"
	(
		set -eE
		trap '_on_err $? "$BASH_COMMAND" $LINENO' ERR
		cd "$CT"
		"$@"
	) >"$CT/.case.log" 2>&1 </dev/null
	rc=$?
	if declare -F client_case_cleanup >/dev/null; then
		client_case_cleanup >>"$CT/.case.log" 2>&1 || true
	fi
	if [ $rc = 77 ]; then
		echo "skip - $name ($(cat "$CT/.skip" 2>/dev/null))"
	elif [ $rc = 0 ]; then
		echo "ok - $name # $((SECONDS - t0))s"
	else
		tail -30 "$CT/.case.log" | sed 's/^\([^#]\)/# \1/'
		echo "not ok - $name"
	fi
	return 0
}

# ------------------------------------------------------------ leftovers

_leftover_procs() {
	local f pid
	for f in $({
		grep -lsa -- "$CT" /proc/[0-9]*/cmdline
		grep -ls -- "$PFX" /proc/[0-9]*/cgroup
		grep -lsa -- "$PFX" /proc/[0-9]*/cmdline
	} 2>/dev/null | sort -u); do
		pid=${f#/proc/}
		pid=${pid%%/*}
		[ "$pid" = $$ ] || [ "$pid" = "${BASHPID:-}" ] && continue
		[ "$(state_of "$pid")" = Z ] && continue
		[ -e "/proc/$pid" ] && echo "$pid"
	done
	return 0
}
_leftover_mounts() {
	awk -v t="$CT" -v p="$PFX" 'index($5, t) == 1 || index($5, p) > 0 || index($4, p) > 0 { print $5 }' /proc/self/mountinfo | sort -r -u
}
_leftover_cgroups() {
	{ find /sys/fs/cgroup -maxdepth 6 -type d -name "*$PFX*" 2>/dev/null || true; } | sort -r
}
_leftover_netns() {
	comm -13 <(echo "$_netns_before") <(ls /run/netns /var/run/docker/netns 2>/dev/null | sort) | grep -v '^$' || true
}
_leftovers() {
	local s="" x
	x=$(_leftover_procs | while read -r p; do echo "$p($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-80))"; done | tr '\n' ' ')
	[ -n "$x" ] && s+="processes: $x; "
	x=$(_leftover_mounts | tr '\n' ' ')
	[ -n "$x" ] && s+="mounts: $x; "
	x=$(_leftover_cgroups | tr '\n' ' ')
	[ -n "$x" ] && s+="cgroups: $x; "
	x=$(_leftover_netns | tr '\n' ' ')
	[ -n "$x" ] && s+="netns: $x; "
	[ -n "${CLIENT_EXTRA_LEFTOVERS:-}" ] && x=$(eval "$CLIENT_EXTRA_LEFTOVERS") && [ -n "$x" ] && s+="$x; "
	echo -n "$s"
}
_force_clean() {
	local p m c i
	for i in 1 2 3; do
		for p in $(_leftover_procs); do kill -9 "$p" 2>/dev/null; done
		sleep 0.3
		for m in $(_leftover_mounts); do umount -l "$m" 2>/dev/null; done
		for c in $(_leftover_cgroups); do
			for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		done
		sleep 0.2
		for c in $(_leftover_cgroups); do
			find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
		[ -z "$(_leftovers)" ] && return 0
	done
}

_finish() {
	local left i
	trap - EXIT INT TERM
	if declare -F client_stop >/dev/null; then
		client_stop >"$CT/.stop.log" 2>&1 || true
	fi
	[ $_run_ctrd_existed = 0 ] && rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null
	for ((i = 0; i < 25; i++)); do
		left=$(_leftovers)
		[ -z "$left" ] && break
		sleep 0.2
	done
	if [ -n "$left" ]; then
		sed 's/^/# stop: /' "$CT/.stop.log" | tail -10
		echo "# left behind: $left"
		echo "not ok - $CLIENT: host clean after the daemon stopped"
		_force_clean
	elif [ "${_started:-0}" = 1 ]; then
		echo "ok - $CLIENT: host clean after the daemon stopped"
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $CT" >&2
	else
		# overlay/fuse leftovers were unmounted above: stay on this fs
		rm -rf --one-file-system "$CT" 2>/dev/null || rm -rf "$CT"
	fi
	echo "# $CLIENT: $((SECONDS - _t0))s in all"
}
trap _finish EXIT
trap 'exit 130' INT TERM
echo "# rune: $RUNE ($("$RUNE" --version 2>/dev/null | head -1)); temp dir $CT; prefix $PFX"
