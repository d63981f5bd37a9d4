# shellcheck shell=dash
# The pure cgroup v2 checks, run by the VM's /init (tests/v2vm/init.sh):
# rune containers from /bundles (made on the host by build.sh, each with
# cgroupsPath /v2-NAME), cgroup2 alone at /sys/fs/cgroup with every
# controller.  One "ok - v2vm: ..." / "not ok - v2vm: ..." line per check,
# "# ..." diagnostics; the host's test-v2vm.sh parses them.
C=/sys/fs/cgroup
RT() { timeout 60 rune --root /run/rune "$@"; }
ok() { echo "ok - v2vm: $*"; }
not_ok() { echo "not ok - v2vm: $*"; }
check() {
	n=$1
	shift
	if "$@"; then ok "$n"; else not_ok "$n"; fi
}
eq() { # EXPECTED GOT
	[ "$1" = "$2" ] && return 0
	echo "# expected '$1', got '$2'"
	return 1
}
has() { # SUBSTRING STRING
	case $2 in *"$1"*) return 0 ;; esac
	echo "# '$1' not in: $(echo "$2" | head -5 | tr '\n' '|')"
	return 1
}
gone() { [ ! -e "$C/v2-$1" ] || { echo "# left: $C/v2-$1"; return 1; }; }
status() { RT state "v2-$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
wait_status() { # NAME STATUS
	i=0
	while [ $i -lt 100 ]; do
		[ "$(status "$1")" = "$2" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# v2-$1 is '$(status "$1")', not '$2'"
	return 1
}
wait_file() {
	i=0
	while [ $i -lt 150 ]; do
		[ -s "$1" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# up NAME: create + start bundle NAME (its output to /tmp/NAME.out)
up() {
	RT create --bundle "/bundles/$1" "v2-$1" >"/tmp/$1.out" 2>&1 </dev/null || {
		echo "# create v2-$1 failed: $(cat "/tmp/$1.out")"
		return 1
	}
	RT start "v2-$1" 2>>"/tmp/$1.out" || { echo "# start v2-$1 failed: $(tail -3 "/tmp/$1.out")"; return 1; }
}
# down NAME: delete --force, then the cgroup must be gone
down() {
	RT delete --force "v2-$1" || echo "# delete --force v2-$1 failed"
	check "$1: delete leaves no cgroup" gone "$1"
}
run_b() { # NAME: run in the foreground; output in $OUT, status in $RC
	OUT=$(RT run --bundle "/bundles/$1" "v2-$1" 2>&1 </dev/null)
	RC=$?
}
pid_of() { RT state "v2-$1" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }

# ---------------------------------------------------------------- layout
check "layout: cgroup2 alone at /sys/fs/cgroup" \
	eq "cgroup2" "$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)"
check "layout: no cgroup v1 mount" eq 0 "$(awk '$3 == "cgroup"' /proc/mounts | wc -l)"
echo "# controllers: $(cat $C/cgroup.controllers)"
for c in cpu cpuset memory pids io hugetlb; do
	check "layout: $c controller available" has " $c " " $(cat $C/cgroup.controllers) "
done

# ---------------------------------------------------------------- run
run_b hello
check "run: exit 0" eq 0 "$RC"
check "run: output" has hello "$OUT"
check "run: in cgroup /v2-hello (0::/v2-hello)" has "0::/v2-hello" "$OUT"
check "run: cgroup gone after run" gone hello

run_b inside
check "run: limits visible in the container's /sys/fs/cgroup" eq "20 20000 100000 0 16777216 9" "$(echo $OUT)"
check "run: cgroup gone (inside)" gone inside

# ---------------------------------------------------------------- memory
run_b oom
check "memory: 64M under a 16M limit is OOM-killed (137)" eq 137 "$RC"
check "memory: cgroup gone after the OOM kill" gone oom
run_b nolimit
check "memory: 64M without a limit succeeds" eq 0 "$RC"
if RT create --bundle /bundles/oom v2-oom >/tmp/oom.out 2>&1 </dev/null; then
	check "memory: memory.max 16777216" eq 16777216 "$(cat $C/v2-oom/memory.max)"
	RT events v2-oom >/tmp/oom.events 2>&1 &
	EP=$!
	sleep 1
	RT start v2-oom
	wait_status oom stopped
	check "memory: memory.events counts the OOM kill" has "oom_kill 1" "$(cat $C/v2-oom/memory.events)"
	i=0
	while [ $i -lt 30 ] && ! grep -q '"type":"oom"' /tmp/oom.events; do sleep 0.1; i=$((i + 1)); done
	kill $EP 2>/dev/null
	check "events: an OOM is reported" has '"type":"oom"' "$(cat /tmp/oom.events)"
	RT delete v2-oom
	check "memory: delete after an OOM kill leaves no cgroup" gone oom
else
	not_ok "memory: create: $(cat /tmp/oom.out)"
fi

# ---------------------------------------------------------------- pids
if up pids; then
	wait_file /share/pids.done
	sleep 0.2
	check "pids: pids.max 8" eq 8 "$(cat $C/v2-pids/pids.max)"
	check "pids: pids.current <= 8" [ "$(cat $C/v2-pids/pids.current)" -le 8 ]
	check "pids: forks refused" grep -qE "fork|Resource temporarily unavailable" /share/pids.err
	check "pids: pids.events counts them" grep -qE "^max [1-9]" $C/v2-pids/pids.events
	down pids
else
	not_ok "pids: create/start"
fi

# ---------------------------------------------------------------- pause
if up pause; then
	wait_file /share/counter
	RT pause v2-pause
	check "pause: status paused" eq paused "$(status pause)"
	check "pause: cgroup.freeze 1" eq 1 "$(cat $C/v2-pause/cgroup.freeze)"
	check "pause: cgroup.events frozen 1" grep -qx "frozen 1" $C/v2-pause/cgroup.events
	a=$(wc -c </share/counter)
	sleep 1
	b=$(wc -c </share/counter)
	check "pause: the counter stops" eq "$a" "$b"
	RT resume v2-pause
	check "resume: status running" eq running "$(status pause)"
	check "resume: cgroup.freeze 0" eq 0 "$(cat $C/v2-pause/cgroup.freeze)"
	sleep 1
	check "resume: the counter advances" [ "$(wc -c </share/counter)" -gt "$b" ]
	RT pause v2-pause
	RT kill v2-pause KILL
	check "kill KILL reaches a paused container" wait_status pause stopped
	RT delete v2-pause
	check "pause: delete leaves no cgroup" gone pause
else
	not_ok "pause: create/start"
fi

# ---------------------------------------------------------------- update
HOG32='echo 1000 >/proc/self/oom_score_adj; dd if=/dev/zero bs=1M count=32 2>/dev/null | tail >/dev/null'
if up update; then
	RT exec v2-update sh -c "$HOG32"
	check "update: 32M under 16M is OOM-killed (exec 137)" eq 137 "$?"
	RT update --memory 67108864 v2-update
	check "update --memory: memory.max" eq 67108864 "$(cat $C/v2-update/memory.max)"
	RT exec v2-update sh -c "$HOG32"
	check "update --memory: 32M now fits (exec 0)" eq 0 "$?"
	# 12: room for runc's exec (Go threads count as pids)
	RT update --pids-limit 12 v2-update
	check "update --pids-limit: pids.max" eq 12 "$(cat $C/v2-update/pids.max)"
	out=$(RT exec v2-update sh -c '(for i in $(seq 20); do sleep 30 >/dev/null 2>&1 & done) 2>&1 | head -1')
	check "update --pids-limit: forks refused" has "fork" "$out"
	echo '{"memory": {"limit": 16777216}, "pids": {"limit": 50}, "cpu": {"shares": 1024, "quota": 50000, "period": 100000}}' |
		RT update --resources - v2-update
	check "update --resources -: memory.max" eq 16777216 "$(cat $C/v2-update/memory.max)"
	check "update --resources -: pids.max" eq 50 "$(cat $C/v2-update/pids.max)"
	check "update --resources -: cpu.max" eq "50000 100000" "$(cat $C/v2-update/cpu.max)"
	check "update --resources -: cpu.weight from shares 1024 (39)" eq 39 "$(cat $C/v2-update/cpu.weight)"
	RT exec v2-update sh -c "$HOG32"
	check "update --resources -: 32M under 16M again (exec 137)" eq 137 "$?"
	RT update --cpu-quota 20000 --cpu-period 50000 --cpuset-cpus 1 v2-update
	check "update cpu flags: cpu.max" eq "20000 50000" "$(cat $C/v2-update/cpu.max)"
	check "update --cpuset-cpus: cpuset.cpus" eq 1 "$(cat $C/v2-update/cpuset.cpus)"
	down update
else
	not_ok "update: create/start"
fi

# ---------------------------------------------------------------- cpu
if up cpu; then
	sleep 2
	check "cpu: cpu.weight from shares 512 (20)" eq 20 "$(cat $C/v2-cpu/cpu.weight)"
	check "cpu: cpu.max" eq "2000 100000" "$(cat $C/v2-cpu/cpu.max)"
	check "cpu: cpuset.cpus" eq 0 "$(cat $C/v2-cpu/cpuset.cpus)"
	check "cpu: init's affinity (Cpus_allowed_list 0)" eq 0 "$(awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$(pid_of cpu)/status")"
	thr=$(awk '$1 == "nr_throttled" { print $2 }' $C/v2-cpu/cpu.stat)
	check "cpu: a busy loop under 2% is throttled ($thr times)" [ "${thr:-0}" -ge 1 ]
	RT kill --all v2-cpu KILL
	check "kill --all stops it" wait_status cpu stopped
	RT delete v2-cpu
	check "cpu: delete leaves no cgroup" gone cpu
else
	not_ok "cpu: create/start"
fi

# ---------------------------------------------------------------- devices
run_b devices
check "devices: run" eq 0 "$RC"
check "devices: linux.devices node 1:b mode 600" has "1:b 600" "$OUT"
check "devices: an allowed (w) device can be written" has wrote "$OUT"
check "devices: the default list allows /dev/null" has null-ok "$OUT"
check "devices: cgroup gone" gone devices
run_b devdeny
check "devices: a denied device can't be opened (eBPF)" has "Operation not permitted" "$OUT"
check "devices: ... and was not written" eq "" "$(echo "$OUT" | grep -x wrote)"
check "devices: the default list still allows /dev/null" has null-ok "$OUT"
check "devices: cgroup gone (deny)" gone devdeny

# ---------------------------------------------------------------- hugetlb
if [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ]; then
	echo "# free 2M huge pages: $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)"
	if RT create --bundle /bundles/hugetlb v2-hugetlb >/tmp/hugetlb.out 2>&1 </dev/null; then
		check "hugetlb: hugetlb.2MB.max" eq 4194304 "$(cat $C/v2-hugetlb/hugetlb.2MB.max)"
		RT start v2-hugetlb
		wait_status hugetlb stopped
		check "hugetlb: 4M of huge pages fit" has a-ok "$(cat /tmp/hugetlb.out)"
		check "hugetlb: 4M more are refused" has b-failed "$(cat /tmp/hugetlb.out)"
		RT delete v2-hugetlb
		check "hugetlb: cgroup gone" gone hugetlb
	else
		not_ok "hugetlb: create: $(cat /tmp/hugetlb.out)"
	fi
fi

# ---------------------------------------------------------------- events
if up events; then
	sleep 0.5
	j=$(RT events --stats v2-events)
	echo "# stats: $j"
	check "events --stats: type stats" has '"type":"stats"' "$j"
	check "events --stats: memory limit" has '"limit":33554432' "$j"
	check "events --stats: pids" has '"pids":{"current":' "$j"
	check "events --stats: pids limit" has '"limit":20' "$j"
	check "events --stats: cpu usage" has '"cpu":{"usage":{"total":' "$j"
	# keys runc 1.1.5 prints on pure v2 (zero values, no omitempty in its types)
	miss=""
	for k in cpu_exclusive mem_hardwall mem_exclusive memory_migrate memory_spread_page \
		memory_spread_slab memory_pressure sched_load_balance sched_relax_domain_level; do
		case $j in *"\"$k\":"*) ;; *) miss="$miss cpuset.$k" ;; esac
	done
	case $j in *'"kernel":{"limit":'*) ;; *) miss="$miss memory.kernel" ;; esac
	case $j in *'"kernelTCP":{"limit":'*) ;; *) miss="$miss memory.kernelTCP" ;; esac
	check "events --stats: every key runc prints on v2" eq "" "$miss"
	down events
else
	not_ok "events: create/start"
fi

# ---------------------------------------------------------------- userns
if up userns; then
	sleep 0.5
	p=$(pid_of userns)
	check "userns: root inside" eq 0 "$(head -1 /tmp/userns.out)"
	check "userns: init is uid 100000 outside" eq 100000 "$(stat -c %u /proc/$p)"
	check "userns: in its cgroup" eq "0::/v2-userns" "$(cat /proc/$p/cgroup)"
	down userns
else
	not_ok "userns: create/start"
fi

# ---------------------------------------------------------------- unified
if up unified; then
	check "unified: memory.high" eq 20971520 "$(cat $C/v2-unified/memory.high)"
	check "unified: pids.max" eq 7 "$(cat $C/v2-unified/pids.max)"
	down unified
else
	not_ok "unified: create/start"
fi

# ---------------------------------------------------------------- failures
out=$(RT create --bundle /bundles/badcpus v2-badcpus 2>&1 </dev/null)
rc=$?
check "a refused limit (cpuset.cpus 6-7 on 2 CPUs) fails create" [ $rc -ne 0 ]
echo "# create said: $out"
check "a refused limit leaves no cgroup" gone badcpus
check "... and no container" eq "" "$(RT list -q | grep badcpus)"

# ---------------------------------------------------------------- the end
check "no container left (rune list)" eq "" "$(RT list -q)"
check "no cgroup left under /sys/fs/cgroup" eq "" "$(ls -d $C/v2-* 2>/dev/null)"
