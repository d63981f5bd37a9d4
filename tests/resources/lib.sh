# shellcheck shell=bash disable=SC2034,SC2154
# Shared by tests/resources/test-*.sh: linux.resources and friends shown
# biting inside real busybox containers run by $RUNTIME (rune by default,
# RUNTIME=runc validates the tests).  Built on tests/integration/lib.sh
# (tcase, new_bundle, cfg_*, rtc, asserts, per-case leftover checks).
#
# Every container gets linux.cgroupsPath "/$ID" (res_bundle), so both
# runtimes put it at <mountpoint>/$ID on every hierarchy and the tests read
# the files there.  The cgroup layout is detected from /proc/self/mountinfo,
# never assumed: "hybrid" (v1 controllers + cgroup2 at .../unified), "v1",
# or "v2".  RES_TAG (set by test-v1.sh) prefixes every case name.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# test-v1.sh picks the id prefix, so it can check the host afterwards.
[ -n "${RES_PFX:-}" ] && PFX=$RES_PFX$(echo "$_script" | tr -cd 'a-z' | cut -c1-5)

if [ "$(id -u)" != 0 ]; then
	echo "skip - $_script (needs root)"
	exit 0
fi

# A timeout's SIGTERM (tests/run.sh) or ^C still runs the EXIT trap's
# cleanup (force-delete, cgroups, mounts, temp dir).
trap 'exit 143' TERM
trap 'exit 130' INT

# ------------------------------------------------------------ layout

# cg_mounts: "fstype mountpoint superopts" for every cgroup mount.
cg_mounts() {
	awk '{ for (i = 7; $i != "-"; i++); if ($(i+1) == "cgroup" || $(i+1) == "cgroup2") print $(i+1), $5, $(i+3) }' /proc/self/mountinfo
}
V2_MNT=$(cg_mounts | awk '$1 == "cgroup2" { print $2; exit }')
if [ -n "$V2_MNT" ] && cg_mounts | grep -q '^cgroup '; then
	LAYOUT=hybrid
elif [ -n "$V2_MNT" ]; then
	LAYOUT=v2
else
	LAYOUT=v1
fi
echo "# cgroup layout: $LAYOUT${V2_MNT:+ (cgroup2 at $V2_MNT: $(cat "$V2_MNT/cgroup.controllers" 2>/dev/null))}"

# cg_v1_mnt CTRL: the v1 mountpoint that has CTRL bound (empty if none).
cg_v1_mnt() {
	cg_mounts | awk -v c="$1" '$1 == "cgroup" { n = split($3, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }'
}
# cg_dir CTRL [ID]: the container's cgroup dir for CTRL: on the v1
# hierarchy that has it, else on cgroup2 if its root lists it; fails if
# the host has CTRL nowhere.
cg_dir() {
	local m id=${2:-$ID}
	m=$(cg_v1_mnt "$1")
	if [ -z "$m" ] && [ -n "$V2_MNT" ] && grep -qw "$1" "$V2_MNT/cgroup.controllers" 2>/dev/null; then
		m=$V2_MNT
	fi
	# cgroup2 has these built in: cgroup.freeze and the eBPF device hook
	case $1 in freezer | devices) [ -z "$m" ] && m=$V2_MNT ;; esac
	[ -n "$m" ] || return 1
	echo "$m/$id"
}
# cg_on_v2 CTRL: CTRL is driven through cgroup2 files here.
cg_on_v2() { [ "$(dirname "$(cg_dir "$1" x)")" = "$V2_MNT" ]; }
# cg_read CTRL FILE: a file of the container's cgroup.
cg_read() {
	local d
	d=$(cg_dir "$1") || fail "no $1 controller on this host ($LAYOUT)"
	cat "$d/$2" || fail "cannot read $d/$2"
}
has_ctrl() { cg_dir "$1" x >/dev/null; }

# assert_cg_gone [ID]: no directory for the container on any hierarchy
# (/sys/fs/cgroup/*/ID and the cgroup2 mount's ID).
assert_cg_gone() {
	local id=${1:-$ID} m left="" i
	for ((i = 0; i < 20; i++)); do
		left=""
		for m in $(cg_mounts | awk '{ print $2 }'); do
			[ -e "$m/$id" ] && left+=" $m/$id"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail "cgroup dirs left after delete:$left"
}

# res_bundle [NAME]: new_bundle with cgroupsPath /$ID and room in /dev/shm.
res_bundle() {
	new_bundle "$@"
	cfg_set .linux.cgroupsPath "\"/$ID\""
	cfg_py 'for m in c["mounts"]:
    if m["destination"] == "/dev/shm": m["options"] = ["nosuid", "noexec", "nodev", "mode=1777", "size=256m"]'
}
# res_set KEY JSON: linux.resources.KEY = JSON
res_set() { cfg_set ".linux.resources.$1" "$2"; }

# ct_start_bg SCRIPT: create + start `sh -c SCRIPT` detached (its output to
# $T/ct.out); requires success.  Container stays until deleted.
ct_start_bg() {
	cfg_sh "$1"
	RC=0
	rt create --bundle "$B" "$ID" >"$T/ct.out" 2>&1 </dev/null || RC=$?
	OUT="" ERR=$(cat "$T/ct.out")
	[ "$RC" -eq 0 ] || fail "create failed (rc=$RC)"
	rtc start "$ID"
	[ "$RC" -eq 0 ] || fail "start failed (rc=$RC)"
}
# init_pid: the container's init pid from state.
init_pid() { rt state "$ID" | jget .pid; }
# ct_delete: plain delete (force if still running), then cgroups must be gone.
ct_delete() {
	rtc delete --force "$ID"
	[ "$RC" -eq 0 ] || fail "delete --force failed (rc=$RC)"
	assert_cg_gone "$ID"
}
# wait_stopped [SECONDS]
wait_stopped() { wait_status "$ID" stopped "${1:-20}"; }

# rtcase NAME FUNC: tcase with the RES_TAG prefix.
rtcase() {
	local n=$1
	shift
	tcase "${RES_TAG:+$RES_TAG: }$n" "$@"
}
# need_ctrl CTRL: skip the case when the host has no CTRL at all.
need_ctrl() { has_ctrl "$1" || skip "no $1 controller on this host ($LAYOUT layout)"; }
