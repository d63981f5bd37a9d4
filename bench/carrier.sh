#!/bin/bash
# make bench-carrier: the start of an enclave pod whose container the
# shim's Carrier converts at Create (the first start of an image: manifest,
# measurement, signature with a local key) against one from the Carrier's
# cache, and an ordinary pod, side by side in one run: RunPodSandbox +
# CreateContainer + StartContainer (cri.py, the kubelet's calls) under
# containerd 1.6's CRI with runtime type io.containerd.rune.v2. containerd,
# its shims and the images are set up (and removed at the end) by the
# tests' own helpers (tests/clients/lib.sh, crid.sh). See
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
need_pkgs cri >&2
IMG=docker.io/library/rune-busybox:benchcarrier
PAUSE=docker.io/library/rune-pause:benchcarrier
SHIM_JSON=$CT/shim.json
"$BUILD/bin/sgx-tools" gen-key --out "$CT/key.pem" >/dev/null 2>&1 && chmod 0600 "$CT/key.pem"
# shim_json CACHE-DIR
shim_json() {
	printf '{"rune": "%s", "signature_method": "local-key", "signing_key": "%s", "carrier_cache": "%s"}\n' \
		"$CT/rune-pal" "$CT/key.pem" "$1" >"$SHIM_JSON"
	chmod 0644 "$SHIM_JSON"
}
shim_json "$CT/cache"
CRID_HANDLERS='    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rune]
      runtime_type = "io.containerd.rune.v2"
      container_annotations = ["enclave.*"]'
CRID_ENV=("PATH=$BUILD/bin:$PATH" "RUNE_SHIM_CONFIG=$SHIM_JSON" "SGX_EMU_SECRET=$CT/sgx-emu-secret")
# shellcheck source=tests/clients/crid.sh
. "$CL_DIR/crid.sh"
crid_start bench-carrier >&2

ENC='"annotations": {"enclave.type": "intelSgx"}'
# sample CASE [CONTAINER-JSON-FIELD]: ms of the pod's start appended to $CT/CASE.ms
_ns=0
sample() {
	local case=$1 t0 t1
	_ns=$((_ns + 1))
	ctr_config "c$_ns" '"command": ["sh", "-c", "true"]' ${2:+"$2"}
	t0=$(date +%s%N)
	(run_pod "p$_ns" && create_start "p$_ns" "c$_ns") >"$CT/sample.out" 2>&1
	local rc=$?
	t1=$(date +%s%N)
	client_case_cleanup
	if [ $rc != 0 ]; then
		echo "bench-carrier: $case failed: $(grep -v '^#   out' "$CT/sample.out" | tail -3)" >&2
		return 1
	fi
	echo $(((t1 - t0) / 1000)) >>"$CT/$case.ms"
}
shim_json "$CT/cache"
sample warm "$ENC" && rm -f "$CT/warm.ms" # the cache entry, one untimed round
for ((i = 0; i < N; i++)); do
	# a new cache directory: the Carrier converts and signs again
	shim_json "$CT/cold-$i"
	sample first "$ENC" || break
	shim_json "$CT/cache"
	sample cached "$ENC" || break
	sample ordinary || break
	rm -rf "$CT/cold-$i"
done

# CASE LABEL: "| label | median (min–max) | mean |" in ms
row() {
	sort -n "$CT/$1.ms" | awk -v l="$2" '{ v[NR] = $1 / 1000; s += v[NR] }
		END { if (!NR) exit; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "| %s | %.0f ms (%.0f–%.0f) | %.0f ms |\n", l, m, v[1], v[NR], s / NR }'
}
# the Carrier's own step in each Create, as the shim logs it ("carrier: built KEY (N ms)")
for c in built cached; do
	grep -o "carrier: $c [0-9a-f]* ([0-9]* ms)" "$CT/containerd.log" | sed 's/.*(\([0-9]*\) ms)/\1000/' >"$CT/step-$c.ms"
done
out=$BUILD/bench/carrier.md
mkdir -p "$BUILD/bench"
{
	echo "Pod start (RunPodSandbox + CreateContainer + StartContainer) through containerd-shim-rune-v2 ($N samples each, alternated; the container \`sh -c true\` from a busybox image, LibOS on the SGX emulator, local-key signing):"
	echo
	echo "| case | median (min–max) | mean |"
	echo "|---|---|---|"
	row first "enclave pod, first start: converted by the Carrier (manifest, measurement, signature)"
	row cached "enclave pod, from the Carrier's cache"
	row ordinary "ordinary pod (no enclave)"
	row step-built "↳ the Carrier's step in Create, converting (rune-image carrier: manifest, measurement, signature)"
	row step-cached "↳ the Carrier's step in Create, from the cache"
} | tee "$out"
