#!/bin/bash
# timeout: 300
# Debian's busybox-static (linked at 0x400000: an ET_EXEC, so the enclave
# is based at 0) inside the LibOS enclave through `rune run` of a bundle
# that `rune-image build --bundle` made from a busybox rootfs: each
# single-process applet's output and exit status byte for byte as the same
# applet run natively in the rootfs (chroot), and busybox sh pipelines (each
# side a fork: a child enclave of the image). Trusted files are presented
# read-only (r-x) with time 0 and nothing of the host's times enters the
# manifest, so the listed directory's files are given those natively too.
. "$(dirname "$0")/../enclave/lib.sh"
. "$(dirname "$0")/lib.sh"
libos_need

# bb_bundle APPLET ARGS...: a busybox bundle with /data, built into a TEE image
bb_bundle() {
	new_bundle
	cfg_set .process.terminal false
	mkdir -p "$B/rootfs/data/d"
	seq 1 2000 | sed 's/^\(.*\)$/line \1 of the trusted file/' >"$B/rootfs/data/file"
	printf 'pear\napple\nfig\nbanana\napple\n' >"$B/rootfs/data/d/fruit"
	printf 'x\n' >"$B/rootfs/data/d/one"
	seq 1 3000 >"$B/rootfs/data/d/numbers"
	chmod 0555 "$B/rootfs/data/d" "$B/rootfs/data/d/"*
	mkdir -p "$B/rootfs/data/s"
	cat >"$B/rootfs/data/s/entry.sh" <<-'EOS'
		#!/bin/sh -e
		echo "0=$0 args=$*"
		/data/s/inner.sh one "two three"
		x=$(echo sub | tr a-z A-Z); echo "subst $x"
		for i in 3 1 2; do echo "line $i"; done | sort | head -n 2
	EOS
	printf '#!/bin/sh\necho "inner 0=$0 n=$# 1=$1 2=$2"\n' >"$B/rootfs/data/s/inner.sh"
	chmod 0755 "$B/rootfs/data/s/"*
	touch -h -d @0 "$B/rootfs/data/d/"* "$B/rootfs/data/d"
	"$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 32M --trusted /data -- "$@" \
		>"$T/mr" 2>"$T/mr.err" || fail "rune-image build: $(cat "$T/mr.err")"
	grep -q '^enclave_base 0$' "$B/rootfs/.rune/manifest" ||
		fail "busybox (ET_EXEC) but the enclave is not based at 0"
}

# t_applet [--stdin FILE] APPLET ARGS...: the enclave's output and status are the native run's
t_applet() {
	local in=/dev/null nout nrc
	if [ "$1" == --stdin ]; then
		in=$2
		shift 2
	fi
	bb_bundle "$@"
	[ "$in" == /dev/null ] || in=$B/rootfs$in
	RC=0
	rt run --bundle "$B" "$ID" <"$in" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	set +e
	env -i PATH=/bin TZ=UTC "$(command -v chroot)" "$B/rootfs" "$@" <"$in" >"$T/nout" 2>/dev/null
	nrc=$?
	set -e
	[ "$nrc" != 0 ] || [ -s "$T/nout" ] || fail "no native output"
	cmp -s "$T/out" "$T/nout" || fail "output differs from the native run: $(diff "$T/nout" "$T/out" | head -20)"
	assert_eq "$nrc" "$RC" "rune run's exit status (the applet's)"
	[ -e /dev/sgx_enclave ] || assert_contains "SGX emulator" "$ERR" "the emulator says so"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

tcase "busybox sha256sum of a trusted file" t_applet /bin/sha256sum /data/file
tcase "busybox cat" t_applet /bin/cat /data/file /data/d/fruit
tcase "busybox ls -l of a trusted directory" t_applet /bin/ls -l /data/d
tcase "busybox wc" t_applet /bin/wc /data/file /data/d/numbers
tcase "busybox grep" t_applet /bin/grep -n '9 of' /data/file
tcase "busybox grep without a match exits 1" t_applet /bin/busybox grep nomatch /data/d/fruit /data/d/one
tcase "busybox sort" t_applet /bin/sort -r /data/d/fruit
tcase "busybox echo" t_applet /bin/echo hello from the enclave
tcase "busybox head" t_applet /bin/head -n 7 /data/file
tcase "busybox tr (stdin)" t_applet --stdin /data/d/fruit /bin/tr a-z A-Z
# t_bad_interp: rune-image names a script whose #! interpreter is not in the rootfs
t_bad_interp() {
	new_bundle
	mkdir -p "$B/rootfs/data"
	printf '#!/bin/nothere\necho never\n' >"$B/rootfs/data/bad.sh"
	chmod 0755 "$B/rootfs/data/bad.sh"
	if "$RUNE_IMAGE" build --bundle "$B" --key "$KEY" --heap 32M --trusted /data -- /data/bad.sh \
		>"$T/mr" 2>"$T/mr.err"; then
		fail "rune-image built an image whose entrypoint's interpreter is missing"
	fi
	assert_eq "rune-image: /data/bad.sh: its #! interpreter /bin/nothere: No such file or directory" \
		"$(cat "$T/mr.err")" "rune-image's one line"
	[ ! -e "$B/rootfs/.rune" ] || fail "rune-image left $B/rootfs/.rune behind"
}

tcase "busybox sh: a #! script entrypoint (with an argument), a nested script, \$0, applets re-exec'd" \
	t_applet /data/s/entry.sh a b
tcase "rune-image: a #! interpreter missing from the rootfs is named" t_bad_interp
tcase "busybox sh: a pipeline (fork: each side a child enclave)" t_applet /bin/sh -c 'echo a | wc -c'
tcase "busybox sh: a longer pipeline, a loop, the last status" t_applet /bin/sh -c \
	'cat /data/file | grep 9 | sort -r | head -n 3; for i in 1 2 3; do echo "$i"; done | wc -l; false || exit 4'
