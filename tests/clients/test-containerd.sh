#!/bin/bash
# timeout: 300
# rune under containerd 1.6 (Debian) and its runc v2 shim, driven by ctr:
# containerd's root, state, sockets in a temp dir; the image an OCI archive
# made offline (mkimage.py) and imported with `ctr images import`; rune as
# the shim's runtime binary (`ctr run --runc-binary`), its state under
# --runc-root in the temp dir; the namespace, and so the cgroups, carry the
# run's prefix.
CLIENT=containerd
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
need_pkgs containerd cri

IMG=docker.io/library/rune-busybox:test
# shellcheck source=tests/clients/ctrd.sh
. "$CL_DIR/ctrd.sh"
# flags for every `ctr run` (rune, its state dir)
RUNF=(--runc-binary "$RUNE" --runc-root "$CT/rs" --fifo-dir "$CT/fifo")

client_stop() { ctrd_stop; }

ctrd_start containerd
ctrd_import containerd

t_run_output() {
	cl C run --rm "${RUNF[@]}" "$IMG" "$PFX-r1" sh -c 'echo hello from $(cat /proc/1/comm); echo to-stderr >&2'
	assert_rc 0 "ctr run"
	assert_contains "hello from sh" "$OUT" "container stdout"
	assert_contains to-stderr "$ERR" "container stderr"
	cl C run --rm "${RUNF[@]}" "$IMG" "$PFX-r2" sh -c 'exit 7'
	assert_rc 7 "ctr run of 'exit 7'"
	# the shim ran rune: its state dir was under --runc-root
	cl C run --rm "${RUNF[@]}" "$IMG" "$PFX-r3" sh -c 'cat /proc/self/cgroup | grep memory'
	assert_rc 0 "ctr run"
	assert_contains "/$PFX/$PFX-r3" "$OUT" "container's cgroup (namespace/id)"
}

t_detached_exec_ps() {
	cl_ok C run -d "${RUNF[@]}" "$IMG" "$PFX-d" sleep 1000
	wait_for 10 sh -c "C task ls | grep -q '$PFX-d.*RUNNING'" || fail "task not RUNNING: $(C task ls)"
	[ -d "$CT/rs/$PFX/$PFX-d" ] || fail "no rune state in --runc-root: $(ls -R "$CT/rs" 2>&1 | head)"
	cl C task exec --exec-id e1 "$PFX-d" sh -c 'echo exec in $(cat /proc/1/comm); exit 3'
	assert_rc 3 "ctr task exec exit code"
	assert_eq "exec in sleep" "$OUT" "exec output"
	cl_ok C task exec --exec-id e2 --cwd /tmp --user 65534 "$PFX-d" sh -c 'echo $(id -u) $(pwd)'
	assert_eq "65534 /tmp" "$OUT" "exec user and cwd"
	cl_ok C task exec -d --fifo-dir "$CT/fifo" --exec-id e4 "$PFX-d" sleep 777
	wait_for 10 pgrep -f 'sleep 777' || fail "exec -d process not running"
	cl_ok C task ps "$PFX-d"
	local pid
	pid=$(task_pid "$PFX-d")
	assert_contains "$pid" "$OUT" "ctr task ps lists the init pid"
	assert_contains "$(pgrep -f 'sleep 777')" "$OUT" "ctr task ps lists the exec -d process"
	cl C task exec --exec-id e3 "$PFX-d" /no/such/binary
	assert_fails "exec of a missing binary"
	assert_contains /no/such/binary "$ERR" "ctr's error"
	assert_eq RUNNING "$(task_status "$PFX-d")" "status after a failed exec"
	cl_ok C task metrics "$PFX-d"
}

t_tty() {
	cl_tty C run --rm -t "${RUNF[@]}" "$IMG" "$PFX-t1" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-tty'
	assert_rc 0 "ctr run -t"
	assert_match '/dev/pts/[0-9]+' "$OUT" "tty in the container"
	assert_contains both-tty "$OUT" "stdin/stdout are terminals"
	cl_ok C run -d "${RUNF[@]}" "$IMG" "$PFX-t2" sleep 1000
	cl_tty C task exec -t --exec-id et "$PFX-t2" sh -c 'tty; exit 4'
	assert_rc 4 "ctr task exec -t exit code"
	assert_match '/dev/pts/[0-9]+' "$OUT" "tty in exec"
	RC=0
	OUT=$( (sleep 2; echo typed; sleep 3) | timeout 30 script -qefc "C task exec -t --exec-id ei $PFX-t2 sh -c 'read l; echo got:\$l'" /dev/null 2>&1 | tr -d '\r') || RC=$?
	assert_contains got:typed "$OUT" "input through exec -t"
}

t_pause_resume() {
	cl_ok C run -d "${RUNF[@]}" "$IMG" "$PFX-p" sleep 1000
	local pid
	pid=$(task_pid "$PFX-p")
	cl_ok C task pause "$PFX-p"
	assert_eq PAUSED "$(task_status "$PFX-p")" "status after pause"
	frozen "$pid" || fail "init not frozen after ctr task pause"
	cl_ok C task resume "$PFX-p"
	assert_eq RUNNING "$(task_status "$PFX-p")" "status after resume"
	frozen "$pid" && fail "still frozen after resume"
	cl_ok C task exec --exec-id e "$PFX-p" true
}

t_update() {
	cl_ok C run -d --memory-limit $((64 << 20)) "${RUNF[@]}" "$IMG" "$PFX-u" sleep 1000
	local pid
	pid=$(task_pid "$PFX-u")
	assert_eq $((64 << 20)) "$(memory_limit_of "$pid")" "memory limit at start"
	cl "$PY" "$CL_DIR/ctrd_update.py" "$SOCK" "$PFX" "$PFX-u" "{\"memory\":{\"limit\":$((96 << 20))},\"cpu\":{\"shares\":512}}"
	assert_rc 0 "Tasks.Update"
	assert_eq $((96 << 20)) "$(memory_limit_of "$pid")" "memory limit after Tasks.Update"
	local cg
	cg=$(cgroup_of "$pid" cpu)
	if [ -f "/sys/fs/cgroup/cpu$cg/cpu.shares" ]; then
		assert_eq 512 "$(cat "/sys/fs/cgroup/cpu$cg/cpu.shares")" "cpu.shares after Tasks.Update"
	fi
}

t_stop_signal() {
	# foreground ctr run; the init traps TERM and exits 42
	C run "${RUNF[@]}" "$IMG" "$PFX-s" sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.2; done' >"$CT/s.out" 2>&1 </dev/null &
	local cpid=$! rc=0
	wait_for 15 grep -q ready "$CT/s.out" || fail "container not ready: $(cat "$CT/s.out")"
	cl_ok C task kill -s SIGTERM "$PFX-s"
	wait "$cpid" || rc=$?
	assert_eq 42 "$rc" "ctr run's exit code after kill -s SIGTERM (trapped, exit 42)"
	cl_ok C container rm "$PFX-s"
	# SIGKILL of a detached task: 137, status STOPPED
	cl_ok C run -d "${RUNF[@]}" "$IMG" "$PFX-k" sleep 1000
	cl_ok C task kill -s SIGKILL "$PFX-k"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-k.*STOPPED'" || fail "task not STOPPED after SIGKILL: $(C task ls)"
	cl_ok C task rm "$PFX-k"
	assert_contains "exit code 137" "$ERR" "ctr task rm's report of the exit code"
	# kill --all (every process of the container)
	cl_ok C run -d "${RUNF[@]}" "$IMG" "$PFX-a" sh -c 'sleep 1000 & sleep 1000'
	cl_ok C task kill -a -s SIGKILL "$PFX-a"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-a.*STOPPED'" || fail "task not STOPPED after kill --all: $(C task ls)"
}

t_remove() {
	cl_ok C run -d "${RUNF[@]}" "$IMG" "$PFX-x" sleep 1000
	local pid
	pid=$(task_pid "$PFX-x")
	cl C task rm "$PFX-x"
	assert_fails "task rm of a running task"
	cl_ok C task rm -f "$PFX-x"
	cl_ok C container rm "$PFX-x"
	wait_for 10 sh -c "! kill -0 $pid" || fail "init $pid alive after task rm -f"
	[ ! -e "$CT/rs/$PFX/$PFX-x" ] || fail "rune state left: $CT/rs/$PFX/$PFX-x"
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$PFX-x")" ] ||
		fail "cgroups left: $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$PFX-x")"
	awk -v p="$PFX-x" 'index($5, p) { f = 1 } END { exit !f }' /proc/self/mountinfo &&
		fail "rootfs still mounted"
	true
}

t_errors() {
	cl C run --rm "${RUNF[@]}" "$IMG" "$PFX-e1" /no/such/binary
	assert_fails "run of a missing binary"
	assert_contains /no/such/binary "$ERR" "ctr's error"
	assert_match '[Nn]o such file|not found' "$ERR" "ctr's error"
	C container rm "$PFX-e1" >/dev/null 2>&1 || true
	# the runtime binary is missing
	cl C run --rm --runc-binary "$CT/no-such-rune" --runc-root "$CT/rs" --fifo-dir "$CT/fifo" "$IMG" "$PFX-e2" true
	assert_fails "run with a missing runtime"
	assert_contains no-such-rune "$ERR" "ctr's error names the runtime"
	C container rm "$PFX-e2" >/dev/null 2>&1 || true
	# an error of rune's own (a sysctl it refuses) reaches ctr through --log JSON
	cl C run --rm "${RUNF[@]}" --mount type=bind,src=/nonexistent-src,dst=/mnt,options=rbind "$IMG" "$PFX-e3" true
	assert_fails "run with a bind mount of a missing source"
	assert_contains nonexistent-src "$ERR" "ctr's error carries rune's message"
	C container rm "$PFX-e3" >/dev/null 2>&1 || true
	# a memory limit below what the init needs: the error names the limit
	cl C run --rm "${RUNF[@]}" --memory-limit 1 "$IMG" "$PFX-e4" true
	assert_fails "run with a 1-byte memory limit"
	assert_match '[Mm]emory' "$ERR" "ctr's error for a 1-byte memory limit (finding 5)"
}

t_enclave() {
	have_enclave || skip "enclave runtime not built ($PAL, $ENCL_DIR)"
	local E=(--runc-binary "$CT/rune-pal" --runc-root "$CT/rs" --fifo-dir "$CT/fifo" --cwd /enclave
		--env ENCLAVE_TYPE=intelSgx --env "ENCLAVE_RUNTIME_PATH=$PAL" --env ENCLAVE_RUNTIME_ARGS=/enclave)
	cl C run --rm "${E[@]}" "$IMG" "$PFX-n1" skeleton hello
	assert_rc 0 "ctr run of the enclave container"
	assert_contains "Hello from the skeleton enclave!" "$OUT" "enclave output"
	cl C run --rm "${E[@]}" "$IMG" "$PFX-n2" skeleton exit 3
	assert_rc 3 "enclave exit status through ctr"
	# annotations instead of env
	cl C run --rm --runc-binary "$CT/rune-pal" --runc-root "$CT/rs" --fifo-dir "$CT/fifo" --cwd /enclave \
		--annotation enclave.type=intelSgx --annotation "enclave.runtime.path=$PAL" \
		--annotation enclave.runtime.args=/enclave "$IMG" "$PFX-n3" skeleton hello
	assert_rc 0 "ctr run of the enclave container (annotations)"
	assert_contains "Hello from the skeleton enclave!" "$OUT" "enclave output (annotations)"
	# A tampered SIGSTRUCT: ctr's error carries EINIT's reason.
	cl C run --rm --runc-binary "$CT/rune-pal" --runc-root "$CT/rs" --fifo-dir "$CT/fifo" \
		--cwd /enclave-tampered --env ENCLAVE_TYPE=intelSgx --env "ENCLAVE_RUNTIME_PATH=$PAL" \
		--env ENCLAVE_RUNTIME_ARGS=/enclave-tampered "$IMG" "$PFX-n5" skeleton hello
	assert_fails "ctr run of an enclave with a tampered SIGSTRUCT"
	assert_match "EINIT: SGX_INVALID_(SIGNATURE|SIG_STRUCT)" "$ERR" "ctr's error"
	C container rm "$PFX-n5" >/dev/null 2>&1 || true
	# detached, killed with a signal
	cl_ok C run -d "${E[@]}" "$IMG" "$PFX-n4" skeleton sleep 100
	sleep 1
	assert_eq RUNNING "$(task_status "$PFX-n4")" "enclave task status"
	cl_ok C task kill -s SIGTERM "$PFX-n4"
	wait_for 10 sh -c "C task ls | grep -q '$PFX-n4.*STOPPED'" || fail "enclave task not STOPPED after SIGTERM: $(C task ls)"
	cl_ok C task rm "$PFX-n4"
	assert_contains "exit code 143" "$ERR" "enclave exit code after SIGTERM"
}

t_enclave_exec() {
	have_enclave || skip "enclave runtime not built ($PAL, $ENCL_DIR)"
	cl_ok C run -d --runc-binary "$CT/rune-pal" --runc-root "$CT/rs" --fifo-dir "$CT/fifo" --cwd /enclave \
		--env ENCLAVE_TYPE=intelSgx --env "ENCLAVE_RUNTIME_PATH=$PAL" --env ENCLAVE_RUNTIME_ARGS=/enclave \
		"$IMG" "$PFX-n5" skeleton sleep 100
	# a new process in the same enclave, its output on the exec's stdio
	cl C task exec --fifo-dir "$CT/fifo" --exec-id x1 "$PFX-n5" skeleton exit 5
	assert_rc 5 "exit status of an exec into the enclave"
	cl C task exec --fifo-dir "$CT/fifo" --exec-id x2 "$PFX-n5" skeleton hello
	assert_rc 0 "exec of skeleton hello into the enclave"
	assert_contains "Hello from the skeleton enclave!" "$OUT" "output of an exec into the enclave"
	assert_eq RUNNING "$(task_status "$PFX-n5")" "enclave task after the execs"
}

# `ctr images export` of an image, converted by `rune-image convert`, and
# `ctr images import`ed back: ctr run runs it in the LibOS enclave, its
# output the native run's.
t_convert() {
	local img=docker.io/library/rune-convert:ctr
	tee_src both "$img" "$CT/conv-src.tar"
	cl_ok C images import "$CT/conv-src.tar"
	cl_ok C images export "$CT/conv-exp.tar" "$img"
	tee_convert "$CT/conv-exp.tar" "$CT/conv-tee.tar"
	grep FORMAT "$CT/conv.out" | sed 's/^/# /'
	cl_ok C images import "$CT/conv-tee.tar"
	rm -f "$CT/conv-src.tar" "$CT/conv-exp.tar" "$CT/conv-tee.tar"
	local E=(--runc-binary "$CT/rune-pal" --runc-root "$CT/rs" --fifo-dir "$CT/fifo")
	cl C run --rm "${E[@]}" "$img" "$PFX-cv1"
	assert_rc 0 "ctr run of the converted image ($ERR)"
	assert_eq "$(chroot "$CT/rootfs" /bin/sha256sum /etc/passwd)" "$(echo "$OUT" | tr -d '\r')" "output (as native)"
	# the LibOS checks the file against the image's manifest: a changed one is refused
	echo "not the image's" >"$CT/passwd"
	cl C run --rm "${E[@]}" --mount "type=bind,src=$CT/passwd,dst=/etc/passwd,options=rbind:ro" \
		"$img" "$PFX-cv2"
	assert_fails "run with a trusted file replaced"
	assert_match "libos: /etc/passwd: [a-zA-Z-]+ differs from the manifest: refused" "$ERR" "the LibOS's refusal"
	cl_ok C images rm "$img"
}

tcase "containerd: ctr run, output, exit code" t_run_output
tcase "containerd: detached, task exec, ps, metrics" t_detached_exec_ps
tcase "containerd: tty (run -t, exec -t)" t_tty
tcase "containerd: pause and resume" t_pause_resume
tcase "containerd: update memory and cpu (Tasks.Update)" t_update
tcase "containerd: stop with a signal, exit codes" t_stop_signal
tcase "containerd: remove" t_remove
tcase "containerd: errors from rune reach the user" t_errors
tcase "containerd: enclave container (skeleton PAL)" t_enclave
tcase "containerd: exec into an enclave container" t_enclave_exec
tcase "containerd: image exported, converted by rune-image convert, imported and run in the enclave" t_convert
