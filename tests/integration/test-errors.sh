#!/bin/bash
# timeout: 180
# Bad input: one clear line on stderr, a non-zero exit, and nothing left
# behind (state dir, cgroup, mount, process).  --log/--log-format json.
. "$(dirname "$0")/lib.sh"

# expect_clean_failure WHAT [REGEX]: run and create of the current bundle fail
# cleanly; the error (rune) is one line matching REGEX.
expect_clean_failure() {
	local what=$1 re=${2:-}
	ct_run
	assert_fails "run with $what"
	assert_clear_error "$re" "run with $what"
	assert_nothing_left "$ID"
	rtc create --bundle "$B" "$ID"
	assert_fails "create with $what"
	assert_clear_error "$re" "create with $what"
	assert_nothing_left "$ID"
}

t_malformed_config() {
	new_bundle
	printf '{"ociVersion": "1.0.2", "process": {"args": ["true"],, }' >"$B/config.json"
	# rune: names config.json and where it broke (a line/column/offset)
	expect_clean_failure "malformed config.json" 'config\.json.*[0-9]'
	new_bundle b
	: >"$B/config.json"
	expect_clean_failure "an empty config.json" 'config\.json'
	new_bundle c
	rm "$B/config.json"
	expect_clean_failure "no config.json" 'config\.json'
}

t_invalid_field() {
	new_bundle
	cfg_set .process.args '"not-a-list"'
	expect_clean_failure "process.args as a string" 'process\.args'
	new_bundle b
	cfg_set .process.user.uid '"root"'
	expect_clean_failure "process.user.uid as a string" 'process\.user\.uid'
	new_bundle c
	cfg_set .mounts[0].options '"ro"'
	expect_clean_failure "mounts[0].options as a string" 'mounts\[0\]\.options'
}

t_oci_version_major() {
	new_bundle
	cfg_set .ociVersion '"2.0.0"'
	ct_run
	[ "$RC" != 0 ] || differs_from_runc "ociVersion 2.0.0 accepted"
	assert_clear_error 'ociVersion|2\.0\.0'
	assert_nothing_left "$ID"
}

t_oci_versions_accepted() {
	local v
	for v in 1.0.0 1.0.1 1.0.2 1.0.2-dev 1.1.0 1.1.0-rc.1 1.2.0 1.2.1 1.3.0; do
		new_bundle "v$v"
		cfg_set .ociVersion "\"$v\""
		cfg_sh 'echo ok'
		ct_run
		assert_rc 0 "run with ociVersion $v"
		assert_eq ok "$OUT" "workload with ociVersion $v"
	done
}

t_unknown_properties() {
	# runtime-spec: unknown properties MUST NOT be an error
	new_bundle
	cfg_set '["x-vendor.extension"]' '{"a": [1, 2, {"b": null}]}'
	cfg_set .process.futureField '"whatever"'
	cfg_set .linux.somethingNew '{"enabled": true}'
	cfg_set .mounts[0].newOption 7
	cfg_set .windows '{"layerFolders": []}'
	cfg_set .vm '{"hypervisor": {"path": "/nonexistent"}}'
	cfg_sh 'echo tolerant'
	ct_run
	assert_rc 0 "run with unknown properties"
	assert_eq tolerant "$OUT" "workload output"
}

t_args_exact() {
	new_bundle
	# shellcheck disable=SC2016
	cfg_args sh -c 'printf "%s|" "$@"' zero 'a b' 'ü' '' '$HOME' '*'
	ct_run
	assert_rc 0 run
	assert_eq 'a b|ü||$HOME|*|' "$OUT" "args passed verbatim"
}

t_missing_rootfs() {
	new_bundle
	cfg_set .root.path '"nonexistent-rootfs"'
	expect_clean_failure "a missing rootfs" 'nonexistent-rootfs|rootfs'
	new_bundle b
	cfg_del .root
	expect_clean_failure "no root in config" 'root'
}

t_bad_args0() {
	new_bundle
	cfg_args /no/such/binary
	expect_clean_failure "a missing args[0]" '/no/such/binary'
	new_bundle b
	cfg_args no-such-command-anywhere
	expect_clean_failure "args[0] not in PATH" 'no-such-command-anywhere'
	new_bundle c
	cfg_args /etc/passwd
	expect_clean_failure "a non-executable args[0]" '/etc/passwd'
	new_bundle d
	cfg_set .process.args '[]'
	expect_clean_failure "empty args" 'args'
}

t_bad_mount() {
	new_bundle
	cfg_append .mounts '{"destination": "/mnt/x", "type": "no-such-fs", "source": "none"}'
	expect_clean_failure "an unknown filesystem type" '/mnt/x|no-such-fs'
	new_bundle b
	cfg_append .mounts "{\"destination\": \"/mnt/y\", \"type\": \"bind\", \"source\": \"$T/no-such-source\", \"options\": [\"bind\"]}"
	expect_clean_failure "a missing bind source" 'no-such-source|/mnt/y'
}

t_bad_ids() {
	new_bundle
	cfg_args true
	local id
	for id in "../$PFX-escape" "$PFX/sub" "$PFX-bad id" ""; do
		rtc run --bundle "$B" "$id"
		assert_fails "run with id '$id'"
	done
	[ ! -e "$T/$PFX-escape" ] || fail "id with ../ created $T/$PFX-escape"
	assert_nothing_left "$PFX-escape"
}

t_log_json() {
	new_bundle
	cfg_args /no/such/binary
	local log=$T/log.json
	rtc --log "$log" --log-format json run --bundle "$B" "$ID"
	assert_fails "run of a missing binary"
	[ -s "$log" ] || fail "--log file is empty"
	"$PY" - "$log" <<-'EOF' || fail "--log-format json: $(head -5 "$log")"
		import json, sys
		lines = [l for l in open(sys.argv[1]) if l.strip()]
		assert lines, "no lines"
		errors = 0
		for l in lines:
		    d = json.loads(l)
		    for k in ("level", "msg", "time"):
		        assert k in d, "missing %s in %s" % (k, l)
		    errors += d["level"] == "error"
		assert errors >= 1, "no error-level line"
	EOF
	grep -q 'no/such/binary' "$log" || fail "the log does not name the missing binary: $(cat "$log")"
	# issue 2: the failure is also one clear line on stderr
	assert_clear_error 'no/such/binary' "stderr of a failing run with --log"
	assert_nothing_left "$ID"
	# the log is appended to, never truncated (shims read it after each call)
	local before
	before=$(grep -c . "$log")
	rtc --log "$log" --log-format json run --bundle "$B" "$ID"
	assert_fails "second failing run"
	[ "$(grep -c . "$log")" -gt "$before" ] || fail "--log was truncated or not written on the second call: $(cat "$log")"
	# a successful run with --log writes valid JSON lines (or nothing)
	new_bundle ok
	cfg_args true
	rtc --log "$T/ok.json" --log-format json run --bundle "$B" "$ID"
	assert_rc 0 "run with --log"
	if [ -s "$T/ok.json" ]; then
		"$PY" -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$T/ok.json" ||
			fail "invalid JSON in the log of a successful run"
	fi
	# --log-format text
	new_bundle txt
	cfg_args /no/such/binary
	rtc --log "$T/log.txt" --log-format text run --bundle "$B" "$ID"
	assert_fails "run with --log-format text"
	grep -q 'no/such/binary' "$T/log.txt" || fail "text log does not name the missing binary: $(cat "$T/log.txt")"
	rtc --log-format yaml list
	assert_fails "--log-format yaml"
}

t_debug_flag() {
	new_bundle
	cfg_args true
	rtc --debug run --bundle "$B" "$ID"
	assert_rc 0 "run with --debug"
	# --log exists from the start, and --debug fills it with what the runtime does
	new_bundle dbg
	cfg_args true
	rtc --debug --log "$T/debug.log" --log-format json run --bundle "$B" "$ID"
	assert_rc 0 "run with --debug --log"
	[ -s "$T/debug.log" ] || fail "--debug wrote nothing to --log"
	"$PY" - "$T/debug.log" <<-'PY' || fail "--debug --log-format json: not one JSON object a line with level/msg/time"
		import json, sys
		lines = open(sys.argv[1]).read().splitlines()
		assert len(lines) >= 3, lines
		for l in lines:
		    d = json.loads(l)
		    assert set(d) >= {"level", "msg", "time"}, d
		assert any(json.loads(l)["level"] == "debug" for l in lines)
	PY
	rtc --log "$T/quiet.log" state no-such-container-at-all
	rtc --log "$T/created.log" list
	assert_rc 0 list
	[ -e "$T/created.log" ] || fail "--log not created by a command that succeeded"
	rtc --systemd-cgroup list
	assert_rc 0 "--systemd-cgroup list"
	# the systemd driver: works where systemd runs, else a clear error
	new_bundle sd
	cfg_args true
	cfg_set .linux.cgroupsPath "\"system.slice:rune-test:$ID\""
	rtc --systemd-cgroup run --bundle "$B" "$ID"
	if [ "$RC" != 0 ]; then
		[ -d /run/systemd/system ] && fail "--systemd-cgroup run failed on a systemd host"
		assert_clear_error 'systemd' "--systemd-cgroup run without systemd"
	fi
	assert_nothing_left "$ID"
	assert_nothing_left rune-test
}

tcase "malformed, empty, missing config.json" t_malformed_config
tcase "invalid field types name their JSON path" t_invalid_field
tcase "ociVersion 2.0.0 refused" t_oci_version_major
tcase "ociVersion 1.x accepted" t_oci_versions_accepted
tcase "unknown properties are ignored" t_unknown_properties
tcase "args passed verbatim" t_args_exact
tcase "missing rootfs" t_missing_rootfs
tcase "bad args[0]" t_bad_args0
tcase "bad mounts" t_bad_mount
tcase "bad container ids" t_bad_ids
tcase "--log with --log-format json/text" t_log_json
tcase "--debug, --systemd-cgroup" t_debug_flag
