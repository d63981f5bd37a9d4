#!/bin/bash
# timeout: 240
# pause/resume through the freezer (a counter stops, then advances again),
# and `update` changing live limits: --memory, --pids-limit, the cpu flags,
# --resources FILE and --resources - (read back from the cgroup files and
# shown biting with exec).  Cgroup dirs checked gone after each case.
. "$(dirname "$0")/lib.sh"

HOG() { # MB: an anonymous allocation by a volunteer for the OOM killer
	echo "echo 1000 >/proc/self/oom_score_adj; dd if=/dev/zero bs=1M count=$1 2>/dev/null | tail >/dev/null"
}
# forks N: exec a shell that starts N sleeps (stopping at the first refused
# fork); prints how many processes the container then has.
FORKS='(for i in $(seq NUM); do sleep 30 >/dev/null 2>&1 & done) 2>&1 | head -1'
cg_nprocs() { wc -l <"$(cg_dir "$1")/cgroup.procs"; }
freezer_state() {
	if has_ctrl freezer && ! cg_on_v2 freezer; then
		cg_read freezer freezer.state
	elif [ -n "$V2_MNT" ]; then
		awk '$1 == "frozen" { print ($2 == 1 ? "FROZEN" : "THAWED") }' "$V2_MNT/$ID/cgroup.events"
	fi
}

t_pause_resume() {
	res_bundle
	add_share
	ct_start_bg 'while :; do echo x >>/share/c; usleep 20000; done'
	wait_file "$SH/c"
	rtc pause "$ID"
	assert_rc 0 pause
	assert_eq paused "$(status "$ID")" "status after pause"
	assert_eq FROZEN "$(freezer_state)" "freezer state"
	local p a b
	p=$(init_pid)
	a=$(stat -c %s "$SH/c")
	sleep 1
	b=$(stat -c %s "$SH/c")
	assert_eq "$a" "$b" "counter while paused"
	# the host sees the process stopped in the freezer
	assert_match "^(D|S)" "$(awk '{ print $3 }' "/proc/$p/stat")" "init's state while frozen"
	rtc resume "$ID"
	assert_rc 0 resume
	assert_eq running "$(status "$ID")" "status after resume"
	assert_eq THAWED "$(freezer_state)" "freezer state"
	sleep 0.5
	[ "$(stat -c %s "$SH/c")" -gt "$b" ] || fail "counter did not advance after resume"
	# pausing twice, resuming a running container: errors, not hangs
	rtc resume "$ID"
	assert_fails "resume of a running container"
	ct_delete
}

# A created container can be paused too: it is "paused" then, start refuses
# it in runc's words instead of hanging on the frozen init, resume makes it
# "created" again and start runs it.
t_pause_created() {
	res_bundle
	add_share
	cfg_sh 'echo ran >/share/ran; sleep 100'
	ct_create
	rtc pause "$ID"
	assert_rc 0 "pause of a created container"
	assert_eq paused "$(status "$ID")" "status of a paused created container"
	rtc start "$ID"
	assert_fails "start of a paused container"
	assert_clear_error "cannot start a container in the paused state" "start of a paused container"
	rtc resume "$ID"
	assert_rc 0 "resume of a paused created container"
	assert_eq created "$(status "$ID")" "status after resume"
	rtc start "$ID"
	assert_rc 0 "start after resume"
	wait_file "$SH/ran"
	assert_eq running "$(status "$ID")" "status after start"
	rtc start "$ID"
	assert_fails "start of a running container"
	assert_clear_error "cannot start an already running container" "start of a running container"
	ct_delete
}

t_delete_paused() {
	res_bundle
	ct_start_bg 'sleep 60'
	rtc pause "$ID"
	assert_rc 0 pause
	rtc delete "$ID"
	assert_fails "delete (no --force) of a paused container"
	assert_eq paused "$(status "$ID")" "status after a refused delete"
	local p
	p=$(init_pid)
	rtc delete --force "$ID"
	assert_rc 0 "delete --force of a paused container"
	wait_gone "$p" 5
	assert_cg_gone
}

# runc 1.1 thaws a paused container for SIGKILL (v1 freezer: a frozen
# task doesn't die until thawed); with --all and without.
t_kill_paused() {
	res_bundle
	ct_start_bg 'sleep 60'
	rtc pause "$ID"
	assert_rc 0 pause
	rtc kill $1 "$ID" KILL
	assert_rc 0 "kill $1 KILL of a paused container"
	wait_stopped 10
	rtc delete "$ID"
	assert_rc 0 delete
	assert_cg_gone
}

t_update_memory() {
	need_ctrl memory
	res_bundle
	res_set memory '{"limit": 16777216}'
	ct_start_bg 'sleep 120'
	rtc exec "$ID" sh -c "$(HOG 32)"
	assert_rc 137 "exec of a 32M allocation under 16M"
	rtc update --memory 67108864 "$ID"
	assert_rc 0 "update --memory 67108864"
	if cg_on_v2 memory; then
		assert_eq 67108864 "$(cg_read memory memory.max)" memory.max
	else
		assert_eq 67108864 "$(cg_read memory memory.limit_in_bytes)" memory.limit_in_bytes
	fi
	rtc exec "$ID" sh -c "$(HOG 32)"
	assert_rc 0 "exec of a 32M allocation after raising the limit to 64M"
	rtc update --memory 16M --memory-reservation 8M "$ID"
	assert_rc 0 "update --memory 16M --memory-reservation 8M"
	if cg_on_v2 memory; then
		assert_eq 16777216 "$(cg_read memory memory.max)" memory.max
		assert_eq 8388608 "$(cg_read memory memory.low)" memory.low
	else
		assert_eq 16777216 "$(cg_read memory memory.limit_in_bytes)" memory.limit_in_bytes
		assert_eq 8388608 "$(cg_read memory memory.soft_limit_in_bytes)" memory.soft_limit_in_bytes
	fi
	rtc exec "$ID" sh -c "$(HOG 32)"
	assert_rc 137 "exec of a 32M allocation after lowering the limit again"
	assert_eq running "$(status "$ID")" "the container survives its exec's OOM"
	ct_delete
}

t_update_pids() {
	need_ctrl pids
	res_bundle
	res_set pids '{"limit": 100}'
	ct_start_bg 'sleep 120'
	rtc exec "$ID" sh -c "${FORKS/NUM/10}; echo started"
	assert_rc 0 "exec starting 10 sleeps under pids.limit 100"
	assert_eq started "$OUT" "no fork error under 100"
	[ "$(cg_nprocs pids)" -ge 11 ] || fail "$(cg_nprocs pids) processes, expected 11"
	rtc update --pids-limit 14 "$ID"
	assert_rc 0 "update --pids-limit 14"
	assert_eq 14 "$(cg_read pids pids.max)" pids.max
	rtc exec "$ID" sh -c "${FORKS/NUM/10}; echo started"
	# the exec'd shell or its subshell reports the refused fork
	assert_match "fork|Resource temporarily unavailable" "$OUT $ERR" "forks over the updated limit"
	[ "$(cg_read pids pids.current)" -le 14 ] || fail "pids.current $(cg_read pids pids.current) > 14"
	rtc update --pids-limit -1 "$ID"
	assert_rc 0 "update --pids-limit -1 (unlimited)"
	assert_eq max "$(cg_read pids pids.max)" "pids.max after -1"
	ct_delete
}

t_update_cpu_flags() {
	need_ctrl cpu
	need_ctrl cpuset
	res_bundle
	res_set cpu '{"shares": 1024}'
	ct_start_bg 'sleep 120'
	rtc update --cpu-share 256 --cpu-period 50000 --cpu-quota 30000 --cpuset-cpus 0 --cpuset-mems 0 "$ID"
	assert_rc 0 "update with the cpu flags"
	if cg_on_v2 cpu; then
		assert_eq "30000 50000" "$(cg_read cpu cpu.max)" cpu.max
	else
		assert_eq 256 "$(cg_read cpu cpu.shares)" cpu.shares
		assert_eq 50000 "$(cg_read cpu cpu.cfs_period_us)" cpu.cfs_period_us
		assert_eq 30000 "$(cg_read cpu cpu.cfs_quota_us)" cpu.cfs_quota_us
	fi
	assert_eq 0 "$(cg_read cpuset cpuset.cpus)" cpuset.cpus
	assert_eq 0 "$(cg_read cpuset cpuset.mems)" cpuset.mems
	local p
	p=$(init_pid)
	assert_match "Cpus_allowed_list:[[:space:]]+0\$" "$(grep Cpus_allowed_list "/proc/$p/status")" "init's affinity after update"
	rtc exec "$ID" sh -c 'grep Cpus_allowed_list /proc/self/status'
	assert_match "Cpus_allowed_list:[[:space:]]+0\$" "$OUT" "a new process's affinity"
	# quota -1: unlimited
	rtc update --cpu-quota -1 "$ID"
	assert_rc 0 "update --cpu-quota -1"
	if cg_on_v2 cpu; then
		assert_eq "max 50000" "$(cg_read cpu cpu.max)" cpu.max
	else
		assert_eq -1 "$(cg_read cpu cpu.cfs_quota_us)" cpu.cfs_quota_us
	fi
	ct_delete
}

t_update_resources_stdin() {
	need_ctrl memory
	need_ctrl pids
	res_bundle
	res_set memory '{"limit": 67108864}'
	res_set pids '{"limit": 100}'
	ct_start_bg 'sleep 120'
	rtc exec "$ID" sh -c "$(HOG 24)"
	assert_rc 0 "a 24M allocation under 64M"
	echo '{"memory": {"limit": 16777216}, "pids": {"limit": 6}, "cpu": {"shares": 300}}' >"$T/res-stdin.json"
	rtc update --resources - "$ID" <"$T/res-stdin.json"
	assert_rc 0 "update --resources -"
	assert_eq 6 "$(cg_read pids pids.max)" pids.max
	if cg_on_v2 memory; then
		assert_eq 16777216 "$(cg_read memory memory.max)" memory.max
	else
		assert_eq 16777216 "$(cg_read memory memory.limit_in_bytes)" memory.limit_in_bytes
	fi
	if has_ctrl cpu && ! cg_on_v2 cpu; then
		assert_eq 300 "$(cg_read cpu cpu.shares)" cpu.shares
	fi
	rtc exec "$ID" sh -c "$(HOG 24)"
	assert_rc 137 "a 24M allocation after --resources lowered memory to 16M"
	rtc exec "$ID" sh -c "${FORKS/NUM/10}"
	assert_match "fork|Resource temporarily unavailable" "$OUT $ERR" "forks after --resources set pids 6"
	# --resources FILE
	echo '{"pids": {"limit": 50}}' >"$T/res.json"
	rtc update --resources "$T/res.json" "$ID"
	assert_rc 0 "update --resources FILE"
	assert_eq 50 "$(cg_read pids pids.max)" "pids.max from the file"
	assert_eq 16777216 "$(cg_read memory memory.limit_in_bytes 2>/dev/null || cg_read memory memory.max)" "memory untouched by an update without it"
	ct_delete
}

t_update_errors() {
	res_bundle
	ct_start_bg 'sleep 120'
	rtc update --memory 12abc "$ID"
	assert_fails "update --memory 12abc"
	echo '{"memory": ' >"$T/bad.json"
	rtc update --resources "$T/bad.json" "$ID"
	assert_fails "update --resources with malformed JSON"
	rtc update --memory 1M nonexistent-$PFX
	assert_fails "update of an unknown container"
	ct_delete
	new_bundle stopped
	cfg_set .linux.cgroupsPath "\"/$ID\""
	cfg_args true
	ct_create
	rtc start "$ID"
	wait_stopped
	rtc update --pids-limit 10 "$ID"
	assert_fails "update of a stopped container"
	rtc delete "$ID"
	assert_rc 0 delete
	assert_cg_gone
}

rtcase "pause freezes the processes, resume restarts them" t_pause_resume
rtcase "pause of a created container: paused, start refused, resume and start" t_pause_created
rtcase "delete of a paused container: refused, --force works" t_delete_paused
rtcase "kill KILL reaches a paused container" t_kill_paused ""
rtcase "kill --all KILL reaches a paused container" t_kill_paused --all
rtcase "update --memory changes the live limit (exec OOM-killed / not)" t_update_memory
rtcase "update --pids-limit changes the live limit" t_update_pids
rtcase "update cpu flags (--cpu-share/-period/-quota, --cpuset-*)" t_update_cpu_flags
rtcase "update --resources - and FILE" t_update_resources_stdin
rtcase "update errors (bad value, bad JSON, unknown, stopped)" t_update_errors
