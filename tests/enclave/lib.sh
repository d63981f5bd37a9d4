# shellcheck shell=bash
# Helpers for tests/enclave/test-*.sh, on top of tests/integration/lib.sh
# (tcase, bundles, config editing, rtc, leftover checks; read it first).
#
#   PALDIR       the recording test PALs ($BUILD/tests-pal, mk/50-enclave-tests.mk)
#   SKELDIR      the skeleton's enclave ($BUILD/share/skeleton: encl.elf, encl.ss)
#   rt/rtc       the runtime with --pal-dir for both $PALDIR and $BUILD/lib
#                (EXTRA_PAL_DIRS adds more, NO_PAL_DIRS=1 drops those two)
#   RFS          the one rootfs every bundle shares (read-only in containers;
#                /srv holds the skeleton's encl.elf and encl.ss)
#   fast_bundle [NAME] [-- KEY=VALUE...]   a bundle ($B: config.json only,
#                $ID) with a fresh /share bind mount ($SH on the host)
#   enclave_bundle PAL [ARGS]     the same, an enclave container through
#                process.env; ARGS become ENCLAVE_RUNTIME_ARGS
#   env_set/env_del/annot_set     process.env and annotation edits
#   plog EXPR    a python expression over L, the test PAL's log ($SH/pal.log:
#                a list of dicts, one a call), printed (strings raw, else JSON)
#   calls, recf CALL FIELD, wait_log_call CALL   the log's calls, a field
#   rune_pid_of PATTERN   the rune process (not timeout, not init-runelet)
#   subreaper_exec        waits for the process `exec --detach --pid-file` names
# A failing case prints the PAL's log; each case prints its duration.

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

PALDIR=${PALDIR:-$BUILD/tests-pal}
SKELDIR=$BUILD/share/skeleton
SKELLIB=$BUILD/lib

# EXTRA_PAL_DIRS (space separated) adds --pal-dir flags; NO_PAL_DIRS=1 drops ours.
rt() {
	local pd=() d
	[ -n "${NO_PAL_DIRS:-}" ] || pd=(--pal-dir "$PALDIR" --pal-dir "$SKELLIB")
	for d in ${EXTRA_PAL_DIRS:-}; do pd+=(--pal-dir "$d"); done
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" "${pd[@]}" "$@"
}

# The emulator's machine secret: our own, not the host's default.
export SGX_EMU_SECRET=$T/sgx-emu-secret
# The EPC registry: ours (init-runelet makes it), not the host's /run/rune-epc.
export SGX_EPC_DIR=$T/epc

# _cfg_edit OP KEY [VALUE]: process.env and annotations edits, values passed as is
_cfg_edit() {
	"$PY" - "$B/config.json" "$@" <<-'EOF'
		import json, sys
		f, op, key = sys.argv[1:4]
		val = sys.argv[4] if len(sys.argv) > 4 else None
		c = json.load(open(f))
		env = c["process"].setdefault("env", [])
		if op in ("env_set", "env_del"):
		    env[:] = [e for e in env if not e.startswith(key + "=")]
		    if op == "env_set":
		        env.append(key + "=" + val)
		elif op == "annot_set":
		    c.setdefault("annotations", {})[key] = val
		json.dump(c, open(f, "w"), indent=2)
	EOF
}
# env_set KEY VALUE, env_del KEY: process.env; annot_set KEY VALUE: annotations
env_set() { _cfg_edit env_set "$1" "$2"; }
env_del() { _cfg_edit env_del "$1"; }
annot_set() { _cfg_edit annot_set "$1" "$2"; }

# add_share: as tests/integration/lib.sh's, but the dir starts empty (bundle
# names repeat from one case to the next: each case runs in a subshell).
add_share() {
	SH=$T/share/${B##*/}
	rm -rf "$SH"
	mkdir -p "$SH"
	chmod 0777 "$SH"
	cfg_append .mounts "{\"destination\":\"/share\",\"type\":\"bind\",\"source\":\"$SH\",\"options\":[\"rbind\",\"rw\"]}"
}

# One rootfs for every bundle (read-only in the containers): copying one per
# bundle costs more than the runs.  /srv holds the skeleton's enclave.
RFS=$T/rootfs.tmpl
mkdir -p "$RFS/srv" "$RFS/enclave"
[ ! -e "$SKELDIR/encl.ss" ] || cp "$SKELDIR/encl.elf" "$SKELDIR/encl.ss" "$RFS/srv/"

# fast_bundle [NAME]: $B (config.json only, root.path=$RFS) and $ID, with a
# fresh /share bind mount ($SH); KEY=VALUE arguments after -- go to process.env.
_nfb=0
fast_bundle() {
	_nfb=$((_nfb + 1))
	local name=${1:-c$_nfb}
	[ $# -gt 0 ] && shift
	[ "${1:-}" = -- ] && shift
	B=$T/b/$name
	ID=$PFX-$name
	SH=$T/share/$name
	rm -rf "$B" "$SH"
	mkdir -p "$B" "$SH"
	chmod 0777 "$SH"
	"$PY" - "$LIB_DIR" "$B/config.json" "$RFS" "$SH" "$@" <<-'EOF'
		import json, sys
		sys.path.insert(0, sys.argv[1])
		import ocicfg
		c = ocicfg.default_config(["true"])
		c["root"]["path"] = sys.argv[3]
		c["mounts"].append({"destination": "/share", "type": "bind", "source": sys.argv[4], "options": ["rbind", "rw"]})
		c["process"]["env"] += sys.argv[5:]
		json.dump(c, open(sys.argv[2], "w"), indent=2)
	EOF
}

# enclave_bundle PAL-FILE [ARGS]: PAL-FILE is a path, or a variant name of
# $PALDIR/libtestpal-NAME.so.  Default args: log=/share/pal.log.
enclave_bundle() {
	local pal=$1
	[[ $pal == */* ]] || pal=$PALDIR/libtestpal-$pal.so
	fast_bundle "${BNAME:-c$((_nfb + 1))}" -- ENCLAVE_TYPE=intelSgx ENCLAVE_RUNTIME_PATH="$pal" \
		ENCLAVE_RUNTIME_ARGS="${2-log=/share/pal.log}"
	PAL=$pal
}

plog() {
	"$PY" - "$SH/pal.log" "$1" <<-'EOF'
		import json, sys
		L = []
		try:
		    for line in open(sys.argv[1], encoding="latin-1"):
		        L.append(json.loads(line))
		except FileNotFoundError:
		    pass
		r = eval(sys.argv[2])
		print(r if isinstance(r, str) else json.dumps(r))
	EOF
}
calls() { plog '" ".join(r["call"] for r in L)'; }
# rec CALL [N]: the Nth (default first) record of CALL, as JSON
rec() { plog "[r for r in L if r['call'] == '$1'][${2:-0}]"; }
# recf CALL FIELD-EXPR: a field of the first record of CALL (python subscript, e.g. "['argv']")
recf() { plog "[r for r in L if r['call'] == '$1'][${3:-0}]$2"; }

# wait_log_call CALL [SECONDS]: until the log has a record of CALL
wait_log_call() {
	local i n=$((${2:-10} * 10))
	for ((i = 0; i < n; i++)); do
		[[ " $(calls) " == *" $1 "* ]] && return 0
		sleep 0.1
	done
	fail "the PAL log has no '$1' call (calls: $(calls))"
}

# dump the log on failure, for diagnosis
show_log() {
	[ -s "${SH:-/nonexistent}/pal.log" ] || return 0
	plog '"\n".join("# pal: %s" % json.dumps({k: v for k, v in r.items() if k not in ("status",)})[:400] for r in L)'
}

# a failing case shows the PAL's log
eval "_it_$(declare -f fail)"
fail() {
	show_log
	_it_fail "$@"
}

# each case's duration after its result line
eval "_it_$(declare -f tcase)"
tcase() {
	local start=$EPOCHREALTIME
	_it_tcase "$@"
	[ -n "${CASES:-}" ] && ! [[ $1 =~ $CASES ]] && return 0
	echo "# $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }')"
}

# The test PALs and the skeleton must exist (make all); runc hosts no enclaves.
need_builds() {
	local f
	if [ "$IS_RUNC" = 1 ]; then
		echo "skip - $_script (runc has no enclave containers)"
		exit 0
	fi
	for f in "$@"; do
		if [ ! -e "$f" ]; then
			echo "skip - $_script ($f is missing: make all)"
			exit 0
		fi
	done
}

# rune_pid_of PATTERN: the `rune run` process of ID: timeout's child (rune runs
# from a memfd copy of itself, and init-runelet is a clone with the same cmdline)
rune_pid_of() {
	local p pp
	for p in $(pgrep -f -- "$1"); do
		pp=$(awk '{print $4}' /proc/"$p"/stat 2>/dev/null) || continue
		[ "$(cat /proc/"$pp"/comm 2>/dev/null)" = timeout ] && echo "$p" && return 0
	done
	fail "no rune process for $1"
}

# subreaper_exec PIDFILE SIG DELAY CMD...: run CMD (a `rune exec --detach
# --pid-file PIDFILE ...`) as a child subreaper, so the process named by
# PIDFILE becomes our child; after DELAY seconds send it SIG (0: none); wait
# for it.  Prints "rc=<CMD's status> proxy=<the process's exit code>".
subreaper_exec() {
	"$PY" - "$@" <<-'EOF'
		import ctypes, os, subprocess, sys, time
		pidfile, sig, delay, cmd = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
		ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
		rc = subprocess.call(cmd)
		if rc != 0:
		    print("rc=%d proxy=none" % rc)
		    sys.exit(0)
		pid = int(open(pidfile).read().strip())
		if sig:
		    time.sleep(delay)
		    os.kill(pid, sig)
		deadline = time.time() + 20
		while time.time() < deadline:
		    p, st = os.waitpid(-1, os.WNOHANG)
		    if p == pid:
		        print("rc=%d proxy=%d" % (rc, os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)))
		        sys.exit(0)
		    if p == 0:
		        time.sleep(0.05)
		print("rc=%d proxy=timeout" % rc)
	EOF
}
