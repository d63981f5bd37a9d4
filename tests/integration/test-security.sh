#!/bin/bash
# timeout: 240
# The attack classes runc learned from (issue 2, "Security"): each case tries
# the attack from the container's side and shows it fail.  Against Debian's
# runc 1.1.5 (older than some fixes) an attack that works is a skip.
. "$(dirname "$0")/lib.sh"

# CVE-2019-5736: a container process opens the runtime binary through
# /proc/<runtime-init>/exe and writes to it once the runtime has exited.
# Run against a copy of the runtime so a vulnerable runtime can't damage the
# real binary.
t_cve_2019_5736_runtime_exe() {
	local copy=$T/runtime-copy sum
	cp "$RUNTIME" "$copy"
	sum=$(sha256sum <"$copy")
	RUNTIME=$copy
	new_bundle
	add_share
	cfg_args sleep 1000
	# The startContainer hook runs inside the container, forked by the
	# runtime's own init (pid 1 until it execs the workload).
	local hook
	hook=$(jarr sh -c '
readlink /proc/1/exe > /share/exe-link 2>&1
if echo x 2>/dev/null >> /proc/1/exe; then echo WROTE > /share/direct; else echo denied > /share/direct; fi
(
	if ! exec 3</proc/1/exe; then echo open-denied > /share/later; exit 0; fi
	echo held > /share/held
	i=0
	while [ $i -lt 100 ] && [ ! -e /share/go ]; do sleep 0.1; i=$((i+1)); done
	if echo EVIL 2>/dev/null >> /proc/self/fd/3; then echo WROTE > /share/later; else echo denied > /share/later; fi
) </dev/null >/dev/null 2>&1 &
exit 0')
	cfg_append .hooks.startContainer "{\"path\": \"/bin/sh\", \"args\": $hook}"
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	wait_file "$SH/direct"
	echo "# /proc/1/exe seen by the hook: $(cat "$SH/exe-link")"
	assert_eq denied "$(cat "$SH/direct")" "writing /proc/1/exe (runtime init) from the container"
	for _ in $(seq 50); do [ -e "$SH/held" ] || [ -e "$SH/later" ] && break; sleep 0.1; done
	# the runtime has exited (run -d returned) and the workload replaced the
	# init: the held fd now refers to a binary nothing executes.
	wait_status "$ID" running
	touch "$SH/go"
	wait_file "$SH/later"
	local later
	later=$(cat "$SH/later")
	[ "$(sha256sum <"$copy")" = "$sum" ] || vuln_or_skip "the runtime binary was modified from inside the container"
	case $later in
	denied | open-denied) ;;
	*) vuln_or_skip "reopening the runtime binary for writing through a held fd: $later" ;;
	esac
}

# CVE-2024-21626: process.cwd (or exec --cwd) pointing at a leaked fd
# (/proc/self/fd/N) must not leave the process outside the rootfs.
t_cve_2024_21626_cwd_leaked_fd() {
	echo marker >"$T/HOSTMARK"
	local n escape="cd ../../../../../../../../../..; [ -e $T/HOSTMARK ] && echo ESCAPED; true"
	for n in 3 4 5 6 7 8 9 10; do
		new_bundle "run$n"
		cfg_set .process.cwd "\"/proc/self/fd/$n\""
		cfg_sh "$escape"
		ct_run
		[[ $OUT != *ESCAPED* ]] || vuln_or_skip "process.cwd /proc/self/fd/$n: the workload reached the host's $T"
	done
	new_bundle target
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	for n in 3 4 5 6 7 8 9 10; do
		rtc exec --cwd "/proc/self/fd/$n" "$ID" sh -c "$escape"
		[[ $OUT != *ESCAPED* ]] || vuln_or_skip "exec --cwd /proc/self/fd/$n: the process reached the host's $T"
	done
	# and no process of the container holds an fd or cwd on the host
	local init f
	init=$(rt state "$ID" | jget .pid)
	# (fds 0-2 are the caller's stdio: our own files here)
	for f in /proc/"$init"/fd/* /proc/"$init"/cwd; do
		case ${f##*/} in 0 | 1 | 2) continue ;; esac
		case $(readlink "$f") in "$T"*) vuln_or_skip "init holds $f -> $(readlink "$f")" ;; esac
	done
}

# CVE-2024-21626 class, creating the cwd: a /proc/self/fd/N that appears
# while the runtime makes the missing cwd (its own transient fd) is a magic
# link whose text is a host path: nothing named after it may be created in
# the rootfs, and the workload never runs there.
t_cve_2024_21626_cwd_magic_link_creates_nothing() {
	local n
	for n in 3 4 5 6 7 8 9 10 11 12; do
		new_bundle "mk$n"
		cfg_set .process.cwd "\"/proc/self/fd/$n\""
		cfg_sh 'pwd'
		ct_run
		[ ! -e "$B/rootfs$T" ] || vuln_or_skip "process.cwd /proc/self/fd/$n: created $(find "$B/rootfs$T" | tail -1 | sed "s|^$B/rootfs||") in the rootfs"
		[ "$RC" != 0 ] || vuln_or_skip "process.cwd /proc/self/fd/$n: the workload ran in $OUT"
		assert_clear_error 'cwd' "process.cwd /proc/self/fd/$n"
	done
}

# CVE-2024-21626 class, exec --cwd: a directory fd the caller passes on
# (--preserve-fds) must not become the process's cwd through /proc/self/fd.
t_cve_2024_21626_cwd_preserved_fd() {
	echo marker >"$T/HOSTMARK"
	new_bundle
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	rtc exec --preserve-fds 1 --cwd /proc/self/fd/3 "$ID" sh -c 'ls; pwd' 3<"$T"
	[[ $OUT != *HOSTMARK* ]] || vuln_or_skip "exec --cwd /proc/self/fd/3 (a host directory): the process's cwd is the host's $T"
	assert_fails "exec --cwd through a magic link"
	assert_clear_error 'chdir to cwd' "exec --cwd through a magic link"
	new_bundle run
	cfg_set .process.cwd '"/proc/self/fd/3"'
	cfg_sh 'ls; pwd'
	rtc run --preserve-fds 1 --bundle "$B" "$ID" 3<"$T"
	[[ $OUT != *HOSTMARK* ]] || vuln_or_skip "process.cwd /proc/self/fd/3 (a host directory): the workload's cwd is the host's $T"
	assert_fails "process.cwd through a magic link"
	assert_nothing_left "$ID"
}

# CVE-2019-19921 class: /proc or /sys in the rootfs is a symlink; procfs and
# sysfs must not be mounted wherever it points (runc: "must be mounted on
# ordinary directory").
t_cve_2019_19921_proc_sys_symlink() {
	local d
	for d in proc sys; do
		new_bundle "$d"
		rmdir "$B/rootfs/$d"
		mkdir "$B/rootfs/evil$d"
		ln -s "/evil$d" "$B/rootfs/$d"
		cfg_sh "ls /evil$d | head -3"
		ct_run
		[ "$RC" != 0 ] || vuln_or_skip "/$d a symlink to /evil$d: mounted through it: $(echo "$OUT" | tr '\n' ' ')"
		assert_clear_error 'ordinary directory' "/$d a symlink"
		assert_nothing_left "$ID"
	done
}

# CVE-2021-30465 class: mount destinations (and device paths) that are
# symlinks in the rootfs pointing outside it resolve inside the rootfs.
t_cve_2021_30465_symlink_mount_target() {
	new_bundle
	mkdir -p "$T/src"
	echo inside >"$T/src/MARKER"
	ln -s "$T/escape-abs" "$B/rootfs/evil-abs"
	ln -s "../../../../../../../../../..$T/escape-rel" "$B/rootfs/evil-rel"
	ln -s "$T" "$B/rootfs/evil-dir"
	ln -s "$T/escape-dev" "$B/rootfs/evil-devdir"
	cfg_append .mounts '{"destination": "/evil-abs", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	cfg_append .mounts "{\"destination\": \"/evil-rel\", \"type\": \"bind\", \"source\": \"$T/src\", \"options\": [\"bind\", \"ro\"]}"
	cfg_append .mounts "{\"destination\": \"/evil-dir/escape-sub\", \"type\": \"bind\", \"source\": \"$T/src\", \"options\": [\"bind\", \"ro\"]}"
	cfg_append .linux.devices '{"path": "/evil-devdir/null2", "type": "c", "major": 1, "minor": 3}'
	cfg_sh "cat /evil-rel/MARKER; cat /evil-dir/escape-sub/MARKER; grep -c ' $T/escape' /proc/self/mountinfo; ls -l /evil-devdir/null2"
	ct_run
	local left=""
	[ -e "$T/escape-abs" ] && left+="$T/escape-abs "
	[ -e "$T/escape-rel" ] && left+="$T/escape-rel "
	[ -e "$T/escape-sub" ] && left+="$T/escape-sub "
	[ -e "$T/escape-dev" ] && left+="$T/escape-dev "
	[ -z "$left" ] || vuln_or_skip "the runtime followed rootfs symlinks out of the rootfs and created $left on the host"
	if [ "$RC" = 0 ]; then
		# the mounts landed inside the rootfs, where the symlinks resolve
		assert_eq "$(printf '%s\n' inside inside)" "$(echo "$OUT" | head -2)" "bind mounts through in-rootfs symlinks"
		[ "$(echo "$OUT" | sed -n 3p)" -ge 3 ] || fail "mounts not at the in-rootfs targets: $OUT"
		assert_match '^c' "$(echo "$OUT" | sed -n 4p)" "device through an in-rootfs symlink"
		[ -e "$B/rootfs$T/escape-abs" ] || fail "tmpfs target not created inside the rootfs"
	else
		echo "# refused (rc=$RC): $ERR"
	fi
}

# prepare a rootfs whose own /dev is used (no /dev tmpfs in the config)
own_dev_bundle() {
	new_bundle "$1"
	cfg_py "c['mounts'] = [m for m in c['mounts'] if not m['destination'].startswith('/dev')]"
	cfg_set .root.readonly false
	mkdir -p "$B/rootfs/dev"
	echo EVIL >"$B/rootfs/etc/evil"
	echo topsecret >"$B/rootfs/etc/secret"
	cfg_append .linux.maskedPaths '"/etc/secret"'
}

# check_masked WHAT: judge $RC/$OUT of MASK_SCRIPT.  A vulnerable runtime may
# even wire the workload's stdio to the fake /dev/null (so its output lands
# in /etc/evil): the file on disk is checked too.
MASK_SCRIPT='head -c 64 /etc/secret; stat -c "MASK %F %t,%T" /etc/secret; head -c 64 /proc/keys; echo; stat -Lc "NULL %F %t,%T" /dev/null; true'
check_masked() {
	local what=$1 evil
	evil=$(head -c 200 "$B/rootfs/etc/evil")
	[ "$evil" = EVIL ] || vuln_or_skip "$what: the file behind the fake /dev/null was written: $(echo "$evil" | head -3 | tr '\n' ' ')"
	if [ "$RC" != 0 ]; then
		echo "# $what: refused (rc=$RC): $ERR"
		return 0
	fi
	if [[ $OUT == *EVIL* ]] || [[ $OUT == *topsecret* ]]; then
		vuln_or_skip "$what: a masked path shows another file's content: $OUT"
	fi
	[[ $OUT == *"MASK character special file 1,3"* ]] || vuln_or_skip "$what: /etc/secret is not masked with the real /dev/null: $OUT"
}

# CVE-2025-31133 class: the container's /dev/null is a symlink or a regular
# file; maskedPaths must use the real null device (or fail), never bind the
# symlink's target over the masked path.
t_cve_2025_31133_dev_null_symlink() {
	own_dev_bundle sym
	ln -s /etc/evil "$B/rootfs/dev/null"
	cfg_sh "$MASK_SCRIPT"
	ct_run
	check_masked "/dev/null -> /etc/evil"
}

t_cve_2025_31133_dev_null_regular_file() {
	own_dev_bundle reg
	echo EVIL >"$B/rootfs/dev/null"
	cfg_sh "$MASK_SCRIPT"
	ct_run
	check_masked "/dev/null a regular file"
}

# CVE-2025-52565 class: /dev/console in the rootfs is a symlink; the pty
# must not be bind-mounted over the symlink's target.
t_cve_2025_52565_console_symlink() {
	own_dev_bundle console
	echo ORIG >"$B/rootfs/etc/target"
	ln -s /etc/target "$B/rootfs/dev/console"
	cfg_set .process.terminal true
	cfg_sh 'stat -c "%F" /etc/target; cat /etc/target 2>&1 | head -1; stat -Lc "%F" /dev/console'
	rm -f "$T/c.sock"
	"$PY" "$RECVTTY" "$T/c.sock" "$T/c.out" >/dev/null 2>&1 &
	wait_file "$T/c.sock.ready" 5
	rtc create --console-socket "$T/c.sock" --bundle "$B" "$ID"
	if [ "$RC" != 0 ]; then
		echo "# refused (rc=$RC): $ERR"
		return 0
	fi
	rtc start "$ID"
	wait_status "$ID" stopped
	sleep 0.3
	local out
	out=$(tr -d '\r' <"$T/c.out")
	[[ $out == *"regular file"*ORIG* ]] || vuln_or_skip "/etc/target was replaced through the /dev/console symlink: $out"
	assert_eq ORIG "$(cat "$B/rootfs/etc/target")" "/etc/target on disk"
}

# CVE-2025-52881 class: procfs writes (sysctl) can't be redirected by the
# container's own mounts: a tmpfs over /proc/sys must not swallow them.
t_cve_2025_52881_sysctl_redirect() {
	new_bundle
	cfg_args sleep 1000
	cfg_append .mounts '{"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	cfg_set .linux.sysctl '{"net.ipv4.ip_forward": "1"}'
	rtc run -d --bundle "$B" "$ID"
	if [ "$RC" != 0 ]; then
		echo "# refused (rc=$RC): $ERR"
		return 0
	fi
	local pid v fake
	pid=$(rt state "$ID" | jget .pid)
	v=$(nsenter -t "$pid" -n cat /proc/sys/net/ipv4/ip_forward)
	fake=$(rt exec "$ID" sh -c 'cat /proc/sys/net/ipv4/ip_forward 2>/dev/null' || true)
	[ "$v" = 1 ] || vuln_or_skip "sysctl went to the container's tmpfs (kernel value $v, fake file '$fake')"
}

# CVE-2025-52881 class, oom_score_adj: a bind mount over the init's
# /proc/1/oom_score_adj must not swallow the runtime's write.
t_cve_2025_52881_oom_redirect() {
	new_bundle
	cfg_args sleep 1000
	echo 0 >"$T/fake-oom"
	cfg_append .mounts "{\"destination\": \"/proc/1/oom_score_adj\", \"type\": \"bind\", \"source\": \"$T/fake-oom\", \"options\": [\"bind\"]}"
	cfg_set .process.oomScoreAdj 321
	rtc run -d --bundle "$B" "$ID"
	if [ "$RC" != 0 ]; then
		echo "# refused (rc=$RC): $ERR"
		return 0
	fi
	local pid
	pid=$(rt state "$ID" | jget .pid)
	[ "$(cat "$T/fake-oom")" = 0 ] || vuln_or_skip "oom_score_adj was written into the bind-mounted file: $(cat "$T/fake-oom")"
	assert_eq 321 "$(cat /proc/"$pid"/oom_score_adj)" "the init's real oom_score_adj"
}

tcase "CVE-2019-5736 class: runtime binary not writable from the container" t_cve_2019_5736_runtime_exe
tcase "CVE-2024-21626 class: cwd via leaked fd stays inside the rootfs" t_cve_2024_21626_cwd_leaked_fd
tcase "CVE-2024-21626 class: a magic-link cwd creates nothing in the rootfs" t_cve_2024_21626_cwd_magic_link_creates_nothing
tcase "CVE-2024-21626 class: exec --cwd and process.cwd through a preserved host fd refused" t_cve_2024_21626_cwd_preserved_fd
tcase "CVE-2019-19921 class: /proc or /sys a symlink refused" t_cve_2019_19921_proc_sys_symlink
tcase "CVE-2021-30465 class: symlinked mount targets resolve inside the rootfs" t_cve_2021_30465_symlink_mount_target
tcase "CVE-2025-31133 class: /dev/null symlink with maskedPaths" t_cve_2025_31133_dev_null_symlink
tcase "CVE-2025-31133 class: /dev/null regular file with maskedPaths" t_cve_2025_31133_dev_null_regular_file
tcase "CVE-2025-52565 class: /dev/console symlink" t_cve_2025_52565_console_symlink
tcase "CVE-2025-52881 class: sysctl writes not redirected by a tmpfs over /proc/sys" t_cve_2025_52881_sysctl_redirect
tcase "CVE-2025-52881 class: oom_score_adj not redirected by a bind mount" t_cve_2025_52881_oom_redirect
