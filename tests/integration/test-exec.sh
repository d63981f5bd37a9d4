#!/bin/bash
# timeout: 240
# exec (argv, --process, --env, --cwd, --user, --detach, --pid-file, --tty,
# --console-socket, --cap) and terminals (create + console socket, run -t).
. "$(dirname "$0")/lib.sh"

# start_sleeper: a running container ($ID) whose init sleeps.
start_sleeper() {
	new_bundle "${1:-sleeper}"
	cfg_args sleep 1000
	cfg_set .root.readonly false
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	INIT=$(rt state "$ID" | jget .pid)
}

# script_pty CMD: CMD on a new pty, as a user's terminal runs it. script(1)
# runs CMD with $SHELL, or /bin/sh when unset (as under CI): pin /bin/sh so
# both run alike. timeout --foreground keeps CMD in the terminal's foreground
# process group; plain timeout moves it to a background one, where its
# tcsetattr on the pty would stop it with SIGTTOU.
script_pty() {
	SHELL=/bin/sh script -qec "$1" /dev/null
}

# console_listen SOCKET OUT [INPUT]: start recvtty.py in the background.
console_listen() {
	rm -f "$1" "$1.ready"
	"$PY" "$RECVTTY" "$@" >"$T/recvtty.log" 2>&1 &
	TTYPID=$!
	wait_file "$1.ready" 5
}

t_exec_argv() {
	start_sleeper
	rtc exec "$ID" sh -c 'echo "pid=$$"; echo err >&2; exit 5'
	assert_rc 5 "exec exit status"
	assert_match '^pid=[0-9]+$' "$OUT" "exec stdout"
	assert_contains err "$ERR" "exec stderr"
	rtc exec "$ID" cat /proc/1/cmdline
	assert_rc 0 exec
	assert_contains sleep "$OUT" "pid 1 seen from exec"
	# stdin is passed through
	RC=0
	OUT=$(echo piped | rt exec "$ID" cat) || RC=$?
	assert_rc 0 "exec with stdin"
	assert_eq piped "$OUT" "exec stdin"
	# PATH lookup of args[0] and a missing binary
	rtc exec "$ID" id -u
	assert_eq 0 "$OUT" "exec id -u"
	rtc exec "$ID" /no/such/binary
	assert_fails "exec of a missing binary"
	assert_eq running "$(status "$ID")" "container after a failed exec"
}

t_exec_signals() {
	start_sleeper
	# killed by a signal: 128+N
	rtc exec "$ID" sh -c 'kill -KILL $$'
	assert_rc 137 "exec of a process killed by SIGKILL"
	# a foreground exec forwards signals to its process
	rm -f "$T/fwd"
	rt exec "$ID" sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done' >"$T/fwd" 2>&1 </dev/null &
	BGPID=$!
	wait_file "$T/fwd"
	local rtpid rc=0
	rtpid=$(rt_pid_of_bg)
	kill -TERM "$rtpid"
	for _ in 1 2; do
		for _ in $(seq 30); do kill -0 "$BGPID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$BGPID" 2>/dev/null || break
		echo "# SIGTERM not handled after 3s, sending it again"
		kill -TERM "$rtpid" 2>/dev/null || true
	done
	wait "$BGPID" || rc=$?
	assert_eq 42 "$rc" "exec's exit status after a forwarded SIGTERM"
	assert_contains got-term "$(cat "$T/fwd")" "exec'd process saw SIGTERM"
	assert_eq running "$(status "$ID")" "container after the exec ended"
}

t_exec_same_namespaces() {
	start_sleeper
	rtc exec -d --pid-file "$T/e.pid" "$ID" sleep 100
	assert_rc 0 "exec -d"
	local ep ns
	ep=$(tr -d '\n' <"$T/e.pid")
	for ns in pid net ipc uts mnt; do
		assert_eq "$(readlink /proc/"$INIT"/ns/$ns)" "$(readlink /proc/"$ep"/ns/$ns)" "exec'd process $ns namespace"
	done
	assert_eq "$(readlink /proc/"$INIT"/root)" "$(readlink /proc/"$ep"/root)" "exec'd process root"
	assert_eq "$(sed -n 's/^[0-9]*:pids://p' /proc/"$INIT"/cgroup)" "$(sed -n 's/^[0-9]*:pids://p' /proc/"$ep"/cgroup)" "exec'd process pids cgroup"
}

t_exec_env_cwd_user() {
	start_sleeper
	rtc exec --env FOO=bar --env PATH=/bin --env BAZ=qux --cwd /tmp --user 1000:1001 "$ID" \
		sh -c 'echo "$FOO $BAZ $PATH"; pwd; id -u; id -g'
	assert_rc 0 exec
	assert_eq "$(printf '%s\n' 'bar qux /bin' /tmp 1000 1001)" "$OUT" "exec --env/--cwd/--user"
	rtc exec -u 1000 "$ID" id -u
	assert_eq 1000 "$OUT" "exec -u 1000"
	# config env is inherited by exec
	rtc exec "$ID" sh -c 'echo $TERM'
	assert_eq xterm "$OUT" "exec inherits the config env"
}

t_exec_defaults_from_config() {
	new_bundle cfgdef
	cfg_args sleep 1000
	cfg_set .process.cwd '"/tmp"'
	cfg_set .process.user '{"uid": 1000, "gid": 1001, "umask": 63}'
	cfg_set .process.env '["PATH=/bin", "FROMCFG=yes"]'
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc exec "$ID" sh -c 'pwd; id -u; id -g; echo $FROMCFG'
	assert_rc 0 exec
	assert_eq "$(printf '%s\n' /tmp 1000 1001 yes)" "$OUT" "exec defaults (cwd, user, env) from the config"
}

t_exec_process_file() {
	start_sleeper
	cat >"$T/process.json" <<-'EOF'
		{
		  "terminal": false,
		  "user": {"uid": 1000, "gid": 1000, "additionalGids": [1002]},
		  "args": ["sh", "-c", "echo $HELLO; pwd; id -u; id -G; exit 7"],
		  "env": ["PATH=/bin:/usr/bin", "HELLO=world"],
		  "cwd": "/home/test",
		  "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
		  "noNewPrivileges": true
		}
	EOF
	rtc exec --process "$T/process.json" "$ID"
	assert_rc 7 "exec --process exit status"
	assert_eq "$(printf '%s\n' world /home/test 1000 '1000 1002')" "$OUT" "exec --process output"
	sed -i 's/"sh", "-c", "echo.*exit 7"/"grep", "^Cap\\\\|^NoNewPrivs", "\/proc\/self\/status"/' "$T/process.json"
	rtc exec --process "$T/process.json" "$ID"
	assert_rc 0 "exec --process (status)"
	assert_contains "CapBnd:	0000000000000020" "$OUT" "bounding set of --process"
	assert_contains "NoNewPrivs:	1" "$OUT" "noNewPrivileges of --process"
	echo '{"args": [' >"$T/bad.json"
	rtc exec --process "$T/bad.json" "$ID"
	assert_fails "exec --process with malformed JSON"
	rtc exec --process "$T/nonexistent.json" "$ID"
	assert_fails "exec --process with a missing file"
}

# Flags given along with --process: rune applies them over the file (each
# flag does what it says); runc 1.1 ignores them all silently.
t_exec_process_file_with_flags() {
	start_sleeper
	echo '{"args": ["sh", "-c", "echo FOO=$FOO; pwd; id -u"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]}' >"$T/process.json"
	rtc exec --process "$T/process.json" --env FOO=1 --cwd /tmp --user 1000 "$ID"
	assert_rc 0 "exec --process with --env, --cwd, --user"
	[ "$OUT" = "$(printf '%s\n' FOO= / 0)" ] && differs_from_runc "exec ignores --env, --cwd and --user along with --process"
	assert_eq "$(printf '%s\n' FOO=1 /tmp 1000)" "$OUT" "--env, --cwd, --user over the process file"
}

# Malformed flag values fail exec as runc's do: --user must be UID[:GID],
# numeric (255), --env KEY=VALUE (255), --additional-gids numbers (a usage
# error, 1); the process never runs.
t_exec_bad_flag_values() {
	start_sleeper
	local u
	for u in 1000:abc 1000: :5 1000:5:6 abc; do
		rtc exec --user "$u" "$ID" sh -c 'echo ran'
		assert_rc 255 "exec --user $u"
		assert_not_contains ran "$OUT" "exec --user $u ran the process"
	done
	rtc exec --env FOO "$ID" sh -c 'echo ran'
	assert_rc 255 "exec --env FOO"
	assert_not_contains ran "$OUT" "exec --env FOO ran the process"
	rtc exec --additional-gids abc "$ID" sh -c 'echo ran'
	assert_rc 1 "exec --additional-gids abc"
	assert_not_contains ran "$OUT" "exec --additional-gids abc ran the process"
	rtc exec --user 1000:5 --env FOO= "$ID" sh -c 'echo "$(id -u):$(id -g) FOO=$FOO."'
	assert_rc 0 "exec with good values"
	assert_eq "1000:5 FOO=." "$OUT" "exec with good values"
}

t_exec_detach_pid_file() {
	start_sleeper
	add_share 2>/dev/null || true
	rtc exec --detach --pid-file "$T/x.pid" "$ID" sh -c 'sleep 100'
	assert_rc 0 "exec --detach"
	local p
	p=$(tr -d '\n' <"$T/x.pid")
	assert_match '^[0-9]+$' "$p" "exec pid file"
	kill -0 "$p" || fail "exec'd process $p not alive"
	assert_eq "$(readlink /proc/"$INIT"/ns/pid)" "$(readlink /proc/"$p"/ns/pid)" "exec -d pid namespace"
	rtc ps --format json "$ID"
	assert_contains "$p" "$OUT" "ps lists the exec'd process"
	# container still runs; killing the init ends the exec'd process too
	rtc kill "$ID" KILL
	wait_status "$ID" stopped
	wait_gone "$p"
}

t_exec_stopped() {
	new_bundle
	cfg_args true
	ct_create
	rtc exec "$ID" true
	[ "$RC" != 0 ] || echo "# note: exec into a created container succeeded"
	rtc start "$ID"
	wait_status "$ID" stopped
	rtc exec "$ID" true
	assert_fails "exec into a stopped container"
	rtc exec "$PFX-nosuch" true
	assert_fails "exec into an unknown container"
}

# Issue 11 item 4: exec exits 255 when exec itself fails, as runc does, so
# callers tell the runtime's failure from the workload's own status.
t_exec_failure_255() {
	start_sleeper
	rtc exec "$ID" /nonexistent-binary
	assert_rc 255 "exec of a missing binary"
	rtc exec "$ID" sh -c 'exit 255'
	assert_rc 255 "the workload's own 255"
	rtc exec "$ID" sh -c 'exit 1'
	assert_rc 1 "the workload's own 1"
	rtc exec --pid-file "$T/no/such/dir/pid" "$ID" true
	assert_rc 255 "exec with an unwritable pid file"
	rtc exec --process "$T/no-such-process.json" "$ID"
	assert_rc 255 "exec with a missing --process file"
	rtc exec "$PFX-nosuch" true
	assert_rc 255 "exec into a missing container"
	rtc exec "$ID"
	assert_rc 255 "exec without a command"
	rtc pause "$ID"
	assert_rc 0 pause
	rtc exec "$ID" true
	assert_rc 255 "exec into a paused container"
	assert_contains "cannot exec in a paused container" "$ERR" "error for a paused container"
	rtc resume "$ID"
	assert_rc 0 resume
	rtc kill "$ID" KILL
	wait_status "$ID" stopped
	rtc exec "$ID" true
	assert_rc 255 "exec into a stopped container"
	rtc exec
	assert_rc 1 "exec without an id (a usage error)"
}

# Issue 11 item 6: exec --ignore-paused execs into a paused container; the
# process runs once the container is resumed.
t_exec_ignore_paused() {
	new_bundle
	add_share
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc pause "$ID"
	assert_rc 0 pause
	rt exec --ignore-paused "$ID" sh -c 'echo ran > /share/ran' >"$T/ip.out" 2>"$T/ip.err" &
	local bg=$! rc=0
	sleep 1
	[ -e "$SH/ran" ] && fail "the process ran in a paused container"
	rtc resume "$ID"
	assert_rc 0 resume
	wait "$bg" || rc=$?
	[ "$rc" = 0 ] || fail "exec --ignore-paused exited $rc: $(cat "$T/ip.err")"
	wait_file "$SH/ran"
}

# Issue 11 item 5: exec --cgroup joins a sub-cgroup of the container's
# ("sub" on every hierarchy, "ctrl:sub" on one), never one outside it.
t_exec_cgroup() {
	start_sleeper
	local d dirs
	dirs=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$ID")
	[ -n "$dirs" ] || fail "no cgroup named $ID"
	for d in $dirs; do
		mkdir "$d/sub"
		if [ -e "$d/cpuset.cpus" ]; then # v1 cpuset: empty until set
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	rtc exec --cgroup sub "$ID" cat /proc/self/cgroup
	assert_rc 0 "exec --cgroup sub"
	local bad
	bad=$(echo "$OUT" | grep -v '/sub$' || true)
	[ -z "$bad" ] || fail "exec --cgroup sub: not in sub everywhere: $bad"
	rtc exec --cgroup pids:sub "$ID" cat /proc/self/cgroup
	assert_rc 0 "exec --cgroup pids:sub"
	assert_match ':pids:(/.*)?/sub' "$OUT" "pids cgroup with --cgroup pids:sub"
	echo "$OUT" | grep ':memory:' | grep -q '/sub$' && fail "--cgroup pids:sub moved memory too: $OUT"
	rtc exec --cgroup ../.. "$ID" true
	assert_rc 255 "exec --cgroup ../.."
	assert_contains "is not a sub cgroup path" "$ERR" "error for a path outside"
	rtc exec --cgroup nosuch:sub "$ID" true
	assert_rc 255 "exec --cgroup nosuch:sub"
	assert_contains "unknown controller" "$ERR" "error for an unknown controller"
	rtc exec --cgroup missing "$ID" true
	assert_rc 255 "exec --cgroup of a missing sub-cgroup"
	rtc exec --cgroup a --cgroup b "$ID" true
	assert_rc 255 "two --cgroup without a controller"
}

t_exec_cap_nnp() {
	start_sleeper
	rtc exec --cap CAP_SYS_ADMIN "$ID" grep ^CapEff /proc/self/status
	assert_rc 0 "exec --cap"
	local eff
	eff=$(echo "$OUT" | awk '{print $2}')
	(((0x$eff >> 21) & 1)) || fail "exec --cap CAP_SYS_ADMIN: CapEff=$eff"
	rtc exec "$ID" grep -E '^(NoNewPrivs|CapBnd)' /proc/self/status
	assert_contains "NoNewPrivs:	1" "$OUT" "config noNewPrivileges applies to exec"
	assert_contains "CapBnd:	0000000020000420" "$OUT" "config bounding set applies to exec"
	new_bundle nnp
	cfg_args sleep 1000
	cfg_set .process.noNewPrivileges false
	rtc run -d --bundle "$B" "$ID"
	rtc exec "$ID" grep ^NoNewPrivs /proc/self/status
	assert_contains "NoNewPrivs:	0" "$OUT" "exec without --no-new-privs"
	rtc exec --no-new-privs "$ID" grep ^NoNewPrivs /proc/self/status
	assert_contains "NoNewPrivs:	1" "$OUT" "exec --no-new-privs"
}

t_exec_tty_console_socket() {
	start_sleeper
	console_listen "$T/tty.sock" "$T/tty.out" $'hello\n'
	rtc exec --tty --detach --console-socket "$T/tty.sock" "$ID" sh -c 'tty; read x; echo "got:$x"; [ -t 0 ] && [ -t 1 ] && echo isatty'
	assert_rc 0 "exec -t -d --console-socket"
	wait "$TTYPID" || fail "console receiver failed: $(cat "$T/recvtty.log")"
	local out
	out=$(tr -d '\r' <"$T/tty.out")
	assert_match '/dev/pts/[0-9]+' "$out" "tty inside exec"
	assert_contains "got:hello" "$out" "input through the pty"
	assert_contains isatty "$out" "stdin/stdout are a tty"
	assert_contains '"isatty": true' "$(cat "$T/tty.out.info")" "received fd is a tty"
}

t_exec_process_terminal() {
	start_sleeper
	cat >"$T/tty-process.json" <<-'EOF'
		{
		  "terminal": true,
		  "consoleSize": {"height": 21, "width": 77},
		  "user": {"uid": 1000, "gid": 1000},
		  "args": ["sh", "-c", "tty; stty size; id -u; stat -c 'owner %u %g %a' $(tty)"],
		  "env": ["PATH=/bin", "TERM=dumb"],
		  "cwd": "/"
		}
	EOF
	console_listen "$T/p.sock" "$T/p.out"
	rtc exec --process "$T/tty-process.json" --detach --console-socket "$T/p.sock" "$ID"
	assert_rc 0 "exec --process (terminal) --detach --console-socket"
	wait "$TTYPID" || fail "console receiver failed: $(cat "$T/recvtty.log")"
	local out
	out=$(tr -d '\r' <"$T/p.out")
	assert_match '/dev/pts/[0-9]+' "$out" "tty of the exec'd process"
	assert_contains "21 77" "$out" "consoleSize of --process"
	assert_contains 1000 "$out" "user of --process"
	assert_contains "owner 1000 5 620" "$out" "pty owned by the user, group tty (5), mode 0620"
}

t_create_terminal_console_size() {
	new_bundle
	cfg_set .process.terminal true
	cfg_set .process.consoleSize '{"height": 33, "width": 111}'
	cfg_sh 'tty; stty size; ls -l /dev/console; [ -t 0 ] && echo isatty'
	console_listen "$T/c.sock" "$T/c.out"
	ct_create --console-socket "$T/c.sock"
	rtc start "$ID"
	assert_rc 0 start
	wait "$TTYPID" || fail "console receiver failed: $(cat "$T/recvtty.log")"
	local out
	out=$(tr -d '\r' <"$T/c.out")
	assert_match '/dev/pts/[0-9]+' "$out" "tty of a terminal container"
	assert_contains "33 111" "$out" "consoleSize (stty size)"
	assert_contains isatty "$out" "stdin is a tty"
	assert_match 'c[rw-]{9}.* /dev/console' "$out" "/dev/console"
	wait_status "$ID" stopped
}

t_run_detached_terminal() {
	# docker run -itd: run -d with a terminal, the pty master sent away
	new_bundle
	cfg_set .process.terminal true
	cfg_sh 'tty; read line; echo "typed:$line"'
	console_listen "$T/d.sock" "$T/d.out" $'hello-detached\n'
	rtc run -d --console-socket "$T/d.sock" --bundle "$B" "$ID"
	assert_rc 0 "run -d with a terminal"
	wait "$TTYPID" || fail "console receiver failed: $(cat "$T/recvtty.log")"
	local out
	out=$(tr -d '\r' <"$T/d.out")
	assert_match '/dev/pts/[0-9]+' "$out" "tty of a detached terminal container"
	assert_contains "typed:hello-detached" "$out" "input through the pty"
	wait_status "$ID" stopped
}

t_terminal_needs_socket() {
	new_bundle
	cfg_set .process.terminal true
	cfg_args true
	rtc create --bundle "$B" "$ID"
	assert_fails "create with terminal:true and no --console-socket"
	assert_nothing_left "$ID"
	cfg_set .process.terminal false
	rtc create --bundle "$B" --console-socket "$T/none.sock" "$ID"
	assert_fails "create with --console-socket and terminal:false"
	assert_nothing_left "$ID"
}

t_run_tty_foreground() {
	command -v script >/dev/null || skip "script(1) not installed"
	new_bundle
	cfg_set .process.terminal true
	cfg_sh 'tty; echo fg-done; exit 4'
	local rc=0 cmd
	cmd="timeout --foreground -k 5 $RT_TIMEOUT $RUNTIME --root $ROOT run --bundle $B $ID"
	script_pty "$cmd" >"$T/script.out" 2>&1 || rc=$?
	local out
	out=$(tr -d '\r' <"$T/script.out")
	assert_match '/dev/pts/[0-9]+' "$out" "run -t relays the pty"
	assert_contains fg-done "$out" "run -t output"
	assert_eq 4 "$rc" "run -t exit status"
}

t_exec_tty_foreground() {
	command -v script >/dev/null || skip "script(1) not installed"
	start_sleeper
	local rc=0 cmd
	cmd="timeout --foreground -k 5 $RT_TIMEOUT $RUNTIME --root $ROOT exec -t $ID sh -c 'tty; exit 6'"
	script_pty "$cmd" >"$T/script.out" 2>&1 || rc=$?
	local out
	out=$(tr -d '\r' <"$T/script.out")
	assert_match '/dev/pts/[0-9]+' "$out" "exec -t relays a pty"
	assert_eq 6 "$rc" "exec -t exit status"
}

tcase "exec: argv, exit status, stdio" t_exec_argv
tcase "exec: 128+N, signals forwarded to the exec'd process" t_exec_signals
tcase "exec: joins the container's namespaces and cgroup" t_exec_same_namespaces
tcase "exec: --env, --cwd, --user" t_exec_env_cwd_user
tcase "exec: cwd, user, env default to the config's" t_exec_defaults_from_config
tcase "exec: --process FILE" t_exec_process_file
tcase "exec: flags along with --process apply over the file" t_exec_process_file_with_flags
tcase "exec: --detach --pid-file" t_exec_detach_pid_file
tcase "exec: stopped or unknown container fails" t_exec_stopped
tcase "exec: 255 when exec itself fails" t_exec_failure_255
tcase "exec: malformed --user, --env, --additional-gids" t_exec_bad_flag_values
tcase "exec: --ignore-paused" t_exec_ignore_paused
tcase "exec: --cgroup" t_exec_cgroup
tcase "exec: --cap, --no-new-privs" t_exec_cap_nnp
tcase "exec: --tty --console-socket (pty master over SCM_RIGHTS)" t_exec_tty_console_socket
tcase "exec -t in the foreground relays the terminal" t_exec_tty_foreground
tcase "exec: --process with terminal and consoleSize" t_exec_process_terminal
tcase "create: terminal, --console-socket, consoleSize" t_create_terminal_console_size
tcase "run -d with a terminal and --console-socket" t_run_detached_terminal
tcase "terminal without console socket: error" t_terminal_needs_socket
tcase "run -t in the foreground relays the terminal" t_run_tty_foreground
