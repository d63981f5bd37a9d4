#!/bin/bash
# cgroup module on the real host: detection, create/enter/pids/kill/destroy, freezer.
# timeout: 120
. "$(dirname "$0")/lib.sh"

# Layout as mountinfo tells it.
v1=$(grep -c ' - cgroup ' /proc/self/mountinfo)
v2=$(grep -c ' - cgroup2 ' /proc/self/mountinfo)
want=v1
[ "$v2" -gt 0 ] && want=v2
[ "$v2" -gt 0 ] && [ "$v1" -gt 0 ] && want=hybrid
check "detect: layout is $want, as mountinfo says" [ "$("$TOOL" detect | head -1)" = "layout $want" ]
check "detect: one v1 entry per v1 hierarchy in /proc/self/cgroup" \
	[ "$("$TOOL" detect | grep -c '^v1 ')" = "$(grep -vc '^0::' /proc/self/cgroup)" ]

# cgroupsPath resolution.
check "resolve: default is /<id>" [ "$("$TOOL" resolve '' c1)" = /c1 ]
check "resolve: absolute is cleaned" [ "$("$TOOL" resolve /a/../b//c c1)" = /b/c ]
if [ -d /run/systemd/system ]; then
	check "resolve: systemd slice:prefix:name" \
		[ "$("$TOOL" resolve --systemd system.slice:x:y c1)" = /system.slice/x-y.scope ]
else
	"$TOOL" resolve --systemd system.slice:x:y c1 >/dev/null 2>"$TMP/err"
	check "resolve: systemd driver without systemd is a clear error" \
		grep -q 'systemd is not running' "$TMP/err"
fi

# create with a pid, enter, pids
P=$(cg life)
bg sleep 300
S1=$BG
check "create $P with a pid" "$TOOL" create "$P" "$S1"
check "the pid is in $P on every hierarchy" bash -c "! grep -v ':$P\$' /proc/$S1/cgroup"
check "pids lists it" [ "$("$TOOL" pids "$P")" = "$S1" ]
bg sleep 300
S2=$BG
check "enter moves a second process in" "$TOOL" enter "$P" "$S2"
check "create of a child cgroup" "$TOOL" create "$P/sub" 0
bg sleep 300
S3=$BG
"$TOOL" enter "$P/sub" "$S3"
check "pids is recursive" [ "$("$TOOL" pids "$P" | wc -l)" = 3 ]
"$TOOL" destroy "$P" 2>"$TMP/err"
check "destroy without --kill refuses a busy cgroup (EBUSY, named)" \
	grep -q 'remove cgroup .*: Device or resource busy' "$TMP/err"
check "kill signals every process in it" "$TOOL" kill "$P" 15
reap "$S1"
check "the first process died of SIGTERM" [ "$ST" = 143 ]
reap "$S3"
check "the nested one too" [ "$ST" = 143 ]
reap "$S2"
check "destroy once empty" "$TOOL" destroy "$P"
check "gone on every hierarchy" gone "$P"
check "destroy of a gone cgroup succeeds" "$TOOL" destroy "$P"

# destroy --kill
P=$(cg stragglers)
bg sleep 300
S1=$BG
"$TOOL" create "$P" "$S1"
bg sleep 300
S2=$BG
"$TOOL" create "$P/a/b" "$S2"
check "destroy --kill kills stragglers and removes nested cgroups" "$TOOL" destroy "$P" --kill
reap "$S2"
check "straggler died of SIGKILL" [ "$ST" = 137 ]
reap "$S1"
check "gone after destroy --kill" gone "$P"

# freezer
P=$(cg freeze)
: >"$TMP/ticks"
bg bash -c "while :; do echo x >>$TMP/ticks; sleep 0.02; done"
W=$BG
"$TOOL" create "$P" "$W"
sleep 0.2
check "freeze" "$TOOL" freeze "$P"
check "state: frozen" [ "$("$TOOL" state "$P")" = frozen ]
a=$(stat -c %s "$TMP/ticks")
sleep 0.5
b=$(stat -c %s "$TMP/ticks")
check "a frozen process makes no progress" [ "$a" = "$b" ]
check "thaw" "$TOOL" thaw "$P"
check "state: thawed" [ "$("$TOOL" state "$P")" = thawed ]
sleep 0.5
c=$(stat -c %s "$TMP/ticks")
check "a thawed process runs again" [ "$c" -gt "$b" ]
"$TOOL" freeze "$P"
check "kill 9 reaches a frozen cgroup" "$TOOL" kill "$P" 9
reap "$W"
check "the frozen process died of SIGKILL" [ "$ST" = 137 ]
check "destroy after kill" "$TOOL" destroy "$P"
check "gone after freeze tests" gone "$P"
