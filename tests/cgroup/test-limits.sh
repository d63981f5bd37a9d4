#!/bin/bash
# Limits biting on the real host: memory (OOM kill, exit 137, OOM event),
# pids (forks stop), update of live limits, cpu quota throttling, device
# rules, block I/O throttle and hugetlb files, and clear errors for what
# this host lacks.
# timeout: 180
. "$(dirname "$0")/lib.sh"

json() { echo "$2" >"$TMP/$1.json"; echo "$TMP/$1.json"; }

# memory: 256M under a 64M limit is OOM-killed; 4M fits (with room for an
# ASan-built helper, whose own footprint is about 20M).
if "$TOOL" dir / memory >/dev/null; then
	P=$(cg mem)
	mem='"limit": 67108864'
	# Without swap accounting the limit alone bites (no swap here).
	[ -e "$(file_of / memory memory.memsw.limit_in_bytes)" ] && mem="$mem, \"swap\": 67108864"
	J=$(json mem "{\"memory\": {$mem}}")
	check "create with a 64M memory limit" "$TOOL" create "$P" 0 "$J"
	f=$(file_of "$P" memory memory.limit_in_bytes)
	[ -e "$f" ] || f=$(file_of "$P" memory memory.max)
	check "the limit is in $(basename "$f")" [ "$(cat "$f")" = 67108864 ]
	"$TOOL" oom-wait "$P" 30 >"$TMP/oom" &
	OW=$!
	for _ in $(seq 50); do grep -q ready "$TMP/oom" && break; sleep 0.1; done
	out=$("$TOOL" run "$P" "$J" -- "$TOOL" alloc 4)
	check "a 4M allocation fits" [ "$out" = allocated ]
	"$TOOL" run "$P" "$J" -- "$TOOL" alloc 256 >/dev/null
	check "a 256M allocation is OOM-killed (exit 137)" [ $? = 137 ]
	wait "$OW"
	check "the OOM notification fires" grep -q '^oom [1-9]' "$TMP/oom"
	"$TOOL" stats "$P" >"$TMP/stats"
	check "stats report the memory limit" grep -q '"limit":67108864' "$TMP/stats"
	J2=$(json mem2 '{"memory": {"limit": 268435456, "swap": 268435456}}')
	[ -e "$(file_of / memory memory.memsw.limit_in_bytes)" ] ||
		J2=$(json mem2 '{"memory": {"limit": 268435456}}')
	check "update raises the live memory limit" "$TOOL" update "$P" "$J2"
	check "the new limit is in place" [ "$(cat "$f")" = 268435456 ]
	out=$("$TOOL" run "$P" "$J2" -- "$TOOL" alloc 128)
	check "128M now fits" [ "$out" = allocated ]
	"$TOOL" destroy "$P"
	check "memory cgroup gone" gone "$P"
else
	skip "memory: no memory controller on this host"
fi

# pids: forks stop at the limit; update lifts it.
if "$TOOL" dir / pids >/dev/null; then
	P=$(cg pids)
	J=$(json pids '{"pids": {"limit": 5}}')
	"$TOOL" create "$P" 0 "$J"
	check "pids.max is 5" [ "$(cat "$(file_of "$P" pids pids.max)")" = 5 ]
	out=$("$TOOL" run "$P" "$J" -- "$TOOL" forks 20)
	check "forks stop at the pids limit ($out)" [ "$out" = "forked 4" ]
	J=$(json pids2 '{"pids": {"limit": 100}}')
	"$TOOL" update "$P" "$J"
	out=$("$TOOL" run "$P" "$J" -- "$TOOL" forks 20)
	check "after update all 20 forks succeed ($out)" [ "$out" = "forked 20" ]
	J=$(json pids3 '{"pids": {"limit": -1}}')
	"$TOOL" update "$P" "$J"
	check "limit -1 writes max" [ "$(cat "$(file_of "$P" pids pids.max)")" = max ]
	"$TOOL" destroy "$P"
	check "pids cgroup gone" gone "$P"
else
	skip "pids: no pids controller on this host"
fi

# cpu: a 10% quota throttles a busy loop.
if "$TOOL" dir / cpu >/dev/null; then
	P=$(cg cpu)
	J=$(json cpu '{"cpu": {"shares": 512, "quota": 10000, "period": 100000}}')
	"$TOOL" create "$P" 0 "$J"
	"$TOOL" run "$P" "$J" -- timeout 1 sh -c 'while :; do :; done'
	"$TOOL" stats "$P" >"$TMP/stats"
	check "a busy loop under a 10% quota is throttled" \
		grep -Eq '"throttledPeriods":[1-9]' "$TMP/stats"
	if [ "$("$TOOL" dir / cpu | cut -d' ' -f1)" = v1 ]; then
		check "cpu.shares is 512" [ "$(cat "$(file_of "$P" cpu cpu.shares)")" = 512 ]
		check "cpu.cfs_quota_us is 10000" \
			[ "$(cat "$(file_of "$P" cpu cpu.cfs_quota_us)")" = 10000 ]
	fi
	if [ -e "$(file_of / cpu cpu.rt_runtime_us)" ]; then
		J=$(json rt '{"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 10000}}')
		check "realtime runtime on a nested cgroup (ancestors get the budget)" \
			"$TOOL" create "$P/rt/child" 0 "$J"
		check "cpu.rt_runtime_us is 10000" \
			[ "$(cat "$(file_of "$P/rt/child" cpu cpu.rt_runtime_us)")" = 10000 ]
		"$TOOL" destroy "$P/rt"
	fi
	J=$(json cpu2 '{"cpu": {"quota": -1}}')
	check "update lifts the quota" "$TOOL" update "$P" "$J"
	"$TOOL" destroy "$P"
	check "cpu cgroup gone" gone "$P"
fi

# devices: deny-all plus runc's default list; an explicit allow opens more.
if [ -c /dev/kmsg ] && "$TOOL" dir / devices >/dev/null; then
	P=$(cg dev)
	J=$(json dev '{"devices": [{"allow": false, "access": "rwm"}]}')
	out=$("$TOOL" run "$P" "$J" -- "$TOOL" open /dev/kmsg r)
	check "deny all: /dev/kmsg can't be opened ($out)" \
		[ "$out" = "open /dev/kmsg: Operation not permitted" ]
	out=$("$TOOL" run "$P" "$J" -- "$TOOL" open /dev/null w)
	check "the default list still allows /dev/null" [ "$out" = opened ]
	"$TOOL" destroy "$P"
	J=$(json dev2 '{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]}')
	out=$("$TOOL" run "$P" "$J" -- "$TOOL" open /dev/kmsg r)
	check "an allow rule opens /dev/kmsg for reading" [ "$out" = opened ]
	out=$("$TOOL" run "$P" "$J" -- "$TOOL" open /dev/kmsg w)
	check "but not for writing" [ "$out" = "open /dev/kmsg: Operation not permitted" ]
	"$TOOL" destroy "$P"
	if [ "$("$TOOL" dir / devices | cut -d' ' -f1)" = v1 ]; then
		# update applies only the difference; the kernel's list must end up as
		# if the cgroup had been created with the new rules.
		J1=$(json dev1 '{"devices": [{"allow": false, "access": "rwm"}]}')
		"$TOOL" create "$P" 0 "$J1"
		"$TOOL" create "$P-ref" 0 "$J"
		check "update of device rules" "$TOOL" update "$P" "$J"
		check "devices.list after update equals a fresh create's" \
			diff <(sort "$(file_of "$P" devices devices.list)") \
			<(sort "$(file_of "$P-ref" devices devices.list)")
		"$TOOL" update "$P" "$J1"
		check "and back: the allow is gone" \
			bash -c "! grep -q '^c 1:11 ' '$(file_of "$P" devices devices.list)'"
		"$TOOL" destroy "$P"
		"$TOOL" destroy "$P-ref"
	fi
	check "devices cgroup gone" gone "$P"
fi

# block I/O throttle on a real device.
dev=$(cat /sys/block/vda/dev /sys/block/sda/dev /sys/block/nvme0n1/dev 2>/dev/null | head -1)
if [ -n "$dev" ] && "$TOOL" dir / blkio >/dev/null; then
	P=$(cg blkio)
	J=$(json blkio "{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 1048576}]}}")
	check "create with a read bps throttle on $dev" "$TOOL" create "$P" 0 "$J"
	if [ "$("$TOOL" dir / blkio | cut -d' ' -f1)" = v1 ]; then
		check "blkio.throttle.read_bps_device has it" \
			grep -q "^$dev 1048576\$" "$(file_of "$P" blkio blkio.throttle.read_bps_device)"
	else
		check "io.max has it" grep -q "^$dev rbps=1048576 " "$(file_of "$P" io io.max)"
	fi
	"$TOOL" destroy "$P"
else
	skip "blkio: no block device or no blkio controller"
fi

# hugetlb, wherever this host has it (v2 side on a fresh hybrid machine).
if "$TOOL" dir / hugetlb >/dev/null && [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ]; then
	P=$(cg huge)
	J=$(json huge '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}')
	check "create with a 2MB hugepage limit" "$TOOL" create "$P" 0 "$J"
	read -r kind d < <("$TOOL" dir "$P" hugetlb)
	if [ "$kind" = v2 ]; then
		check "hugetlb.2MB.max (v2 side) is 4194304" [ "$(cat "$d/hugetlb.2MB.max")" = 4194304 ]
	else
		check "hugetlb.2MB.limit_in_bytes is 4194304" \
			[ "$(cat "$d/hugetlb.2MB.limit_in_bytes")" = 4194304 ]
	fi
	"$TOOL" destroy "$P"
else
	skip "hugetlb: not available here"
fi

# What this host lacks is a clear error, and nothing is left behind.
if ! "$TOOL" dir / net_cls >/dev/null; then
	P=$(cg netcls)
	J=$(json net '{"network": {"classID": 1048577}}')
	"$TOOL" create "$P" 0 "$J" 2>"$TMP/err"
	check "network.classID without net_cls: a clear error" \
		grep -q 'network.classID: the net_cls controller is not available' "$TMP/err"
	check "and nothing left behind" gone "$P"
fi
if [ "$("$TOOL" dir / cpu | cut -d' ' -f1)" = v1 ] && [ ! -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ]; then
	skip "cpu realtime: no RT group scheduling"
fi
