#!/bin/bash
# timeout: 400
# Every ```sh block in README.md and docs/ (not docs/notes/, a record of
# past findings) runs as written (issue 12, item 9),
# unless the line before it says why it can't here:
#   <!-- snippet: not run (REASON) -->
# A block runs with `bash -e` in a scratch directory that links the
# repository's top-level entries (relative paths work, what it makes stays
# there), with
# build/bin first on PATH, under a time limit, in a private mount namespace
# whose /run/rune (rune's default --root) is a fresh tmpfs, so containers it
# leaves behind are found and deleted, never the host's; /usr/local and the
# client config dirs are fresh tmpfs there too, so an install or a config a
# block writes never reaches the host. Each block is one
# "ok"/"not ok"/"skip" line named FILE#N (N counts the file's sh blocks).
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
BUILD=${BUILD:-$TOP/build}
T=$(mktemp -d /tmp/rune-snippets.XXXXXX)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "skip - doc snippets (need root)"
	exit 0
fi

# extract FILE: each sh block into $T/blocks/FILE#N.sh, or .skip with the reason
python3 - "$T/blocks" README.md $(find docs -name '*.md' -not -path 'docs/notes/*' | sort) <<'PY'
import os, re, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for path in sys.argv[2:]:
    lines = open(path).read().split("\n")
    n, i = 0, 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            n += 1
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            name = "%s#%d" % (path.replace("/", "_"), n)
            prev = "\n".join(lines[max(0, i - 2):i])
            m = re.search(r"<!-- snippet: not run \((.*)\) -->", prev)
            if m:
                open(os.path.join(out, name + ".skip"), "w").write(m.group(1))
            else:
                open(os.path.join(out, name + ".sh"), "w").write("\n".join(lines[i + 1:j]) + "\n")
            i = j
        i += 1
PY

for f in "$T"/blocks/*; do
	name=$(basename "$f")
	name=${name%.*}
	name=${name//_/\/}
	if [[ $f == *.skip ]]; then
		echo "skip - $name ($(cat "$f"))"
		continue
	fi
	work=$T/work/$(basename "$f" .sh)
	mkdir -p "$work"
	# The block, then: every container it left is deleted (the tmpfs goes with the namespace).
	cat >"$work/run.sh" <<-WRAP
		mount -t tmpfs tmpfs /run/rune 2>/dev/null || { mkdir -p /run/rune && mount -t tmpfs tmpfs /run/rune; }
		# What a block installs or configures lands in throwaway copies, never the host's.
		for d in /usr/local /etc/rune /etc/containerd /etc/docker /etc/containers; do
			[ -d "\$d" ] || continue
			mount -t tmpfs tmpfs "\$d" || exit 97
		done
		cleanup() {
			for id in \$(ls /run/rune 2>/dev/null); do "$BUILD/bin/rune" delete --force "\$id" >/dev/null 2>&1; done
			rm -rf /tmp/eb /tmp/e.pid
		}
		trap cleanup EXIT
		export PATH="$BUILD/bin:\$PATH" HOME="$work"
		# A scratch directory that looks like the checkout: what the block makes stays there.
		cd "$work"
		for d in "$TOP"/* "$TOP"/.[!.]*; do ln -s "\$d" . ; done
		[ "$BUILD" = "$TOP/build" ] || { rm -f build; ln -s "$BUILD" build; }
		set -e
		source "$f"
	WRAP
	if (cd "$work" && timeout -k 5 120 unshare -m --propagation private bash "$work/run.sh") \
		>"$work/out" 2>&1 </dev/null; then
		echo "ok - $name"
	else
		sed 's/^/# /' "$work/out" | tail -15
		echo "not ok - $name"
	fi
done
