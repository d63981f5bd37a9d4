#!/bin/bash
# timeout: 150
# The LibOS's files through `rune run`: an allowed output directory that
# the host sees (rune-image --allowed), and ENCLAVE_RUNTIME_PATH as a bare
# file name (issue 13): `rune-image build
# --bundle` writes liberpal-libos.so, which rune looks up in its allowed
# PAL directories (here --pal-dir $BUILD/lib), so the image need not know
# where the host keeps its PALs; the trust rules stay: a bare name is
# opened beneath an allowed directory and checked as any PAL (root's, not
# group-writable, no symlink out of it), and a relative path with a slash
# or a path outside the directories is refused as before.
. "$(dirname "$0")/../enclave/lib.sh"
. "$(dirname "$0")/lib.sh"
libos_need

gcc -static-pie -O2 -o "$T/fprobe" "$SRCDIR/tests/libos/fprobe.c" || {
	echo "not ok - build fprobe"
	exit 1
}
mkdir -p "$T/outside/sub" "$T/gw" "$T/links"
cp "$LIBOS_PAL" "$T/outside/liberpal-libos.so"
cp "$LIBOS_PAL" "$T/gw/libgw.so"
chmod 0775 "$T/gw/libgw.so"
ln -s "$T/outside/liberpal-libos.so" "$T/links/liblink.so"

# libos_bundle: a bundle with /bin/fprobe, built into a TEE image
libos_bundle() {
	new_bundle
	cfg_set .process.terminal false
	cp "$T/fprobe" "$B/rootfs/bin/fprobe"
	echo hello >"$B/rootfs/etc/greeting"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 16M -- /bin/fprobe cat /etc/greeting \
		>"$T/mr" 2>"$T/mr.err" || fail "rune-image build: $(cat "$T/mr.err")"
}

t_bare() {
	libos_bundle
	assert_contains '"ENCLAVE_RUNTIME_PATH=liberpal-libos.so"' "$(cfg_get .process.env)" \
		"rune-image writes the bare name"
	ct_run
	assert_rc 0 "rune run with a bare PAL name"
	assert_eq hello "$OUT" "the workload ran in the enclave"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

# refused PATH REGEX [EXTRA_PAL_DIRS]: ENCLAVE_RUNTIME_PATH=PATH fails with one line
# (a case runs in a subshell: its cd stays there)
refused() {
	libos_bundle
	env_set ENCLAVE_RUNTIME_PATH "$1"
	local EXTRA_PAL_DIRS=${3:-}
	cd "$T/outside/sub" # where ../liberpal-libos.so is a PAL, outside the allowed dirs
	ct_run
	assert_fails "run with ENCLAVE_RUNTIME_PATH=$1"
	assert_clear_error "$2" "run"
	assert_nothing_left "$ID"
}

t_relative() { refused ../liberpal-libos.so "not in an allowed PAL directory"; }
t_outside() { refused "$T/outside/liberpal-libos.so" "not in an allowed PAL directory"; }
t_missing() { refused nope.so "nope.so: in none of the allowed PAL directories"; }
t_dotdot() { refused .. "enclave runtime \.\.: not a file name"; }
t_writable() {
	refused libgw.so "libgw.so: must be owned by root and not writable by group or others" "$T/gw"
}
t_link_out() { refused liblink.so "liblink.so: in none of the allowed PAL directories" "$T/links"; }

t_output_dir() {
	# the rootfs is read-only (runc spec's default): /share is the host's $SH, bound rw
	new_bundle
	cfg_set .process.terminal false
	add_share
	cp "$T/fprobe" "$B/rootfs/bin/fprobe"
	echo hello >"$B/rootfs/etc/greeting"
	mkdir -p "$B/rootfs/share"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 16M --allowed /share -- /bin/fprobe \
		write /share/result "from the enclave" cat /etc/greeting ls /share write /etc/x y \
		>"$T/mr" 2>"$T/mr.err" || fail "rune-image build: $(cat "$T/mr.err")"
	ct_run
	assert_rc 0 "rune run"
	assert_eq "$(printf 'hello\nls /share: result\nwrite /etc/x: No such file or directory')" \
		"$OUT" "the workload's output"
	assert_eq "from the enclave" "$(cat "$SH/result")" "the host sees the file written"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

# /etc/hosts as every runtime gives it (a bind mount of its own), under the
# default trusted set: allowed, so the workload reads the runtime's; named
# with --trusted, the image's bytes are the only ones accepted.
runtime_hosts() { # EXTRA-BUILD-FLAGS...
	new_bundle
	cfg_set .process.terminal false
	cp "$T/fprobe" "$B/rootfs/bin/fprobe"
	echo "127.0.0.1 from-the-image" >"$B/rootfs/etc/hosts"
	echo "10.0.0.1 from-the-runtime" >"$T/hosts"
	cfg_append .mounts "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"$T/hosts\",\"options\":[\"rbind\",\"ro\"]}"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 16M "$@" -- /bin/fprobe cat /etc/hosts \
		>"$T/mr" 2>"$T/mr.err" || fail "rune-image build: $(cat "$T/mr.err")"
	ct_run
}
t_runtime_files() {
	runtime_hosts
	assert_rc 0 "rune run"
	assert_eq "10.0.0.1 from-the-runtime" "$OUT" "the runtime's /etc/hosts, allowed"
	assert_contains "allowed /etc/hosts" "$("$RUNE_IMAGE" inspect "$B/rootfs")" \
		"the manifest allows it"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
	runtime_hosts --trusted /etc/hosts
	assert_contains "/etc/hosts" "$ERR" "--trusted /etc/hosts: the runtime's copy is refused"
	[ "$OUT" != "10.0.0.1 from-the-runtime" ] || fail "the runtime's bytes were read"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

tcase "rune run: a program writes to an allowed directory, the host sees it" t_output_dir
tcase "the runtime's /etc/hosts is allowed under the default trusted set, refused when --trusted" t_runtime_files
tcase "a bare PAL name (rune-image's default) resolves in the allowed PAL directories" t_bare
tcase "a relative path with a slash (../x.so) is refused as before" t_relative
tcase "a path outside the allowed directories is refused as before" t_outside
tcase "a bare name in no allowed directory is refused naming it" t_missing
tcase "a bare .. is refused" t_dotdot
tcase "a bare name keeps the trust rules: group-writable refused" t_writable
tcase "a bare name keeps the trust rules: a symlink out of the directory is not followed" t_link_out
