#!/bin/bash
# timeout: 360
# containerd-shim-rune-v2 under containerd 1.6 (Debian), driven by ctr: a
# private containerd (root, state, sockets in a temp dir) whose PATH starts
# with the build's bin dir, so that the runtime io.containerd.rune.v2 finds
# the shim and the shim finds the rune beside it. The busybox image is made
# offline (mkimage.py) and imported. At the end (lib.sh's trap) nothing may
# be left: processes (the shim daemons included), mounts, cgroups, sockets.
CLIENT=shim
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/../clients/lib.sh"
need_pkgs containerd

SHIM=$BUILD/bin/containerd-shim-rune-v2
IMG=docker.io/library/rune-busybox:shim
RT=(--runtime io.containerd.rune.v2)
if [ ! -x "$SHIM" ]; then
	echo "not ok - shim: $SHIM built"
	exit 1
fi
# containerd (and so the shim) finds the shim and the rune beside it first
# on PATH; the shim reads $CT/shim.json, never the host's /etc/rune/shim.json
SHIM_JSON=$CT/shim.json
echo '{}' >"$SHIM_JSON"
chmod 0644 "$SHIM_JSON"
CTRD_ENV=("PATH=$BUILD/bin:$PATH" "RUNE_SHIM_CONFIG=$SHIM_JSON")
CTRD_LOG_LEVEL=debug
# shellcheck source=tests/clients/ctrd.sh
. "$CL_DIR/ctrd.sh"

client_stop() {
	ctrd_stop
	rmdir "/run/containerd/runc/$PFX" 2>/dev/null
	true
}

# the cases that write shim.json leave the empty one behind them
client_case_cleanup() {
	ctrd_case_cleanup
	echo '{}' >"$SHIM_JSON"
	chmod 0644 "$SHIM_JSON"
}

ctrd_start shim
ctrd_import shim

# ([c]: the pattern must not match the shell that runs pgrep)
shim_pids() { pgrep -f "[c]ontainerd-shim-rune-v2 -namespace $PFX " || true; }
no_shim() { [ -z "$(shim_pids)" ]; }
# on failure, what containerd logged about the shim
shim_log() { grep -i 'shim\|rune' "$CT/containerd.log" | tail -15 | sed 's/^/#   containerd: /'; }

t_version() {
	cl "$SHIM" -v
	assert_rc 0 "shim -v"
	assert_contains "containerd-shim-rune-v2" "$OUT" "shim -v"
}

t_run_output() {
	cl C run --rm "${RT[@]}" "$IMG" "$PFX-r1" sh -c 'echo hello from $(cat /proc/1/comm); echo to-stderr >&2'
	[ "$RC" = 0 ] || shim_log
	assert_rc 0 "ctr run"
	assert_contains "hello from sh" "$OUT" "container stdout"
	assert_contains to-stderr "$ERR" "container stderr"
	wait_for 10 no_shim ||
		fail "shim still running after ctr run --rm: $(shim_pids)"
}

t_exit_code() {
	cl C run --rm "${RT[@]}" "$IMG" "$PFX-r2" sh -c 'exit 7'
	assert_rc 7 "ctr run of 'exit 7'"
	# a foreground ctr run whose init is killed from outside: 128 + 9
	(
		rc=0
		timeout 30 ctr -a "$SOCK" -n "$PFX" run --rm "${RT[@]}" "$IMG" "$PFX-r3" sleep 1000 \
			</dev/null >/dev/null 2>&1 || rc=$?
		echo "$rc" >"$CT/r3.rc"
	) &
	wait_for 10 sh -c "C task ls | grep -q '$PFX-r3.*RUNNING'" || fail "task not RUNNING: $(C task ls)"
	cl_ok C task kill -s KILL "$PFX-r3"
	wait_for 15 test -s "$CT/r3.rc" || fail "ctr run did not return after the kill"
	wait
	assert_eq 137 "$(cat "$CT/r3.rc")" "ctr run of an init killed by SIGKILL"
}

t_detached_kill_rm() {
	cl_ok C run -d "${RT[@]}" "$IMG" "$PFX-d" sleep 1000
	wait_for 10 sh -c "C task ls | grep -q '$PFX-d.*RUNNING'" || fail "task not RUNNING: $(C task ls)"
	local pid shim
	pid=$(task_pid "$PFX-d")
	[ -d "/proc/$pid" ] || fail "init pid $pid not running"
	shim=$(shim_pids)
	[ -n "$shim" ] || fail "no shim daemon"
	# the init is the shim's child (subreaper), in the namespace/id cgroup
	assert_eq "$shim" "$(awk '{print $4}' "/proc/$pid/stat")" "init's parent"
	assert_contains "/$PFX/$PFX-d" "$(cgroup_of "$pid" memory)" "init's cgroup"
	cl_ok C task ps "$PFX-d"
	assert_contains "$pid" "$OUT" "ctr task ps"
	timeout 20 ctr -a "$SOCK" events >"$CT/pevents" 2>&1 &
	local ev=$!
	sleep 0.5
	cl_ok C task pause "$PFX-d"
	assert_eq PAUSED "$(task_status "$PFX-d")" "status after pause"
	cl_ok C task resume "$PFX-d"
	assert_eq RUNNING "$(task_status "$PFX-d")" "status after resume"
	wait_for 10 grep -q "/tasks/resumed.*$PFX-d" "$CT/pevents" || true
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null || true
	assert_eq "/tasks/paused /tasks/resumed " \
		"$(grep "$PFX-d" "$CT/pevents" | grep -o '/tasks/[a-z-]*' | tr '\n' ' ')" "pause/resume events"
	# sleep as pid 1 has no SIGTERM handler: KILL
	cl_ok C task kill -s KILL "$PFX-d"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-d.*STOPPED'" || fail "task not STOPPED: $(C task ls)"
	cl C task kill "$PFX-d"
	assert_fails "kill of a finished task"
	cl_ok C task rm "$PFX-d"
	cl_ok C container rm "$PFX-d"
	wait_for 10 no_shim ||
		fail "shim still running after ctr task rm"
	[ ! -e "/proc/$pid" ] || [ "$(state_of "$pid")" = Z ] || fail "init $pid still there"
	! grep -q "$PFX-d" /proc/self/mountinfo || fail "rootfs still mounted"
}

t_socket_address() {
	cl_ok C run -d "${RT[@]}" "$IMG" "$PFX-a" sleep 1000
	local want
	want=unix:///run/containerd/s/$(printf '%s' "$SOCK/$PFX/$PFX-a" | sha256sum | cut -d' ' -f1)
	assert_eq "$want" "$(cat "$CT/state/io.containerd.runtime.v2.task/$PFX/$PFX-a/address")" \
		"bundle's address (sha256 of address/namespace/id)"
	[ -S "${want#unix://}" ] || fail "no socket ${want#unix://}"
	assert_eq 600 "$(stat -c %a "${want#unix://}")" "socket mode"
}

# containerd runs `shim delete` when the shim dies: rune delete --force, rootfs unmounted
t_shim_killed() {
	cl_ok C run -d "${RT[@]}" --fifo-dir "$CT/fifo" "$IMG" "$PFX-k" sleep 1000
	local pid shim
	pid=$(task_pid "$PFX-k")
	shim=$(shim_pids)
	kill -KILL "$shim"
	wait_for 20 sh -c "! C task ls | grep -q '$PFX-k.*RUNNING'" || fail "task still RUNNING: $(C task ls)"
	wait_for 10 sh -c "[ ! -e /proc/$pid ]" || fail "init $pid still there after shim delete"
	C task rm -f "$PFX-k" >/dev/null 2>&1 || true
	cl_ok C container rm "$PFX-k"
	! grep -q "$PFX-k" /proc/self/mountinfo || fail "rootfs still mounted"
	local sock
	sock=$(printf '%s' "$SOCK/$PFX/$PFX-k" | sha256sum | cut -d' ' -f1)
	[ ! -e "/run/containerd/s/$sock" ] || fail "the dead shim's socket is still there"
}

# the events the shim forwards over TTRPC_ADDRESS reach containerd's subscribers, in order
t_events() {
	timeout 20 ctr -a "$SOCK" events >"$CT/events" 2>&1 &
	local ev=$!
	sleep 0.5
	cl_ok C run --rm "${RT[@]}" "$IMG" "$PFX-e" true
	wait_for 10 grep -q "/tasks/delete.*$PFX-e" "$CT/events" || true
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null || true
	local topics
	topics=$(grep "$PFX-e" "$CT/events" | grep -o '/tasks/[a-z]*' | tr '\n' ' ')
	assert_eq "/tasks/create /tasks/start /tasks/exit /tasks/delete " "$topics" "task events"
}

t_create_error() {
	cl C run --rm "${RT[@]}" "$IMG" "$PFX-x" /no/such/binary
	assert_fails "ctr run of a missing binary"
	assert_contains /no/such/binary "$ERR" "ctr's error (rune's message)"
	echo "# ctr: $ERR"
}

t_timing() {
	local t0 t1
	t0=$(date +%s%N)
	for i in 1 2 3 4 5; do cl_ok C run --rm "${RT[@]}" "$IMG" "$PFX-t$i" true; done
	t1=$(date +%s%N)
	echo "# ctr run --rm true, rune's shim: $(((t1 - t0) / 5000000)) ms each (mean of 5)" >&3
	# the same with containerd's runc v2 shim running rune, for comparison
	t0=$(date +%s%N)
	for i in 1 2 3 4 5; do
		cl_ok C run --rm --runc-binary "$RUNE" --runc-root "$CT/rs" "$IMG" "$PFX-g$i" true
	done
	t1=$(date +%s%N)
	echo "# ctr run --rm true, containerd-shim-runc-v2 + rune: $(((t1 - t0) / 5000000)) ms each" >&3
}

# containers with one group annotation share one shim, which outlives the first
# one's Delete and Shutdown and exits with the last (how CRI pods are served)
t_group() {
	local g=(--annotation "io.containerd.runc.v2.group=$PFX-grp")
	cl_ok C run -d "${RT[@]}" "${g[@]}" "$IMG" "$PFX-g1" sleep 1000
	cl_ok C run -d "${RT[@]}" "${g[@]}" "$IMG" "$PFX-g2" sleep 1000
	local shims
	shims=$(shim_pids)
	assert_eq 1 "$(echo "$shims" | wc -w)" "shim daemons for two grouped containers"
	local pid1 pid2
	pid1=$(task_pid "$PFX-g1")
	pid2=$(task_pid "$PFX-g2")
	assert_eq "$shims" "$(awk '{print $4}' "/proc/$pid2/stat")" "second init's parent"
	cl_ok C task kill -s KILL "$PFX-g1"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-g1.*STOPPED'" || fail "g1 not STOPPED"
	cl_ok C task rm "$PFX-g1"
	sleep 0.5
	assert_eq "$shims" "$(shim_pids)" "shim after the first container's delete"
	assert_eq RUNNING "$(task_status "$PFX-g2")" "second container"
	cl_ok C task kill -s KILL "$PFX-g2"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-g2.*STOPPED'" || fail "g2 not STOPPED"
	cl_ok C task rm "$PFX-g2"
	wait_for 10 no_shim || fail "shim still running after the last container: $(shim_pids)"
	[ -n "$pid1" ] && [ -n "$pid2" ]
}

t_unimplemented() {
	cl_ok C run -d "${RT[@]}" "$IMG" "$PFX-u" sleep 1000
	cl C task checkpoint "$PFX-u"
	assert_fails "ctr task checkpoint (not implemented)"
	assert_contains "method Checkpoint: not implemented" "$ERR" "ctr's error"
	echo "# ctr: $ERR"
	assert_eq RUNNING "$(task_status "$PFX-u")" "status after a refused call"
}

bg_exec() { # EXEC-ID ARGS...: ctr task exec in the background, its status in $CT/EXEC-ID.rc
	local e=$1
	shift
	(
		rc=0
		timeout 30 ctr -a "$SOCK" -n "$PFX" task exec --exec-id "$e" "$PFX-x" "$@" \
			</dev/null >/dev/null 2>&1 || rc=$?
		echo "$rc" >"$CT/$e.rc"
	) &
}

run_bg() { # ID ARGS...: a detached sleep 1000 task
	local id=$1
	shift
	cl_ok C run -d "${RT[@]}" "$@" "$IMG" "$id" sleep 1000
	wait_for 10 sh -c "C task ls | grep -q '$id.*RUNNING'" || fail "task $id not RUNNING: $(C task ls)"
}

# exec: output, exit status, events, ps, a duplicate id, kill of an exec,
# an exec on a stopped task refused
t_exec() {
	timeout 40 ctr -a "$SOCK" events >"$CT/xevents" 2>&1 &
	local ev=$!
	sleep 0.5
	run_bg "$PFX-x"
	cl C task exec --exec-id e1 "$PFX-x" sh -c 'echo out-$((6*7)); echo err >&2; exit 3'
	assert_rc 3 "ctr task exec of 'exit 3'"
	assert_contains out-42 "$OUT" "exec stdout"
	assert_contains err "$ERR" "exec stderr"
	# a second exec with the same id while the first one runs
	# (foreground execs in the background: ctr -d would leave its FIFOs)
	bg_exec e2 sleep 1000
	wait_for 10 sh -c "C task ps $PFX-x | grep -c '^ *[0-9]' | grep -qx 2" || fail "exec e2 not running"
	cl C task exec --exec-id e2 "$PFX-x" true
	assert_fails "a second exec with the id of a running one"
	assert_contains "already exists" "$ERR" "ctr's error"
	cl_ok C task ps "$PFX-x"
	[ "$(echo "$OUT" | grep -c '^ *[0-9]')" -ge 2 ] || fail "ctr task ps: init and exec expected: $OUT"
	echo "$OUT" | sed 's/^/# ps: /'
	assert_match '[0-9]+ +.*e2' "$OUT" "ctr task ps: the exec's id (ProcessDetails)"
	# a foreground exec killed through its exec id returns 128 + 9
	bg_exec e3 sleep 1000
	wait_for 10 sh -c "C task ps $PFX-x | grep -c '^ *[0-9]' | grep -qx 3" || fail "exec e3 not running"
	cl_ok C task kill --exec-id e3 -s KILL "$PFX-x"
	wait_for 15 test -s "$CT/e3.rc" || fail "ctr task exec did not return after the kill"
	assert_eq 137 "$(cat "$CT/e3.rc")" "ctr task exec of an exec killed by SIGKILL"
	cl C task kill --exec-id nosuch "$PFX-x"
	assert_fails "kill of an unknown exec"
	assert_contains "nosuch" "$ERR" "ctr's error"
	# the init dies: its exec (e2) is gone too, and its exit comes first
	cl_ok C task kill -s KILL "$PFX-x"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-x.*STOPPED'" || fail "task not STOPPED"
	cl C task exec --exec-id e4 "$PFX-x" true
	assert_fails "exec in a stopped task"
	assert_contains "not running" "$ERR" "ctr's error"
	wait_for 15 test -s "$CT/e2.rc" || fail "ctr task exec did not return after the init's kill"
	assert_eq 137 "$(cat "$CT/e2.rc")" "ctr task exec of an exec killed with its init"
	cl_ok C task rm "$PFX-x"
	wait_for 10 grep -q "/tasks/delete.*$PFX-x" "$CT/xevents" || true
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null || true
	local topics
	topics=$(grep "$PFX-x" "$CT/xevents" | grep -v '/tasks/exit.*e3' | grep -v 'e3\|e2' |
		grep -o '/tasks/[a-z-]*' | tr '\n' ' ')
	assert_eq "/tasks/create /tasks/start /tasks/exec-added /tasks/exec-started /tasks/exit /tasks/exit /tasks/delete " \
		"$topics" "events of the task and exec e1"
	assert_contains '"id":"e1","pid"' "$(grep "/tasks/exit.*$PFX-x" "$CT/xevents")" "e1's exit event"
	# e2's exit (killed with the init) is published before the init's
	local order
	order=$(grep "/tasks/exit.*$PFX-x" "$CT/xevents" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 |
		grep -v 'e1\|e3' | tr '\n' ' ')
	assert_eq "e2 $PFX-x " "$order" "exits after the init's kill (the exec's first)"
}

# stdin reaches the process and its end closes the process's stdin (cat
# returns): ctr sends CloseIO, then closes its FIFO
t_stdin() {
	local out rc=0
	out=$(printf 'hi from stdin\n' | timeout 30 ctr -a "$SOCK" -n "$PFX" run --rm "${RT[@]}" "$IMG" \
		"$PFX-i" cat 2>"$CT/i.err") || rc=$?
	assert_eq 0 "$rc" "ctr run of cat with stdin (124: stdin never closed) $(cat "$CT/i.err")"
	assert_eq "hi from stdin" "$out" "cat's output"
	run_bg "$PFX-x"
	out=$(printf 'to the exec\n' | timeout 30 ctr -a "$SOCK" -n "$PFX" task exec --exec-id i1 \
		"$PFX-x" sh -c 'cat; echo done' 2>"$CT/i.err") || rc=$?
	assert_eq 0 "$rc" "ctr task exec of cat with stdin $(cat "$CT/i.err")"
	assert_eq "to the exec
done" "$out" "the exec's output"
}

# a reader of the stdout FIFO that comes late: the process waits (the copy
# stops reading while the FIFO is full) and nothing is lost; output still
# on its way when the task is deleted goes on to the reader.
# (ctr itself is no such reader: `ctr run | slow` loses the end of the
# output with containerd's runc shim too, so the test reads the FIFO of a
# detached task.)
fifo_of() { ls "$CT"/fifo/*/"$1"-stdout; }
t_slow_reader() {
	local n
	# (sleep 1: ctr -d reads the FIFO until it exits)
	cl_ok C run -d "${RT[@]}" --fifo-dir "$CT/fifo" "$IMG" "$PFX-s" \
		sh -c 'sleep 1; head -c 300000 /dev/zero; echo; echo END'
	sleep 3
	assert_eq RUNNING "$(task_status "$PFX-s")" "a writer blocked on a full FIFO"
	n=$(timeout 20 cat "$(fifo_of "$PFX-s")" | wc -c)
	assert_eq 300005 "$n" "bytes read late"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-s.*STOPPED'" || fail "task not STOPPED: $(C task ls)"
	cl_ok C task rm "$PFX-s"
	# 90000 bytes: 64 KiB fit in the FIFO, the rest waits in the shim
	cl_ok C run -d "${RT[@]}" --fifo-dir "$CT/fifo" "$IMG" "$PFX-s2" sh -c 'sleep 1; head -c 90000 /dev/zero'
	# the reader opens the FIFO now (task rm removes it), reads after the rm
	timeout 30 sh -c 'exec <"$1"; sleep 4; wc -c' _ "$(fifo_of "$PFX-s2")" >"$CT/s2.n" &
	local rd=$!
	wait_for 10 sh -c "C task ls | grep -q '$PFX-s2.*STOPPED'" || fail "task not STOPPED: $(C task ls)"
	cl_ok C task rm "$PFX-s2"
	wait "$rd" || fail "the reader failed"
	assert_eq 90000 "$(cat "$CT/s2.n")" "bytes read after the task was deleted"
	wait_for 10 no_shim || fail "shim still running after its output was read: $(shim_pids)"
	rm -rf "$CT/fifo"
}

# output nobody reads (ctr run -d gone): after the task is deleted the shim
# drops it once nothing has moved for 10 s, and exits (well before its 60 s cap)
t_unread_output() {
	cl_ok C run -d "${RT[@]}" --fifo-dir "$CT/fifo" "$IMG" "$PFX-n" \
		sh -c 'sleep 1; head -c 300000 /dev/zero; sleep 1000'
	sleep 2
	cl_ok C task kill -s KILL "$PFX-n"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-n.*STOPPED'" || fail "task not STOPPED: $(C task ls)"
	cl_ok C task rm "$PFX-n"
	local t0=$SECONDS
	wait_for 25 no_shim || fail "shim still running with unread output: $(shim_pids)"
	echo "# shim gone $((SECONDS - t0)) s after the delete"
	[ $((SECONDS - t0)) -ge 8 ] || fail "the output was not waited for"
	rm -rf "$CT/fifo"
}

# --log-uri file:///PATH: stdout and stderr appended to the file
t_log_file() {
	# (the file's directory is made)
	cl_ok C run --rm "${RT[@]}" --log-uri "file://$CT/logs/c.log" "$IMG" "$PFX-lf" \
		sh -c 'echo to-stdout; echo to-stderr >&2'
	assert_eq "to-stdout
to-stderr" "$(cat "$CT/logs/c.log")" "the log file"
	cl C run --rm "${RT[@]}" --log-uri "file://relative/x" "$IMG" "$PFX-lf2" true
	assert_fails "a file:// URI without an absolute path"
	assert_contains "not an absolute file path" "$ERR" "ctr's error"
	cl C run --rm "${RT[@]}" --log-uri "syslog://x" "$IMG" "$PFX-lf3" true
	assert_fails "an unknown stdio scheme"
	assert_contains "syslog://x: unknown scheme" "$ERR" "ctr's error"
}

# --log-uri binary:///PROGRAM?ARGS: the logger reads fds 3 and 4, closes 5
t_log_binary() {
	cat >"$CT/logger.sh" <<'LOGGER'
#!/bin/sh
# argv from the URI query: out FILE err FILE
echo "$CONTAINER_NAMESPACE/$CONTAINER_ID" >"$2.env"
exec 5>&-
cat <&4 >"$4" &
cat <&3 >"$2"
wait
LOGGER
	chmod 0755 "$CT/logger.sh"
	cl_ok C run --rm "${RT[@]}" --log-uri "binary://$CT/logger.sh?out=$CT/lo&err=$CT/le" "$IMG" \
		"$PFX-lb" sh -c 'echo to-stdout; echo to-stderr >&2'
	wait_for 5 grep -q to-stdout "$CT/lo" || true
	assert_eq to-stdout "$(cat "$CT/lo")" "the logger's stdout file"
	assert_eq to-stderr "$(cat "$CT/le")" "the logger's stderr file"
	assert_eq "$PFX/$PFX-lb" "$(cat "$CT/lo.env")" "the logger's environment"
	cl C run --rm "${RT[@]}" --log-uri "binary://$CT/no-such-logger" "$IMG" "$PFX-lb2" true
	assert_fails "a missing logger"
	assert_contains "no-such-logger" "$ERR" "ctr's error"
}

# ctr -t: the pty master comes through --console-socket, ctr's window size
# reaches it (ResizePty: ctr sends it after Start, hence the sleeps), what
# is typed reaches the process
t_tty() {
	local c="ctr -a $SOCK -n $PFX"
	cl_tty sh -c "stty rows 22 cols 77; $c run --rm -t ${RT[*]} $IMG $PFX-t sh -c 'sleep 1; tty; stty size; exit 4'"
	assert_rc 4 "ctr run -t of 'exit 4'"
	assert_contains /dev/pts/ "$OUT" "tty in the container"
	assert_contains "22 77" "$OUT" "window size in the container"
	run_bg "$PFX-x"
	cl_tty sh -c "stty rows 33 cols 99; $c task exec -t --exec-id t1 $PFX-x sh -c 'sleep 1; tty; stty size'"
	assert_rc 0 "ctr task exec -t"
	assert_contains /dev/pts/ "$OUT" "tty in the exec"
	assert_contains "33 99" "$OUT" "window size in the exec"
	# typed input: script(1) passes its stdin on to the terminal
	printf 'echo typed-$((6*7))\nexit 5\n' >"$CT/typed"
	CMD="ctr task exec -t sh, typed input"
	RC=0
	timeout -k 5 30 script -qefc "$c task exec -t --exec-id t2 $PFX-x sh" /dev/null \
		<"$CT/typed" >"$CT/.out" 2>&1 || RC=$?
	OUT=$(tr -d '\r' <"$CT/.out")
	assert_rc 5 "ctr task exec -t of sh that reads 'exit 5'"
	assert_contains typed-42 "$OUT" "output of a typed command"
}

# ctr task metrics: the cgroup statistics (v1 Metrics on this hybrid host);
# Tasks.Update (ctr 1.6 has no command: ctrd_update.py): resources passed
# on to rune update
t_metrics_update() {
	run_bg "$PFX-x"
	local pid
	pid=$(task_pid "$PFX-x")
	cl_ok C task metrics "$PFX-x"
	echo "$OUT" | sed 's/^/# /'
	assert_match 'pids.current +1' "$OUT" "ctr task metrics: pids"
	assert_match 'memory.usage_in_bytes +[1-9]' "$OUT" "ctr task metrics: memory"
	assert_match 'cpuacct.usage +[1-9]' "$OUT" "ctr task metrics: cpu"
	cl_ok "$PY" "$CL_DIR/ctrd_update.py" "$SOCK" "$PFX" "$PFX-x" '{"memory":{"limit":67108864}}'
	assert_eq 67108864 "$(memory_limit_of "$pid")" "memory limit after ctr task update"
	cl_ok C task metrics "$PFX-x"
	assert_match 'memory.limit_in_bytes +67108864' "$OUT" "ctr task metrics: the new limit"
	cl "$PY" "$CL_DIR/ctrd_update.py" "$SOCK" "$PFX" "$PFX-x" '{"memory":{"limit":"many"}}'
	assert_fails "a malformed memory limit"
	assert_contains memory "$ERR" "rune's error"
	echo "# $ERR"
}

# containerd restarted with containers running: the shims live on, their
# address files let containerd reconnect; an exit while it was down is
# seen (State) after, an exit after reaches it as an event
t_restart() {
	run_bg "$PFX-ra"
	run_bg "$PFX-rb"
	local pa cp
	pa=$(task_pid "$PFX-ra")
	cp=$(cat "$CT/cpid" 2>/dev/null || echo "$CPID")
	kill -TERM "$cp"
	wait_for 10 sh -c "! kill -0 $cp" || fail "containerd did not stop"
	[ "$(shim_pids | wc -w)" = 2 ] || fail "shims gone with containerd: $(shim_pids)"
	kill -KILL "$pa"
	sleep 0.5
	local from=$(($(wc -l <"$CT/containerd.log") + 1))
	ctrd_launch || fail "containerd did not come back"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-ra.*STOPPED'" ||
		fail "a task whose init died while containerd was down: $(C task ls)"
	# its TaskExit waited in the shim's queue and reached the new containerd
	wait_for 10 sh -c "tail -n +$from '$CT/containerd.log' |
		grep -q 'event forwarded.*ns=$PFX topic=/tasks/exit'" ||
		fail "the exit that happened while containerd was down was never forwarded"
	assert_eq RUNNING "$(task_status "$PFX-rb")" "the other task after the restart"
	cl_ok C task exec --exec-id r1 "$PFX-rb" sh -c 'echo still managed'
	assert_contains "still managed" "$OUT" "exec after the restart"
	cl_ok C task kill -s KILL "$PFX-rb"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-rb.*STOPPED'" || fail "task not STOPPED: $(C task ls)"
	cl_ok C task rm "$PFX-ra"
	cl_ok C task rm "$PFX-rb"
	wait_for 10 no_shim || fail "shims still running: $(shim_pids)"
}

# an OOM kill in the container's memory cgroup: /tasks/oom before the exit
t_oom() {
	timeout 30 ctr -a "$SOCK" events >"$CT/oevents" 2>&1 &
	local ev=$!
	sleep 0.5
	cl C run --rm "${RT[@]}" --memory-limit 16777216 "$IMG" "$PFX-o" \
		sh -c 'dd if=/dev/zero bs=1M count=64 2>/dev/null | tail >/dev/null'
	assert_rc 137 "ctr run of a process killed by the OOM killer"
	wait_for 10 grep -q "/tasks/delete.*$PFX-o" "$CT/oevents" || true
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null || true
	# (one OOM may be noticed more than once, as with containerd's own shim)
	assert_eq "/tasks/create /tasks/start /tasks/oom /tasks/exit /tasks/delete " \
		"$(grep "$PFX-o" "$CT/oevents" | grep -o '/tasks/[a-z-]*' | uniq | tr '\n' ' ')" "events"
}

t_memory() {
	cl_ok C run -d "${RT[@]}" "$IMG" "$PFX-m" sleep 1000
	local shim priv rss
	shim=$(shim_pids)
	priv=$(awk '/^Private_(Clean|Dirty)/ { s += $2 } END { print s }' "/proc/$shim/smaps_rollup")
	rss=$(awk '/^Rss/ { print $2 }' "/proc/$shim/smaps_rollup")
	echo "# shim daemon: private ${priv} KiB, RSS ${rss} KiB" >&3
}

# ---------------------------------------------------------------- options

# wrapper NAME: $CT/NAME, a runtime that logs its arguments to $CT/NAME.log
# and runs rune
wrapper() {
	cat >"$CT/$1" <<WRAP
#!/bin/sh
echo "\$*" >>"$CT/$1.log"
exec "$RUNE" "\$@"
WRAP
	chmod 0755 "$CT/$1"
}
write_shim_json() { # TEXT [MODE]
	printf '%s\n' "$1" >"$SHIM_JSON"
	chmod "${2:-0644}" "$SHIM_JSON"
}
# rune's state dir of a running container under ROOT (the namespace appended)
state_in() { [ -d "$1/$PFX/$2" ]; }

# containerd.runc.v1.Options in the task's options (as the CRI sends for a
# handler of runc's type; ctr sends them only to runc's shim: ctrd_task.py)
t_runc_options() {
	wrapper wrap-b
	cl_ok C container create "${RT[@]}" "$IMG" "$PFX-ob" -- sh -c 'exit 3'
	cl "$PY" "$CL_DIR/ctrd_task.py" "$SOCK" "$PFX" "$PFX-ob" --binary-name "$CT/wrap-b" \
		--root "$CT/broot"
	[ "$RC" = 0 ] || shim_log
	assert_rc 0 "a task with containerd.runc.v1.Options"
	assert_eq 3 "$OUT" "the task's exit status"
	assert_match "--root $CT/broot/$PFX .*create --bundle" "$(cat "$CT/wrap-b.log")" \
		"BinaryName ran create with Root/<namespace>"
	assert_contains "delete" "$(cat "$CT/wrap-b.log")" "BinaryName ran delete too"
	cl_ok C container rm "$PFX-ob"
	cl_ok C container create "${RT[@]}" "$IMG" "$PFX-ob2" true
	cl "$PY" "$CL_DIR/ctrd_task.py" "$SOCK" "$PFX" "$PFX-ob2" --binary-name "no-such-rune-$PFX"
	assert_fails "a BinaryName found nowhere"
	assert_contains "BinaryName \"no-such-rune-$PFX\": not found on PATH" "$ERR" "the error"
}

# runtimeoptions.v1.Options: ctr --runtime-config-path, a shim.json of the
# request's own, over the node's shim.json and its handler section
t_config_path() {
	wrapper wrap-h
	write_shim_json "{\"root\": \"$CT/noderoot\",
		\"handlers\": {\"h1\": {\"rune\": \"$CT/wrap-h\"}}}"
	local h=(--annotation io.kubernetes.cri.runtime-handler=h1)
	# the node's defaults and the handler's section
	run_bg "$PFX-c1" "${h[@]}"
	state_in "$CT/noderoot" "$PFX-c1" || fail "no state under the node's root: $(ls -R "$CT/noderoot" 2>&1 | head -5)"
	assert_contains "create --bundle" "$(cat "$CT/wrap-h.log")" "the handler's rune"
	# no handler: the node's defaults only
	run_bg "$PFX-c2"
	state_in "$CT/noderoot" "$PFX-c2" || fail "no state under the node's root"
	assert_eq 0 "$(grep -c "$PFX-c2" "$CT/wrap-h.log" || true)" "runs of the handler's rune without the handler"
	# the request's shim.json wins over the node's
	printf '{"root": "%s"}\n' "$CT/reqroot" >"$CT/req.json"
	chmod 0644 "$CT/req.json"
	run_bg "$PFX-c3" "${h[@]}" --runtime-config-path "$CT/req.json"
	state_in "$CT/reqroot" "$PFX-c3" || fail "no state under the request's root: $(ls -R "$CT" | head)"
	state_in "$CT/noderoot" "$PFX-c3" && fail "state under the node's root"
	assert_match "--root $CT/reqroot/$PFX .*create" "$(cat "$CT/wrap-h.log")" \
		"the handler's rune (node) with the request's root"
	cl_ok C task exec --exec-id e1 "$PFX-c3" true
	cl_ok C task kill -s KILL "$PFX-c3"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-c3.*STOPPED'" || fail "task not STOPPED"
	cl_ok C task rm "$PFX-c3"
	state_in "$CT/reqroot" "$PFX-c3" && fail "state left under the request's root"
	# the body of runtimeoptions.v1.Options is a shim.json too
	cl_ok C container create "${RT[@]}" "$IMG" "$PFX-c4" -- sh -c 'exit 4'
	cl "$PY" "$CL_DIR/ctrd_task.py" "$SOCK" "$PFX" "$PFX-c4" \
		--config-body "{\"rune\": \"$CT/wrap-h\", \"root\": \"$CT/bodyroot\"}"
	assert_rc 0 "a task with a ConfigBody"
	assert_eq 4 "$OUT" "its exit status"
	assert_match "--root $CT/bodyroot/$PFX .*create" "$(cat "$CT/wrap-h.log")" "ConfigBody's rune and root"
	# or the handler's options table as TOML (what containerd 1.7+ sends)
	cl_ok C container create "${RT[@]}" "$IMG" "$PFX-c5" -- sh -c 'exit 5'
	cl "$PY" "$CL_DIR/ctrd_task.py" "$SOCK" "$PFX" "$PFX-c5" \
		--config-body "$(printf 'TypeUrl = ""\nrune = "%s"\nroot = "%s"\n' "$CT/wrap-h" "$CT/tomlroot")"
	assert_rc 0 "a task with a TOML ConfigBody"
	assert_eq 5 "$OUT" "its exit status"
	assert_match "--root $CT/tomlroot/$PFX .*create" "$(cat "$CT/wrap-h.log")" "the TOML's rune and root"
	cl_ok C container create "${RT[@]}" "$IMG" "$PFX-c6" true
	cl "$PY" "$CL_DIR/ctrd_task.py" "$SOCK" "$PFX" "$PFX-c6" --config-body "$(printf 'root = "/x"\n[handlers.h]\n')"
	assert_fails "a ConfigBody with a TOML table"
	assert_contains "ConfigBody (TOML): line 2: tables are not supported" "$ERR" "the error"
}

# containerd's `shim delete` after a dead shim gets no options: it runs the
# rune and root Create chose (rune-shim.json in the bundle)
t_delete_saved() {
	wrapper wrap-k
	printf '{"rune": "%s", "root": "%s"}\n' "$CT/wrap-k" "$CT/kroot" >"$CT/req.json"
	chmod 0644 "$CT/req.json"
	# (ctr's FIFOs in $CT: a dead shim leaves them, ctr -d does not remove them)
	run_bg "$PFX-k2" --runtime-config-path "$CT/req.json" --fifo-dir "$CT/fifo"
	state_in "$CT/kroot" "$PFX-k2" || fail "no state under the request's root"
	local pid
	pid=$(task_pid "$PFX-k2")
	kill -KILL "$(shim_pids)"
	wait_for 20 sh -c "! C task ls | grep -q '$PFX-k2.*RUNNING'" || fail "task still RUNNING: $(C task ls)"
	wait_for 10 sh -c "[ ! -e /proc/$pid ]" || fail "init $pid still there after shim delete"
	assert_match "--root $CT/kroot/$PFX .*delete --force $PFX-k2" "$(cat "$CT/wrap-k.log")" \
		"shim delete ran the container's rune with its root"
	state_in "$CT/kroot" "$PFX-k2" && fail "state left under the request's root"
	C task rm -f "$PFX-k2" >/dev/null 2>&1 || true
	cl_ok C container rm "$PFX-k2"
}

# assert_one_line_error WHAT TEXT: ctr failed, its error one line carrying TEXT
assert_one_line_error() {
	assert_fails "$1"
	assert_contains "$2" "$ERR" "ctr's error"
	assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "lines of ctr's error"
	echo "# ctr: $ERR"
}

t_config_bad() {
	write_shim_json '{"rune": "/usr/bin/rune",}'
	cl C run --rm "${RT[@]}" "$IMG" "$PFX-m1" true
	assert_one_line_error "ctr run with a malformed shim.json" "$SHIM_JSON: line 1 column"
	write_shim_json '{"handlers": {"h": {"rune": "rune"}}}'
	cl C run --rm "${RT[@]}" "$IMG" "$PFX-m2" true
	assert_one_line_error "ctr run with a relative rune in shim.json" \
		"$SHIM_JSON: handler \"h\": \"rune\": \"rune\" is not an absolute path"
	write_shim_json '{}'
	printf '{"root": 1}\n' >"$CT/req.json"
	chmod 0644 "$CT/req.json"
	cl C run --rm "${RT[@]}" --runtime-config-path "$CT/req.json" "$IMG" "$PFX-m3" true
	assert_one_line_error "ctr run with a malformed --runtime-config-path" \
		"$CT/req.json: \"root\": not a string"
	cl C run --rm "${RT[@]}" --runtime-config-path "$CT/no-such.json" "$IMG" "$PFX-m4" true
	assert_one_line_error "ctr run with a missing --runtime-config-path" \
		"$CT/no-such.json: No such file"
}

t_config_writable() {
	write_shim_json '{}' 0664
	cl C run --rm "${RT[@]}" "$IMG" "$PFX-w1" true
	assert_one_line_error "ctr run with a group-writable shim.json" \
		"$SHIM_JSON: writable by group or others (mode 0664): refused"
	write_shim_json '{}' 0644
	printf '{}\n' >"$CT/req.json"
	chmod 0602 "$CT/req.json"
	cl C run --rm "${RT[@]}" --runtime-config-path "$CT/req.json" "$IMG" "$PFX-w2" true
	assert_one_line_error "ctr run with an other-writable --runtime-config-path" \
		"$CT/req.json: writable by group or others (mode 0602): refused"
	rm -f "$CT/req.json"
	cl_ok C run --rm "${RT[@]}" "$IMG" "$PFX-w3" true
}

exec 3>&1
tcase "shim: -v" t_version
tcase "shim: ctr run --rm, stdout and stderr, shim gone after" t_run_output
tcase "shim: exit codes (7, 137)" t_exit_code
tcase "shim: detached run, ps, pause/resume (and their events), kill, task rm, nothing left" t_detached_kill_rm
tcase "shim: socket under /run/containerd/s named as the reference does" t_socket_address
tcase "shim: a killed shim is cleaned up by 'shim delete'" t_shim_killed
tcase "shim: task events create, start, exit, delete in order" t_events
tcase "shim: a failing start reaches ctr with rune's message" t_create_error
tcase "shim: one shim per group (annotation), exits with its last container" t_group
tcase "shim: a method not implemented yet is a clear error" t_unimplemented
tcase "shim: ctr task exec: output, status, events, kill, duplicate id, stopped task" t_exec
tcase "shim: stdin forwarded to run and exec, closed at its end" t_stdin
tcase "shim: output not lost with a slow reader" t_slow_reader
tcase "shim: output nobody reads is dropped after 10 s" t_unread_output
tcase "shim: --log-uri file://" t_log_file
tcase "shim: --log-uri binary://" t_log_binary
tcase "shim: terminals: ctr run -t, ctr task exec -t, window size, typed input" t_tty
tcase "shim: ctr task metrics and Tasks.Update" t_metrics_update
tcase "shim: containerd restarted with tasks running" t_restart
tcase "shim: OOM event" t_oom
tcase "shim: containerd.runc.v1.Options: BinaryName, Root" t_runc_options
tcase "shim: runtimeoptions.v1.Options and shim.json: node, handler, request" t_config_path
tcase "shim: shim delete (a dead shim) uses the options Create had" t_delete_saved
tcase "shim: a malformed shim.json fails Create with one line" t_config_bad
tcase "shim: a shim.json writable by group or others is refused" t_config_writable
tcase "shim: memory of the daemon" t_memory
tcase "shim: time of ctr run --rm" t_timing
