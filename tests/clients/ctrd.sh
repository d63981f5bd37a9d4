# shellcheck shell=bash
# A private containerd driven by ctr, shared by tests/clients/test-containerd.sh
# (containerd's runc v2 shim running rune) and tests/shim/test-shim.sh
# (rune's own shim). Sourced after lib.sh, it:
#  - writes $CT/config.toml (root, state, sockets in $CT; CRI off) and
#    $CT/bin/C, `ctr` on that socket in the namespace $PFX (on PATH);
#  - adds the shim sockets and ctr FIFOs this run leaves in
#    /run/containerd/{s,fifo} to lib.sh's leftover check;
#  - defines ctrd_case_cleanup (kill and remove every task and container),
#    client_case_cleanup (that, unless the script redefines it), ctrd_start,
#    ctrd_launch, ctrd_import, ctrd_stop, task_status, task_pid.
# Settings: CTRD_ENV (array: VAR=VALUE for containerd, and so for its
# shims), CTRD_LOG_LEVEL (default info), IMG (the image name).

SOCK=$CT/c.sock
: "${CTRD_LOG_LEVEL:=info}"
[ -n "${CTRD_ENV+x}" ] || CTRD_ENV=()
_shim_socks_before=$(ls /run/containerd/s /run/containerd/fifo 2>/dev/null | sort)
CLIENT_EXTRA_LEFTOVERS='x=$(comm -13 <(echo "$_shim_socks_before") <(ls /run/containerd/s /run/containerd/fifo 2>/dev/null | sort) | tr "\n" " "); [ -n "$x" ] && echo "shim sockets or fifos: $x"'
cat >"$CT/config.toml" <<CONF
version = 2
root = "$CT/root"
state = "$CT/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CT/opt"
CONF
mkdir -p "$CT/bin"
cat >"$CT/bin/C" <<WRAP
#!/bin/sh
exec ctr -a "$SOCK" -n "$PFX" "\$@"
WRAP
chmod 0755 "$CT/bin/C"
PATH=$CT/bin:$PATH

ctrd_case_cleanup() {
	local t
	for t in $(C task ls -q 2>/dev/null); do
		C task kill -s KILL "$t" >/dev/null 2>&1
		C task rm -f "$t" >/dev/null 2>&1
	done
	for t in $(C container ls -q 2>/dev/null); do C container rm "$t" >/dev/null 2>&1; done
}
client_case_cleanup() { ctrd_case_cleanup; }

# ctrd_launch: containerd in the background (its log appended to
# $CT/containerd.log), its pid in $CT/cpid; returns once it answers (20 s).
ctrd_launch() {
	env "${CTRD_ENV[@]}" containerd --config "$CT/config.toml" --log-level "$CTRD_LOG_LEVEL" \
		>>"$CT/containerd.log" 2>&1 </dev/null &
	echo $! >"$CT/cpid"
	wait_for 20 ctr -a "$SOCK" version
}

# ctrd_start NAME: ctrd_launch, or "not ok - NAME: containerd up" and exit.
ctrd_start() {
	ctrd_launch
	local rc=$?
	CPID=$(cat "$CT/cpid")
	_started=1
	if [ $rc != 0 ]; then
		tail -20 "$CT/containerd.log" | sed 's/^/# /'
		echo "not ok - $1: containerd up"
		exit 1
	fi
	echo "# containerd up after $((SECONDS - _t0))s"
}

# ctrd_import NAME: the busybox rootfs as the OCI image $IMG, imported with
# `ctr images import`; a failure ends the script.
ctrd_import() {
	build_rootfs "$CT/rootfs"
	"$PY" "$MKIMAGE" oci "$CT/rootfs" "$CT/image.tar" "$IMG"
	cl C images import "$CT/image.tar"
	if [ "$RC" != 0 ] || ! C images ls -q | grep -qx "$IMG"; then
		printf '%s\n' "$OUT" "$ERR" | sed 's/^/# /'
		echo "not ok - $1: import the busybox image"
		exit 1
	fi
	echo "ok - $1: import the busybox image"
}

# ctrd_stop: for client_stop: tasks, containers, the image, containerd
# (the one in $CT/cpid: a case may have restarted it), its cgroups.
ctrd_stop() {
	ctrd_case_cleanup
	C images rm "$IMG" >/dev/null 2>&1
	[ -s "$CT/cpid" ] && CPID=$(cat "$CT/cpid")
	if [ -n "${CPID:-}" ]; then
		kill -TERM "$CPID" 2>/dev/null
		wait_for 10 sh -c "! kill -0 $CPID" || kill -KILL "$CPID"
		wait "$CPID" 2>/dev/null || true
	fi
	find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$PFX*" | sort -r | xargs -r rmdir
	true
}

task_status() { C task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
task_pid() { C task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $2 }'; }
