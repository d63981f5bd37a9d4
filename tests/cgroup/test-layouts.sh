#!/bin/bash
# The module on the other layouts, built from this hybrid host in private
# mount namespaces: pure v1 (cgroup2 unmounted) and pure v2 (cgroup2 alone
# at /sys/fs/cgroup; every controller but hugetlb is bound to v1 here, so
# this exercises cgroup.freeze, the eBPF device program, hugetlb.*.max and
# clear errors for the missing controllers).
# timeout: 180
. "$(dirname "$0")/lib.sh"

if [ "$("$TOOL" detect | head -1)" != "layout hybrid" ] || ! command -v unshare >/dev/null; then
	skip "layouts: needs a hybrid host and unshare"
	exit 0
fi
export TOOL CG_PREFIX TMP

# Shared by both inner scripts.
cat >"$TMP/inner-lib.sh" <<'LIB'
set -uo pipefail
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
json() { echo "$2" >"$TMP/$1.json"; echo "$TMP/$1.json"; }
gone() { local m; for m in $("$TOOL" detect | awk 'NR > 1 { print $2 }'); do [ -e "$m$1" ] && return 1; done; return 0; }
LIB

cat >"$TMP/v1.sh" <<'V1'
. "$TMP/inner-lib.sh"
umount /sys/fs/cgroup/unified || { not_ok "v1: umount cgroup2"; exit 1; }
check "v1: detected as v1" [ "$("$TOOL" detect | head -1)" = "layout v1" ]
P=$CG_PREFIX/v1
sleep 300 &
S=$!
check "v1: create with a pid" "$TOOL" create "$P" "$S"
check "v1: in every v1 hierarchy" bash -c "grep -v '^0::' /proc/$S/cgroup | grep -vq ':$P\$' && exit 1 || exit 0"
J=$(json v1mem '{"memory": {"limit": 16777216}}')
"$TOOL" run "$P" "$J" -- "$TOOL" alloc 64 >/dev/null
check "v1: 64M under 16M is OOM-killed (137)" [ $? = 137 ]
J=$(json v1huge '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}')
"$TOOL" update "$P" "$J" 2>"$TMP/err"
check "v1: hugetlb (on cgroup2 here, unmounted) is a clear error" \
	grep -q 'hugepageLimits: the hugetlb controller is not available on this host (v1 layout)' "$TMP/err"
J=$(json v1uni '{"unified": {"memory.high": "1"}}')
"$TOOL" update "$P" "$J" 2>"$TMP/err"
check "v1: unified is refused" grep -q 'unified: cannot use unified on cgroup v1 (cgroup v2 is not mounted' "$TMP/err"
check "v1: destroy --kill" "$TOOL" destroy "$P" --kill
wait "$S" 2>/dev/null
check "v1: gone" gone "$P"
V1

cat >"$TMP/v2.sh" <<'V2'
. "$TMP/inner-lib.sh"
for m in $(awk '$9 ~ /^cgroup/ { print $5 }' /proc/self/mountinfo); do umount "$m"; done
umount /sys/fs/cgroup 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup || { not_ok "v2: mount cgroup2"; exit 1; }
check "v2: detected as v2" [ "$("$TOOL" detect | head -1)" = "layout v2" ]
P=$CG_PREFIX/v2
: >"$TMP/ticks"
bash -c "while :; do echo x >>$TMP/ticks; sleep 0.02; done" &
W=$!
trap 'kill -9 $W 2>/dev/null' EXIT
check "v2: create with a pid" "$TOOL" create "$P" "$W"
check "v2: the pid is in cgroup.procs" grep -qx "$W" "/sys/fs/cgroup$P/cgroup.procs"
check "v2: freeze (cgroup.freeze)" "$TOOL" freeze "$P"
check "v2: cgroup.events says frozen" grep -qx 'frozen 1' "/sys/fs/cgroup$P/cgroup.events"
check "v2: state frozen" [ "$("$TOOL" state "$P")" = frozen ]
a=$(stat -c %s "$TMP/ticks"); sleep 0.5; b=$(stat -c %s "$TMP/ticks")
check "v2: no progress while frozen" [ "$a" = "$b" ]
check "v2: thaw" "$TOOL" thaw "$P"
sleep 0.5
check "v2: progress after thaw" [ "$(stat -c %s "$TMP/ticks")" -gt "$b" ]
"$TOOL" stats "$P" >"$TMP/stats"
check "v2: stats from cpu.stat" grep -q '"cpu":{"throttling":{},"usage":{"kernel":' "$TMP/stats"
J=$(json v2mem '{"memory": {"limit": 16777216}}')
"$TOOL" update "$P" "$J" 2>"$TMP/err"
check "v2: memory without the controller is a clear error" \
	grep -q 'memory: the memory controller is not available on this host (v2 layout)' "$TMP/err"
J=$(json v2rt '{"cpu": {"realtimeRuntime": 1000}}')
"$TOOL" update "$P" "$J" 2>"$TMP/err"
check "v2: cpu limits without the controller are a clear error" \
	grep -q 'cpu: the cpu controller is not available' "$TMP/err"
J=$(json v2huge '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}')
if [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ]; then
	check "v2: hugetlb limit" "$TOOL" update "$P" "$J"
	check "v2: hugetlb.2MB.max" [ "$(cat "/sys/fs/cgroup$P/hugetlb.2MB.max")" = 4194304 ]
fi
check "v2: kill 9" "$TOOL" kill "$P" 9
for _ in $(seq 50); do kill -0 "$W" 2>/dev/null || break; sleep 0.1; done
kill -9 "$W" 2>/dev/null && not_ok "v2: kill 9 did not reach the process"
wait "$W" 2>/dev/null
check "v2: killed (137)" [ $? = 137 ]
# Devices through the eBPF program, judged by the kernel.
D=$CG_PREFIX/v2dev
J=$(json v2dev '{"devices": [{"allow": false, "access": "rwm"}]}')
out=$("$TOOL" run "$D" "$J" -- "$TOOL" open /dev/kmsg r)
check "v2 eBPF: deny all blocks /dev/kmsg ($out)" [ "$out" = "open /dev/kmsg: Operation not permitted" ]
out=$("$TOOL" run "$D" "$J" -- "$TOOL" open /dev/null w)
check "v2 eBPF: the default list allows /dev/null" [ "$out" = opened ]
out=$("$TOOL" run "$D" "$J" -- "$TOOL" open /dev/zero r)
check "v2 eBPF: and /dev/zero" [ "$out" = opened ]
J=$(json v2dev2 '{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}, {"allow": false, "type": "c", "major": 1, "minor": 5, "access": "r"}]}')
check "v2 eBPF: update replaces the program" "$TOOL" update "$D" "$J"
out=$("$TOOL" run "$D" "$J" -- "$TOOL" open /dev/kmsg r)
check "v2 eBPF: an allow rule opens /dev/kmsg for reading" [ "$out" = opened ]
out=$("$TOOL" run "$D" "$J" -- "$TOOL" open /dev/kmsg w)
check "v2 eBPF: not for writing" [ "$out" = "open /dev/kmsg: Operation not permitted" ]
J=$(json v2dev3 '{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}, {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "r"}]}')
out=$("$TOOL" run "$D" "$J" -- "$TOOL" open /dev/kmsg r)
check "v2 eBPF: a later deny wins" [ "$out" = "open /dev/kmsg: Operation not permitted" ]
if command -v bpftool >/dev/null; then
	n=$(bpftool cgroup show "/sys/fs/cgroup$D" | grep -c device)
	check "v2 eBPF: one program attached after updates ($n)" [ "$n" = 1 ]
fi
check "v2: destroy" "$TOOL" destroy "$P"
check "v2: destroy the device cgroup" "$TOOL" destroy "$D" --kill
check "v2: gone" gone "$P"
V2

unshare -m --propagation private bash "$TMP/v1.sh"
[ $? = 0 ] || not_ok "v1 namespace script failed"
unshare -m --propagation private bash "$TMP/v2.sh"
[ $? = 0 ] || not_ok "v2 namespace script failed"
