#!/bin/bash
# timeout: 180
# `events`: --stats prints one object in runc's JSON shape (keys as runc
# 1.1 prints them, values from the container's cgroup), --interval streams
# them, and an OOM kill inside the container is reported as {"type":"oom"}.
. "$(dirname "$0")/lib.sh"

# The structure (not memory.raw's kernel-dependent keys) runc 1.1.5 prints
# for `events --stats` on a v1/hybrid host with memory, pids, cpu, cpuset.
RUNC_V1_KEYS='.data .data.blkio .data.cpu .data.cpu.throttling .data.cpu.usage
.data.cpu.usage.kernel .data.cpu.usage.percpu .data.cpu.usage.percpu_kernel
.data.cpu.usage.percpu_user .data.cpu.usage.total .data.cpu.usage.user
.data.cpuset .data.cpuset.cpu_exclusive .data.cpuset.cpus
.data.cpuset.mem_exclusive .data.cpuset.mem_hardwall .data.cpuset.memory_migrate
.data.cpuset.memory_pressure .data.cpuset.memory_spread_page
.data.cpuset.memory_spread_slab .data.cpuset.mems .data.cpuset.sched_load_balance
.data.cpuset.sched_relax_domain_level .data.hugetlb .data.intel_rdt .data.memory
.data.memory.kernel .data.memory.kernel.failcnt .data.memory.kernel.limit
.data.memory.kernel.max .data.memory.kernel.usage .data.memory.kernelTCP
.data.memory.kernelTCP.failcnt .data.memory.kernelTCP.limit .data.memory.raw
.data.memory.swap .data.memory.swap.failcnt .data.memory.swap.limit
.data.memory.swap.max .data.memory.swap.usage .data.memory.usage
.data.memory.usage.failcnt .data.memory.usage.limit .data.memory.usage.max
.data.memory.usage.usage .data.network_interfaces .data.pids .data.pids.current
.data.pids.limit .id .type'

# keys_of < JSON: every key path outside memory.raw, sorted
keys_of() {
	"$PY" -c '
import json, sys
def walk(o, p):
    if isinstance(o, dict):
        for k, v in o.items():
            print(p + "." + k)
            if p + "." + k != ".data.memory.raw":
                walk(v, p + "." + k)
walk(json.load(sys.stdin), "")' | sort
}

t_stats_shape() {
	need_ctrl memory
	need_ctrl pids
	res_bundle
	res_set memory '{"limit": 33554432}'
	res_set pids '{"limit": 50}'
	# hold ~4M of anonymous memory (a shell variable) and a few processes
	ct_start_bg 'x=$(dd if=/dev/zero bs=1M count=4 2>/dev/null | tr "\0" a); sleep 100 & sleep 100 & while :; do sleep 1; done'
	sleep 1
	rtc events --stats "$ID"
	assert_rc 0 "events --stats"
	[ "$(printf '%s\n' "$OUT" | grep -c .)" = 1 ] || fail "events --stats printed $(printf '%s\n' "$OUT" | grep -c .) lines, expected one JSON object"
	local j=$OUT missing
	assert_eq stats "$(echo "$j" | jget .type)" type
	assert_eq "$ID" "$(echo "$j" | jget .id)" id
	if [ "$LAYOUT" != v2 ]; then
		missing=$(comm -23 <(echo $RUNC_V1_KEYS | tr ' ' '\n' | sort) <(echo "$j" | keys_of) | tr '\n' ' ')
		[ -z "$missing" ] || fail "keys runc prints that are missing: $missing"
	fi
	assert_eq 33554432 "$(echo "$j" | jget .data.memory.usage.limit)" "memory.usage.limit"
	local usage cur total
	usage=$(echo "$j" | jget .data.memory.usage.usage)
	[ "$usage" -gt 0 ] || fail "memory.usage.usage is $usage"
	assert_eq 50 "$(echo "$j" | jget .data.pids.limit)" pids.limit
	cur=$(echo "$j" | jget .data.pids.current)
	[ "$cur" -ge 3 ] && [ "$cur" -le 6 ] || fail "pids.current $cur, expected 3-5 (sh, 2 sleeps, a sleep 1)"
	total=$(echo "$j" | jget .data.cpu.usage.total)
	[ "$total" -gt 0 ] || fail "cpu.usage.total is $total"
	assert_eq "$(nproc --all)" "$(echo "$j" | jq_py 'len(d["data"]["cpu"]["usage"]["percpu"])')" "percpu entries"
	echo "$j" | jq_py 'd["data"]["memory"]["raw"]' | grep -Eq '"(cache|anon|file)"' || fail "memory.raw lacks memory.stat keys"
	ct_delete
}

t_stats_interval() {
	res_bundle
	ct_start_bg 'sleep 100'
	timeout 3.5 "$RUNTIME" --root "$ROOT" events --interval 1s "$ID" >"$T/ev" 2>"$T/everr" || true
	local n
	n=$(grep -c '"type":"stats"' "$T/ev" || true)
	if [ "$n" = 0 ] && [ "$IS_RUNC" = 1 ] && ! has_ctrl memory; then
		skip "runc differs: events needs the memory controller's memory.events: $(head -c 200 "$T/everr")"
	fi
	[ "$n" -ge 3 ] && [ "$n" -le 5 ] || fail "events --interval 1s printed $n stats objects in 3.5s: $(head -c 300 "$T/ev") $(cat "$T/everr")"
	grep -v '"type":"stats"' "$T/ev" | grep . && fail "non-stats lines from --interval"
	ct_delete
}

# --interval takes Go durations as runc does ("1m30s", "10us", ".5s");
# zero, negative and malformed values are refused.
t_interval_values() {
	res_bundle
	ct_start_bg 'sleep 100'
	local v
	for v in 1h 1m30s 1.5s 300ms 10us .5s; do
		rtc events --stats --interval "$v" "$ID"
		assert_rc 0 "events --interval $v"
	done
	for v in 0s -1s 5x 1e3s 0x10s 1h2 . ""; do
		rtc events --stats --interval "$v" "$ID"
		assert_fails "events --interval '$v'"
	done
	ct_delete
}

t_events_stopped() {
	res_bundle
	cfg_args true
	ct_create
	rtc start "$ID"
	wait_stopped
	rtc events --stats "$ID"
	assert_fails "events --stats of a stopped container"
	rtc delete "$ID"
	assert_cg_gone
}

t_events_oom() {
	need_ctrl memory
	res_bundle
	res_set memory '{"limit": 16777216}'
	ct_start_bg 'sleep 100'
	timeout 20 "$RUNTIME" --root "$ROOT" events --interval 60s "$ID" >"$T/ev" 2>"$T/everr" &
	local evp=$!
	sleep 1
	rtc exec "$ID" sh -c 'echo 1000 >/proc/self/oom_score_adj; dd if=/dev/zero bs=1M count=64 2>/dev/null | tail >/dev/null'
	assert_rc 137 "exec of a 64M allocation under 16M"
	local i
	for ((i = 0; i < 50; i++)); do grep -q '"type":"oom"' "$T/ev" && break; sleep 0.1; done
	kill "$evp" 2>/dev/null || true
	wait "$evp" 2>/dev/null || true
	grep -q '"type":"oom"' "$T/ev" || fail "no oom event: $(head -c 300 "$T/ev") $(cat "$T/everr")"
	local line
	line=$(grep -m1 '"type":"oom"' "$T/ev")
	assert_eq "$ID" "$(echo "$line" | jget .id)" "the oom event's id"
	if cg_on_v2 memory; then
		assert_match "oom_kill [1-9]" "$(cg_read memory memory.events)" memory.events
	else
		assert_match "oom_kill [1-9]" "$(cg_read memory memory.oom_control)" memory.oom_control
	fi
	rtc events --stats "$ID"
	[ "$(echo "$OUT" | jget .data.memory.usage.failcnt)" -gt 0 ] || fail "memory.usage.failcnt 0 after an OOM"
	ct_delete
}

rtcase "events --stats: runc's JSON shape and the cgroup's values" t_stats_shape
rtcase "events --interval 1s streams stats" t_stats_interval
rtcase "events --interval takes Go durations" t_interval_values
rtcase "events --stats of a stopped container fails" t_events_stopped
rtcase "events reports an OOM kill" t_events_oom
