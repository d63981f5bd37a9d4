#!/bin/bash
# timeout: 420
# The shim's Carrier under containerd 1.6 (Debian) and ctr: a plain busybox
# image run with the annotation enclave.type=intelSgx is converted at
# Create (the TEE files built into the node cache, signed, bind-mounted
# read-only at /.rune) and runs in the LibOS enclave (the emulator here),
# with each signing method: local-key, server (a real rune-signd started
# here, plain HTTP on loopback, a bearer token) and client (an image
# without its own signed TEE image is refused; one with it runs). A second
# container of the same image comes from the cache (not rebuilt, not
# signed again), also with a read-only rootfs; two concurrent creates of a
# new image build once. Failures (no entrypoint, entrypoint not in the
# image, the signature service down or refusing) fail Create with one line
# naming the step, and leave no cache entry, build dir, container, mount
# or process behind. The image's layers never get the TEE files. The
# manifest options a container may set by annotation (enclave.libos.heap,
# .threads, .trusted, .allowed) change MRENCLAVE and so the cache entry; a
# bad value fails Create with one line naming the annotation.
CLIENT=carrier
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/../clients/lib.sh"
need_pkgs containerd

SHIM=$BUILD/bin/containerd-shim-rune-v2
IMG=docker.io/library/rune-busybox:carrier
RT=(--runtime io.containerd.rune.v2)
ENC=(--annotation enclave.type=intelSgx)
for f in "$SHIM" "$BUILD/bin/rune-image" "$BUILD/bin/rune-signd" "$BUILD/bin/sgx-tools" \
	"$BUILD/lib/liberpal-libos.so" "$BUILD/share/libos/libos.elf"; do
	if [ ! -e "$f" ]; then
		echo "not ok - carrier: $f built (make all)"
		exit 1
	fi
done
SHIM_JSON=$CT/shim.json
CACHE=$CT/cache
CTRD_ENV=("PATH=$BUILD/bin:$PATH" "RUNE_SHIM_CONFIG=$SHIM_JSON" "SGX_EMU_SECRET=$CT/sgx-emu-secret")
CTRD_LOG_LEVEL=debug
# shellcheck source=tests/clients/ctrd.sh
. "$CL_DIR/ctrd.sh"

SIGND_PID=
client_stop() {
	ctrd_stop
	C images rm "$IMG-own" "$IMG-nocmd" >/dev/null 2>&1
	if [ -n "$SIGND_PID" ]; then
		kill "$SIGND_PID" 2>/dev/null
		wait "$SIGND_PID" 2>/dev/null
	fi
	rmdir "/run/containerd/runc/$PFX" 2>/dev/null
	true
}

# shim_json JSON-BODY: the shim's config, the runtime being rune with the build's PAL dir
shim_json() {
	printf '{"rune": "%s", "carrier_cache": "%s"%s}\n' "$CT/rune-pal" "$CACHE" "${1:+, $1}" >"$SHIM_JSON"
	chmod 0644 "$SHIM_JSON"
}

"$BUILD/bin/sgx-tools" gen-key --out "$CT/key.pem" >/dev/null 2>&1 &&
	"$BUILD/bin/sgx-tools" gen-key --out "$CT/signd-key.pem" >/dev/null 2>&1 &&
	chmod 0600 "$CT/key.pem" "$CT/signd-key.pem"
"$BUILD/bin/rune-signd" gen-token ci --tokens "$CT/clients.json" >"$CT/ci.token" 2>/dev/null
# shellcheck source=tests/signd/launch.sh
. "$SRCDIR/tests/signd/launch.sh"
signd_launch "$BUILD/bin/rune-signd" "$CT/signd.log" --listen 127.0.0.1:0 --insecure-http \
	--key "$CT/signd-key.pem" --tokens "$CT/clients.json" --audit-log "$CT/audit.log"
if [ -z "$URL" ]; then
	sed 's/^/# /' "$CT/signd.log"
	echo "not ok - carrier: rune-signd started"
	exit 1
fi
echo "ok - carrier: rune-signd started ($URL)"

shim_json ""
ctrd_start carrier
ctrd_import carrier

# the carrier's lines in containerd's log (the shim's log FIFO)
carrier_lines() { grep -o 'container [^ ]*: carrier: [a-z]* *[0-9a-f]*' "$CT/containerd.log" || true; }
carrier_of() { carrier_lines | awk -v id="$1" '$2 == id":" { print $4, $5 }' | tail -1; }
entries() { find "$CACHE" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort; }
no_build_dirs() { [ -z "$(find "$CACHE" -maxdepth 1 -name '.tmp-*' 2>/dev/null)" ]; }
# the image's layers (containerd's snapshots) never hold TEE files
layers_clean() {
	[ -z "$(find "$CT/root" -path '*snapshots*' -name libos.sig 2>/dev/null)" ] ||
		fail "TEE files in a snapshot: $(find "$CT/root" -path '*snapshots*' -name libos.sig)"
}
# the failed container's leftovers: its task, bundle, rootfs mount
nothing_left() {
	C container rm "$1" >/dev/null 2>&1 || true
	[ -z "$(C task ls -q 2>/dev/null)" ] || fail "tasks left: $(C task ls)"
	! grep -q "/$1/rootfs " /proc/self/mountinfo || fail "rootfs of $1 still mounted"
	[ ! -e "$CT/state/io.containerd.runtime.v2.task/$PFX/$1" ] || fail "bundle of $1 left"
	no_build_dirs || fail "build dirs left in the cache: $(ls -a "$CACHE")"
	local l
	for l in "$CACHE"/*.lock; do
		[ -e "$l" ] || continue
		[ -d "${l%.lock}" ] || fail "the lock of a failed build left: $l"
	done
}
# run_enclave ID [ctr run flags...]: the workload prints from inside the enclave
run_enclave() {
	local id=$1
	shift
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$@" "$IMG" "$id" sh -c 'echo hello from the enclave; exit 3'
	[ "$RC" = 3 ] || { printf '%s\n' "$ERR" | sed 's/^/# stderr: /'; grep -i 'carrier\|rune' "$CT/containerd.log" | tail -5 | sed 's/^/# containerd: /'; }
	assert_rc 3 "ctr run of an enclave container ($id)"
	assert_contains "hello from the enclave" "$OUT" "the workload's output"
	assert_contains "SGX emulator" "$ERR" "the LibOS PAL's notice (the workload ran in the enclave)"
}

t_local_key() {
	shim_json "\"signature_method\": \"local-key\", \"signing_key\": \"$CT/key.pem\""
	run_enclave "$PFX-l1"
	local first key sig
	first=$(carrier_of "$PFX-l1")
	assert_match '^built [0-9a-f]{64}$' "$first" "the first create"
	key=${first#built }
	[ -d "$CACHE/$key" ] || fail "no cache entry $key"
	sig=$(stat -c '%i %Y' "$CACHE/$key/libos.sig")
	# the SIGSTRUCT's signer is the node's key
	cl_ok "$BUILD/bin/sgx-tools" dump "$CACHE/$key/libos.sig"
	layers_clean
	run_enclave "$PFX-l2"
	assert_eq "cached $key" "$(carrier_of "$PFX-l2")" "the second create"
	assert_eq "$sig" "$(stat -c '%i %Y' "$CACHE/$key/libos.sig")" "the entry's SIGSTRUCT (not rebuilt)"
	run_enclave "$PFX-l3" --read-only
	assert_eq "cached $key" "$(carrier_of "$PFX-l3")" "a read-only rootfs, from the cache"
	assert_eq 1 "$(entries | wc -l)" "cache entries"
	no_build_dirs || fail "build dirs left"
}

t_server() {
	local before after first key
	shim_json "\"signature_method\": \"server\", \"signature_server\": {\"url\": \"$URL\", \"token_file\": \"$CT/ci.token\"}"
	before=$(grep -c '"decision":"sign' "$CT/audit.log" || true)
	run_enclave "$PFX-s1"
	first=$(carrier_of "$PFX-s1")
	assert_match '^built [0-9a-f]{64}$' "$first" "the first create"
	key=${first#built }
	after=$(grep -c '"decision":"sign' "$CT/audit.log")
	assert_eq $((before + 1)) "$after" "signatures in the service's audit log"
	run_enclave "$PFX-s2"
	assert_eq "cached $key" "$(carrier_of "$PFX-s2")" "the second create"
	assert_eq "$after" "$(grep -c '"decision":"sign' "$CT/audit.log")" "signatures after the cached create"
	layers_clean
}

t_server_refuses() {
	local n
	n=$(entries | wc -l)
	# no token: the service answers 401
	shim_json "\"signature_method\": \"server\", \"signature_server\": {\"url\": \"$URL\"}"
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$IMG" "$PFX-f1" sh -c 'echo no'
	assert_fails "ctr run with the service refusing"
	assert_contains "carrier: build: sign by $URL" "$ERR" "the error"
	assert_contains "401" "$ERR" "the service's status"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c .)" "lines of the error"
	nothing_left "$PFX-f1"
	# the service down (nothing listens there)
	shim_json "\"signature_method\": \"server\", \"signature_server\": {\"url\": \"http://127.0.0.1:9\", \"token_file\": \"$CT/ci.token\"}"
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$IMG" "$PFX-f2" sh -c 'echo no'
	assert_fails "ctr run with the service down"
	assert_contains "carrier: build: sign by http://127.0.0.1:9" "$ERR" "the error"
	nothing_left "$PFX-f2"
	assert_eq "$n" "$(entries | wc -l)" "cache entries (none added)"
}

t_client() {
	shim_json '"signature_method": "client"'
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$IMG" "$PFX-c1" sh -c 'echo no'
	assert_fails "ctr run of an unsigned image with signature_method client"
	assert_contains "carrier: signature_method client: the image carries no signed TEE image" "$ERR" "the error"
	nothing_left "$PFX-c1"
	# an image that carries its own signed TEE image (rune-image build) runs as it is
	cp -a "$CT/rootfs" "$CT/rootfs-own"
	cl_ok "$BUILD/bin/rune-image" build --rootfs "$CT/rootfs-own" --key "$CT/key.pem" -- /bin/sh -c 'echo own image'
	"$PY" "$MKIMAGE" oci "$CT/rootfs-own" "$CT/own.tar" "$IMG-own"
	cl_ok C images import "$CT/own.tar"
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$IMG-own" "$PFX-c2" /bin/sh -c 'echo own image'
	[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# stderr: /'
	assert_rc 0 "ctr run of an image with its own TEE image"
	assert_contains "own image" "$OUT" "the workload's output"
	assert_eq "own" "$(carrier_of "$PFX-c2" | tr -d ' ')" "the carrier's choice"
	# an image made by rune-image convert (the user's own signature) runs as it is
	"$PY" "$MKIMAGE" oci "$CT/rootfs" "$CT/conv-src.tar" "$IMG-conv" \
		--cmd '["sh", "-c", "echo converted image"]'
	cl_ok "$BUILD/bin/rune-image" convert --key "$CT/key.pem" "$CT/conv-src.tar" "$CT/conv.tar"
	cl_ok C images import "$CT/conv.tar"
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$IMG-conv" "$PFX-c3"
	[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# stderr: /'
	assert_rc 0 "ctr run of an image made by rune-image convert"
	assert_eq "converted image" "$OUT" "the workload's output"
	assert_eq "own" "$(carrier_of "$PFX-c3" | tr -d ' ')" "the carrier's choice"
}

t_entrypoint() {
	shim_json "\"signature_method\": \"local-key\", \"signing_key\": \"$CT/key.pem\""
	local n
	n=$(entries | wc -l)
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$IMG" "$PFX-e1" /no/such/program
	assert_fails "ctr run of a missing entrypoint"
	assert_contains "carrier: entrypoint: /no/such/program in the image" "$ERR" "the error"
	nothing_left "$PFX-e1"
	"$PY" "$MKIMAGE" oci "$CT/rootfs" "$CT/nocmd.tar" "$IMG-nocmd" --cmd '[]'
	cl_ok C images import "$CT/nocmd.tar"
	cl C run --rm "${RT[@]}" "${ENC[@]}" "$IMG-nocmd" "$PFX-e2"
	assert_fails "ctr run of an image without entrypoint"
	assert_contains "carrier: entrypoint: the container has no process.args" "$ERR" "the error"
	nothing_left "$PFX-e2"
	assert_eq "$n" "$(entries | wc -l)" "cache entries (none added)"
}

t_concurrent() {
	shim_json "\"signature_method\": \"local-key\", \"signing_key\": \"$CT/key.pem\""
	local a b
	# a new entrypoint: a new key; two shims (no group) create it at once
	for i in 1 2; do
		timeout 90 ctr -a "$SOCK" -n "$PFX" run --rm "${RT[@]}" "${ENC[@]}" "$IMG" "$PFX-p$i" \
			sh -c 'echo concurrent' >"$CT/p$i.out" 2>"$CT/p$i.err" &
	done
	wait
	grep -q concurrent "$CT/p1.out" || fail "first: $(cat "$CT/p1.err")"
	grep -q concurrent "$CT/p2.out" || fail "second: $(cat "$CT/p2.err")"
	a=$(carrier_of "$PFX-p1")
	b=$(carrier_of "$PFX-p2")
	assert_eq "built cached" "$(printf '%s\n%s\n' "${a% *}" "${b% *}" | sort | tr '\n' ' ' | sed 's/ $//')" \
		"one build, one from the cache ($a / $b)"
}

t_bounded() {
	# at most 2 entries: the least recently used goes
	shim_json "\"signature_method\": \"local-key\", \"signing_key\": \"$CT/key.pem\", \"carrier_cache_entries\": 2"
	cl_ok C run --rm "${RT[@]}" "${ENC[@]}" "$IMG" "$PFX-b1" sh -c 'echo b1'
	cl_ok C run --rm "${RT[@]}" "${ENC[@]}" "$IMG" "$PFX-b2" sh -c 'echo b2'
	local k1 k2
	k1=$(carrier_of "$PFX-b1")
	k2=$(carrier_of "$PFX-b2")
	assert_eq 2 "$(entries | wc -l)" "cache entries"
	[ -d "$CACHE/${k1#* }" ] && [ -d "$CACHE/${k2#* }" ] || fail "the two newest entries are not kept"
}

t_rootfs_dir() {
	# a rootfs that is a plain directory (ctr run --rootfs: no layers): built, not cached
	shim_json "\"signature_method\": \"local-key\", \"signing_key\": \"$CT/key.pem\""
	cp -a "$CT/rootfs" "$CT/dir-rootfs"
	cl C run --rm "${RT[@]}" "${ENC[@]}" --rootfs "$CT/dir-rootfs" "$PFX-d1" sh -c 'echo from a dir'
	[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# stderr: /'
	assert_rc 0 "ctr run --rootfs DIR of an enclave container"
	assert_contains "from a dir" "$OUT" "the workload's output"
	assert_match '^built ' "$(carrier_of "$PFX-d1")" "the Carrier (no layers)"
	cl_ok C run --rm "${RT[@]}" "${ENC[@]}" --rootfs "$CT/dir-rootfs" "$PFX-d2" sh -c 'echo from a dir'
	assert_match '^built ' "$(carrier_of "$PFX-d2")" "the Carrier, again (no layers: no cache)"
	# the same directory mounted read-only: no mount point for the TEE files
	rmdir "$CT/dir-rootfs/.rune"
	mount --bind "$CT/dir-rootfs" "$CT/dir-rootfs" && mount -o remount,bind,ro "$CT/dir-rootfs"
	cl C run --rm "${RT[@]}" "${ENC[@]}" --rootfs "$CT/dir-rootfs" "$PFX-d3" sh -c 'echo no'
	umount "$CT/dir-rootfs"
	assert_fails "ctr run of an enclave container on a read-only rootfs"
	assert_contains "carrier: mount point /.rune in the rootfs: Read-only file system" "$ERR" "the error"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c .)" "lines of the error"
	nothing_left "$PFX-d3"
}

# mrenclave KEY: the ENCLAVEHASH of a cache entry's SIGSTRUCT
mrenclave() { "$BUILD/bin/sgx-tools" dump "$CACHE/$1/libos.sig" | awk '$1 == "enclavehash:" { print $2 }'; }

t_annotations() {
	shim_json "\"signature_method\": \"local-key\", \"signing_key\": \"$CT/key.pem\""
	local base heap heap2 opts n
	run_enclave "$PFX-a0"
	base=$(carrier_of "$PFX-a0")
	base=${base#* }
	# a bigger heap: another enclave, another entry, the workload still runs
	run_enclave "$PFX-a1" --annotation enclave.libos.heap=96M
	heap=$(carrier_of "$PFX-a1")
	assert_match '^built [0-9a-f]{64}$' "$heap" "the create with a heap annotation"
	heap=${heap#built }
	[ "$heap" != "$base" ] || fail "the heap annotation kept the cache key $base"
	[ "$(mrenclave "$heap")" != "$(mrenclave "$base")" ] || fail "the heap annotation kept MRENCLAVE"
	# the manifest's heap holds the program's pages too: at least what was asked
	[ "$(awk '$1 == "heap_size" { print $2 }' "$CACHE/$heap/manifest")" -ge $((96 << 20)) ] &&
		[ "$(awk '$1 == "heap_size" { print $2 }' "$CACHE/$base/manifest")" -lt $((96 << 20)) ] ||
		fail "the manifests' heaps: $(grep -h heap_size "$CACHE/$base/manifest" "$CACHE/$heap/manifest")"
	run_enclave "$PFX-a2" --annotation enclave.libos.heap=96M
	assert_eq "cached $heap" "$(carrier_of "$PFX-a2")" "the same annotation again"
	# threads, trusted and allowed paths: one more entry, in the manifest
	run_enclave "$PFX-a3" --annotation enclave.libos.threads=4 \
		--annotation enclave.libos.trusted=/bin/busybox --annotation enclave.libos.allowed=/tmp,/var/run
	opts=$(carrier_of "$PFX-a3")
	assert_match '^built [0-9a-f]{64}$' "$opts" "the create with threads, trusted, allowed"
	opts=${opts#built }
	[ "$opts" != "$base" ] && [ "$opts" != "$heap" ] || fail "threads/trusted/allowed kept a cache key"
	grep -q '^threads 4$' "$CACHE/$opts/manifest" || fail "the manifest's threads: $(grep '^threads' "$CACHE/$opts/manifest")"
	grep -q '/var/run' "$CACHE/$opts/manifest" || fail "the manifest lacks the allowed /var/run"
	# bad values: Create fails with one line naming the annotation, nothing added or left
	n=$(entries | wc -l)
	local bad
	for bad in "heap=12Q:not a size" "heap=512K:from 1M to 3G" "threads=0:not a number from 1 to 4096" \
		"threads=4k:not a number" "trusted=etc/passwd:etc/passwd is not an absolute path" \
		"allowed=/tmp/../etc:no \".\" or \"..\"" "allowed=/tmp,,/var:an empty path" \
		"heap=$(printf '64M\n2'):a control character in the value"; do
		cl C run --rm "${RT[@]}" "${ENC[@]}" --annotation "enclave.libos.${bad%%:*}" "$IMG" "$PFX-ab" sh -c 'echo no'
		assert_fails "ctr run with enclave.libos.${bad%%:*}"
		assert_contains "carrier: annotation enclave.libos.${bad%%=*}" "$ERR" "the error"
		assert_contains "${bad#*:}" "$ERR" "the reason"
		assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c .)" "lines of the error"
		nothing_left "$PFX-ab"
	done
	assert_eq "$n" "$(entries | wc -l)" "cache entries after the bad values"
}

exec 3>&1
tcase "carrier: local-key: converted at create, runs in the enclave; then from the cache, also read-only" t_local_key
tcase "carrier: server: signed by rune-signd once, then from the cache" t_server
tcase "carrier: the signature service refusing or down fails Create with one line, nothing left" t_server_refuses
tcase "carrier: client: an unsigned image is refused; an image's own TEE image (rune-image build, convert) runs" t_client
tcase "carrier: a missing entrypoint fails Create with one line, nothing left" t_entrypoint
tcase "carrier: two concurrent creates of a new image build once" t_concurrent
tcase "carrier: per-container manifest options (enclave.libos.*): new MRENCLAVE, new entry; bad values fail with one line" t_annotations
tcase "carrier: the cache is bounded (LRU)" t_bounded
tcase "carrier: a rootfs directory (no layers) is converted at each create; read-only, it fails with one line" t_rootfs_dir
