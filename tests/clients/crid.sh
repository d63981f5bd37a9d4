# shellcheck shell=bash
# A private containerd with its CRI plugin, driven by cri.py (the calls the
# kubelet makes), shared by tests/clients/test-cri.sh (containerd's runc v2
# shim running rune) and tests/shim/test-shim-cri.sh (rune's own shim).
# Sourced after lib.sh, with CRID_HANDLERS (the runtime handlers' TOML,
# the default being "rune"), optionally CRID_ENV (array: VAR=VALUE for
# containerd and so its shims), IMG and PAUSE (image names). It writes
# $CT/config.toml (root, state, socket, CNI dirs, pod logs in $CT) and
# $CT/bin/CRI (cri.py) and $CT/bin/C (ctr in k8s.io), and defines
# client_case_cleanup, client_stop, crid_start NAME (containerd up and the
# busybox and pause images imported, or "not ok" and exit), pod_config,
# run_pod, ctr_config, create_start, cstate, cfield, init_pid.
[ -n "${CRID_ENV+x}" ] || CRID_ENV=()
SOCK=$CT/c.sock
export RUNE_PROTO_CACHE=$CT/proto
_shim_socks_before=$(ls /run/containerd/s 2>/dev/null | sort)
CLIENT_EXTRA_LEFTOVERS='x=$(comm -13 <(echo "$_shim_socks_before") <(ls /run/containerd/s 2>/dev/null | sort) | tr "\n" " "); [ -n "$x" ] && echo "shim sockets: $x"'
mkdir -p "$CT/cni/bin" "$CT/cni/conf" "$CT/logs"
cat >"$CT/config.toml" <<CONF
version = 2
root = "$CT/root"
state = "$CT/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CT/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  restrict_oom_score_adj = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CT/cni/bin"
    conf_dir = "$CT/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "rune"
$CRID_HANDLERS
CONF
mkdir -p "$CT/bin"
cat >"$CT/bin/CRI" <<WRAP
#!/bin/sh
exec $PY "$CL_DIR/cri.py" --sock "$SOCK" "\$@"
WRAP
cat >"$CT/bin/C" <<WRAP
#!/bin/sh
exec ctr -a "$SOCK" -n k8s.io "\$@"
WRAP
chmod 0755 "$CT/bin/CRI" "$CT/bin/C"
PATH=$CT/bin:$PATH

client_case_cleanup() {
	local p
	for p in $(cat "$CT/pods" 2>/dev/null); do
		CRI stopp "$p" >/dev/null 2>&1
		CRI rmp "$p" >/dev/null 2>&1
	done
	rm -f "$CT/pods"
	# a case's device plugin (test-cri.sh's t_epc_limit), when it failed before stopping it
	if [ -s "$CT/dp.pid" ]; then
		kill -KILL "$(cat "$CT/dp.pid")" 2>/dev/null
		rm -f "$CT/dp.pid"
	fi
}
client_stop() {
	client_case_cleanup
	# anything CRI did not clean (a failed sandbox): by hand
	for t in $(C task ls -q 2>/dev/null); do C task rm -f "$t"; done
	for t in $(C container ls -q 2>/dev/null); do C container rm "$t"; done
	if [ -n "${CPID:-}" ]; then
		kill -TERM "$CPID" 2>/dev/null
		wait_for 10 sh -c "! kill -0 $CPID" || kill -KILL "$CPID"
		wait "$CPID" 2>/dev/null
	fi
	awk -v t="$CT" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$PFX*" | sort -r | xargs -r rmdir
	true
}

# crid_start NAME: containerd with the CRI up, the images imported
crid_start() {
	env "${CRID_ENV[@]}" containerd --config "$CT/config.toml" --log-level "${CRID_LOG_LEVEL:-info}" \
		>"$CT/containerd.log" 2>&1 </dev/null &
	CPID=$!
	_started=1
	if ! wait_for 30 test -S "$SOCK" || ! wait_for 10 CRI version; then
		tail -20 "$CT/containerd.log" | sed 's/^/# /'
		CRI version 2>&1 | sed 's/^/# /'
		echo "not ok - $1: containerd's CRI up"
		exit 1
	fi
	echo "# containerd (CRI) up after $((SECONDS - _t0))s"
	build_rootfs "$CT/rootfs"
	"$PY" "$MKIMAGE" oci "$CT/rootfs" "$CT/image.tar" "$IMG"
	"$PY" "$MKIMAGE" oci "$CT/rootfs" "$CT/pause.tar" "$PAUSE" --cmd '["sleep", "2147483647"]'
	cl C images import "$CT/image.tar"
	[ "$RC" = 0 ] && cl C images import "$CT/pause.tar"
	[ "$RC" = 0 ] && cl CRI imagestatus "$IMG"
	[ "$RC" = 0 ] && cl CRI imagestatus "$PAUSE"
	if [ "$RC" != 0 ]; then
		printf '%s\n' "$CMD" "$OUT" "$ERR" | sed 's/^/# /'
		echo "not ok - $1: images imported into k8s.io and seen by CRI"
		exit 1
	fi
	echo "ok - $1: images imported into k8s.io and seen by CRI"
}

_np=0
# pod_config NAME [PID-MODE]: a PodSandboxConfig (host network; pid namespace
# CONTAINER unless given) in $CT/NAME.pod.json
pod_config() {
	_np=$((_np + 1))
	mkdir -p "$CT/logs/$1"
	cat >"$CT/$1.pod.json" <<JSON
{
 "metadata": {"name": "$1", "uid": "$PFX-$1-$_np", "namespace": "rune-test", "attempt": 0},
 "log_directory": "$CT/logs/$1",
 "labels": {"app": "rune-test"},
 "linux": {
  "cgroup_parent": "/$PFX-pods",
  "security_context": {"namespace_options": {"network": "NODE", "pid": "${2:-CONTAINER}", "ipc": "POD"}}
 }
}
JSON
}
# run_pod NAME [HANDLER [PID-MODE]]: RunPodSandbox; $POD
run_pod() {
	pod_config "$1" "${3:-}"
	cl CRI runp "$CT/$1.pod.json" --handler "${2:-rune}"
	[ "$RC" = 0 ] || fail "RunPodSandbox (handler ${2:-rune})"
	POD=$OUT
	echo "$POD" >>"$CT/pods"
}
# ctr_config NAME JSON-FIELDS...: a ContainerConfig in $CT/NAME.ctr.json
ctr_config() {
	local name=$1
	shift
	local extra
	extra=$(IFS=,; echo "$*")
	echo "{\"metadata\": {\"name\": \"$name\"}, \"image\": {\"image\": \"$IMG\"}, \"log_path\": \"$name.log\"${extra:+, $extra}}" >"$CT/$name.ctr.json"
}
# create_start POD_NAME NAME: CreateContainer + StartContainer; $CID
create_start() {
	cl CRI create "$POD" "$CT/$2.ctr.json" "$CT/$1.pod.json"
	[ "$RC" = 0 ] || fail "CreateContainer $2"
	CID=$OUT
	cl CRI start "$CID"
	[ "$RC" = 0 ] || fail "StartContainer $2"
}
# cstate ID: CONTAINER_RUNNING, CONTAINER_EXITED, ...
cstate() { CRI inspect "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
cfield() { CRI inspect "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }
# init_pid ID: the container's init pid, from the shim's view (ctr, k8s.io)
init_pid() { C task ls | awk -v id="$1" '$1 == id { print $2 }'; }

