#!/bin/bash
# timeout: 180
# OCI hooks: prestart, createRuntime, createContainer, startContainer,
# poststart, poststop: when they run, the state on stdin, env, timeout, and
# the failure rules.
. "$(dirname "$0")/lib.sh"

# hook_json NAME DIR: a hook that saves its stdin and env to DIR/NAME.json
# and DIR/NAME.env and appends NAME to DIR/order.  Host-side hooks use host
# paths; startContainer runs inside the container (DIR is then /share).
hook_json() {
	local name=$1 dir=$2
	"$PY" -c 'import json,sys; print(json.dumps({"path": "/bin/sh", "args": ["sh", "-c", sys.argv[1]], "env": ["HOOK_NAME=" + sys.argv[2], "PATH=/bin:/usr/bin"]}))' \
		"cat > $dir/$name.json; env > $dir/$name.env; readlink /proc/self/ns/mnt > $dir/$name.mntns; echo $name >> $dir/order" "$name"
}

setup_all_hooks() {
	new_bundle
	add_share
	HD=$SH # host view of /share
	cfg_sh 'echo workload >> /share/order; sleep 1000'
	local h
	for h in prestart createRuntime createContainer poststart poststop; do
		cfg_append ".hooks.$h" "$(hook_json "$h" "$HD")"
	done
	cfg_append .hooks.startContainer "$(hook_json startContainer /share)"
}

# check_state NAME: the state the hook NAME got on stdin
check_state() {
	local f=$HD/$1.json
	[ -s "$f" ] || fail "hook $1 got no state on stdin"
	assert_eq "$ID" "$(jget .id <"$f")" "$1 state id"
	assert_eq "$B" "$(jget .bundle <"$f")" "$1 state bundle"
	assert_match '^1\.' "$(jget .ociVersion <"$f")" "$1 state ociVersion"
	jget .status <"$f" >/dev/null || fail "$1 state has no status"
	grep -qx "HOOK_NAME=$1" "$HD/$1.env" || fail "hook $1 did not get its env: $(cat "$HD/$1.env")"
}

t_hooks_order_and_state() {
	setup_all_hooks
	ct_create
	local pid
	pid=$(rt state "$ID" | jget .pid)
	local h
	for h in prestart createRuntime createContainer; do
		check_state "$h"
	done
	# createContainer runs in the container's namespaces: its pid may be 1
	for h in prestart createRuntime; do
		assert_eq "$pid" "$(jget .pid <"$HD/$h.json")" "$h state pid"
	done
	for h in startContainer poststop; do
		[ ! -e "$HD/$h.json" ] || fail "$h ran at create (order: $(tr "\n" " " <"$HD/order"))"
	done
	# runc 1.1 runs poststart at create (fixed in runc 1.2)
	[ ! -e "$HD/poststart.json" ] || runc_quirk "poststart ran at create"
	rtc start "$ID"
	assert_rc 0 start
	wait_file "$HD/poststart.json"
	wait_status "$ID" running
	for h in startContainer poststart; do
		check_state "$h"
	done
	assert_eq "$pid" "$(jget .pid <"$HD/poststart.json")" "poststart state pid"
	# where each runs: the runtime's namespace or the container's
	local hostmnt ctmnt
	hostmnt=$(host_ns mnt)
	ctmnt=$(readlink /proc/"$pid"/ns/mnt)
	for h in prestart createRuntime poststart; do
		assert_eq "$hostmnt" "$(cat "$HD/$h.mntns")" "$h runs in the runtime's mount namespace"
	done
	for h in createContainer startContainer; do
		assert_eq "$ctmnt" "$(cat "$HD/$h.mntns")" "$h runs in the container's mount namespace"
	done
	[ ! -e "$HD/poststop.json" ] || fail "poststop ran before delete"
	rtc kill "$ID" KILL
	wait_status "$ID" stopped
	rtc delete "$ID"
	assert_rc 0 delete
	check_state poststop
	assert_eq stopped "$(jget .status <"$HD/poststop.json")" "poststop state status"
	# order: create-time hooks, then startContainer before the workload
	local order
	order=$(tr '\n' ' ' <"$HD/order")
	order=${order/poststart /}
	assert_match '^(prestart createRuntime|createRuntime prestart) createContainer startContainer' "$order" "hook order"
	assert_match 'startContainer .*workload' "$order" "startContainer before the workload"
	assert_match 'poststop $' "$order" "poststop last"
	assert_nothing_left "$ID"
}

t_hooks_status_values() {
	setup_all_hooks
	ct_create
	rtc start "$ID"
	wait_file "$HD/poststart.json"
	# OCI runtime-spec: "creating" for createRuntime/createContainer (runc 1.1
	# reports "creating" too); "running" in poststart.
	assert_eq creating "$(jget .status <"$HD/createRuntime.json")" "createRuntime state status"
	assert_eq creating "$(jget .status <"$HD/createContainer.json")" "createContainer state status"
	local st
	st=$(jget .status <"$HD/poststart.json")
	[ "$st" = running ] || differs_from_runc "poststart state status is '$st', not 'running'"
}

t_hooks_run_detached() {
	setup_all_hooks
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d with hooks"
	wait_file "$HD/poststart.json"
	local h
	for h in prestart createRuntime createContainer startContainer poststart; do
		check_state "$h"
	done
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	check_state poststop
}

t_prestart_failure() {
	new_bundle
	cfg_args sleep 1000
	cfg_append .hooks.prestart '{"path": "/bin/sh", "args": ["sh", "-c", "echo hook-says-no >&2; exit 3"]}'
	rtc create --bundle "$B" "$ID"
	assert_fails "create with a failing prestart hook"
	assert_nothing_left "$ID"
	rtc run --bundle "$B" "$ID"
	assert_fails "run with a failing prestart hook"
	assert_nothing_left "$ID"
}

t_create_runtime_failure() {
	new_bundle
	cfg_args sleep 1000
	cfg_append .hooks.createRuntime '{"path": "/bin/false"}'
	rtc create --bundle "$B" "$ID"
	assert_fails "create with a failing createRuntime hook"
	assert_nothing_left "$ID"
	new_bundle b
	cfg_args sleep 1000
	cfg_append .hooks.createContainer '{"path": "/bin/false"}'
	rtc create --bundle "$B" "$ID"
	assert_fails "create with a failing createContainer hook"
	assert_nothing_left "$ID"
}

t_hook_missing_binary() {
	new_bundle
	cfg_args true
	cfg_append .hooks.prestart '{"path": "/no/such/hook"}'
	rtc run --bundle "$B" "$ID"
	assert_fails "run with a missing hook binary"
	assert_nothing_left "$ID"
}

t_hook_timeout() {
	new_bundle
	cfg_args true
	cfg_append .hooks.prestart '{"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 30"], "timeout": 1}'
	local start=$SECONDS
	rtc run --bundle "$B" "$ID"
	assert_fails "run with a prestart hook that times out"
	[ $((SECONDS - start)) -lt 15 ] || fail "hook timeout not enforced ($((SECONDS - start))s)"
	assert_nothing_left "$ID"
}

t_poststop_failure() {
	new_bundle
	cfg_args true
	cfg_append .hooks.poststop '{"path": "/bin/false"}'
	ct_create
	rtc start "$ID"
	wait_status "$ID" stopped
	rtc delete "$ID"
	# runtime-spec: a failing poststop hook is logged; deletion completes.
	# runc 1.1 returns an error but still removes the container.
	if [ "$RC" != 0 ] && [ "$IS_RUNC" != 1 ]; then
		fail "delete failed because of a failing poststop hook"
	fi
	assert_nothing_left "$ID"
}

t_poststart_failure() {
	new_bundle
	cfg_args sleep 1000
	cfg_append .hooks.poststart '{"path": "/bin/false"}'
	rtc create --bundle "$B" "$ID"
	if [ "$RC" != 0 ]; then
		# runc 1.1 runs poststart at create, and fails it
		runc_quirk "create failed because of a failing poststart hook"
		assert_nothing_left "$ID"
		return 0
	fi
	rtc start "$ID"
	# runtime-spec: a failing poststart hook is a warning; the lifecycle
	# continues.  runc 1.1 fails and kills the container instead.
	if [ "$RC" != 0 ] || [ "$(status "$ID")" != running ]; then
		runc_quirk "a failing poststart hook stopped the container (start rc=$RC, status $(status "$ID"))"
	fi
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	assert_nothing_left "$ID"
}

t_start_container_failure() {
	new_bundle
	add_share
	cfg_sh 'echo ran > /share/ran; sleep 1000'
	cfg_append .hooks.startContainer '{"path": "/bin/false"}'
	ct_create
	rtc start "$ID"
	# runc 1.1's start returns before its init runs the hook
	[ "$RC" != 0 ] || runc_quirk "start succeeded despite a failing startContainer hook"
	sleep 0.3
	[ ! -e "$SH/ran" ] || fail "the workload ran despite a failing startContainer hook"
	[ "$(status "$ID")" != running ] || fail "container running after a failing startContainer hook"
	rtc delete --force "$ID"
	assert_nothing_left "$ID"
}

# hook_cwd NAME DIR: a hook that saves its working directory to DIR/NAME.cwd
# and its open fds to DIR/NAME.fds.
hook_cwd() {
	"$PY" -c 'import json,sys; print(json.dumps({"path": "/bin/sh", "args": ["sh", "-c", sys.argv[1]], "env": ["PATH=/bin:/usr/bin"]}))' \
		"readlink /proc/self/cwd > $2/$1.cwd; ls /proc/self/fd | sort -n | tr '\n' ' ' > $2/$1.fds"
}

# Issue 11 item 18: runc runs createRuntime, prestart and poststart hooks
# in the bundle, createContainer ones in the rootfs, startContainer ones in
# the process's cwd, never in the caller's working directory.
# Item 20: hooks get stdio only, not the caller's other fds.
t_hooks_cwd_and_fds() {
	new_bundle
	add_share
	mkdir -p "$B/rootfs/work"
	cfg_set .process.cwd '"/work"'
	cfg_args sleep 1000
	local h
	for h in prestart createRuntime createContainer poststart; do
		cfg_append ".hooks.$h" "$(hook_cwd "$h" "$SH")"
	done
	cfg_append .hooks.startContainer "$(hook_cwd startContainer /share)"
	mkdir -p "$T/elsewhere"
	(cd "$T/elsewhere" && rt create --bundle "$B" "$ID" 77>"$T/leaked-fd" >"$T/out" 2>"$T/err") ||
		fail "create failed: $(cat "$T/err")"
	(cd "$T/elsewhere" && rt start "$ID" 77>"$T/leaked-fd") || fail "start failed"
	wait_file "$SH/poststart.cwd"
	wait_file "$SH/startContainer.cwd"
	for h in prestart createRuntime poststart; do
		assert_eq "$B" "$(cat "$SH/$h.cwd")" "$h hook's cwd"
	done
	assert_eq "$B/rootfs" "$(cat "$SH/createContainer.cwd")" "createContainer hook's cwd"
	assert_eq /work "$(cat "$SH/startContainer.cwd")" "startContainer hook's cwd"
	for h in prestart createRuntime createContainer poststart startContainer; do
		[ -s "$SH/$h.fds" ] || fail "$h hook saved no fds"
		assert_not_contains " 77 " " $(cat "$SH/$h.fds")" "$h hook's fds (the caller's fd 77)"
	done
}

# Issue 11 item 19: the container's seccomp filter applies to its
# startContainer hooks, as runc loads it before running them.
t_start_container_seccomp() {
	new_bundle
	add_share
	cfg_set .process.noNewPrivileges true
	cfg_set .linux.seccomp '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
	cfg_sh 'echo ran > /share/ran; sleep 1000'
	cfg_append .hooks.startContainer '{"path": "/bin/sh", "args": ["sh", "-c", "mkdir /share/made; echo $? > /share/rc"]}'
	ct_create
	rtc start "$ID"
	assert_rc 0 start
	wait_file "$SH/rc"
	[ ! -d "$SH/made" ] || fail "the startContainer hook ran without the container's seccomp filter"
	assert_eq 1 "$(cat "$SH/rc")" "mkdir's status in the hook"
	rtc delete --force "$ID"
	# a hook the filter kills fails the start with the cause
	new_bundle killed
	add_share
	cfg_set .process.noNewPrivileges true
	cfg_set .linux.seccomp '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL_PROCESS"}]}'
	cfg_sh 'echo ran > /share/ran; sleep 1000'
	cfg_append .hooks.startContainer '{"path": "/bin/mkdir", "args": ["mkdir", "/share/made"]}'
	ct_create
	rtc start "$ID"
	if [ "$RC" = 0 ]; then
		runc_quirk "start succeeded despite a failing startContainer hook"
	else
		assert_match 'error running startContainer hook #0.*bad system call' "$ERR" "start's error"
	fi
	sleep 0.3
	[ ! -e "$SH/ran" ] || fail "the workload ran despite a failing startContainer hook"
	[ ! -d "$SH/made" ] || fail "the killed hook made its directory"
}

t_hook_configures_netns() {
	# the CNI pattern: a createRuntime hook enters the container's network
	# namespace through the pid in the state and configures it
	command -v nsenter >/dev/null || skip "nsenter not installed"
	new_bundle
	local hook
	# shellcheck disable=SC2016
	hook=$(jarr sh -c 'pid=$(tr -d " \n" | sed -n "s/.*\"pid\":\([0-9]*\).*/\1/p"); nsenter --net=/proc/$pid/ns/net sh -c "echo 1 > /proc/sys/net/ipv4/ip_forward"')
	cfg_append .hooks.createRuntime "{\"path\": \"/bin/sh\", \"args\": $hook, \"env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"]}"
	cfg_sh 'cat /proc/sys/net/ipv4/ip_forward'
	local host
	host=$(cat /proc/sys/net/ipv4/ip_forward)
	ct_run
	assert_rc 0 "run with a netns-configuring createRuntime hook"
	assert_eq 1 "$OUT" "ip_forward set by the hook inside the container's netns"
	assert_eq "$host" "$(cat /proc/sys/net/ipv4/ip_forward)" "host ip_forward unchanged"
}

t_hook_args_env() {
	new_bundle
	add_share
	cfg_args true
	local args
	# shellcheck disable=SC2016
	args=$(jarr my-argv0 -c 'tr "\0" "\n" </proc/$$/cmdline | head -1 >"$D/args"; echo "$0 $1 $X" >>"$D/args"' zero one)
	cfg_append .hooks.prestart "{\"path\": \"/bin/sh\", \"args\": $args, \"env\": [\"X=from-env\", \"D=$SH\"]}"
	ct_run
	assert_rc 0 run
	assert_eq "$(printf '%s\n' my-argv0 'zero one from-env')" "$(cat "$SH/args" 2>/dev/null)" "hook argv/env"
}

tcase "hooks: when each runs, state on stdin, env" t_hooks_order_and_state
tcase "hooks: status in the state they receive" t_hooks_status_values
tcase "hooks: run -d runs them all" t_hooks_run_detached
tcase "hooks: failing prestart fails create and leaves nothing" t_prestart_failure
tcase "hooks: failing createRuntime/createContainer leave nothing" t_create_runtime_failure
tcase "hooks: missing hook binary" t_hook_missing_binary
tcase "hooks: timeout" t_hook_timeout
tcase "hooks: failing poststop does not leak the container" t_poststop_failure
tcase "hooks: failing poststart is only a warning" t_poststart_failure
tcase "hooks: failing startContainer stops the start" t_start_container_failure
tcase "hooks: args (argv0) and env" t_hook_args_env
tcase "hooks: working directory; only stdio" t_hooks_cwd_and_fds
tcase "hooks: seccomp applies to startContainer" t_start_container_seccomp
tcase "hooks: createRuntime configures the container's netns (CNI pattern)" t_hook_configures_netns
