#!/bin/bash
# timeout: 120
# EPC limits (docs/epc.md): the skeleton enclave container runs under a limit
# it fits (annotation sgx.intel.com/epc, process.env SGX_EPC_LIMIT, both: the
# smaller applies) and is refused under one it does not, with the limit and
# the enclave's size on rune's stderr and in its JSON log; a bad quantity is
# a config error naming the field; `rune state` shows rune.epc.limit and
# rune.epc.usage; the host-wide registry ($SGX_EPC_DIR) holds the running
# container's entry (sgx-tools epc sums it, paged beyond the EPC) and nothing
# once it is deleted. Limits in rune: `rune state` ("epc") and `events
# --stats` (data.epc) show usage and limit; `rune update --epc-limit` lowers
# the limit so the next enclave of a running container (made by
# libtestpal-epc.so at `rune exec ID epc enclave`) is refused, and raises it
# to let one through; a running `events` sees the change; bad values are
# one-line errors.
. "$(dirname "$0")/lib.sh"

need_builds "$SKELLIB/liberpal-skeleton-v3.so" "$SKELDIR/encl.elf" "$SKELDIR/encl.ss" "$BUILD/bin/sgx-tools" \
	"$PALDIR/libtestpal-epc.so"

GREETING="Hello from the skeleton enclave!"

skel() { # KEY=VALUE... for process.env
	fast_bundle "c$((_nfb + 1))" -- ENCLAVE_TYPE=intelSgx \
		ENCLAVE_RUNTIME_PATH="$SKELLIB/liberpal-skeleton-v3.so" "$@"
	cfg_set .process.cwd '"/srv"'
	cfg_args skeleton hello
}

# st_annot KEY < STATE: an annotation of rune state's output ("" if absent)
st_annot() { "$PY" -c 'import json, sys; print(json.load(sys.stdin).get("annotations", {}).get(sys.argv[1], ""))' "$1"; }

# entries in the registry (dead ones included: nothing reaps them here; not
# the paging model's .paging)
entries() { find "$SGX_EPC_DIR" -mindepth 1 ! -name '.*' 2>/dev/null | wc -l; }

t_fits() {
	skel
	annot_set sgx.intel.com/epc 1Mi
	ct_run
	assert_rc 0 "run under 1Mi"
	assert_eq "$GREETING" "$OUT" "stdout"
	assert_nothing_left "$ID"
	skel SGX_EPC_LIMIT=1
	ct_run
	assert_rc 0 "run under SGX_EPC_LIMIT=1 (MiB)"
	assert_eq "$GREETING" "$OUT" "stdout"
	assert_nothing_left "$ID"
	assert_eq 0 "$(entries)" "registry entries after the runs"
}

t_refused() {
	skel
	annot_set sgx.intel.com/epc 8192
	rtc --log "$T/log.json" --log-format json run --bundle "$B" "$ID"
	assert_fails "run under 8192 bytes"
	assert_contains "EPC limit exceeded: container $ID, limit 8 KiB (annotation sgx.intel.com/epc), request " "$ERR" "stderr"
	grep -q '"level":"error".*EPC limit exceeded: container [^,]*, limit 8 KiB' "$T/log.json" ||
		fail "not in the JSON log: $(cat "$T/log.json")"
	assert_not_contains "$GREETING" "$OUT" "stdout"
	assert_nothing_left "$ID"
	assert_eq 0 "$(entries)" "registry entries after the refusal"
	# both set: the smaller (the annotation's) applies, and is the one named
	skel SGX_EPC_LIMIT=1024
	annot_set sgx.intel.com/epc 8Ki
	rtc run --bundle "$B" "$ID"
	assert_fails "run under 8Ki and 1024 MiB"
	assert_contains "limit 8 KiB (annotation sgx.intel.com/epc)" "$ERR" "stderr"
	assert_nothing_left "$ID"
}

t_bad_quantity() {
	local q
	for q in lots -1 1MiB 0; do
		skel
		annot_set sgx.intel.com/epc "$q"
		rtc run --bundle "$B" "$ID"
		assert_fails "annotation '$q'"
		assert_clear_error "annotation sgx.intel.com/epc: \"$q\" is not a positive quantity" "annotation '$q'"
		assert_nothing_left "$ID"
	done
	for q in abc 1Mi 0; do
		skel SGX_EPC_LIMIT="$q"
		rtc run --bundle "$B" "$ID"
		assert_fails "SGX_EPC_LIMIT=$q"
		assert_clear_error "process.env SGX_EPC_LIMIT: \"$q\" is not a positive number of MiB" "SGX_EPC_LIMIT=$q"
		assert_nothing_left "$ID"
	done
}

t_state_and_registry() {
	local st pages
	# the smaller of 1 GiB and 2 MiB
	skel SGX_EPC_LIMIT=2
	annot_set sgx.intel.com/epc 1Gi
	ct_create
	rtc state "$ID"
	assert_rc 0 state
	st=$OUT
	assert_eq 2097152 "$(echo "$st" | st_annot rune.epc.limit)" "rune.epc.limit"
	# the enclave exists from create on: its pages (SECS and image) in use
	pages=$(awk 'FNR == 1 { s += $1 } END { print s }' "$SGX_EPC_DIR"/*)
	[ "$pages" -gt 1 ] || fail "registry pages: $pages ($(entries) entries)"
	assert_eq 1 "$(entries)" "one registry entry"
	assert_eq $((pages * 4096)) "$(echo "$st" | st_annot rune.epc.usage)" "rune.epc.usage"
	# sgx-tools epc: the host's sum, and what lies beyond a 4 KiB EPC is paged
	assert_eq "{\"size\": 4096, \"usage\": $((pages * 4096)), \"processes\": 1, \"paged\": $((pages * 4096 - 4096)), \"evictions\": 0, \"reloads\": 0, \"paging_ns\": 0}" \
		"$(SGX_EMU_EPC_SIZE=4Ki "$BUILD/bin/sgx-tools" epc --json)" "sgx-tools epc --json"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	assert_nothing_left "$ID"
	assert_eq 0 "$(entries)" "registry entries after delete"
	assert_contains "processes: 0" "$("$BUILD/bin/sgx-tools" epc)" "sgx-tools epc after delete"
	# no limit: no rune.epc.limit, the usage all the same
	skel
	ct_create
	rtc state "$ID"
	assert_not_contains "rune.epc.limit" "$OUT" "state without a limit"
	assert_contains "rune.epc.usage" "$OUT" "state without a limit"
	rtc start "$ID"
	assert_rc 0 start
	for ((i = 0; i < 50; i++)); do
		rtc state "$ID"
		[[ $OUT == *'"stopped"'* ]] && break
		sleep 0.1
	done
	assert_not_contains "rune.epc.usage" "$OUT" "state once stopped"
	rtc delete "$ID"
	assert_rc 0 delete
	assert_nothing_left "$ID"
	assert_eq 0 "$(entries)" "registry entries after delete"
}

# epcpal: a container of libtestpal-epc.so (the skeleton's
# enclave at create, one more per `rune exec ID epc enclave`), running
# "sleep 20" once started
epcpal() {
	fast_bundle "c$((_nfb + 1))" -- ENCLAVE_TYPE=intelSgx \
		ENCLAVE_RUNTIME_PATH="$PALDIR/libtestpal-epc.so" ENCLAVE_RUNTIME_ARGS=/srv
	cfg_args epc sleep 20
}

# jfield EXPR < JSON: a python expression over d (the JSON), printed
jfield() { "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# usage_now: the bytes the container's registry entry holds (its only one)
usage_now() { echo $(($(awk 'FNR == 1 { s += $1 } END { print s }' "$SGX_EPC_DIR"/*) * 4096)); }

# state_epc WANT WHAT: `rune state ID` succeeds, its epc usage and limit are WANT ("USAGE LIMIT")
state_epc() {
	rtc state "$ID"
	assert_rc 0 state
	assert_eq "$1" "$(echo "$OUT" | jfield 'd["epc"]["usage"], d["epc"]["limit"]' | tr -d '(),')" "$2"
}

# events_epc WANT WHAT: `rune events --stats ID` succeeds, its data.epc usage and limit are WANT
events_epc() {
	rtc events --stats "$ID"
	assert_rc 0 "events --stats"
	assert_eq "$1" "$(echo "$OUT" | jfield 'd["data"]["epc"]["usage"], d["data"]["epc"]["limit"]' | tr -d '(),')" "$2"
}

# epc_started: the epc PAL's container under the annotation's 1Mi, started;
# its first enclave's bytes in the caller's $one
epc_started() {
	epcpal
	annot_set sgx.intel.com/epc 1Mi
	ct_create
	rtc start "$ID"
	assert_rc 0 start
	one=$(usage_now)
	[ "$one" -gt 4096 ] || fail "usage after create: $one"
}

t_update() {
	local one
	epc_started
	# state and events --stats: usage and limit, in bytes
	state_epc "$one 1048576" "state epc"
	events_epc "$one 1048576" "events data.epc"
	assert_contains '"memory"' "$OUT" "events --stats keeps runc's keys"
	# the next enclave fits under 1Mi
	rtc exec "$ID" epc enclave
	assert_rc 0 "exec epc enclave under 1Mi: $ERR"
	assert_eq "enclave made" "$OUT" "exec stdout"
	assert_eq $((2 * one)) "$(usage_now)" "usage after the second enclave"
	# lowered to what is in use: accepted, kept in the state; the next enclave is refused
	rtc update --epc-limit $((2 * one)) "$ID"
	assert_rc 0 "update --epc-limit $((2 * one)): $ERR"
	state_epc "$((2 * one)) $((2 * one))" "state epc after update"
	assert_eq "$((2 * one))" "$(echo "$OUT" | st_annot rune.epc.limit)" "rune.epc.limit after update"
	rtc exec "$ID" epc enclave
	assert_fails "exec epc enclave at the limit"
	assert_contains "EPC limit exceeded: container $ID, limit $((2 * one / 1024)) KiB (rune update --epc-limit), request $((one / 1024)) KiB, in use $((2 * one / 1024)) KiB" "$ERR" "the refusal"
	assert_eq $((2 * one)) "$(usage_now)" "usage after the refusal"
	# below the usage: accepted, nothing taken back, still refused
	rtc update --epc-limit 8Ki "$ID"
	assert_rc 0 "update --epc-limit 8Ki (below the usage): $ERR"
	events_epc "$((2 * one)) 8192" "events data.epc after update"
	rtc exec "$ID" epc enclave
	assert_fails "exec epc enclave under 8Ki"
	assert_contains "EPC limit exceeded: container $ID, limit 8 KiB (rune update --epc-limit)" "$ERR" "the refusal"
	# raised: the next one goes through
	rtc update --epc-limit 64Mi "$ID"
	assert_rc 0 "update --epc-limit 64Mi: $ERR"
	rtc exec "$ID" epc enclave
	assert_rc 0 "exec epc enclave under 64Mi: $ERR"
	assert_eq $((3 * one)) "$(usage_now)" "usage after the third enclave"
	state_epc "$((3 * one)) 67108864" "state epc at the end"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	assert_nothing_left "$ID"
	assert_eq 0 "$(entries)" "registry entries after delete"
}

t_update_no_limit_yet() {
	local evpid i
	# no limit at create: update (before start) sets one, which the next enclave meets
	epcpal
	ct_create
	rtc state "$ID"
	assert_eq "None" "$(echo "$OUT" | jfield 'd["epc"].get("limit")')" "no limit in the state"
	rtc update --epc-limit 4096 "$ID"
	assert_rc 0 "update --epc-limit 4096 (created): $ERR"
	rtc start "$ID"
	assert_rc 0 start
	rtc state "$ID"
	assert_eq "4096 running" "$(echo "$OUT" | jfield 'd["epc"]["limit"], d["status"]' | tr -d "(),'")" "state after update"
	# a running `events` sees a later update (timeout's pid in $!: killing it ends rune too)
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" events --interval 100ms "$ID" \
		>"$T/events.out" 2>&1 &
	evpid=$!
	for ((i = 0; i < 30; i++)); do
		[ -s "$T/events.out" ] && break
		sleep 0.1
	done
	rtc update --epc-limit 8Ki "$ID"
	assert_rc 0 "update --epc-limit 8Ki (running): $ERR"
	for ((i = 0; i < 30; i++)); do
		grep -q '"epc":{"usage":[0-9]*,"limit":8192[,}]' "$T/events.out" && break
		sleep 0.1
	done
	kill "$evpid" 2>/dev/null || true
	wait "$evpid" || true
	grep -q '"epc":{"usage":[0-9]*,"limit":4096[,}]' "$T/events.out" || fail "events before the update: $(head -2 "$T/events.out")"
	grep -q '"epc":{"usage":[0-9]*,"limit":8192[,}]' "$T/events.out" || fail "events after the update: $(tail -2 "$T/events.out")"
	rtc exec "$ID" epc enclave
	assert_fails "exec epc enclave under 8Ki"
	assert_contains "EPC limit exceeded: container $ID, limit 8 KiB (rune update --epc-limit)" "$ERR" "the refusal"
	rtc delete --force "$ID"
	assert_nothing_left "$ID"
}

t_update_remove() {
	local one
	# the config's limit fits one enclave; lowered, the next is refused; "max" removes it
	epc_started
	rtc update --epc-limit 8Ki "$ID"
	assert_rc 0 "update --epc-limit 8Ki: $ERR"
	rtc exec "$ID" epc enclave
	assert_fails "exec epc enclave under 8Ki"
	rtc update --epc-limit max "$ID"
	assert_rc 0 "update --epc-limit max: $ERR"
	rtc state "$ID"
	assert_eq "None" "$(echo "$OUT" | jfield 'd["epc"].get("limit")')" "no limit in the state"
	assert_eq "" "$(echo "$OUT" | st_annot rune.epc.limit)" "no rune.epc.limit annotation"
	assert_eq "0 rune update --epc-limit" "$(sed -n 2p "$SGX_EPC_DIR"/* | tr -s ' ' | sed 's/ $//')" "the registry entry's limit line"
	# neither the update's 8Ki nor the annotation's 1Mi holds any more
	rtc exec "$ID" epc enclave
	assert_rc 0 "exec epc enclave without a limit: $ERR"
	rtc exec "$ID" epc enclave
	assert_rc 0 "exec another epc enclave without a limit (past the annotation's 1Mi): $ERR"
	assert_eq $((3 * one)) "$(usage_now)" "usage after two more enclaves"
	rtc events --stats "$ID"
	assert_eq "$((3 * one)) None" "$(echo "$OUT" | jfield 'd["data"]["epc"]["usage"], d["data"]["epc"].get("limit")' | tr -d '(),')" "events data.epc without a limit"
	# and a limit can be set again
	rtc update --epc-limit $((3 * one)) "$ID"
	assert_rc 0 "update --epc-limit after max: $ERR"
	rtc exec "$ID" epc enclave
	assert_fails "exec epc enclave at the new limit"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	assert_nothing_left "$ID"
	assert_eq 0 "$(entries)" "registry entries after delete"
}

t_skeleton_running() {
	local used
	skel
	annot_set sgx.intel.com/epc 1Mi
	cfg_args skeleton sleep 20
	ct_create
	rtc start "$ID"
	assert_rc 0 start
	used=$(usage_now)
	[ "$used" -gt 4096 ] || fail "usage: $used"
	rtc state "$ID"
	assert_eq "running $used 1048576" "$(echo "$OUT" | jfield 'd["status"], d["epc"]["usage"], d["epc"]["limit"]' | tr -d "(),'")" "state"
	events_epc "$used 1048576" "events data.epc"
	rtc update --epc-limit 2Mi "$ID"
	assert_rc 0 "update --epc-limit 2Mi: $ERR"
	state_epc "$used 2097152" "state after update"
	assert_eq "2097152 rune update --epc-limit" "$(sed -n 2p "$SGX_EPC_DIR"/* | tr -s ' ' | sed 's/ $//')" "the registry entry's limit line"
	rtc delete --force "$ID"
	assert_rc 0 "delete --force"
	assert_nothing_left "$ID"
}

t_update_errors() {
	local q
	epcpal
	ct_create
	for q in lots -1 0 1MiB "" MAX maximum; do
		rtc update --epc-limit "$q" "$ID"
		assert_fails "update --epc-limit '$q'"
		# a usage error: the reason, then the CLI's pointer to --help
		assert_eq "rune update: invalid value for --epc-limit: \"$q\" is not a positive quantity (8192, 64Mi, 1Gi) or max" \
			"$(echo "$ERR" | head -1)" "--epc-limit '$q'"
		assert_eq "Try 'rune update --help'." "$(echo "$ERR" | sed -n 2p)" "--epc-limit '$q'"
	done
	rtc state "$ID"
	assert_eq "None" "$(echo "$OUT" | jfield 'd["epc"].get("limit")')" "no limit after bad updates"
	rtc update --epc-limit 1Mi "nosuch-$ID"
	assert_fails "update of a missing container"
	[ "$(echo "$ERR" | wc -l)" = 1 ] || fail "not one line: $ERR"
	rtc delete --force "$ID"
	# an ordinary container has no EPC limit
	fast_bundle
	cfg_args sleep 20
	ct_create
	rtc update --epc-limit 1Mi "$ID"
	assert_fails "update --epc-limit of an ordinary container"
	assert_clear_error "--epc-limit: container \"$ID\" is not an enclave container" "ordinary container"
	rtc state "$ID"
	assert_not_contains '"epc"' "$OUT" "an ordinary container's state"
	rtc delete --force "$ID"
	assert_nothing_left "$ID"
}

# with_config JSON CMD...: CMD in a private mount namespace whose /etc (an
# overlay over the host's) has /etc/rune/config.json = JSON; never the host's.
with_config() {
	local json=$1
	shift
	mkdir -p "$T/etc-up" "$T/etc-work"
	rm -rf "$T/etc-up"/* "$T/etc-work"/*
	unshare -m --propagation private bash -c '
		mount -t overlay overlay -o lowerdir=/etc,upperdir="$1",workdir="$2" /etc || exit 99
		mkdir -p /etc/rune && printf "%s\n" "$3" >/etc/rune/config.json && chmod 0644 /etc/rune/config.json
		shift 3
		exec "$@"' _ "$T/etc-up" "$T/etc-work" "$json" "$@"
}

t_epc_size() {
	local q
	for q in '"lots"' 0 '[1]'; do
		skel
		RC=0
		with_config "{\"emulator\": {\"epc_size\": $q}}" "$RUNTIME" --root "$ROOT" --pal-dir "$SKELLIB" \
			run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" || RC=$?
		ERR=$(cat "$T/err")
		[ "$RC" != 99 ] || fail "no overlay mount over /etc here"
		assert_fails "epc_size $q"
		assert_clear_error "/etc/rune/config.json: emulator.epc_size: not a positive number of bytes or a quantity" "epc_size $q"
		assert_nothing_left "$ID"
	done
	for q in '"128Mi"'; do
		skel
		RC=0
		with_config "{\"emulator\": {\"epc_size\": $q}}" "$RUNTIME" --root "$ROOT" --pal-dir "$SKELLIB" \
			run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" || RC=$?
		assert_rc 0 "run with epc_size $q: $(cat "$T/err")"
		assert_eq "$GREETING" "$(cat "$T/out")" "stdout"
		assert_nothing_left "$ID"
	done
	# emulator.epc_paging_delay: a boolean
	for q in '"yes"' 1 null; do
		skel
		RC=0
		with_config "{\"emulator\": {\"epc_paging_delay\": $q}}" "$RUNTIME" --root "$ROOT" --pal-dir "$SKELLIB" \
			run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" || RC=$?
		ERR=$(cat "$T/err")
		assert_fails "epc_paging_delay $q"
		assert_clear_error "/etc/rune/config.json: emulator.epc_paging_delay: not true or false" "epc_paging_delay $q"
		assert_nothing_left "$ID"
	done
	skel
	RC=0
	with_config '{"emulator": {"epc_paging_delay": true, "epc_size": "64Ki"}}' "$RUNTIME" --root "$ROOT" \
		--pal-dir "$SKELLIB" run --bundle "$B" "$ID" >"$T/out" 2>"$T/err" || RC=$?
	assert_rc 0 "run with epc_paging_delay true past the EPC: $(cat "$T/err")"
	assert_eq "$GREETING" "$(cat "$T/out")" "stdout"
	assert_nothing_left "$ID"
}

# paging: two skeleton containers on an EPC with room for both and 28
# pages more: the second is not refused; the paging model evicts (below 32
# free, up to 64 in batches of 16: 48 pages, all of the first's, the least
# recently active, then the second's); sgx-tools epc and rune state show
# pages out and a modelled cost; the first, entering its enclave, loads
# its pages back; a limit still refuses.
t_paging() {
	local one first st want i
	skel
	cfg_args skeleton sleep 20
	ct_create
	one=$(usage_now)
	first=$ID
	rtc delete --force "$first"
	export SGX_EMU_EPC_SIZE=$((2 * one + 28 * 4096))
	skel
	cfg_args skeleton sleep 20
	ct_create
	first=$ID
	assert_eq "0 0" "$("$BUILD/bin/sgx-tools" epc --json | jfield 'd["evictions"], d["paged"]' | tr -d '(),')" "one container: nothing out"
	skel
	cfg_args skeleton sleep 20
	ct_create
	st=$("$BUILD/bin/sgx-tools" epc --json)
	assert_eq "$((2 * one)) 2" "$(echo "$st" | jfield 'd["usage"], d["processes"]' | tr -d '(),')" "sgx-tools epc: both"
	want=48
	assert_eq "$want $((want * 4096)) $((want * 10000))" "$(echo "$st" | jfield 'd["evictions"], d["paged"], d["paging_ns"]' | tr -d '(),')" "sgx-tools epc: evicted"
	# the first (entered least recently) went first: all its pages
	rtc state "$first"
	assert_eq "$one $one $((one / 4096)) 0" "$(echo "$OUT" | jfield 'd["epc"]["usage"], d["epc"]["paged"], d["epc"]["evictions"], d["epc"]["reloads"]' | tr -d '(),')" "the first's state"
	# started, it enters its enclave: its pages come back
	rtc start "$first"
	assert_rc 0 "start the first"
	for ((i = 0; i < 50; i++)); do
		rtc events --stats "$first"
		[ "$(echo "$OUT" | jfield 'd["data"]["epc"]["reloads"]')" = $((one / 4096)) ] && break
		sleep 0.1
	done
	assert_eq "0 $((one / 4096))" "$(echo "$OUT" | jfield 'd["data"]["epc"]["paged"], d["data"]["epc"]["reloads"]' | tr -d '(),')" "the first's events --stats after its entry"
	[ "$(echo "$OUT" | jfield 'd["data"]["epc"]["paging_ns"]')" -ge $((one / 4096 * 10000)) ] ||
		fail "the first's modelled time: $OUT"
	assert_contains '"reloads": '$((one / 4096)) "$("$BUILD/bin/sgx-tools" epc --json)" "sgx-tools epc: reloads"
	# a limit still refuses, past the EPC or not
	skel
	annot_set sgx.intel.com/epc 8Ki
	rtc run --bundle "$B" "$ID"
	assert_fails "run under 8Ki past the EPC"
	assert_contains "EPC limit exceeded: container $ID, limit 8 KiB" "$ERR" "the refusal"
	assert_nothing_left "$ID"
}

tcase "a container within its EPC limit runs" t_fits
tcase "a container past its EPC limit is refused, the limit named" t_refused
tcase "a bad EPC limit is a config error naming the field" t_bad_quantity
tcase "emulator.epc_size and epc_paging_delay in /etc/rune/config.json: checked, a bad one names the field" t_epc_size
tcase "rune state: rune.epc.limit and usage; the registry entry goes with the container" t_state_and_registry
tcase "state/events show epc usage and limit; update --epc-limit lowers and raises it for the next enclave" t_update
tcase "update --epc-limit sets a limit on a created container that had none" t_update_no_limit_yet
tcase "update --epc-limit max removes the limit (the config's and an update's)" t_update_remove
tcase "a running skeleton container: state and events --stats show its EPC; update reaches it" t_skeleton_running
tcase "update --epc-limit: bad values, missing and ordinary containers are one-line errors" t_update_errors
tcase "past the EPC: the paging model evicts, reports, and reloads on entry; limits still refuse" t_paging
