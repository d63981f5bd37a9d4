#!/bin/bash
# timeout: 240
# Fail closed (issue 10): what rune does for a container must come from what
# it recorded at create, never from a bundle that changed since, nor from a
# pid that may have been reused.
. "$(dirname "$0")/lib.sh"

# status_of FIELD TEXT: a /proc/<pid>/status field, tabs stripped
status_of() { printf '%s\n' "$2" | sed -n "s/^$1:[[:space:]]*//p"; }

# A bundle whose process has few capabilities, no_new_privs and a seccomp
# filter; sleep as the init.
privileged_bits_bundle() {
	new_bundle
	cfg_args sleep 1000
	cfg_set .process.noNewPrivileges true
	cfg_set .process.capabilities \
		'{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}'
	cfg_set .linux.seccomp \
		'{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mknodat"],"action":"SCMP_ACT_ERRNO"}]}'
}

assert_confined() { # STATUS-TEXT WHAT
	assert_eq 0000000000000020 "$(status_of CapEff "$1")" "$2: CapEff (CAP_KILL only)"
	assert_eq 0000000000000020 "$(status_of CapBnd "$1")" "$2: CapBnd"
	assert_eq 1 "$(status_of NoNewPrivs "$1")" "$2: NoNewPrivs"
	assert_eq 2 "$(status_of Seccomp "$1")" "$2: Seccomp"
}

t_exec_privileges_without_bundle() {
	privileged_bits_bundle
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc exec "$ID" cat /proc/self/status
	assert_rc 0 "exec"
	assert_confined "$OUT" "exec with the bundle in place"
	mv "$B/config.json" "$B/config.json.moved"
	rtc exec "$ID" cat /proc/self/status
	mv "$B/config.json.moved" "$B/config.json"
	# runc 1.1 builds exec's process from the bundle: it refuses (fails closed).
	[ "$IS_RUNC" = 1 ] && [ "$RC" != 0 ] && skip "runc reads config.json at exec and refuses without it"
	assert_rc 0 "exec with config.json gone"
	assert_confined "$OUT" "exec with config.json gone"
	echo '{ broken' >"$B/config.json.new"
	mv "$B/config.json" "$B/config.json.orig"
	mv "$B/config.json.new" "$B/config.json"
	rtc exec "$ID" cat /proc/self/status
	mv "$B/config.json.orig" "$B/config.json"
	assert_rc 0 "exec with a broken config.json"
	assert_confined "$OUT" "exec with a broken config.json"
}

t_exec_privileges_bundle_edited() {
	privileged_bits_bundle
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	# Whoever can write the bundle after create gains nothing for exec.
	cfg_set .process.noNewPrivileges false
	cfg_del .linux.seccomp
	cfg_set .process.capabilities \
		'{"bounding":["CAP_SYS_ADMIN","CAP_KILL"],"effective":["CAP_SYS_ADMIN","CAP_KILL"],"permitted":["CAP_SYS_ADMIN","CAP_KILL"]}'
	cfg_set .process.user '{"uid":0,"gid":0}'
	rtc exec "$ID" cat /proc/self/status
	assert_rc 0 "exec"
	[ "$IS_RUNC" = 1 ] && [ "$(status_of CapEff "$OUT")" != 0000000000000020 ] &&
		differs_from_runc "runc 1.1 takes exec's capabilities from the bundle's current config.json"
	assert_confined "$OUT" "exec after config.json was edited"
}

t_exec_refuses_state_without_process() {
	new_bundle
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	[ "$IS_RUNC" = 1 ] && skip "rune's state format"
	# A state written by an older rune, which froze nothing.
	"$PY" - "$ROOT/$ID/state.json" <<-'EOF'
		import json, sys
		p = sys.argv[1]
		d = json.load(open(p))
		d.pop("process", None)
		d["version"] = 1
		json.dump(d, open(p, "w"))
	EOF
	rtc exec "$ID" true
	assert_fails "exec without a frozen process"
	assert_clear_error "frozen process" "exec"
}

# A preload library that stops rune at the moments that matter until the test
# says go: in the exec helper right after fork (before it joins anything), and
# just before kill(2) or pidfd_send_signal(2).
build_gate() {
	GATE_SO=$T/gate.so
	[ -e "$GATE_SO" ] && return 0
	command -v cc >/dev/null || skip "no C compiler for the preload gate"
	cat >"$T/gate.c" <<-'EOF'
		#define _GNU_SOURCE
		#include <dlfcn.h>
		#include <fcntl.h>
		#include <signal.h>
		#include <stdarg.h>
		#include <stdio.h>
		#include <stdlib.h>
		#include <sys/syscall.h>
		#include <unistd.h>

		static void gate(const char *what)
		{
			const char *dir = getenv("RUNE_TEST_GATE");
			char p[4096];

			if (dir == NULL)
				return;
			snprintf(p, sizeof(p), "%s/%s", dir, what);
			close(open(p, O_CREAT | O_WRONLY, 0644));
			snprintf(p, sizeof(p), "%s/go", dir);
			for (int i = 0; i < 1000 && access(p, F_OK) != 0; i++)
				usleep(10000);
		}

		pid_t fork(void)
		{
			pid_t (*real)(void) = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
			pid_t r = real();

			if (r == 0)
				gate("forked");
			return r;
		}

		int kill(pid_t pid, int sig)
		{
			int (*real)(pid_t, int) = (int (*)(pid_t, int))dlsym(RTLD_NEXT, "kill");

			gate("signalling");
			return real(pid, sig);
		}

		long syscall(long n, ...)
		{
			long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
			long a[6];
			va_list ap;

			va_start(ap, n);
			for (int i = 0; i < 6; i++)
				a[i] = va_arg(ap, long);
			va_end(ap);
			if (n == SYS_pidfd_send_signal)
				gate("signalling");
			return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
		}
	EOF
	cc -shared -fPIC -o "$GATE_SO" "$T/gate.c" -ldl || skip "cannot build the preload gate"
}

# in_pidns SCRIPT: SCRIPT in a private pid namespace (bash as its pid 1, so
# every process it starts dies with it), where the test can hand a dead
# init's pid to another process.
in_pidns() {
	RUNTIME=$RUNTIME ROOT=$ROOT B=$B ID=$ID T=$T GATE_SO=$GATE_SO \
		timeout -k 5 60 unshare -pf --mount-proc bash -c "$1"
}

# The scenario both cases share: the init dies while rune waits at the gate,
# and a process outside the container takes over its pid.
PIDNS_LIB='
set -u
rt() { "$RUNTIME" --root "$ROOT" "$@"; }
gated() { # WHAT: wait until rune is held at the gate WHAT
	for _ in $(seq 500); do [ -e "$T/gate/$1" ] && return 0; sleep 0.01; done
	echo "# rune never reached the gate $1"; exit 1
}
take_over_init_pid() { # then $VICTIM holds the pid the init had
	local pid=$1
	kill -9 "$pid"
	for _ in $(seq 500); do [ -e /proc/$pid ] || break; sleep 0.01; done
	echo $((pid - 1)) >/proc/sys/kernel/ns_last_pid
	sleep 100 &
	VICTIM=$!
	[ "$VICTIM" = "$pid" ] || { echo "# pid $pid was not reused (got $VICTIM)"; exit 77; }
}
rt run -d --bundle "$B" "$ID" || exit 1
INIT=$(rt state "$ID" | sed -n "s/.*\"pid\": *\([0-9]*\).*/\1/p")
[ -n "$INIT" ] || exit 1
rm -rf "$T/gate"; mkdir "$T/gate"
'

t_exec_init_pid_reused() {
	[ "$IS_RUNC" = 1 ] && skip "the preload gate needs a runtime linked with libc"
	build_gate
	new_bundle
	cfg_args sleep 1000
	in_pidns "$PIDNS_LIB"'
	RUNE_TEST_GATE=$T/gate LD_PRELOAD=$GATE_SO "$RUNTIME" --root "$ROOT" \
		exec "$ID" /bin/sh -c "echo escaped > $T/escaped" >"$T/exec.out" 2>&1 &
	EXEC=$!
	gated forked
	take_over_init_pid "$INIT"
	touch "$T/gate/go"
	wait $EXEC
	echo "# exec exited $? with: $(cat "$T/exec.out")"
	[ -e "$T/escaped" ] && { echo "# the exec ran in the host namespaces"; exit 1; }
	exit 0' || {
		rc=$?
		[ $rc = 77 ] && skip "the dead init's pid could not be reused"
		fail "exec joined whatever took the init's pid (status $rc)"
	}
}

t_kill_init_pid_reused() {
	[ "$IS_RUNC" = 1 ] && skip "the preload gate needs a runtime linked with libc"
	build_gate
	new_bundle
	cfg_args sleep 1000
	in_pidns "$PIDNS_LIB"'
	RUNE_TEST_GATE=$T/gate LD_PRELOAD=$GATE_SO "$RUNTIME" --root "$ROOT" \
		kill "$ID" KILL >"$T/kill.out" 2>&1 &
	KILLER=$!
	gated signalling
	take_over_init_pid "$INIT"
	touch "$T/gate/go"
	wait $KILLER
	echo "# kill exited $? with: $(cat "$T/kill.out")"
	sleep 0.2
	kill -0 $VICTIM 2>/dev/null || { echo "# kill signalled the process that took the pid"; exit 1; }
	exit 0' || {
		rc=$?
		[ $rc = 77 ] && skip "the dead init's pid could not be reused"
		fail "kill signalled whatever took the init's pid (status $rc)"
	}
}


t_pid_file_planted_symlink() {
	new_bundle
	cfg_args sleep 1000
	echo precious >"$T/victim"
	mkdir -p "$T/pids"
	# The old temporary name, and a spread of guesses, all pointing at the victim.
	ln -s "$T/victim" "$T/pids/init.pid.tmp"
	rtc create --pid-file "$T/pids/init.pid" --bundle "$B" "$ID"
	assert_rc 0 "create --pid-file"
	assert_eq precious "$(cat "$T/victim")" "file behind a planted symlink"
	[ -L "$T/pids/init.pid" ] && fail "the pid file is a symlink"
	assert_eq "$(rt state "$ID" | jget .pid)" "$(cat "$T/pids/init.pid")" "pid file"
}

t_listen_fds_need_listen_pid() {
	new_bundle
	cfg_sh 'echo "LISTEN_FDS=${LISTEN_FDS:-} fd3=$([ -e /proc/self/fd/3 ] && echo open || echo closed)"'
	# LISTEN_FDS meant for another process (no LISTEN_PID, or another pid):
	# the caller's fd 3, a host directory, must not reach the workload.
	RC=0
	LISTEN_FDS=1 timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" run --bundle "$B" "$ID" \
		3<"$T" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
	assert_rc 0 "run with LISTEN_FDS and no LISTEN_PID"
	assert_eq "LISTEN_FDS= fd3=closed" "$OUT" "workload without LISTEN_PID"
	RC=0
	LISTEN_FDS=1 LISTEN_PID=1 timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" run \
		--bundle "$B" "$ID" 3<"$T" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
	assert_rc 0 "run with LISTEN_PID of another process"
	assert_eq "LISTEN_FDS= fd3=closed" "$OUT" "workload with another LISTEN_PID"
}

t_sysctl_in_host_netns_by_path() {
	new_bundle
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'network'] + [{'type': 'network', 'path': '/proc/$$/ns/net'}]"
	cfg_set .linux.sysctl '{"net.ipv4.ip_forward": "'"$(cat /proc/sys/net/ipv4/ip_forward)"'"}'
	cfg_args true
	ct_run
	assert_fails "net.* sysctl in the host's network namespace joined by path"
	assert_clear_error "host's network namespace" "create"
	assert_nothing_left "$ID"
	# Another container's namespace joined by path is fine.
	ip netns add "$PFX-ns" 2>/dev/null || skip "ip netns add failed"
	new_bundle other
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'network'] + [{'type': 'network', 'path': '/var/run/netns/$PFX-ns'}]"
	cfg_set .linux.sysctl '{"net.ipv4.ip_forward": "1"}'
	cfg_args cat /proc/sys/net/ipv4/ip_forward
	ct_run
	ip netns del "$PFX-ns"
	assert_rc 0 "sysctl in a joined network namespace of its own"
	assert_eq 1 "$OUT" "ip_forward in the joined namespace"
}

t_hooks_outside_joined_pidns() {
	new_bundle first
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d the first container"
	local init
	init=$(rt state "$ID" | jget .pid)
	new_bundle second
	cfg_args true
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'pid'] + [{'type': 'pid', 'path': '/proc/$init/ns/pid'}]"
	local kind
	for kind in prestart createRuntime poststart; do
		cfg_append .hooks.$kind "{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"readlink /proc/self/ns/pid > $T/$kind.ns\"]}"
	done
	ct_run
	assert_rc 0 "run joining the first container's pid namespace"
	for kind in prestart createRuntime poststart; do
		assert_eq "$(host_ns pid)" "$(cat "$T/$kind.ns")" "$kind hook's pid namespace"
	done
}


# cg_dirs NAME: NAME's directory on every cgroup hierarchy of the host.
cg_dirs() {
	awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u |
		while read -r m; do echo "$m/$1"; done
}

# A cgroup made by someone else, with a bystander process in it: $SHARED, $BYSTANDER.
make_shared_cgroup() {
	local d
	SHARED=$PFX-shared
	sleep 1000 &
	BYSTANDER=$!
	for d in $(cg_dirs "$SHARED"); do
		mkdir -p "$d"
		for f in cpuset.cpus cpuset.mems; do
			[ -e "$d/$f" ] && [ -z "$(cat "$d/$f")" ] && cat "$(dirname "$d")/$f" >"$d/$f"
		done
		echo "$BYSTANDER" >"$d/cgroup.procs"
	done
}
drop_shared_cgroup() {
	local d
	kill -9 "$BYSTANDER" 2>/dev/null || true
	wait "$BYSTANDER" 2>/dev/null || true
	for d in $(cg_dirs "$SHARED"); do rmdir "$d" 2>/dev/null || true; done
}
assert_shared_cgroup_intact() { # WHAT
	local d
	kill -0 "$BYSTANDER" 2>/dev/null || fail "$1: the bystander in the shared cgroup was killed"
	for d in $(cg_dirs "$SHARED"); do
		[ -d "$d" ] || fail "$1: $d was removed"
	done
}

t_shared_cgroup_left_alone() {
	make_shared_cgroup
	trap drop_shared_cgroup EXIT
	new_bundle
	cfg_set .linux.cgroupsPath "\"/$SHARED\""
	cfg_args /no/such/binary
	ct_run
	assert_fails "create with a missing binary"
	assert_shared_cgroup_intact "a failed create"
	new_bundle ok
	cfg_set .linux.cgroupsPath "\"/$SHARED\""
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d in the shared cgroup"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	# runc 1.1 kills every process of the cgroup when the container has its own pid namespace too
	kill -0 "$BYSTANDER" 2>/dev/null ||
		differs_from_runc "delete killed the bystander in a shared cgroup"
	assert_shared_cgroup_intact "delete --force"
}

t_create_killed_half_way() {
	new_bundle
	cfg_args sleep 1000
	cfg_append .hooks.createRuntime "{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo \$\$ > $T/hook.pid; exec sleep 30\"]}"
	"$RUNTIME" --root "$ROOT" create --bundle "$B" "$ID" >/dev/null 2>&1 &
	local creator=$!
	wait_file "$T/hook.pid"
	kill -9 "$creator"
	wait "$creator" 2>/dev/null || true
	kill -9 "$(cat "$T/hook.pid")" 2>/dev/null || true
	[ -n "$(cg_dirs "$ID" | while read -r d; do [ -d "$d" ] && echo "$d"; done)" ] ||
		fail "no cgroup made before the hook ran"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force after a killed create"
	if [ "$IS_RUNC" = 1 ]; then
		sleep 0.5
		if [ -n "$(_leftovers "$ID")" ]; then
			_leftover_cgroups "$ID" | xargs -r rmdir
			differs_from_runc "runc 1.1 leaves the cgroups of a create killed half-way"
		fi
	fi
	assert_nothing_left "$ID"
}


t_hook_floods_stderr() {
	new_bundle
	cfg_args true
	cfg_append .hooks.createRuntime '{"path": "/bin/sh", "args": ["sh", "-c", "head -c 300000 /dev/zero | tr \"\\\\0\" x >&2; echo done >&2"]}'
	ct_run
	assert_rc 0 "run with a hook writing 300 KB to stderr"
}

t_hook_ignores_large_state() {
	new_bundle
	cfg_args true
	# A state far larger than a pipe holds, and a hook that never reads it.
	cfg_py "c['annotations'] = {'big': 'x' * 300000}"
	cfg_append .hooks.prestart '{"path": "/bin/sleep", "args": ["sleep", "100"], "timeout": 2}'
	ct_run
	assert_fails "run with a hook that times out"
	assert_match "timed out|timeout" "$ERR" "the error"
	assert_nothing_left "$ID"
}

t_poststop_poststart_all_run() {
	new_bundle
	cfg_args sleep 1000
	local kind
	for kind in poststart poststop; do
		cfg_append .hooks.$kind '{"path": "/bin/false"}'
		cfg_append .hooks.$kind "{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo ran > $T/$kind.second\"]}"
	done
	rtc create --bundle "$B" "$ID"
	# runc 1.1 runs poststart hooks at create and fails it (a known quirk)
	[ "$IS_RUNC" = 1 ] && [ "$RC" != 0 ] && skip "runc 1.1 runs poststart at create and fails it"
	assert_rc 0 create
	rtc start "$ID"
	assert_rc 0 "start (a failing poststart hook is a warning)"
	[ -s "$T/poststart.second" ] || fail "the second poststart hook did not run after the first failed"
	rtc delete --force "$ID"
	[ -s "$T/poststop.second" ] || fail "the second poststop hook did not run after the first failed"
}


t_execve_failure_reported() {
	new_bundle
	printf 'garbage\n\0\1' >"$B/rootfs/bin/garbage"
	chmod +x "$B/rootfs/bin/garbage"
	cfg_args /bin/garbage
	ct_run
	assert_fails "run of a file that is no executable"
	assert_clear_error "exec /bin/garbage: exec format error" "run"
	assert_nothing_left "$ID"
	new_bundle split
	printf 'garbage\n\0\1' >"$B/rootfs/bin/garbage"
	chmod +x "$B/rootfs/bin/garbage"
	cfg_args /bin/garbage
	rtc create --bundle "$B" "$ID"
	assert_rc 0 create
	rtc start "$ID"
	# runc 1.1 prints the error but exits 0
	[ "$IS_RUNC" = 1 ] && [ "$RC" = 0 ] && runc_quirk "start exits 0 when execve fails"
	[ "$IS_RUNC" = 1 ] || assert_fails "start of a file that is no executable"
	assert_contains "exec format error" "$ERR" "start's error"
	new_bundle interp
	printf '#!/no/such/interpreter\n' >"$B/rootfs/bin/script"
	chmod +x "$B/rootfs/bin/script"
	cfg_args /bin/script
	ct_run
	assert_fails "run of a script whose interpreter is missing"
	assert_clear_error "exec /bin/script: no such file or directory" "run"
}


t_hostile_passwd() {
	[ "$IS_RUNC" = 1 ] && skip "runc 1.1 hangs reading such an /etc/passwd"
	new_bundle
	cfg_args true
	rm -f "$B/rootfs/etc/passwd"
	ln -s /dev/zero "$B/rootfs/etc/passwd"
	ct_run
	assert_fails "run with /etc/passwd a symlink to /dev/zero"
	assert_clear_error "/etc/passwd: not a regular file" "run"
	assert_nothing_left "$ID"
	new_bundle fifo
	cfg_args true
	rm -f "$B/rootfs/etc/passwd"
	mkfifo "$B/rootfs/etc/passwd"
	ct_run
	assert_fails "run with /etc/passwd a FIFO"
	assert_clear_error "/etc/passwd: not a regular file" "run"
	assert_nothing_left "$ID"
}

t_sigterm_ends_hung_create() {
	[ "$IS_RUNC" = 1 ] && skip "runc 1.1 ignores SIGTERM while its init sets up"
	new_bundle
	cfg_args true
	# A createContainer hook runs in the init, so rune waits on the init.
	cfg_append .hooks.createContainer '{"path": "/bin/sleep", "args": ["sleep", "60"]}'
	"$RUNTIME" --root "$ROOT" run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" </dev/null &
	local r=$! i
	for ((i = 0; i < 100; i++)); do
		[ "$(status "$ID")" = creating ] && break
		sleep 0.05
	done
	sleep 0.3
	kill -TERM "$r"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$r" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$r" 2>/dev/null; then
		kill -9 "$r"
		wait "$r" 2>/dev/null || true
		fail "run ignored SIGTERM while the create hung"
	fi
	wait "$r" && fail "run exited 0 after SIGTERM"
	ERR=$(cat "$T/err")
	echo "# $ERR"
	assert_nothing_left "$ID"
}

tcase "exec: privileges frozen at create, config.json gone or broken" t_exec_privileges_without_bundle
tcase "exec: privileges frozen at create, config.json edited" t_exec_privileges_bundle_edited
tcase "exec: a state without the frozen process is refused" t_exec_refuses_state_without_process
tcase "exec: never joins a process that took a dead init's pid" t_exec_init_pid_reused
tcase "kill: never signals a process that took a dead init's pid" t_kill_init_pid_reused
tcase "pid file: never written through a planted symlink" t_pid_file_planted_symlink
tcase "LISTEN_FDS only with LISTEN_PID naming the runtime" t_listen_fds_need_listen_pid
tcase "sysctl: the host's namespace joined by path is refused" t_sysctl_in_host_netns_by_path
tcase "hooks run in the runtime's pid namespace, not a joined one" t_hooks_outside_joined_pidns
tcase "cgroup: a shared cgroup is neither killed nor removed" t_shared_cgroup_left_alone
tcase "cgroup: delete --force cleans up after a create killed half-way" t_create_killed_half_way
tcase "hooks: a hook flooding stderr does not block the runtime" t_hook_floods_stderr
tcase "hooks: a hook that never reads a large state times out" t_hook_ignores_large_state
tcase "hooks: after a failing poststart/poststop hook the others run" t_poststop_poststart_all_run
tcase "a failed execve of the workload is reported with its cause" t_execve_failure_reported
tcase "image content: /etc/passwd a FIFO or /dev/zero fails clearly, no hang" t_hostile_passwd
tcase "SIGTERM ends a run whose create hangs, and it cleans up" t_sigterm_ends_hung_create
