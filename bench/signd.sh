#!/bin/bash
# make bench-signd (and make bench): rune-signd's signatures per second over
# TLS with keep-alive, against the machine's raw RSA-3072 signing rate from
# `openssl speed -elapsed -multi NCPU rsa3072` in the same run (wall-clock
# rates both: -elapsed, since by default openssl divides by its CPU time); p99 latency at that
# load and at a moderate one; the service's memory under load; the load
# generator's own CPU (bench/signd-load.c). See docs/benchmarks.md.
# The machine is shared (and so is CI's): the raw rate and the service's
# are measured in alternation, ROUNDS times each, and the ratio is the
# median of the rounds' ratios, so that a neighbour's load shifts both.
#   BUILD        build tree (default ./build; make all first)
#   SECONDS_RUN  seconds of each measurement (default 5)
#   ROUNDS       rounds of (openssl speed, service at full load) (default 3)
#   CONNS        concurrent clients, kept-alive connections (default 32)
#   RATE         the moderate load, requests per second (default 100)
#   THREADS      the service's worker threads (default: its own, one per CPU)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$top/build}
SECS=${SECONDS_RUN:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
RATE=${RATE:-100}
NCPU=$(nproc)
D=$BUILD/bin/rune-signd
T=$BUILD/bin/sgx-tools
for f in "$D" "$T" "$BUILD/share/skeleton/encl.elf"; do
	[ -e "$f" ] || { echo "bench-signd: missing $f (make all)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/rune-bench-signd.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
umask 077

cc -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -o load "$here/signd-load.c" -lcurl
"$T" gen-key --out key.pem 2>/dev/null
"$T" gendata --elf "$BUILD/share/skeleton/encl.elf" --out material.bin 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls.key \
	-out tls.crt -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
"$D" gen-token bench --tokens tokens.json >token
extra=()
[ -n "${THREADS:-}" ] && extra=(--threads "$THREADS")
"$D" --listen 127.0.0.1:0 --tls-cert tls.crt --tls-key tls.key --key key.pem --tokens tokens.json \
	--audit-log audit.log --max-connections 1024 "${extra[@]}" 2>signd.log &
pid=$!
url=
for _ in $(seq 200); do
	url=$(sed -n 's/^rune-signd: listening on \([^ ]*\) .*/\1/p' signd.log)
	[ -n "$url" ] && break
	sleep 0.05
done
[ -n "$url" ] || { echo "bench-signd: the service did not start: $(cat signd.log)" >&2; exit 1; }

# ticks PID: user+system clock ticks of a process so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# load ARGS...: runs the generator while sampling the service's RSS; prints
# the generator's line plus rss_max_kb=, signd_cpu_pct=.
load() {
	local t0 t1 rss=0 r out
	t0=$(ticks "$pid")
	./load --url "$url/api/v2/sigstruct" --body material.bin --token-file token --cacert tls.crt \
		--expect-bytes 1808 --seconds "$SECS" --warmup 1 "$@" >load.out &
	local lp=$!
	while kill -0 "$lp" 2>/dev/null; do
		r=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
		[ "${r:-0}" -gt "$rss" ] && rss=$r
		sleep 0.2
	done
	wait "$lp" || { echo "bench-signd: the load generator failed: $(cat load.out)" >&2; exit 1; }
	t1=$(ticks "$pid")
	out=$(cat load.out)
	echo "$out rss_max_kb=$rss signd_cpu_pct=$(((t1 - t0) * 100 / hz / (SECS + 1))) signd_cpu_ticks=$((t1 - t0))"
}
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

rss_idle=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
raws=() fulls=() ratios=()
for round in $(seq "$ROUNDS"); do
	echo "bench-signd: round $round: openssl speed -multi $NCPU rsa3072 (${SECS}s) ..." >&2
	raws+=("$(openssl speed -elapsed -seconds "$SECS" -multi "$NCPU" rsa3072 2>/dev/null |
		awk '/^rsa 3072 bits/ { v = $6 } END { print v }')")
	echo "bench-signd: round $round: $CONNS connections, closed loop (${SECS}s) ..." >&2
	fulls+=("$(load --connections "$CONNS")")
	ratios+=("$(awk -v a="$(field rps "${fulls[-1]}")" -v b="${raws[-1]}" \
		'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }') $((round - 1))")
done
# The median round by ratio: its figures are the table's.
mid=$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
ratio=${mid% *}
raw=${raws[${mid#* }]}
full=${fulls[${mid#* }]}
all_ratios=$(printf '%s\n' "${ratios[@]}" | awk '{ printf "%s%s", sep, $1; sep = ", " }')
echo "bench-signd: $RATE requests/s (${SECS}s) ..." >&2
moderate=$(load --connections "$CONNS" --rate "$RATE")
kill -TERM "$pid"
wait "$pid" || true
pid=
lines=$(wc -l <audit.log)

rps=$(field rps "$full")
cat <<EOF

rune-signd, POST /api/v2/sigstruct over TLS 1.3 with keep-alive, $NCPU CPUs ($(nproc) online), $SECS s each, the median of $ROUNDS rounds

| measure | value |
|---|---|
| raw RSA-3072 signing, \`openssl speed -elapsed -multi $NCPU rsa3072\` | $raw sign/s |
| rune-signd, $CONNS clients, closed loop | $rps sign/s (**${ratio}x** raw; rounds: $all_ratios), $(field err "$full") errors |
| p50 / p99 latency at that load | $(field p50_ms "$full") / $(field p99_ms "$full") ms |
| p50 / p99 latency at $RATE/s | $(field p50_ms "$moderate") / $(field p99_ms "$moderate") ms ($(field rps "$moderate") sign/s done) |
| service CPU at full load | $(field signd_cpu_pct "$full") % (100 = one core), $(awk -v t="$(field signd_cpu_ticks "$full")" -v hz="$hz" -v n="$(field ok "$full")" -v s="$SECS" 'BEGIN { printf "%.2f", t / hz * 1000 / (n * (s + 1) / s) }') ms per signature |
| load generator CPU at full load | $(field cpu_pct "$full") % |
| service RSS: idle, max at full load, max at $RATE/s | $((rss_idle / 1024)) MiB, $(($(field rss_max_kb "$full") / 1024)) MiB, $(($(field rss_max_kb "$moderate") / 1024)) MiB |
| audit lines written | $lines |
EOF
