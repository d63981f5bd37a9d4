#!/bin/bash
# timeout: 240
# linux.seccomp biting inside a real busybox container: errno with
# errnoRet, argument conditions, kill_process, a default-errno allow list,
# filters that hold after setuid without noNewPrivileges, exec'd processes,
# and invalid profiles refused at create. Runs against any runtime:
# RUNTIME=runc validates the expectations.
. "$(dirname "$0")/../integration/lib.sh"

# seccomp JSON: the syscalls rule list $1 under defaultAction ALLOW.
allow_but() {
	cfg_set .linux.seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": $1}"
}

# Syscall names known to this host's headers: a realistic allow-everything
# list for default-deny profiles.
all_syscalls_but() { # NAME...
	local skip=" $* "
	sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' /usr/include/x86_64-linux-gnu/asm/unistd_64.h |
		while read -r n; do [[ $skip == *" $n "* ]] || echo "$n"; done |
		"$PY" -c 'import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))'
}

t_errno_with_errnoret() {
	new_bundle
	cfg_set .root.readonly false
	# 18 = EXDEV; unknown names are skipped, not an error (as runc).
	allow_but '[{"names": ["rune_no_such_syscall", "mkdir", "mkdirat"],
		     "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	ct_sh 'mkdir /tmp/d 2>&1; echo "rc=$?"; touch /tmp/f && echo touched'
	assert_contains "ross-device link" "$OUT" "mkdir's error"
	assert_contains "rc=1" "$OUT" "mkdir's status"
	assert_contains touched "$OUT" "other syscalls allowed"
	assert_nothing_left "$ID"
}

t_errno_default_eperm() {
	new_bundle
	cfg_set .root.readonly false
	allow_but '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]'
	ct_sh 'mkdir /tmp/d 2>&1; echo "rc=$?"'
	assert_contains "Operation not permitted" "$OUT" "mkdir's error (EPERM by default)"
}

t_argument_conditions() {
	new_bundle
	cfg_set .root.readonly false
	# chmod(path, 0700) and fchmodat(dir, path, 0700) refused with EXDEV;
	# other modes allowed.
	allow_but '[{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18,
		     "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]},
		    {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18,
		     "args": [{"index": 2, "value": 448, "op": "SCMP_CMP_EQ"}]}]'
	ct_sh 'touch /tmp/f; chmod 700 /tmp/f 2>&1; echo "rc700=$?"; chmod 755 /tmp/f; echo "rc755=$?"; stat -c %a /tmp/f'
	assert_contains "ross-device link" "$OUT" "chmod 700's error"
	assert_contains "rc700=1" "$OUT" "chmod 700's status"
	assert_contains "rc755=0" "$OUT" "chmod 755's status"
	assert_contains 755 "$(echo "$OUT" | tail -1)" "final mode"
}

t_kill_process() {
	new_bundle
	# Not uname: static glibc calls it at startup, so the shell itself would die.
	allow_but '[{"names": ["sync", "syncfs"], "action": "SCMP_ACT_KILL_PROCESS"}]'
	# A child shell whose sync call kills it: 128 + SIGSYS (31).
	ct_sh 'sh -c sync; echo "rc=$?"; echo alive'
	assert_contains alive "$OUT" "the parent shell"
	assert_contains "rc=159" "$OUT" "sync's status"
}

t_default_errno_allow_list() {
	new_bundle
	cfg_set .root.readonly false
	local names
	names=$(all_syscalls_but mkdir mkdirat)
	# 38 = ENOSYS, as profiles return for syscalls they don't know.
	cfg_set .linux.seccomp "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,
		\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],
		\"syscalls\": [{\"names\": $names, \"action\": \"SCMP_ACT_ALLOW\"}]}"
	ct_sh 'mkdir /tmp/d 2>&1; echo "rc=$?"; echo ok'
	assert_contains "Function not implemented" "$OUT" "mkdir's error (defaultErrnoRet)"
	assert_contains ok "$OUT" "allowed syscalls"
}

# Without noNewPrivileges the filter must be loaded while still privileged
# (before setuid/capability drop) and still apply to the workload.
t_without_no_new_privs() {
	new_bundle
	cfg_set .root.readonly false
	cfg_set .process.noNewPrivileges false
	cfg_set .process.user '{"uid": 1000, "gid": 1000}'
	allow_but '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	ct_sh 'id -u; grep NoNewPrivs /proc/self/status; mkdir /tmp/d 2>&1; echo "rc=$?"'
	assert_contains 1000 "$(echo "$OUT" | head -1)" "workload uid"
	assert_match 'NoNewPrivs:[[:space:]]+0' "$OUT" "no_new_privs left unset"
	assert_contains "ross-device link" "$OUT" "mkdir's error as uid 1000"
}

t_flags_and_log() {
	new_bundle
	cfg_set .linux.seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
		"syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_LOG"}]}'
	cfg_sh 'grep -E "^Seccomp:" /proc/self/status'
	ct_run
	if [ "$IS_RUNC" = 1 ] && [[ $ERR == *"flags are not yet supported"* ]]; then
		skip "runc $RUNC_VER does not support seccomp flags"
	fi
	assert_rc 0 "run with seccomp flags"
	assert_match 'Seccomp:[[:space:]]+2' "$OUT" "filter mode in /proc/self/status"
}

t_exec_gets_filter() {
	new_bundle
	cfg_set .root.readonly false
	allow_but '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	cfg_args sleep 100
	ct_create
	rtc start "$ID"
	assert_rc 0 "start"
	rtc exec "$ID" sh -c 'mkdir /tmp/d 2>&1; echo "rc=$?"'
	assert_contains "ross-device link" "$OUT" "mkdir's error in an exec'd process"
	rtc delete --force "$ID"
	assert_nothing_left "$ID"
}

# SCMP_ACT_NOTIFY: the runtime hands the listener fd and the container
# process state to the agent at listenerPath (a host path); the agent
# (tests/seccomp/seccomp-agent.c) answers mkdir with ENOMEDIUM (123).
t_notify_agent() {
	local agent=$BUILD/tests/helpers/seccomp-agent sock i
	[ -x "$agent" ] || skip "$agent not built (make all)"
	new_bundle
	cfg_set .root.readonly false
	sock=$T/agent.sock
	"$agent" "$sock" "$T/agent.json" 123 2>"$T/agent.err" &
	AGENT_PID=$!
	trap 'kill "$AGENT_PID" 2>/dev/null || true' EXIT
	for ((i = 0; i < 50; i++)); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	cfg_set .linux.seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\",
		\"listenerPath\": \"$sock\", \"listenerMetadata\": \"rune-test-meta\",
		\"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
	ct_sh 'mkdir /tmp/d 2>&1; echo "rc=$?"; [ -d /tmp/d ] || echo absent'
	assert_contains "No medium found" "$OUT" "mkdir's error from the agent"
	assert_contains absent "$OUT" "the agent did not create the directory"
	[ -s "$T/agent.json" ] || fail "the agent got no state: $(cat "$T/agent.err")"
	local st
	st=$(cat "$T/agent.json")
	assert_eq '["seccompFd"]' "$(echo "$st" | jq_py 'd["fds"]')" "containerProcessState.fds"
	assert_eq rune-test-meta "$(echo "$st" | jget .metadata)" "containerProcessState.metadata"
	assert_eq "$ID" "$(echo "$st" | jget .state.id)" "containerProcessState.state.id"
	assert_match '^[1-9][0-9]*$' "$(echo "$st" | jget .pid)" "containerProcessState.pid"
	assert_match '^1\.' "$(echo "$st" | jget .ociVersion)" "containerProcessState.ociVersion"
	# The agent exits once no process uses the filter.
	for ((i = 0; i < 50; i++)); do
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$AGENT_PID" 2>/dev/null && fail "agent still waiting: listener fd leaked to a live process"
	assert_nothing_left "$ID"
}

# Issue 11 item 21: each exec'd process gets its own listener, sent to the
# agent (runc sends one per process); without it the call fails with ENOSYS.
t_notify_agent_exec() {
	local agent=$BUILD/tests/helpers/seccomp-agent sock i
	[ -x "$agent" ] || skip "$agent not built (make all)"
	new_bundle
	cfg_set .root.readonly false
	sock=$T/agent.sock
	"$agent" "$sock" "$T/agent.json" 123 2 2>"$T/agent.err" &
	AGENT_PID=$!
	trap 'kill "$AGENT_PID" 2>/dev/null || true' EXIT
	for ((i = 0; i < 50; i++)); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	cfg_set .linux.seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\",
		\"listenerPath\": \"$sock\", \"listenerMetadata\": \"rune-test-meta\",
		\"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	local init
	init=$(rt state "$ID" | jget .pid)
	rtc exec "$ID" sh -c 'mkdir /tmp/d 2>&1; echo "rc=$?"; [ -d /tmp/d ] || echo absent'
	assert_rc 0 exec
	assert_contains "No medium found" "$OUT" "exec'd mkdir's error from the agent"
	assert_contains absent "$OUT" "the agent did not create the directory"
	wait_file "$T/agent.json.1"
	local st
	st=$(cat "$T/agent.json.1")
	assert_eq '["seccompFd"]' "$(echo "$st" | jq_py 'd["fds"]')" "exec's containerProcessState.fds"
	assert_eq rune-test-meta "$(echo "$st" | jget .metadata)" "exec's containerProcessState.metadata"
	assert_eq "$ID" "$(echo "$st" | jget .state.id)" "exec's containerProcessState.state.id"
	assert_eq "$init" "$(echo "$st" | jget .state.pid)" "exec's containerProcessState.state.pid (the init's)"
	assert_ne "$init" "$(echo "$st" | jget .pid)" "exec's containerProcessState.pid (the exec'd process's)"
	rtc kill "$ID" KILL
	wait_status "$ID" stopped
	for ((i = 0; i < 50; i++)); do
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$AGENT_PID" 2>/dev/null && fail "agent still waiting: a listener fd leaked to a live process"
	return 0
}

# containers-common's default profile (what Podman uses), resolved for x86-64
# and Podman's default capabilities the way Podman does before handing it to
# the runtime. The container holds CAP_SYS_ADMIN, which the profile assumes
# it lacks: sethostname is refused by the profile, not by capabilities.
PROFILE=/usr/share/containers/seccomp.json
resolve_profile() {
	"$PY" - "$PROFILE" <<-'EOF'
		import json, sys
		caps = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		        "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
		        "CAP_SETUID", "CAP_SYS_CHROOT"}
		arches = {"amd64", "x86", "x32"}
		p = json.load(open(sys.argv[1]))
		out = {"defaultAction": p["defaultAction"],
		       "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		       "syscalls": []}
		if "defaultErrnoRet" in p:
		    out["defaultErrnoRet"] = p["defaultErrnoRet"]
		for s in p["syscalls"]:
		    inc, exc = s.get("includes") or {}, s.get("excludes") or {}
		    if not set(inc.get("caps") or []) <= caps:
		        continue
		    if inc.get("arches") and not set(inc["arches"]) & arches:
		        continue
		    if set(exc.get("caps") or []) & caps or set(exc.get("arches") or []) & arches:
		        continue
		    r = {"names": s["names"], "action": s["action"]}
		    for k in ("args", "errnoRet"):
		        if s.get(k):
		            r[k] = s[k]
		    out["syscalls"].append(r)
		print(json.dumps(out))
	EOF
}

t_containers_default_profile() {
	[ -r "$PROFILE" ] || skip "$PROFILE not installed (containers-common)"
	new_bundle
	cfg_py 'for k in ("bounding", "effective", "permitted"): c["process"]["capabilities"][k].append("CAP_SYS_ADMIN")'
	cfg_sh 'hostname rune-x 2>&1; echo "rc=$?"; hostname'
	# Control: without seccomp, CAP_SYS_ADMIN lets it set its own UTS hostname.
	ct_run
	assert_rc 0 "run without seccomp"
	assert_contains "rc=0" "$OUT" "hostname without seccomp"
	cfg_set .linux.seccomp "$(resolve_profile)"
	ct_run
	assert_rc 0 "run with the default profile"
	assert_contains "Operation not permitted" "$OUT" "sethostname refused by the profile"
	assert_contains "rc=1" "$OUT" "hostname's status"
	assert_ne rune-x "$(echo "$OUT" | tail -1)" "hostname"
}

t_invalid_action_refused() {
	new_bundle
	allow_but '[{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
		    {"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]'
	rtc create --bundle "$B" "$ID"
	assert_fails "create with an unknown seccomp action"
	assert_clear_error 'linux\.seccomp\.syscalls\[1\]\.action'
	assert_nothing_left "$ID"
}

t_invalid_arch_refused() {
	new_bundle
	cfg_set .linux.seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}'
	rtc create --bundle "$B" "$ID"
	assert_fails "create with an unknown seccomp architecture"
	assert_clear_error 'linux\.seccomp\.architectures\[0\]'
	assert_nothing_left "$ID"
}

t_invalid_operator_refused() {
	new_bundle
	allow_but '[{"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
		     "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_SIMILAR"}]}]'
	rtc create --bundle "$B" "$ID"
	assert_fails "create with an unknown seccomp operator"
	assert_clear_error 'linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op'
	assert_nothing_left "$ID"
}

tcase "seccomp errno with errnoRet" t_errno_with_errnoret
tcase "seccomp errno defaults to EPERM" t_errno_default_eperm
tcase "seccomp argument conditions" t_argument_conditions
tcase "seccomp kill_process" t_kill_process
tcase "seccomp default errno with an allow list" t_default_errno_allow_list
tcase "seccomp without noNewPrivileges, non-root user" t_without_no_new_privs
tcase "seccomp flags and log action" t_flags_and_log
tcase "seccomp applies to exec" t_exec_gets_filter
tcase "seccomp notify via listenerPath agent" t_notify_agent
tcase "seccomp notify for exec'd processes" t_notify_agent_exec
tcase "seccomp containers-common default profile" t_containers_default_profile
tcase "seccomp unknown action refused at create" t_invalid_action_refused
tcase "seccomp unknown architecture refused at create" t_invalid_arch_refused
tcase "seccomp unknown operator refused at create" t_invalid_operator_refused
