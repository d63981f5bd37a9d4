#!/bin/bash
# make bench-shim: containerd-shim-rune-v2 + rune against containerd's
# reference shim, containerd-shim-runc-v2 + runc (Debian's), side by side
# in one run under one private containerd 1.6 (with its CRI plugin), set
# up and removed by the tests' own helpers (tests/clients/lib.sh, crid.sh):
#  - memory per pod: the shim daemon of a `ctr run -d` busybox `sleep`,
#    smaps_rollup Private_Clean + Private_Dirty, and its RSS;
#  - `ctr run --rm` of /bin/true, wall time, the two shims alternated;
#  - a CRI pod start (RunPodSandbox + CreateContainer + StartContainer,
#    the kubelet's calls) with each runtime handler, alternated, the three
#    calls' wall time taken inside one long-lived client (cri.py podstart).
# Issue 14's targets: private memory <= 1/5 of the reference's, both start
# times <= 0.8x. See docs/benchmarks.md.
#
# Environment:
#   BUILD     build tree (make exports it; default ./build)
#   N         samples of each timed case and shim (default 10)
#   MEM_N     long-running containers measured per shim (default 3)
#   RUNC      the reference's runc (default: runc on PATH)
set -uo pipefail
N=${N:-10}
MEM_N=${MEM_N:-3}
CLIENT=benchshim
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/../tests/clients/lib.sh"
need_pkgs cri >&2
RUNC=${RUNC:-$(command -v runc)}
SHIM=$BUILD/bin/containerd-shim-rune-v2
if [ ! -x "$SHIM" ] || [ ! -x "$RUNC" ] || ! command -v containerd-shim-runc-v2 >/dev/null; then
	echo "bench-shim: needs $SHIM (make all), runc and containerd-shim-runc-v2" >&2
	exit 1
fi
IMG=docker.io/library/rune-busybox:benchshim
PAUSE=docker.io/library/rune-pause:benchshim
# the shim finds rune beside it on PATH and reads this (empty) config,
# never the host's /etc/rune/shim.json
SHIM_JSON=$CT/shim.json
echo '{}' >"$SHIM_JSON"
chmod 0644 "$SHIM_JSON"
CRID_HANDLERS="    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.rune]
      runtime_type = \"io.containerd.rune.v2\"
    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]
      runtime_type = \"io.containerd.runc.v2\"
      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]
        BinaryName = \"$RUNC\"
        Root = \"$CT/rs\""
CRID_ENV=("PATH=$BUILD/bin:$PATH" "RUNE_SHIM_CONFIG=$SHIM_JSON")
# shellcheck source=tests/clients/crid.sh
. "$CL_DIR/crid.sh"

# ctr in a namespace of its own ($PFX), beside CRI's k8s.io
cat >"$CT/bin/N" <<WRAP
#!/bin/sh
exec ctr -a "$SOCK" -n "$PFX" "\$@"
WRAP
chmod 0755 "$CT/bin/N"
# the --runtime flags of each shim for ctr
RT_rune=(--runtime io.containerd.rune.v2)
RT_runc=(--runtime io.containerd.runc.v2 --runc-binary "$RUNC" --runc-root "$CT/rs")

ns_cleanup() {
	local t
	for t in $(timeout 20 N task ls -q 2>/dev/null); do
		timeout 20 N task kill -s KILL "$t" >/dev/null 2>&1
		timeout 20 N task rm -f "$t" >/dev/null 2>&1
	done
	for t in $(timeout 20 N container ls -q 2>/dev/null); do timeout 20 N container rm "$t" >/dev/null 2>&1; done
}
# crid.sh's client_stop, after this namespace's tasks, containers, image
eval "crid_client_stop() $(declare -f client_stop | tail -n +2)"
client_stop() {
	ns_cleanup
	timeout 20 N images rm "$IMG" >/dev/null 2>&1
	timeout 20 ctr -a "$SOCK" namespaces rm "$PFX" >/dev/null 2>&1
	crid_client_stop
}

crid_start bench-shim >&2
cl N images import "$CT/image.tar"
[ "$RC" = 0 ] || {
	echo "bench-shim: ctr images import: $ERR" >&2
	exit 1
}

# ------------------------------------------------------ memory per pod
# shim_pid BINARY ID: the shim daemon serving container ID (its argv is
# containerd's: -namespace NS -id ID -address A; the reference's likewise)
shim_pid() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		if { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q "^[^ ]*$1 -namespace $PFX -id $2 "; then
			f=${f#/proc/}
			echo "${f%%/*}"
			return 0
		fi
	done
	return 1
}
# kB FIELD PID FILE
kb() { awk -v f="$1:" '$1 == f { s += $2 } END { print s + 0 }' "/proc/$2/$3"; }
# mem_start SHIM-NAME BINARY I: a detached `sleep` container, its shim's
# pid appended to $CT/pids-SHIM-NAME
mem_start() {
	local id=$PFX-m$1$3
	cl N run -d "${RT[@]}" "$IMG" "$id" sleep 100000
	if [ "$RC" != 0 ]; then
		echo "bench-shim: ctr run -d ($1): $ERR" >&2
		return 1
	fi
	if ! wait_for 10 shim_pid "$2" "$id"; then
		echo "bench-shim: no $2 for $id" >&2
		return 1
	fi
	shim_pid "$2" "$id" >>"$CT/pids-$1"
}
# mem_measure SHIM-NAME: each shim's private memory, Private_Dirty, Pss,
# RSS (kB) and threads, one file each
mem_measure() {
	local pid
	while read -r pid; do
		echo $(($(kb Private_Clean "$pid" smaps_rollup) + $(kb Private_Dirty "$pid" smaps_rollup))) >>"$CT/priv-$1"
		kb Private_Dirty "$pid" smaps_rollup >>"$CT/dirty-$1"
		kb Pss "$pid" smaps_rollup >>"$CT/pss-$1"
		kb VmRSS "$pid" status >>"$CT/rss-$1"
		find "/proc/$pid/task" -mindepth 1 -maxdepth 1 | wc -l >>"$CT/threads-$1"
	done <"$CT/pids-$1"
}
# all MEM_N pods of each shim running at once, as on a node: the shims
# of one kind share their binary's and libraries' clean pages
for ((i = 0; i < MEM_N; i++)); do
	RT=("${RT_rune[@]}")
	mem_start rune containerd-shim-rune-v2 "$i"
	RT=("${RT_runc[@]}")
	mem_start runc containerd-shim-runc-v2 "$i"
done
sleep 2 # let the daemons settle after the starts
mem_measure rune
mem_measure runc
# other engineers' shims of the same binary share its pages too: count them
others_runc=0
for f in /proc/[0-9]*/exe; do
	[ "$(readlink "$f" 2>/dev/null)" = "$(command -v containerd-shim-runc-v2)" ] && others_runc=$((others_runc + 1))
done
others_runc=$((others_runc - MEM_N))
ns_cleanup

# ------------------------------------------------------ ctr run --rm true
_nr=0
run_sample() { # SHIM-NAME [OUT]
	local t0 t1
	_nr=$((_nr + 1))
	t0=$(date +%s%N)
	cl N run --rm "${RT[@]}" "$IMG" "$PFX-r$_nr" /bin/true
	t1=$(date +%s%N)
	if [ "$RC" != 0 ]; then
		echo "bench-shim: ctr run --rm ($1): rc $RC: $ERR" >&2
		ns_cleanup
		return 1
	fi
	[ -n "${2:-}" ] && echo $(((t1 - t0) / 1000)) >>"$CT/$2"
	return 0
}
# one untimed warm-up each (page cache, the image's snapshot)
RT=("${RT_rune[@]}") && run_sample rune
RT=("${RT_runc[@]}") && run_sample runc
for ((i = 0; i < N; i++)); do
	# alternate, the order swapped every round
	for s in $( ((i % 2)) && echo runc rune || echo rune runc); do
		if [ "$s" = rune ]; then RT=("${RT_rune[@]}"); else RT=("${RT_runc[@]}"); fi
		run_sample "$s" "run-$s-$i.us" || true
	done
done

# ------------------------------------------------------ CRI pod start
# one long-lived client (cri.py podstart) times the three calls itself:
# the handlers alternated, order swapped every round, after a warm-up
# start each; each pod is stopped and removed, untimed, before the next.
# Its lines "HANDLER ROUND RUNP CREATE START" (us) go to the same files as
# the other cases: {pod,runp,create,start}-HANDLER-ROUND.us
ctr_config c '"command": ["/bin/true"]'
pod_config p
CLIENT_TIMEOUT=$((60 + N * 30)) cl CRI podstart "$CT/p.pod.json" "$CT/c.ctr.json" --handlers rune,runc -n "$N"
[ "$RC" = 0 ] || echo "bench-shim: pod starts: $ERR" >&2
while read -r h r t1 t2 t3; do
	[ "$r" -ge 0 ] 2>/dev/null || continue
	echo "$t1" >>"$CT/runp-$h-$r.us"
	echo "$t2" >>"$CT/create-$h-$r.us"
	echo "$t3" >>"$CT/start-$h-$r.us"
	echo $((t1 + t2 + t3)) >>"$CT/pod-$h-$r.us"
done <<<"$OUT"

# ------------------------------------------------------ report
# stats FILE...: "median min max count" of the numbers in the files
stats() {
	cat "$@" 2>/dev/null | sort -n | awk '{ v[NR] = $1 }
		END { if (!NR) { print "- - - 0"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      print m, v[1], v[NR], NR }'
}
# pairs CASE: the pair-by-pair ratios rune/runc of the rounds where both ran
pairs() {
	local i
	for ((i = 0; i < N; i++)); do
		[ -s "$CT/$1-rune-$i.us" ] && [ -s "$CT/$1-runc-$i.us" ] &&
			echo "$(cat "$CT/$1-rune-$i.us") $(cat "$CT/$1-runc-$i.us")" | awk '{ printf "%.4f\n", $1 / $2 }'
	done >"$CT/$1.ratio"
}
ms_cell() { # FILE...
	stats "$@" | awk '$4 == 0 { print "n/a"; exit } { printf "%.0f ms (%.0f–%.0f)", $1 / 1000, $2 / 1000, $3 / 1000 }'
}
ratio_cell() { # CASE
	pairs "$1"
	stats "$CT/$1.ratio" | awk '$4 == 0 { print "n/a"; exit } { printf "%.2fx (%.2f–%.2f)", $1, $2, $3 }'
}
verdict() { # VALUE LIMIT
	awk -v v="$1" -v l="$2" 'BEGIN { if (v == "-" || v == "") print "n/a"; else if (v + 0 <= l + 0) print "met"; else print "NOT met" }'
}
read -r priv_rune _ _ _ < <(stats "$CT/priv-rune")
read -r priv_runc _ _ _ < <(stats "$CT/priv-runc")
priv_ratio=$(awk -v a="$priv_rune" -v b="$priv_runc" 'BEGIN { if (a == "-" || b == "-" || !b) print "-"; else printf "%.3f", a / b }')
kib_cell() { stats "$@" | awk '$4 == 0 { print "n/a"; exit } { printf "%.1f MiB (%.1f–%.1f)", $1 / 1024, $2 / 1024, $3 / 1024 }'; }
med_ratio() { stats "$CT/$1.ratio" | awk '$4 == 0 { print "-"; exit } { printf "%.2f", $1 }'; }
out=$BUILD/bench/shim.md
mkdir -p "$BUILD/bench"
{
	echo "containerd-shim-rune-v2 + rune against containerd-shim-runc-v2 + runc ($("$RUNC" --version | head -1)), one private containerd $(containerd --version | awk '{ print $3 }'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs. Memory: median (min–max) of $MEM_N shims each; times: median (min–max) of $N samples each, the shims alternated (order swapped every round); ratio: median (min–max) of the pair-by-pair ratios rune/runc."
	echo
	echo "| case | rune shim + rune | runc shim + runc | ratio |"
	echo "|---|---|---|---|"
	echo "| shim private memory (smaps_rollup Private_Clean + Private_Dirty) | $(kib_cell "$CT/priv-rune") | $(kib_cell "$CT/priv-runc") | ${priv_ratio}x |"
	echo "| ↳ of which Private_Dirty | $(kib_cell "$CT/dirty-rune") | $(kib_cell "$CT/dirty-runc") | |"
	echo "| shim Pss | $(kib_cell "$CT/pss-rune") | $(kib_cell "$CT/pss-runc") | |"
	echo "| shim RSS | $(kib_cell "$CT/rss-rune") | $(kib_cell "$CT/rss-runc") | |"
	echo "| shim threads | $(stats "$CT/threads-rune" | cut -d' ' -f1) | $(stats "$CT/threads-runc" | cut -d' ' -f1) | |"
	echo "| \`ctr run --rm\` /bin/true | $(ms_cell "$CT"/run-rune-*.us) | $(ms_cell "$CT"/run-runc-*.us) | $(ratio_cell run) |"
	echo "| CRI pod start (RunPodSandbox + CreateContainer + StartContainer) | $(ms_cell "$CT"/pod-rune-*.us) | $(ms_cell "$CT"/pod-runc-*.us) | $(ratio_cell pod) |"
	for c in runp:RunPodSandbox create:CreateContainer start:StartContainer; do
		echo "| ↳ ${c#*:} | $(ms_cell "$CT"/"${c%%:*}"-rune-*.us) | $(ms_cell "$CT"/"${c%%:*}"-runc-*.us) | $(ratio_cell "${c%%:*}") |"
	done
	echo
	echo "Memory: the $MEM_N shims of each kind run at once (they share their binary's clean pages); $others_runc other containerd-shim-runc-v2 processes were running on the host, sharing its pages too (they lower the reference's Private_Clean and Pss)."
	echo
	echo "Issue 14's targets on this run:"
	echo "- private memory <= 1/5 of the reference's: ${priv_ratio}x, $(verdict "$priv_ratio" 0.2)"
	echo "- \`ctr run --rm\` <= 0.8x: $(med_ratio run)x, $(verdict "$(med_ratio run)" 0.8)"
	echo "- CRI pod start <= 0.8x: $(med_ratio pod)x, $(verdict "$(med_ratio pod)" 0.8)"
} | tee "$out"
