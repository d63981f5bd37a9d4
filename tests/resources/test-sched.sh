#!/bin/bash
# timeout: 120
# process.scheduler, process.ioPriority and linux.personality seen from
# inside the container (/proc/self/sched, ionice, uname -m).  runc 1.1.5
# predates all three (runc 1.2 added them) and ignores them: against runc
# these cases skip as "runc differs".
. "$(dirname "$0")/lib.sh"

t_sched_batch() {
	res_bundle
	cfg_set .process.scheduler '{"policy": "SCHED_BATCH", "nice": 7}'
	cfg_sh 'awk "/^policy/ { print \$3 }" /proc/self/sched; cut -d" " -f19 /proc/self/stat'
	ct_run
	assert_rc 0 run
	[ "$(echo "$OUT" | sed -n 1p)" = 3 ] || differs_from_runc "policy $(echo "$OUT" | sed -n 1p), expected 3 (SCHED_BATCH)"
	assert_eq 7 "$(echo "$OUT" | sed -n 2p)" "nice"
	assert_cg_gone
}

t_sched_idle() {
	res_bundle
	cfg_set .process.scheduler '{"policy": "SCHED_IDLE"}'
	cfg_sh 'awk "/^policy/ { print \$3 }" /proc/self/sched'
	ct_run
	assert_rc 0 run
	[ "$OUT" = 5 ] || differs_from_runc "policy $OUT, expected 5 (SCHED_IDLE)"
	assert_cg_gone
}

t_sched_bad() {
	res_bundle
	cfg_set .process.scheduler '{"policy": "SCHED_NOSUCH"}'
	cfg_args true
	ct_run
	[ "$RC" = 0 ] && differs_from_runc "unknown scheduler policy accepted"
	assert_fails "unknown scheduler policy"
	assert_clear_error "SCHED_NOSUCH|scheduler|policy" "unknown scheduler policy"
	assert_nothing_left "$ID"
	assert_cg_gone
}

t_ioprio() {
	res_bundle
	cfg_set .process.ioPriority '{"class": "IOPRIO_CLASS_BE", "priority": 3}'
	cfg_sh 'ionice -p $$'
	ct_run
	assert_rc 0 run
	[[ $OUT == *"best-effort: prio 3"* ]] || differs_from_runc "ionice: '$OUT', expected best-effort: prio 3"
	res_bundle idle
	cfg_set .process.ioPriority '{"class": "IOPRIO_CLASS_IDLE"}'
	cfg_sh 'ionice -p $$'
	ct_run
	assert_rc 0 run
	assert_contains idle "$OUT" "ionice with IOPRIO_CLASS_IDLE"
	assert_cg_gone
}

t_personality() {
	res_bundle
	cfg_set .linux.personality '{"domain": "LINUX32"}'
	cfg_sh 'uname -m'
	ct_run
	assert_rc 0 run
	[ "$OUT" = i686 ] || differs_from_runc "uname -m '$OUT' under LINUX32, expected i686"
	res_bundle plain
	cfg_set .linux.personality '{"domain": "LINUX"}'
	cfg_sh 'uname -m'
	ct_run
	assert_rc 0 run
	assert_eq "$(uname -m)" "$OUT" "uname -m under LINUX"
	assert_cg_gone
}

rtcase "scheduler: SCHED_BATCH with nice 7" t_sched_batch
rtcase "scheduler: SCHED_IDLE" t_sched_idle
rtcase "scheduler: an unknown policy is a clear error" t_sched_bad
rtcase "ioPriority: best-effort 3 and idle" t_ioprio
rtcase "personality: LINUX32 makes uname -m i686" t_personality
