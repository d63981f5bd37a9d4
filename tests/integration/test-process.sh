#!/bin/bash
# timeout: 180
# The process: user, umask, capabilities, rlimits, noNewPrivileges, cwd, env,
# PATH lookup, fds (no leaks, --preserve-fds, LISTEN_FDS), --no-pivot.
. "$(dirname "$0")/lib.sh"

status_field() { echo "$OUT" | awk -v f="$1:" '$1 == f {$1=""; sub(/^ /, ""); print}'; }

t_user() {
	new_bundle
	cfg_set .root.readonly false
	cfg_set .process.user '{"uid": 1000, "gid": 1000, "additionalGids": [1002], "umask": 63}'
	ct_sh 'grep -E "^(Uid|Gid|Groups):" /proc/self/status; umask; id -u; id -g; touch /tmp/f 2>/dev/null; cd /home/test && touch f && stat -c %a f'
	assert_eq '1000 1000 1000 1000' "$(status_field Uid)" "Uid line"
	assert_eq '1000 1000 1000 1000' "$(status_field Gid)" "Gid line"
	assert_contains 1002 "$(status_field Groups)" "additionalGids in Groups"
	assert_contains 0077 "$OUT" "umask 63 (0077)"
	assert_eq 600 "$(echo "$OUT" | tail -1)" "mode of a file created under umask 0077"
}

t_user_root_default_umask() {
	new_bundle
	cfg_set .root.readonly false
	ct_sh 'id -u; id -g; umask; grep ^Groups: /proc/self/status'
	assert_eq 0 "$(echo "$OUT" | sed -n 1p)" uid
	assert_eq 0 "$(echo "$OUT" | sed -n 2p)" gid
	assert_eq 0022 "$(echo "$OUT" | sed -n 3p)" "default umask"
	assert_no_match '[0-9]' "$(echo "$OUT" | sed -n 4p | cut -d: -f2)" "root's supplementary groups (none configured)"
}

t_capabilities_nonroot() {
	new_bundle
	cfg_set .process.user '{"uid": 1000, "gid": 1000}'
	cfg_set .process.capabilities '{"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}'
	ct_sh 'grep ^Cap /proc/self/status'
	# bits: CHOWN 0, KILL 5, NET_RAW 13
	assert_eq 0000000000002021 "$(status_field CapBnd)" CapBnd
	assert_eq 0000000000000020 "$(status_field CapInh)" CapInh
	assert_eq 0000000000000020 "$(status_field CapAmb)" CapAmb
	# after execve as non-root: permitted = effective = ambient
	assert_eq 0000000000000020 "$(status_field CapPrm)" CapPrm
	assert_eq 0000000000000020 "$(status_field CapEff)" CapEff
}

t_capabilities_root() {
	new_bundle
	ct_sh 'grep ^Cap /proc/self/status'
	# runc spec default: AUDIT_WRITE 29, KILL 5, NET_BIND_SERVICE 10
	assert_eq 0000000020000420 "$(status_field CapBnd)" "CapBnd of the default config"
	assert_eq 0000000020000420 "$(status_field CapEff)" "CapEff of the default config"
	assert_eq 0000000020000420 "$(status_field CapPrm)" "CapPrm of the default config"
	new_bundle b
	cfg_set .process.capabilities '{"bounding": ["CAP_SYS_ADMIN", "CAP_KILL"], "effective": ["CAP_SYS_ADMIN", "CAP_KILL"], "permitted": ["CAP_SYS_ADMIN", "CAP_KILL"]}'
	ct_sh 'grep ^Cap /proc/self/status; mkdir -p /dev/shm/m; mount -t tmpfs none /dev/shm/m && echo mounted'
	assert_eq 0000000000200020 "$(status_field CapBnd)" CapBnd
	assert_eq 0000000000200020 "$(status_field CapEff)" CapEff
	assert_eq 0000000000000000 "$(status_field CapAmb)" CapAmb
	assert_contains mounted "$OUT" "CAP_SYS_ADMIN works"
	new_bundle c
	cfg_set .process.capabilities '{}'
	ct_sh 'grep ^Cap /proc/self/status; chown 1000 /dev/shm 2>/dev/null && echo chowned; true'
	assert_eq 0000000000000000 "$(status_field CapBnd)" "CapBnd with no capabilities"
	assert_eq 0000000000000000 "$(status_field CapEff)" "CapEff with no capabilities"
	assert_not_contains chowned "$OUT" "chown without CAP_CHOWN"
	new_bundle d
	cfg_set .process.capabilities '{"bounding": ["CAP_NO_SUCH_THING"]}'
	cfg_args true
	ct_run
	[ "$RC" != 0 ] || differs_from_runc "unknown capability accepted"
	assert_nothing_left "$ID"
}

t_rlimits() {
	new_bundle
	cfg_set .process.rlimits '[{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}, {"type": "RLIMIT_NPROC", "soft": 1000, "hard": 2000}]'
	ct_sh 'cat /proc/self/limits; ulimit -n'
	assert_match 'Max open files +512 +1024 ' "$OUT" "RLIMIT_NOFILE"
	assert_match 'Max core file size +0 +0 ' "$OUT" "RLIMIT_CORE"
	assert_match 'Max processes +1000 +2000 ' "$OUT" "RLIMIT_NPROC"
	assert_eq 512 "$(echo "$OUT" | tail -1)" "ulimit -n"
	new_bundle b
	cfg_set .process.rlimits '[{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
	cfg_args true
	ct_run
	assert_fails "unknown rlimit type"
	assert_nothing_left "$ID"
}

t_rlimit_above_hard() {
	local eff
	eff=$(awk '$1 == "CapEff:" {print $2}' /proc/self/status)
	(((0x$eff >> 24) & 1)) && skip "this host has CAP_SYS_RESOURCE: raising the hard limit would succeed"
	local hard
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] && skip "nofile hard limit is unlimited"
	new_bundle
	cfg_set .process.rlimits "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": $((hard + 1)), \"hard\": $((hard + 1))}]"
	cfg_args true
	ct_run
	assert_fails "rlimit above the current hard limit without CAP_SYS_RESOURCE"
	assert_clear_error 'RLIMIT_NOFILE|rlimit|nofile'
	assert_nothing_left "$ID"
}

t_user_not_in_passwd() {
	new_bundle
	cfg_set .process.user '{"uid": 4242, "gid": 4343}'
	ct_sh 'id -u; id -g; echo "HOME=$HOME"'
	assert_eq "$(printf '%s\n' 4242 4343 HOME=/)" "$OUT" "uid/gid not in /etc/passwd (HOME defaults to /)"
}

t_cwd_created_and_relative_args() {
	new_bundle
	cfg_set .root.readonly false
	cfg_set .process.cwd '"/new/work/dir"'
	ct_sh 'pwd'
	assert_eq /new/work/dir "$OUT" "a missing cwd is created"
	new_bundle rel
	mkdir -p "$B/rootfs/opt/tools"
	printf '#!/bin/sh\necho rel-ran\n' >"$B/rootfs/opt/tools/tool"
	chmod 755 "$B/rootfs/opt/tools/tool"
	cfg_set .process.cwd '"/opt/tools"'
	cfg_args ./tool
	ct_run
	assert_rc 0 "args[0] relative to the cwd"
	assert_eq rel-ran "$OUT" "./tool"
}

t_no_new_privileges() {
	new_bundle
	ct_sh 'grep ^NoNewPrivs /proc/self/status'
	assert_eq "NoNewPrivs:	1" "$OUT" "noNewPrivileges: true"
	cfg_set .process.noNewPrivileges false
	ct_sh 'grep ^NoNewPrivs /proc/self/status'
	assert_eq "NoNewPrivs:	0" "$OUT" "noNewPrivileges: false"
}

t_cwd() {
	new_bundle
	cfg_set .process.cwd '"/home/test"'
	ct_sh 'pwd; readlink /proc/self/cwd'
	assert_eq "$(printf '%s\n' /home/test /home/test)" "$OUT" "cwd"
	cfg_set .process.cwd '"relative"'
	cfg_args true
	ct_run
	assert_fails "relative cwd"
	assert_nothing_left "$ID"
}

# Issue 11 item 9: a cwd only root can enter (0700 root) with a non-root
# user: runc enters it with full privileges, before the user switch; the
# same for exec.
t_cwd_root_only() {
	new_bundle
	mkdir -p "$B/rootfs/secret"
	chmod 0700 "$B/rootfs/secret"
	cfg_set .process.user '{"uid":1000,"gid":1000}'
	cfg_set .process.cwd '"/secret"'
	cfg_sh 'readlink /proc/self/cwd; id -u'
	ct_run
	assert_rc 0 "run with a root-only cwd as uid 1000"
	assert_eq "$(printf '%s\n' /secret 1000)" "$OUT" "cwd and uid"
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc exec "$ID" readlink /proc/self/cwd
	assert_rc 0 "exec with a root-only cwd as uid 1000"
	assert_eq /secret "$OUT" "exec cwd"
	rtc exec --cwd /secret --user 1000:1000 "$ID" readlink /proc/self/cwd
	assert_rc 0 "exec --cwd /secret --user 1000"
	assert_eq /secret "$OUT" "exec --cwd"
}

# Issue 11 item 10: the executable check honours capabilities: a user with
# CAP_DAC_OVERRIDE runs a file whose exec bit is only for others, as the
# kernel (and runc) allow.
t_exe_check_dac_override() {
	new_bundle
	printf '#!/bin/sh\necho ran\n' >"$B/rootfs/prog"
	chown 1000:1000 "$B/rootfs/prog"
	chmod 0645 "$B/rootfs/prog"
	cfg_set .process.user '{"uid":1000,"gid":1000}'
	local caps='["CAP_DAC_OVERRIDE"]'
	cfg_set .process.capabilities "{\"bounding\":$caps,\"effective\":$caps,\"permitted\":$caps,\"inheritable\":$caps,\"ambient\":$caps}"
	cfg_args /prog
	ct_run
	assert_rc 0 "run /prog (mode 0645, owner 1000) as 1000 with CAP_DAC_OVERRIDE"
	assert_eq ran "$OUT" "/prog's output"
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc exec "$ID" /prog
	assert_rc 0 "exec /prog as 1000 with CAP_DAC_OVERRIDE"
	assert_eq ran "$OUT" "exec /prog's output"
	rtc kill "$ID" KILL
	wait_status "$ID" stopped
	rtc delete "$ID"
	# without the capability the kernel refuses it: so must the runtime
	cfg_set .process.capabilities '{"bounding":[],"effective":[],"permitted":[],"inheritable":[],"ambient":[]}'
	cfg_args /prog
	ct_run
	assert_fails "run /prog as 1000 without CAP_DAC_OVERRIDE"
}

# Issue 11 item 11: ioPriority (and scheduler) apply to exec'd processes as
# to the init (runc 1.2; 1.1 has neither): from the config, or --process.
t_io_priority_scheduler_exec() {
	new_bundle
	cfg_set .process.ioPriority '{"class":"IOPRIO_CLASS_BE","priority":6}'
	cfg_set .process.scheduler '{"policy":"SCHED_BATCH"}'
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	local probe='ionice; cut -d" " -f41 /proc/self/stat'
	rtc exec "$ID" sh -c "ionice -p 1; cut -d' ' -f41 /proc/1/stat"
	assert_rc 0 "exec (init's)"
	if [ "$IS_RUNC" = 1 ] && [ "$OUT" != "$(printf '%s\n' 'best-effort: prio 6' 3)" ]; then
		skip "runc $RUNC_VER has no ioPriority or scheduler (1.2 has)"
	fi
	assert_eq "$(printf '%s\n' 'best-effort: prio 6' 3)" "$OUT" "init's I/O priority and policy"
	rtc exec "$ID" sh -c "$probe"
	assert_rc 0 exec
	assert_eq "$(printf '%s\n' 'best-effort: prio 6' 3)" "$OUT" "exec's I/O priority and policy (3: SCHED_BATCH)"
	"$PY" -c "import json; d=json.load(open('$B/config.json')); p=d['process']; p['args']=['sh','-c','$probe']; p['ioPriority']={'class':'IOPRIO_CLASS_IDLE','priority':0}; p['scheduler']={'policy':'SCHED_IDLE'}; json.dump(p, open('$T/process.json','w'))"
	rtc exec --process "$T/process.json" "$ID"
	assert_rc 0 "exec --process"
	assert_eq "$(printf '%s\n' 'idle' 5)" "$OUT" "exec --process: I/O priority and policy (5: SCHED_IDLE)"
}

# An env entry without "=": refused at create, as runc refuses it ("invalid
# environment variable"), with the entry named; nothing is left.
t_env_not_key_value() {
	new_bundle
	cfg_set .process.env '["PATH=/bin", "FOO"]'
	cfg_sh 'echo ran'
	ct_run
	assert_fails "env entry without ="
	assert_not_contains ran "$OUT" "the workload ran"
	assert_clear_error 'env.*FOO|FOO.*env' "env entry without ="
	assert_nothing_left "$ID"
}

t_env() {
	new_bundle
	cfg_set .process.env '["PATH=/bin:/usr/bin", "A=1", "B=two words", "EMPTY="]'
	ct_run_env() { RUNE_TEST_LEAK=leaked rtc run --bundle "$B" "$ID"; }
	cfg_sh 'env'
	ct_run_env
	assert_rc 0 run
	assert_contains "A=1" "$OUT" env
	assert_contains "B=two words" "$OUT" env
	assert_contains "PATH=/bin:/usr/bin" "$OUT" env
	assert_match '(^|
)EMPTY=($|
)' "$OUT" "empty value"
	assert_not_contains RUNE_TEST_LEAK "$OUT" "runtime's env leaked into the container"
	assert_not_contains PYENV "$OUT" "runtime's env leaked into the container"
	assert_contains "HOME=/root" "$OUT" "HOME from /etc/passwd when not set"
}

t_path_lookup() {
	new_bundle
	mkdir -p "$B/rootfs/opt/tools"
	printf '#!/bin/sh\necho tool-ran "$@"\n' >"$B/rootfs/opt/tools/mytool"
	chmod 755 "$B/rootfs/opt/tools/mytool"
	cfg_set .process.env '["PATH=/nonexistent:/opt/tools:/bin"]'
	cfg_args mytool a b
	ct_run
	assert_rc 0 "run of args[0] found through the config's PATH"
	assert_eq "tool-ran a b" "$OUT" "PATH lookup"
	cfg_args id -u
	ct_run
	assert_rc 0 "run of 'id'"
	assert_eq 0 "$OUT" "id -u"
	# not in the config's PATH (but on the host's): must fail
	cfg_set .process.env '["PATH=/opt/tools"]'
	cfg_args busybox true
	ct_run
	assert_fails "args[0] not in the container's PATH"
	assert_nothing_left "$ID"
}

# fds_of PID: its open fd numbers, space separated; fail if any refers to
# a path under our temp dir (bundle, rootfs, state: the CVE-2024-21626 class).
fds_of() {
	local f l out=""
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f") || continue
		case $l in "$T"*) [ "${2:-}" = allow-tmp ] || fail "pid $1 holds fd ${f##*/} -> $l" ;; esac
		out+="${f##*/} "
	done
	echo "$out" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' '
}

# exec_pid ID: the pid of the one process in the container besides init
other_pid() {
	local i init p
	init=$(rt state "$1" | jget .pid)
	for ((i = 0; i < 50; i++)); do
		p=$(rt ps --format json "$1" | jq_py "' '.join(str(x) for x in d if x != $init)")
		[ -n "$p" ] && echo "$p" && return 0
		sleep 0.1
	done
	fail "no second process in $1"
}

t_no_fd_leaks() {
	# fds open in the caller (and not preserved) must not reach the container
	exec 7<"$T/rootfs.tmpl/etc/passwd" 8>"$T/leak" 9<"$T"
	new_bundle
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	local init
	init=$(rt state "$ID" | jget .pid)
	assert_eq "0 1 2 " "$(fds_of "$init" allow-tmp)" "fds of init (run -d)"
	# stdio are the caller's files here (run -d): anything else is a leak
	rtc exec -d --pid-file "$T/e.pid" "$ID" sleep 1000
	assert_rc 0 "exec -d"
	assert_eq "0 1 2 " "$(fds_of "$(cat "$T/e.pid")" allow-tmp)" "fds of an exec -d process"
	# foreground run and exec
	new_bundle fg
	cfg_args sleep 1000
	ct_bg
	wait_status "$ID" running
	init=$(rt state "$ID" | jget .pid)
	assert_eq "0 1 2 " "$(fds_of "$init" allow-tmp)" "fds of init (foreground run)"
	rt exec "$ID" sleep 1000 >/dev/null 2>&1 </dev/null &
	local ep fds
	ep=$(other_pid "$ID")
	fds=$(fds_of "$ep")
	exec 7<&- 8>&- 9<&-
	[ "$fds" = "0 1 2 " ] || vuln_or_skip "fds of a foreground exec process: $fds ($(ls -l /proc/"$ep"/fd | tail -n +2 | awk '{print $(NF-2), $NF}' | tr '\n' ' '))"
}

# rt_odd_signals ARG...: rt from a caller that ignores PIPE, INT, QUIT and HUP
# and blocks TERM and USR1 (python3 sets them up and execs the runtime).
rt_odd_signals() {
	timeout -k 5 "$RT_TIMEOUT" "$PY" -c '
import os, signal, sys
for s in (signal.SIGPIPE, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})
os.execv(sys.argv[1], sys.argv[1:])' "$RUNTIME" --root "$ROOT" "$@"
}

# assert_default_signals WHAT STATUS-LINES: no signal blocked or ignored.
assert_default_signals() {
	local want
	want=$(printf 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000')
	[ "$2" = "$want" ] && return 0
	# runc 1.1 passes the caller's blocked SIGUSR1 (0x200) on
	[ "$IS_RUNC" = 1 ] && [ "$2" = "${want/0000000000000000/0000000000000200}" ] ||
		fail "$1: expected '$want', got '$2'"
	runc_quirk "$1: $2"
}

t_signals_reset() {
	# Whatever the caller ignored or blocked (a daemon's SIGPIPE, a background
	# job's SIGINT), the workload starts with defaults, for run and for exec.
	new_bundle
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	assert_default_signals "exec'd process" \
		"$(rt_odd_signals exec "$ID" grep -E '^Sig(Blk|Ign)' /proc/self/status 2>&1)"
	new_bundle fresh
	cfg_args grep -E '^Sig(Blk|Ign)' /proc/self/status
	assert_default_signals init "$(rt_odd_signals run --bundle "$B" "$ID" 2>&1)"
}

t_cwd_inside_rootfs() {
	new_bundle
	cfg_args sleep 1000
	cfg_set .process.cwd '"/tmp"'
	rtc run -d --bundle "$B" "$ID"
	local init
	init=$(rt state "$ID" | jget .pid)
	# seen from the container: the cwd is inside its root
	rtc exec --cwd /home "$ID" sh -c 'readlink /proc/self/cwd; readlink /proc/1/cwd; cd .. && pwd; cd /proc/self/cwd/../../.. && pwd'
	assert_eq "$(printf '%s\n' /home /tmp / /)" "$OUT" "cwds inside the container"
	# seen from the host: init's cwd is the rootfs' /tmp
	assert_eq "$(stat -Lc '%d:%i' "$B/rootfs/tmp")" "$(stat -Lc '%d:%i' /proc/"$init"/cwd)" "init cwd (host view)"
}

t_preserve_fds() {
	new_bundle
	echo three >"$T/fd3"
	echo four >"$T/fd4"
	cfg_sh 'cat <&3; cat <&4; exec sleep 1000'
	exec 3<"$T/fd3" 4<"$T/fd4" 5<"$T/fd4"
	rtc run -d --preserve-fds 2 --bundle "$B" "$ID"
	exec 3<&- 4<&- 5<&-
	assert_rc 0 "run -d --preserve-fds 2"
	local init
	init=$(rt state "$ID" | jget .pid)
	wait_status "$ID" running
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qs sleep /proc/"$init"/cmdline && break
		sleep 0.1
	done
	assert_eq "0 1 2 3 4 " "$(fds_of "$init" allow-tmp)" "preserved fds 3 and 4 (not 5)"
	assert_eq "$(printf '%s\n' three four)" "$(cat "$T/out")" "contents read from fds 3, 4"
	# exec --preserve-fds
	exec 3<"$T/fd3"
	rtc exec --preserve-fds 1 "$ID" sh -c 'cat <&3'
	exec 3<&-
	assert_rc 0 "exec --preserve-fds 1"
	assert_eq three "$OUT" "exec preserved fd 3"
}

t_listen_fds() {
	new_bundle
	echo sock >"$T/fd3"
	cfg_sh 'echo "LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"; cat <&3; exec sleep 1000'
	RC=0
	# LISTEN_PID must be the runtime's own pid (sd_listen_fds semantics)
	LISTEN_FDS=1 timeout -k 5 "$RT_TIMEOUT" bash -c 'export LISTEN_PID=$$; exec "$@"' _ \
		"$RUNTIME" --root "$ROOT" run -d --bundle "$B" "$ID" 3<"$T/fd3" 4<"$T/fd3" >"$T/out" 2>"$T/err" || RC=$?
	ERR=$(cat "$T/err")
	assert_rc 0 "run -d with LISTEN_FDS=1"
	wait_status "$ID" running
	local init i
	init=$(rt state "$ID" | jget .pid)
	for ((i = 0; i < 100; i++)); do
		grep -qs sleep /proc/"$init"/cmdline && break
		sleep 0.1
	done
	OUT=$(cat "$T/out")
	assert_eq "$(printf '%s\n' 'LISTEN_FDS=1 LISTEN_PID=1' sock)" "$OUT" "socket activation env and fd 3"
	assert_eq "0 1 2 3 " "$(fds_of "$init" allow-tmp)" "fds of init with LISTEN_FDS=1 (fd 4 not passed)"
}

t_no_pivot() {
	new_bundle
	cfg_sh 'cat /etc/hostname; ls /bin/busybox; cat /proc/self/mountinfo | wc -l; ls /tmp/rune-it-* 2>/dev/null | head -1; echo end'
	ct_run --no-pivot
	assert_rc 0 "run --no-pivot"
	assert_contains rune-test "$OUT" "rootfs is / with --no-pivot"
	assert_contains /bin/busybox "$OUT" "rootfs is / with --no-pivot"
	assert_not_contains rune-it- "$OUT" "host paths visible with --no-pivot"
	new_bundle b
	cfg_args sleep 1000
	rtc create --no-pivot --bundle "$B" "$ID"
	assert_rc 0 "create --no-pivot"
	rtc start "$ID"
	assert_rc 0 start
	rtc exec "$ID" cat /etc/hostname
	assert_eq rune-test "$OUT" "exec into a --no-pivot container"
}

# Under --no-pivot the host's /proc stays in the container's mount namespace
# below the new root: a fully visible procfs lets a user namespace mount a
# fresh, unmasked one (mount_too_revealing). runc removes such mounts first.
t_no_pivot_fresh_proc() {
	new_bundle
	# a non-root user: mapping uid 0 into a new user namespace needs CAP_SETFCAP
	cfg_set .process.user '{"uid": 1000, "gid": 1000}'
	cfg_sh 'unshare -mrpf sh -c "mount -t proc proc /mnt && echo MOUNTED || echo REFUSED" 2>&1'
	ct_run --no-pivot
	assert_rc 0 "run --no-pivot"
	assert_contains REFUSED "$OUT" "a fresh procfs mounted from a user namespace under --no-pivot"
	assert_not_contains MOUNTED "$OUT" "a fresh procfs mounted from a user namespace under --no-pivot"
	new_bundle pivot
	cfg_set .process.user '{"uid": 1000, "gid": 1000}'
	cfg_sh 'unshare -mrpf sh -c "mount -t proc proc /mnt && echo MOUNTED || echo REFUSED" 2>&1'
	ct_run
	assert_rc 0 run
	assert_contains REFUSED "$OUT" "a fresh procfs mounted from a user namespace"
}

tcase "user: uid, gid, additionalGids, umask" t_user
tcase "user: root, default umask, no extra groups" t_user_root_default_umask
tcase "capabilities: all five sets (non-root)" t_capabilities_nonroot
tcase "capabilities: root, defaults, empty, unknown" t_capabilities_root
tcase "rlimits" t_rlimits
tcase "rlimits above the hard limit: clear error" t_rlimit_above_hard
tcase "user: uid/gid not in /etc/passwd" t_user_not_in_passwd
tcase "cwd created when missing; ./args[0] relative to cwd" t_cwd_created_and_relative_args
tcase "noNewPrivileges" t_no_new_privileges
tcase "cwd" t_cwd
tcase "cwd only root can enter, non-root user (run and exec)" t_cwd_root_only
tcase "executable check honours CAP_DAC_OVERRIDE" t_exe_check_dac_override
tcase "ioPriority and scheduler apply to exec" t_io_priority_scheduler_exec
tcase "env" t_env
tcase "env: an entry without = is refused" t_env_not_key_value
tcase "PATH lookup of args[0] in the config's PATH" t_path_lookup
tcase "no fd leaks into init or exec" t_no_fd_leaks
tcase "cwd inside the rootfs (host and container view)" t_cwd_inside_rootfs
tcase "--preserve-fds on run and exec" t_preserve_fds
tcase "LISTEN_FDS socket activation" t_listen_fds
tcase "--no-pivot" t_no_pivot
tcase "--no-pivot: no fresh procfs from a user namespace" t_no_pivot_fresh_proc
tcase "signals the caller ignored or blocked are reset for the workload" t_signals_reset
