#!/bin/bash
# timeout: 180
# User namespaces: uidMappings/gidMappings written as root; the container's
# root is an unprivileged uid on the host (ps/stat from the host), files it
# creates belong to the mapped uid, host-root-only files stay closed to it;
# cgroup limits and /dev still work under the user namespace.
. "$(dirname "$0")/lib.sh"

HOSTUID=100000
MAPS='{"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}'
userns_bundle() {
	res_bundle "$@"
	cfg_append .linux.namespaces '{"type": "user"}'
	cfg_py "c['linux'].update($MAPS)"
	# mountpoints exist: the mapped root can't mkdir in a host-root rootfs
	mkdir -p "$B/rootfs/share" "$B/rootfs/hostonly"
}

t_maps_inside() {
	userns_bundle
	cfg_sh 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; echo x >/dev/null && echo null-ok; head -c 4 /dev/urandom | wc -c'
	ct_run
	assert_rc 0 run
	assert_eq 0 "$(echo "$OUT" | sed -n 1p)" "uid inside"
	assert_eq 0 "$(echo "$OUT" | sed -n 2p)" "gid inside"
	assert_match "^ *0 +100000 +65536$" "$(echo "$OUT" | sed -n 3p)" uid_map
	assert_match "^ *0 +100000 +65536$" "$(echo "$OUT" | sed -n 4p)" gid_map
	assert_contains null-ok "$OUT" "/dev/null under the user namespace"
	assert_eq 4 "$(echo "$OUT" | tail -1)" "/dev/urandom under the user namespace"
	assert_cg_gone
}

t_host_view() {
	userns_bundle
	add_share
	chmod 0777 "$SH"
	mkdir -p "$T/hostonly"
	echo secret >"$T/hostonly/secret"
	chmod 0600 "$T/hostonly/secret"
	chmod 0755 "$T/hostonly"
	cfg_append .mounts "{\"destination\": \"/hostonly\", \"type\": \"bind\", \"source\": \"$T/hostonly\", \"options\": [\"rbind\", \"rw\"]}"
	ct_start_bg 'touch /share/by-root; cat /hostonly/secret >/share/read 2>&1; touch /hostonly/new 2>/share/write; echo done >/share/done; sleep 60'
	wait_file "$SH/done"
	local p
	p=$(init_pid)
	assert_eq $HOSTUID "$(stat -c %u "/proc/$p")" "owner of /proc/<init> on the host"
	assert_eq $HOSTUID "$(ps -o uid= -p "$p" | tr -d ' ')" "ps uid of init on the host"
	assert_eq $HOSTUID "$(ps -o gid= -p "$p" | tr -d ' ')" "ps gid of init on the host"
	assert_match "^Uid:[[:space:]]+${HOSTUID}[[:space:]]+${HOSTUID}" "$(grep ^Uid: "/proc/$p/status")" "Uid in /proc/<init>/status"
	assert_eq "$HOSTUID:$HOSTUID" "$(stat -c %u:%g "$SH/by-root")" "host owner of a file the container's root made"
	assert_contains "Permission denied" "$(cat "$SH/read")" "container root reading a host root 0600 file"
	assert_contains "Permission denied" "$(cat "$SH/write")" "container root writing a host root 0755 dir"
	[ ! -e "$T/hostonly/new" ] || fail "container root created a file in a host-root dir"
	# a process exec'd as uid 1000 inside is host uid 101000
	rt exec --user 1000:1000 "$ID" sleep 31 >/dev/null 2>&1 &
	local i q u=""
	for ((i = 0; i < 50; i++)); do
		[ -z "$u" ] || break
		sleep 0.1
		for q in $(cat "$(cg_dir freezer)/cgroup.procs"); do
			[ "$(tr '\0' ' ' <"/proc/$q/cmdline" 2>/dev/null)" = "sleep 31 " ] && u=$(ps -o uid= -p "$q" | tr -d ' ')
		done
	done
	assert_eq $((HOSTUID + 1000)) "$u" "host uid of exec --user 1000"
	ct_delete
}

t_userns_limits() {
	need_ctrl memory
	userns_bundle
	res_set memory '{"limit": 16777216}'
	res_set pids '{"limit": 10}'
	cfg_sh 'echo 1000 >/proc/self/oom_score_adj; dd if=/dev/zero bs=1M count=64 2>/dev/null | tail >/dev/null'
	ct_run
	assert_rc 137 "64M under 16M in a user namespace"
	assert_cg_gone
	userns_bundle pids
	res_set pids '{"limit": 10}'
	add_share
	ct_start_bg '(for i in $(seq 20); do sleep 60 & done) 2>/share/err; echo done >/share/n; exec sleep 60'
	wait_file "$SH/n" 15
	assert_match "fork|Resource temporarily unavailable" "$(cat "$SH/err")" "forks over pids.limit in a user namespace"
	[ "$(wc -l <"$(cg_dir pids)/cgroup.procs")" -le 10 ] || fail "more than 10 processes"
	ct_delete
}

# A 0666 node for loop-control (c 10:237: opening it needs no capability)
# made on the host and bound in: under a user namespace only the device
# cgroup decides (DAC allows all, no mknod).
t_userns_devices() {
	need_ctrl devices
	userns_bundle
	mkdir -p "$T/devnodes"
	rm -f "$T/devnodes/lc"
	mknod -m 0666 "$T/devnodes/lc" c 10 237 || skip "cannot mknod on $T"
	cfg_append .mounts "{\"destination\": \"/dev/lc\", \"type\": \"bind\", \"source\": \"$T/devnodes/lc\", \"options\": [\"bind\"]}"
	cfg_sh 'stat -c "%t:%T" /dev/lc; (true </dev/lc) 2>&1 && echo read-ok; (true 1<>/dev/lc) 2>&1 && echo write-ok; true'
	ct_run
	assert_rc 0 run
	assert_eq a:ed "$(echo "$OUT" | sed -n 1p)" "/dev/lc numbers"
	assert_not_contains read-ok "$OUT" "a device no rule allows, under a user namespace"
	assert_match "Operation not permitted" "$OUT" "the device cgroup's refusal"
	assert_cg_gone
	userns_bundle allowed
	cfg_append .mounts "{\"destination\": \"/dev/lc\", \"type\": \"bind\", \"source\": \"$T/devnodes/lc\", \"options\": [\"bind\"]}"
	cfg_append .linux.resources.devices '{"allow": true, "type": "c", "major": 10, "minor": 237, "access": "r"}'
	cfg_sh '(true </dev/lc) 2>&1 && echo read-ok; (true 1<>/dev/lc) 2>&1 && echo write-ok; true'
	ct_run
	assert_rc 0 run
	assert_contains read-ok "$OUT" "an r-allowed device under a user namespace"
	assert_not_contains write-ok "$OUT" "write to an r-allowed device"
	assert_match "Operation not permitted" "$OUT" "the device cgroup's refusal of w"
	assert_cg_gone
}

t_bad_maps() {
	res_bundle
	cfg_append .linux.namespaces '{"type": "user"}'
	cfg_set .linux.uidMappings '[{"containerID": 0, "hostID": 100000, "size": 65536}, {"containerID": 100, "hostID": 300000, "size": 10}]'
	cfg_set .linux.gidMappings '[{"containerID": 0, "hostID": 100000, "size": 65536}]'
	ct_run
	assert_fails "overlapping uidMappings"
	assert_clear_error "uid_?map|uidMappings|Invalid argument" "overlapping uidMappings"
	assert_cg_gone
}

t_join_userns_by_path() {
	# A pod's second container: it joins the first one's user namespace and
	# still gets new pid, mount, uts, ipc and network namespaces of its own.
	userns_bundle
	cfg_args sleep 1000
	rtc run -d --bundle "$B" "$ID"
	assert_rc 0 "run -d the first container"
	local first=$ID init
	init=$(rt state "$first" | jget .pid)
	userns_bundle second
	cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'user'] + [{'type': 'user', 'path': '/proc/$init/ns/user'}]"
	cfg_set .hostname '"second"'
	cfg_sh 'echo $$; for n in user pid mnt net; do readlink /proc/self/ns/$n; done; hostname; id -u'
	ct_run
	assert_rc 0 "run joining the first container's user namespace"
	local -a got
	mapfile -t got <<<"$OUT"
	assert_eq 1 "${got[0]}" "pid of the workload in its own pid namespace"
	assert_eq "$(readlink /proc/"$init"/ns/user)" "${got[1]}" "user namespace (joined)"
	assert_ne "$(readlink /proc/"$init"/ns/pid)" "${got[2]}" "pid namespace (new)"
	assert_ne "$(readlink /proc/"$init"/ns/mnt)" "${got[3]}" "mount namespace (new)"
	assert_ne "$(readlink /proc/"$init"/ns/net)" "${got[4]}" "network namespace (new)"
	assert_eq second "${got[5]}" "hostname (new uts namespace)"
	assert_eq 0 "${got[6]}" "uid inside"
}

# A bind source only the host's root can reach (a 0700 root-owned directory
# and a file in it): opened with the host's credentials before the user
# namespace, as runc does, then mounted by fd.
t_root_only_bind_source() {
	userns_bundle
	touch "$B/rootfs/hostfile"
	mkdir -p "$T/rootonly/dir"
	echo inside >"$T/rootonly/dir/f"
	echo file >"$T/rootonly/file"
	chmod 0644 "$T/rootonly/dir/f" "$T/rootonly/file"
	chmod 0755 "$T/rootonly/dir"
	chmod 0700 "$T/rootonly"
	cfg_append .mounts "{\"destination\": \"/hostonly\", \"type\": \"bind\", \"source\": \"$T/rootonly/dir\", \"options\": [\"rbind\", \"ro\"]}"
	cfg_append .mounts "{\"destination\": \"/hostfile\", \"type\": \"bind\", \"source\": \"$T/rootonly/file\", \"options\": [\"bind\"]}"
	cfg_sh 'cat /hostonly/f /hostfile'
	ct_run
	assert_rc 0 "run with bind sources under a 0700 host-root directory"
	assert_eq "inside
file" "$OUT" "content of the bound directory and file"
	assert_cg_gone
	userns_bundle missing
	cfg_append .mounts "{\"destination\": \"/hostonly\", \"type\": \"bind\", \"source\": \"$T/rootonly/nothing\", \"options\": [\"rbind\"]}"
	ct_run
	assert_fails "run with a missing bind source"
	assert_clear_error "$T/rootonly/nothing.*(No such file|no such file)" "missing bind source"
	assert_nothing_left "$ID"
}

# --no-pivot in a user namespace: the host's procfs and sysfs below the new
# root are locked there (they can't be unmounted), so they are covered, and
# a nested user namespace still can't mount a fresh procfs.
t_no_pivot_userns_proc() {
	userns_bundle
	cfg_set .process.user '{"uid": 1000, "gid": 1000}'
	cfg_sh 'unshare -mrpf sh -c "mount -t proc proc /mnt && echo MOUNTED || echo REFUSED" 2>&1; cat /proc/self/uid_map'
	ct_run --no-pivot
	assert_rc 0 "run --no-pivot in a user namespace"
	assert_contains REFUSED "$OUT" "a fresh procfs from a nested user namespace"
	assert_match "^ *0 +100000 +65536$" "$(echo "$OUT" | tail -1)" "the container's own /proc"
	assert_cg_gone
}

rtcase "userns: uid/gid maps inside, /dev works" t_maps_inside
rtcase "userns: container root is uid $HOSTUID on the host" t_host_view
rtcase "userns: memory and pids limits bite" t_userns_limits
rtcase "userns: device rules on a bound-in node" t_userns_devices
rtcase "userns: overlapping mappings are a clear error" t_bad_maps
rtcase "userns: join one by path, with new pid/mnt/net/uts/ipc namespaces" t_join_userns_by_path
rtcase "userns: bind sources only the host's root can reach" t_root_only_bind_source
rtcase "userns: --no-pivot, no fresh procfs from a nested user namespace" t_no_pivot_userns_proc
