#!/bin/bash
# timeout: 300
# rune under dockerd 20.10 (Debian's docker.io): data-root, exec-root,
# pidfile and socket in a temp dir, no iptables, no bridge, its own managed
# containerd; rune registered in daemon.json's "runtimes" (as in
# docs/clients/docker.md) and picked with `docker run --runtime rune`; the
# image made with `docker import`. dockerd runs in a mount namespace of its
# own in which the build's liberpal-libos.so sits in rune's built-in PAL
# directory (a tmpfs there), as on an installed system.
CLIENT=docker
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
need_pkgs docker

IMG=rune-busybox:test
SOCK=$CT/d.sock
_shim_socks_before=$(ls /run/containerd/s 2>/dev/null | sort)
_etc_docker_before=$(ls -A /etc/docker 2>/dev/null | sort)
_run_docker_existed=0
[ -e /run/docker ] && _run_docker_existed=1
# dockerd's own containerd makes /opt/containerd (its "opt" plugin dir)
_opt_ctrd_existed=0
[ -e /opt/containerd ] && _opt_ctrd_existed=1
CLIENT_EXTRA_LEFTOVERS='x=$(comm -13 <(echo "$_shim_socks_before") <(ls /run/containerd/s 2>/dev/null | sort) | tr "\n" " "); [ -n "$x" ] && echo "shim sockets: $x"'
cat >"$CT/daemon.json" <<CONF
{
	"data-root": "$CT/data",
	"exec-root": "$CT/x",
	"pidfile": "$CT/docker.pid",
	"hosts": ["unix://$SOCK"],
	"iptables": false,
	"ip-forward": false,
	"ip-masq": false,
	"bridge": "none",
	"userland-proxy": false,
	"storage-driver": "overlay2",
	"exec-opts": ["native.cgroupdriver=cgroupfs"],
	"cgroup-parent": "/$PFX",
	"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 20000, "Soft": 20000}},
	"features": {"buildkit": false},
	"runtimes": {
		"rune": {"path": "$RUNE"},
		"rune-pal": {"path": "$CT/rune-pal"},
		"rune-missing": {"path": "$CT/no-such-rune"}
	}
}
CONF
mkdir -p "$CT/bin"
cat >"$CT/bin/D" <<WRAP
#!/bin/sh
exec docker -H "unix://$SOCK" "\$@"
WRAP
chmod 0755 "$CT/bin/D"
PATH=$CT/bin:$PATH
export DOCKER_CONFIG=$CT/client
RUNF=(--runtime rune --network none)

client_case_cleanup() {
	local ids
	ids=$(D ps -aq 2>/dev/null)
	[ -n "$ids" ] && D rm -f $ids >/dev/null 2>&1
	true
}
client_stop() {
	local f
	client_case_cleanup
	if [ -n "${DPID:-}" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait_for 20 sh -c "! kill -0 $DPID" || kill -KILL "$DPID"
		wait "$DPID" 2>/dev/null
	fi
	# dockerd makes its trust key in /etc/docker whatever the config
	for f in $(comm -13 <(echo "$_etc_docker_before") <(ls -A /etc/docker 2>/dev/null | sort)); do
		rm -f "/etc/docker/$f"
	done
	# and /run/docker/plugins
	[ $_run_docker_existed = 0 ] && rmdir /run/docker/plugins /run/docker 2>/dev/null
	[ $_opt_ctrd_existed = 0 ] && rmdir /opt/containerd/bin /opt/containerd/lib /opt/containerd 2>/dev/null
	awk -v t="$CT" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$PFX*" | sort -r | xargs -r rmdir
	true
}

# An installed system (make install, the .deb) has liberpal-libos.so in
# rune's built-in PAL directory, which is what an image made by rune-image
# convert names (by bare file name). The build's rune has that directory
# built in; dockerd runs in a mount namespace of its own in which the
# build's PAL is installed there (on a tmpfs: the host's directories are
# not touched), so that `--runtime rune` runs a converted image with no
# --pal-dir, as on an installed system. PAL_INSTALLED: that directory, or
# empty when it cannot be done without hiding a system directory.
PAL_INSTALLED=$("$RUNE" --help 2>&1 | sed -n 's|.*else \(/[^ )]*/lib/rune/pal\)).*|\1|p')
pal_mount_at() { # the deepest existing directory on the way to $PAL_INSTALLED
	local d=$PAL_INSTALLED
	while [ ! -d "$d" ]; do d=$(dirname "$d"); done
	echo "$d"
}
if [ -n "$PAL_INSTALLED" ] && [ -f "$BUILD/lib/liberpal-libos.so" ]; then
	case $(pal_mount_at) in
	/ | /usr | /usr/lib | /usr/lib64 | /lib | /lib64 | /etc | /opt | /var | /var/lib | /run | /tmp) PAL_INSTALLED= ;;
	esac
else
	PAL_INSTALLED=
fi
if [ -n "$PAL_INSTALLED" ]; then
	at=$(pal_mount_at)
	unshare -m --propagation private sh -ec "mount -t tmpfs -o mode=0755,size=16m rune-test-pal '$at'
		mkdir -p '$PAL_INSTALLED'
		install -m 0755 '$BUILD/lib/liberpal-libos.so' '$PAL_INSTALLED/'
		exec dockerd --config-file '$CT/daemon.json'" >"$CT/dockerd.log" 2>&1 &
else
	dockerd --config-file "$CT/daemon.json" >"$CT/dockerd.log" 2>&1 &
fi
DPID=$!
_started=1
if ! wait_for 60 D version; then
	tail -20 "$CT/dockerd.log" | sed 's/^/# /'
	echo "not ok - docker: daemon up"
	exit 1
fi
echo "# dockerd up after $((SECONDS - _t0))s"
import_busybox D docker

inspect() { D inspect -f "$2" "$1" 2>/dev/null; }

t_run_output() {
	cl D run --rm "${RUNF[@]}" "$IMG" sh -c 'echo hello from $(cat /proc/1/comm); echo to-stderr >&2'
	assert_rc 0 "docker run"
	assert_eq "hello from sh" "$OUT" "container stdout"
	assert_contains to-stderr "$ERR" "container stderr"
	cl D run --rm "${RUNF[@]}" "$IMG" sh -c 'exit 7'
	assert_rc 7 "docker run of 'exit 7'"
	cl_ok D run --name "$PFX-rt" "${RUNF[@]}" "$IMG" true
	assert_eq rune "$(inspect "$PFX-rt" '{{.HostConfig.Runtime}}')" "HostConfig.Runtime"
	RC=0
	OUT=$(echo piped | D run --rm -i "${RUNF[@]}" "$IMG" cat 2>&1) || RC=$?
	assert_rc 0 "docker run -i"
	assert_eq piped "$OUT" "stdin through docker run -i"
}

t_detached_exec_logs() {
	cl_ok D run -d --name "$PFX-d" "${RUNF[@]}" "$IMG" sh -c 'echo started; exec sleep 1000'
	assert_eq running "$(inspect "$PFX-d" '{{.State.Status}}')" status
	cl D exec "$PFX-d" sh -c 'echo exec in $(cat /proc/1/comm); exit 3'
	assert_rc 3 "docker exec exit code"
	assert_eq "exec in sleep" "$OUT" "exec output"
	cl_ok D exec -e FOO=bar -w /tmp -u 65534 "$PFX-d" sh -c 'echo $FOO $(pwd) $(id -u)'
	assert_eq "bar /tmp 65534" "$OUT" "exec env, workdir and user"
	cl_ok D exec -d "$PFX-d" sleep 777
	wait_for 10 pgrep -f 'sleep 777' || fail "exec -d process not running"
	cl_ok D top "$PFX-d"
	assert_contains "sleep 1000" "$OUT" "docker top"
	assert_contains "sleep 777" "$OUT" "docker top"
	wait_for 10 sh -c "D logs $PFX-d | grep -q started" || true
	cl_ok D logs "$PFX-d"
	assert_eq started "$OUT" "docker logs"
	cl D exec "$PFX-d" /no/such/binary
	assert_fails "exec of a missing binary"
	[ "$RC" = 127 ] || [ "$RC" = 126 ] || fail "exec of a missing binary: expected 126/127, got $RC"
	assert_eq running "$(inspect "$PFX-d" '{{.State.Status}}')" "status after a failed exec"
	cl_ok D stats --no-stream "$PFX-d"
}

t_tty() {
	cl_tty D run --rm -t "${RUNF[@]}" "$IMG" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-tty'
	assert_rc 0 "docker run -t"
	assert_match '/dev/pts/[0-9]+' "$OUT" "tty in the container"
	assert_contains both-tty "$OUT" "stdin/stdout are terminals"
	cl_ok D run -d --name "$PFX-t" "${RUNF[@]}" "$IMG" sleep 1000
	cl_tty D exec -t "$PFX-t" sh -c 'tty; exit 4'
	assert_rc 4 "docker exec -t exit code"
	assert_match '/dev/pts/[0-9]+' "$OUT" "tty in exec"
	RC=0
	OUT=$( (sleep 2; echo typed; sleep 3) | timeout 30 script -qefc "D exec -it $PFX-t sh -c 'read l; echo got:\$l'" /dev/null 2>&1 | tr -d '\r') || RC=$?
	assert_contains got:typed "$OUT" "input through exec -it"
}

t_pause_resume() {
	cl_ok D run -d --name "$PFX-p" "${RUNF[@]}" "$IMG" sleep 1000
	local pid
	pid=$(inspect "$PFX-p" '{{.State.Pid}}')
	cl_ok D pause "$PFX-p"
	assert_eq paused "$(inspect "$PFX-p" '{{.State.Status}}')" "status after pause"
	frozen "$pid" || fail "init not frozen after docker pause"
	cl_ok D unpause "$PFX-p"
	assert_eq running "$(inspect "$PFX-p" '{{.State.Status}}')" "status after unpause"
	frozen "$pid" && fail "still frozen after docker unpause"
	cl_ok D exec "$PFX-p" true
}

t_update() {
	cl_ok D run -d --name "$PFX-u" -m 64m "${RUNF[@]}" "$IMG" sleep 1000
	local pid
	pid=$(inspect "$PFX-u" '{{.State.Pid}}')
	assert_eq $((64 << 20)) "$(memory_limit_of "$pid")" "memory limit at start"
	cl_ok D update -m 96m --memory-swap -1 "$PFX-u"
	assert_eq $((96 << 20)) "$(memory_limit_of "$pid")" "memory limit after docker update"
	cl_ok D update --cpu-shares 512 --pids-limit 50 "$PFX-u"
	local cg
	cg=$(cgroup_of "$pid" cpu)
	if [ -f "/sys/fs/cgroup/cpu$cg/cpu.shares" ]; then
		assert_eq 512 "$(cat "/sys/fs/cgroup/cpu$cg/cpu.shares")" "cpu.shares after docker update"
	fi
	cg=$(cgroup_of "$pid" pids)
	if [ -f "/sys/fs/cgroup/pids$cg/pids.max" ]; then
		assert_eq 50 "$(cat "/sys/fs/cgroup/pids$cg/pids.max")" "pids.max after docker update"
	fi
}

t_stop_signal() {
	cl_ok D run -d --name "$PFX-s" "${RUNF[@]}" "$IMG" sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.2; done'
	wait_for 10 sh -c "D logs $PFX-s | grep -q ready" || true
	cl_ok D stop -t 20 "$PFX-s"
	assert_eq 42 "$(inspect "$PFX-s" '{{.State.ExitCode}}')" "exit code after docker stop (TERM trapped, exit 42)"
	cl_ok D run -d --name "$PFX-k" "${RUNF[@]}" "$IMG" sleep 1000
	cl_ok D kill -s KILL "$PFX-k"
	cl D wait "$PFX-k"
	assert_eq 137 "$OUT" "docker wait after kill -s KILL"
	cl_ok D run -d --name "$PFX-h" --stop-signal HUP "${RUNF[@]}" "$IMG" sh -c 'trap "exit 9" HUP; while :; do sleep 0.2; done'
	sleep 0.5
	cl_ok D stop -t 20 "$PFX-h"
	assert_eq 9 "$(inspect "$PFX-h" '{{.State.ExitCode}}')" "exit code after stop with --stop-signal HUP"
	# restart: a stopped container starts again (create + start on the same bundle id)
	cl_ok D start "$PFX-h"
	assert_eq running "$(inspect "$PFX-h" '{{.State.Status}}')" "status after docker start of a stopped container"
}

t_remove() {
	cl_ok D run -d --name "$PFX-r" "${RUNF[@]}" "$IMG" sleep 1000
	local id pid
	id=$(inspect "$PFX-r" '{{.Id}}')
	pid=$(inspect "$PFX-r" '{{.State.Pid}}')
	cl_ok D rm -f "$PFX-r"
	cl D inspect "$PFX-r"
	assert_fails "inspect after rm"
	wait_for 10 sh -c "! kill -0 $pid" || fail "init $pid alive after rm -f"
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$id")" ] ||
		fail "cgroups left: $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$id")"
	[ -z "$(find "$CT/x" -maxdepth 3 -path '*/runtime-*' -name "$id")" ] ||
		fail "runtime state left: $(find "$CT/x" -maxdepth 3 -path '*/runtime-*' -name "$id")"
}

# run_sh EXPECTED FLAG... -- SCRIPT: docker run --rm FLAGS IMG sh -c SCRIPT,
# requiring exit 0 and stdout EXPECTED
run_sh() {
	local want=$1 flags=()
	shift
	while [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	cl D run --rm "${RUNF[@]}" "${flags[@]}" "$IMG" sh -c "$2"
	assert_rc 0 "docker run ${flags[*]}"
	assert_eq "$want" "$(printf '%s' "$OUT" | tr '\n' ' ' | sed 's/ *$//')" "output with ${flags[*]}"
}

t_run_options() {
	mkdir -p "$CT/vol"
	echo hostfile >"$CT/vol/f"
	run_sh "ro tmpfs-ok" --read-only --tmpfs /run:size=1m -- 'touch /x 2>/dev/null || echo ro; touch /run/y && echo tmpfs-ok'
	run_sh "hostfile ro" -v "$CT/vol:/data:ro" -- 'cat /data/f; touch /data/g 2>/dev/null || echo ro'
	run_sh "65534:65534" --user 65534:65534 -- 'echo $(id -u):$(id -g)'
	run_sh "0000000000000000" --cap-drop ALL -- 'sed -n "s/^CapEff:\t//p" /proc/self/status'
	run_sh "1" --security-opt no-new-privileges -- 'sed -n "s/^NoNewPrivs:\t//p" /proc/self/status'
	run_sh "/sbin/docker-init" --init -- 'tr "\0" "\n" </proc/1/cmdline | head -1'
	run_sh "8192" --shm-size 8m -- 'df -k /dev/shm | awk "NR == 2 { print \$2 }"'
	run_sh "myhost 1.2.3.4" --hostname myhost --add-host foo:1.2.3.4 -- 'hostname; awk "/foo/ { print \$1 }" /etc/hosts'
	run_sh "65536" --sysctl kernel.msgmax=65536 -- 'cat /proc/sys/kernel/msgmax'
	run_sh "1,3" --device /dev/null:/dev/mynull -- 'stat -c %t,%T /dev/mynull'
	run_sh "1024 2048" --ulimit nofile=1024:2048 -- 'ulimit -n; ulimit -Hn'
	run_sh "1234" --group-add 1234 -- 'id -G | tr " " "\n" | grep 1234'
	run_sh "0" --cpuset-cpus 0 -- 'sed -n "s/^Cpus_allowed_list:\t//p" /proc/self/status'
	run_sh "100" --oom-score-adj 100 -- 'cat /proc/self/oom_score_adj'
	# another container's pid and ipc namespaces (joined by path)
	cl_ok D run -d --name "$PFX-ns" --ipc shareable "${RUNF[@]}" "$IMG" sleep 1000
	run_sh "sleep" --pid "container:$PFX-ns" --ipc "container:$PFX-ns" -- 'cat /proc/1/comm'
}

t_errors() {
	cl D run --rm "${RUNF[@]}" "$IMG" /no/such/binary
	assert_rc 127 "docker run of a missing binary (docker's 'command not found')"
	assert_contains /no/such/binary "$ERR" "docker's error"
	assert_match '[Nn]o such file|not found' "$ERR" "docker's error"
	cl D run --rm "${RUNF[@]}" "$IMG" /etc/passwd
	assert_rc 126 "docker run of a non-executable file (docker's 'cannot invoke')"
	assert_match '[Pp]ermission denied' "$ERR" "docker's error"
	cl D run --rm --runtime rune-missing --network none "$IMG" true
	assert_fails "run with a missing runtime binary"
	assert_contains no-such-rune "$ERR" "docker's error names the runtime"
	cl D run --rm "${RUNF[@]}" --sysctl net.no_such_key=1 "$IMG" true
	assert_fails "run with an unknown sysctl"
	assert_contains no_such_key "$ERR" "docker's error carries rune's message"
}

t_enclave() {
	have_enclave || skip "enclave runtime not built ($PAL, $ENCL_DIR)"
	local E=(--runtime rune-pal --network none -w /enclave -e ENCLAVE_TYPE=intelSgx
		-e "ENCLAVE_RUNTIME_PATH=$PAL" -e ENCLAVE_RUNTIME_ARGS=/enclave)
	cl D run --rm "${E[@]}" "$IMG" skeleton hello
	assert_rc 0 "docker run of the enclave container"
	assert_contains "Hello from the skeleton enclave!" "$OUT" "enclave output"
	cl D run --rm "${E[@]}" "$IMG" skeleton exit 3
	assert_rc 3 "enclave exit status through docker"
	# A tampered SIGSTRUCT: docker's error carries EINIT's reason, not just pal_init's -1.
	cl D run --rm --runtime rune-pal --network none -w /enclave-tampered -e ENCLAVE_TYPE=intelSgx \
		-e "ENCLAVE_RUNTIME_PATH=$PAL" -e ENCLAVE_RUNTIME_ARGS=/enclave-tampered "$IMG" skeleton hello
	assert_fails "docker run of an enclave with a tampered SIGSTRUCT"
	assert_match "EINIT: SGX_INVALID_(SIGNATURE|SIG_STRUCT)" "$ERR" "docker's error"
}

# An image made by `rune-image convert` from a docker-archive: docker load,
# then docker run runs it in the LibOS enclave, its output the native run's.
t_convert() {
	tee_load_run D docker localhost/rune-convert:docker --runtime rune-pal --network none
}

# The same image run by plain rune (no --pal-dir), its PAL where an
# installed system has it: "no further setup" (issue 14).
t_convert_installed() {
	[ -n "$PAL_INSTALLED" ] || skip "rune's built-in PAL directory cannot be faked here"
	tee_load_run D docker localhost/rune-convert:installed --runtime rune --network none
}

tcase "docker: run, output, exit code, stdin" t_run_output
tcase "docker: detached, exec, top, logs, stats" t_detached_exec_logs
tcase "docker: tty (run -t, exec -t, exec -it)" t_tty
tcase "docker: pause and unpause" t_pause_resume
tcase "docker: update memory, cpu, pids" t_update
tcase "docker: stop with a signal, exit codes, restart" t_stop_signal
tcase "docker: remove" t_remove
tcase "docker: run options (read-only, volumes, user, caps, init, devices, sysctl, ulimits, shared namespaces)" t_run_options
tcase "docker: errors from rune reach the user" t_errors
tcase "docker: enclave container (skeleton PAL)" t_enclave
tcase "docker: image converted by rune-image convert, load and run in the enclave" t_convert
tcase "docker: a converted image runs with the PAL where make install puts it, no --pal-dir" t_convert_installed
