#!/usr/bin/env python3
"""Turns bench/libos.sh's raw results into a markdown table.

Input: WORK/run.tsv and WORK/build.tsv (timeit: label, ns, rc, maxrss,
cpu ns) and the environment libos.sh exports.
"""
import os
import statistics
import sys
import time


def load(path):
    """samples[label] = [(ns, cpu_ns) or None for a failed sample]."""
    out = {}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 5 or p[0] == "-":
                continue
            out.setdefault(p[0], []).append(
                None if int(p[2]) else (int(p[1]), int(p[4])))
    return out


def ms(v):
    v /= 1e6
    return "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v


def cell(vals, k=0):
    ok = [v[k] for v in vals if v]
    if not ok:
        return "n/a"
    s = "%s ms (%s–%s)" % (ms(statistics.median(ok)), ms(min(ok)), ms(max(ok)))
    if len(ok) < len(vals):
        s += ", %d failed" % (len(vals) - len(ok))
    return s


def ratios(a, b):
    r = [x[0] / y[0] for x, y in zip(a or [], b or []) if x and y and y[0]]
    return r


def rcell(a, b):
    r = ratios(a, b)
    if not r:
        return "n/a"
    return "%.2f (%.2f–%.2f)" % (statistics.median(r), min(r), max(r))


def main():
    work = sys.argv[1]
    env = os.environ.get
    run = load(os.path.join(work, "run.tsv"))
    build = load(os.path.join(work, "build.tsv"))
    heaps = env("HEAPS", "64M 1G").split()
    base = env("BASE")
    o = []
    w = o.append
    w("## LibOS hello: enclave start against native")
    w("")
    w("- date: %s; source tree %s; N=%s rounds (plus one warm-up), the"
      " cases alternating, the order rotating from round to round" % (
          time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
          env("V_TREE", "?"), env("N", "?")))
    w("- load average (1, 5, 15 min): %s at the start, %s at the end" % (
        env("LOAD_START", "?"), env("LOAD_END", "?")))
    w("- workload: `gcc -static` hello (ET_EXEC), in a busybox-static rootfs;"
      " enclave: `rune-image build --bundle --heap H`, the emulator unless"
      " /dev/sgx_enclave exists")
    w("")
    w("Cells: wall time, median (min–max); CPU: user + system of the command"
      " and its children. Ratios: median (min–max) of the ratios pair by pair"
      " (sample i of each in the same round).")
    w("")
    w("| case | wall | CPU | / ordinary container | / direct |")
    w("|---|---|---|---|---|")
    rows = [("direct", "hello, directly (no container)"),
            ("ordinary", "`rune run` of hello, ordinary container")]
    for h in heaps:
        rows.append(("enclave:" + h, "`rune run` of hello, LibOS enclave, heap %s" % h))
        rows.append(("pal:" + h, "↳ the PAL alone (`pal-host`), heap %s" % h))
        if base:
            rows.append(("base:" + h, "↳ the PAL alone, BASE build, heap %s" % h))
    for key, title in rows:
        v = run.get(key, [])
        w("| %s | %s | %s | %s | %s |" % (
            title, cell(v), cell(v, 1),
            rcell(v, run.get("ordinary")) if key != "ordinary" else "–",
            rcell(v, run.get("direct")) if key != "direct" else "–"))
    for h in heaps:
        v = build.get("build:" + h, [])
        w("| `rune-image build --heap %s` (5 samples) | %s | %s | – | – |" % (
            h, cell(v), cell(v, 1)))
    w("")
    if base:
        w("BASE: %s (its `pal-host` and `liberpal-libos.so`, on the same"
          " images)." % base)
        w("")
    w("Issue 13's target (start of a static hello in an enclave container <="
      " 1.5x an ordinary container running it natively, emulator):")
    w("")
    for h in heaps:
        r = ratios(run.get("enclave:" + h), run.get("ordinary"))
        if not r:
            w("- heap %s: n/a" % h)
            continue
        m = statistics.median(r)
        w("- heap %s: %.2f, %s" % (h, m, "met" if m <= 1.5 else "NOT met"))
    print("\n".join(o))


if __name__ == "__main__":
    main()
