#!/bin/bash
# timeout: 200
# End to end: the skeleton enclave runtime (liberpal-skeleton-v{1,2,3}.so and
# its signed enclave) through rune, on whatever SGX backend this host has
# (the emulator without /dev/sgx_enclave): output, exit codes, SIGTERM,
# exec, exec --detach --pid-file, attest against `sgx-tools dump`, a
# tampered SIGSTRUCT or enclave refused at create, a PAL outside the allowed
# dirs refused.  Every case also checks nothing is left behind.
. "$(dirname "$0")/lib.sh"

SGX_TOOLS=$BUILD/bin/sgx-tools
need_builds "$SKELLIB/liberpal-skeleton-v1.so" "$SKELLIB/liberpal-skeleton-v3.so" \
	"$SKELDIR/encl.elf" "$SKELDIR/encl.ss" "$SGX_TOOLS"

GREETING="Hello from the skeleton enclave!"
SIGNED_MR=$("$SGX_TOOLS" dump "$SKELDIR/encl.ss" | sed -n 's/^mrenclave: //p')
SIGNED_SIGNER=$("$SGX_TOOLS" dump "$SKELDIR/encl.ss" | sed -n 's/^mrsigner: //p')
BACKEND=emulator
[ -e /dev/sgx_enclave ] && BACKEND=sgx

# skel_bundle VERSION [WHERE]: an enclave container running the skeleton.
# WHERE: "cwd" (default): the process cwd is /srv, where lib.sh put
# encl.elf/encl.ss in the shared rootfs; "args": $SKELDIR (or $ENCL_DIR) is
# bind-mounted read-only at /enclave and named in ENCLAVE_RUNTIME_ARGS (the
# cwd, /home/test, has no enclave).
skel_bundle() {
	local v=$1 where=${2:-cwd} src=${ENCL_DIR:-$SKELDIR}
	local pal=${SKEL_PAL:-$SKELLIB/liberpal-skeleton-v$v.so}
	if [ "$where" = cwd ]; then
		fast_bundle "c$((_nfb + 1))" -- ENCLAVE_TYPE=intelSgx ENCLAVE_RUNTIME_PATH="$pal" ENCLAVE_RUNTIME_LOGLEVEL=info
		cfg_set .process.cwd '"/srv"'
	else
		fast_bundle "c$((_nfb + 1))" -- ENCLAVE_TYPE=intelSgx ENCLAVE_RUNTIME_PATH="$pal" ENCLAVE_RUNTIME_LOGLEVEL=info \
			ENCLAVE_RUNTIME_ARGS=/enclave
		cfg_py "c['process']['cwd'] = '/home/test'; c['mounts'].append({'destination': '/enclave', 'type': 'bind', 'source': '$src', 'options': ['rbind', 'ro']})"
	fi
}

t_hello() { # VERSION
	skel_bundle "$1"
	cfg_args skeleton hello
	ct_run
	assert_rc 0 "run hello"
	assert_eq "$GREETING" "$OUT" "stdout"
	[ $BACKEND = sgx ] || assert_contains "SGX emulator" "$ERR" "the emulator says so"
	assert_nothing_left "$ID"
	# the enclave from the dir named in the args; no command is hello
	skel_bundle "$1" args
	cfg_args skeleton
	ct_run
	assert_rc 0 "run with the enclave dir in ENCLAVE_RUNTIME_ARGS"
	assert_eq "$GREETING" "$OUT" "stdout"
	# report: the enclave prints its own MRENCLAVE
	skel_bundle "$1" args
	cfg_args skeleton report
	ct_run
	assert_rc 0 "run report"
	assert_eq "mrenclave: $SIGNED_MR" "$(echo "$OUT" | grep '^mrenclave:')" "the enclave's MRENCLAVE is the signed one"
}

t_exit_codes() { # VERSION
	local n
	for n in 0 7 255; do
		skel_bundle "$1" args
		cfg_args skeleton exit $n
		ct_run
		assert_rc $n "run of 'exit $n'"
	done
	skel_bundle "$1" args
	cfg_args skeleton bogus
	ct_run
	assert_rc 2 "unknown command"
	assert_contains usage "$ERR" "usage on stderr"
}

t_sigterm() { # VERSION
	skel_bundle "$1" args
	cfg_args skeleton sleep 60
	ct_bg
	wait_status "$ID" running 10
	sleep 0.3
	local start=$SECONDS
	rtc kill "$ID" TERM
	assert_rc 0 "kill TERM"
	RC=0
	wait "$BGPID" || RC=$?
	ERR=$(cat "$T/bg.err")
	assert_rc 143 "container exit after kill TERM"
	[ $((SECONDS - start)) -lt 10 ] || fail "SIGTERM took $((SECONDS - start))s"
	assert_nothing_left "$ID"
	# run -d, kill, state, delete (containerd's way)
	skel_bundle "$1" args
	cfg_args skeleton sleep 60
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_status "$ID" running 5
	sleep 0.3
	rtc kill "$ID" TERM
	assert_rc 0 "kill TERM"
	wait_status "$ID" stopped 10
	rtc delete "$ID"
	assert_rc 0 delete
	assert_nothing_left "$ID"
}

# exec runs a new process in the same enclave (v2, v3)
skel_running() { # VERSION
	skel_bundle "$1" args
	cfg_args skeleton sleep 60
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_status "$ID" running 5
}

t_exec_status() { # VERSION
	skel_running "$1"
	rtc exec "$ID" skeleton exit 5
	assert_rc 5 "exec exit status"
	rtc exec "$ID" skeleton exit 0
	assert_rc 0 "exec exit 0"
	rtc exec "$ID" skeleton bogus
	assert_rc 2 "exec of an unknown enclave command"
	assert_eq running "$(status "$ID")" "container after the execs"
}

# pal_create_process has no user or cwd: asking for others is refused, not ignored.
t_exec_identity() { # VERSION
	skel_running "$1"
	rtc exec --user 0:0 --cwd "$(cfg_get .process.cwd)" "$ID" skeleton exit 0
	assert_rc 0 "exec as the container's own user and cwd"
	rtc exec --user 1000:1000 "$ID" skeleton exit 0
	assert_fails "exec --user 1000:1000 into an enclave"
	assert_clear_error "runs as its user 0:0, not 1000:1000" "exec --user"
	rtc exec --cwd /tmp "$ID" skeleton exit 0
	assert_fails "exec --cwd /tmp into an enclave"
	assert_clear_error "runs in its cwd .*, not /tmp" "exec --cwd"
	assert_eq running "$(status "$ID")" "container after the refused execs"
}

t_exec_output() { # VERSION
	skel_running "$1"
	rtc exec "$ID" skeleton hello
	assert_rc 0 "exec hello"
	assert_eq "$GREETING" "$OUT" "exec output"
	rtc exec "$ID" skeleton report
	assert_rc 0 "exec report"
	assert_eq "mrenclave: $SIGNED_MR" "$(echo "$OUT" | grep '^mrenclave:')" "exec'd process runs in the same (signed) enclave"
}

t_exec_signals() { # VERSION: a foreground exec gets our signals; detached, the pid file's proxy
	skel_running "$1"
	rt exec "$ID" skeleton sleep 60 >"$T/x.out" 2>&1 &
	local xp=$!
	sleep 1
	kill -TERM "$(rune_pid_of "exec $ID skeleton sleep")"
	RC=0
	wait $xp || RC=$?
	assert_rc 143 "exec'd sleep after SIGTERM to rune exec"
	assert_eq running "$(status "$ID")" "container after the exec"
	# detached: the pid file names a proxy whose exit status mirrors the enclave process
	local r
	r=$(subreaper_exec "$T/p1" 0 0 "$RUNTIME" --root "$ROOT" exec -d --pid-file "$T/p1" "$ID" skeleton exit 4)
	assert_eq "rc=0 proxy=4" "$r" "exec --detach: exit 4 mirrored"
	r=$(subreaper_exec "$T/p2" 15 0.5 "$RUNTIME" --root "$ROOT" exec --detach --pid-file "$T/p2" "$ID" skeleton sleep 60)
	assert_eq "rc=0 proxy=143" "$r" "exec --detach: SIGTERM to the proxy ends the enclave process"
	assert_eq running "$(status "$ID")" "container after the detached execs"
	rtc kill "$ID" TERM
	wait_status "$ID" stopped 10
}

t_exec_v1() {
	skel_bundle 1 args
	cfg_args skeleton sleep 60
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_status "$ID" running 5
	rtc exec "$ID" skeleton hello
	assert_fails "exec into a v1 enclave"
	assert_clear_error "v2"
}

t_attest() {
	skel_bundle 3 args
	cfg_args skeleton sleep 60
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_status "$ID" running 5
	sleep 0.3
	local rd=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	rtc attest --report-data "$rd" "$ID"
	assert_rc 0 attest
	assert_eq "$SIGNED_MR" "$(echo "$OUT" | jget .mrenclave)" "attest mrenclave = sgx-tools dump's"
	assert_eq "$SIGNED_SIGNER" "$(echo "$OUT" | jget .mrsigner)" "attest mrsigner = sgx-tools dump's"
	assert_eq "$rd" "$(echo "$OUT" | jget .report_data)" "report_data echoed"
	assert_eq "$BACKEND" "$(echo "$OUT" | jget .source)" "source"
	assert_eq 0x0000000000000003 "$(echo "$OUT" | jget .xfrm)" "xfrm (signed 0x3)"
	assert_match '^0x00000000000000(04|05|06|07)$' "$(echo "$OUT" | jget .attributes)" "attributes: the signed MODE64BIT, INIT set"
	assert_eq "0 0" "$(echo "$OUT" | jget .isvprodid) $(echo "$OUT" | jget .isvsvn)" "isvprodid isvsvn (signed 0 0)"
	rtc attest --report-data abcd "$ID"
	assert_rc 0 "attest, short report data"
	assert_eq "abcd$(printf '00%.0s' {1..62})" "$(echo "$OUT" | jget .report_data)" "short report_data zero-padded"
	rtc attest "$ID"
	assert_rc 0 "attest, no report data"
	assert_eq "$(printf '00%.0s' {1..64})" "$(echo "$OUT" | jget .report_data)" "no report_data: zeros"
	rtc kill "$ID" TERM
	wait_status "$ID" stopped 10
}

t_attest_refused_v2() {
	skel_bundle 2 args
	cfg_args skeleton sleep 60
	rtc run -d --bundle "$B" "$ID"
	wait_status "$ID" running 5
	rtc attest "$ID"
	assert_fails "attest on a v2 PAL"
	assert_clear_error "v3"
}

# assert_create_refused MUST-MENTION-REGEX (rune's error line) PAL-REGEX (anywhere on stderr)
assert_create_refused() {
	local err1
	rtc create --bundle "$B" "$ID"
	assert_fails create
	assert_nothing_left "$ID"
	err1=$ERR
	ct_run
	assert_fails run
	assert_nothing_left "$ID"
	assert_match "$1" "$ERR" "run's error"
	ERR=$err1
	assert_match "$1" "$ERR" "create's error"
	[ -z "${2:-}" ] || assert_match "$2" "$ERR" "create's stderr"
	# rune's own error line carries the PAL's reason: clients show only that line.
	[ -z "${2:-}" ] || assert_match "$1.*: .*$2" "$(printf '%s\n' "$ERR" | grep '^rune: ')" \
		"rune's error line"
}

t_tampered_sig() { # VERSION: a SIGSTRUCT whose signature no longer verifies
	mkdir -p "$T/bad-sig"
	cp "$SKELDIR/encl.elf" "$SKELDIR/encl.ss" "$T/bad-sig/"
	printf '\xff' | dd of="$T/bad-sig/encl.ss" bs=1 seek=600 conv=notrunc status=none
	ENCL_DIR=$T/bad-sig skel_bundle "$1" args
	cfg_args skeleton hello
	assert_create_refused "liberpal-skeleton-v$1\\.so.*pal_init.*Operation not permitted" "EINIT: SGX_INVALID_(SIGNATURE|SIG_STRUCT)"
}

t_tampered_elf() { # VERSION: an enclave that isn't the one signed
	mkdir -p "$T/bad-elf"
	cp "$SKELDIR/encl.elf" "$T/bad-elf/"
	"$SGX_TOOLS" sign --key "$SKELDIR/signing_key.pem" --elf "$SKELDIR/encl.elf" --out "$T/bad-elf/encl.ss" >/dev/null
	local off
	off=$(readelf -lW "$SKELDIR/encl.elf" | awk '$1 == "LOAD" && / E / { print $2; exit }')
	[ -n "$off" ] || fail "no executable segment in encl.elf"
	printf '\x90' | dd of="$T/bad-elf/encl.elf" bs=1 seek=$((off + 16)) conv=notrunc status=none
	cmp -s "$SKELDIR/encl.elf" "$T/bad-elf/encl.elf" && fail "encl.elf unchanged"
	ENCL_DIR=$T/bad-elf skel_bundle "$1" args
	cfg_args skeleton hello
	assert_create_refused "liberpal-skeleton-v$1\\.so.*pal_init.*Operation not permitted" "EINIT: SGX_INVALID_MEASUREMENT"
}

t_no_enclave() { # VERSION: no encl.elf/encl.ss in the cwd
	skel_bundle "$1"
	cfg_set .process.cwd '"/home/test"'
	cfg_args skeleton hello
	assert_create_refused "liberpal-skeleton-v$1\\.so.*pal_init" "encl\\.ss"
}

t_pal_outside() {
	mkdir -p "$T/elsewhere"
	cp "$SKELLIB/liberpal-skeleton-v3.so" "$T/elsewhere/"
	SKEL_PAL=$T/elsewhere/liberpal-skeleton-v3.so skel_bundle 3 args
	cfg_args skeleton hello
	assert_create_refused "liberpal-skeleton-v3\\.so.*not in an allowed PAL directory"
	# the build's own PAL, but no --pal-dir (default dir, /etc/rune/config.json)
	if [ -e /etc/rune/config.json ] && grep -q "$SKELLIB" /etc/rune/config.json; then
		return 0
	fi
	local NO_PAL_DIRS=1
	skel_bundle 3 args
	cfg_args skeleton hello
	assert_create_refused "liberpal-skeleton-v3\\.so.*not in an allowed PAL directory"
}

for v in 1 2 3; do
	tcase "skeleton v$v: hello, report, enclave from cwd or args" t_hello $v
	tcase "skeleton v$v: exit codes" t_exit_codes $v
	tcase "skeleton v$v: SIGTERM ends sleep with 143" t_sigterm $v
done
for v in 2 3; do
	tcase "skeleton v$v: exec exit status" t_exec_status $v
	tcase "skeleton v$v: exec output" t_exec_output $v
	tcase "skeleton v$v: exec --user/--cwd other than the container's refused" t_exec_identity $v
	tcase "skeleton v$v: exec signals, exec --detach --pid-file proxy" t_exec_signals $v
done
t_backend_said() { # VERSION: the backend can't be hidden by the container's log level
	skel_bundle "$1"
	env_set ENCLAVE_RUNTIME_LOGLEVEL off
	cfg_args skeleton sleep 100
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d with ENCLAVE_RUNTIME_LOGLEVEL=off"
	local want=emulator
	[ $BACKEND = sgx ] && want=hardware
	[ $BACKEND = sgx ] || assert_contains "SGX emulator" "$ERR" "the emulator's warning at log level off"
	assert_eq "$want" "$(rt state "$ID" | jq_py 'd["annotations"]["rune.enclave.backend"]')" \
		"state annotation rune.enclave.backend"
}


t_garbage_sigstruct() { # VERSION: a file of noise where encl.ss should be
	mkdir -p "$T/garbage"
	cp "$SKELDIR/encl.elf" "$T/garbage/"
	head -c 1808 /dev/urandom >"$T/garbage/encl.ss"
	ENCL_DIR=$T/garbage skel_bundle "$1" args
	cfg_args skeleton hello
	assert_create_refused "liberpal-skeleton-v$1\\.so.*pal_init.*Operation not permitted" "not a SIGSTRUCT"
}

t_exec_unknown_program() { # VERSION: one program lives in the skeleton enclave
	skel_bundle "$1"
	cfg_args skeleton sleep 30
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc exec "$ID" frobnicate
	assert_fails "exec of a program the enclave doesn't have"
	assert_contains "No such file or directory" "$ERR" "exec's error"
	rtc exec "$ID" skeleton frobnicate
	assert_rc 2 "exec of an unknown skeleton command"
}

t_attest_bad_report_data() {
	skel_bundle 3
	cfg_args skeleton sleep 30
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc attest --report-data abc "$ID"
	assert_fails "odd-length report data"
	assert_contains "an odd number of hex digits" "$ERR" "attest's error"
	rtc attest --report-data zz "$ID"
	assert_fails "non-hex report data"
	assert_contains "not hex" "$ERR" "attest's error"
	rtc attest --report-data "$(printf 'ab%.0s' $(seq 65))" "$ID"
	assert_fails "65 bytes of report data"
	assert_contains "more than 64 bytes" "$ERR" "attest's error"
}


t_ps_shows_workload() { # VERSION: process 1 of an enclave container is its workload in ps
	skel_bundle "$1"
	cfg_args skeleton sleep 30
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	local pid
	pid=$(rt state "$ID" | jget .pid)
	assert_eq "skeleton sleep 30" "$(ps -o args= -p "$pid")" "ps of the container's process 1"
	rtc ps "$ID"
	assert_contains "skeleton sleep 30" "$OUT" "rune ps"
	assert_not_contains "$ROOT" "$OUT" "rune ps shows no host paths"
}


t_trace_more_than_info() { # VERSION: ENCLAVE_RUNTIME_LOGLEVEL=trace shows the PAL host's and the loader's steps
	local info trace
	skel_bundle "$1"
	cfg_args skeleton hello
	ct_run
	assert_rc 0 "run at log level info"
	info=$(printf '%s\n' "$ERR" | grep -c . || true)
	skel_bundle "$1"
	env_set ENCLAVE_RUNTIME_LOGLEVEL trace
	cfg_args skeleton hello
	ct_run
	assert_rc 0 "run at log level trace"
	trace=$(printf '%s\n' "$ERR" | grep -c . || true)
	[ "$trace" -gt "$info" ] || fail "trace printed $trace lines, info $info"
	assert_contains "EINIT done" "$ERR" "the loader's steps at trace"
	assert_contains "EENTER" "$ERR" "the enclave entries at trace"
	assert_eq "$GREETING" "$OUT" "stdout stays the workload's"
}

tcase "skeleton v1: exec refused clearly" t_exec_v1
tcase "skeleton v3: attest matches sgx-tools dump" t_attest
tcase "skeleton v2: attest refused clearly" t_attest_refused_v2
tcase "skeleton v3: tampered SIGSTRUCT refused at create, nothing left" t_tampered_sig 3
tcase "skeleton v1: tampered SIGSTRUCT refused at create, nothing left" t_tampered_sig 1
tcase "skeleton v2: enclave not the signed one refused at create, nothing left" t_tampered_elf 2
tcase "skeleton v3: no enclave in the cwd: create fails clearly" t_no_enclave 3
tcase "skeleton PAL outside the allowed dirs refused" t_pal_outside
tcase "skeleton v3: the backend is said on stderr and in the state, whatever the log level" t_backend_said 3
tcase "skeleton v3: a garbage SIGSTRUCT is named as such" t_garbage_sigstruct 3
tcase "skeleton v3: exec of a program the enclave doesn't have is refused" t_exec_unknown_program 3
tcase "skeleton v3: attest --report-data errors say what is wrong" t_attest_bad_report_data
tcase "skeleton v3: ps shows the workload as process 1, not rune's command line" t_ps_shows_workload 3
tcase "skeleton v3: log level trace shows the loader and the PAL host at work" t_trace_more_than_info 3
