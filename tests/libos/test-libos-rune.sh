#!/bin/bash
# timeout: 240
# The LibOS end to end through rune: `rune-image build --bundle` turns a
# busybox bundle with a static probe (PIE, or ET_EXEC) into a TEE image (and sets the
# ENCLAVE_* settings and process.args), `rune run` runs it inside the
# enclave (the emulator here). Output byte for byte as the same program
# run natively in the rootfs (chroot), rune's exit status is the
# workload's, the workload's env has no ENCLAVE_* keys, a tampered trusted
# file is EACCES with one line, and nothing is left behind.
. "$(dirname "$0")/../enclave/lib.sh"
. "$(dirname "$0")/lib.sh"
libos_need

build_probes "$T" >/dev/null 2>&1 || true

# libos_bundle PROBE ARGS...: a bundle with /bin/probe, built into a TEE image
libos_bundle() {
	local probe=$1
	shift
	new_bundle
	cfg_set .process.terminal false
	cp "$probe" "$B/rootfs/bin/probe"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 32M --trusted /etc/hostname \
		--trusted /etc/group -- /bin/probe "$@" >"$T/mr" 2>"$T/mr.err" ||
		fail "rune-image build: $(cat "$T/mr.err")"
	grep -q '^MRENCLAVE: [0-9a-f]\{64\}$' "$T/mr" || fail "no MRENCLAVE printed"
}

t_same() { # LIBC
	local probe=$T/probe-$1 nout nrc
	[ -x "$probe" ] || skip "no $1 static PIE (musl-tools missing?)"
	libos_bundle "$probe" args env PATH env ENCLAVE_TYPE cat /etc/hostname cat /etc/group time exit 5
	assert_eq "$(jarr /bin/probe args env PATH env ENCLAVE_TYPE cat /etc/hostname cat /etc/group time exit 5 | tr -d ' ')" \
		"$(cfg_get .process.args | tr -d ' \n')" "process.args set by rune-image"
	ct_run
	assert_rc 5 "rune run (the workload's exit status)"
	set +e
	nout=$(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm \
		chroot "$B/rootfs" /bin/probe args env PATH env ENCLAVE_TYPE cat /etc/hostname \
		cat /etc/group time exit 5)
	nrc=$?
	set -e
	assert_eq 5 "$nrc" "native exit status"
	[ -n "$nout" ] || fail "no native output"
	[ "$OUT" == "$nout" ] || fail "output differs from the native run: $(diff <(echo "$nout") <(echo "$OUT") | head -20)"
	assert_contains "ENCLAVE_TYPE=(unset)" "$OUT" "ENCLAVE_* kept from the workload"
	[ -e /dev/sgx_enclave ] || assert_contains "SGX emulator" "$ERR" "the emulator says so"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_tampered() {
	libos_bundle "$T/probe-glibc" cat /etc/hostname exit 0
	echo "rune-tesX" >"$B/rootfs/etc/hostname"
	ct_run
	assert_rc 0 "rune run"
	assert_eq "open /etc/hostname: Permission denied" "$OUT" "the workload sees EACCES"
	assert_eq 1 "$(echo "$ERR" | grep -c '^libos: /etc/hostname: SHA-256 differs from the manifest: refused$')" \
		"one stderr line naming the file"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_crash() {
	libos_bundle "$T/probe-glibc" crash
	ct_run
	assert_rc 139 "rune run of a crashing workload"
	assert_contains "killed by signal 11" "$ERR" "one line says why"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_threads() {
	gcc -static -O2 -o "$T/threads" "$SRCDIR/tests/libos/threads.c" || fail "build threads.c"
	libos_bundle "$T/threads" work 8
	ct_run
	assert_rc 0 "rune run"
	assert_eq "$("$T/threads" work 8)" "$OUT" "output as native"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_go_http() {
	local pid out
	command -v go >/dev/null || skip "no go (apt-get install golang-go)"
	command -v curl >/dev/null || skip "no curl"
	(cd "$T" && env HOME="$T" GOCACHE="$T/gocache" GOPATH="$T/gopath" GO111MODULE=off \
		CGO_ENABLED=0 go build -o "$T/httpd" "$SRCDIR/tests/libos/go/httpd.go") ||
		fail "go build"
	new_bundle
	cfg_set .process.terminal false
	cp "$T/httpd" "$B/rootfs/bin/httpd"
	# The Go runtime reserves about 700 MiB of address space: the heap holds it.
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 1G --no-default-trusted \
		-- /bin/httpd 127.0.0.1:8080 >/dev/null 2>"$T/mr.err" || fail "rune-image: $(cat "$T/mr.err")"
	ct_serve 127.0.0.1:8080 "$T/http.out"
	pid=$CT_PID
	out=$(nsenter --net="/proc/$pid/ns/net" curl -s --max-time 20 http://127.0.0.1:8080/hi)
	assert_eq "hello from GET /hi" "$out" "GET /hi through the container's network namespace"
	out=$(nsenter --net="/proc/$pid/ns/net" curl -s --max-time 20 "http://127.0.0.1:8080/sum?n=100")
	assert_eq "sum 100 = 5050" "$out" "GET /sum?n=100"
	curl -s --max-time 2 http://127.0.0.1:8080/hi >/dev/null 2>&1 &&
		fail "the host's own loopback reached the container's server"
	out=$(nsenter --net="/proc/$pid/ns/net" curl -s --max-time 20 http://127.0.0.1:8080/quit)
	assert_eq "bye" "$out" "GET /quit"
	wait_status "$ID" stopped 30
	assert_eq "$(printf 'listening on 127.0.0.1:8080\nserved')" "$(cat "$T/http.out")" \
		"the server's own output"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_kill() {
	local i rc=0
	libos_bundle "$T/probe-glibc" compute-handler
	ct_bg
	for ((i = 0; i < 200; i++)); do
		grep -q computing "$T/bg.out" && break
		sleep 0.1
	done
	grep -q computing "$T/bg.out" || fail "the workload never started: $(cat "$T/bg.err")"
	rt kill "$ID" USR1 || fail "rune kill"
	wait "$BGPID" || rc=$?
	assert_eq 0 "$rc" "rune run's status: the handler ran and the workload ended by itself"
	assert_eq "$(printf 'computing\nhandler ran for 10, xmm8 kept')" "$(cat "$T/bg.out")" \
		"the workload's handler ran where it was computing"
	libos_bundle "$T/probe-glibc" compute
	ct_bg
	for ((i = 0; i < 200; i++)); do
		grep -q computing "$T/bg.out" && break
		sleep 0.1
	done
	rt kill "$ID" TERM || fail "rune kill TERM"
	rc=0
	wait "$BGPID" || rc=$?
	assert_eq 143 "$rc" "TERM ends a workload that makes no system call (143)"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_attest() {
	local i rd=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
	libos_bundle "$T/probe-glibc" sleep 60000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_status "$ID" running 10
	# The service TCS answers once the LibOS has started (bounded retries).
	for ((i = 0; i < 50; i++)); do
		rtc attest --report-data "$rd" "$ID"
		[ "$RC" = 0 ] && break
		sleep 0.2
	done
	assert_rc 0 "attest: $ERR"
	assert_eq "$(sed -n 's/^MRENCLAVE: //p' "$T/mr")" "$(echo "$OUT" | jget .mrenclave)" \
		"attest's MRENCLAVE is the one rune-image printed"
	assert_eq "$(sed -n 's/^MRSIGNER: //p' "$T/mr")" "$(echo "$OUT" | jget .mrsigner)" \
		"attest's MRSIGNER is the signing key's"
	assert_eq "$rd$(printf '00%.0s' {1..32})" "$(echo "$OUT" | jget .report_data)" "report data"
	rtc kill "$ID" KILL
	wait_status "$ID" stopped 10
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_processes() {
	local nout i
	gcc -static-pie -O2 -o "$T/sp" "$SRCDIR/tests/libos/spawn.c" || fail "build spawn.c"
	new_bundle
	cfg_set .process.terminal false
	cp "$T/sp" "$B/rootfs/bin/sp"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --host-argv -- /bin/sp >/dev/null \
		2>"$T/mr.err" || fail "rune-image: $(cat "$T/mr.err")"
	ct_run
	assert_rc 0 "rune run"
	nout=$(chroot "$B/rootfs" /bin/sp 2>/dev/null)
	[ "$OUT" == "$nout" ] || fail "output differs from the native run: $(diff <(echo "$nout") <(echo "$OUT") | head -20)"
	rt delete "$ID" >/dev/null 2>&1 || true
	# rune exec: another program of the image in an enclave of its own, beside the workload.
	cfg_set .process.args '["/bin/sp", "child", "nap", "60"]'
	ct_bg
	for ((i = 0; i < 200; i++)); do
		grep -q napping "$T/bg.out" && break
		sleep 0.1
	done
	grep -q napping "$T/bg.out" || fail "the workload never started: $(cat "$T/bg.err")"
	rtc exec "$ID" /bin/sp child hello from exec
	assert_rc 0 "rune exec: $ERR"
	assert_eq "child: argc 5: from exec (env FOO=-)" "$OUT" "the exec'd program's output"
	rtc exec "$ID" /bin/sp child exit 4
	assert_rc 4 "rune exec's status is the program's"
	rtc exec "$ID" /bin/nothing-here
	[ "$RC" != 0 ] || fail "exec of a program outside the manifest succeeded"
	assert_contains "/bin/nothing-here: not a trusted file" "$ERR" "one line names it"
	rt kill "$ID" KILL || true
	wait "$BGPID" || true
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
	# An image whose manifest fixes argv: exec is refused, with one line.
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" -- /bin/sp child nap 60 >/dev/null \
		2>"$T/mr.err" || fail "rune-image: $(cat "$T/mr.err")"
	ct_bg
	for ((i = 0; i < 200; i++)); do
		grep -q napping "$T/bg.out" && break
		sleep 0.1
	done
	rtc exec "$ID" /bin/sp child hello
	assert_rc 126 "rune exec where the manifest fixes argv"
	assert_contains "exec refused: the manifest fixes the program" "$ERR" "one line says why"
	rt kill "$ID" KILL || true
	wait "$BGPID" || true
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_dynamic() { # Debian's own coreutils sha256sum (dynamic: ld.so, libc.so.6) in the enclave
	local nout l
	new_bundle
	cfg_set .process.terminal false
	mkdir -p "$B/rootfs/usr/bin" "$B/rootfs/lib/x86_64-linux-gnu" "$B/rootfs/lib64" "$B/rootfs/data"
	cp /usr/bin/sha256sum "$B/rootfs/usr/bin/sha256sum"
	for l in libc.so.6 ld-linux-x86-64.so.2; do
		cp -L "/lib/x86_64-linux-gnu/$l" "$B/rootfs/lib/x86_64-linux-gnu/$l"
	done
	ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$B/rootfs/lib64/ld-linux-x86-64.so.2"
	seq 1 5000 >"$B/rootfs/data/numbers"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 32M --trusted /data \
		-- /usr/bin/sha256sum /data/numbers >/dev/null 2>"$T/mr.err" ||
		fail "rune-image build: $(cat "$T/mr.err")"
	ct_run
	assert_rc 0 "rune run"
	nout=$(chroot "$B/rootfs" /usr/bin/sha256sum /data/numbers)
	assert_eq "$nout" "$OUT" "output as native"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

tcase "rune run: static-PIE musl program in the enclave, output as native" t_same musl
tcase "rune run: static-PIE glibc program in the enclave, output as native" t_same glibc
tcase "rune run: gcc -static (non-PIE, ET_EXEC) glibc program in the enclave, output as native" t_same exec
tcase "rune run: Debian's dynamically linked coreutils sha256sum (ld.so, libc.so.6) in the enclave, as native" t_dynamic
tcase "rune run: a tampered trusted file is EACCES with one line" t_tampered
tcase "rune run: a crash inside the enclave exits 139" t_crash
tcase "rune kill: USR1 runs the workload's handler, TERM stops a compute-bound workload" t_kill
tcase "rune attest: a local report of the running LibOS enclave, its MRENCLAVE rune-image's" t_attest
tcase "rune run: 8 pthreads (mutex, condvar, TLS) in the enclave, output as native" t_threads
# The container's EPC limit holds its LibOS processes together: each child
# enclave (posix_spawn, rune exec) counts with its parent's in the entry,
# and rune state's usage is their sum.
t_epc_children() {
	local i one
	gcc -static-pie -O2 -o "$T/sp" "$SRCDIR/tests/libos/spawn.c" || fail "build spawn.c"
	new_bundle
	cfg_set .process.terminal false
	cp "$T/sp" "$B/rootfs/bin/sp"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --host-argv --heap 8M -- /bin/sp child nap 60 \
		>/dev/null 2>"$T/mr.err" || fail "rune-image: $(cat "$T/mr.err")"
	ct_bg
	for ((i = 0; i < 200; i++)); do
		grep -q napping "$T/bg.out" && break
		sleep 0.1
	done
	grep -q napping "$T/bg.out" || fail "the workload never started: $(cat "$T/bg.err")"
	rtc state "$ID"
	one=$(echo "$OUT" | jget .epc.usage)
	[ "$one" -gt 1048576 ] || fail "one enclave's usage: $one"
	# room for one and a half enclaves: a second one is refused
	rtc update --epc-limit $((one * 3 / 2)) "$ID"
	assert_rc 0 "update --epc-limit: $ERR"
	rtc exec "$ID" /bin/sp child hello
	[ "$RC" != 0 ] || fail "rune exec ran a second enclave past the container's limit"
	assert_contains "EPC limit exceeded: container $ID" "$ERR" "rune exec's caller sees the refusal"
	# room for three: it runs, and the count is back to one enclave after it
	rtc update --epc-limit $((one * 3)) "$ID"
	assert_rc 0 "update --epc-limit: $ERR"
	rtc exec "$ID" /bin/sp child hello
	assert_rc 0 "rune exec within the limit: $ERR"
	rtc state "$ID"
	assert_eq "$one" "$(echo "$OUT" | jget .epc.usage)" "usage once the exec'd process ended"
	rt kill "$ID" KILL || true
	wait "$BGPID" || true
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

tcase "rune run, exec: posix_spawn and pipes between enclaves; rune exec beside the workload" t_processes
tcase "EPC: the container's limit holds its LibOS child enclaves and its own together" t_epc_children
tcase "rune create/start: a Go net/http server in the enclave answers curl in the container's netns" t_go_http
