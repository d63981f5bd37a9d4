# shellcheck shell=bash
# Shared helpers for tests/integration/test-*.sh (see docs/testing.md).
#
# A script sources this file, defines one function per case and calls
# `tcase NAME FUNCTION` for each.  Every case runs in a subshell with
# `set -e`, stdin from /dev/null, its output captured; it prints exactly one
# line: "ok - NAME", "not ok - NAME" (after "# " diagnostics) or
# "skip - NAME (reason)".  After each case every container the script
# created is force-deleted and the host is checked for leftovers (state
# dirs, cgroups, mounts, processes): a leftover fails the case.  The EXIT
# trap does the same once more and removes the temp dir.
#
# Environment:
#   RUNTIME     runtime binary (default $BUILD/bin/rune; "runc" works)
#   BUILD       build dir (default $SRCDIR/build)
#   CASES       regex: run only matching case names
#   RT_TIMEOUT  seconds one runtime invocation may take (default 20, 45 with RUNE_ASAN)
#   KEEP_TMP=1  keep the temp dir for debugging

set -u
set -o pipefail
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$LIB_DIR/../.." && pwd)}"
: "${BUILD:=$SRCDIR/build}"
RUNTIME=${RUNTIME:-$BUILD/bin/rune}
if [[ $RUNTIME != */* ]]; then
	RUNTIME=$(command -v "$RUNTIME" || echo "$RUNTIME")
fi
PY=/usr/bin/python3
OCICFG=$LIB_DIR/ocicfg.py
RECVTTY=$LIB_DIR/recvtty.py
# sanitizer builds (make check-asan sets RUNE_ASAN=1) run slower
if [ -n "${RUNE_ASAN:-}" ]; then RT_TIMEOUT=${RT_TIMEOUT:-45}; else RT_TIMEOUT=${RT_TIMEOUT:-20}; fi
BUSYBOX=${BUSYBOX:-/bin/busybox}
export LC_ALL=C

_script=$(basename "$0" .sh)
_script=${_script#test-}
# Unique per script run: container ids, and so cgroup names, start with it.
PFX="rit$$$(echo "$_script" | tr -cd 'a-z' | cut -c1-5)"

if [ ! -x "$RUNTIME" ]; then
	echo "# RUNTIME=$RUNTIME is not an executable (run 'make all', or set RUNTIME=runc)"
	echo "not ok - $_script: runtime present"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "skip - $_script (needs root)"
	exit 0
fi
if [ ! -x "$BUSYBOX" ] || ! "$BUSYBOX" --list >/dev/null 2>&1; then
	echo "skip - $_script (busybox-static is not installed: $BUSYBOX)"
	exit 0
fi

RUNTIME_VERSION=$("$RUNTIME" --version 2>/dev/null | head -1)
IS_RUNC=0
case $RUNTIME_VERSION in runc*) IS_RUNC=1 ;; esac
RUNC_VER=$(echo "$RUNTIME_VERSION" | sed -n 's/^runc version \([0-9.]*\).*/\1/p')

T=$(mktemp -d "/tmp/rune-it-$_script.XXXXXX")
chmod 0755 "$T"
ROOT=$T/state
mkdir -p "$ROOT" "$T/b" "$T/share"

# ---------------------------------------------------------------- rootfs

# build_rootfs DIR: busybox-static, applet symlinks, /etc/passwd with a test
# user (1000) and groups.
build_rootfs() {
	local r=$1 a
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/test,var,run,mnt}
	cp "$BUSYBOX" "$r/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	cat >"$r/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		test:x:1000:1000:test user:/home/test:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$r/etc/group" <<-'EOF'
		root:x:0:
		tty:x:5:
		test:x:1000:
		extra:x:1001:test
		more:x:1002:
		nogroup:x:65534:
	EOF
	echo "rune-test" >"$r/etc/hostname"
	chmod 1777 "$r/tmp"
	chown 1000:1000 "$r/home/test"
}
build_rootfs "$T/rootfs.tmpl"

# new_bundle [NAME]: a fresh bundle $B (rootfs copy + default config) and the
# container id $ID for it.  Default args: ["true"].
_nb=0
new_bundle() {
	_nb=$((_nb + 1))
	local name=${1:-c$_nb}
	B=$T/b/$name
	ID=$PFX-$name
	rm -rf "$B"
	mkdir -p "$B"
	cp -a "$T/rootfs.tmpl" "$B/rootfs"
	"$PY" "$OCICFG" gen "$B/config.json" '["true"]'
}

# --------------------------------------------------------- config editing

cfg_set() { "$PY" "$OCICFG" set "$B/config.json" "$1" "$2"; }
cfg_del() { "$PY" "$OCICFG" del "$B/config.json" "$1"; }
cfg_append() { "$PY" "$OCICFG" append "$B/config.json" "$1" "$2"; }
cfg_get() { "$PY" "$OCICFG" get "$B/config.json" "$1"; }
cfg_py() { "$PY" "$OCICFG" py "$B/config.json" "$1"; }
# cfg_args ARG...: process.args as given
cfg_args() { cfg_set .process.args "$(jarr "$@")"; }
# cfg_sh SCRIPT: process.args = sh -c SCRIPT
cfg_sh() { cfg_args sh -c "$1"; }
# jarr ARG...: a JSON array of strings
jarr() { "$PY" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }
# jget PATH < JSON: a field of JSON on stdin (strings raw)
jget() { "$PY" "$OCICFG" get - "$1"; }
# jq_py EXPR < JSON: evaluate a python expression over `d` (the JSON)
jq_py() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if isinstance(r,str) else json.dumps(r))' "$1"; }

# add_share: bind a fresh host dir $SH at /share (rw) in the container.
add_share() {
	SH=$T/share/${B##*/}
	mkdir -p "$SH"
	chmod 0777 "$SH"
	cfg_append .mounts "{\"destination\":\"/share\",\"type\":\"bind\",\"source\":\"$SH\",\"options\":[\"rbind\",\"rw\"]}"
}

# ------------------------------------------------------------- running

# rt ARG...: the runtime, with our --root, under a timeout.
rt() { timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@"; }
# rtc ARG...: rt capturing stdout/stderr into $OUT/$ERR and status into $RC;
# never fails by itself.
rtc() {
	RC=0
	LAST_CMD="$*"
	rt "$@" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	return 0
}
# ct_run [RUN-FLAG...]: `run` the current bundle in the foreground (rtc).
ct_run() { rtc run --bundle "$B" "$@" "$ID"; }
# ct_sh SCRIPT: run `sh -c SCRIPT` in the current bundle, require exit 0;
# stdout in $OUT.
ct_sh() {
	cfg_sh "$1"
	ct_run
	[ "$RC" -eq 0 ] || fail "run failed (rc=$RC) for: $1"
}
# ct_create [FLAG...]: create the current bundle, require success.
ct_create() {
	rtc create --bundle "$B" "$@" "$ID"
	[ "$RC" -eq 0 ] || fail "create failed (rc=$RC)"
}
# ct_bg [RUN-FLAG...]: run in the foreground, in the background of the test;
# $BGPID; output in $T/bg.out, $T/bg.err.
ct_bg() {
	# Emptied before the job starts: a wait for its output never reads the last one's.
	: >"$T/bg.out"
	: >"$T/bg.err"
	rt run --bundle "$B" "$@" "$ID" >>"$T/bg.out" 2>>"$T/bg.err" </dev/null &
	BGPID=$!
}
# rt_pid_of_bg: the runtime process started by ct_bg (timeout's child).
rt_pid_of_bg() {
	local i c
	for ((i = 0; i < 50; i++)); do
		c=$(ps -o pid= --ppid "$BGPID" | head -1 | tr -d ' ')
		[ -n "$c" ] && echo "$c" && return 0
		sleep 0.1
	done
	fail "no runtime process under $BGPID"
}
# status ID: the container's status from `state` (empty if none).
status() { rt state "$1" 2>/dev/null | jget .status 2>/dev/null || true; }
# wait_status ID STATUS [SECONDS]
wait_status() {
	local i n=$((${3:-10} * 10))
	for ((i = 0; i < n; i++)); do
		[ "$(status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "container $1 did not reach status '$2' (now '$(status "$1")')"
}
# wait_file FILE [SECONDS]
wait_file() {
	local i n=$((${2:-10} * 10))
	for ((i = 0; i < n; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	fail "timed out waiting for $1"
}
# wait_gone PID [SECONDS]
wait_gone() {
	local i n=$((${2:-10} * 10))
	for ((i = 0; i < n; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "process $1 still alive"
}

# ------------------------------------------------------------ asserting

fail() {
	echo "# FAIL: $*"
	if [ -n "${RC:-}" ]; then
		echo "# last runtime call: rc=$RC: ${LAST_CMD:-?}"
		[ -n "${OUT:-}" ] && printf '%s\n' "$OUT" | head -15 | sed 's/^/#   out: /'
		[ -n "${ERR:-}" ] && printf '%s\n' "$ERR" | head -15 | sed 's/^/#   err: /'
	fi
	exit 1
}
skip() {
	echo "$*" >"$T/skip"
	exit 77
}
# vuln_or_skip MSG: the attack worked.  Against runc that predates the fix
# this is a skip; against anything else a failure.
vuln_or_skip() {
	[ "$IS_RUNC" = 1 ] && skip "runc $RUNC_VER predates the fix: $*"
	fail "$*"
}
# differs_from_runc MSG: rune is deliberately stricter/clearer than runc here
# (issue 2); against runc the check is skipped, against rune it fails.
differs_from_runc() {
	[ "$IS_RUNC" = 1 ] && skip "runc differs: $*"
	fail "$*"
}
# runc_quirk MSG: a known runc 1.1 deviation from the OCI spec that rune
# fixes: noted (and tolerated) against runc, a failure against rune.
runc_quirk() {
	[ "$IS_RUNC" = 1 ] && echo "# runc quirk tolerated: $*" && return 0
	fail "$*"
}
assert_rc() { # EXPECTED [WHAT]
	[ "$RC" = "$1" ] || fail "${2:-runtime} exited $RC, expected $1"
}
assert_fails() { # [WHAT]
	[ "$RC" != 0 ] || fail "${1:-runtime} succeeded, expected a failure"
}
assert_eq() { # EXPECTED GOT [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}
assert_ne() { # UNEXPECTED GOT [WHAT]
	[ "$1" != "$2" ] || fail "${3:-value}: got '$2', expected something else"
}
assert_match() { # ERE STRING [WHAT]
	[[ $2 =~ $1 ]] || fail "${3:-value} does not match /$1/: '$2'"
}
assert_no_match() { # ERE STRING [WHAT]
	[[ ! $2 =~ $1 ]] || fail "${3:-value} matches /$1/: '$2'"
}
assert_contains() { # SUBSTRING STRING [WHAT]
	[[ $2 == *"$1"* ]] || fail "${3:-value} lacks '$1': '$2'"
}
assert_not_contains() { # SUBSTRING STRING [WHAT]
	[[ $2 != *"$1"* ]] || fail "${3:-value} contains '$1': '$2'"
}
# assert_clear_error [MUST-MENTION-REGEX] [WHAT]: $ERR is one non-empty line
# mentioning REGEX (issue 2's "one clear line on stderr").  runc's errors
# are wordier: against runc only "some message" is required.
assert_clear_error() {
	local n what=${2:-the runtime}
	n=$(printf "%s\n" "$ERR" | grep -c . || true)
	[ "$n" -ge 1 ] || fail "$what: no error message on stderr"
	if [ -n "${1:-}" ]; then
		if ! [[ $ERR =~ $1 ]]; then
			[ "$IS_RUNC" = 1 ] || fail "$what: error does not mention /$1/: $ERR"
		fi
	fi
	if [ "$n" -ne 1 ]; then
		[ "$IS_RUNC" = 1 ] || fail "$what: expected one line on stderr, got $n"
	fi
}
# assert_nothing_left ID: no state dir, cgroup, mount, process for ID.
assert_nothing_left() {
	local id=$1 left i
	for ((i = 0; i < 30; i++)); do
		left=$(_leftovers "$id")
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || fail "left behind for $id: $left"
	rt state "$id" >/dev/null 2>&1 && fail "state $id still succeeds"
	return 0
}

# host_ns NAME: the host's namespace link (e.g. "net:[4026531840]")
host_ns() { readlink "/proc/self/ns/$1"; }

# ------------------------------------------------------ leftover checks

# _leftover_cgroups [PATTERN]: cgroup dirs named PATTERN* on any hierarchy.
_leftover_cgroups() {
	{ find /sys/fs/cgroup -maxdepth 4 -type d -name "${1:-$PFX}*" 2>/dev/null || true; } | sort -r
}
_leftover_mounts() { # [PATTERN]
	awk -v t="$T" -v p="${1:-$PFX}" 'index($5, t) == 1 || index($5, p) > 0 { print $5 }' /proc/self/mountinfo | sort -r
}
# processes that belong to our containers: in one of our cgroups, or with
# the id prefix in their command line (runtime invocations we started).
_leftover_procs() { # [PATTERN]
	local f pid pat=${1:-$PFX}
	for f in $({
		grep -ls -- "/$pat" /proc/[0-9]*/cgroup || true
		grep -lsa -- "$pat" /proc/[0-9]*/cmdline || true
	} 2>/dev/null | sort -u); do
		pid=${f#/proc/}
		pid=${pid%%/*}
		[ "$pid" = $$ ] && continue
		[ "$pid" = "${BASHPID:-}" ] && continue
		# zombies are their reaper's business, not the runtime's
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
		[ -e "/proc/$pid" ] && echo "$pid"
	done
	return 0
}
_leftover_state() { # [PATTERN]
	local d
	for d in "$ROOT"/"${1:-$PFX}"*; do
		[ -e "$d" ] && echo "$d"
	done
	return 0
}
_leftovers() { # [PATTERN] -> one summary line or nothing
	local s="" x
	x=$(_leftover_state "$@" | tr '\n' ' ')
	[ -n "$x" ] && s+="state: $x; "
	x=$(_leftover_cgroups "$@" | tr '\n' ' ')
	[ -n "$x" ] && s+="cgroups: $x; "
	x=$(_leftover_mounts "$@" | tr '\n' ' ')
	[ -n "$x" ] && s+="mounts: $x; "
	x=$(_leftover_procs "$@" | while read -r p; do echo "$p($(tr "\\0" " " 2>/dev/null <"/proc/$p/cmdline" | cut -c1-60))"; done | tr '\n' ' ')
	[ -n "$x" ] && s+="processes: $x; "
	echo -n "$s"
}

# _cleanup: force-delete every container of ours, wait a little, report
# leftovers (stdout), then remove them by force.
_cleanup() {
	local ids id i left p c m
	ids=$({
		rt list -q 2>/dev/null
		ls "$ROOT" 2>/dev/null
	} | grep "^$PFX" | sort -u)
	for id in $ids; do
		timeout -k 2 10 "$RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
	done
	for ((i = 0; i < 30; i++)); do
		left=$(_leftovers)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "$left"
	for p in $(_leftover_procs); do kill -9 "$p" 2>/dev/null; done
	sleep 0.2
	for m in $(_leftover_mounts); do umount -l "$m" 2>/dev/null; done
	for c in $(_leftover_cgroups); do
		for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	sleep 0.2
	for c in $(_leftover_cgroups); do rmdir "$c" 2>/dev/null; done
	rm -rf "${ROOT:?}/$PFX"*
	return 0
}

_on_err() {
	echo "# line $3: command failed (status $1): $2" >&2
}

# tcase NAME FUNCTION [ARG...]
tcase() {
	local name=$1 rc left
	shift
	if [ -n "${CASES:-}" ] && ! [[ $name =~ $CASES ]]; then
		return 0
	fi
	rm -f "$T/skip"
	(
		set -eE
		trap '_on_err $? "$BASH_COMMAND" $LINENO' ERR
		cd "$T"
		"$@"
	) >"$T/case.log" 2>&1 </dev/null
	rc=$?
	left=$(_cleanup)
	if [ $rc = 77 ] && [ -z "$left" ]; then
		echo "skip - $name ($(cat "$T/skip" 2>/dev/null))"
	elif [ $rc = 0 ] && [ -z "$left" ]; then
		echo "ok - $name"
	else
		tail -25 "$T/case.log" | sed 's/^\([^#]\)/# \1/'
		[ $rc = 0 ] || [ $rc = 77 ] || [ -s "$T/case.log" ] || echo "# case exited with status $rc"
		[ -n "$left" ] && echo "# left behind after delete --force: $left"
		echo "not ok - $name"
	fi
	return 0
}

_finish() {
	local left
	[ -n "${_finished:-}" ] && return 0
	_finished=1
	left=$(_cleanup)
	if [ -n "$left" ]; then
		echo "# $left"
		echo "not ok - $_script: host clean at exit"
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf --one-file-system "$T"
	fi
}
trap _finish EXIT
# killed by the runner's timeout: clean up all the same
trap '_finish; exit 143' TERM
trap '_finish; exit 130' INT
trap '_finish; exit 129' HUP
echo "# runtime: $RUNTIME ($RUNTIME_VERSION)"
