#!/bin/bash
# timeout: 240
# Lifecycle: run, create/start/state/list/kill/delete, ps, pid files,
# features, spec, checkpoint, CLI errors.
. "$(dirname "$0")/lib.sh"

t_run_exit_status() {
	new_bundle
	cfg_sh 'echo out; echo err >&2; exit 3'
	ct_run
	assert_rc 3 "run of 'exit 3'"
	assert_eq out "$OUT" "workload stdout"
	assert_contains err "$ERR" "workload stderr"
	assert_nothing_left "$ID"
	cfg_args true
	ct_run
	assert_rc 0 "run of 'true'"
	assert_nothing_left "$ID"
}

t_run_killed_by_signal() {
	new_bundle
	cfg_args sleep 100
	ct_bg
	wait_status "$ID" running
	rtc kill "$ID" KILL
	assert_rc 0 "kill KILL"
	local rc=0
	wait "$BGPID" || rc=$?
	assert_eq 137 "$rc" "run's exit status after SIGKILL (128+9)"
	assert_nothing_left "$ID"
}

t_run_forwards_signals() {
	new_bundle
	add_share
	cfg_sh 'trap "echo got-term > /share/t; exit 42" TERM; echo ready > /share/ready; while :; do sleep 0.1; done'
	ct_bg
	wait_file "$SH/ready"
	# the runtime (timeout's child) must forward SIGTERM to the container
	local rtpid
	rtpid=$(rt_pid_of_bg)
	kill -TERM "$rtpid"
	for _ in 1 2; do
		for _ in $(seq 30); do kill -0 "$BGPID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$BGPID" 2>/dev/null || break
		echo "# SIGTERM not handled after 3s, sending it again"
		kill -TERM "$rtpid" 2>/dev/null || true
	done
	local rc=0
	wait "$BGPID" || rc=$?
	assert_eq 42 "$rc" "run's exit status (workload exits 42 on SIGTERM)"
	assert_eq got-term "$(cat "$SH/t" 2>/dev/null)" "workload saw SIGTERM"
}

t_create_start_delete() {
	new_bundle
	add_share
	cfg_sh 'echo started > /share/started; exec sleep 100'
	ct_create
	assert_eq created "$(status "$ID")" "status after create"
	local pid
	pid=$(rt state "$ID" | jget .pid)
	assert_match '^[1-9][0-9]*$' "$pid" "state pid"
	kill -0 "$pid" || fail "init pid $pid not alive after create"
	sleep 0.3
	[ ! -e "$SH/started" ] || fail "workload ran before start"
	rtc start "$ID"
	assert_rc 0 start
	wait_file "$SH/started"
	wait_status "$ID" running
	assert_eq "$pid" "$(rt state "$ID" | jget .pid)" "pid after start"
	assert_match sleep "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "init cmdline after start"
	rtc start "$ID"
	assert_fails "second start"
	rtc kill "$ID" KILL
	assert_rc 0 kill
	wait_status "$ID" stopped
	rtc delete "$ID"
	assert_rc 0 "delete of a stopped container"
	rtc state "$ID"
	assert_fails "state after delete"
	rtc list -q
	assert_not_contains "$ID" "$OUT" "list after delete"
	assert_nothing_left "$ID"
}

t_stopped_after_exit() {
	new_bundle
	cfg_args true
	ct_create
	rtc start "$ID"
	assert_rc 0 start
	wait_status "$ID" stopped
	rtc delete "$ID"
	assert_rc 0 delete
	assert_nothing_left "$ID"
}

t_run_orphans() {
	# the init exits leaving a background child: run returns the init's
	# status promptly and nothing survives
	new_bundle
	cfg_sh 'sleep 1000 & sleep 1000 & exit 3'
	local start=$SECONDS
	ct_run
	assert_rc 3 "run whose init leaves children"
	[ $((SECONDS - start)) -lt 10 ] || fail "run waited for the orphans ($((SECONDS - start))s)"
	assert_nothing_left "$ID"
	# without a pid namespace the children outlive the init: the runtime
	# (run, then delete) must still reap them through the cgroup
	new_bundle hostpid
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'pid']"
	cfg_sh 'ls -d /proc/[0-9]* | wc -l; sleep 1000 & exit 4'
	ct_run
	assert_rc 4 "run without a pid namespace"
	[ "$OUT" -gt 5 ] || fail "without a pid namespace the host's processes should be visible ($OUT)"
	rtc delete --force "$ID"
	assert_nothing_left "$ID"
}

# run --no-subreaper (runc's flag): without a pid namespace, a process
# orphaned in the container is reparented to the host's reaper, not to the
# runtime waiting for the init (its subreaper by default). The init's child
# exits at once, leaving a grandchild that records its new parent; the init
# waits for that record.
t_run_no_subreaper() {
	local flag got parent
	for flag in "" --no-subreaper; do
		new_bundle "sub${flag:+no}"
		add_share
		cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'pid']"
		cat >"$B/rootfs/orphan.sh" <<-'EOF'
			while :; do
				while read -r k v; do [ "$k" = PPid: ] && break; done </proc/self/status
				[ "$v" != "$1" ] && break
			done
			echo "$v" >/share/orphan
		EOF
		echo 'sh /orphan.sh $$ & exit 0' >"$B/rootfs/spawn.sh"
		cfg_sh 'echo $PPID >/share/runtime; sh /spawn.sh; while [ ! -s /share/orphan ]; do sleep 0.05; done; exit 5'
		ct_run $flag
		assert_rc 5 "run $flag"
		got=$(cat "$SH/orphan")
		parent=$(cat "$SH/runtime")
		if [ -z "$flag" ]; then
			assert_eq "$parent" "$got" "the orphan's parent: the runtime (a subreaper)"
		else
			assert_ne "$parent" "$got" "the orphan's parent with --no-subreaper"
		fi
		assert_nothing_left "$ID"
	done
}

t_run_stdin() {
	new_bundle
	cfg_sh 'read line; echo "got:$line"; cat'
	RC=0
	OUT=$(printf 'first\nrest\n' | rt run --bundle "$B" "$ID" 2>"$T/err") || RC=$?
	ERR=$(cat "$T/err")
	assert_rc 0 "run with stdin"
	assert_eq "$(printf '%s\n' got:first rest)" "$OUT" "stdin passed to the workload"
}

# Issue 11 item 26: TERM (HUP, INT) end a created container as runc's init
# dies of them; USR1 doesn't (runc's Go init ignores it too).
t_kill_term_created() {
	local sig
	for sig in TERM INT HUP; do
		new_bundle "$sig"
		add_share
		cfg_sh 'echo ran > /share/ran; sleep 1000'
		ct_create
		rtc kill "$ID" "$sig"
		assert_rc 0 "kill $sig of a created container"
		wait_status "$ID" stopped 5
		rtc start "$ID"
		assert_fails "start after kill $sig"
		[ ! -e "$SH/ran" ] || fail "the workload ran after kill $sig"
		rtc delete "$ID"
		assert_rc 0 delete
	done
	new_bundle usr1
	cfg_args sleep 1000
	ct_create
	rtc kill "$ID" USR1
	assert_rc 0 "kill USR1 of a created container"
	sleep 0.5
	assert_eq created "$(status "$ID")" "status after USR1"
}

t_kill_created_start_stopped() {
	new_bundle
	add_share
	cfg_sh 'echo ran > /share/ran; sleep 1000'
	ct_create
	rtc kill "$ID" KILL
	assert_rc 0 "kill of a created container"
	wait_status "$ID" stopped
	rtc start "$ID"
	assert_fails "start of a stopped container"
	sleep 0.3
	[ ! -e "$SH/ran" ] || fail "the workload ran after start of a killed container"
	rtc kill "$ID" KILL
	[ "$RC" != 0 ] || echo "# note: kill of a stopped container succeeded"
	rtc delete "$ID"
	assert_rc 0 delete
	assert_nothing_left "$ID"
}

t_fresh_root_dir() {
	new_bundle
	cfg_args true
	local root=$T/fresh/nested/root
	RC=0
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$T/never-created" list -q >"$T/out" 2>"$T/err" || RC=$?
	ERR=$(cat "$T/err")
	assert_rc 0 "list -q with a --root that does not exist"
	assert_eq "" "$(cat "$T/out")" "list of a missing root"
	RC=0
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$root" run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" || RC=$?
	ERR=$(cat "$T/err")
	assert_rc 0 "run with a --root that does not exist yet"
	RC=0
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$root" list -q >"$T/out" 2>"$T/err" || RC=$?
	assert_rc 0 "list in that root"
	assert_eq "" "$(cat "$T/out")" "list after the run"
	assert_nothing_left "$ID"
}

t_parallel() {
	# one --root used by several callers at once (containerd does this)
	local i pids=() rc n=6
	for ((i = 0; i < n; i++)); do
		new_bundle "p$i"
		cfg_args sleep 1000
	done
	for ((i = 0; i < n; i++)); do
		rt run -d --bundle "$T/b/p$i" "$PFX-p$i" >/dev/null 2>"$T/p$i.err" &
		pids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		rc=0
		wait "${pids[$i]}" || rc=$?
		[ $rc = 0 ] || fail "parallel run -d #$i exited $rc: $(cat "$T/p$i.err")"
	done
	rtc list -q
	assert_eq "$n" "$(echo "$OUT" | grep -c "^$PFX-p")" "containers listed after parallel runs"
	# parallel execs into one container
	pids=()
	for ((i = 0; i < n; i++)); do
		rt exec "$PFX-p0" sh -c "echo exec$i" >"$T/e$i.out" 2>&1 &
		pids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		wait "${pids[$i]}" || fail "parallel exec #$i failed: $(cat "$T/e$i.out")"
		assert_eq "exec$i" "$(cat "$T/e$i.out")" "output of parallel exec #$i"
	done
	# the same id created twice at once: exactly one wins
	new_bundle dup
	cfg_args sleep 1000
	rt create --bundle "$B" "$ID" >/dev/null 2>&1 &
	local a=$!
	rt create --bundle "$B" "$ID" >/dev/null 2>&1 &
	local b=$! ra=0 rb=0
	wait $a || ra=$?
	wait $b || rb=$?
	[ $((ra == 0)) -ne $((rb == 0)) ] || fail "two concurrent creates of $ID: exit codes $ra and $rb (exactly one must succeed)"
	assert_eq created "$(status "$ID")" "the winner's status"
	# parallel deletes
	pids=()
	for ((i = 0; i < n; i++)); do
		rt delete --force "$PFX-p$i" >/dev/null 2>"$T/d$i.err" &
		pids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		wait "${pids[$i]}" || fail "parallel delete #$i failed: $(cat "$T/d$i.err")"
	done
	for ((i = 0; i < n; i++)); do assert_nothing_left "$PFX-p$i"; done
}

t_long_ids_and_root() {
	# containerd: 64-hex ids under a deep --root (unix socket paths are
	# limited to 108 bytes: a runtime must not put sockets there blindly)
	local root=$T/state-with-a-rather-long-path/io.containerd.runtime.v2.task/k8s.io/rune-root
	local id
	id=$PFX-$(printf '%064x' 123456789)
	new_bundle long
	cfg_args sleep 1000
	RC=0
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$root" create --bundle "$B" "$id" >"$T/out" 2>"$T/err" || RC=$?
	ERR=$(cat "$T/err")
	assert_rc 0 "create with a 64-hex id under a deep --root"
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$root" start "$id" || fail "start"
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$root" exec "$id" true || fail "exec"
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$root" state "$id" | jget .status | grep -qx running || fail "state"
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$root" delete --force "$id" || fail "delete --force"
	assert_nothing_left "$id"
	# the characters runc allows in ids
	new_bundle chars
	cfg_args true
	rtc run --bundle "$B" "$PFX-a_b.c+d-e"
	assert_rc 0 "run with id $PFX-a_b.c+d-e"
	assert_nothing_left "$PFX-a_b.c+d-e"
}

t_init_killed_outside() {
	# the init dies behind the runtime's back: state must say stopped (and
	# never mistake a recycled pid for the container), delete must work
	new_bundle
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	local pid
	pid=$(rt state "$ID" | jget .pid)
	kill -KILL "$pid"
	wait_gone "$pid"
	wait_status "$ID" stopped
	rtc list --format json
	assert_eq stopped "$(echo "$OUT" | jq_py "[c['status'] for c in d if c['id']=='$ID'][0]")" "status in list"
	rtc delete "$ID"
	assert_rc 0 "delete after the init died"
	assert_nothing_left "$ID"
}

t_delete_created_no_force() {
	new_bundle
	cfg_args sleep 1000
	ct_create
	local pid
	pid=$(rt state "$ID" | jget .pid)
	rtc delete "$ID"
	assert_rc 0 "delete (no --force) of a created container"
	wait_gone "$pid"
	assert_nothing_left "$ID"
}

t_create_duplicate_id() {
	new_bundle
	cfg_args sleep 100
	ct_create
	rtc create --bundle "$B" "$ID"
	assert_fails "create with an existing id"
	assert_eq created "$(status "$ID")" "the first container"
	rtc run --bundle "$B" "$ID"
	assert_fails "run with an existing id"
}

t_state_fields() {
	new_bundle
	cfg_args sleep 100
	cfg_set .annotations '{"org.rune.test":"yes","b":"2"}'
	ct_create
	rtc state "$ID"
	assert_rc 0 state
	local s=$OUT k
	for k in ociVersion id pid status bundle rootfs created owner annotations; do
		echo "$s" | "$PY" -c "import json,sys; d=json.load(sys.stdin); sys.exit('$k' not in d)" ||
			fail "state lacks '$k': $s"
	done
	assert_eq "$ID" "$(echo "$s" | jget .id)" id
	assert_eq created "$(echo "$s" | jget .status)" status
	assert_eq "$B" "$(echo "$s" | jget .bundle)" bundle
	assert_eq "$B/rootfs" "$(echo "$s" | jget .rootfs)" rootfs
	assert_match '^1\.' "$(echo "$s" | jget .ociVersion)" ociVersion
	assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}' "$(echo "$s" | jget .created)" "created (RFC 3339)"
	assert_eq yes "$(echo "$s" | jget '.annotations["org.rune.test"]')" annotation
	local owner
	owner=$(echo "$s" | jget .owner)
	[ -z "$owner" ] || [ "$owner" = root ] || fail "owner: '$owner'"
}

t_list_formats() {
	new_bundle a
	local a=$ID
	cfg_args sleep 100
	ct_create
	new_bundle b
	local b=$ID
	cfg_args sleep 100
	ct_create
	rtc start "$b"
	wait_status "$b" running
	rtc list -q
	assert_rc 0 "list -q"
	assert_eq "$(printf '%s\n' "$a" "$b")" "$(echo "$OUT" | grep "^$PFX" | sort)" "list -q"
	rtc list --format json
	assert_rc 0 "list --format json"
	local j=$OUT
	assert_eq created "$(echo "$j" | jq_py "[c['status'] for c in d if c['id']=='$a'][0]")" "status of $a in list json"
	assert_eq running "$(echo "$j" | jq_py "[c['status'] for c in d if c['id']=='$b'][0]")" "status of $b in list json"
	assert_eq "$B" "$(echo "$j" | jq_py "[c['bundle'] for c in d if c['id']=='$b'][0]")" "bundle in list json"
	echo "$j" | jq_py "[k for k in ('id','pid','status','bundle','created','owner') if k not in d[0]]" | grep -qx '\[\]' ||
		fail "list json entry lacks fields: $j"
	rtc list
	assert_rc 0 "list (table)"
	assert_match '^ID +PID +STATUS +BUNDLE +CREATED +OWNER' "$(echo "$OUT" | head -1)" "table header"
	assert_match "$b +[0-9]+ +running +$B" "$OUT" "table row"
	rtc list -f json
	assert_rc 0 "list -f json"
}

# Issue 11 item 7: list --format json names the owner the table shows and
# keeps runc's key order (state's too: runc prints the same structure).
t_list_json_owner_order() {
	new_bundle
	cfg_args sleep 100
	cfg_set .annotations '{"org.example.k":"v"}'
	ct_create
	rtc list --format json
	assert_rc 0 "list --format json"
	local keys
	keys=$(echo "$OUT" | jq_py "','.join([c for c in d if c['id']=='$ID'][0].keys())")
	assert_eq "ociVersion,id,pid,status,bundle,rootfs,created,annotations,owner" "$keys" "list json key order"
	assert_eq root "$(echo "$OUT" | jq_py "[c['owner'] for c in d if c['id']=='$ID'][0]")" "list json owner"
	rtc state "$ID"
	assert_rc 0 state
	keys=$(echo "$OUT" | jq_py "','.join(d.keys())")
	assert_eq "ociVersion,id,pid,status,bundle,rootfs,created,annotations,owner" "$keys" "state key order"
}

# list --format json with no container prints runc's null (Go's nil slice),
# not [], for a missing and for an empty --root.
t_list_json_empty() {
	local r out
	for r in "$T/list-missing-root" "$T/list-empty-root"; do
		[ "$r" = "$T/list-empty-root" ] && mkdir -p "$r"
		out=$(timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$r" list --format json) ||
			fail "list --format json with --root $r failed"
		assert_eq null "$out" "list --format json with no container (--root $r)"
		out=$(timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$r" list -q) ||
			fail "list -q with --root $r failed"
		assert_eq "" "$out" "list -q with no container"
	done
	rm -rf "$T/list-empty-root"
}

# Issue 11 item 26: list's table stays aligned for ids over 12 characters
# (runc's tabwriter: each column as wide as its widest cell plus 3).
t_list_table_long_ids() {
	new_bundle with-a-rather-long-container-name
	cfg_args sleep 100
	ct_create
	rtc list
	assert_rc 0 list
	printf '%s\n' "$OUT" | "$PY" -c '
import re, sys
lines = sys.stdin.read().splitlines()
head = lines[0]
cols = [m.start() for m in re.finditer(r"\S+", head)]
assert len(cols) == 6, head
for row in lines[1:]:
    starts = [m.start() for m in re.finditer(r"\S+", row)]
    if row.split()[0] != sys.argv[1]:
        continue
    assert starts == cols, "row %r starts %s, header %s" % (row, starts, cols)
    sys.exit(0)
sys.exit("no row for " + sys.argv[1])
' "$ID" || fail "list table columns not aligned: $OUT"
}

t_delete_running_refused() {
	new_bundle
	cfg_args sleep 100
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_status "$ID" running
	rtc delete "$ID"
	assert_fails "delete of a running container without --force"
	assert_eq running "$(status "$ID")" "status after refused delete"
	local pid
	pid=$(rt state "$ID" | jget .pid)
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	wait_gone "$pid"
	assert_nothing_left "$ID"
}

t_aliases() {
	new_bundle
	cfg_args sleep 100
	ct_create
	rtc ls -q
	[ "$RC" = 0 ] || differs_from_runc "'ls' is not an alias of 'list'"
	assert_contains "$ID" "$OUT" "ls -q"
	rtc rm --force "$ID"
	assert_rc 0 "rm --force"
	assert_nothing_left "$ID"
}

t_delete_created() {
	new_bundle
	cfg_args sleep 100
	ct_create
	local pid
	pid=$(rt state "$ID" | jget .pid)
	rtc delete --force "$ID"
	assert_rc 0 "delete --force of a created container"
	wait_gone "$pid"
	assert_nothing_left "$ID"
}

t_kill_names_numbers() {
	new_bundle
	add_share
	cfg_sh 'trap "echo usr1 >> /share/log" USR1; trap "echo usr2 >> /share/log" USR2; trap "echo hup >> /share/log" HUP; trap "echo term >> /share/log; exit 0" TERM; echo ready > /share/ready; while :; do sleep 0.1; done'
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_file "$SH/ready"
	local sig want
	for sig in USR1 SIGUSR2 1; do
		rtc kill "$ID" "$sig"
		assert_rc 0 "kill $sig"
		case $sig in USR1) want=usr1 ;; SIGUSR2) want=usr2 ;; 1) want=hup ;; esac
		for _ in $(seq 50); do grep -qsx "$want" "$SH/log" && break; sleep 0.1; done
		if ! grep -qsx "$want" "$SH/log"; then
			# busybox sh can drop a signal that lands while it forks
			# (seen once under load): one retry before failing
			echo "# $sig not seen after 5s, sending it again"
			rtc kill "$ID" "$sig"
			for _ in $(seq 50); do grep -qsx "$want" "$SH/log" && break; sleep 0.1; done
		fi
		grep -qsx "$want" "$SH/log" || fail "workload did not see $sig: $(cat "$SH/log" 2>/dev/null)"
	done
	rtc kill "$ID" NOSUCHSIG
	assert_fails "kill with an unknown signal name"
	rtc kill "$ID"
	assert_rc 0 "kill (default SIGTERM)"
	wait_status "$ID" stopped
	grep -qx term "$SH/log" || fail "default signal was not SIGTERM: $(cat "$SH/log")"
	rtc kill "$PFX-nosuch" KILL
	assert_fails "kill of an unknown container"
}

t_kill_all() {
	new_bundle
	add_share
	cfg_sh 'sleep 1000 & sleep 1000 & echo ready > /share/ready; wait'
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_file "$SH/ready"
	local cg
	cg=$(find /sys/fs/cgroup/pids /sys/fs/cgroup/unified -maxdepth 3 -type d -name "$ID" | head -1)
	[ -n "$cg" ] || fail "no cgroup named $ID"
	local procs
	procs=$(cat "$cg/cgroup.procs")
	[ "$(echo "$procs" | wc -l)" -ge 3 ] || fail "expected 3 processes in $cg, got: $procs"
	rtc kill --all "$ID" KILL
	assert_rc 0 "kill --all"
	local p
	for p in $procs; do wait_gone "$p"; done
	wait_status "$ID" stopped
}

# Issue 11 item 1: flags after the arguments, as runc's CLI takes them
# (every command but exec, whose arguments after the id are the command's).
t_flags_after_args() {
	new_bundle
	add_share
	cfg_sh 'echo ready > /share/ready; exec sleep 1000'
	rtc create "$ID" --bundle "$B"
	assert_rc 0 "create ID --bundle B"
	rtc start "$ID"
	assert_rc 0 start
	wait_file "$SH/ready"
	rtc update "$ID" --pids-limit 10
	assert_rc 0 "update ID --pids-limit 10"
	local cg
	cg=$(find /sys/fs/cgroup/pids /sys/fs/cgroup/unified -maxdepth 3 -type d -name "$ID" -exec test -e '{}/pids.max' ';' -print | head -1)
	[ -n "$cg" ] || fail "no pids cgroup named $ID"
	assert_eq 10 "$(cat "$cg/pids.max")" "pids.max after update ID --pids-limit 10"
	rtc list -q --format table
	assert_rc 0 "list -q --format table"
	rtc ps "$ID" -o pid,comm
	assert_rc 0 "ps ID -o pid,comm"
	assert_match 'sleep' "$OUT" "ps output"
	assert_match 'PID +COMMAND' "$(echo "$OUT" | head -1)" "ps options passed to ps"
	rtc exec "$ID" echo --cwd /nowhere
	assert_rc 0 "exec ID echo --cwd /nowhere"
	assert_eq "--cwd /nowhere" "$OUT" "exec: flags after the id belong to the command"
	rtc kill "$ID" KILL --all
	assert_rc 0 "kill ID KILL --all"
	wait_status "$ID" stopped
	rtc delete "$ID" --force
	assert_rc 0 "delete ID --force"
	rtc state "$ID"
	assert_fails "state after delete ID --force"
}

# Issue 11 item 2: signal 0 probes liveness, as runc's kill accepts it.
t_kill_signal_zero() {
	new_bundle
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc kill "$ID" 0
	assert_rc 0 "kill ID 0 of a running container"
	[ "$(status "$ID")" = running ] || fail "kill 0 changed the status to $(status "$ID")"
	rtc kill --all "$ID" 0
	assert_rc 0 "kill --all ID 0 of a running container"
	rtc kill "$ID" KILL
	wait_status "$ID" stopped
	rtc kill "$ID" 0
	assert_fails "kill ID 0 of a stopped container"
	rtc kill --all "$ID" 0
	assert_rc 0 "kill --all ID 0 of a stopped container"
}

t_ps() {
	new_bundle
	add_share
	cfg_sh 'sleep 1000 & echo ready > /share/ready; exec sleep 999'
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_file "$SH/ready"
	local pid
	pid=$(rt state "$ID" | jget .pid)
	rtc ps --format json "$ID"
	assert_rc 0 "ps --format json"
	local pids
	pids=$(echo "$OUT" | jq_py "' '.join(str(p) for p in sorted(d))")
	[[ " $pids " == *" $pid "* ]] || fail "ps json lacks init pid $pid: $OUT"
	[ "$(echo "$pids" | wc -w)" = 2 ] || fail "ps json should list 2 pids: $OUT"
	rtc ps "$ID"
	assert_rc 0 "ps (table)"
	assert_match PID "$(echo "$OUT" | head -1)" "ps header"
	assert_contains "sleep 999" "$OUT" "ps table"
	assert_contains "sleep 1000" "$OUT" "ps table"
	# ps options reach ps(1) as they are, never through a shell.
	rtc ps "$ID" -o "pid,comm=it's"
	assert_rc 0 "ps with a quote in an option"
	assert_contains "it's" "$(echo "$OUT" | head -1)" "ps header"
	assert_contains "sleep" "$OUT" "ps table with -o"
}

# Issue 11 item 3: run --keep leaves the stopped container (state and
# cgroup) until delete.
t_run_keep() {
	new_bundle
	cfg_sh 'exit 3'
	ct_run --keep
	assert_rc 3 "run --keep"
	assert_eq stopped "$(status "$ID")" "status after run --keep"
	local cg
	cg=$(find /sys/fs/cgroup/pids /sys/fs/cgroup/unified -maxdepth 3 -type d -name "$ID" | head -1)
	[ -n "$cg" ] || fail "run --keep removed the cgroup"
	# no process left: ps --format json prints runc's null (its nil slice)
	rtc ps --format json "$ID"
	assert_rc 0 "ps --format json of a kept, stopped container"
	assert_eq null "$OUT" "ps --format json with no process"
	rtc delete "$ID"
	assert_rc 0 "delete after run --keep"
	assert_nothing_left "$ID"
}

t_run_detach() {
	new_bundle
	cfg_args sleep 100
	local start=$SECONDS
	rtc run --detach --bundle "$B" "$ID"
	assert_rc 0 "run --detach"
	[ $((SECONDS - start)) -lt 10 ] || fail "run --detach took too long"
	assert_eq running "$(status "$ID")" "status after run -d"
	local pid
	pid=$(rt state "$ID" | jget .pid)
	assert_match sleep "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "init cmdline"
	# the container must not be our child: the runtime has exited
	assert_ne "$$" "$(awk '{print $4}' /proc/"$pid"/stat)" "parent of init"
}

t_pid_file() {
	new_bundle
	cfg_args sleep 100
	ct_create --pid-file "$T/init.pid"
	local want
	want=$(rt state "$ID" | jget .pid)
	assert_eq "$want" "$(tr -d '\n' <"$T/init.pid")" "--pid-file contents"
	new_bundle b
	cfg_args sleep 100
	rtc run -d --pid-file "$T/b.pid" --bundle "$B" "$ID"
	assert_rc 0 "run -d --pid-file"
	assert_eq "$(rt state "$ID" | jget .pid)" "$(tr -d '\n' <"$T/b.pid")" "run --pid-file contents"
	# relative pid file: relative to the caller's cwd
	new_bundle c
	cfg_args sleep 100
	mkdir -p "$T/cwd"
	(cd "$T/cwd" && rt create --bundle "$B" --pid-file rel.pid "$ID") || fail "create with a relative --pid-file"
	assert_eq "$(rt state "$ID" | jget .pid)" "$(tr -d '\n' <"$T/cwd/rel.pid")" "relative --pid-file"
}

t_bundle_paths() {
	# a bundle path with a space, given relative to the caller's cwd, and an
	# absolute root.path outside the bundle
	mkdir -p "$T/with space"
	new_bundle sp
	mv "$B" "$T/with space/bundle"
	B="$T/with space/bundle"
	cfg_sh 'echo spaced'
	(cd "$T" && rt run --bundle "with space/bundle" "$ID" >"$T/sp.out" 2>&1) || fail "run with a relative bundle path containing a space: $(cat "$T/sp.out")"
	assert_eq spaced "$(cat "$T/sp.out")" "output"
	cfg_args sleep 1000
	(cd "$T" && rt create --bundle "with space/bundle" "$ID") || fail "create with a relative bundle path"
	assert_eq "$B" "$(rt state "$ID" | jget .bundle)" "state.bundle is absolute"
	rtc delete --force "$ID"
	new_bundle abs
	mv "$B/rootfs" "$T/abs-rootfs"
	cfg_set .root.path "\"$T/abs-rootfs\""
	cfg_sh 'cat /etc/hostname'
	ct_run
	assert_rc 0 "run with an absolute root.path"
	assert_eq rune-test "$OUT" "rootfs from an absolute root.path"
}

t_create_flags() {
	new_bundle
	cfg_args true
	rtc run --no-new-keyring --bundle "$B" "$ID"
	assert_rc 0 "run --no-new-keyring"
	rtc create --no-new-keyring --no-pivot --pid-file "$T/p" --bundle "$B" "$ID"
	assert_rc 0 "create --no-new-keyring --no-pivot --pid-file"
	rtc start "$ID"
	assert_rc 0 start
	wait_status "$ID" stopped
}

t_default_bundle_cwd() {
	new_bundle
	cfg_args true
	(cd "$B" && rt run "$ID") || fail "run without --bundle from the bundle dir"
	assert_nothing_left "$ID"
}

t_cgroup_default_path() {
	new_bundle
	cfg_args sleep 100
	ct_create
	local pid cg n=0
	pid=$(rt state "$ID" | jget .pid)
	for cg in $(find /sys/fs/cgroup -maxdepth 4 -type d -name "$ID"); do
		grep -qx "$pid" "$cg/cgroup.procs" || fail "init $pid not in $cg"
		n=$((n + 1))
	done
	[ $n -ge 1 ] || fail "no cgroup named $ID"
	# every mounted hierarchy (v1 controllers and the unified one) has it
	local h
	for h in $(awk '$9 == "cgroup" || $9 == "cgroup2" {print $5}' /proc/self/mountinfo); do
		[ -n "$(find "$h" -maxdepth 3 -type d -name "$ID")" ] || fail "hierarchy $h has no cgroup $ID"
	done
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	assert_nothing_left "$ID"
}

# v1 hierarchy mountpoints (and the v2 one) from mountinfo: "MP CONTROLLERS"
cgroup_mounts() {
	awk '$9 == "cgroup" { n = split($NF, o, ","); c = ""; for (i = 1; i <= n; i++) if (o[i] != "rw" && o[i] != "ro") c = c o[i] ","; print $5, c } $9 == "cgroup2" { print $5, "" }' /proc/self/mountinfo
}
# cgroup_dir CONTROLLER: the mountpoint of the v1 hierarchy carrying it
cgroup_dir() { cgroup_mounts | awk -v c="$1" 'index("," $2, "," c ",") { print $1; exit }'; }

# Issue 11 item 22: a container whose cgroup is already frozen fails at
# once, in runc's words, and leaves nothing behind (never a frozen init).
t_frozen_cgroup_at_create() {
	local fz
	fz=$(cgroup_dir freezer)
	[ -n "$fz" ] || skip "no v1 freezer hierarchy"
	new_bundle
	cfg_set .linux.cgroupsPath "\"/$ID\""
	mkdir "$fz/$ID"
	echo FROZEN >"$fz/$ID/freezer.state"
	RT_TIMEOUT=10 rtc run --bundle "$B" "$ID"
	echo THAWED >"$fz/$ID/freezer.state"
	assert_fails "run in a frozen cgroup"
	assert_contains "container's cgroup unexpectedly frozen" "$ERR" "the error"
	rt state "$ID" >/dev/null 2>&1 && fail "state $ID exists after the failed run"
	rmdir "$fz/$ID" || fail "the frozen cgroup is in use: $(cat "$fz/$ID/cgroup.procs")"
	assert_nothing_left "$ID"
}

# Issue 11 item 23: processes already in the cgroup: runc warns "container's
# cgroup is not empty: N process(es) found" (and goes on).
t_non_empty_cgroup_at_create() {
	local c d sleeper dirs=""
	new_bundle
	cfg_set .linux.cgroupsPath "\"/$ID\""
	cfg_args true
	sleep 1000 &
	sleeper=$!
	for c in devices pids; do
		d=$(cgroup_dir $c)
		[ -n "$d" ] || continue
		mkdir "$d/$ID"
		echo "$sleeper" >"$d/$ID/cgroup.procs"
		dirs="$dirs $d/$ID"
	done
	[ -n "$dirs" ] || { kill "$sleeper"; skip "no v1 devices or pids hierarchy"; }
	rtc create --bundle "$B" "$ID"
	local rc=$RC err=$ERR
	rt delete --force "$ID" >/dev/null 2>&1 || true
	kill "$sleeper"
	wait "$sleeper" 2>/dev/null || true
	for d in $(find /sys/fs/cgroup -maxdepth 5 -type d -name "$ID" | sort -r); do rmdir "$d" 2>/dev/null || true; done
	RC=$rc ERR=$err
	assert_rc 0 "create in a non-empty cgroup"
	assert_contains "container's cgroup is not empty: 1 process(es) found" "$ERR" "the warning"
}

# Issue 11 item 25: unified (cgroup v2) resources where the controller is
# on a v1 hierarchy: runc's "cannot use unified on cgroup v1", and nothing
# left behind.
t_unified_on_v1() {
	[ -n "$(cgroup_dir memory)" ] || skip "memory is not on a v1 hierarchy here"
	new_bundle
	cfg_set .linux.resources.unified '{"memory.max": "100000000"}'
	ct_run
	assert_fails "run with unified memory.max on v1"
	assert_clear_error "cannot use unified on cgroup v1" "run with unified on v1"
	assert_contains "cannot use unified on cgroup v1" "$ERR" "the error"
	assert_nothing_left "$ID"
}

t_cgroups_path() {
	new_bundle
	cfg_args sleep 100
	cfg_set .linux.cgroupsPath "\"/$PFX-cgpath\""
	ct_create
	local pid
	pid=$(rt state "$ID" | jget .pid)
	grep -q ":/$PFX-cgpath\$" /proc/"$pid"/cgroup || fail "linux.cgroupsPath not used: $(cat /proc/"$pid"/cgroup)"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	assert_nothing_left "$PFX-cgpath"
}

t_features() {
	rtc features extra
	assert_fails "features with an argument"
	rtc features --bogus
	assert_fails "features with an unknown flag"
	rtc features
	assert_rc 0 features
	local j=$OUT
	assert_match '^1\.' "$(echo "$j" | jget .ociVersionMin)" ociVersionMin
	assert_match '^1\.' "$(echo "$j" | jget .ociVersionMax)" ociVersionMax
	local h
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		assert_contains "\"$h\"" "$(echo "$j" | jget .hooks)" "features hooks"
	done
	local o
	for o in bind rbind ro nosuid nodev noexec; do
		assert_contains "\"$o\"" "$(echo "$j" | jget .mountOptions)" "features mountOptions"
	done
	local ns
	for ns in cgroup ipc mount network pid uts; do
		assert_contains "\"$ns\"" "$(echo "$j" | jget .linux.namespaces)" "features linux.namespaces"
	done
	assert_contains CAP_SYS_ADMIN "$(echo "$j" | jget .linux.capabilities)" "features linux.capabilities"
	echo "$j" | jget .linux.cgroup >/dev/null || fail "features lacks linux.cgroup"
}

t_spec_structure() {
	mkdir -p "$T/spec"
	rtc spec --bundle "$T/spec"
	assert_rc 0 "spec --bundle"
	[ -s "$T/spec/config.json" ] || fail "spec wrote no config.json"
	"$PY" "$OCICFG" gen "$T/ref.json" '["sh"]'
	local got want
	want=$("$PY" "$OCICFG" keys "$T/ref.json")
	got=$("$PY" "$OCICFG" keys "$T/spec/config.json")
	[ "$want" = "$got" ] || fail "spec structure differs from runc's: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
	local f expr
	for expr in "[m['destination'] for m in d['mounts']]" "[m['type'] for m in d['mounts']]" \
		"[n['type'] for n in d['linux']['namespaces']]" "d['linux']['maskedPaths']" \
		"d['linux']['readonlyPaths']" "d['process']['capabilities']" "d['root']" \
		"d['process']['args']" "d['process']['env']" "d['process']['rlimits']" \
		"d['linux']['resources']" "d['process']['noNewPrivileges']"; do
		want=$(jq_py "$expr" <"$T/ref.json")
		got=$(jq_py "$expr" <"$T/spec/config.json")
		assert_eq "$want" "$got" "spec: $expr"
	done
	assert_match '^1\.' "$(jget .ociVersion <"$T/spec/config.json")" "spec ociVersion"
	rtc spec --bundle "$T/spec"
	assert_fails "spec over an existing config.json"
	mkdir -p "$T/spec-rl"
	rtc spec --rootless --bundle "$T/spec-rl"
	assert_rc 0 "spec --rootless"
	assert_contains '"user"' "$(jq_py "[n['type'] for n in d['linux']['namespaces']]" <"$T/spec-rl/config.json")" "rootless namespaces"
	jq_py "d['linux']['uidMappings']" <"$T/spec-rl/config.json" >/dev/null || fail "rootless spec lacks uidMappings"
	# the runtime runs its own default spec (after the rootfs and a
	# non-terminal process are supplied)
	cp -a "$T/rootfs.tmpl" "$T/spec/rootfs"
	"$PY" "$OCICFG" set "$T/spec/config.json" .process.terminal false
	"$PY" "$OCICFG" set "$T/spec/config.json" .process.args '["sh", "-c", "echo spec-ok"]'
	rtc run --bundle "$T/spec" "$PFX-spec"
	assert_rc 0 "run of the runtime's own spec"
	assert_eq spec-ok "$OUT" "output of the runtime's own spec"
	# spec without --bundle writes to the cwd
	mkdir -p "$T/spec-cwd"
	(cd "$T/spec-cwd" && rt spec) || fail "spec in cwd"
	[ -s "$T/spec-cwd/config.json" ] || fail "spec wrote nothing to the cwd"
}

t_checkpoint_unsupported() {
	new_bundle
	cfg_args sleep 100
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc checkpoint --image-path "$T/ckpt" "$ID"
	assert_fails checkpoint
	[ "$IS_RUNC" = 1 ] || assert_clear_error 'not supported|unsupported'
	assert_eq running "$(status "$ID")" "status after failed checkpoint"
	rtc restore --image-path "$T/ckpt" --bundle "$B" "$PFX-restored"
	assert_fails restore
	[ "$IS_RUNC" = 1 ] || assert_clear_error 'not supported|unsupported'
	assert_nothing_left "$PFX-restored"
}

t_cli_errors() {
	rtc frobnicate
	assert_fails "unknown command"
	[ -n "$ERR" ] || fail "no message for an unknown command"
	rtc --frobnicate list
	assert_fails "unknown global flag"
	rtc list --frobnicate
	assert_fails "unknown list flag"
	# Whole names only: getopt would take --root for spec's --rootless.
	mkdir "$T/abbrev"
	RC=0
	(cd "$T/abbrev" && rt spec --root) >/dev/null 2>&1 || RC=$?
	assert_fails "spec --root (an abbreviation)"
	[ ! -e "$T/abbrev/config.json" ] || fail "spec --root wrote a config"
	rm -rf "$T/abbrev"
	rtc --deb list
	assert_fails "--deb (an abbreviation)"
	rtc list --qui
	assert_fails "list --qui (an abbreviation)"
	new_bundle
	rtc run --frobnicate --bundle "$B" "$ID"
	assert_fails "unknown run flag"
	assert_nothing_left "$ID"
	rtc state "$PFX-nosuch"
	assert_fails "state of an unknown container"
	rtc delete "$PFX-nosuch"
	assert_fails "delete of an unknown container"
	rtc start "$PFX-nosuch"
	assert_fails "start of an unknown container"
	rtc create
	assert_fails "create without an id"
	RC=0
	"$RUNTIME" --version >"$T/out" 2>&1 || RC=$?
	assert_rc 0 "--version"
	[ -s "$T/out" ] || fail "--version printed nothing"
	rtc --help
	assert_rc 0 "--help"
	# delete takes one id, as runc 1.1: with two it deletes neither
	new_bundle two
	cfg_args true
	ct_create
	rtc delete --force "$ID" "$ID"
	assert_fails "delete with two ids"
	assert_eq created "$(status "$ID")" "status after a refused delete of two ids"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	new_bundle
	# --rootless takes runc's values; anything else is refused, nothing made
	rtc --rootless maybe run --bundle "$B" "$ID"
	assert_fails "--rootless maybe"
	# runc's message names the value only
	[ "$IS_RUNC" = 1 ] || assert_match "rootless" "$ERR" "the error names --rootless"
	assert_nothing_left "$ID"
	local v
	for v in auto false true; do
		rtc --rootless "$v" run --bundle "$B" "$ID"
		assert_rc 0 "--rootless $v run"
	done
}

# The commands the top-level help lists (runc's layout: "   NAME[, ALIAS]  summary").
help_commands() {
	rtc --help
	assert_rc 0 "--help"
	printf '%s\n' "$OUT" | sed -n '/^COMMANDS:/,/^$/s/^   \([a-z]\+\)[, ].*/\1/p' | grep -vx help
}

# Does CMD take --NAME? Only a flag it lacks is "not defined" (runc's words
# too); the value is a path nothing can be written to, and the cwd an empty
# directory, so nothing runs.
takes_option() { # CMD NAME
	local dir=$T/takes-option
	mkdir -p "$dir"
	(cd "$dir" && rt "$1" "--$2" "$T/no/such/dir" >/dev/null 2>"$T/takes.err") || true
	rm -rf "$dir"
	! grep -q "flag provided but not defined: -\{1,2\}$2\b" "$T/takes.err"
}

t_help_lists_every_option() {
	local names cmds cmd name missing="" unlisted="" help_opts
	# Every option name in the CLI's tables (and some no command takes).
	names=$(grep -ohE '^[[:space:]]*\{ "[a-z][a-z-]+", ' "$SRCDIR"/src/rune/*.c |
		cut -d'"' -f2 | sort -u | grep -vx help)
	names="$names frobnicate"
	cmds=$(help_commands)
	[ "$(echo "$cmds" | wc -l)" -ge 15 ] || fail "commands in --help: '$cmds'"
	for cmd in $cmds; do
		# Not supported: any option gets that answer (rune), runc's own set (runc).
		case $cmd in checkpoint | restore) continue ;; esac
		rtc "$cmd" --help
		assert_rc 0 "$cmd --help"
		[ -n "$OUT" ] && [ -z "$ERR" ] || fail "$cmd --help: help on stdout only"
		help_opts=$(printf '%s\n' "$OUT" | sed -n '/^OPTIONS:/,$p')
		for name in $names; do
			takes_option "$cmd" "$name" || continue
			grep -qE -- "--$name([^a-z-]|\$)" <<<"$help_opts" ||
				missing="$missing $cmd:--$name"
		done
		for name in $(printf '%s\n' "$help_opts" | { grep -oE -- '--[a-z][a-z-]+' || :; }); do
			takes_option "$cmd" "${name#--}" || unlisted="$unlisted $cmd:$name"
		done
	done
	if [ "$IS_RUNC" = 1 ] && [ -n "$missing" ]; then
		# runc 1.1 hides its deprecated kernel memory flags from update's help.
		runc_quirk "options taken but not in the command's --help:$missing"
		missing=$(tr ' ' '\n' <<<"$missing" | grep -vx 'update:--kernel-memory\(-tcp\)\?' | tr '\n' ' ' | tr -s ' ')
		missing=${missing% }
		missing=${missing# }
	fi
	[ -z "$missing" ] || fail "options taken but not in the command's --help: $missing"
	[ -z "$unlisted" ] || fail "options in --help that the command refuses:$unlisted"
}

# rune's man pages (docs/man) describe every option its --help lists.
t_man_pages_list_every_option() {
	[ "$IS_RUNC" = 1 ] && skip "rune's own man pages"
	local cmd name page missing=""
	for cmd in "" $(help_commands); do
		page=$SRCDIR/docs/man/rune${cmd:+-$cmd}.8
		[ -f "$page" ] || { missing="$missing $page"; continue; }
		rtc ${cmd:-} --help
		for name in $(grep -oE -- '^   --[a-z][a-z-]+' <<<"$OUT" | sed 's/^ *--//'); do
			grep -qF -- "\\-\\-${name//-/\\-}" "$page" || missing="$missing ${cmd:-rune}:--$name"
		done
	done
	[ -z "$missing" ] || fail "not in the man pages:$missing"
}

# The CLI reaches librune through its public header: it compiles with
# include/ alone, so no internal header of another component is in reach.
t_cli_public_headers_only() {
	[ "$IS_RUNC" = 1 ] && skip "rune's sources"
	command -v cc >/dev/null || skip "no C compiler"
	local f
	for f in "$SRCDIR"/src/rune/*.c; do
		cc -std=gnu11 -D_GNU_SOURCE -fsyntax-only -I"$SRCDIR/include" -I"$BUILD/gen" "$f" \
			2>"$T/cc.err" || fail "$f needs more than include/: $(head -3 "$T/cc.err")"
	done
}

t_help_exec_options() {
	local opt
	rtc exec --help
	assert_rc 0 "exec --help"
	for opt in cgroup detach pid-file process tty env user cwd cap console-socket \
		preserve-fds no-new-privs additional-gids ignore-paused; do
		grep -qE -- "^ +--$opt[ ,]" <<<"$OUT" || fail "exec --help lacks --$opt"
	done
	local exec_help=$OUT
	rtc help exec
	assert_rc 0 "help exec"
	assert_eq "$exec_help" "$OUT" "help exec vs exec --help"
	rtc exec -h
	assert_eq "$exec_help" "$OUT" "exec -h vs exec --help"
}

t_unknown_command() {
	local what
	for what in frobnicate "help frobnicate" version; do
		rtc $what
		assert_rc 3 "$what"
		[ -z "$OUT" ] || fail "$what: wrote to stdout: $OUT"
		grep -qF "No help topic for '${what#help }'" <<<"$ERR" ||
			fail "$what: no 'No help topic' message"
	done
}

t_version_help_layout() {
	local flag
	for flag in --version -v; do
		rtc $flag
		assert_rc 0 "$flag"
		grep -qE '^(rune|runc) version [0-9]' <<<"${OUT%%$'\n'*}" ||
			fail "$flag: first line '${OUT%%$'\n'*}'"
		grep -qE '^commit: .' <<<"$OUT" || fail "$flag: no commit line"
		grep -qE '^spec: [0-9]' <<<"$OUT" || fail "$flag: no spec line"
		grep -qE '^libseccomp: [0-9]' <<<"$OUT" || fail "$flag: no libseccomp line"
	done
	rtc --help
	local top=$OUT
	for flag in help h; do
		rtc $flag
		assert_rc 0 "$flag"
		assert_eq "$top" "$OUT" "$flag vs --help"
	done
	for section in NAME USAGE VERSION COMMANDS "GLOBAL OPTIONS"; do
		grep -qx "$section:" <<<"$top" || fail "--help lacks $section:"
	done
	for flag in debug log log-format root systemd-cgroup help version; do
		grep -qE -- "^ +--$flag[ ,]" <<<"$top" || fail "--help lacks --$flag"
	done
}
tcase "run: exit status of the workload" t_run_exit_status
tcase "run: 128+N when killed by signal N" t_run_killed_by_signal
tcase "run: signals forwarded to the workload" t_run_forwards_signals
tcase "create/start/kill/delete and status transitions" t_create_start_delete
tcase "status stopped after the workload exits" t_stopped_after_exit
tcase "create/run refuse an existing id" t_create_duplicate_id
tcase "init killed outside the runtime: stopped, deletable" t_init_killed_outside
tcase "run passes stdin through" t_run_stdin
tcase "init exits leaving children (with and without a pid namespace)" t_run_orphans
tcase "run --no-subreaper: orphans go to the host's reaper" t_run_no_subreaper
tcase "64-hex ids under a deep --root; id characters" t_long_ids_and_root
tcase "parallel run/exec/delete on one root; concurrent create of one id" t_parallel
tcase "kill of a created container; start of a stopped one fails" t_kill_created_start_stopped
tcase "kill TERM/INT/HUP of a created container stops it" t_kill_term_created
tcase "--root created when missing" t_fresh_root_dir
tcase "delete of a created container without --force" t_delete_created_no_force
tcase "state JSON fields" t_state_fields
tcase "list table, --format json, -q" t_list_formats
tcase "list json: owner and runc's key order" t_list_json_owner_order
tcase "list table: columns aligned for long ids" t_list_table_long_ids
tcase "list json with no container: null" t_list_json_empty
tcase "delete refuses a running container without --force" t_delete_running_refused
tcase "delete --force of a created container" t_delete_created
tcase "ls and rm aliases" t_aliases
tcase "kill by name, SIG-name, number; default SIGTERM" t_kill_names_numbers
tcase "kill --all" t_kill_all
tcase "ps and ps --format json" t_ps
tcase "flags after the arguments (not for exec)" t_flags_after_args
tcase "kill with signal 0" t_kill_signal_zero
tcase "run --detach" t_run_detach
tcase "run --keep keeps the stopped container" t_run_keep
tcase "--pid-file on create and run" t_pid_file
tcase "bundle defaults to the cwd" t_default_bundle_cwd
tcase "create/run accept --no-new-keyring, --no-pivot" t_create_flags
tcase "bundle paths: relative, with a space; absolute root.path" t_bundle_paths
tcase "cgroup /<id> on every hierarchy, removed on delete" t_cgroup_default_path
tcase "linux.cgroupsPath" t_cgroups_path
tcase "create in a frozen cgroup fails at once" t_frozen_cgroup_at_create
tcase "create in a non-empty cgroup warns" t_non_empty_cgroup_at_create
tcase "unified resources on cgroup v1: runc's error" t_unified_on_v1
tcase "features JSON; no arguments or flags" t_features
tcase "spec matches runc's defaults; --rootless" t_spec_structure
tcase "checkpoint/restore: clear error" t_checkpoint_unsupported
tcase "unknown command/flag: non-zero exit" t_cli_errors
tcase "every command's --help lists every option it takes" t_help_lists_every_option
tcase "exec --help, exec -h and help exec list exec's options" t_help_exec_options
tcase "the man pages describe every option --help lists" t_man_pages_list_every_option
tcase "the CLI compiles with the public headers (include/) only" t_cli_public_headers_only
tcase "unknown commands and help topics: runc's message, exit 3" t_unknown_command
tcase "--version, help, h: runc's layout" t_version_help_layout
