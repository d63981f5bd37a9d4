#!/bin/bash
# timeout: 240
# The systemd cgroup driver (--systemd-cgroup) against a real systemd.
#
# This host's PID 1 is not systemd, so the test boots Debian's systemd as
# PID 1 of its own pid, mount and cgroup namespaces: a private /run, the
# host's cgroup hierarchies remounted inside a cgroup namespace rooted at
# <hierarchy>/rune-sd-<pid>, and no units but an empty target (plus the
# transient and runtime-property dirs systemd writes itself). rune runs in
# those namespaces (nsenter), talks to that systemd over its private socket
# and must get what it gets on a systemd host: a transient scope per
# container with the limits as unit properties, limits that survive a
# daemon-reload, and nothing left after delete.
#
# Everything lives in the test's namespaces and under rune-sd-<pid>; the
# EXIT trap kills that systemd (and with it its pid namespace) and removes
# the cgroup trees.
. "$(dirname "$0")/lib.sh"

SYSTEMD=/lib/systemd/systemd
SDCG=rune-sd-$$
SDPID=""
REAL_RUNTIME=$RUNTIME

sd_inner_script() {
	cat <<-EOF
		#!/bin/bash
		set -e
		$(if [ "$LAYOUT" = v2 ]; then
			echo "mount -t cgroup2 cgroup2 $V2_MNT"
		else
			echo "mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup"
			cg_mounts | while read -r fs mp opts; do
				echo "mkdir -p $mp && mount -t $fs -o $opts $fs $mp"
			done
		fi)
		mount -t tmpfs -o mode=755 tmpfs /run
		exec env -i container=rune-test \\
			SYSTEMD_UNIT_PATH=/run/systemd/system.control:/run/systemd/transient:$T/units \\
			$SYSTEMD --unit=rune-test.target --log-target=null
	EOF
}

sd_boot() {
	local mp i
	mkdir -p "$T/units"
	printf '[Unit]\nDescription=rune systemd-driver test\n' >"$T/units/rune-test.target"
	sd_inner_script >"$T/sd-inner.sh"
	chmod +x "$T/sd-inner.sh"
	for mp in $(cg_mounts | awk '{ print $2 }'); do
		mkdir -p "$mp/$SDCG"
		if [ -e "$mp/$SDCG/cpuset.cpus" ]; then
			cat "$mp/cpuset.cpus" >"$mp/$SDCG/cpuset.cpus"
			cat "$mp/cpuset.mems" >"$mp/$SDCG/cpuset.mems"
		fi
	done
	# shellcheck disable=SC2016
	setsid unshare -m --propagation private -- bash -c '
		for mp in $1; do echo $$ >"$mp/$2/cgroup.procs"; done
		exec unshare --cgroup --pid --fork --mount-proc "$3"' _ \
		"$(cg_mounts | awk '{ print $2 }')" "$SDCG" "$T/sd-inner.sh" \
		</dev/null >"$T/sd.log" 2>&1 &
	for ((i = 0; i < 100; i++)); do
		SDPID=$(pgrep -f "^$SYSTEMD --unit=rune-test.target" | while read -r p; do
			grep -q "/$SDCG" "/proc/$p/cgroup" 2>/dev/null && echo "$p"
		done | head -1)
		if [ -n "$SDPID" ] && [ -S "/proc/$SDPID/root/run/systemd/private" ] &&
			[ "$(sdctl is-system-running 2>/dev/null)" = running ]; then
			echo "$SDPID" >"$T/sdpid"
			return 0
		fi
		sleep 0.1
	done
	echo "# systemd did not come up; its output:"
	sed 's/^/#   /' "$T/sd.log" | tail -20
	return 1
}

sd_stop() {
	local mp i
	[ -n "$SDPID" ] && kill -9 "$SDPID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		[ -z "$SDPID" ] || [ ! -e "/proc/$SDPID" ] && break
		sleep 0.1
	done
	for mp in $(cg_mounts | awk '{ print $2 }'); do
		for ((i = 0; i < 20; i++)); do
			[ -d "$mp/$SDCG" ] || break
			find "$mp/$SDCG" -depth -type d -exec rmdir {} + 2>/dev/null
			sleep 0.1
		done
	done
}

# commands, systemctl and rune inside the test systemd's namespaces
in_sd() { nsenter -t "$SDPID" -m -p -C -- "$@"; }
sdctl() { in_sd systemctl --no-pager "$@"; }
cat >"$T/rune-in-sd" <<EOF
#!/bin/sh
exec nsenter -t "\$(cat $T/sdpid)" -m -p -C -- $REAL_RUNTIME --systemd-cgroup "\$@"
EOF
chmod +x "$T/rune-in-sd"

# Leftovers: our scopes are rune-<id>.scope (or <prefix>-<id>.scope) deep in
# the test's cgroup tree.
_leftover_cgroups() {
	{ find /sys/fs/cgroup -maxdepth 6 -type d -name "*${1:-$PFX}*" 2>/dev/null || true; } | sort -r
}

# sd_dir CTRL [UNIT-PATH]: the container's cgroup dir for CTRL, host view.
sd_dir() {
	local d
	d=$(cg_dir "$1" "$SDCG/${2:-system.slice/rune-$ID.scope}") || fail "no $1 controller"
	echo "$d"
}
sd_prop() { sdctl show -p "$2" --value "$1"; }
# sd_procs CTRL: the scope's processes there, as pids of the systemd's namespace
# (rune's state reports those: it runs there).
sd_procs() {
	local d
	d=$(cg_dir "$1" "system.slice/rune-$ID.scope") || fail "no $1 controller"
	in_sd cat "$d/cgroup.procs"
}
# assert_in_procs CTRL WHAT: the init's pid is a line of the scope's cgroup.procs there.
assert_in_procs() {
	local procs
	procs=$(sd_procs "$1")
	grep -qx "$(init_pid)" <<<"$procs" || fail "$2: pid $(init_pid) not in [${procs//$'\n'/ }]"
}
assert_unit_gone() {
	local unit=${1:-rune-$ID.scope} i
	for ((i = 0; i < 30; i++)); do
		[ "$(sd_prop "$unit" LoadState)" = not-found ] && return 0
		sleep 0.1
	done
	fail "unit $unit still loaded: $(sd_prop "$unit" ActiveState)"
}
assert_sd_cg_gone() {
	local left i
	for ((i = 0; i < 20; i++)); do
		left=$(find /sys/fs/cgroup -path "*/$SDCG/*" -type d -name "*$ID*" 2>/dev/null)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail "cgroup dirs left: $left"
}
sd_bundle() {
	new_bundle "$@"
	cfg_del .linux.cgroupsPath
}
# mem_prop: systemd's name for the memory limit on this layout
mem_prop() { if cg_on_v2 memory; then echo MemoryMax; else echo MemoryLimit; fi; }
mem_file() { if cg_on_v2 memory; then echo memory.max; else echo memory.limit_in_bytes; fi; }

t_run_in_scope() {
	sd_bundle
	cfg_sh 'cat /proc/self/cgroup; exit 3'
	ct_run
	assert_rc 3 "the workload's exit status"
	local n bad
	n=$(printf '%s\n' "$OUT" | grep -c .)
	bad=$(printf '%s\n' "$OUT" | grep -v ":/system.slice/rune-$ID.scope\$" || true)
	{ [ "$n" -ge 1 ] && [ -z "$bad" ]; } || fail "not in rune-$ID.scope everywhere: $bad"
	assert_unit_gone
	assert_sd_cg_gone
}

t_unit_properties() {
	need_ctrl memory
	need_ctrl pids
	sd_bundle
	res_set memory '{"limit": 33554432}'
	res_set pids '{"limit": 40}'
	res_set cpu '{"shares": 512, "quota": 20000, "period": 100000}'
	ct_start_bg 'sleep 60'
	local u=rune-$ID.scope
	assert_eq active "$(sd_prop "$u" ActiveState)" ActiveState
	assert_eq yes "$(sd_prop "$u" Delegate)" Delegate
	assert_eq system.slice "$(sd_prop "$u" Slice)" Slice
	assert_eq "rune container $ID" "$(sd_prop "$u" Description)" Description
	assert_eq "/system.slice/$u" "$(sd_prop "$u" ControlGroup)" ControlGroup
	assert_eq 33554432 "$(sd_prop "$u" "$(mem_prop)")" "$(mem_prop)"
	assert_eq 40 "$(sd_prop "$u" TasksMax)" TasksMax
	assert_eq 200ms "$(sd_prop "$u" CPUQuotaPerSecUSec)" CPUQuotaPerSecUSec
	assert_in_procs pids "the scope holds the init"
	assert_eq 33554432 "$(cat "$(sd_dir memory)/$(mem_file)")" "$(mem_file)"
	assert_eq 40 "$(cat "$(sd_dir pids)/pids.max")" pids.max
	ct_delete_sd
}

ct_delete_sd() {
	rtc delete --force "$ID"
	[ "$RC" -eq 0 ] || fail "delete --force failed (rc=$RC)"
	assert_unit_gone
	assert_sd_cg_gone
}

t_oom() {
	need_ctrl memory
	sd_bundle
	res_set memory '{"limit": 16777216}'
	cfg_sh 'echo 1000 >/proc/self/oom_score_adj; dd if=/dev/zero bs=1M count=64 2>/dev/null | tail >/dev/null'
	ct_run
	assert_rc 137 "64M under a 16M limit"
	assert_unit_gone
	assert_sd_cg_gone
}

t_update_reload() {
	need_ctrl memory
	need_ctrl pids
	sd_bundle
	res_set memory '{"limit": 33554432}'
	res_set pids '{"limit": 40}'
	ct_start_bg 'sleep 60'
	local u=rune-$ID.scope devs=""
	rtc update --memory 64M --pids-limit 30 "$ID"
	[ "$RC" -eq 0 ] || fail "update failed"
	assert_eq 67108864 "$(sd_prop "$u" "$(mem_prop)")" "$(mem_prop) after update"
	assert_eq 30 "$(sd_prop "$u" TasksMax)" "TasksMax after update"
	assert_eq 67108864 "$(cat "$(sd_dir memory)/$(mem_file)")" "$(mem_file) after update"
	cg_on_v2 devices || devs=$(cat "$(sd_dir devices)/devices.list")
	# systemd rewrites what it manages from the unit: the limits must be there.
	sdctl daemon-reload
	sdctl set-property --runtime "$u" CPUAccounting=yes
	assert_eq 67108864 "$(cat "$(sd_dir memory)/$(mem_file)")" "$(mem_file) after daemon-reload"
	assert_eq 30 "$(cat "$(sd_dir pids)/pids.max")" "pids.max after daemon-reload"
	if [ -n "$devs" ]; then
		assert_eq "$devs" "$(cat "$(sd_dir devices)/devices.list")" "device rules after daemon-reload"
		assert_contains "c 1:3 rwm" "$devs" "rune's device rules"
	fi
	assert_in_procs devices "init still in its devices cgroup"
	ct_delete_sd
}

t_pause_resume() {
	sd_bundle
	ct_start_bg 'sleep 60'
	rtc pause "$ID"
	[ "$RC" -eq 0 ] || fail "pause failed"
	assert_eq paused "$(status "$ID")" "status after pause"
	rtc resume "$ID"
	[ "$RC" -eq 0 ] || fail "resume failed"
	assert_eq running "$(status "$ID")" "status after resume"
	ct_delete_sd
}

t_cgroups_path() {
	sd_bundle
	cfg_set .linux.cgroupsPath "\"rune-test.slice:pfx:$ID\""
	ct_start_bg 'sleep 60'
	local u=pfx-$ID.scope
	assert_eq rune-test.slice "$(sd_prop "$u" Slice)" Slice
	# A dash nests slices: rune-test.slice lives in rune.slice, for systemd and rune alike.
	assert_eq "/rune.slice/rune-test.slice/$u" "$(sd_prop "$u" ControlGroup)" ControlGroup
	[ -d "$(sd_dir pids "rune.slice/rune-test.slice/$u")" ] || fail "no cgroup at rune.slice/rune-test.slice/$u"
	rtc delete --force "$ID"
	[ "$RC" -eq 0 ] || fail "delete failed"
	assert_unit_gone "$u"
	assert_sd_cg_gone
}

t_failures_leave_nothing() {
	sd_bundle
	cfg_args /no/such/program
	ct_run
	assert_fails "run of a missing program"
	assert_unit_gone
	assert_sd_cg_gone
	assert_nothing_left "$ID"
	# A unit name that is taken: a clear error naming it, the first one untouched.
	sd_bundle first
	cfg_set .linux.cgroupsPath "\"system.slice:pfx:$PFX-shared\""
	ct_start_bg 'sleep 60'
	local first=$ID
	sd_bundle second
	cfg_set .linux.cgroupsPath "\"system.slice:pfx:$PFX-shared\""
	cfg_args true
	rtc create --bundle "$B" "$ID"
	assert_fails "create with a scope that exists"
	# its cgroup holds the first container: runc's warning comes first
	assert_contains "container's cgroup is not empty" "$ERR" "the warning for a non-empty cgroup"
	ERR=$(printf '%s\n' "$ERR" | grep -v "container's cgroup is not empty")
	assert_clear_error "pfx-$PFX-shared.scope" "the taken unit"
	assert_nothing_left "$ID"
	assert_eq active "$(sd_prop "pfx-$PFX-shared.scope" ActiveState)" "the first container's unit"
	assert_eq running "$(status "$first")" "the first container"
}

if [ ! -x "$SYSTEMD" ]; then
	echo "skip - systemd driver ($SYSTEMD is not installed)"
	exit 0
fi
trap '_finish; sd_stop' EXIT
if ! sd_boot; then
	echo "not ok - systemd driver: a test systemd boots"
	exit 1
fi
echo "# systemd $(sdctl --version | head -1 | awk '{print $2}') as pid 1 of its namespaces (host pid $SDPID), cgroups under /$SDCG"
RUNTIME=$T/rune-in-sd

tcase "systemd: run puts the container in rune-ID.scope everywhere, keeps its exit status" t_run_in_scope
tcase "systemd: the scope carries the limits, the files hold them" t_unit_properties
tcase "systemd: 64M under a 16M limit is OOM-killed (137)" t_oom
tcase "systemd: update sets unit and files; daemon-reload keeps limits and device rules" t_update_reload
tcase "systemd: pause and resume" t_pause_resume
tcase "systemd: cgroupsPath slice:prefix:name picks slice and unit" t_cgroups_path
tcase "systemd: a failed run or a taken unit name leaves nothing" t_failures_leave_nothing
