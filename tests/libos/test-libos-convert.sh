#!/bin/bash
# timeout: 120
# rune-image convert, offline: a busybox image archive (docker-archive as
# `docker save` writes it, an OCI layout tar as `podman save --format
# oci-archive` writes it, and both at once) converted into the same format
# with a signed TEE layer; each blob and diff_id of the output checked,
# owners 0 and times the image's `created`; converting twice gives the same
# bytes; the converted image's layers run through `rune run` in the enclave
# with the output of the native run; whiteouts are honoured; hostile or
# corrupt archives are refused with one line naming the part and the
# reason, leaving no output and no work directory.
. "$(dirname "$0")/../enclave/lib.sh"
. "$(dirname "$0")/lib.sh"
libos_need
export PYTHONDONTWRITEBYTECODE=1
MKIMAGE=$SRCDIR/tests/clients/mkimage.py
IMG=$SRCDIR/tests/libos/convert-img.py
CREATED=2024-05-06T07:08:09Z
CREATED_EPOCH=$(date -d "$CREATED" +%s)
# the converter's work directories go here: empty after every conversion
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR" "$T/img"
"$PY" "$MKIMAGE" rootfs "$T/img/rootfs" >/dev/null
printf 'a trusted file\n' >"$T/img/rootfs/etc/motd"

convert() { # SRC DST: rune-image convert, status in RC, stdout OUT, stderr ERR
	RC=0
	"$RUNE_IMAGE" convert --key "$KEY" --heap 32M --max-size 48M "$1" "$2" >"$T/cout" 2>"$T/cerr" || RC=$?
	OUT=$(cat "$T/cout")
	ERR=$(cat "$T/cerr")
}

assert_no_work() {
	[ -z "$(ls -A "$TMPDIR")" ] || fail "work directory left behind: $(ls -A "$TMPDIR")"
}

t_format() { # docker|oci|both
	local fmt=$1 want
	"$PY" "$MKIMAGE" oci "$T/img/rootfs" "$T/$fmt.tar" localhost/rune-convert:bb --format "$fmt" \
		--cmd '["sha256sum","/etc/motd"]' --created "$CREATED"
	convert "$T/$fmt.tar" "$T/$fmt-tee.tar"
	assert_rc 0 "rune-image convert ($ERR)"
	want=$(case $fmt in docker) echo docker-archive ;; oci) echo oci-archive ;; both) echo docker+oci-archive ;; esac)
	assert_contains "FORMAT: $want" "$OUT" "the format seen"
	"$PY" "$IMG" check "$T/$fmt-tee.tar" "$CREATED_EPOCH" >"$T/check" || fail "output archive: $(tail -3 "$T/check")"
	assert_eq "$(echo "$fmt" | sed 's/both/oci+docker/')" "$(sed -n 1p "$T/check")" "formats written"
	assert_eq '["/bin/sha256sum", "/etc/motd"]' "$(sed -n 2p "$T/check")" "Entrypoint (resolved)"
	assert_eq '["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ENCLAVE_TYPE=intelSgx", "ENCLAVE_RUNTIME_PATH=liberpal-libos.so", "ENCLAVE_RUNTIME_ARGS=root=/"]' \
		"$(sed -n 3p "$T/check")" "Env"
	# the same input and key: the same bytes
	convert "$T/$fmt.tar" "$T/$fmt-tee2.tar"
	assert_rc 0 "second rune-image convert"
	cmp -s "$T/$fmt-tee.tar" "$T/$fmt-tee2.tar" || fail "two conversions differ"
	assert_no_work
}

t_tag() {
	"$PY" "$MKIMAGE" oci "$T/img/rootfs" "$T/tag.tar" localhost/rune-convert:bb --cmd '["true"]'
	"$RUNE_IMAGE" convert --key "$KEY" --tag localhost/rune-convert:tee "$T/tag.tar" "$T/tag-tee.tar" \
		>/dev/null 2>"$T/cerr" || fail "rune-image convert --tag: $(cat "$T/cerr")"
	assert_eq "localhost/rune-convert:tee localhost/rune-convert:tee tee" "$("$PY" "$IMG" names "$T/tag-tee.tar")" \
		"names (RepoTags, containerd's, OCI's)"
	assert_eq "localhost/rune-convert:bb localhost/rune-convert:bb bb" "$("$PY" "$IMG" names "$T/tag.tar")" \
		"the input's names"
	"$PY" "$MKIMAGE" oci "$T/img/rootfs" "$T/tag.tar" localhost/rune-convert:bb --cmd '["true"]'
	"$RUNE_IMAGE" convert --key "$KEY" "$T/tag.tar" "$T/notag-tee.tar" >/dev/null 2>&1 || fail "rune-image convert"
	assert_eq "localhost/rune-convert:bb localhost/rune-convert:bb bb" "$("$PY" "$IMG" names "$T/notag-tee.tar")" \
		"names kept without --tag"
	assert_no_work
}

# The converted image run by rune: the image's rootfs plus the TEE layer, the config's settings.
t_run() {
	local nout
	"$PY" "$MKIMAGE" oci "$T/img/rootfs" "$T/run.tar" localhost/rune-convert:run --format docker \
		--cmd '["sha256sum","/etc/motd"]' --created "$CREATED"
	convert "$T/run.tar" "$T/run-tee.tar"
	assert_rc 0 "rune-image convert ($ERR)"
	new_bundle
	cfg_set .process.terminal false
	cp -a "$T/img/rootfs/." "$B/rootfs/"
	"$PY" "$IMG" top "$T/run-tee.tar" "$B/rootfs"
	"$PY" "$IMG" check "$T/run-tee.tar" "$CREATED_EPOCH" >"$T/check"
	cfg_set .process.args "$(sed -n 2p "$T/check")"
	cfg_set .process.env "$(sed -n 3p "$T/check")"
	"$RUNE_IMAGE" inspect "$B/rootfs" >"$T/inspect" || fail "rune-image inspect: $(tail -2 "$T/inspect")"
	assert_contains "SIGSTRUCT: signature valid, signs this enclave" "$(cat "$T/inspect")" "the TEE layer"
	ct_run
	assert_rc 0 "rune run of the converted image ($ERR)"
	nout=$(env -i PATH=/bin "$(command -v chroot)" "$B/rootfs" /bin/sha256sum /etc/motd)
	assert_eq "$nout" "$OUT" "output (as native)"
	[ -e /dev/sgx_enclave ] || assert_contains "SGX emulator" "$ERR" "in the enclave (the emulator says so)"
	rt delete "$ID" >/dev/null 2>&1 || true
	assert_nothing_left "$ID"
}

t_whiteouts() {
	mkdir -p "$T/img/rootfs/usr/share/opq"
	echo old >"$T/img/rootfs/usr/share/opq/old"
	echo gone >"$T/img/rootfs/etc/gone"
	"$PY" "$IMG" layered "$T/img/rootfs" "$T/layered.tar"
	rm -r "$T/img/rootfs/usr/share/opq" "$T/img/rootfs/etc/gone"
	convert "$T/layered.tar" "$T/layered-tee.tar"
	assert_rc 0 "rune-image convert ($ERR)"
	mkdir "$T/top"
	"$PY" "$IMG" top "$T/layered-tee.tar" "$T/top"
	grep -q ' /usr/share/opq/new$' "$T/top/.rune/manifest" || fail "the new file is not in the manifest"
	! grep -q 'usr/share/opq/old' "$T/top/.rune/manifest" || fail "a file under an opaque whiteout is in the manifest"
	! grep -q 'etc/gone' "$T/top/.rune/manifest" || fail "a whited-out file is in the manifest"
	grep -q ' /etc/motd$' "$T/top/.rune/manifest" || fail "/etc/motd is not in the manifest"
	grep -q ' /etc/motd-link$' "$T/top/.rune/manifest" || fail "the hard link /etc/motd-link is not in the manifest"
	assert_no_work
}

# t_hostile CASE PATTERN: refused with one line matching PATTERN, nothing left
t_hostile() {
	"$PY" "$IMG" hostile "$1" "$T/img/rootfs" "$T/h.tar"
	convert "$T/h.tar" "$T/h-tee.tar"
	assert_rc 1 "rune-image convert of a '$1' archive"
	assert_eq 1 "$(echo "$ERR" | wc -l)" "stderr lines ($ERR)"
	assert_match "^rune-image: .*$2" "$ERR" "the error"
	[ ! -e "$T/h-tee.tar" ] || fail "output written"
	[ -z "$(ls "$T" | grep '^h-tee.tar.tmp')" ] || fail "temporary output left"
	[ ! -e "$T/evil" ] && [ ! -e /evil ] && [ ! -e "$T/evil-outer" ] || fail "written outside"
	assert_no_work
}

# A symlink to a host directory, then a file through it: never written on the host.
t_symlink_in_root() {
	mkdir "$T/outside"
	OUTSIDE=$T/outside "$PY" "$IMG" hostile symlink-in-root "$T/img/rootfs" "$T/s.tar"
	convert "$T/s.tar" "$T/s-tee.tar"
	[ ! -e "$T/outside/pwned" ] || fail "a layer wrote through a symlink onto the host"
	[ "$RC" = 0 ] || [ ! -e "$T/s-tee.tar" ] || fail "output written by a failed conversion"
	assert_no_work
}

t_errors() {
	convert "$T/no-such.tar" "$T/x.tar"
	assert_rc 1 "missing source"
	assert_eq "rune-image: $T/no-such.tar: No such file or directory" "$ERR" "the error"
	RC=0
	"$RUNE_IMAGE" convert "$T/a" "$T/b" 2>/dev/null || RC=$?
	assert_rc 2 "no --key: usage"
	assert_no_work
}

tcase "convert: docker-archive, checked, deterministic" t_format docker
tcase "convert: oci-archive, checked, deterministic" t_format oci
tcase "convert: docker and OCI in one archive" t_format both
tcase "convert: --tag names the output" t_tag
tcase "convert: the converted image runs in the enclave (rune run), output as native" t_run
tcase "convert: whiteouts, opaque directories, hard links" t_whiteouts
tcase "convert: not an archive" t_hostile not-tar "not a tar archive"
tcase "convert: no image in the archive" t_hostile no-manifest "not an image archive"
tcase "convert: OCI manifest blob missing" t_hostile missing-manifest "blobs/sha256/[0-9a-f]{64}: No such file"
tcase "convert: layer content differs from its diff_id" t_hostile layer-digest "diff_id sha256:[0-9a-f]{64} does not match"
tcase "convert: OCI blob differs from its digest" t_hostile blob "digest sha256:[0-9a-f]{64} does not match"
tcase "convert: absolute path in a layer" t_hostile absolute "'/etc/evil': absolute path: refused"
tcase "convert: '..' in a layer" t_hostile dotdot "'etc/../../evil': '..' in the path: refused"
tcase "convert: symlink leading out of the root" t_hostile symlink-out "symlink to '../../../../etc' leads out of the root: refused"
tcase "convert: hard link leading out of the root" t_hostile hardlink-out "hard link to '../../etc/passwd': '..' in the path: refused"
tcase "convert: device node" t_hostile device "'dev/evil': device node: refused"
tcase "convert: '..' in the archive itself" t_hostile outer-dotdot "'../evil-outer': '..' in the path: refused"
tcase "convert: more unpacked than --max-size" t_hostile bomb "zeros.*more than 50331648 bytes unpacked: refused|more than 50331648 bytes unpacked: refused"
tcase "convert: a layer that is a symlink to a host file" t_hostile outer-symlink "x/layer.tar: No such file or directory"
tcase "convert: image without an entrypoint" t_hostile no-entrypoint "no entrypoint or command"
tcase "convert: a symlink to a host directory is followed inside the root" t_symlink_in_root
tcase "convert: missing source, usage" t_errors
