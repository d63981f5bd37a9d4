#!/bin/bash
# timeout: 120
# The init's reason always reaches rune (issue 10, item 12): a workload that
# can't start fails `start` with the cause, for enclave containers too.
. "$(dirname "$0")/lib.sh"

need_builds "$PALDIR/libtestpal-v2.so"

t_start_reports_create_process_failure() {
	enclave_bundle v2 "log=/share/pal.log,fail_create=-12"
	cfg_args app hello
	rtc create --bundle "$B" "$ID"
	assert_rc 0 create
	rtc start "$ID"
	assert_fails "start with pal_create_process failing"
	assert_match "pal_create_process for app failed with -12 \\(Cannot allocate memory\\)" "$ERR" \
		"start's error"
}

t_empty_args_refused() {
	enclave_bundle v2
	cfg_set .process.args '[]'
	ct_run
	assert_fails "run with empty process.args"
	assert_clear_error "process.args: must not be empty" "run"
	assert_nothing_left "$ID"
}

tcase "start reports pal_create_process's failure" t_start_reports_create_process_failure
tcase "enclave container with empty process.args refused" t_empty_args_refused

t_enclave_userns() {
	enclave_bundle v3
	cfg_append .linux.namespaces '{"type": "user"}'
	cfg_set .linux.uidMappings '[{"containerID": 0, "hostID": 100000, "size": 65536}]'
	cfg_set .linux.gidMappings '[{"containerID": 0, "hostID": 100000, "size": 65536}]'
	chmod 0777 "$SH"
	cfg_args app exit 7
	ct_run
	assert_rc 7 "run of an enclave container with a user namespace"
}
tcase "enclave container with a user namespace" t_enclave_userns

t_path_without_type() {
	fast_bundle -- ENCLAVE_RUNTIME_PATH="$PALDIR/libtestpal-v2.so"
	cfg_args app hello
	ct_run
	assert_fails "run with ENCLAVE_RUNTIME_PATH and no ENCLAVE_TYPE"
	assert_clear_error "ENCLAVE_RUNTIME_PATH is set but ENCLAVE_TYPE is not" "run"
	assert_nothing_left "$ID"
}
tcase "ENCLAVE_RUNTIME_PATH without ENCLAVE_TYPE refused" t_path_without_type
