#!/bin/bash
# timeout: 360
# The Kubernetes path: containerd 1.6's CRI plugin with a runtime handler
# "rune" (runtime_type io.containerd.runc.v2, options BinaryName = rune),
# i.e. what a RuntimeClass with handler "rune" selects, driven by cri.py (the
# calls the kubelet makes).  containerd's root, state, socket, CNI dirs and
# the pod logs are in a temp dir; the sandbox ("pause") image and the
# workload image are made offline and imported into the k8s.io namespace.
CLIENT=cri
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
need_pkgs cri

IMG=docker.io/library/rune-busybox:test
PAUSE=docker.io/library/rune-pause:test
# The runtime handlers: rune (as in docs/clients/kubernetes.md), rune with
# --pal-dir for enclave pods, and one whose binary is missing.
handler() { # NAME BINARY
	cat <<CONF
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      # CRI passes only listed annotations into the OCI config
      pod_annotations = ["enclave.*"]
      container_annotations = ["enclave.*"]
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$CT/rs"
CONF
}
CRID_HANDLERS="$(handler rune "$RUNE")
$(handler rune-pal "$CT/rune-pal")
$(handler rune-missing "$CT/no-such-rune")"
# shellcheck source=tests/clients/crid.sh
. "$CL_DIR/crid.sh"
crid_start cri

t_pod_lifecycle() {
	run_pod p1
	cl_ok CRI inspectp "$POD"
	assert_contains SANDBOX_READY "$OUT" "pod state"
	assert_contains '"runtime_handler": "rune"' "$OUT" "pod runtime handler"
	ctr_config c1 '"command": ["sh", "-c", "trap \"\" TERM; echo hello from cri; echo to-stderr >&2; exec sleep 1000"]' \
		'"linux": {"resources": {"memory_limit_in_bytes": 67108864}}'
	create_start p1 c1
	wait_for 10 sh -c "[ \"\$(CRI inspect $CID | grep -c CONTAINER_RUNNING)\" = 1 ]" || fail "container not running: $(CRI inspect "$CID")"
	# the shim ran rune: its state is under the handler's Root
	[ -d "$CT/rs/k8s.io/$CID" ] || fail "no rune state under the handler's Root: $(ls "$CT/rs/k8s.io" 2>&1)"
	# logs (CRI format: TIME STREAM TAG MESSAGE)
	wait_for 10 grep -q 'hello from cri' "$CT/logs/p1/c1.log" || fail "no output in the CRI log: $(cat "$CT/logs/p1/c1.log" 2>&1)"
	grep -Eq '^[0-9T:.+-]+Z? stdout F hello from cri$' "$CT/logs/p1/c1.log" || fail "stdout line in CRI format: $(cat "$CT/logs/p1/c1.log")"
	grep -Eq ' stderr F to-stderr$' "$CT/logs/p1/c1.log" || fail "stderr line in CRI format: $(cat "$CT/logs/p1/c1.log")"
	# exec
	cl CRI exec "$CID" -- sh -c 'echo exec in $(cat /proc/1/comm); echo e >&2; exit 3'
	assert_rc 3 "ExecSync exit code"
	assert_eq "exec in sleep" "$OUT" "ExecSync stdout"
	assert_eq e "$ERR" "ExecSync stderr"
	# memory limit, then UpdateContainerResources
	local pid
	pid=$(init_pid "$CID")
	assert_eq 67108864 "$(memory_limit_of "$pid")" "memory limit from the ContainerConfig"
	echo '{"memory_limit_in_bytes": 100663296, "cpu_shares": 512}' >"$CT/res.json"
	cl_ok CRI update "$CID" "$CT/res.json"
	assert_eq 100663296 "$(memory_limit_of "$pid")" "memory limit after UpdateContainerResources"
	# stop: SIGTERM, which the init ignores (SIG_IGN), SIGKILL after the timeout
	cl_ok CRI stop "$CID" --timeout 2
	assert_eq CONTAINER_EXITED "$(cstate "$CID")" "state after StopContainer"
	assert_eq 137 "$(cfield "$CID" exit_code)" "exit code after StopContainer (TERM ignored, KILL after 2s)"
	cl_ok CRI rm "$CID"
	cl CRI inspect "$CID"
	assert_fails "ContainerStatus after RemoveContainer"
	[ ! -e "$CT/rs/k8s.io/$CID" ] || fail "rune state left after RemoveContainer"
	cl_ok CRI stopp "$POD"
	cl_ok CRI rmp "$POD"
	cl CRI inspectp "$POD"
	assert_fails "PodSandboxStatus after RemovePodSandbox"
	[ -z "$(ls "$CT/rs/k8s.io" 2>/dev/null)" ] || fail "rune state left after RemovePodSandbox: $(ls "$CT/rs/k8s.io")"
}

t_stop_signal() {
	run_pod p2
	ctr_config c2 '"command": ["sh", "-c", "trap \"exit 42\" TERM; echo ready; while :; do sleep 0.2; done"]'
	create_start p2 c2
	wait_for 10 grep -q ready "$CT/logs/p2/c2.log" || fail "not ready"
	cl_ok CRI stop "$CID" --timeout 20
	assert_eq 42 "$(cfield "$CID" exit_code)" "exit code after StopContainer (TERM trapped, exit 42)"
	assert_eq Error "$(cfield "$CID" reason)" "reason"
	# a container that exits by itself: Completed, 0
	ctr_config c3 '"command": ["sh", "-c", "echo done"]'
	create_start p2 c3
	wait_for 10 sh -c "CRI inspect $CID | grep -q CONTAINER_EXITED" || fail "c3 did not exit"
	assert_eq 0 "$(cfield "$CID" exit_code)" "exit code of a completed container"
	assert_eq Completed "$(cfield "$CID" reason)" "reason"
}

t_tty() {
	run_pod p3
	ctr_config c4 '"command": ["sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; exec sleep 1000"]' '"tty": true' '"stdin": true'
	create_start p3 c4
	wait_for 10 grep -q both-tty "$CT/logs/p3/c4.log" || fail "no tty output: $(cat "$CT/logs/p3/c4.log" 2>&1)"
	grep -Eq 'stdout F /dev/pts/[0-9]+' "$CT/logs/p3/c4.log" || fail "tty path not in the log: $(cat "$CT/logs/p3/c4.log")"
	cl_ok CRI exec "$CID" -- sh -c 'tty || true'
	assert_eq "not a tty" "$OUT" "ExecSync has no tty"
}

t_security() {
	# shareProcessNamespace: pid namespace POD (joined by path from the
	# sandbox), read-only root, a user id, no_new_privs, dropped capabilities
	run_pod p7 rune POD
	ctr_config c9 '"command": ["sh", "-c", "echo started; exec sleep 1000"]' \
		'"linux": {"security_context": {"namespace_options": {"network": "NODE", "pid": "POD", "ipc": "POD"}, "run_as_user": {"value": 65534}, "readonly_rootfs": true, "no_new_privs": true}}'
	create_start p7 c9
	cl_ok CRI exec "$CID" -- sh -c 'ps -o comm | sort | tr "\n" " "'
	assert_contains "sleep" "$OUT" "processes seen in the shared pid namespace"
	[[ $OUT == *sleep*sleep* ]] || fail "the sandbox's sleep is not visible in the pod's pid namespace: $OUT"
	cl_ok CRI exec "$CID" -- id -u
	assert_eq 65534 "$OUT" "run_as_user"
	cl CRI exec "$CID" -- touch /x
	assert_fails "write to a read-only root"
	cl_ok CRI exec "$CID" -- sh -c 'grep NoNewPrivs /proc/self/status'
	assert_match '1$' "$OUT" "no_new_privs"
	local spid cpid
	spid=$(C task ls | awk -v id="$POD" '$1 == id { print $2 }')
	cpid=$(init_pid "$CID")
	assert_eq "$(readlink /proc/"$spid"/ns/pid)" "$(readlink /proc/"$cpid"/ns/pid)" "pid namespace of sandbox and container"
	assert_eq "$(readlink /proc/"$spid"/ns/ipc)" "$(readlink /proc/"$cpid"/ns/ipc)" "ipc namespace of sandbox and container"
	assert_eq "$(readlink /proc/self/ns/net)" "$(readlink /proc/"$cpid"/ns/net)" "host network"
}

t_errors() {
	run_pod p4
	ctr_config c5 '"command": ["/no/such/binary"]'
	cl CRI create "$POD" "$CT/c5.ctr.json" "$CT/p4.pod.json"
	if [ "$RC" = 0 ]; then
		CID=$OUT
		cl CRI start "$CID"
	fi
	assert_fails "CreateContainer/StartContainer of a missing binary"
	assert_contains /no/such/binary "$ERR" "the CRI error"
	assert_match '[Nn]o such file|not found' "$ERR" "the CRI error"
	# exec of a missing binary in a running container
	ctr_config c6 '"command": ["sleep", "1000"]'
	create_start p4 c6
	cl CRI exec "$CID" -- /no/such/binary
	assert_fails "ExecSync of a missing binary"
	assert_contains /no/such/binary "$ERR" "the ExecSync error"
	assert_eq CONTAINER_RUNNING "$(cstate "$CID")" "state after a failed exec"
	# a handler whose binary is missing
	pod_config p5
	cl CRI runp "$CT/p5.pod.json" --handler rune-missing
	assert_fails "RunPodSandbox with a missing runtime binary"
	assert_contains no-such-rune "$ERR" "the CRI error names the runtime"
	# an unknown handler (RuntimeClass without a containerd handler)
	cl CRI runp "$CT/p5.pod.json" --handler no-such-handler
	assert_fails "RunPodSandbox with an unknown handler"
	assert_contains no-such-handler "$ERR" "the CRI error"
}

t_enclave() {
	have_enclave || skip "enclave runtime not built ($PAL, $ENCL_DIR)"
	run_pod p6 rune-pal
	ctr_config c7 '"command": ["skeleton", "hello"]' '"working_dir": "/enclave"' \
		"\"envs\": [{\"key\": \"ENCLAVE_TYPE\", \"value\": \"intelSgx\"}, {\"key\": \"ENCLAVE_RUNTIME_PATH\", \"value\": \"$PAL\"}, {\"key\": \"ENCLAVE_RUNTIME_ARGS\", \"value\": \"/enclave\"}]"
	create_start p6 c7
	wait_for 20 sh -c "CRI inspect $CID | grep -q CONTAINER_EXITED" || fail "enclave container did not finish: $(CRI inspect "$CID")"
	grep -q 'Hello from the skeleton enclave!' "$CT/logs/p6/c7.log" || fail "no enclave greeting in the log: $(cat "$CT/logs/p6/c7.log" 2>&1)"
	assert_eq 0 "$(cfield "$CID" exit_code)" "enclave container exit code"
	# annotations instead of env, exit status
	ctr_config c8 '"command": ["skeleton", "exit", "3"]' '"working_dir": "/enclave"' \
		"\"annotations\": {\"enclave.type\": \"intelSgx\", \"enclave.runtime.path\": \"$PAL\", \"enclave.runtime.args\": \"/enclave\"}"
	create_start p6 c8
	wait_for 20 sh -c "CRI inspect $CID | grep -q CONTAINER_EXITED" || fail "enclave container did not finish"
	assert_eq 3 "$(cfield "$CID" exit_code)" "enclave exit status (annotations)"
}

# The EPC limit end to end (docs/epc.md): rune-device-plugin's Allocate for
# 16 devices gives the container's envs (as the kubelet passes them to
# CreateContainer); in a pod of the rune-pal handler, a LibOS enclave that
# fits 16 MiB (heap 4M) runs, one that does not (heap 16M, 21.9 MiB) is
# refused at CreateContainer with rune's line in the CRI error.
t_epc_limit() {
	local img envs dp=$CT/dp e tee name heap
	[ -f "$BUILD/lib/liberpal-libos.so" ] && [ -x "$BUILD/bin/rune-image" ] &&
		[ -x "$BUILD/bin/rune-device-plugin" ] || skip "LibOS, rune-image or rune-device-plugin not built"
	mkdir -p "$dp"
	printf '{"emulator": {"epc_size": "64Mi"}}\n' >"$CT/dp.json"
	"$BUILD/bin/rune-device-plugin" --plugin-dir "$dp" --config "$CT/dp.json" --rescan 0 \
		2>"$CT/dp.log" &
	DPPID=$!
	echo "$DPPID" >"$CT/dp.pid"
	wait_for 10 test -S "$dp/rune-sgx-epc.sock" || fail "the device plugin's socket: $(cat "$CT/dp.log")"
	envs=$("$PY" "$SRCDIR/tests/devplug/fake_kubelet.py" allocate "$dp/rune-sgx-epc.sock" 16) ||
		fail "Allocate: $envs"
	assert_eq SGX_EPC_LIMIT=16 "$envs" "Allocate's envs for 16 devices"
	kill -TERM "$DPPID"
	wait "$DPPID" || fail "the device plugin's exit status after SIGTERM: $? ($(cat "$CT/dp.log"))"
	rm -f "$CT/dp.pid"
	"$BUILD/bin/sgx-tools" gen-key --out "$CT/tee.pem" >/dev/null 2>&1 || fail "gen-key"
	for heap in 4M 16M; do
		tee=$CT/tee-$heap
		"$PY" "$MKIMAGE" rootfs "$tee"
		"$BUILD/bin/rune-image" build --rootfs "$tee" --key "$CT/tee.pem" --heap "$heap" \
			-- /bin/busybox echo "enclave with heap $heap" >"$CT/tee.out" 2>&1 ||
			fail "rune-image build: $(cat "$CT/tee.out")"
		"$PY" "$MKIMAGE" oci "$tee" "$CT/tee-$heap.tar" "docker.io/library/rune-tee-${heap,,}:test"
		cl_ok C images import "$CT/tee-$heap.tar"
	done
	run_pod p8 rune-pal
	e="{\"key\": \"ENCLAVE_TYPE\", \"value\": \"intelSgx\"}, {\"key\": \"ENCLAVE_RUNTIME_PATH\", \"value\": \"liberpal-libos.so\"}, {\"key\": \"ENCLAVE_RUNTIME_ARGS\", \"value\": \"root=/\"}, {\"key\": \"${envs%%=*}\", \"value\": \"${envs#*=}\"}"
	for heap in 4M 16M; do
		name=c-epc-${heap,,}
		img=docker.io/library/rune-tee-${heap,,}:test
		echo "{\"metadata\": {\"name\": \"$name\"}, \"image\": {\"image\": \"$img\"}, \"log_path\": \"$name.log\", \"command\": [\"/bin/busybox\", \"echo\", \"enclave with heap $heap\"], \"envs\": [$e]}" >"$CT/$name.ctr.json"
	done
	create_start p8 c-epc-4m
	wait_for 30 sh -c "CRI inspect $CID | grep -q CONTAINER_EXITED" || fail "the enclave that fits did not finish: $(CRI inspect "$CID")"
	assert_eq 0 "$(cfield "$CID" exit_code)" "exit code of the enclave that fits 16 MiB"
	grep -q 'stdout F enclave with heap 4M$' "$CT/logs/p8/c-epc-4m.log" ||
		fail "its output in the CRI log: $(cat "$CT/logs/p8/c-epc-4m.log" 2>&1)"
	cl CRI create "$POD" "$CT/c-epc-16m.ctr.json" "$CT/p8.pod.json"
	if [ "$RC" = 0 ]; then
		CID=$OUT
		cl CRI start "$CID"
	fi
	assert_fails "CreateContainer/StartContainer of an enclave past 16 MiB"
	assert_contains "EPC limit exceeded: container " "$ERR" "the CRI error"
	assert_match 'limit 16 MiB \(process.env SGX_EPC_LIMIT\), request 2[0-9.]+ MiB' "$ERR" "the CRI error: the limit, where it came from, the request"
}

tcase "cri: pod + container, logs, exec, update, stop, remove" t_pod_lifecycle
tcase "cri: stop with a signal, exit codes, reasons" t_stop_signal
tcase "cri: tty container" t_tty
tcase "cri: shared pid namespace, read-only root, user, no_new_privs" t_security
tcase "cri: errors from rune reach the CRI caller" t_errors
tcase "cri: enclave pod (RuntimeClass handler with the skeleton PAL)" t_enclave
tcase "cri: the device plugin's 16 MiB EPC limit: an enclave that fits runs, a larger one is refused" t_epc_limit
