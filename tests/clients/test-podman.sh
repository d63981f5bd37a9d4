#!/bin/bash
# timeout: 300
# rune under Podman (conmon): podman 4.3 from Debian, storage, run root,
# tmp dir, events and locks in a temp dir; rune as the runtime through a
# containers.conf like docs/clients/podman.md's; a busybox image made with
# `podman import`.
CLIENT=podman
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
need_pkgs podman

IMG=localhost/rune-busybox:test
# podman runs rune without --root, so rune's state is in /run/rune: any
# state there whose bundle is in our temp dir is a leftover
CLIENT_EXTRA_LEFTOVERS='x=$(grep -ls -- "$CT" /run/rune/*/state.json | tr "\n" " "); [ -n "$x" ] && echo "rune state: $x"'
_run_rune_existed=0
[ -e /run/rune ] && _run_rune_existed=1
# podman keeps a blob-info cache in /var/lib/containers/cache whatever its
# --root: remove it at the end if this run made it
_varlib_existed=0
[ -e /var/lib/containers ] && _varlib_existed=1
mkdir -p "$CT/tmp" "$CT/net" "$CT/cni"
cat >"$CT/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$CT/events.log"
lock_type = "file"
tmp_dir = "$CT/tmp"
image_copy_tmp_dir = "$CT/tmp"
runtime = "rune"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "rune", "rune-pal"]
[engine.runtimes]
rune = ["$RUNE"]
rune-pal = ["$CT/rune-pal"]
[network]
network_config_dir = "$CT/net"
CONF
export CONTAINERS_CONF=$CT/containers.conf
# (a storage.conf of our own: the host's may name other roots)
cat >"$CT/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$CT/root"
runroot = "$CT/runroot"
CONF
export CONTAINERS_STORAGE_CONF=$CT/storage.conf
# P: podman with our roots (a script: timeout, sh -c and script(1) run it)
mkdir -p "$CT/bin"
cat >"$CT/bin/P" <<WRAP
#!/bin/sh
export XDG_CONFIG_HOME="$CT/config" XDG_DATA_HOME="$CT/data" TMPDIR="$CT/tmp"
exec podman --root "$CT/root" --runroot "$CT/runroot" --tmpdir "$CT/tmp" \\
	--cgroup-manager cgroupfs --events-backend file "\$@"
WRAP
chmod 0755 "$CT/bin/P"
PATH=$CT/bin:$PATH
# run flags every container gets: no network, limits this host allows,
# a cgroup parent carrying our prefix (leftover checks find it).
RUNF=(--pull never --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768
	--cgroup-parent "/$PFX")

# podman puts conmon (and containers without --cgroup-parent) under
# libpod_parent: remove it afterwards unless it was there before us
_libpod_parent_existed=0
[ -d /sys/fs/cgroup/memory/libpod_parent ] || [ -d /sys/fs/cgroup/libpod_parent ] &&
	_libpod_parent_existed=1

client_stop() {
	P rm -af -t 0
	P system reset -f
	[ $_varlib_existed = 0 ] && rm -rf /var/lib/containers
	[ $_run_rune_existed = 0 ] && rmdir /run/rune 2>/dev/null
	# the overlay driver keeps its home mounted
	awk -v t="$CT" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	# the cgroup parent is ours: runtimes make parents and never remove
	# them, and podman leaves its conmon cgroup there
	find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$PFX*" | sort -r | xargs -r rmdir
	[ $_libpod_parent_existed = 0 ] &&
		find /sys/fs/cgroup -maxdepth 4 -type d -path "*/libpod_parent*" | sort -r |
		xargs -r rmdir 2>/dev/null
	true
}
client_case_cleanup() { P rm -af -t 0 >/dev/null 2>&1; }

_started=1
import_busybox P podman

# inspect NAME FORMAT
inspect() { P inspect -f "$2" "$1" 2>/dev/null; }

t_run_output() {
	cl P run --rm "${RUNF[@]}" "$IMG" sh -c 'echo hello from $(cat /proc/1/comm); echo to-stderr >&2'
	assert_rc 0 "podman run"
	assert_eq "hello from sh" "$OUT" "container stdout"
	assert_contains to-stderr "$ERR" "container stderr"
	cl P run --rm "${RUNF[@]}" "$IMG" sh -c 'exit 7'
	assert_rc 7 "podman run of 'exit 7'"
	# default runtime from containers.conf is rune: check that conmon ran it
	cl_ok P run --name "$PFX-rt" "${RUNF[@]}" "$IMG" true
	assert_eq rune "$(inspect "$PFX-rt" '{{.OCIRuntime}}')" "OCIRuntime"
	cl_ok P rm "$PFX-rt"
	# stdin
	CMD="echo piped | podman run -i"
	RC=0
	OUT=$(echo piped | P run --rm -i "${RUNF[@]}" "$IMG" cat 2>&1) || RC=$?
	assert_rc 0 "podman run -i"
	assert_eq piped "$OUT" "stdin through podman run -i"
}

t_detached_exec_logs() {
	cl_ok P run -d --name "$PFX-d" "${RUNF[@]}" "$IMG" sh -c 'echo started; exec sleep 1000'
	assert_eq running "$(inspect "$PFX-d" '{{.State.Status}}')" status
	# podman passes no --root: rune's state is in its default /run/rune
	[ -d "/run/rune/$(inspect "$PFX-d" '{{.Id}}')" ] || fail "no rune state in /run/rune for the running container"
	cl P exec "$PFX-d" sh -c 'echo exec in $(cat /proc/1/comm); exit 3'
	assert_rc 3 "podman exec exit code"
	assert_eq "exec in sleep" "$OUT" "exec output"
	cl_ok P exec -e FOO=bar -w /tmp "$PFX-d" sh -c 'echo $FOO $(pwd)'
	assert_eq "bar /tmp" "$OUT" "exec env and workdir"
	cl_ok P exec -d "$PFX-d" sleep 777
	wait_for 10 sh -c "P top '$PFX-d' 2>/dev/null | grep -q 'sleep 777'" 2>/dev/null ||
		wait_for 10 pgrep -f 'sleep 777' || fail "exec -d process not running"
	cl_ok P top "$PFX-d"
	assert_contains "sleep 1000" "$OUT" "podman top"
	cl_ok P logs "$PFX-d"
	assert_eq started "$OUT" "podman logs"
	cl P exec "$PFX-d" /no/such/binary
	assert_fails "exec of a missing binary"
	[ "$RC" = 127 ] || [ "$RC" = 126 ] || fail "exec of a missing binary: expected 126/127, got $RC"
	assert_eq running "$(inspect "$PFX-d" '{{.State.Status}}')" "status after a failed exec"
}

t_tty() {
	cl_tty P run --rm -t "${RUNF[@]}" "$IMG" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; stty size'
	assert_rc 0 "podman run -t"
	assert_match '/dev/pts/[0-9]+' "$OUT" "tty in the container"
	assert_contains both-tty "$OUT" "stdin/stdout are terminals"
	cl_ok P run -d --name "$PFX-t" "${RUNF[@]}" "$IMG" sleep 1000
	cl_tty P exec -t "$PFX-t" sh -c 'tty; exit 4'
	assert_rc 4 "podman exec -t exit code"
	assert_match '/dev/pts/[0-9]+' "$OUT" "tty in exec"
	# -it with input typed on the terminal
	RC=0
	OUT=$( (sleep 2; echo typed; sleep 3) | timeout 30 script -qefc "P exec -it $PFX-t sh -c 'read l; echo got:\$l'" /dev/null 2>&1 | tr -d '\r') || RC=$?
	assert_contains got:typed "$OUT" "input through exec -it"
}

t_pause_resume() {
	cl_ok P run -d --name "$PFX-p" "${RUNF[@]}" "$IMG" sleep 1000
	local pid
	pid=$(inspect "$PFX-p" '{{.State.Pid}}')
	cl_ok P pause "$PFX-p"
	assert_eq paused "$(inspect "$PFX-p" '{{.State.Status}}')" "status after pause"
	frozen "$pid" || fail "container's init is not frozen after podman pause"
	cl P exec "$PFX-p" true
	assert_fails "exec into a paused container"
	cl_ok P unpause "$PFX-p"
	assert_eq running "$(inspect "$PFX-p" '{{.State.Status}}')" "status after unpause"
	frozen "$pid" && fail "still frozen after podman unpause"
	cl_ok P exec "$PFX-p" true
}

t_update() {
	cl_ok P run -d --name "$PFX-u" --memory 64m "${RUNF[@]}" "$IMG" sleep 1000
	local pid
	pid=$(inspect "$PFX-u" '{{.State.Pid}}')
	assert_eq $((64 << 20)) "$(memory_limit_of "$pid")" "memory limit at start"
	cl_ok P update --memory 96m "$PFX-u"
	assert_eq $((96 << 20)) "$(memory_limit_of "$pid")" "memory limit after podman update"
	cl_ok P update --cpu-shares 512 "$PFX-u"
	local cg
	cg=$(cgroup_of "$pid" cpu)
	if [ -f "/sys/fs/cgroup/cpu$cg/cpu.shares" ]; then
		assert_eq 512 "$(cat "/sys/fs/cgroup/cpu$cg/cpu.shares")" "cpu.shares after podman update"
	fi
}

t_stop_signal() {
	# init traps TERM and exits 42: podman stop sends TERM, reports 42
	cl_ok P run -d --name "$PFX-s" "${RUNF[@]}" "$IMG" sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.2; done'
	wait_for 10 sh -c "P logs $PFX-s | grep -q ready" || true
	cl_ok P stop -t 20 "$PFX-s"
	assert_eq 42 "$(inspect "$PFX-s" '{{.State.ExitCode}}')" "exit code after podman stop (TERM trapped, exit 42)"
	assert_eq exited "$(inspect "$PFX-s" '{{.State.Status}}')" "status after stop"
	# SIGKILL: 137
	cl_ok P run -d --name "$PFX-k" "${RUNF[@]}" "$IMG" sleep 1000
	cl_ok P kill -s KILL "$PFX-k"
	cl P wait "$PFX-k"
	assert_eq 137 "$OUT" "podman wait after kill -s KILL"
	# a signal the init does not handle, with its own stop signal
	cl_ok P run -d --name "$PFX-h" --stop-signal HUP "${RUNF[@]}" "$IMG" sh -c 'trap "exit 9" HUP; while :; do sleep 0.2; done'
	sleep 0.5
	cl_ok P stop -t 20 "$PFX-h"
	assert_eq 9 "$(inspect "$PFX-h" '{{.State.ExitCode}}')" "exit code after stop with --stop-signal HUP"
}

t_remove() {
	cl_ok P run -d --name "$PFX-r" "${RUNF[@]}" "$IMG" sleep 1000
	local id pid
	id=$(inspect "$PFX-r" '{{.Id}}')
	pid=$(inspect "$PFX-r" '{{.State.Pid}}')
	cl_ok P rm -f -t 0 "$PFX-r"
	cl P inspect "$PFX-r"
	assert_fails "inspect after rm"
	wait_for 10 sh -c "! kill -0 $pid" || fail "init $pid still alive after rm -f"
	[ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null)" ] ||
		fail "cgroups left after rm: $(find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*")"
	[ ! -e "/run/rune/$id" ] || fail "rune state left after rm: /run/rune/$id"
}

# run_sh EXPECTED FLAG... -- SCRIPT: podman run --rm FLAGS IMG sh -c SCRIPT,
# requiring exit 0 and stdout EXPECTED (lines joined by spaces)
run_sh() {
	local want=$1 flags=()
	shift
	while [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	cl P run --rm "${RUNF[@]}" "${flags[@]}" "$IMG" sh -c "$2"
	assert_rc 0 "podman run ${flags[*]}"
	assert_eq "$want" "$(printf '%s' "$OUT" | tr '\n' ' ' | sed 's/ *$//')" "output with ${flags[*]}"
}

t_run_options() {
	mkdir -p "$CT/vol"
	echo hostfile >"$CT/vol/f"
	run_sh "hostfile ro tmpfs-ok" --read-only --tmpfs /run -v "$CT/vol:/data:ro" -- 'cat /data/f; touch /x 2>/dev/null || echo ro; touch /run/y && echo tmpfs-ok'
	run_sh "65534 1234" --user 65534 --group-add 1234 -- 'id -u; id -G | tr " " "\n" | grep 1234'
	run_sh "00000000a80435fa" --cap-add NET_ADMIN --cap-drop CHOWN -- 'sed -n "s/^CapEff:\t//p" /proc/self/status'
	run_sh "20" --memory 32m --pids-limit 20 --cpus 0.5 -- 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'
	run_sh "100000000" --sysctl kernel.shmmax=100000000 -- 'cat /proc/sys/kernel/shmmax'
	run_sh "0 100000" --uidmap 0:100000:65536 --gidmap 0:100000:65536 -- 'id -u; awk "{ print \$2 }" /proc/self/uid_map'
	run_sh "2" -- 'sed -n "s/^Seccomp:\t//p" /proc/self/status'
	run_sh "0" --security-opt mask=/etc/passwd -- 'wc -c </etc/passwd'
	run_sh "1,5" --device /dev/zero:/dev/z -- 'stat -c %t,%T /dev/z'
}

t_pod() {
	# a pod: an infra container (our image sleeping) whose ipc, uts and pid
	# namespaces the other containers join by path
	cl_ok P import --change 'CMD ["sleep", "2147483647"]' "$CT/rootfs.tar" localhost/rune-pause:test
	cl_ok P pod create --name "$PFX-pod" --infra-image localhost/rune-pause:test --network none \
		--cgroup-parent "/$PFX" --share ipc,uts,pid
	cl_ok P run -d --name "$PFX-inpod" --pod "$PFX-pod" --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 "$IMG" sleep 1000
	cl_ok P exec "$PFX-inpod" sh -c 'ps -o comm | grep -c sleep'
	assert_eq 2 "$OUT" "sleeps seen in the pod's pid namespace (infra + container)"
	cl_ok P pod stop -t 1 "$PFX-pod"
	cl_ok P pod rm -f "$PFX-pod"
	cl_ok P ps -aq
	assert_eq "" "$OUT" "containers left after pod rm"
}

t_errors() {
	cl P run --rm "${RUNF[@]}" "$IMG" /no/such/binary
	assert_fails "run of a missing binary"
	[ "$RC" = 127 ] || fail "podman run of a missing binary: exit $RC, expected 127 (podman's 'command not found')"
	assert_contains /no/such/binary "$ERR" "podman's error"
	assert_match '[Nn]o such file|not found' "$ERR" "podman's error"
	cl P run --rm "${RUNF[@]}" "$IMG" /etc/passwd
	assert_fails "run of a non-executable file"
	[ "$RC" = 126 ] || fail "podman run of a non-executable: exit $RC, expected 126"
	assert_match '[Pp]ermission denied' "$ERR" "podman's error"
	# the runtime binary is missing
	cl P run --rm --runtime "$CT/no-such-rune" "${RUNF[@]}" "$IMG" true
	assert_fails "run with a missing runtime"
	assert_contains no-such-rune "$ERR" "podman's error names the runtime"
	# a runtime error (invalid config for rune: a bad sysctl) reaches the user
	cl P run --rm --sysctl net.no_such_key=1 "${RUNF[@]}" "$IMG" true
	assert_fails "run with an unknown sysctl"
	assert_contains no_such_key "$ERR" "podman's error carries rune's message"
}

t_enclave() {
	have_enclave || skip "enclave runtime not built ($PAL, $ENCL_DIR)"
	local E=(--runtime rune-pal -e ENCLAVE_TYPE=intelSgx -e "ENCLAVE_RUNTIME_PATH=$PAL"
		-e ENCLAVE_RUNTIME_ARGS=/enclave -e ENCLAVE_RUNTIME_LOGLEVEL=info -w /enclave)
	cl P run --rm "${E[@]}" "${RUNF[@]}" "$IMG" skeleton hello
	assert_rc 0 "podman run of the enclave container"
	assert_contains "Hello from the skeleton enclave!" "$OUT" "enclave output"
	cl P run --rm "${E[@]}" "${RUNF[@]}" "$IMG" skeleton exit 3
	assert_rc 3 "enclave exit status through podman"
	# detached, stopped by a signal
	cl_ok P run -d --name "$PFX-e" "${E[@]}" "${RUNF[@]}" "$IMG" skeleton sleep 100
	sleep 1
	assert_eq running "$(inspect "$PFX-e" '{{.State.Status}}')" "enclave container status"
	cl_ok P stop -t 10 "$PFX-e"
	local ec
	ec=$(inspect "$PFX-e" '{{.State.ExitCode}}')
	[ "$ec" = 143 ] || [ "$ec" = 137 ] || fail "enclave container exit code after stop: $ec, expected 143 (TERM)"
	# the same configuration as annotations
	cl P run --rm --runtime rune-pal --annotation enclave.type=intelSgx \
		--annotation "enclave.runtime.path=$PAL" --annotation enclave.runtime.args=/enclave \
		-w /enclave "${RUNF[@]}" "$IMG" skeleton hello
	assert_rc 0 "podman run of the enclave container (annotations)"
	assert_contains "Hello from the skeleton enclave!" "$OUT" "enclave output (annotations)"
	# A tampered SIGSTRUCT: podman's error carries EINIT's reason.
	cl P run --rm --runtime rune-pal -e ENCLAVE_TYPE=intelSgx -e "ENCLAVE_RUNTIME_PATH=$PAL" \
		-e ENCLAVE_RUNTIME_ARGS=/enclave-tampered -w /enclave-tampered "${RUNF[@]}" "$IMG" \
		skeleton hello
	assert_fails "podman run of an enclave with a tampered SIGSTRUCT"
	assert_match "EINIT: SGX_INVALID_(SIGNATURE|SIG_STRUCT)" "$ERR" "podman's error"
}

# An image made by `rune-image convert` from an oci-archive: podman load,
# then podman run runs it in the LibOS enclave, its output the native run's.
t_convert() {
	tee_load_run P oci localhost/rune-convert:podman --runtime rune-pal "${RUNF[@]}"
}

t_enclave_exec() {
	have_enclave || skip "enclave runtime not built ($PAL, $ENCL_DIR)"
	cl_ok P run -d --name "$PFX-ex" --runtime rune-pal -w /enclave -e ENCLAVE_TYPE=intelSgx \
		-e "ENCLAVE_RUNTIME_PATH=$PAL" -e ENCLAVE_RUNTIME_ARGS=/enclave "${RUNF[@]}" "$IMG" skeleton sleep 100
	cl P exec "$PFX-ex" skeleton exit 5
	assert_rc 5 "exit status of podman exec into the enclave"
	cl P exec "$PFX-ex" skeleton hello
	assert_rc 0 "podman exec of skeleton hello into the enclave"
	assert_contains "Hello from the skeleton enclave!" "$OUT" "output of podman exec into the enclave"
	assert_eq running "$(inspect "$PFX-ex" '{{.State.Status}}')" "enclave container after the execs"
}

tcase "podman: run, output, exit code, stdin" t_run_output
tcase "podman: detached, exec, top, logs" t_detached_exec_logs
tcase "podman: tty (run -t, exec -t, exec -it)" t_tty
tcase "podman: pause and unpause" t_pause_resume
tcase "podman: update memory and cpu" t_update
tcase "podman: stop with a signal, exit codes" t_stop_signal
tcase "podman: remove" t_remove
tcase "podman: run options (read-only, volumes, user, caps, limits, sysctl, userns, seccomp, devices)" t_run_options
tcase "podman: pod (infra container, shared namespaces)" t_pod
tcase "podman: errors from rune reach the user" t_errors
tcase "podman: enclave container (skeleton PAL)" t_enclave
tcase "podman: exec into an enclave container" t_enclave_exec
tcase "podman: image converted by rune-image convert, load and run in the enclave" t_convert
