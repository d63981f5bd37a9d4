#!/bin/bash
# timeout: 240
# linux.resources biting inside real containers: memory (OOM kill, exit
# 137), pids (forks refused), cpu quota/shares/cpuset (files + throttling +
# affinity), hugepageLimits (cgroup2 `unified` on the hybrid layout, or a
# clear error), devices (allow/deny rules, linux.devices nodes), rlimits.
# After every case the container's cgroup dirs must be gone on every
# hierarchy.  RUNTIME=runc validates the tests.
. "$(dirname "$0")/lib.sh"

# A 64M anonymous allocation (busybox tail buffers its whole input) made by
# a process that volunteers for the OOM killer.
HOG64='echo 1000 >/proc/self/oom_score_adj; dd if=/dev/zero bs=1M count=64 2>/dev/null | tail >/dev/null'

t_memory_oom() {
	need_ctrl memory
	res_bundle
	res_set memory '{"limit": 16777216}'
	cfg_sh "$HOG64"
	ct_run
	assert_rc 137 "64M under a 16M limit"
	assert_cg_gone  # run deletes the container when it exits
	# The same allocation without the limit succeeds (the test is sound).
	res_bundle nolimit
	cfg_sh "$HOG64"
	ct_run
	assert_rc 0 "64M without a limit"
	assert_cg_gone
}

t_memory_values() {
	need_ctrl memory
	res_bundle
	res_set memory '{"limit": 16777216, "reservation": 8388608}'
	ct_start_bg 'dd if=/dev/zero bs=1M count=8 2>/dev/null | tail >/dev/null && echo small-ok; sleep 60'
	wait_file "$T/ct.out"
	sleep 0.3
	assert_contains small-ok "$(cat "$T/ct.out")" "an 8M allocation under 16M"
	if cg_on_v2 memory; then
		assert_eq 16777216 "$(cg_read memory memory.max)" memory.max
		assert_eq 8388608 "$(cg_read memory memory.low)" memory.low
	else
		assert_eq 16777216 "$(cg_read memory memory.limit_in_bytes)" memory.limit_in_bytes
		assert_eq 8388608 "$(cg_read memory memory.soft_limit_in_bytes)" memory.soft_limit_in_bytes
		local p
		p=$(init_pid)
		grep -q ":memory:/$ID\$" "/proc/$p/cgroup" || fail "init not in memory:/$ID: $(cat "/proc/$p/cgroup")"
	fi
	ct_delete
}

t_memory_swap() {
	need_ctrl memory
	res_bundle
	res_set memory '{"limit": 16777216, "swap": 33554432, "swappiness": 10}'
	if cg_on_v2 memory; then
		ct_start_bg 'sleep 60'
		assert_eq 16777216 "$(cg_read memory memory.swap.max)" "memory.swap.max (swap - limit)"
	else
		[ -e "$(dirname "$(cg_dir memory x)")/memory.memsw.limit_in_bytes" ] || skip "no swap accounting (memory.memsw.*) on this host"
		ct_start_bg 'sleep 60'
		assert_eq 33554432 "$(cg_read memory memory.memsw.limit_in_bytes)" memory.memsw.limit_in_bytes
		assert_eq 10 "$(cg_read memory memory.swappiness)" memory.swappiness
	fi
	assert_eq 16777216 "$(cg_read memory memory.limit_in_bytes 2>/dev/null || cg_read memory memory.max)" "memory limit"
	ct_delete
}

# blockIO: values in the files (this host's disk can't be opened from a
# test, so throttling is not timed).
# Weight files exist only where a weighing I/O scheduler (BFQ) is built in;
# without one, a weight is a clear error, as on runc, and leaves nothing.
t_blkio() {
	need_ctrl blkio
	res_bundle
	res_set blockIO '{"throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1048576}], "throttleWriteIOPSDevice": [{"major": 7, "minor": 1, "rate": 100}]}'
	ct_start_bg 'sleep 60'
	local d wfile=""
	d=$(cg_dir blkio)
	if cg_on_v2 blkio; then
		assert_contains "7:0 rbps=1048576" "$(cg_read blkio io.max)" io.max
		for f in io.bfq.weight io.weight; do [ -e "$d/$f" ] && { wfile=$f; break; }; done
	else
		assert_contains "7:0 1048576" "$(cg_read blkio blkio.throttle.read_bps_device)" blkio.throttle.read_bps_device
		assert_contains "7:1 100" "$(cg_read blkio blkio.throttle.write_iops_device)" blkio.throttle.write_iops_device
		for f in blkio.bfq.weight blkio.weight; do [ -e "$d/$f" ] && { wfile=$f; break; }; done
	fi
	ct_delete
	res_set blockIO '{"weight": 500}'
	if [ -z "$wfile" ]; then
		echo "# no blkio weight file on this kernel: a weight must be a clear error"
		cfg_args true
		rtc create --bundle "$B" "$ID"
		assert_fails "create with blockIO.weight and no weight file"
		assert_clear_error "blockIO.weight: this kernel has no .*weight" "blockIO.weight"
		assert_nothing_left "$ID"
		assert_cg_gone
		return 0
	fi
	ct_start_bg 'sleep 60'
	case $wfile in
	*bfq*) assert_match "(^| )500$" "$(head -1 "$d/$wfile")" "$wfile" ;;
	io.weight) assert_contains "default 4950" "$(cat "$d/$wfile")" "$wfile" ;;
	*) assert_eq 500 "$(cat "$d/$wfile")" "$wfile" ;;
	esac
	ct_delete
}

t_pids() {
	need_ctrl pids
	res_bundle
	res_set pids '{"limit": 8}'
	add_share
	# ash gives up at the first refused fork: the subshell forks until then.
	ct_start_bg '(for i in $(seq 20); do sleep 60 & done) 2>/share/err; echo done >/share/n; exec sleep 60'
	wait_file "$SH/n" 15
	sleep 0.2
	assert_eq 8 "$(cg_read pids pids.max)" pids.max
	local cur procs
	cur=$(cg_read pids pids.current)
	procs=$(wc -l <"$(cg_dir pids)/cgroup.procs")
	[ "$cur" -le 8 ] || fail "pids.current $cur > 8"
	[ "$procs" -le 8 ] || fail "$procs processes in a cgroup with pids.max 8"
	[ "$procs" -ge 6 ] || fail "only $procs processes: the forks stopped early for another reason"
	assert_match "fork|Resource temporarily unavailable" "$(cat "$SH/err")" "the shell's fork error"
	ct_delete
}

# The quota is 2% of a CPU so that it bites even on a loaded CI host (load
# 10 on 2 CPUs still leaves a busy loop well over 2%).
t_cpu_quota_shares() {
	need_ctrl cpu
	res_bundle
	res_set cpu '{"shares": 512, "quota": 2000, "period": 100000}'
	ct_start_bg 'while :; do :; done'
	sleep 1
	if cg_on_v2 cpu; then
		assert_eq "2000 100000" "$(cg_read cpu cpu.max)" cpu.max
		assert_eq "$((1 + (512 - 2) * 9999 / 262142))" "$(cg_read cpu cpu.weight)" cpu.weight
	else
		assert_eq 512 "$(cg_read cpu cpu.shares)" cpu.shares
		assert_eq 2000 "$(cg_read cpu cpu.cfs_quota_us)" cpu.cfs_quota_us
		assert_eq 100000 "$(cg_read cpu cpu.cfs_period_us)" cpu.cfs_period_us
	fi
	# CPU time of the busy loop over 2s stays near the quota (40ms), far
	# from the 2000ms it would take unthrottled.
	local p t1 t2 thr hz=100
	p=$(init_pid)
	t1=$(awk '{ print $14 + $15 }' "/proc/$p/stat")
	sleep 2
	t2=$(awk '{ print $14 + $15 }' "/proc/$p/stat")
	thr=$(cg_read cpu cpu.stat | awk '$1 == "nr_throttled" { print $2 }')
	echo "# busy loop: $(((t2 - t1) * 1000 / hz))ms of CPU in 2s; cpu.stat: $(cg_read cpu cpu.stat | tr '\n' ' ')"
	[ "${thr:-0}" -ge 1 ] || fail "a busy loop under a 2% quota was never throttled"
	[ $(((t2 - t1) * 1000 / hz)) -le 200 ] || fail "a busy loop under a 2% quota used $(((t2 - t1) * 1000 / hz))ms of CPU in 2s"
	ct_delete
}

t_cpuset() {
	need_ctrl cpuset
	[ "$(nproc --all)" -ge 2 ] || skip "needs 2 CPUs"
	res_bundle
	res_set cpu '{"cpus": "1", "mems": "0"}'
	cfg_sh 'grep -E "^(Cpus|Mems)_allowed_list" /proc/self/status; nproc; taskset -c -p 0 $$ 2>&1 | tail -1'
	rt create --bundle "$B" "$ID" >"$T/ct.out" 2>&1 || fail "create failed: $(cat "$T/ct.out")"
	assert_eq 1 "$(cg_read cpuset cpuset.cpus)" cpuset.cpus
	assert_eq 0 "$(cg_read cpuset cpuset.mems)" cpuset.mems
	rtc start "$ID"
	assert_rc 0 start
	wait_stopped
	local out
	out=$(cat "$T/ct.out")
	assert_match "Cpus_allowed_list:[[:space:]]+1" "$out" "Cpus_allowed_list inside"
	assert_match "Mems_allowed_list:[[:space:]]+0" "$out" "Mems_allowed_list inside"
	assert_eq 1 "$(echo "$out" | sed -n 3p)" "nproc inside"
	assert_match "Invalid argument|failed" "$(echo "$out" | sed -n 4p)" "taskset to a CPU outside the cpuset"
	rtc delete "$ID"
	assert_rc 0 delete
	assert_cg_gone
}

# The container's own view: the cgroup mount at /sys/fs/cgroup shows its
# cgroup's files, with the limits the config set.
t_inside_view() {
	need_ctrl cpu
	need_ctrl cpuset
	need_ctrl memory
	need_ctrl pids
	res_bundle
	res_set cpu '{"shares": 512, "quota": 20000, "period": 100000, "cpus": "0"}'
	res_set memory '{"limit": 16777216}'
	res_set pids '{"limit": 9}'
	if [ "$LAYOUT" = v2 ]; then
		cfg_sh 'cd /sys/fs/cgroup && cat cpu.weight cpu.max cpuset.cpus memory.max pids.max'
		ct_run
		assert_rc 0 run
		assert_eq "20 20000 100000 0 16777216 9" "$(echo $OUT)" "cpu.weight, cpu.max, cpuset.cpus, memory.max, pids.max inside"
	else
		cfg_sh 'cd /sys/fs/cgroup && cat cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus memory/memory.limit_in_bytes pids/pids.max'
		ct_run
		assert_rc 0 run
		assert_eq "512 20000 100000 0 16777216 9" "$(echo $OUT)" "cpu.shares, cfs quota/period, cpuset.cpus, memory limit, pids.max inside"
	fi
	assert_cg_gone
}

# hugetlb: wherever the host has it (on cgroup2 `unified` on the hybrid
# hosts here), else a clear error.  It bites through fallocate on a
# hugetlbfs mount when the host has free huge pages (the EXIT trap puts
# nr_hugepages back).
HP=/proc/sys/vm/nr_hugepages
HP_ORIG=$(cat $HP 2>/dev/null || echo 0)
restore_hp() { [ "$(cat $HP 2>/dev/null)" = "$HP_ORIG" ] || echo "$HP_ORIG" >$HP 2>/dev/null; }
t_hugetlb() {
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages in this kernel"
	res_bundle
	res_set hugepageLimits '[{"pageSize": "2MB", "limit": 4194304}]'
	if ! has_ctrl hugetlb; then
		cfg_args true
		ct_run
		assert_fails "hugepageLimits without a hugetlb controller ($LAYOUT)"
		[ "$IS_RUNC" = 1 ] && echo "# runc: $ERR"
		assert_clear_error "hugepageLimits|hugetlb" "hugepageLimits without a hugetlb controller"
		assert_cg_gone
		return 0
	fi
	if [ "$LAYOUT" = hybrid ]; then
		cg_on_v2 hugetlb || echo "# hugetlb is bound to v1 here (cgroupfs-mount?)"
	fi
	cfg_append .mounts '{"destination": "/hp", "type": "hugetlbfs", "source": "hugetlbfs", "options": ["pagesize=2M"]}'
	cfg_sh 'fallocate -l 4M /hp/a && echo a-ok; fallocate -l 4M /hp/b 2>&1 || echo b-failed; sleep 60'
	rt create --bundle "$B" "$ID" >"$T/ct.out" 2>&1 || differs_from_runc "create with hugepageLimits on $LAYOUT failed: $(cat "$T/ct.out")"
	local f
	f=$(cg_dir hugetlb)/hugetlb.2MB.max
	cg_on_v2 hugetlb || f=$(cg_dir hugetlb)/hugetlb.2MB.limit_in_bytes
	[ -e "$f" ] || differs_from_runc "hugepageLimits not applied: $f does not exist"
	assert_eq 4194304 "$(cat "$f")" "$f"
	echo 8 >$HP 2>/dev/null || true
	if [ "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)" -lt 6 ]; then
		echo "# no free huge pages (nr_hugepages not writable): limit checked, not exercised"
		ct_delete
		return 0
	fi
	rtc start "$ID"
	assert_rc 0 start
	local i
	for ((i = 0; i < 50; i++)); do grep -q failed "$T/ct.out" && break; sleep 0.1; done
	local out
	out=$(cat "$T/ct.out")
	assert_contains a-ok "$out" "4M of huge pages under a 4M limit"
	assert_contains b-failed "$out" "4M more over the limit"
	ct_delete
	restore_hp
}

# linux.resources.unified: written on the cgroup2 hierarchy (hybrid: the
# `unified` mount), a clear error on pure v1 or for a missing file.
t_unified() {
	res_bundle
	if [ -z "$V2_MNT" ]; then
		res_set unified '{"pids.max": "10"}'
		cfg_args true
		ct_run
		assert_fails "unified on a host without cgroup2"
		assert_clear_error "unified|v2|cgroup2" "unified on pure v1"
		assert_cg_gone
		return 0
	fi
	res_set unified '{"cgroup.max.descendants": "3", "cgroup.max.depth": "2"}'
	cfg_args sleep 60
	rtc create --bundle "$B" "$ID"
	[ "$RC" = 0 ] || differs_from_runc "unified on the $LAYOUT layout refused: $ERR"
	assert_eq 3 "$(cat "$V2_MNT/$ID/cgroup.max.descendants")" "cgroup.max.descendants on $V2_MNT"
	assert_eq 2 "$(cat "$V2_MNT/$ID/cgroup.max.depth")" "cgroup.max.depth on $V2_MNT"
	ct_delete
	res_bundle missing
	res_set unified '{"no.such.file": "1"}'
	cfg_args true
	ct_run
	assert_fails "unified with a file cgroup2 doesn't have"
	assert_clear_error "no.such.file" "unified with a file cgroup2 doesn't have"
	assert_nothing_left "$ID"
	assert_cg_gone
}

# Loop devices (block 7:N) open without capabilities and without a
# backing file, so only the device cgroup can refuse them.
t_devices() {
	need_ctrl devices
	[ -b /dev/loop0 ] || skip "no loop devices on this host"
	res_bundle
	cfg_set .linux.devices '[{"path": "/dev/denied", "type": "b", "major": 7, "minor": 0, "fileMode": 438},
		{"path": "/dev/ro", "type": "b", "major": 7, "minor": 1, "fileMode": 438},
		{"path": "/dev/rw", "type": "b", "major": 7, "minor": 2, "fileMode": 438},
		{"path": "/dev/mine", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 7, "gid": 8}]'
	cfg_append .linux.resources.devices '{"allow": true, "type": "b", "major": 7, "minor": 1, "access": "r"}'
	cfg_append .linux.resources.devices '{"allow": true, "type": "b", "major": 7, "minor": 2, "access": "rw"}'
	cfg_sh 'for d in denied ro rw mine; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done
		for d in denied ro rw; do
			head -c 1 /dev/$d >/dev/null 2>/tmp/e && echo $d-read-ok || echo "$d-read-refused: $(cat /tmp/e)"
			true 2>/tmp/e 1<>/dev/$d && echo $d-write-ok || echo "$d-write-refused: $(cat /tmp/e)"
		done'
	cfg_set .root.readonly false
	ct_run
	assert_rc 0 run
	assert_contains "/dev/denied block special file 7:0 666 0:0" "$OUT" "/dev/denied node"
	assert_contains "/dev/ro block special file 7:1 666 0:0" "$OUT" "/dev/ro node"
	assert_contains "/dev/mine character special file 1:3 640 7:8" "$OUT" "/dev/mine node (mode 0640, uid 7, gid 8)"
	assert_match "denied-read-refused: .*Operation not permitted" "$OUT" "read of a device no rule allows"
	assert_match "denied-write-refused: .*Operation not permitted" "$OUT" "write of a device no rule allows"
	assert_contains "ro-read-ok" "$OUT" "read of an r-allowed device"
	assert_match "ro-write-refused: .*Operation not permitted" "$OUT" "write of an r-allowed device"
	assert_contains "rw-read-ok" "$OUT" "read of an rw-allowed device"
	assert_contains "rw-write-ok" "$OUT" "write of an rw-allowed device"
	assert_cg_gone
}

t_devices_default_deny() {
	need_ctrl devices
	[ -b /dev/loop3 ] || skip "no loop devices on this host"
	res_bundle
	# A host device bound in: the default deny-all rule covers it ...
	cfg_append .mounts '{"destination": "/dev/hostloop", "type": "bind", "source": "/dev/loop3", "options": ["bind"]}'
	cfg_sh 'head -c 1 /dev/hostloop >/dev/null 2>/tmp/e; echo "rc=$?"; cat /tmp/e; echo x >/dev/null && echo null-ok'
	cfg_set .root.readonly false
	ct_run
	assert_rc 0 run
	assert_contains "Operation not permitted" "$OUT" "reading a bound-in denied device"
	assert_contains null-ok "$OUT" "the default allow list keeps /dev/null"
	assert_cg_gone
	# ... and an allow rule lets it through (so the refusal was the rule's).
	res_bundle allowed
	cfg_append .mounts '{"destination": "/dev/hostloop", "type": "bind", "source": "/dev/loop3", "options": ["bind"]}'
	cfg_append .linux.resources.devices '{"allow": true, "type": "b", "major": 7, "minor": 3, "access": "r"}'
	cfg_sh 'head -c 1 /dev/hostloop >/dev/null && echo read-ok'
	ct_run
	assert_rc 0 run
	assert_contains read-ok "$OUT" "reading an allowed bound-in device"
	assert_cg_gone
}

t_rlimits() {
	res_bundle
	cfg_set .process.rlimits '[{"type": "RLIMIT_NOFILE", "soft": 64, "hard": 128}, {"type": "RLIMIT_FSIZE", "soft": 1048576, "hard": 1048576}, {"type": "RLIMIT_NPROC", "soft": 4096, "hard": 4096}]'
	cfg_set .root.readonly false
	cfg_sh 'grep -E "^Max (open files|file size|processes)" /proc/self/limits
		(exec 100>/dev/null) 2>/dev/null && echo fd100-ok || echo fd100-refused
		(exec 60>/dev/null) && echo fd60-ok
		dd if=/dev/zero of=/tmp/big bs=1k count=2048 2>/dev/null; echo "dd=$?"; stat -c %s /tmp/big'
	ct_run
	assert_rc 0 run
	assert_match "Max open files +64 +128 " "$OUT" RLIMIT_NOFILE
	assert_match "Max file size +1048576 +1048576 " "$OUT" RLIMIT_FSIZE
	assert_match "Max processes +4096 +4096 " "$OUT" RLIMIT_NPROC
	assert_contains fd100-refused "$OUT" "fd 100 above RLIMIT_NOFILE 64"
	assert_contains fd60-ok "$OUT" "fd 60 below RLIMIT_NOFILE 64"
	assert_contains "dd=153" "$OUT" "dd past RLIMIT_FSIZE is killed by SIGXFSZ (128+25)"
	assert_eq 1048576 "$(echo "$OUT" | tail -1)" "file size capped at RLIMIT_FSIZE"
	assert_cg_gone
}

# A limit the kernel refuses fails create with a clear error naming it,
# and the cgroups made so far are removed on every hierarchy.
t_refused_limit() {
	need_ctrl cpuset
	res_bundle
	res_set cpu '{"cpus": "60-63"}'
	cfg_args true
	rtc create --bundle "$B" "$ID"
	assert_fails "create with cpuset.cpus 60-63 on a $(nproc --all)-CPU host"
	assert_clear_error "cpus|cpuset" "cpuset.cpus the kernel refuses"
	assert_nothing_left "$ID"
	assert_cg_gone
	res_bundle exe
	cfg_args /no/such/program
	rtc run --bundle "$B" "$ID"
	assert_fails "run of a missing program"
	assert_nothing_left "$ID"
	assert_cg_gone
}

trap 'restore_hp; _finish' EXIT
rtcase "memory: 64M under a 16M limit is OOM-killed (137)" t_memory_oom
rtcase "memory: limit and reservation in the cgroup files" t_memory_values
rtcase "memory: swap and swappiness in the cgroup files" t_memory_swap
rtcase "blockIO: throttles in the cgroup files, weight applied or a clear error" t_blkio
rtcase "pids: limit stops forks" t_pids
rtcase "cpu: shares/quota/period in the files, quota throttles" t_cpu_quota_shares
rtcase "cpuset: cpus/mems in the files and the affinity" t_cpuset
rtcase "cpu/cpuset/memory/pids limits visible inside the container" t_inside_view
rtcase "hugepageLimits: applied where hugetlb is (or a clear error)" t_hugetlb
rtcase "unified: keys written on cgroup2 (or a clear error)" t_unified
rtcase "devices: rules and linux.devices nodes" t_devices
rtcase "devices: default deny-all covers a bound-in device" t_devices_default_deny
rtcase "rlimits: NOFILE, FSIZE, NPROC bite" t_rlimits
rtcase "a refused limit or a failed start leaves no cgroup" t_refused_limit
