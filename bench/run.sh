#!/bin/bash
# make bench: rune, crun and runc side by side on one busybox bundle, plus
# the kernel's floor (unshare + chroot).  See docs/benchmarks.md.
#
# Environment:
#   BUILD       build tree (make exports it; default ./build)
#   N           samples for --version, run, create+start+delete, exec
#               (default 50)
#   K           samples for state / list in each round (default 20)
#   ROUNDS      rounds of 100 containers, 2 in flight (default 2)
#   RSS_N       samples of peak RSS (default 10)
#   RUNTIMES    which runtimes, in alternation order (default "rune crun runc")
#   RUNE, CRUN, RUNC   binaries (default $BUILD/bin/rune, crun, runc)
#   TIMEOUT     seconds after which one runtime command is killed (default 20)
#   BENCH_NS    auto (default: private mount namespace when crun refuses the
#               host's cgroup layout), always, never
#   ORDER       rotate (default: round i starts with the i-th runtime, so
#               each follows each other equally often) or fixed (rune crun
#               runc in every round)
#   KEEP        1: keep the work directory (logs, plans, raw results)
#   CASES       only these cases (space separated: version run csd exec many
#               rss enclave epc; default all)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

msg() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- cleanup

# This run's cgroups on every real hierarchy (in the private namespace the
# unified mount point is our own tmpfs, gone with the namespace).
our_cgroups() {
	local h d
	for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
		[ -d "$h" ] || continue
		case $(stat -f -c %T "$h" 2>/dev/null) in
		cgroupfs | cgroup2fs) ;;
		*) continue ;;
		esac
		for d in "$h/$PFX"-*; do
			[ -d "$d" ] && echo "$d"
		done
	done
}

kill_cgroup() {
	local pid
	[ -r "$1/cgroup.procs" ] || return 0
	while read -r pid; do
		kill -9 "$pid" 2>/dev/null
	done <"$1/cgroup.procs"
}

# Removes every container of ours from every runtime's root, then whatever
# they left behind in the cgroup hierarchies.  Runs in the namespace the
# containers were made in, and again on the host.
cleanup_containers() {
	local rt bin root id d
	# Kill first: a stopped container deletes at once, where runc's
	# delete --force of a running one waits 100 ms after its SIGKILL.
	for d in $(our_cgroups); do
		kill_cgroup "$d"
	done
	for rt in $ALL_RTS; do
		bin=$(rt_bin "$rt")
		root=$WORK/root/$rt
		[ -d "$root" ] && [ -n "$bin" ] || continue
		(
			for id in "$root"/*; do
				[ -d "$id" ] || continue
				id=${id##*/}
				timeout 10 "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1 ||
					timeout 10 "$bin" --root "$root" kill "$id" KILL >/dev/null 2>&1
			done
		) &
	done
	wait
	sweep_cgroups
}

# Kills what is left in cgroups named after this run's prefix, removes them.
sweep_cgroups() {
	local d
	for d in $(our_cgroups); do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill_cgroup "$d"
			# Deepest first: runtimes may nest.
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
		if [ -d "$d" ]; then
			msg "warning: could not remove cgroup $d"
		else
			echo "$d" >>"$WORK/leftover-cgroups"
		fi
	done
}

cleanup_host() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${WORK:-}" ] || exit $rc
	cleanup_containers
	# Mounts a runtime might have left under our work directory.
	grep -F " $WORK" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	if [ -s "$WORK/leftover-cgroups" ]; then
		msg "removed cgroups the runtimes had left behind:"
		sed 's/^/  /' "$WORK/leftover-cgroups" | sort -u >&2
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		msg "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}

# ---------------------------------------------------------------- runtimes

rt_bin() {
	case $1 in
	rune) echo "$RUNE_BIN" ;;
	crun) echo "$CRUN_BIN" ;;
	runc) echo "$RUNC_BIN" ;;
	esac
}

# Global flags each runtime gets.
rt_cmd() {
	local rt=$1
	printf '%s\t--root\t%s' "$(rt_bin "$rt")" "$WORK/root/$rt"
	if [ "$rt" = rune ] && [ -n "${RUNE_PAL_DIR:-}" ]; then
		printf '\t--pal-dir\t%s' "$RUNE_PAL_DIR"
	fi
}

# ---------------------------------------------------------------- plans

# Runs a plan with timeit; results are appended to $WORK/results.tsv.
run_plan() {
	local plan=$1 log=$2
	"$TIMEIT" -t "$TIMEOUT" -l "$log" "$plan" >>"$WORK/results.tsv"
}

# Warm-up for one case: one round per runtime, each alone with its log.
# Prints the runtimes that passed; notes the others' reason for n/a.
# $1: case name; then a function that prints the plan lines of one
# sample: fn RT INDEX.
warmup() {
	local case=$1 fn=$2 rt ok="" plan log
	for rt in $RTS; do
		plan=$WORK/plans/warm-$case-$rt
		log=$WORK/logs/warm-$case-$rt.log
		"$fn" "$rt" w >"$plan"
		"$TIMEIT" -t "$TIMEOUT" -l "$log" "$plan" >"$WORK/warm.out"
		if awk -F'\t' '$3 != 0 { bad = 1 } END { exit bad }' "$WORK/warm.out"; then
			ok="$ok $rt"
		else
			local why
			why=$(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-160)
			[ -n "$why" ] || why="exit status $(awk -F'\t' '$3 != 0 { print $3; exit }' "$WORK/warm.out")"
			printf '%s\t%s\t%s\n' "$case" "$rt" "$why" >>"$WORK/failures.tsv"
			msg "$rt fails $case: $why"
			cleanup_containers
		fi
	done
	echo "$ok"
}

# One sample of each case for runtime $1 (index $2).
# Container ids: prefix, runtime, case, sample index ("w" for warm-up).
s_run() {
	printf 'run:%s\t%s\trun\t--bundle\t%s\t%s\n' "$1" "$(rt_cmd "$1")" "$BUNDLE" "$PFX-$1-r$2"
}

# create, start, then (untimed) wait until /bin/true has exited, as a shim
# does before it deletes: a `delete --force` racing the exit would time
# runc's 100 ms wait after SIGKILL instead.
s_csd() {
	local id=$PFX-$1-c$2 state
	state="$(rt_bin "$1") --root $WORK/root/$1 state $id"
	printf 'csd:%s\t%s\tcreate\t--bundle\t%s\t%s\n' "$1" "$(rt_cmd "$1")" "$BUNDLE" "$id"
	printf 'csd:%s\t%s\tstart\t%s\n' "$1" "$(rt_cmd "$1")" "$id"
	printf -- '-\t/bin/sh\t-c\ti=0; while %s | grep -q %s; do i=$((i+1)); [ $i -gt 500 ] && exit 1; sleep 0.002; done\n' \
		"$state" "'\"running\"'"
	printf 'csd:%s\t%s\tdelete\t%s\n' "$1" "$(rt_cmd "$1")" "$id"
}

s_version() {
	printf 'version:%s\t%s\t--version\n' "$1" "$(rt_bin "$1")"
}

s_exec() {
	printf 'exec:%s\t%s\texec\t%s\t/bin/true\n' "$1" "$(rt_cmd "$1")" "$PFX-$1-sleeper"
}

s_rss() {
	printf 'rss:%s\t/usr/bin/time\t-f\t%%M\t-o\t%s\t%s\trun\t--bundle\t%s\t%s\n' \
		"$1" "$WORK/rss/$1.$2" "$(rt_cmd "$1")" "$BUNDLE" "$PFX-$1-s$2"
}

s_enclave() {
	printf 'enclave:%s\t%s\trun\t--bundle\t%s\t%s\n' "$1" "$(rt_cmd "$1")" "$ENCLAVE_BUNDLE" "$PFX-$1-e$2"
}

# EPC accounting (docs/epc.md) on: the host-wide registry in the bench's
# tmpfs and a limit from the annotation sgx.intel.com/epc (64Mi, which the
# enclave fits); off: no registry (SGX_EPC_DIR where no directory can be
# made, so init-runelet opens no entry and nothing reaps or sums) and no
# limit. Both through env(1), so that both pay for the same exec.
s_epc_on() {
	printf 'epc-on:%s\t/usr/bin/env\tSGX_EPC_DIR=%s\t%s\trun\t--bundle\t%s\t%s\n' "$1" "$WORK/root/epc" \
		"$(rt_cmd "$1")" "$ENCLAVE_EPC_BUNDLE" "$PFX-$1-pn$2"
}

s_epc_off() {
	printf 'epc-off:%s\t/usr/bin/env\tSGX_EPC_DIR=/proc/rune-bench-no-epc-registry\t%s\trun\t--bundle\t%s\t%s\n' \
		"$1" "$(rt_cmd "$1")" "$ENCLAVE_BUNDLE" "$PFX-$1-pf$2"
}

s_epc_pair() {
	s_epc_on "$@"
	s_epc_off "$@"
}

# Past the EPC (docs/epc.md, "Beyond the EPC"): an emulated EPC of 64 KiB,
# smaller than the skeleton's enclave, so that its load pages it out (the
# paging model: every page of it written out, 10 us each); the emulator
# spending that time (emulator.epc_paging_delay, here its environment
# twin) or only counting it.
s_epc_paged() { # RT INDEX DELAY
	printf 'epc-paged-%s:%s\t/usr/bin/env\tSGX_EPC_DIR=%s\tSGX_EMU_EPC_SIZE=64Ki\tSGX_EMU_EPC_PAGING_DELAY=%s\t%s\trun\t--bundle\t%s\t%s\n' \
		"$([ "$3" = 1 ] && echo delay || echo count)" "$1" "$WORK/root/epc" "$3" "$(rt_cmd "$1")" \
		"$ENCLAVE_BUNDLE" "$PFX-$1-pg$3-$2"
}

s_ordinary() {
	printf 'ordinary:%s\t%s\trun\t--bundle\t%s\t%s\n' "$1" "$(rt_cmd "$1")" "$BUNDLE" "$PFX-$1-o$2"
}

floor_line() {
	printf 'run:floor\t%s\t--mount\t--pid\t--net\t--uts\t--ipc\t--fork\t%s\t%s\t/bin/true\n' \
		"$UNSHARE_BIN" "$CHROOT_BIN" "$ROOTFS"
}

# Sleeper for exec: setup and teardown lines (label "-").
s_sleeper_up() {
	printf -- '-\t%s\trun\t--detach\t--bundle\t%s\t%s\n' "$(rt_cmd "$1")" "$SLEEP_BUNDLE" "$PFX-$1-sleeper"
}

s_sleeper_down() {
	printf -- '-\t%s\tdelete\t--force\t%s\n' "$(rt_cmd "$1")" "$PFX-$1-sleeper"
}

s_exec_warm() {
	s_sleeper_up "$1"
	s_exec "$1"
	s_sleeper_down "$1"
}

# 100 containers: started 2 in flight, state and list, deleted 2 in flight.
s_many_warm() {
	local id=$PFX-$1-w
	printf -- 'many:%s\t%s\trun\t--detach\t--bundle\t%s\t%s\n' "$1" "$(rt_cmd "$1")" "$SLEEP_BUNDLE" "$id"
	printf -- 'many:%s\t%s\tstate\t%s\n' "$1" "$(rt_cmd "$1")" "$id"
	printf -- 'many:%s\t%s\tlist\n' "$1" "$(rt_cmd "$1")"
	printf -- 'many:%s\t%s\tdelete\t--force\t%s\n' "$1" "$(rt_cmd "$1")" "$id"
}

# ---------------------------------------------------------------- cases

# The order of round $1: with ORDER=rotate (default) round i starts with
# the ((i-1) mod n)th of the rest ("rune crun runc", "crun runc rune", ...),
# so each one follows each other one equally often; ORDER=fixed keeps
# "rune crun runc" in every round.
order() {
	local i=$1
	shift
	local items=("$@") n=$# k
	[ "$n" -gt 0 ] || return 0
	[ "${ORDER:-rotate}" = fixed ] && i=1
	for ((k = 0; k < n; k++)); do
		echo "${items[$(((i - 1 + k) % n))]}"
	done
}

case_alternating() { # case sample-fn [with-floor]
	local case=$1 fn=$2 floor=${3:-} rts i rt plan=$WORK/plans/$1
	rts=$(warmup "$case" "$fn")
	: >"$plan"
	for i in $(seq 1 "$N"); do
		# shellcheck disable=SC2086
		for rt in $(order "$i" $rts ${floor:+floor}); do
			if [ "$rt" = floor ]; then
				floor_line >>"$plan"
			else
				"$fn" "$rt" "$i" >>"$plan"
			fi
		done
	done
	msg "$case: $N samples of:${rts:- (none)}${floor:+ floor}"
	run_plan "$plan" "$WORK/logs/$case.log"
}

case_exec() {
	local rts i rt plan=$WORK/plans/exec
	rts=$(warmup exec s_exec_warm)
	: >"$plan"
	for rt in $rts; do s_sleeper_up "$rt" >>"$plan"; done
	for i in $(seq 1 "$N"); do
		# shellcheck disable=SC2086
		for rt in $(order "$i" $rts); do s_exec "$rt" "$i" >>"$plan"; done
	done
	for rt in $rts; do s_sleeper_down "$rt" >>"$plan"; done
	msg "exec: $N samples of:${rts:- (none)}"
	run_plan "$plan" "$WORK/logs/exec.log"
}

case_many() {
	local rts r i rt plan=$WORK/plans/many id
	rts=$(warmup many s_many_warm)
	: >"$plan"
	for r in $(seq 1 "$ROUNDS"); do
		# shellcheck disable=SC2086
		for rt in $(order "$r" $rts); do
			printf '@par\t2\tstart100:%s\n' "$rt" >>"$plan"
			for i in $(seq 1 100); do
				printf 'x\t%s\trun\t--detach\t--bundle\t%s\t%s\n' "$(rt_cmd "$rt")" \
					"$SLEEP_BUNDLE" "$PFX-$rt-m$r-$i" >>"$plan"
			done
			printf '@end\n' >>"$plan"
		done
		for i in $(seq 1 "$K"); do
			# shellcheck disable=SC2086
			for rt in $(order "$(((r - 1) * K + i))" $rts); do
				id=$PFX-$rt-m$r-$(((i * 37) % 100 + 1))
				printf 'state:%s\t%s\tstate\t%s\n' "$rt" "$(rt_cmd "$rt")" "$id" >>"$plan"
				printf 'list:%s\t%s\tlist\n' "$rt" "$(rt_cmd "$rt")" >>"$plan"
			done
		done
		# shellcheck disable=SC2086
		for rt in $(order "$r" $rts); do
			printf '@par\t2\tdelete100:%s\n' "$rt" >>"$plan"
			for i in $(seq 1 100); do
				printf 'x\t%s\tdelete\t--force\t%s\n' "$(rt_cmd "$rt")" "$PFX-$rt-m$r-$i" >>"$plan"
			done
			printf '@end\n' >>"$plan"
		done
	done
	msg "100 containers: $ROUNDS rounds, state/list $K samples each, of:${rts:- (none)}"
	run_plan "$plan" "$WORK/logs/many.log"
	# Whatever a failing runtime left, before the next case.
	cleanup_containers
}

case_rss() {
	local rts i rt plan=$WORK/plans/rss
	if ! [ -x /usr/bin/time ]; then
		msg "peak RSS skipped: /usr/bin/time missing (package time)"
		echo "rss	*	/usr/bin/time missing (package time)" >>"$WORK/failures.tsv"
		return
	fi
	rts=$(warmup rss s_rss)
	: >"$plan"
	for i in $(seq 1 "$RSS_N"); do
		# shellcheck disable=SC2086
		for rt in $(order "$i" $rts); do s_rss "$rt" "$i" >>"$plan"; done
	done
	msg "peak RSS: $RSS_N samples of:${rts:- (none)}"
	run_plan "$plan" "$WORK/logs/rss.log"
}

case_enclave() {
	local i plan=$WORK/plans/enclave rts
	if ! echo " $RTS " | grep -q ' rune '; then
		echo "enclave	rune	rune not available" >>"$WORK/failures.tsv"
		return
	fi
	rts=$(RTS=rune warmup enclave s_enclave)
	if [ -z "$rts" ]; then
		return
	fi
	: >"$plan"
	for i in $(seq 1 "$N"); do
		s_enclave rune "$i" >>"$plan"
		s_ordinary rune "$i" >>"$plan"
	done
	msg "enclave vs ordinary (rune): $N pairs"
	run_plan "$plan" "$WORK/logs/enclave.log"
}

# Enclave start with EPC accounting on and off, alternating (which goes
# first rotates), rune only.
case_epc() {
	local i plan=$WORK/plans/epc rts
	echo " $RTS " | grep -q ' rune ' || return
	rts=$(RTS=rune warmup epc s_epc_pair)
	[ -n "$rts" ] || return
	: >"$plan"
	for i in $(seq 1 "$N"); do
		if [ $((i % 2)) = 1 ]; then
			s_epc_on rune "$i" >>"$plan"
			s_epc_off rune "$i" >>"$plan"
		else
			s_epc_off rune "$i" >>"$plan"
			s_epc_on rune "$i" >>"$plan"
		fi
	done
	msg "enclave start, EPC accounting on and off (rune): $N pairs"
	run_plan "$plan" "$WORK/logs/epc.log"
	: >"$plan"
	for i in $(seq 1 "$N"); do
		if [ $((i % 2)) = 1 ]; then
			s_epc_paged rune "$i" 1 >>"$plan"
			s_epc_paged rune "$i" 0 >>"$plan"
		else
			s_epc_paged rune "$i" 0 >>"$plan"
			s_epc_paged rune "$i" 1 >>"$plan"
		fi
	done
	msg "enclave start past the EPC, paging delay on and off (rune): $N pairs"
	run_plan "$plan" "$WORK/logs/epc-paged.log"
}

# ---------------------------------------------------------------- inner

# CASES (space separated: version run csd exec many rss enclave epc) limits a run to those.
want() { [ -z "${CASES:-}" ] || [[ " $CASES " == *" $1 "* ]]; }

# Everything below runs in the namespace chosen by the outer part.
inner() {
	if [ "$IN_NS" = 1 ]; then
		mount --make-rprivate /
		umount /sys/fs/cgroup/unified || exit 1
		# A private tmpfs over the mount point: what the runtimes write
		# there vanishes with this namespace, instead of landing in the
		# host's /sys/fs/cgroup tmpfs under the hidden mount.
		mount -t tmpfs -o mode=755,size=256m,nosuid,nodev,noexec bench-hidden-unified \
			/sys/fs/cgroup/unified || exit 1
	fi
	trap 'cleanup_containers; exit 130' INT TERM
	trap 'cleanup_containers' EXIT

	want version && case_alternating version s_version
	want run && case_alternating run s_run floor
	want csd && case_alternating csd s_csd
	want exec && case_exec
	want many && case_many
	want rss && case_rss
	if [ -n "$ENCLAVE_BUNDLE" ]; then
		want enclave && case_enclave
		want epc && case_epc
	fi
	cleanup_containers
	trap - EXIT
}

if [ "${1:-}" = __inner ]; then
	inner
	exit $?
fi

# ---------------------------------------------------------------- outer

if [ "$(id -u)" != 0 ]; then
	echo "bench: must run as root (containers, namespaces, cgroups)" >&2
	exit 1
fi
export BUILD=${BUILD:-$top/build}
export ORDER=${ORDER:-rotate}
export N=${N:-50} K=${K:-20} ROUNDS=${ROUNDS:-2} RSS_N=${RSS_N:-10} TIMEOUT=${TIMEOUT:-20}
export RUNE_BIN=${RUNE:-$BUILD/bin/rune}
export CRUN_BIN=${CRUN:-$(command -v crun || true)}
export RUNC_BIN=${RUNC:-$(command -v runc || true)}
export ALL_RTS="rune crun runc"
export PFX=rb$$
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

for tool in unshare chroot cc timeout; do
	command -v "$tool" >/dev/null || {
		msg "missing $tool (scripts/install-deps.sh installs it)"
		exit 1
	}
done

# Absolute paths: no PATH search inside the floor's timing.
UNSHARE_BIN=$(command -v unshare)
CHROOT_BIN=$(command -v chroot)
export UNSHARE_BIN CHROOT_BIN

WORK=$(mktemp -d /tmp/rune-bench.XXXXXX)
export WORK
trap cleanup_host EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"/{root,plans,logs,rss} "$BUILD/bench"
# State on a tmpfs, as /run is on most hosts: on a disk file system the
# roots' file creation (ext4 inode allocation) shows up in every sample.
mount -t tmpfs -o size=256m,mode=0700,nosuid,nodev rune-bench-roots "$WORK/root" ||
	msg "warning: no tmpfs for the runtimes' roots, they stay on $(stat -f -c %T "$WORK")"
: >"$WORK/results.tsv"
: >"$WORK/failures.tsv"
: >"$WORK/notes"

export TIMEIT=$BUILD/bench/timeit
if ! cc -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -o "$TIMEIT" "$here/timeit.c"; then
	msg "cannot build $TIMEIT"
	exit 1
fi

# Bundles: one rootfs; /bin/true, a sleeper and (maybe) an enclave config.
export BUNDLE=$WORK/bundle
"$top/scripts/mkbundle.sh" "$BUNDLE" /bin/true >/dev/null || exit 1
export ROOTFS=$BUNDLE/rootfs
export SLEEP_BUNDLE=$WORK/sleep
mkdir -p "$SLEEP_BUNDLE"
$PY - "$BUNDLE/config.json" "$SLEEP_BUNDLE/config.json" "$ROOTFS" <<'EOF' || exit 1
import json, sys
spec = json.load(open(sys.argv[1]))
spec["root"]["path"] = sys.argv[3]
spec["process"]["args"] = ["sleep", "1000000"]
json.dump(spec, open(sys.argv[2], "w"), indent="\t")
EOF

export ENCLAVE_BUNDLE="" ENCLAVE_EPC_BUNDLE="" RUNE_PAL_DIR=""
pal=$BUILD/lib/liberpal-skeleton-v3.so
encl=$BUILD/share/skeleton/encl.elf
if [ -f "$pal" ] && [ -f "$encl" ]; then
	ENCLAVE_BUNDLE=$WORK/enclave
	RUNE_PAL_DIR=$BUILD/lib
	mkdir -p "$ENCLAVE_BUNDLE" "$ROOTFS/skeleton"
	cp "$encl" "$ROOTFS/skeleton/"
	[ -f "${encl%.elf}.ss" ] && cp "${encl%.elf}.ss" "$ROOTFS/skeleton/"
	$PY - "$BUNDLE/config.json" "$ENCLAVE_BUNDLE/config.json" "$ROOTFS" "$pal" <<'EOF' || exit 1
import json, sys
spec = json.load(open(sys.argv[1]))
spec["root"]["path"] = sys.argv[3]
spec["process"]["args"] = ["skeleton", "hello"]
spec["process"]["cwd"] = "/skeleton"
spec["process"]["env"] += ["ENCLAVE_TYPE=intelSgx",
                           "ENCLAVE_RUNTIME_PATH=" + sys.argv[4],
                           "ENCLAVE_RUNTIME_ARGS=/skeleton"]
json.dump(spec, open(sys.argv[2], "w"), indent="\t")
EOF
	# The same, with an EPC limit the enclave fits (the accounting-on case).
	ENCLAVE_EPC_BUNDLE=$WORK/enclave-epc
	mkdir -p "$ENCLAVE_EPC_BUNDLE"
	$PY - "$ENCLAVE_BUNDLE/config.json" "$ENCLAVE_EPC_BUNDLE/config.json" <<'EOF' || exit 1
import json, sys
spec = json.load(open(sys.argv[1]))
spec.setdefault("annotations", {})["sgx.intel.com/epc"] = "64Mi"
json.dump(spec, open(sys.argv[2], "w"), indent="\t")
EOF
fi

# rune is being rebuilt while we run, at times: use a snapshot of it.
if [ -x "$RUNE_BIN" ] && [ -f "$RUNE_BIN" ]; then
	mkdir -p "$WORK/bin"
	cp "$RUNE_BIN" "$WORK/bin/rune" && RUNE_BIN=$WORK/bin/rune
fi

# Which runtimes exist.
RTS=""
for rt in ${RUNTIMES:-$ALL_RTS}; do
	bin=$(rt_bin "$rt")
	if [ -n "$bin" ] && [ -x "$bin" ]; then
		RTS="$RTS $rt"
		mkdir -p "$WORK/root/$rt"
	else
		printf '*\t%s\t%s\n' "$rt" "not found (${bin:-not installed})" >>"$WORK/failures.tsv"
		msg "$rt: not found (${bin:-not installed}): n/a"
	fi
done
for rt in $ALL_RTS; do
	case " ${RUNTIMES:-$ALL_RTS} " in
	*" $rt "*) ;;
	*) printf '*\t%s\tnot selected (RUNTIMES="%s")\n' "$rt" "$RUNTIMES" >>"$WORK/failures.tsv" ;;
	esac
done
export RTS

# crun 1.8 refuses a hybrid layout with a controller on cgroup2: try it once.
IN_NS=0
ns_why=""
case ${BENCH_NS:-auto} in
always)
	IN_NS=1
	ns_why="BENCH_NS=always"
	;;
never) ;;
*)
	if [ -n "$CRUN_BIN" ] && [ -x "$CRUN_BIN" ]; then
		mkdir -p "$WORK/root/probe"
		out=$("$CRUN_BIN" --root "$WORK/root/probe" run --bundle "$BUNDLE" "$PFX-probe" 2>&1)
		"$CRUN_BIN" --root "$WORK/root/probe" delete --force "$PFX-probe" >/dev/null 2>&1
		rm -rf "$WORK/root/probe"
		if echo "$out" | grep -qi 'hybrid'; then
			IN_NS=1
			ns_why="crun refused the host's cgroup layout: \"$(echo "$out" | tail -n 1)\""
		fi
	fi
	;;
esac
export IN_NS
if [ "$IN_NS" = 1 ]; then
	unified=$(awk '$5 == "/sys/fs/cgroup/unified" { print $9 }' /proc/self/mountinfo)
	ctrls=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)
	if [ "$unified" != cgroup2 ]; then
		msg "private namespace requested but /sys/fs/cgroup/unified is not a cgroup2 mount"
		IN_NS=0
	else
		note="All runtimes (and the floor) ran in a private mount namespace"
		note="$note (unshare -m, make-rprivate, /sys/fs/cgroup/unified unmounted):"
		note="$note $ns_why. The host is hybrid: v1 controllers under /sys/fs/cgroup,"
		note="$note cgroup2 at /sys/fs/cgroup/unified with controllers: ${ctrls:-none}."
		echo "$note" >>"$WORK/notes"
		msg "$note"
	fi
fi

start=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
export LOAD_START
if [ "$IN_NS" = 1 ]; then
	unshare --mount --propagation private -- "$BASH" "$here/run.sh" __inner
else
	"$BASH" "$here/run.sh" __inner
fi
inner_rc=$?
[ "$inner_rc" = 0 ] || msg "benchmark body exited with $inner_rc"
[ "$inner_rc" = 130 ] && exit 130
export BENCH_SECONDS=$(($(date +%s) - start))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
export LOAD_END

# Versions and machine, for the report.
ver() { [ -n "$1" ] && [ -x "$1" ] && "$1" --version 2>/dev/null | head -n 1; }
V_RUNE=$(ver "$RUNE_BIN")
V_CRUN=$(ver "$CRUN_BIN")
V_RUNC=$(ver "$RUNC_BIN")
V_UNSHARE=$(unshare --version | head -n 1)
M_CORES=$(nproc)
M_KERNEL=$(uname -r)
M_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
M_MEM=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
V_TREE=$(git -C "$top" describe --always --dirty 2>/dev/null)
export V_RUNE V_CRUN V_RUNC V_UNSHARE V_TREE M_CORES M_KERNEL M_CPU M_MEM

$PY "$here/report.py" "$WORK" >"$WORK/results.md" || exit 1
cp "$WORK/results.md" "$BUILD/bench/results.md"
cat "$WORK/results.md"
echo
msg "written to $BUILD/bench/results.md (${BENCH_SECONDS}s)"
