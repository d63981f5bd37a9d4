#!/bin/bash
# timeout: 300
# containerd-shim-rune-v2 under containerd 1.6's CRI (what a RuntimeClass
# with handler "rune" and runtime type io.containerd.rune.v2 selects),
# driven by cri.py: a pod with two containers served by one shim, CRI logs,
# ExecSync, a container's exit seen by the client, and the pod's removal
# leaving no shim, process, mount or cgroup; then an enclave container
# (annotation enclave.type=intelSgx) from the plain busybox image,
# converted on the fly by the Carrier (local key), and a second one from
# the cache.
CLIENT=shimcri
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/../clients/lib.sh"
need_pkgs cri

SHIM=$BUILD/bin/containerd-shim-rune-v2
IMG=docker.io/library/rune-busybox:shimcri
PAUSE=docker.io/library/rune-pause:shimcri
for f in "$SHIM" "$BUILD/bin/rune-image" "$BUILD/bin/sgx-tools" "$BUILD/lib/liberpal-libos.so"; do
	if [ ! -e "$f" ]; then
		echo "not ok - shim-cri: $f built (make all)"
		exit 1
	fi
done
"$BUILD/bin/sgx-tools" gen-key --out "$CT/key.pem" >/dev/null 2>&1 && chmod 0600 "$CT/key.pem"
cat >"$CT/shim.json" <<JSON
{"rune": "$CT/rune-pal", "root": "$CT/rs", "signature_method": "local-key",
 "signing_key": "$CT/key.pem", "carrier_cache": "$CT/cache"}
JSON
chmod 0644 "$CT/shim.json"
# no options table: the shim takes its shim.json ($RUNE_SHIM_CONFIG) and defaults
CRID_HANDLERS='    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rune]
      runtime_type = "io.containerd.rune.v2"
      pod_annotations = ["enclave.*"]
      container_annotations = ["enclave.*"]'
CRID_ENV=("PATH=$BUILD/bin:$PATH" "RUNE_SHIM_CONFIG=$CT/shim.json" "SGX_EMU_SECRET=$CT/sgx-emu-secret")
CRID_LOG_LEVEL=debug
# shellcheck source=tests/clients/crid.sh
. "$CL_DIR/crid.sh"
crid_start shim-cri

# this containerd's shims ([c]: the pattern must not match the shell running pgrep)
shim_pids() { pgrep -f "[c]ontainerd-shim-rune-v2 -namespace k8s.io -id .* -address $SOCK( -debug)?$" || true; }
no_shim() { [ -z "$(shim_pids)" ]; }
exited() { CRI inspect "$1" 2>/dev/null | grep -q CONTAINER_EXITED; }

t_pod() {
	run_pod p1
	ctr_config c1 '"command": ["sh", "-c", "echo hello from c1; echo to-stderr >&2; exec sleep 1000"]'
	create_start p1 c1
	local c1=$CID pid1 shim
	ctr_config c2 '"command": ["sh", "-c", "echo c2; sleep 1; exit 5"]'
	create_start p1 c2
	local c2=$CID
	shim=$(shim_pids)
	assert_eq 1 "$(echo "$shim" | grep -c .)" "shims for the pod (sandbox and two containers)"
	assert_contains "-id $POD " "$(tr '\0' ' ' <"/proc/$shim/cmdline")" "the shim's argv (the sandbox's id)"
	pid1=$(init_pid "$c1")
	assert_eq "$shim" "$(awk '{print $4}' "/proc/$pid1/stat")" "c1's parent (the pod's shim)"
	# logs, in the CRI format
	wait_for 10 grep -q 'stdout F hello from c1$' "$CT/logs/p1/c1.log" || fail "c1's stdout: $(cat "$CT/logs/p1/c1.log" 2>&1)"
	grep -q ' stderr F to-stderr$' "$CT/logs/p1/c1.log" || fail "c1's stderr: $(cat "$CT/logs/p1/c1.log")"
	# exec sync
	cl CRI exec "$c1" -- sh -c 'echo exec in $(cat /proc/1/comm); echo e >&2; exit 3'
	assert_rc 3 "ExecSync exit code"
	assert_eq "exec in sleep" "$OUT" "ExecSync stdout"
	assert_eq e "$ERR" "ExecSync stderr"
	# c2's exit reaches the client
	wait_for 15 exited "$c2" || fail "c2's exit not seen: $(CRI inspect "$c2")"
	assert_eq 5 "$(cfield "$c2" exit_code)" "c2's exit code"
	assert_eq Error "$(cfield "$c2" reason)" "c2's reason"
	grep -q 'stdout F c2$' "$CT/logs/p1/c2.log" || fail "c2's log: $(cat "$CT/logs/p1/c2.log" 2>&1)"
	# the pod removed: no shim, process, mount or cgroup of it
	cl_ok CRI stop "$c1" --timeout 2
	cl_ok CRI rm "$c1"
	cl_ok CRI rm "$c2"
	cl_ok CRI stopp "$POD"
	cl_ok CRI rmp "$POD"
	wait_for 10 no_shim || fail "shim still running after RemovePodSandbox: $(shim_pids)"
	[ ! -e "/proc/$pid1" ] || [ "$(state_of "$pid1")" = Z ] || fail "c1's init $pid1 still there"
	! grep -q "$POD\|$c1\|$c2" /proc/self/mountinfo || fail "mounts left: $(grep "$POD\|$c1\|$c2" /proc/self/mountinfo)"
	local cg
	cg=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -path "*$PFX-pods/*" 2>/dev/null)
	[ -z "$cg" ] || fail "cgroups left: $cg"
	[ -z "$(ls "$CT/rs/k8s.io" 2>/dev/null)" ] || fail "rune state left: $(ls "$CT/rs/k8s.io")"
	sed -i "/$POD/d" "$CT/pods"
}

carrier_of() { grep -o "container $1: carrier: [a-z]* *[0-9a-f]*" "$CT/containerd.log" | tail -1 | awk '{print $4}'; }

t_enclave_pod() {
	run_pod p2
	local n
	for n in e1 e2; do
		ctr_config "$n" '"command": ["sh", "-c", "echo hello from the enclave pod"]' \
			'"annotations": {"enclave.type": "intelSgx"}'
		create_start p2 "$n"
		wait_for 60 exited "$CID" || fail "$n did not finish: $(CRI inspect "$CID")"
		grep -q 'stdout F hello from the enclave pod$' "$CT/logs/p2/$n.log" ||
			fail "$n's log: $(cat "$CT/logs/p2/$n.log" 2>&1)"
		grep -q 'stderr F .*SGX emulator' "$CT/logs/p2/$n.log" ||
			fail "$n did not run in the LibOS enclave: $(cat "$CT/logs/p2/$n.log")"
		assert_eq 0 "$(cfield "$CID" exit_code)" "$n's exit code"
		eval "k_$n=\$(carrier_of \$CID)"
	done
	# shellcheck disable=SC2154
	assert_eq "built cached" "$k_e1 $k_e2" "the Carrier: converted, then from the cache"
	[ -z "$(find "$CT/root" -path '*snapshots*' -name libos.sig 2>/dev/null)" ] ||
		fail "TEE files written into a snapshot"
}

t_pod_annotation() {
	# the annotation on the pod (what a RuntimeClass's pod overhead or a user sets)
	pod_config p3
	"$PY" - "$CT/p3.pod.json" <<-'PYEOF'
		import json, sys
		d = json.load(open(sys.argv[1]))
		d["annotations"] = {"enclave.type": "intelSgx"}
		json.dump(d, open(sys.argv[1], "w"))
	PYEOF
	cl CRI runp "$CT/p3.pod.json" --handler rune
	[ "$RC" = 0 ] || fail "RunPodSandbox of a pod annotated enclave.type=intelSgx"
	POD=$OUT
	echo "$POD" >>"$CT/pods"
	ctr_config e3 '"command": ["sh", "-c", "echo hello from the annotated pod"]'
	create_start p3 e3
	wait_for 60 exited "$CID" || fail "e3 did not finish: $(CRI inspect "$CID")"
	grep -q 'stdout F hello from the annotated pod$' "$CT/logs/p3/e3.log" ||
		fail "e3's log: $(cat "$CT/logs/p3/e3.log" 2>&1)"
	grep -q 'stderr F .*SGX emulator' "$CT/logs/p3/e3.log" || fail "e3 did not run in the enclave"
	# the sandbox (pause) got the annotation too, but runs as an ordinary container
	[ -z "$(carrier_of "$POD")" ] || fail "the sandbox was converted: $(carrier_of "$POD")"
	assert_eq 1 "$(CRI inspectp "$POD" | grep -c SANDBOX_READY)" "the sandbox is ready"
}

tcase "shim-cri: a pod with two containers in one shim: logs, exec, exit, removal leaves nothing" t_pod
tcase "shim-cri: an enclave container converted on the fly, then from the cache" t_enclave_pod
tcase "shim-cri: a pod annotated enclave.type=intelSgx: its container in the enclave, its sandbox not" t_pod_annotation
