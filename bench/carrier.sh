#!/bin/bash
# make bench-carrier: the start of an enclave container that the shim's
# Carrier converts at Create (the first start of an image: manifest,
# measurement, signature with a local key) against one from the Carrier's
# cache, and an ordinary container, side by side in one run: `ctr run --rm`
# of `sh -c true` under containerd 1.6 with runtime io.containerd.rune.v2.
# containerd, its shims and the image are set up (and removed at the end)
# by the tests' own helpers (tests/clients/lib.sh, ctrd.sh). See
# docs/benchmarks.md.
#
# Environment:
#   BUILD     build tree (make exports it; default ./build)
#   N         samples of each case (default 10)
set -uo pipefail
N=${N:-10}
CLIENT=benchcarrier
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/../tests/clients/lib.sh"
need_pkgs containerd >&2
IMG=docker.io/library/rune-busybox:benchcarrier
SHIM_JSON=$CT/shim.json
CTRD_ENV=("PATH=$BUILD/bin:$PATH" "RUNE_SHIM_CONFIG=$SHIM_JSON" "SGX_EMU_SECRET=$CT/sgx-emu-secret")
# shellcheck source=tests/clients/ctrd.sh
. "$CL_DIR/ctrd.sh"
client_stop() { ctrd_stop; }
"$BUILD/bin/sgx-tools" gen-key --out "$CT/key.pem" >/dev/null 2>&1 && chmod 0600 "$CT/key.pem"
# shim_json CACHE-DIR
shim_json() {
	printf '{"rune": "%s", "signature_method": "local-key", "signing_key": "%s", "carrier_cache": "%s"}\n' \
		"$CT/rune-pal" "$CT/key.pem" "$1" >"$SHIM_JSON"
	chmod 0644 "$SHIM_JSON"
}
shim_json "$CT/cache"
ctrd_start bench-carrier >&2
ctrd_import bench-carrier >&2

# one CASE: ms of `ctr run --rm` appended to $CT/CASE.ms
sample() {
	local case=$1 t0 t1 rc
	shift
	t0=$(date +%s%N)
	ctr -a "$SOCK" -n "$PFX" run --rm --runtime io.containerd.rune.v2 "$@" "$IMG" "$PFX-$case" \
		sh -c true >/dev/null 2>"$CT/err"
	rc=$?
	t1=$(date +%s%N)
	if [ $rc != 0 ]; then
		echo "bench-carrier: $case failed: $(tail -1 "$CT/err")" >&2
		return 1
	fi
	echo $(((t1 - t0) / 1000)) >>"$CT/$case.ms"
}

ENC=(--annotation enclave.type=intelSgx)
shim_json "$CT/cache"
sample warm "${ENC[@]}" && rm -f "$CT/warm.ms" # the cache entry, one untimed round
for ((i = 0; i < N; i++)); do
	# a new cache directory: the Carrier converts and signs again
	shim_json "$CT/cold-$i"
	sample first "${ENC[@]}" || break
	shim_json "$CT/cache"
	sample cached "${ENC[@]}" || break
	sample ordinary || break
	rm -rf "$CT/cold-$i"
done

# CASE LABEL: "| label | median (min–max) | mean |" in ms
row() {
	sort -n "$CT/$1.ms" | awk -v l="$2" '{ v[NR] = $1 / 1000; s += v[NR] }
		END { if (!NR) exit; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "| %s | %.0f ms (%.0f–%.0f) | %.0f ms |\n", l, m, v[1], v[NR], s / NR }'
}
out=$BUILD/bench/carrier.md
mkdir -p "$BUILD/bench"
{
	echo "Enclave container start through containerd-shim-rune-v2 ($N samples each, alternated; \`ctr run --rm\` of \`sh -c true\`, busybox image, LibOS on the SGX emulator, local-key signing):"
	echo
	echo "| case | median (min–max) | mean |"
	echo "|---|---|---|"
	row first "enclave, first start: converted by the Carrier (manifest, measurement, signature)"
	row cached "enclave, from the Carrier's cache"
	row ordinary "ordinary container (no enclave)"
} | tee "$out"
