#!/bin/bash
# timeout: 240
# Config semantics seen from inside: namespaces, hostname/domainname, mounts,
# root.readonly, maskedPaths/readonlyPaths, /dev, linux.devices, sysctl,
# oomScoreAdj.
. "$(dirname "$0")/lib.sh"

t_namespaces_default() {
	new_bundle
	ct_sh 'for n in pid net ipc uts mnt cgroup user; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "self $$"'
	local n got
	for n in pid net ipc uts mnt; do
		got=$(echo "$OUT" | awk -v n="$n" '$1 == n {print $2}')
		[ -n "$got" ] || fail "no /proc/self/ns/$n inside"
		assert_ne "$(host_ns "$n")" "$got" "container $n namespace (must differ from the host's)"
	done
	# not in the config: shared with the host
	for n in cgroup user; do
		got=$(echo "$OUT" | awk -v n="$n" '$1 == n {print $2}')
		assert_eq "$(host_ns "$n")" "$got" "container $n namespace (not requested: the host's)"
	done
	assert_contains "self 1" "$OUT" "workload is pid 1"
	# a new network namespace has only lo
	ct_sh 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	assert_eq lo "$OUT" "interfaces in the new network namespace"
}

t_namespace_cgroup() {
	new_bundle
	cfg_append .linux.namespaces '{"type": "cgroup"}'
	ct_sh 'readlink /proc/self/ns/cgroup; cat /proc/self/cgroup'
	local ns
	ns=$(echo "$OUT" | head -1)
	assert_ne "$(host_ns cgroup)" "$ns" "cgroup namespace"
	# inside its cgroup namespace the container's own cgroup is the root
	assert_match '(^|
)0::/$' "$OUT" "unified cgroup path inside a cgroup namespace"
}

t_namespace_time() {
	[ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
	new_bundle
	cfg_append .linux.namespaces '{"type": "time"}'
	cfg_sh 'readlink /proc/self/ns/time'
	ct_run
	[ "$RC" = 0 ] || differs_from_runc "time namespace not supported (rc=$RC): $ERR"
	assert_ne "$(host_ns time)" "$OUT" "time namespace"
	# timeOffsets shift the container's boottime/monotonic clocks
	cfg_set .linux.timeOffsets '{"boottime": {"secs": 1000000, "nanosecs": 0}, "monotonic": {"secs": 1000000, "nanosecs": 0}}'
	cfg_sh 'cut -d. -f1 /proc/uptime'
	ct_run
	assert_rc 0 "run with linux.timeOffsets"
	local host
	host=$(cut -d. -f1 /proc/uptime)
	[ "$OUT" -ge $((host + 999000)) ] || fail "uptime inside $OUT, host $host: timeOffsets not applied"
}

t_namespace_join_path() {
	new_bundle a
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	local apid
	apid=$(rt state "$ID" | jget .pid)
	new_bundle b
	cfg_py "
for n in c['linux']['namespaces']:
    if n['type'] in ('network', 'ipc', 'uts'):
        n['path'] = '/proc/$apid/ns/' + {'network': 'net'}.get(n['type'], n['type'])
"
	cfg_del .hostname
	ct_sh 'for n in net ipc uts pid; do echo "$n $(readlink /proc/self/ns/$n)"; done'
	local n
	for n in net ipc uts; do
		assert_eq "$(readlink /proc/"$apid"/ns/$n)" "$(echo "$OUT" | awk -v n="$n" '$1 == n {print $2}')" "joined $n namespace"
	done
	assert_ne "$(readlink /proc/"$apid"/ns/pid)" "$(echo "$OUT" | awk '$1 == "pid" {print $2}')" "own pid namespace"
	# joining a path that is not a namespace fails cleanly
	new_bundle c
	cfg_py "
for n in c['linux']['namespaces']:
    if n['type'] == 'network':
        n['path'] = '/proc/self/status'
"
	rtc run --bundle "$B" "$ID"
	assert_fails "namespace path that is not a namespace"
	assert_nothing_left "$ID"
}

t_namespace_join_pid() {
	# a pod's second container: born into the first one's pid namespace
	new_bundle a
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d"
	local apid aid=$ID
	apid=$(rt state "$ID" | jget .pid)
	new_bundle b
	cfg_py "
for n in c['linux']['namespaces']:
    if n['type'] == 'pid':
        n['path'] = '/proc/$apid/ns/pid'
"
	cfg_sh 'echo "self $$"; cat /proc/1/cmdline | tr "\\0" " "; echo; readlink /proc/self/ns/pid'
	ct_create
	rtc start "$ID"
	assert_rc 0 start
	wait_status "$ID" stopped
	rtc run --bundle "$B" "$ID-fg"
	assert_rc 0 "run in the joined pid namespace"
	assert_ne "self 1" "$(echo "$OUT" | head -1)" "not the namespace's init"
	assert_contains "sleep 1000" "$OUT" "pid 1 is the first container's init"
	assert_eq "$(readlink /proc/"$apid"/ns/pid)" "$(echo "$OUT" | tail -1)" "same pid namespace"
	rtc delete "$ID-fg"
	rtc delete "$ID"
	assert_eq running "$(status "$aid")" "the first container outlives the second"
}

t_hostname_domainname() {
	new_bundle
	cfg_set .hostname '"box-one"'
	cfg_set .domainname '"example.test"'
	ct_sh 'hostname; cat /proc/sys/kernel/domainname'
	assert_eq box-one "$(echo "$OUT" | sed -n 1p)" "hostname inside"
	local dn
	dn=$(echo "$OUT" | sed -n 2p)
	# runc 1.1 ignores domainname (added in runc 1.2)
	[ "$dn" = example.test ] || runc_quirk "domainname inside is '$dn'"
	assert_ne box-one "$(hostname)" "host hostname (unchanged)"
	# hostname without a uts namespace is an error
	new_bundle b
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'uts']"
	cfg_set .hostname '"nope"'
	rtc run --bundle "$B" "$ID"
	assert_fails "hostname without a uts namespace"
	assert_nothing_left "$ID"
	assert_ne nope "$(hostname)" "host hostname"
}

t_mounts_proc_sys() {
	new_bundle
	ct_sh 'cat /proc/self/mountinfo'
	local mi=$OUT
	assert_match ' /proc [^ ]+ [^-]*- proc ' "$mi" "proc at /proc"
	assert_match ' /sys ro,[^ ]* [^-]*- sysfs ' "$mi" "sysfs ro at /sys"
	assert_match ' /dev [^ ]*nosuid[^-]*- tmpfs ' "$mi" "tmpfs at /dev"
	assert_match ' /dev/pts [^-]*- devpts ' "$mi" "devpts at /dev/pts"
	assert_match ' /dev/shm [^ ]*nosuid,nodev,noexec[^-]*- tmpfs ' "$mi" "tmpfs at /dev/shm"
	assert_match ' /dev/mqueue [^-]*- mqueue ' "$mi" "mqueue at /dev/mqueue"
	assert_match ' /sys/fs/cgroup[/ ]' "$mi" "cgroup under /sys/fs/cgroup"
	# the container's proc shows its own pid namespace
	ct_sh 'ls /proc | grep -c "^[0-9]"'
	[ "$OUT" -le 3 ] || fail "container /proc shows $OUT pids (its own pid namespace has at most 3)"
}

t_cgroup_mount() {
	new_bundle
	ct_sh 'ls /sys/fs/cgroup | tr "\n" " "; echo; grep " /sys/fs/cgroup" /proc/self/mountinfo | head -3; touch /sys/fs/cgroup/x 2>/dev/null && echo writable; true'
	local first
	first=$(echo "$OUT" | head -1)
	[ -n "${first// /}" ] || fail "/sys/fs/cgroup is empty inside the container"
	assert_match ' /sys/fs/cgroup[^ ]* ro,' "$OUT" "/sys/fs/cgroup read-only"
	assert_not_contains writable "$OUT" "/sys/fs/cgroup writable"
	# the host layout decides what the container sees
	local h
	for h in $(awk '$9 == "cgroup" {print $5}' /proc/self/mountinfo | sed 's|^/sys/fs/cgroup/||' | grep -v / | head -3); do
		assert_contains "$h" "$first" "v1 hierarchy $h inside"
	done
}

t_rootfs_propagation() {
	new_bundle
	local p
	for p in slave rslave shared; do
		cfg_set .linux.rootfsPropagation "\"$p\""
		cfg_args true
		ct_run
		assert_rc 0 "run with rootfsPropagation $p"
	done
	cfg_set .linux.rootfsPropagation '"private"'
	ct_sh 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo'
	assert_no_match 'shared:|master:' "$OUT" "rootfsPropagation private"
	cfg_set .linux.rootfsPropagation '"bogus"'
	cfg_args true
	ct_run
	assert_fails "rootfsPropagation bogus"
	assert_nothing_left "$ID"
}

t_mount_tmpfs_options() {
	new_bundle
	cfg_append .mounts '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "mode=1777", "size=1m", "uid=1000", "gid=1001"]}'
	ct_sh 'grep " /data " /proc/self/mountinfo; stat -c "%a %u %g" /data; df -k /data | tail -1; touch /data/f && echo writable'
	assert_match ' /data [^ ]*nosuid,nodev,noexec[^-]*- tmpfs ' "$OUT" "tmpfs flags"
	assert_contains "1777 1000 1001" "$OUT" "tmpfs mode/uid/gid"
	assert_match ' 1024 ' "$OUT" "tmpfs size=1m"
	assert_contains writable "$OUT" "tmpfs is writable"
}

# Issue 11 item 12: a tmpfs over an existing directory takes its mode
# (setgid, sticky bits included), as runc does.
t_mount_tmpfs_dir_mode() {
	new_bundle
	mkdir -p "$B/rootfs/sgid" "$B/rootfs/sticky"
	chmod 2750 "$B/rootfs/sgid"
	chmod 1733 "$B/rootfs/sticky"
	cfg_append .mounts '{"destination": "/sgid", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}'
	cfg_append .mounts '{"destination": "/sticky", "type": "tmpfs", "source": "tmpfs"}'
	cfg_append .mounts '{"destination": "/fresh", "type": "tmpfs", "source": "tmpfs"}'
	ct_sh 'stat -c "%n %a" /sgid /sticky /fresh; grep -c " /sgid .* - tmpfs " /proc/self/mountinfo'
	assert_eq "$(printf '%s\n' '/sgid 2750' '/sticky 1733' '/fresh 1777' 1)" "$OUT" "tmpfs modes"
	# an explicit mode= wins (runc 1.2; 1.1 chmods to the directory's mode)
	new_bundle explicit
	mkdir -p "$B/rootfs/d"
	chmod 0700 "$B/rootfs/d"
	cfg_append .mounts '{"destination": "/d", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]}'
	ct_sh 'stat -c %a /d'
	[ "$OUT" = 1777 ] || differs_from_runc "tmpfs mode=1777 over a 0700 directory: $OUT"
}

# Issue 11 item 13: a read-only /dev tmpfs is populated first, remounted
# read-only last.
t_mount_dev_readonly() {
	new_bundle
	cfg_py 'for m in c["mounts"]:
    if m["destination"] == "/dev":
        m["options"].append("ro")'
	ct_sh 'grep " /dev " /proc/self/mountinfo | cut -d" " -f6; [ -c /dev/null ] && echo null; grep -c " /dev/pts " /proc/self/mountinfo; touch /dev/x 2>/dev/null || echo refused'
	assert_match '^ro,' "$(echo "$OUT" | sed -n 1p)" "/dev mount options"
	assert_eq "$(printf '%s\n' null 1 refused)" "$(echo "$OUT" | sed -n '2,4p')" "/dev populated, devpts, read-only"
	assert_contains null "$OUT" "/dev/null created"
}

# Issue 11 item 14: "rro" makes the whole tree read-only, submounts too
# (mount_setattr with AT_RECURSIVE).
t_mount_rro() {
	scratch_mount_ns
	new_bundle
	mkdir -p "$T/rro-src/sub"
	in_scratch mount -t tmpfs tmpfs "$T/rro-src/sub"
	cfg_append .mounts "{\"destination\": \"/mnt/tree\", \"type\": \"bind\", \"source\": \"$T/rro-src\", \"options\": [\"rbind\", \"rro\"]}"
	ct_sh 'grep -E " /mnt/tree(/sub)? " /proc/self/mountinfo | cut -d" " -f5,6'
	assert_match '^/mnt/tree ro' "$(echo "$OUT" | grep '^/mnt/tree ')" "the top mount"
	assert_match '^/mnt/tree/sub ro' "$(echo "$OUT" | grep '^/mnt/tree/sub ')" "the submount"
}

# Issue 11 item 16: tmpcopyup copies the directory's content into the new
# tmpfs.
t_mount_tmpcopyup() {
	new_bundle
	mkdir -p "$B/rootfs/seed/sub"
	echo A >"$B/rootfs/seed/a"
	echo B >"$B/rootfs/seed/sub/b"
	ln -s a "$B/rootfs/seed/link"
	chmod 0751 "$B/rootfs/seed/sub"
	chown 1000:1001 "$B/rootfs/seed/a"
	cfg_append .mounts '{"destination": "/seed", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}'
	ct_sh 'cat /seed/a /seed/sub/b; readlink /seed/link; stat -c "%a %u %g" /seed/sub /seed/a; grep -c " /seed .* - tmpfs " /proc/self/mountinfo; echo new > /seed/new && echo writable'
	assert_eq "$(printf '%s\n' A B a '751 0 0' '644 1000 1001' 1 writable)" "$OUT" "tmpcopyup content"
	[ ! -e "$B/rootfs/seed/new" ] || fail "the write reached the rootfs"
}

t_mount_bind_options() {
	new_bundle
	mkdir -p "$T/src-rw" "$T/src-ro"
	echo hello >"$T/src-ro/file"
	printf '#!/bin/sh\necho ran\n' >"$T/src-ro/script"
	chmod 755 "$T/src-ro/script"
	cp "$T/src-ro/script" "$T/src-rw/script"
	echo single >"$T/single-file"
	cfg_append .mounts "{\"destination\": \"/mnt/ro\", \"type\": \"bind\", \"source\": \"$T/src-ro\", \"options\": [\"bind\", \"ro\", \"nosuid\", \"nodev\", \"noexec\"]}"
	cfg_append .mounts "{\"destination\": \"/mnt/rw\", \"type\": \"none\", \"source\": \"$T/src-rw\", \"options\": [\"rbind\", \"rw\"]}"
	cfg_append .mounts "{\"destination\": \"/etc/single\", \"type\": \"bind\", \"source\": \"$T/single-file\", \"options\": [\"bind\", \"ro\"]}"
	cfg_append .mounts "{\"destination\": \"/mnt/new/deep/dir\", \"type\": \"bind\", \"source\": \"$T/src-rw\", \"options\": [\"bind\"]}"
	ct_sh 'cat /mnt/ro/file; grep " /mnt/ro " /proc/self/mountinfo; touch /mnt/ro/x 2>/dev/null && echo ro-writable; /mnt/ro/script 2>/dev/null || echo noexec-ok; /mnt/rw/script; echo w > /mnt/rw/out; cat /etc/single; ls /mnt/new/deep/dir/script'
	assert_contains hello "$OUT" "bind source content"
	assert_match ' /mnt/ro ro,nosuid,nodev,noexec' "$OUT" "bind ro,nosuid,nodev,noexec in mountinfo"
	assert_not_contains ro-writable "$OUT" "ro bind mount"
	assert_contains noexec-ok "$OUT" "noexec bind mount"
	assert_contains ran "$OUT" "exec on a rw bind mount"
	assert_eq w "$(cat "$T/src-rw/out" 2>/dev/null)" "write through a rw bind mount"
	assert_contains single "$OUT" "file bind mount"
	assert_contains /mnt/new/deep/dir/script "$OUT" "bind destination created with parents"
}

t_mount_sources_and_nesting() {
	new_bundle
	mkdir -p "$B/reldata" "$T/real-src"
	echo rel >"$B/reldata/f"
	echo via-link >"$T/real-src/f"
	ln -s "$T/real-src" "$T/link-src"
	# relative source (to the bundle), a host symlink as source, and a
	# mount nested in an earlier one
	cfg_append .mounts '{"destination": "/mnt/rel", "type": "bind", "source": "reldata", "options": ["rbind", "ro"]}'
	cfg_append .mounts "{\"destination\": \"/mnt/link\", \"type\": \"bind\", \"source\": \"$T/link-src\", \"options\": [\"bind\"]}"
	cfg_append .mounts '{"destination": "/mnt/outer", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	cfg_append .mounts "{\"destination\": \"/mnt/outer/inner\", \"type\": \"bind\", \"source\": \"$T/real-src\", \"options\": [\"bind\", \"ro\"]}"
	ct_sh 'cat /mnt/rel/f /mnt/link/f /mnt/outer/inner/f; grep -cE " /mnt/outer(/inner)? " /proc/self/mountinfo'
	assert_eq "$(printf '%s\n' rel via-link via-link 2)" "$OUT" "relative, symlinked, bare-bind and nested mounts"
}

# A bind mount without a source: runc 1.1 binds the bundle directory (its
# cwd) there; rune refuses it with the destination named (it used to crash
# its init). See docs/runc-differences.md.
t_mount_bind_no_source() {
	new_bundle
	cfg_append .mounts '{"destination": "/mnt", "type": "bind", "options": ["rbind"]}'
	cfg_sh 'ls /mnt'
	ct_run
	[ "$RC" = 0 ] && differs_from_runc "a bind mount without a source binds the bundle: $OUT"
	assert_fails "a bind mount without a source"
	assert_clear_error "/mnt.*needs a source" "a bind mount without a source"
	assert_nothing_left "$ID"
}

t_mount_rbind_vs_bind() {
	# /sys/fs/cgroup on the host has submounts: rbind brings them, bind not.
	local sub
	sub=$(awk '$5 ~ "^/sys/fs/cgroup/" {print $5; exit}' /proc/self/mountinfo)
	[ -n "$sub" ] || skip "no mount under /sys/fs/cgroup on this host"
	sub=${sub#/sys/fs/cgroup/}
	new_bundle
	cfg_append .mounts '{"destination": "/mnt/r", "type": "bind", "source": "/sys/fs/cgroup", "options": ["rbind", "ro"]}'
	cfg_append .mounts '{"destination": "/mnt/b", "type": "bind", "source": "/sys/fs/cgroup", "options": ["bind", "ro"]}'
	ct_sh "ls /mnt/r/$sub | grep -c cgroup.procs; ls /mnt/b/$sub | wc -l; grep -c ' /mnt/r/' /proc/self/mountinfo; grep -c ' /mnt/b/' /proc/self/mountinfo || true"
	local l
	l=($OUT)
	assert_eq 1 "${l[0]}" "rbind: submount $sub visible"
	assert_eq 0 "${l[1]}" "bind: submount $sub not visible"
	[ "${l[2]}" -ge 1 ] || fail "rbind: no submounts in mountinfo"
	assert_eq 0 "${l[3]}" "bind: submounts in mountinfo"
}

t_mount_propagation() {
	new_bundle
	mkdir -p "$T/psrc"
	cfg_append .mounts "{\"destination\": \"/mnt/shared\", \"type\": \"bind\", \"source\": \"$T/psrc\", \"options\": [\"rbind\", \"rshared\"]}"
	cfg_append .mounts "{\"destination\": \"/mnt/private\", \"type\": \"bind\", \"source\": \"$T/psrc\", \"options\": [\"rbind\", \"rprivate\"]}"
	ct_sh 'grep -E " /mnt/(shared|private) " /proc/self/mountinfo'
	assert_match ' /mnt/shared [^-]* shared:[0-9]+' "$OUT" "rshared bind mount"
	assert_no_match ' /mnt/private [^-]*(shared|master):' "$OUT" "rprivate bind mount"
}

t_root_readonly() {
	new_bundle
	cfg_sh 'touch /newfile 2>/dev/null && echo writable; grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo; touch /dev/shm/ok && echo shm-ok'
	ct_run
	assert_rc 0 run
	assert_not_contains writable "$OUT" "root.readonly: true"
	assert_match '[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ro[, ]' "$OUT" "/ is ro in mountinfo"
	assert_contains shm-ok "$OUT" "tmpfs mounts stay writable"
	cfg_set .root.readonly false
	ct_run
	assert_contains writable "$OUT" "root.readonly: false"
	[ -e "$B/rootfs/newfile" ] || fail "write did not reach the rootfs"
}

t_masked_paths() {
	new_bundle
	mkdir -p "$B/rootfs/secretdir"
	echo topsecret >"$B/rootfs/secretdir/s"
	echo topsecret >"$B/rootfs/etc/secret"
	cfg_append .linux.maskedPaths '"/etc/secret"'
	cfg_append .linux.maskedPaths '"/secretdir"'
	cfg_append .linux.maskedPaths '"/does/not/exist"'
	ct_sh 'stat -c "%F %t,%T" /proc/keys; wc -c < /proc/keys; ls -A /sys/firmware | wc -l; cat /etc/secret; echo "[$(ls -A /secretdir)]"; cat /secretdir/s 2>&1; stat -c %F /etc/secret; ls /does/not/exist 2>&1 | head -1'
	assert_match 'character special file 1,3' "$OUT" "/proc/keys masked with /dev/null"
	assert_not_contains topsecret "$OUT" "masked paths readable"
	assert_contains '[]' "$OUT" "masked directory is empty"
	assert_eq 0 "$(echo "$OUT" | sed -n 2p)" "masked /proc/keys size"
	assert_eq 0 "$(echo "$OUT" | sed -n 3p)" "masked /sys/firmware entries"
}

t_readonly_paths() {
	new_bundle
	cfg_set .root.readonly false
	mkdir -p "$B/rootfs/rodir"
	cfg_append .linux.readonlyPaths '"/rodir"'
	cfg_append .linux.readonlyPaths '"/does/not/exist"'
	ct_sh 'touch /rodir/x 2>/dev/null && echo rodir-writable; touch /rwok && echo root-writable; echo 1 > /proc/sys/kernel/printk 2>/dev/null && echo procsys-writable; grep -E " /proc/sys | /rodir " /proc/self/mountinfo; echo 1 > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable; true'
	assert_not_contains rodir-writable "$OUT" "readonlyPaths dir"
	assert_contains root-writable "$OUT" "rest of the rootfs"
	assert_not_contains procsys-writable "$OUT" "/proc/sys"
	assert_not_contains sysrq-writable "$OUT" "/proc/sysrq-trigger"
	assert_match ' /proc/sys ro,' "$OUT" "/proc/sys ro in mountinfo"
	assert_match ' /rodir ro,' "$OUT" "/rodir ro in mountinfo"
}

# An entry that is a symlink in the rootfs applies to its target (resolved
# inside the rootfs), as runc does: it was silently left unapplied.
t_masked_readonly_symlinks() {
	new_bundle
	cfg_set .root.readonly false
	echo topsecret >"$B/rootfs/etc/secret"
	ln -s secret "$B/rootfs/etc/secret-link"
	mkdir -p "$B/rootfs/secretdir" "$B/rootfs/rodir"
	echo topsecret >"$B/rootfs/secretdir/s"
	ln -s ../secretdir "$B/rootfs/etc/secretdir-link"
	ln -s /rodir "$B/rootfs/rodir-link"
	cfg_append .linux.maskedPaths '"/etc/secret-link"'
	cfg_append .linux.maskedPaths '"/etc/secretdir-link"'
	cfg_append .linux.readonlyPaths '"/rodir-link"'
	ct_sh 'cat /etc/secret; ls -A /secretdir; touch /rodir/x 2>/dev/null && echo rodir-writable; stat -c "%F" /etc/secret-link; true'
	assert_not_contains topsecret "$OUT" "masked paths through symlinks"
	[[ $OUT != *s$'\n'* ]] || fail "masked directory through a symlink still lists its file: $OUT"
	assert_not_contains rodir-writable "$OUT" "readonlyPaths through a symlink"
	assert_contains "symbolic link" "$OUT" "the symlink itself left alone"
}

t_default_dev() {
	new_bundle
	ct_sh 'for d in null zero full random urandom tty; do stat -c "%n %F %t,%T %a" /dev/$d; done; for l in fd stdin stdout stderr ptmx; do echo "/dev/$l -> $(readlink /dev/$l)"; done; ls /dev/pts/ptmx; echo x > /dev/null && echo null-ok; head -c 5 /dev/zero | wc -c; head -c 7 /dev/urandom | wc -c; echo x 2>/dev/null > /dev/full || echo full-enospc; ls /dev/fd/ >/dev/null && echo fd-ok; ls /dev'
	local want
	for want in '/dev/null character special file 1,3 666' '/dev/zero character special file 1,5 666' \
		'/dev/full character special file 1,7 666' '/dev/random character special file 1,8 666' \
		'/dev/urandom character special file 1,9 666' '/dev/tty character special file 5,0 666' \
		'/dev/fd -> /proc/self/fd' '/dev/stdin -> /proc/self/fd/0' '/dev/stdout -> /proc/self/fd/1' \
		'/dev/stderr -> /proc/self/fd/2' '/dev/ptmx -> pts/ptmx' /dev/pts/ptmx null-ok full-enospc fd-ok; do
		assert_contains "$want" "$OUT" "default /dev"
	done
	assert_eq "5 7" "$(echo "$OUT" | grep -x '[0-9]*' | head -2 | tr '\n' ' ' | sed 's/ $//')" "reads from /dev/zero, /dev/urandom"
	# nothing else from the host's /dev
	assert_not_contains vda "$OUT" "host block devices in /dev"
	assert_not_contains kmsg "$OUT" "host /dev/kmsg in /dev"
}

t_linux_devices() {
	new_bundle
	cfg_append .linux.devices '{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1000, "gid": 1001}'
	cfg_append .linux.devices '{"path": "/dev/sub/myzero", "type": "c", "major": 1, "minor": 5}'
	cfg_append .linux.devices '{"path": "/dev/myblk", "type": "b", "major": 7, "minor": 200, "fileMode": 384}'
	cfg_append .linux.devices '{"path": "/dev/myfifo", "type": "p"}'
	cfg_append .linux.resources.devices '{"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"}'
	ct_sh 'stat -c "%n %F %t,%T %a %u %g" /dev/mynull /dev/sub/myzero /dev/myblk; stat -c "%n %F" /dev/myfifo; echo x > /dev/sub/myzero && echo write-ok; head -c 3 /dev/sub/myzero | wc -c'
	assert_contains '/dev/mynull character special file 1,3 640 1000 1001' "$OUT" "linux.devices entry"
	assert_contains '/dev/sub/myzero character special file 1,5' "$OUT" "device in a subdirectory"
	assert_contains '/dev/myblk block special file 7,c8 600' "$OUT" "block device (7,200, mode 0600)"
	assert_contains '/dev/myfifo fifo' "$OUT" "fifo device"
	assert_contains write-ok "$OUT" "device usable"
	assert_eq 3 "$(echo "$OUT" | tail -1)" "read from /dev/sub/myzero"
}

# Issue 11 item 24: device rule access strings: runc takes the r, w and m
# in any string and ignores other letters ("rwa" is "rw").
t_device_access_letters() {
	new_bundle
	cfg_append .linux.devices '{"path": "/dev/myzero", "type": "c", "major": 1, "minor": 5}'
	cfg_append .linux.resources.devices '{"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwa"}'
	ct_sh 'echo x > /dev/myzero && echo write-ok; head -c 3 /dev/myzero | wc -c'
	assert_eq "$(printf '%s\n' write-ok 3)" "$OUT" "device with access \"rwa\""
}

t_sysctl() {
	new_bundle
	cfg_set .linux.sysctl '{"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789", "kernel.msgmax": "4321", "net.ipv4.tcp_syncookies": "0"}'
	local host_fwd host_shm
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_shm=$(cat /proc/sys/kernel/shmmax)
	ct_sh 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax /proc/sys/net/ipv4/tcp_syncookies'
	assert_eq "$(printf '%s\n' 1 123456789 4321 0)" "$OUT" "sysctls inside"
	assert_eq "$host_fwd" "$(cat /proc/sys/net/ipv4/ip_forward)" "host ip_forward unchanged"
	assert_eq "$host_shm" "$(cat /proc/sys/kernel/shmmax)" "host shmmax unchanged"
}

t_sysctl_refused() {
	# a net.* sysctl without a network namespace would change the host
	new_bundle
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'network']"
	cfg_set .linux.sysctl '{"net.ipv4.ip_forward": "'"$(cat /proc/sys/net/ipv4/ip_forward)"'"}'
	cfg_args true
	ct_run
	assert_fails "net.* sysctl in the host network namespace"
	assert_nothing_left "$ID"
	# kernel.msg* belong to the ipc namespace
	new_bundle ipc
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'ipc']"
	cfg_set .linux.sysctl '{"kernel.msgmax": "'"$(cat /proc/sys/kernel/msgmax)"'"}'
	cfg_args true
	ct_run
	assert_fails "kernel.msgmax without an ipc namespace"
	assert_nothing_left "$ID"
	new_bundle b
	cfg_set .linux.sysctl '{"kernel.no_such_sysctl": "1"}'
	ct_run
	assert_fails "unknown sysctl"
	assert_nothing_left "$ID"
}

t_oom_score_adj() {
	new_bundle
	cfg_set .process.oomScoreAdj 500
	ct_sh 'cat /proc/self/oom_score_adj'
	assert_eq 500 "$OUT" "oom_score_adj"
	new_bundle b
	cfg_args sleep 1000
	cfg_set .process.oomScoreAdj 123
	rtc run -d --bundle "$B" "$ID"
	rtc exec "$ID" cat /proc/self/oom_score_adj
	assert_eq 123 "$OUT" "oom_score_adj of an exec'd process"
}

# scratch_mount_ns: a throwaway mount namespace (a private copy of ours) held
# by a sleeping process $NSPID, killed when the case ends; from here on `rt`
# runs the runtime in it.  Whatever a runtime does to its caller's mounts
# stays there: these cases never touch the host's.
scratch_mount_ns() {
	local i
	unshare -m --propagation private bash -c "exec -a $PFX-mntns sleep 600" &
	NSPID=$!
	trap 'kill $NSPID 2>/dev/null; wait $NSPID 2>/dev/null || true' EXIT
	for ((i = 0; i < 50; i++)); do
		[ "$(readlink /proc/$NSPID/ns/mnt)" != "$(host_ns mnt)" ] && [ "$(cat /proc/$NSPID/comm 2>/dev/null)" = sleep ] && break
		sleep 0.1
	done
	[ "$(readlink /proc/$NSPID/ns/mnt)" != "$(host_ns mnt)" ] || fail "unshare -m did not start"
	rt() { nsenter -t "$NSPID" -m -- timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@"; }
}
# in_scratch CMD...: run CMD in the scratch mount namespace
in_scratch() { nsenter -t "$NSPID" -m -- "$@"; }

# mi_diff: how $T/mi.after differs from $T/mi.before
mi_diff() { diff "$T/mi.before" "$T/mi.after" || true; }

# no_mount_ns_bundle [NAME]: a bundle without a mount namespace and without
# anything that needs a mount.
no_mount_ns_bundle() {
	new_bundle "$@"
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'mount']
c['mounts'] = []
c['root']['readonly'] = False
c['linux'].pop('maskedPaths', None)
c['linux'].pop('readonlyPaths', None)"
}

# Without a mount namespace the init shares its caller's mounts: the runtime
# must only chroot (a pivot_root there replaces the caller's /, on a host the
# host's), and exec'd processes enter the same root.
t_no_mount_ns_chroot() {
	no_mount_ns_bundle
	echo inside >"$B/rootfs/MARKER"
	cfg_args sleep 1000
	scratch_mount_ns
	cat /proc/$NSPID/mountinfo >"$T/mi.before"
	rtc run -d --bundle "$B" "$ID"
	cat /proc/$NSPID/mountinfo >"$T/mi.after"
	cmp -s "$T/mi.before" "$T/mi.after" ||
		differs_from_runc "the caller's mounts changed: $(mi_diff | head -5 | tr '\n' ' ')"
	assert_rc 0 "run -d without a mount namespace"
	rtc exec "$ID" sh -c 'cat /MARKER; ls -A /dev | wc -l; readlink /proc/1/root 2>&1 | head -1'
	assert_rc 0 exec
	assert_eq inside "$(echo "$OUT" | head -1)" "exec'd process in the container's root"
	assert_eq 0 "$(echo "$OUT" | sed -n 2p)" "nothing made in the rootfs's /dev"
	[ -z "$(ls -A "$B/rootfs/dev")" ] || fail "the rootfs's /dev was set up: $(ls -A "$B/rootfs/dev" | tr '\n' ' ')"
	rtc delete --force "$ID"
	cat /proc/$NSPID/mountinfo >"$T/mi.after"
	cmp -s "$T/mi.before" "$T/mi.after" || fail "the caller's mounts changed: $(mi_diff | head -5 | tr '\n' ' ')"
}

# ... and what needs a mount (or mknod in the rootfs, or a /dev/console bind)
# is refused, naming the field, with the caller's mounts untouched.
t_no_mount_ns_refused() {
	scratch_mount_ns
	cat /proc/$NSPID/mountinfo >"$T/mi.before"
	local field
	# runc 1.1 refuses the first two itself; it mounts the others in its
	# caller's namespace (or fails half-way)
	for field in maskedPaths readonlyPaths mounts root.readonly rootfsPropagation devices terminal; do
		no_mount_ns_bundle "$field"
		case $field in
		maskedPaths) cfg_set .linux.maskedPaths '["/etc/passwd"]' ;;
		readonlyPaths) cfg_set .linux.readonlyPaths '["/etc"]' ;;
		mounts) cfg_append .mounts '{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}' ;;
		root.readonly) cfg_set .root.readonly true ;;
		rootfsPropagation) cfg_set .linux.rootfsPropagation '"rslave"' ;;
		devices) cfg_set .linux.devices '[{"path": "/dev/null2", "type": "c", "major": 1, "minor": 3}]' ;;
		terminal) cfg_set .process.terminal true ;;
		esac
		ct_run
		cat /proc/$NSPID/mountinfo >"$T/mi.after"
		if [ "$RC" = 0 ] || ! cmp -s "$T/mi.before" "$T/mi.after"; then
			differs_from_runc "$field without a mount namespace: rc=$RC, the caller's mounts: $(mi_diff | wc -l) lines changed"
		fi
		assert_fails "$field without a mount namespace"
		assert_clear_error "$field.*mount namespace" "$field without a mount namespace"
		assert_nothing_left "$ID"
	done
}

# A mount namespace joined by path that is the caller's own is no mount
# namespace at all: the rootfs can't be set up (and pivot_root'ed) there.
t_mount_ns_joined_is_callers() {
	new_bundle
	scratch_mount_ns
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'mount'] + [{'type': 'mount', 'path': '/proc/$NSPID/ns/mnt'}]"
	cat /proc/$NSPID/mountinfo >"$T/mi.before"
	ct_run
	cat /proc/$NSPID/mountinfo >"$T/mi.after"
	if [ "$RC" = 0 ] || ! cmp -s "$T/mi.before" "$T/mi.after"; then
		# runc's state went with the root it pivoted away: it can't delete its cgroups
		local c
		if [ "$IS_RUNC" = 1 ]; then
			for c in $(_leftover_cgroups "$ID"); do rmdir "$c" 2>/dev/null || true; done
		fi
		differs_from_runc "joining the caller's own mount namespace: rc=$RC, the caller's mounts: $(mi_diff | wc -l) lines changed"
	fi
	assert_clear_error "join mount namespace.*caller's own" "joining the caller's mount namespace"
	assert_nothing_left "$ID"
}

# The bundle on a shared mount of the caller's namespace: whatever
# rootfsPropagation asks for, none of the container's mounts may appear in
# the caller's namespace (a non-recursive propagation on / left the mounts
# below it shared), and every propagation runs (an unbindable / could not
# be bound).
t_rootfs_propagation_shared_bundle() {
	new_bundle
	cfg_args sleep 1000
	scratch_mount_ns
	in_scratch mount --bind "$B" "$B"
	in_scratch mount --make-shared "$B"
	local p n0 n1 root
	for p in slave private unbindable rslave rprivate runbindable shared rshared; do
		cfg_set .linux.rootfsPropagation "\"$p\""
		n0=$(grep -c . /proc/$NSPID/mountinfo)
		rtc run -d --bundle "$B" "$ID-$p"
		n1=$(grep -c . /proc/$NSPID/mountinfo)
		[ "$n1" = "$n0" ] || runc_quirk "rootfsPropagation $p: $((n1 - n0)) of the container's mounts appeared in the caller's namespace"
		if [ "$RC" != 0 ]; then
			runc_quirk "rootfsPropagation $p: run failed: $ERR"
			continue
		fi
		rtc exec "$ID-$p" sh -c 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo'
		root=$OUT
		# (a slave of nothing is private: runc 1.1 makes the rootfs's parent private)
		case $p in
		*unbindable) [[ $root == *unbindable* ]] ;;
		*private) [[ ! $root =~ shared:|master:|unbindable ]] ;;
		*slave) [[ ! $root =~ shared:|unbindable ]] ;;
		*shared) [[ $root == *shared:* ]] ;;
		esac || runc_quirk "/ with rootfsPropagation $p: $root"
		rtc delete --force "$ID-$p"
		n1=$(grep -c . /proc/$NSPID/mountinfo)
		[ "$n1" = "$n0" ] || runc_quirk "rootfsPropagation $p: $((n1 - n0)) mounts left in the caller's namespace after delete"
	done
}

tcase "namespaces: pid/net/ipc/uts/mnt differ from the host's" t_namespaces_default
tcase "namespaces: cgroup" t_namespace_cgroup
tcase "namespaces: time" t_namespace_time
tcase "namespaces: join by path" t_namespace_join_path
tcase "namespaces: join another container's pid namespace" t_namespace_join_pid
tcase "hostname and domainname" t_hostname_domainname
tcase "mounts: proc, sysfs, /dev tmpfs, devpts, shm, mqueue, cgroup" t_mounts_proc_sys
tcase "mounts: cgroup at /sys/fs/cgroup" t_cgroup_mount
tcase "rootfsPropagation" t_rootfs_propagation
tcase "mounts: tmpfs with options" t_mount_tmpfs_options
tcase "mounts: tmpfs over a directory takes its mode" t_mount_tmpfs_dir_mode
tcase "mounts: read-only /dev tmpfs" t_mount_dev_readonly
tcase "mounts: rro makes submounts read-only" t_mount_rro
tcase "mounts: tmpcopyup" t_mount_tmpcopyup
tcase "mounts: bind ro/nosuid/nodev/noexec, rw, file, deep target" t_mount_bind_options
tcase "mounts: rbind vs bind" t_mount_rbind_vs_bind
tcase "mounts: a bind mount without a source is refused" t_mount_bind_no_source
tcase "mounts: relative source, symlinked source, nesting" t_mount_sources_and_nesting
tcase "mounts: propagation options (rshared, rprivate)" t_mount_propagation
tcase "root.readonly" t_root_readonly
tcase "maskedPaths" t_masked_paths
tcase "readonlyPaths" t_readonly_paths
tcase "maskedPaths and readonlyPaths through symlinks apply to the target" t_masked_readonly_symlinks
tcase "default /dev: devices, symlinks, pts, shm, mqueue" t_default_dev
tcase "linux.devices" t_linux_devices
tcase "device access letters beyond r, w, m ignored" t_device_access_letters
tcase "sysctl under the new namespaces" t_sysctl
tcase "sysctl: net.* without netns and unknown keys refused" t_sysctl_refused
tcase "oomScoreAdj" t_oom_score_adj
tcase "no mount namespace: chroot only, the caller's mounts untouched, exec in the same root" t_no_mount_ns_chroot
tcase "no mount namespace: mounts, maskedPaths, readonlyPaths, root.readonly, rootfsPropagation, devices, terminal refused" t_no_mount_ns_refused
tcase "mount namespace joined by path that is the caller's own: refused, its mounts untouched" t_mount_ns_joined_is_callers
tcase "rootfsPropagation with the bundle on a shared mount: nothing leaks to the caller, unbindable runs" t_rootfs_propagation_shared_bundle
