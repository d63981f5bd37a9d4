# Runs as the pure-v2 VM's test, cgroup2 alone at /sys/fs/cgroup with every
# controller. TAP lines go to the serial console.
TOOL=/bin/cgroup-tool
TMP=/tmp
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
check() { n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
json() { echo "$2" >"$TMP/$1.json"; echo "$TMP/$1.json"; }
gone() { [ ! -e "/sys/fs/cgroup$1" ]; }
C=/sys/fs/cgroup

check "v2 vm: detected as v2" [ "$($TOOL detect | head -1)" = "layout v2" ]
avail=$(cat $C/cgroup.controllers)
echo "# controllers: $avail"
for c in cpu memory pids io; do
	check "v2 vm: $c is available" grep -qw $c $C/cgroup.controllers
done

# lifecycle
P=/c/life
sleep 300 &
S=$!
check "v2 vm: create with a pid" $TOOL create $P $S
check "v2 vm: pid in cgroup.procs" grep -qx $S $C$P/cgroup.procs
check "v2 vm: controllers enabled on the way down" grep -qw memory $C/c/cgroup.subtree_control
check "v2 vm: pids" [ "$($TOOL pids $P)" = "$S" ]
check "v2 vm: freeze" $TOOL freeze $P
check "v2 vm: frozen" [ "$($TOOL state $P)" = frozen ]
check "v2 vm: thaw" $TOOL thaw $P
check "v2 vm: kill" $TOOL kill $P 15
wait $S
check "v2 vm: SIGTERM delivered (143)" [ $? = 143 ]
check "v2 vm: destroy" $TOOL destroy $P
check "v2 vm: gone" gone $P

# memory: OOM kill and the v2 OOM notification (memory.events)
P=/c/mem
J=$(json mem '{"memory": {"limit": 16777216, "swap": 16777216, "reservation": 1048576}}')
check "v2 vm: create with memory limits" $TOOL create $P 0 $J
check "v2 vm: memory.max" [ "$(cat $C$P/memory.max)" = 16777216 ]
[ -e $C$P/memory.swap.max ] && check "v2 vm: memory.swap.max = swap - limit" [ "$(cat $C$P/memory.swap.max)" = 0 ]
check "v2 vm: memory.low" [ "$(cat $C$P/memory.low)" = 1048576 ]
$TOOL oom-wait $P 20 >$TMP/oom &
OW=$!
i=0
while [ $i -lt 50 ] && ! grep -q ready $TMP/oom; do sleep 0.1; i=$((i + 1)); done
check "v2 vm: 4M fits" [ "$($TOOL run $P $J -- $TOOL alloc 4)" = allocated ]
$TOOL run $P $J -- $TOOL alloc 64 >/dev/null
check "v2 vm: 64M under 16M is OOM-killed (137)" [ $? = 137 ]
wait $OW
check "v2 vm: OOM notification through memory.events" grep -q '^oom [1-9]' $TMP/oom
$TOOL stats $P >$TMP/stats
check "v2 vm: stats memory limit" grep -q '"limit":16777216' $TMP/stats
J=$(json mem2 '{"memory": {"limit": 67108864}}')
check "v2 vm: update memory" $TOOL update $P $J
check "v2 vm: memory.max updated" [ "$(cat $C$P/memory.max)" = 67108864 ]
J=$(json mem3 '{"memory": {"swappiness": 10}}')
$TOOL update $P $J 2>$TMP/err
check "v2 vm: swappiness is a clear error" grep -q 'memory.swappiness: not available on cgroup v2' $TMP/err
J=$(json mem4 '{"unified": {"memory.high": "33554432"}}')
check "v2 vm: unified memory.high" $TOOL update $P $J
check "v2 vm: memory.high written" [ "$(cat $C$P/memory.high)" = 33554432 ]
$TOOL destroy $P

# pids
P=/c/pids
J=$(json pids '{"pids": {"limit": 5}}')
out=$($TOOL run $P $J -- $TOOL forks 20)
check "v2 vm: forks stop at pids.max ($out)" [ "$out" = "forked 4" ]
J=$(json pids2 '{"pids": {"limit": 100}}')
out=$($TOOL run $P $J -- $TOOL forks 20)
check "v2 vm: update lifts it ($out)" [ "$out" = "forked 20" ]
$TOOL destroy $P

# cpu: runc's conversions, and the quota biting
P=/c/cpu
J=$(json cpu '{"cpu": {"shares": 1024, "quota": 10000, "period": 100000, "cpus": "0", "mems": "0"}}')
check "v2 vm: create with cpu limits" $TOOL create $P 0 $J
check "v2 vm: cpu.weight from shares 1024 is 39" [ "$(cat $C$P/cpu.weight)" = 39 ]
check "v2 vm: cpu.max" [ "$(cat $C$P/cpu.max)" = "10000 100000" ]
check "v2 vm: cpuset.cpus" [ "$(cat $C$P/cpuset.cpus)" = 0 ]
$TOOL run $P $J -- timeout 1 sh -c 'while :; do :; done'
$TOOL stats $P >$TMP/stats
check "v2 vm: throttled" grep -Eq '"throttledPeriods":[1-9]' $TMP/stats
J=$(json cpu2 '{"cpu": {"period": 50000}}')
$TOOL update $P $J
check "v2 vm: period update keeps the quota" [ "$(cat $C$P/cpu.max)" = "10000 50000" ]
J=$(json cpu3 '{"cpu": {"realtimeRuntime": 5}}')
$TOOL update $P $J 2>$TMP/err
check "v2 vm: realtime is a clear error" grep -q 'cpu.realtimeRuntime: realtime CPU limits do not exist on cgroup v2' $TMP/err
$TOOL destroy $P

# io on a RAM disk
[ -s /brd.ko ] && insmod /brd.ko rd_nr=1 rd_size=16384
if [ -e /sys/block/ram0/dev ]; then
	dev=$(cat /sys/block/ram0/dev)
	P=/c/io
	J=$(json io "{\"blockIO\": {\"weight\": 500, \"throttleReadBpsDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 1048576}], \"throttleWriteIOPSDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 100}]}}")
	$TOOL create $P 0 $J 2>$TMP/err
	r=$?
	if [ $r != 0 ] && grep -q 'blockIO.weight' $TMP/err; then
		echo "# $(cat $TMP/err)"
		J=$(json io "{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 1048576}], \"throttleWriteIOPSDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 100}]}}")
		$TOOL create $P 0 $J
		r=$?
	else
		check "v2 vm: io weight 500 -> 4950" grep -q 4950 $C$P/io.weight $C$P/io.bfq.weight
	fi
	check "v2 vm: create with io limits" [ $r = 0 ]
	check "v2 vm: io.max" grep -q "^$dev rbps=1048576 wbps=max riops=max wiops=100" $C$P/io.max
	$TOOL destroy $P
else
	echo "skip - v2 vm: io: no RAM disk"
fi

# devices through eBPF
P=/c/dev
J=$(json dev '{"devices": [{"allow": false, "access": "rwm"}]}')
out=$($TOOL run $P $J -- $TOOL open /dev/kmsg r)
check "v2 vm: eBPF denies /dev/kmsg ($out)" [ "$out" = "open /dev/kmsg: Operation not permitted" ]
out=$($TOOL run $P $J -- $TOOL open /dev/null w)
check "v2 vm: eBPF allows /dev/null" [ "$out" = opened ]
$TOOL destroy $P

# hugetlb
if [ -e $C/c/cgroup.controllers ] && grep -qw hugetlb $C/cgroup.controllers; then
	P=/c/huge
	J=$(json huge '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}')
	check "v2 vm: hugetlb limit" $TOOL create $P 0 $J
	check "v2 vm: hugetlb.2MB.max" [ "$(cat $C$P/hugetlb.2MB.max)" = 4194304 ]
	$TOOL destroy $P
fi

# v1-only resources are refused by name
J=$(json net '{"network": {"classID": 1}}')
$TOOL create /c/net 0 $J 2>$TMP/err
check "v2 vm: net_cls is a clear error" grep -q 'network.classID: the net_cls controller is not available on this host (v2 layout)' $TMP/err
check "v2 vm: nothing left after the failed create" gone /c/net

check "v2 vm: destroy --kill the parent" $TOOL destroy /c --kill
check "v2 vm: no cgroup left" gone /c
