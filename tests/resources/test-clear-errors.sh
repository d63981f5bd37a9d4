#!/bin/bash
# timeout: 120
# What this host can't give gets a clear error, and nothing is left behind:
# linux.intelRdt without resctrl, process.apparmorProfile without AppArmor,
# process.selinuxLabel / linux.mountLabel without SELinux, the systemd
# cgroup driver (--systemd-cgroup, "slice:prefix:name") where PID 1 is not
# systemd, and cgroup resources whose controller is not mounted.  Each case
# first checks that the host really lacks the feature (else: skip).
. "$(dirname "$0")/lib.sh"

# fails_clean REGEX WHAT: run the bundle (args: true); it must fail with a
# clear error naming REGEX and leave no cgroup, state or process.
fails_clean() {
	cfg_args true
	ct_run
	assert_fails "$2"
	assert_clear_error "$1" "$2"
	[ "$IS_RUNC" = 1 ] && echo "# runc says: $ERR"
	assert_nothing_left "$ID"
	assert_cg_gone
}

t_intelrdt() {
	grep -q resctrl /proc/self/mountinfo && skip "resctrl is mounted here"
	res_bundle
	cfg_set .linux.intelRdt '{"closID": "rune-test", "l3CacheSchema": "L3:0=f"}'
	fails_clean "intelRdt|resctrl|RDT" "linux.intelRdt without resctrl"
}

t_intelrdt_mba() {
	grep -q resctrl /proc/self/mountinfo && skip "resctrl is mounted here"
	res_bundle
	cfg_set .linux.intelRdt '{"memBwSchema": "MB:0=70"}'
	fails_clean "intelRdt|resctrl|RDT" "linux.intelRdt.memBwSchema without resctrl"
}

apparmor_enabled() { [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; }
selinux_enabled() { grep -q selinuxfs /proc/filesystems && [ -e /sys/fs/selinux/enforce ]; }

t_apparmor() {
	apparmor_enabled && skip "AppArmor is enabled here"
	res_bundle
	cfg_set .process.apparmorProfile '"rune-test-profile"'
	cfg_args true
	ct_run
	assert_fails "apparmorProfile without AppArmor"
	assert_clear_error "[Aa]pp[Aa]rmor" "apparmorProfile without AppArmor"
	assert_nothing_left "$ID"
	assert_cg_gone
}

t_selinux() {
	selinux_enabled && skip "SELinux is enabled here"
	res_bundle
	cfg_set .process.selinuxLabel '"system_u:system_r:container_t:s0:c1,c2"'
	cfg_args true
	ct_run
	assert_fails "selinuxLabel without SELinux"
	assert_clear_error "[Ss][Ee][Ll]inux" "selinuxLabel without SELinux"
	assert_nothing_left "$ID"
	assert_cg_gone
}

t_mountlabel() {
	selinux_enabled && skip "SELinux is enabled here"
	res_bundle
	cfg_set .linux.mountLabel '"system_u:object_r:container_file_t:s0:c1,c2"'
	cfg_args true
	ct_run
	[ "$RC" = 0 ] && [ "$IS_RUNC" = 1 ] && skip "runc differs: ignores mountLabel without SELinux"
	assert_fails "mountLabel without SELinux"
	assert_clear_error "[Ss][Ee][Ll]inux|mountLabel" "mountLabel without SELinux"
	assert_nothing_left "$ID"
	assert_cg_gone
}

t_empty_labels() {
	res_bundle
	cfg_set .process.apparmorProfile '""'
	cfg_set .process.selinuxLabel '""'
	cfg_sh 'echo ran'
	ct_run
	assert_rc 0 "empty apparmorProfile/selinuxLabel mean none"
	assert_eq ran "$OUT" output
	assert_cg_gone
}

# exec --apparmor and --process-label are applied, as runc does: on a host
# without the LSM they fail exec (255) with a clear error, never run the
# process unconfined; so do the fields of a --process file.
t_exec_lsm() {
	apparmor_enabled && skip "AppArmor is enabled here"
	selinux_enabled && skip "SELinux is enabled here"
	res_bundle
	ct_start_bg 'sleep 100'
	rtc exec --apparmor rune-test-profile "$ID" sh -c 'echo ran'
	assert_rc 255 "exec --apparmor without AppArmor"
	assert_not_contains ran "$OUT" "exec --apparmor ran the process"
	assert_clear_error "[Aa]pp[Aa]rmor" "exec --apparmor without AppArmor"
	rtc exec --process-label system_u:system_r:container_t:s0 "$ID" sh -c 'echo ran'
	assert_rc 255 "exec --process-label without SELinux"
	assert_not_contains ran "$OUT" "exec --process-label ran the process"
	assert_clear_error "[Ss][Ee][Ll]inux" "exec --process-label without SELinux"
	local f
	for f in '"apparmorProfile": "rune-test-profile"' '"selinuxLabel": "system_u:system_r:container_t:s0"'; do
		echo "{\"args\": [\"sh\", \"-c\", \"echo ran\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, $f}" >"$T/process.json"
		rtc exec --process "$T/process.json" "$ID"
		assert_rc 255 "exec --process with $f"
		assert_not_contains ran "$OUT" "exec --process with $f ran the process"
		assert_clear_error "[Aa]pp[Aa]rmor|[Ss][Ee][Ll]inux" "exec --process with $f"
	done
	rtc exec --apparmor "" --process-label "" "$ID" sh -c 'echo ran'
	assert_rc 0 "exec with empty --apparmor and --process-label"
	assert_eq ran "$OUT" "exec with empty --apparmor and --process-label"
	ct_delete
}

t_systemd() {
	[ -d /run/systemd/system ] && skip "systemd is running here"
	[ "$(cat /proc/1/comm)" = systemd ] && skip "PID 1 is systemd"
	res_bundle
	cfg_set .linux.cgroupsPath "\"system.slice:rune-test:$ID\""
	cfg_args true
	RC=0
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" --systemd-cgroup run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
	assert_fails "--systemd-cgroup where PID 1 is not systemd"
	assert_clear_error "systemd" "--systemd-cgroup without systemd"
	assert_nothing_left "$ID"
	assert_cg_gone
	local m
	for m in $(cg_mounts | awk '{ print $2 }'); do
		[ -e "$m/system.slice/rune-test-$ID.scope" ] && fail "left $m/system.slice/rune-test-$ID.scope"
	done
	return 0
}

t_systemd_bad_path() {
	res_bundle
	cfg_set .linux.cgroupsPath "\"/not/a/systemd/path\""
	cfg_args true
	RC=0
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" --systemd-cgroup run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
	assert_fails "--systemd-cgroup with a non-systemd cgroupsPath"
	assert_clear_error "systemd|cgroupsPath|slice" "--systemd-cgroup with /not/a/systemd/path"
	assert_nothing_left "$ID"
	for m in $(cg_mounts | awk '{ print $2 }'); do
		[ -e "$m/not" ] && fail "left $m/not"
	done
	return 0
}

t_missing_controllers() {
	local any=0
	res_bundle
	if ! has_ctrl net_cls; then
		any=1
		res_set network '{"classID": 1048577}'
		cfg_args true
		ct_run
		[ "$RC" = 0 ] && [ "$IS_RUNC" = 1 ] && echo "# runc ignores network.classID without net_cls"
		if [ "$IS_RUNC" != 1 ]; then
			assert_fails "network.classID without net_cls"
			assert_clear_error "classID|net_cls" "network.classID without net_cls"
		fi
		assert_nothing_left "$ID"
		assert_cg_gone
	fi
	if ! has_ctrl rdma; then
		any=1
		res_bundle rdma
		res_set rdma '{"mlx5_0": {"hcaHandles": 3, "hcaObjects": 100}}'
		cfg_args true
		ct_run
		if [ "$IS_RUNC" != 1 ]; then
			assert_fails "rdma without the rdma controller"
			assert_clear_error "rdma" "rdma without the rdma controller"
		fi
		assert_nothing_left "$ID"
		assert_cg_gone
	fi
	[ $any = 1 ] || skip "net_cls and rdma are both mounted here"
	[ "$IS_RUNC" = 1 ] && skip "runc differs: ignores resources of unmounted controllers"
	return 0
}

# On a layout where cpu/memory/pids are missing (a cgroup2 mount whose
# controllers are all bound to v1, see test-v2host.sh), asking for them is
# a clear error naming the resource.
t_missing_core_controllers() {
	local c any=0 json
	for c in memory pids cpu; do
		has_ctrl $c && continue
		any=1
		case $c in
		memory) json='{"limit": 16777216}' ;;
		pids) json='{"limit": 10}' ;;
		cpu) json='{"shares": 512, "quota": 20000}' ;;
		esac
		res_bundle $c
		res_set $c "$json"
		cfg_args true
		ct_run
		assert_fails "$c limits without the $c controller ($LAYOUT)"
		assert_clear_error "$c" "$c limits without the $c controller"
		assert_nothing_left "$ID"
		assert_cg_gone
	done
	[ $any = 1 ] || skip "memory, pids and cpu are all available here"
	return 0
}

rtcase "intelRdt (l3CacheSchema) without resctrl: clear error" t_intelrdt
rtcase "intelRdt (memBwSchema) without resctrl: clear error" t_intelrdt_mba
rtcase "apparmorProfile without AppArmor: clear error" t_apparmor
rtcase "selinuxLabel without SELinux: clear error" t_selinux
rtcase "mountLabel without SELinux: clear error" t_mountlabel
rtcase "empty apparmorProfile/selinuxLabel run" t_empty_labels
rtcase "exec --apparmor, --process-label and a process file's labels without the LSM: exec fails" t_exec_lsm
rtcase "--systemd-cgroup without systemd: clear error" t_systemd
rtcase "--systemd-cgroup with a non-systemd cgroupsPath: clear error" t_systemd_bad_path
rtcase "net_cls/rdma resources without the controller: clear error" t_missing_controllers
rtcase "memory/pids/cpu resources without the controller: clear error" t_missing_core_controllers
