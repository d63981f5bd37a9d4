#!/bin/bash
# timeout: 360
# The Enclave Runtime PAL API contract as rune keeps it (DESIGN.md, "The PAL
# ABI"; issue 5): recording test PALs (tests/enclave/test-pal.c, built into
# $BUILD/tests-pal by mk/50-enclave-tests.mk) log every call rune makes, and
# the cases assert order, arguments, context, fds, env, exit values, signals
# and failure handling.  Every case also checks nothing is left behind.
. "$(dirname "$0")/lib.sh"

need_builds "$PALDIR/libtestpal-v1.so" "$PALDIR/libtestpal-v3.so" "$PALDIR/libtestpal-occlum.so"

HOST_ROOT_ID=$(stat -c '%d:%i' /)

# the calls rune must make for one workload, by version
expected_calls() {
	case $1 in
	v1-nover) echo "load init exec exec_return destroy" ;;
	v1*) echo "load get_version init exec exec_return destroy" ;;
	*) echo "load get_version init create_process exec exec_stdio exec_return destroy" ;;
	esac
}
# the version a variant reports
pal_version() { [ "$1" = occlum ] && echo 2 || echo "${1:1:1}"; }
# the call that carries the workload's path/argv/stdio
start_call() { [[ $1 == v1* ]] && echo exec || echo create_process; }

# ---------------------------------------------------------------- order

t_order_run() { # VARIANT
	enclave_bundle "$1"
	cfg_args app hello
	ct_run
	assert_rc 0 "run"
	assert_eq "testpal v$(pal_version "$1"): hello" "$OUT" "workload stdout"
	assert_contains "hello on stderr" "$ERR" "workload stderr"
	assert_eq "$(expected_calls "$1")" "$(calls)" "calls"
	# one process, init-runelet, makes every call
	assert_eq '["init-runelet"]' "$(plog 'sorted(set(r["comm"] for r in L))')" "process name of the caller"
	assert_eq 1 "$(plog 'len(set(r["pid"] for r in L))')" "calls from one process"
}

t_order_create_start() { # VARIANT
	enclave_bundle "$1"
	cfg_args app sleep 1
	cfg_set .process.cwd '"/home/test"'
	ct_create --pid-file "$T/init.pid"
	assert_eq created "$(status "$ID")" "status after create"
	assert_eq init-runelet "$(cat /proc/"$(cat "$T/init.pid")"/comm)" "the --pid-file process's name"
	assert_eq "$(cat "$T/init.pid")" "$(rt state "$ID" | jget .pid)" "state pid"
	assert_eq "$(expected_calls "$1" | sed 's/ \(create_process\|exec\) .*//')" "$(calls)" "calls at create"
	# dlopen (and get_version) on the host, before pivot_root; init in the rootfs and cwd
	assert_eq "$HOST_ROOT_ID" "$(recf load "['root_id']")" "root at dlopen"
	[[ $1 == v1-nover ]] || assert_eq "$HOST_ROOT_ID" "$(recf get_version "['root_id']")" "root at pal_get_version"
	assert_eq "$(stat -c '%d:%i' "$RFS")" "$(recf init "['root_id']")" "root at pal_init"
	assert_eq /home/test "$(recf init "['cwd']")" "cwd at pal_init"
	assert_eq "$(stat -c '%d:%i' "$RFS/home/test")" "$(recf init "['cwd_id']")" "cwd (dev:ino) at pal_init"
	sleep 0.3
	assert_eq "$(expected_calls "$1" | sed 's/ \(create_process\|exec\) .*//')" "$(calls)" "calls before start"
	rtc start "$ID"
	assert_rc 0 start
	wait_log_call "$(start_call "$1")" 5
	assert_eq running "$(status "$ID")" "status while the workload runs"
	wait_log_call destroy 10
	wait_status "$ID" stopped 5
	assert_eq "$(expected_calls "$1")" "$(calls)" "calls after the workload ended"
	assert_eq /home/test "$(recf "$(start_call "$1")" "['cwd']")" "cwd at start"
	if [[ $1 != v1* ]]; then
		assert_eq "$(recf create_process "['new_pid']")" "$(recf exec "['pid_arg']")" "pal_exec gets the pid from pal_create_process"
	fi
	rtc delete "$ID"
	assert_rc 0 delete
	assert_nothing_left "$ID"
}

# ------------------------------------------------------ identity at init

# the fields of /proc/self/status the PAL must share with an ordinary workload
STATUS_FIELDS="Uid Gid Groups CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs"

# restricted_identity: user 1000:1000 (+1001), two caps in every set, nofile 512/768
restricted_identity() {
	cfg_set .process.user '{"uid": 1000, "gid": 1000, "additionalGids": [1001]}'
	cfg_set .process.capabilities '{"bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "ambient": ["CAP_KILL", "CAP_NET_BIND_SERVICE"]}'
	cfg_set .process.rlimits '[{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768}]'
	cfg_set .process.cwd '"/home/test"'
}

# ordinary_status: what an ordinary workload with the same config sees, as "Field=value" lines
ordinary_status() {
	local f
	cp "$B/config.json" "$B/config.enclave.json"
	env_del ENCLAVE_TYPE
	env_del ENCLAVE_RUNTIME_PATH
	env_del ENCLAVE_RUNTIME_ARGS
	env_del ENCLAVE_RUNTIME_LOGLEVEL
	cfg_args cat /proc/self/status
	ID=$ID-plain ct_run
	assert_rc 0 "ordinary container with the same config"
	for f in $STATUS_FIELDS; do
		printf '%s\n' "$OUT" | sed -n "s/^$f:[[:space:]]*/$f=/p" | sed 's/[[:space:]]*$//; s/[[:space:]]\+/ /g'
	done
	rtc delete --force "$ID-plain"
	cp "$B/config.enclave.json" "$B/config.json"
}
pal_status() { # CALL
	local f
	for f in $STATUS_FIELDS; do
		echo "$f=$(recf "$1" "['status'].get('$f', '')" | sed 's/[[:space:]]*$//; s/[[:space:]]\+/ /g')"
	done
}

t_init_identity() { # VARIANT NNP
	enclave_bundle "$1"
	restricted_identity
	cfg_set .process.noNewPrivileges "$2"
	local want
	want=$(ordinary_status)
	assert_contains "Uid=1000 1000 1000 1000" "$want" "ordinary workload uid (sanity)"
	cfg_args app exit 0
	ct_create
	assert_eq "$want" "$(pal_status init)" "identity and privileges at pal_init (ordinary workload's on the left)"
	assert_eq "512 768" "$(recf init "['nofile_soft']") $(recf init "['nofile_hard']")" "RLIMIT_NOFILE at pal_init"
	rtc start "$ID"
	assert_rc 0 start
	wait_log_call destroy
	assert_eq "$want" "$(pal_status "$(start_call "$1")")" "identity and privileges at start"
	wait_status "$ID" stopped 5
}

# rt_ignoring_signals ARG...: rt from a caller that ignores PIPE, INT, QUIT
# and HUP (a daemon's SIGPIPE, a shell's background job) and blocks TERM.
rt_ignoring_signals() {
	timeout -k 5 "$RT_TIMEOUT" "$PY" -c '
import os, signal, sys
for s in (signal.SIGPIPE, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
os.execv(sys.argv[1], sys.argv[1:])' "$RUNTIME" --root "$ROOT" --pal-dir "$PALDIR" "$@"
}

# assert_no_signal_ignored WHAT...: at each call the PAL logged, SigIgn is 0
assert_no_signal_ignored() {
	local c
	for c in "$@"; do
		assert_eq 0000000000000000 "$(recf "$c" "['status'].get('SigIgn', '?')")" "SigIgn at pal call \"$c\""
	done
}

t_caller_signals_reset() { # VARIANT
	# init-runelet never execs: without a reset the PAL keeps what rune's
	# caller ignored, as ordinary workloads don't (test-process.sh).  Hooks
	# run in the init too (they ignore SIGPIPE while writing the state).
	local hooks='{"createContainer": [{"path": "/bin/true"}], "startContainer": [{"path": "/bin/true"}]}'
	enclave_bundle "$1"
	cfg_set .hooks "$hooks"
	cfg_args app exit 0
	rt_ignoring_signals run --bundle "$B" "$ID" >/dev/null 2>"$T/err" || fail "run: $(cat "$T/err")"
	assert_no_signal_ignored load init "$(start_call "$1")"
	enclave_bundle "$1"
	cfg_set .hooks "$hooks"
	cfg_args app exit 0
	rt_ignoring_signals create --bundle "$B" "$ID" >/dev/null 2>"$T/err" || fail "create: $(cat "$T/err")"
	rt_ignoring_signals start "$ID" >/dev/null 2>"$T/err" || fail "start: $(cat "$T/err")"
	wait_log_call destroy
	assert_no_signal_ignored load init "$(start_call "$1")"
	wait_status "$ID" stopped 5
}

t_init_seccomp() {
	enclave_bundle v2
	cfg_set .linux.seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["syslog", "acct"], "action": "SCMP_ACT_ERRNO"}]}'
	cfg_args app exit 0
	ct_create
	assert_eq 2 "$(recf init "['status']['Seccomp']")" "seccomp mode at pal_init (issue 5: applied just before pal_init)"
	rtc start "$ID"
	wait_log_call destroy
	assert_eq 2 "$(recf create_process "['status']['Seccomp']")" "seccomp mode at pal_create_process"
}

# SGX device nodes and the aesmd socket dir: in the container exactly where the host has them
t_sgx_plumbing() {
	local p want=()
	for p in /dev/sgx_enclave /dev/sgx_provision /dev/sgx/enclave /dev/sgx/provision /dev/isgx /var/run/aesmd; do
		if [ -c "$p" ] || { [ "$p" = /var/run/aesmd ] && [ -d "$p" ]; }; then
			want+=("$p")
		fi
	done
	enclave_bundle v2
	cfg_args app hello
	ct_run
	assert_rc 0 run
	assert_eq "$(jarr "${want[@]}" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')" "$(recf init "['sgx_paths']")" "SGX paths seen by pal_init (the host's: ${want[*]:-none})"
}

# ------------------------------------------------------------ arguments

t_argv0() { # VARIANT
	local call
	call=$(start_call "$1")
	enclave_bundle "$1"
	cfg_args sh echo x
	ct_run
	assert_rc 0 run
	assert_eq /bin/sh "$(recf "$call" "['path']")" "path of argv[0] 'sh', found on the container's PATH"
	assert_eq '["sh", "echo", "x"]' "$(recf "$call" "['argv']")" "argv (argv[0] as given)"

	enclave_bundle "$1"
	cfg_args enclave-app echo x
	ct_run
	assert_rc 0 run
	assert_eq enclave-app "$(recf "$call" "['path']")" "path of an argv[0] not in the rootfs: as is"
	assert_eq '["enclave-app", "echo", "x"]' "$(recf "$call" "['argv']")" argv

	enclave_bundle "$1"
	cfg_args /opt/enclave/bin/app echo x
	ct_run
	assert_rc 0 run
	assert_eq /opt/enclave/bin/app "$(recf "$call" "['path']")" "absolute argv[0] not in the rootfs: as is"

	# the container's PATH, not the host's
	enclave_bundle "$1"
	env_set PATH /usr/bin
	cfg_args sh echo x
	ct_run
	assert_rc 0 run
	assert_eq sh "$(recf "$call" "['path']")" "argv[0] 'sh' with PATH=/usr/bin (sh is in /bin only)"
}

# no_home: drop the HOME entry from a JSON env list (runc adds HOME from /etc/passwd when unset)
no_home() { "$PY" -c 'import json,sys; print(json.dumps([e for e in json.load(sys.stdin) if not e.startswith("HOME=")]))'; }

t_env() {
	enclave_bundle v2
	env_set FOO "bar baz"
	env_set ENCLAVE_RUNTIME_LOGLEVEL debug
	env_set EMPTY ""
	annot_set enclave.type intelSgx
	annot_set org.example.note x
	cfg_args app hello
	ct_run
	assert_rc 0 run
	assert_eq '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "FOO=bar baz", "EMPTY="]' \
		"$(recf create_process "['env']" | no_home)" "env passed to pal_create_process (no ENCLAVE_* keys, order kept; HOME aside)"
	assert_match '^(|\["HOME=/root"\])$' "$(plog "[e for e in [r for r in L if r['call'] == 'create_process'][0]['env'] if e.startswith('HOME=')]" | sed 's/^\[\]$//')" "HOME, when rune adds it as runc does"
}

t_args_loglevel() {
	local lvl
	enclave_bundle v3 "log=/share/pal.log,one,two three,,four"
	env_set ENCLAVE_RUNTIME_LOGLEVEL trace
	cfg_args app hello
	ct_run
	assert_rc 0 run
	assert_eq "log=/share/pal.log one two three  four" "$(recf init "['args']")" "args: commas become spaces"
	assert_eq trace "$(recf init "['log_level']")" "log level"
	assert_eq "-1 0" "$(recf init "['fd']") $(recf init "['addr']")" "v3 attr: fd -1, addr 0"
	for lvl in debug info warning error fatal panic off; do
		enclave_bundle v2
		env_set ENCLAVE_RUNTIME_LOGLEVEL $lvl
		cfg_args app hello
		ct_run
		assert_rc 0 "run with log level $lvl"
		assert_eq $lvl "$(recf init "['log_level']")" "log level $lvl"
	done
	# absent: a valid level all the same
	enclave_bundle v1
	cfg_args app hello
	ct_run
	assert_rc 0 run
	assert_match '^(trace|debug|info|warning|error|fatal|panic|off)$' "$(recf init "['log_level']")" "default log level"
	# an unknown level: create refuses it clearly
	enclave_bundle v2
	env_set ENCLAVE_RUNTIME_LOGLEVEL verbose
	cfg_args app hello
	rtc create --bundle "$B" "$ID"
	assert_fails "create with log level 'verbose'"
	assert_clear_error 'verbose'
	assert_nothing_left "$ID"
}

t_stdio() { # VARIANT
	local call
	call=$(start_call "$1")
	enclave_bundle "$1"
	cfg_args app hello
	RC=0
	rt run --bundle "$B" "$ID" >"$T/o.txt" 2>"$T/e.txt" <"$B/config.json" || RC=$?
	assert_rc 0 run
	assert_eq "$(stat -c '%d:%i' "$T/o.txt")" "$(recf "$call" "['stdio']['stdout']['id']")" "stdout fd is rune's stdout"
	assert_eq "$(stat -c '%d:%i' "$T/e.txt")" "$(recf "$call" "['stdio']['stderr']['id']")" "stderr fd is rune's stderr"
	assert_eq "$(stat -c '%d:%i' "$B/config.json")" "$(recf "$call" "['stdio']['stdin']['id']")" "stdin fd is rune's stdin"
	assert_eq "testpal v${1:1:1}: hello" "$(cat "$T/o.txt")" "output through the stdout fd"
	assert_contains "hello on stderr" "$(cat "$T/e.txt")" "output through the stderr fd"
	# stdin reaches the workload
	cfg_args app cat
	RC=0
	echo "some input" | rt run --bundle "$B" "$ID-cat" >"$T/o.txt" 2>"$T/e.txt" || RC=$?
	assert_rc 0 "run cat"
	assert_eq "some input" "$(cat "$T/o.txt")" "stdin copied to stdout by the workload"
}

# ------------------------------------------------------------ exit values

t_exit_codes() { # VARIANT
	local n
	for n in 0 7 255; do
		enclave_bundle "$1"
		cfg_args app exit $n
		ct_run
		assert_rc $n "run of 'exit $n'"
		assert_contains destroy "$(calls)" "calls"
	done
	# the default from the args (a workload argv naming no command)
	enclave_bundle "$1" "log=/share/pal.log,exit=3"
	cfg_args app
	ct_run
	assert_rc 3 "run with exit=3"
}

t_occlum_exit_status() {
	local n
	for n in 0 1 7 255; do
		enclave_bundle occlum
		cfg_args app exit $n
		ct_run
		assert_eq $((n << 8)) "$(recf exec_return "['exit_value']")" "Occlum's exit value (a wait status)"
		assert_rc $n "run of 'exit $n' on an Occlum-like PAL"
	done
}

# --------------------------------------------------------------- signals

# bg_sleeper VARIANT: `rune run` in the background, the workload sleeping
bg_sleeper() {
	enclave_bundle "$1"
	cfg_args app sleep 30
	ct_bg
	wait_log_call exec 10
	wait_status "$ID" running 5
}
bg_rc() {
	RC=0
	wait "$BGPID" || RC=$?
	OUT=$(cat "$T/bg.out")
	ERR=$(cat "$T/bg.err")
}

t_kill_forward() { # VARIANT
	bg_sleeper "$1"
	rtc kill "$ID" TERM
	assert_rc 0 "kill TERM"
	bg_rc
	assert_rc 143 "container exit after kill TERM"
	local pid
	pid=$(recf create_process "['new_pid']")
	assert_eq "[[$pid, 15]]" "$(plog '[[r["pid_arg"], r["sig"]] for r in L if r["call"] == "kill"]')" "pal_kill calls: (workload pid, 15)"
	assert_eq "kill exec_return destroy" "$(calls | sed 's/.* exec_stdio //')" "calls after exec"
	assert_nothing_left "$ID"

	# create/start/kill/delete, as containerd does
	enclave_bundle "$1"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_log_call exec 10
	rtc kill "$ID" 15
	assert_rc 0 "kill 15"
	wait_status "$ID" stopped 5
	assert_eq "[[$(recf create_process "['new_pid']"), 15]]" "$(plog '[[r["pid_arg"], r["sig"]] for r in L if r["call"] == "kill"]')" "pal_kill calls (run -d, kill 15)"
	assert_eq 143 "$(recf exec_return "['exit_value']")" "the workload ended by SIGTERM"
	rtc delete "$ID"
	assert_rc 0 delete
	assert_nothing_left "$ID"

	# other signals are forwarded as they are
	bg_sleeper "$1"
	rtc kill "$ID" USR1
	bg_rc
	assert_rc 138 "container exit after kill USR1"
	assert_eq "[[$(recf create_process "['new_pid']"), 10]]" "$(plog '[[r["pid_arg"], r["sig"]] for r in L if r["call"] == "kill"]')" "pal_kill calls for USR1"

	# Ctrl-C in `rune run`: SIGINT to rune reaches the workload
	bg_sleeper "$1"
	kill -INT "$(rune_pid_of "$ID")"
	bg_rc
	assert_rc 130 "container exit after SIGINT to rune run"
	assert_eq "[[$(recf create_process "['new_pid']"), 2]]" "$(plog '[[r["pid_arg"], r["sig"]] for r in L if r["call"] == "kill"]')" "pal_kill calls for SIGINT"
}

t_kill_v1() {
	bg_sleeper v1
	rtc kill "$ID" TERM
	assert_rc 0 "kill TERM"
	bg_rc
	assert_rc 143 "v1 container exit after kill TERM"
	wait_log_call destroy 5
	assert_not_contains kill "$(calls)" "v1 has no pal_kill"
	assert_eq 1 "$(plog 'sum(r["call"] == "destroy" for r in L)')" "pal_destroy calls"
}

t_kill_occlum() {
	bg_sleeper occlum
	rtc kill "$ID" TERM
	bg_rc
	assert_eq 15 "$(recf exec_return "['exit_value']")" "Occlum's exit value for SIGTERM (a wait status)"
	assert_rc 143 "Occlum-like container killed by SIGTERM"
}

t_kill_sigkill() {
	bg_sleeper v2
	rtc kill "$ID" KILL
	assert_rc 0 "kill KILL"
	bg_rc
	assert_rc 137 "container exit after kill KILL"
	assert_nothing_left "$ID"

	# create + start, then kill KILL: stopped, delete cleans up
	enclave_bundle v3
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_log_call exec 10
	rtc kill "$ID" KILL
	assert_rc 0 "kill KILL"
	wait_status "$ID" stopped 5
	rtc delete "$ID"
	assert_rc 0 delete
	assert_nothing_left "$ID"
}

# ------------------------------------------------------------- failures

# assert_create_refused MUST-MENTION-REGEX: create fails, one clear line, nothing left
assert_create_refused() {
	local err1
	rtc create --bundle "$B" "$ID"
	assert_fails "create"
	assert_nothing_left "$ID"
	err1=$ERR
	# `run` the same
	ct_run
	assert_fails "run"
	assert_nothing_left "$ID"
	assert_match "$1" "$ERR" "run's error"
	ERR=$err1
	assert_clear_error "$1"
	assert_not_contains "caused: \$" "$ERR" "error"
}

t_init_failure() {
	enclave_bundle v2 "log=/share/pal.log,fail_init=-22"
	cfg_args app hello
	assert_create_refused "libtestpal-v2\\.so.*pal_init.*-22.*Invalid argument"
	assert_eq -22 "$(recf init "['return']")" "pal_init was called and failed"
	assert_not_contains create_process "$(calls)" "no workload after a failed init"
	enclave_bundle v1 "log=/share/pal.log,fail_init=-13"
	cfg_args app hello
	assert_create_refused "libtestpal-v1\\.so.*pal_init.*Permission denied"
	# Occlum: -1 and errno
	enclave_bundle occlum "log=/share/pal.log,fail_init=-5"
	cfg_args app hello
	assert_create_refused "libtestpal-occlum\\.so.*pal_init.*Input/output error"
	enclave_bundle occlum "log=/share/pal.log,fail_init=-12"
	cfg_args app hello
	assert_create_refused "libtestpal-occlum\\.so.*pal_init.*Cannot allocate memory"
}

# -1 is both -EPERM (a negative errno) and Occlum's "-1, see errno": a PAL
# of the negative-errno kind leaves some stale errno behind.
t_init_eperm_stale_errno() {
	enclave_bundle v2 "log=/share/pal.log,fail_init=-1,errno=2"
	cfg_args app hello
	assert_create_refused "libtestpal-v2\\.so.*pal_init.*Operation not permitted"
}

# containerd and Podman read errors from the JSON log
t_init_failure_json_log() {
	enclave_bundle v3 "log=/share/pal.log,fail_init=-95"
	cfg_args app hello
	rtc --log "$T/log.json" --log-format json create --bundle "$B" "$ID"
	assert_fails create
	assert_nothing_left "$ID"
	"$PY" - "$T/log.json" <<-'EOF' || fail "JSON log: $(cat "$T/log.json")"
		import json, re, sys
		lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
		errs = [l for l in lines if l.get("level") == "error"]
		assert errs, "no error line"
		m = errs[-1]["msg"]
		assert re.search(r"libtestpal-v3\.so.*pal_init.*-95.*Operation not supported", m), m
		assert "time" in errs[-1], "no time"
	EOF
}

t_start_failures() { # pal_create_process / pal_exec failing at start
	enclave_bundle v2 "log=/share/pal.log,fail_create=-12"
	cfg_args app hello
	ct_run
	assert_fails "run with pal_create_process failing"
	assert_match "libtestpal-v2\\.so.*Cannot allocate memory" "$ERR" "error"
	wait_log_call destroy 5
	enclave_bundle occlum "log=/share/pal.log,fail_exec=-7"
	cfg_args app hello
	ct_run
	assert_fails "run with pal_exec failing (Occlum: -1, errno E2BIG)"
	assert_match "libtestpal-occlum\\.so.*Argument list too long" "$ERR" "error"
	enclave_bundle v1 "log=/share/pal.log,fail_exec=-7"
	cfg_args app hello
	ct_run
	assert_fails "run with v1 pal_exec failing"
	assert_match "libtestpal-v1\\.so.*Argument list too long" "$ERR" "error"
}

t_missing_symbol() {
	local v sym
	for v in v1-noexec:pal_exec v1-noinit:pal_init v2-nocreate:pal_create_process \
		v2-noexec:pal_exec v2-nokill:pal_kill v2-nodestroy:pal_destroy \
		v3-noreport:pal_get_local_report; do
		sym=${v#*:}
		enclave_bundle "${v%%:*}"
		cfg_args app hello
		assert_create_refused "libtestpal-${v%%:*}\\.so.*${sym}([^_a-z]|$)"
		[ ! -e "$SH/pal.log" ] || assert_not_contains init "$(calls)" "pal_init before the symbol check"
	done
}

t_version4() {
	enclave_bundle v4
	cfg_args app hello
	assert_create_refused "libtestpal-v4\\.so.*version 4"
	[ ! -e "$SH/pal.log" ] || fail "pal_init called on a version-4 PAL: $(calls)"
}

t_nonexistent_pal() {
	enclave_bundle "$PALDIR/libtestpal-nosuch.so"
	cfg_args app hello
	assert_create_refused "libtestpal-nosuch\\.so.*No such file or directory"
}

t_pal_outside_dirs() {
	mkdir -p "$T/pal" "$T/pal2" "$T/elsewhere"
	cp "$PALDIR/libtestpal-v2.so" "$T/pal/ok.so"
	cp "$PALDIR/libtestpal-v2.so" "$T/pal2/x.so"
	cp "$PALDIR/libtestpal-v2.so" "$T/elsewhere/x.so"
	ln -sf "$T/elsewhere/x.so" "$T/pal/link.so"
	local EXTRA_PAL_DIRS=$T/pal
	# control: inside the allowed dir
	enclave_bundle "$T/pal/ok.so"
	cfg_args app hello
	ct_run
	assert_rc 0 "PAL in an extra --pal-dir"
	for p in "$T/elsewhere/x.so" "$T/pal/link.so" "$T/pal/../elsewhere/x.so" "$T/pal2/x.so"; do
		enclave_bundle "$p"
		cfg_args app hello
		assert_create_refused "${p##*/}.*not in an allowed PAL directory"
		[ ! -e "$SH/pal.log" ] || fail "$p was loaded: $(calls)"
	done
	# without --pal-dir the build's PALs are not allowed (default dir or /etc/rune/config.json)
	if [ -e /etc/rune/config.json ] && grep -q "$PALDIR" /etc/rune/config.json; then
		return 0
	fi
	local NO_PAL_DIRS=1 EXTRA_PAL_DIRS=
	enclave_bundle v2
	cfg_args app hello
	assert_create_refused "libtestpal-v2\\.so.*not in an allowed PAL directory"
}

t_pal_permissions() {
	mkdir -p "$T/pal"
	local EXTRA_PAL_DIRS=$T/pal m
	for m in 0775 0757 0666; do
		cp "$PALDIR/libtestpal-v2.so" "$T/pal/m$m.so"
		chmod $m "$T/pal/m$m.so"
		enclave_bundle "$T/pal/m$m.so"
		cfg_args app hello
		assert_create_refused "m$m\\.so.*(owned by root|writable)"
		[ ! -e "$SH/pal.log" ] || fail "a $m PAL was loaded: $(calls)"
	done
	cp "$PALDIR/libtestpal-v2.so" "$T/pal/user.so"
	chown 1000:1000 "$T/pal/user.so"
	enclave_bundle "$T/pal/user.so"
	cfg_args app hello
	assert_create_refused "user\\.so.*owned by root"
	mkdir -p "$T/pal/dir.so"
	enclave_bundle "$T/pal/dir.so"
	cfg_args app hello
	assert_create_refused "dir\\.so.*regular file"
}

t_annotations_only() {
	fast_bundle
	annot_set enclave.type intelSgx
	annot_set enclave.runtime.path "$PALDIR/libtestpal-v2.so"
	annot_set enclave.runtime.args "log=/share/pal.log,x,y"
	annot_set enclave.runtime.loglevel error
	cfg_args app hello
	ct_run
	assert_rc 0 "run configured by annotations"
	assert_eq "testpal v2: hello" "$OUT" "stdout"
	assert_eq "$(expected_calls v2)" "$(calls)" calls
	assert_eq "log=/share/pal.log x y" "$(recf init "['args']")" "args from the annotation"
	assert_eq error "$(recf init "['log_level']")" "log level from the annotation"
	assert_eq '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]' "$(recf create_process "['env']" | no_home)" "env"

	# env wins over annotations, key by key
	fast_bundle
	annot_set enclave.type intelSgx
	annot_set enclave.runtime.path "$PALDIR/libtestpal-nosuch.so"
	annot_set enclave.runtime.args "log=/share/annot.log"
	annot_set enclave.runtime.loglevel error
	env_set ENCLAVE_RUNTIME_PATH "$PALDIR/libtestpal-v3.so"
	env_set ENCLAVE_RUNTIME_ARGS "log=/share/pal.log"
	cfg_args app hello
	ct_run
	assert_rc 0 "run with env over annotations"
	assert_eq "testpal v3: hello" "$OUT" "the env's PAL ran"
	[ ! -e "$SH/annot.log" ] || fail "the annotation's args were used"
	assert_eq error "$(recf init "['log_level']")" "log level from the annotation (no env key)"
	assert_eq '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]' "$(recf create_process "['env']" | no_home)" "env"
}

t_unknown_type() {
	enclave_bundle v2
	env_set ENCLAVE_TYPE intelTdx
	cfg_args app hello
	assert_create_refused "intelTdx"
	[ ! -e "$SH/pal.log" ] || fail "the PAL was loaded for an unknown type"
	fast_bundle
	annot_set enclave.type amdSev
	annot_set enclave.runtime.path "$PALDIR/libtestpal-v2.so"
	cfg_args app hello
	assert_create_refused "amdSev"
	# ENCLAVE_TYPE without a runtime path
	fast_bundle
	env_set ENCLAVE_TYPE intelSgx
	cfg_args app hello
	assert_create_refused "ENCLAVE_RUNTIME_PATH"
}

# ------------------------------------------------------------------ exec

# running_sleeper VARIANT: a running enclave container (run -d) whose workload sleeps
running_sleeper() {
	enclave_bundle "$1"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_log_call exec 10
}
# last_rec CALL: the last record of CALL (python subscript follows)
last_rec() { plog "[r for r in L if r['call'] == '$1'][-1]$2"; }

t_exec_args() { # VARIANT (v2+)
	running_sleeper "$1"
	rtc exec --env X=1 "$ID" app echo "a b" c
	assert_rc 0 exec
	assert_eq '["app", "echo", "a b", "c"]' "$(last_rec create_process "['argv']")" "exec argv (spaces survive)"
	assert_eq "[]" "$(last_rec create_process "['env']" | "$PY" -c 'import json,sys; print(json.dumps([e for e in json.load(sys.stdin) if e.startswith("ENCLAVE_")]))')" "no ENCLAVE_* in exec's env"
	assert_contains '"X=1"' "$(last_rec create_process "['env']")" "--env reaches exec's env"
	assert_contains '"TERM=xterm"' "$(last_rec create_process "['env']")" "the config's env reaches exec's env"
	assert_eq "$(last_rec create_process "['new_pid']")" "$(last_rec exec "['pid_arg']")" "pal_exec gets the exec'd process's pid"
	rtc exec "$ID" app exit 5
	assert_rc 5 "exec exit status"
	rtc exec "$ID" app exit 0
	assert_rc 0 "exec exit status 0"
	assert_eq running "$(status "$ID")" "container after the execs"
}

t_exec_stdio() { # VARIANT (v2+)
	running_sleeper "$1"
	RC=0
	rt exec "$ID" app hello >"$T/xo.txt" 2>"$T/xe.txt" || RC=$?
	assert_rc 0 "exec hello"
	assert_eq "$(stat -c '%d:%i' "$T/xo.txt")" "$(last_rec create_process "['stdio']['stdout']['id']")" "exec stdout fd at pal_create_process"
	assert_eq "$(stat -c '%d:%i' "$T/xe.txt")" "$(last_rec create_process "['stdio']['stderr']['id']")" "exec stderr fd at pal_create_process"
	assert_eq "$(stat -c '%d:%i' "$T/xo.txt")" "$(last_rec exec_stdio "['stdio']['stdout']['id']")" "exec stdout fd still open when pal_exec runs"
	assert_eq "$(stat -c '%d:%i' "$T/xe.txt")" "$(last_rec exec_stdio "['stdio']['stderr']['id']")" "exec stderr fd still open when pal_exec runs"
	assert_eq "testpal v$(pal_version "$1"): hello" "$(cat "$T/xo.txt")" "exec stdout"
	rtc exec "$ID" app echo "a b" c
	assert_eq "a b|c" "$OUT" "exec output"
	RC=0
	OUT=$(echo piped | rt exec "$ID" app cat) || RC=$?
	assert_eq piped "$OUT" "exec stdin"
}

t_exec_argv0() { # VARIANT (v2+): as for the container's process
	running_sleeper "$1"
	rtc exec "$ID" sh exit 0
	assert_rc 0 "exec sh"
	assert_eq '["sh", "exit", "0"]' "$(last_rec create_process "['argv']")" "exec argv"
	assert_eq /bin/sh "$(last_rec create_process "['path']")" "exec: path of argv[0] 'sh' found on the container's PATH"
	rtc exec "$ID" enclave-app exit 0
	assert_eq enclave-app "$(last_rec create_process "['path']")" "exec: argv[0] not in the rootfs, as is"
}

t_exec_signal() { # VARIANT (v2+): a foreground rune exec forwards its signals
	running_sleeper "$1"
	rt exec "$ID" app sleep 30 >"$T/xs.txt" 2>&1 &
	local xp=$!
	sleep 1
	kill -TERM "$(rune_pid_of "exec $ID app sleep")"
	RC=0
	wait $xp || RC=$?
	assert_eq "[$(last_rec create_process "['new_pid']"), 15]" "$(plog '[[r["pid_arg"], r["sig"]] for r in L if r["call"] == "kill"][-1]')" "pal_kill(exec'd pid, 15)"
	assert_rc 143 "rune exec after SIGTERM"
	assert_eq running "$(status "$ID")" "container after the exec"
}

t_exec_concurrent() { # VARIANT (v2+): execs at once, each its own status
	running_sleeper "$1"
	local i p=() r=""
	for i in 1 2 3 4 5 6 7 8; do
		rt exec "$ID" app exit $i >/dev/null 2>&1 &
		p+=($!)
	done
	for i in 0 1 2 3 4 5 6 7; do
		RC=0
		wait "${p[$i]}" || RC=$?
		r+="$RC "
	done
	assert_eq "1 2 3 4 5 6 7 8 " "$r" "exit statuses of 8 concurrent execs"
	assert_eq 9 "$(plog 'sum(r["call"] == "create_process" for r in L)')" "pal_create_process calls"
}

# exec before start: no hang, and no request left to run once the container starts
t_exec_created() {
	enclave_bundle v3
	cfg_args app sleep 30
	ct_create
	local xrc n
	RT_TIMEOUT=8 rtc exec "$ID" app echo early
	xrc=$RC
	[ "$xrc" != 124 ] && [ "$xrc" != 137 ] || fail "rune exec on a created enclave container hung (killed after 8s)"
	if [ "$xrc" = 0 ]; then
		assert_eq early "$OUT" "exec on a created container"
	else
		assert_clear_error "."
	fi
	rtc start "$ID"
	assert_rc 0 start
	wait_log_call exec 5
	sleep 0.5
	n=$(plog 'sum(r["call"] == "create_process" for r in L)')
	if [ "$xrc" = 0 ]; then
		assert_eq 2 "$n" "pal_create_process calls (the exec, the workload)"
	else
		assert_eq 1 "$n" "pal_create_process calls: the refused exec must not run after start ($(plog "[r['argv'] for r in L if r['call'] == 'create_process']"))"
	fi
}

t_exec_large() { # argv and env travel whole, or are refused clearly
	running_sleeper v2
	# through --process, so that diagnostics don't print the argument
	"$PY" - "$T/big.json" <<-'EOF'
		import json, sys
		json.dump({"terminal": False, "user": {"uid": 0, "gid": 0}, "cwd": "/",
		           "env": ["PATH=/bin"], "args": ["app", "echo", "x" * 90000]}, open(sys.argv[1], "w"))
	EOF
	RT_TIMEOUT=8 rtc exec --process "$T/big.json" "$ID"
	if [ "$RC" = 0 ]; then
		assert_eq 90000 "${#OUT}" "output length of a 90000-byte argument"
	else
		OUT=
		assert_clear_error "(too (large|long|big)|E2BIG|Argument list|Message too long)"
	fi
	rtc exec "$ID" app exit 3
	assert_rc 3 "exec after the large one"
}

t_exec_stopped() {
	running_sleeper v3
	rtc kill "$ID" KILL
	wait_status "$ID" stopped 5
	rtc exec "$ID" app hello
	assert_fails "exec on a stopped container"
	assert_clear_error "stopped"
	rtc attest "$ID"
	assert_fails "attest on a stopped container"
	assert_clear_error "not running"
}

t_exec_detach() { # VARIANT (v2+)
	enclave_bundle "$1"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_log_call exec 10
	local r
	r=$(subreaper_exec "$T/p1" 0 0 "$RUNTIME" --root "$ROOT" exec -d --pid-file "$T/p1" "$ID" app exit 4)
	assert_eq "rc=0 proxy=4" "$r" "exec --detach: the pid-file's process mirrors exit 4"
	r=$(subreaper_exec "$T/p2" 15 0.5 "$RUNTIME" --root "$ROOT" exec -d --pid-file "$T/p2" "$ID" app sleep 30)
	assert_eq "rc=0 proxy=143" "$r" "exec --detach: SIGTERM to the pid-file's process ends the enclave process"
	local epid
	epid=$(plog "[r for r in L if r['call'] == 'create_process'][-1]['new_pid']")
	assert_eq "[$epid, 15]" "$(plog '[[r["pid_arg"], r["sig"]] for r in L if r["call"] == "kill"][-1]')" "pal_kill(exec'd pid, 15)"
	assert_eq running "$(status "$ID")" "container after the detached execs"
}

t_exec_v1_refused() {
	enclave_bundle v1
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	wait_log_call exec 10
	rtc exec "$ID" app hello
	assert_fails "exec into a v1 enclave container"
	assert_clear_error "v2"
	assert_eq running "$(status "$ID")" "container after the refused exec"
}

# ---------------------------------------------------------------- attest

t_attest() {
	local mr=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
	enclave_bundle v3 "log=/share/pal.log,mrenclave=$mr"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	wait_log_call exec 10
	rtc attest --report-data cafe01 "$ID"
	assert_rc 0 attest
	assert_eq "$mr" "$(echo "$OUT" | jget .mrenclave)" "mrenclave"
	assert_eq "$(printf '2222%.0s' {1..16})" "$(echo "$OUT" | jget .mrsigner)" "mrsigner"
	assert_eq "cafe01$(printf '00%.0s' {1..61})" "$(echo "$OUT" | jget .report_data)" "report_data"
	assert_eq "4660 7" "$(echo "$OUT" | jget .isvprodid) $(echo "$OUT" | jget .isvsvn)" "isvprodid isvsvn"
	assert_eq "0x0000000000000005 0x0000000000000003" "$(echo "$OUT" | jget .attributes) $(echo "$OUT" | jget .xfrm)" "attributes xfrm"
	assert_eq "512 cafe01$(printf '00%.0s' {1..61})" "$(recf get_local_report "['targetinfo_len']") $(recf get_local_report "['report_data_in']")" "pal_get_local_report's arguments"
	head -c 512 /dev/urandom >"$T/ti.bin"
	rtc attest --target-info "$T/ti.bin" "$ID"
	assert_rc 0 "attest --target-info"
	assert_eq "$(od -An -tx1 -N64 "$T/ti.bin" | tr -d ' \n')" "$(recf get_local_report "['targetinfo_head']" 1)" "target info passed"
	head -c 100 /dev/urandom >"$T/short.bin"
	rtc attest --target-info "$T/short.bin" "$ID"
	assert_fails "attest with a 100-byte target info"
	rtc attest --report-data xyz "$ID"
	assert_fails "attest with bad hex"
}

# The REPORT must carry exactly the report data asked for (the PAL places it).
t_attest_checked() {
	enclave_bundle v3 "log=/share/pal.log,report=nodata"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	wait_log_call exec 10
	rtc attest --report-data cafe01 "$ID"
	assert_fails "attest when the PAL drops the report data"
	assert_clear_error "REPORTDATA"
	rtc attest "$ID"
	assert_rc 0 "attest without report data (zero REPORTDATA expected)"
	enclave_bundle v3 "log=/share/pal.log,report=short"
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	wait_log_call exec 10
	rtc attest "$ID"
	assert_fails "attest when the PAL returns a 100-byte report"
	assert_clear_error "100 bytes"
}

t_attest_refused() {
	enclave_bundle v2
	cfg_args app sleep 30
	rtc run -d --bundle "$B" "$ID"
	wait_log_call exec 10
	rtc attest "$ID"
	assert_fails "attest on a v2 PAL"
	assert_clear_error "v3"
	fast_bundle plain
	cfg_args sleep 30
	rtc run -d --bundle "$B" "$ID"
	rtc attest "$ID"
	assert_fails "attest on an ordinary container"
	assert_clear_error "not an enclave container"
}

for v in v1 v1-nover v2 v3 occlum; do
	tcase "call order, rune run ($v)" t_order_run $v
done
for v in v1 v2 v3; do
	tcase "call order, create then start; pal_init in the rootfs and cwd ($v)" t_order_create_start $v
done
tcase "pal_init holds the workload's uid/gid/groups/caps/no_new_privs/rlimits (v2)" t_init_identity v2 true
tcase "pal_init holds the workload's identity, noNewPrivileges false (v1)" t_init_identity v1 false
tcase "pal_init holds the workload's identity (v3)" t_init_identity v3 true
tcase "seccomp is in force at pal_init" t_init_seccomp
tcase "signals rune's caller ignored are default for the PAL (v1)" t_caller_signals_reset v1
tcase "signals rune's caller ignored are default for the PAL (v3)" t_caller_signals_reset v3
tcase "SGX devices and aesmd only where the host has them" t_sgx_plumbing
tcase "argv[0] resolution (v1)" t_argv0 v1
tcase "argv[0] resolution (v3)" t_argv0 v3
tcase "env without ENCLAVE_* keys" t_env
tcase "args commas become spaces; log levels" t_args_loglevel
tcase "stdio fds (v1)" t_stdio v1
tcase "stdio fds (v2)" t_stdio v2
for v in v1 v2 v3; do
	tcase "exit codes ($v)" t_exit_codes $v
done
tcase "exit codes, Occlum wait statuses" t_occlum_exit_status
tcase "kill forwarded through pal_kill (v2)" t_kill_forward v2
tcase "kill forwarded through pal_kill (v3)" t_kill_forward v3
tcase "kill TERM on v1 ends the container with 143" t_kill_v1
tcase "kill TERM, Occlum wait status of a signal" t_kill_occlum
tcase "kill KILL" t_kill_sigkill
tcase "pal_init failure: create fails clearly, nothing left" t_init_failure
tcase "pal_init failure in the JSON log (containerd, Podman)" t_init_failure_json_log
tcase "pal_init returning -1 (-EPERM) beside a stale errno" t_init_eperm_stale_errno
tcase "pal_create_process / pal_exec failures at start" t_start_failures
tcase "missing symbols are named" t_missing_symbol
tcase "PAL API version 4 refused" t_version4
tcase "nonexistent PAL path" t_nonexistent_pal
tcase "PAL outside the allowed dirs refused" t_pal_outside_dirs
tcase "group/other-writable or non-root PAL refused" t_pal_permissions
tcase "annotations-only config; env wins" t_annotations_only
tcase "unknown ENCLAVE_TYPE refused" t_unknown_type
tcase "exec: argv, env, exit status (v2)" t_exec_args v2
tcase "exec: argv, env, exit status (v3)" t_exec_args v3
tcase "exec: stdio fds kept open until pal_exec returns (v2)" t_exec_stdio v2
tcase "exec: stdio fds kept open until pal_exec returns (Occlum-like)" t_exec_stdio occlum
tcase "exec: argv[0] resolved on the container's PATH (v3)" t_exec_argv0 v3
tcase "exec: signals to rune exec reach the process (v2)" t_exec_signal v2
tcase "exec: 8 at once (v3)" t_exec_concurrent v3
tcase "exec before start: no hang, nothing queued" t_exec_created
tcase "exec with a 90000-byte argument" t_exec_large
tcase "exec and attest on a stopped container" t_exec_stopped
tcase "exec --detach --pid-file proxy (v2)" t_exec_detach v2
tcase "exec --detach --pid-file proxy (Occlum-like)" t_exec_detach occlum
tcase "exec into a v1 enclave refused" t_exec_v1_refused
tcase "attest through pal_get_local_report (v3)" t_attest
tcase "attest checks the REPORT's REPORTDATA and size" t_attest_checked
tcase "attest refused for v2 and ordinary containers" t_attest_refused
