#!/usr/bin/env python3
"""Turns bench/run.sh's raw results into the markdown table.

Input: WORK/results.tsv (timeit: label, ns, rc, maxrss), WORK/rss/RT.I
(/usr/bin/time -f %M), WORK/failures.tsv (case, runtime, reason),
WORK/notes, and the environment run.sh exports (versions, machine).
"""
import glob
import os
import statistics
import sys
import time

RTS = ["rune", "crun", "runc"]

# case, what it is, unit, commands per sample
ROWS = [
    ("version", "`--version` (process start-up, dynamic loading)", "ms", 1),
    ("run", "`run` /bin/true", "ms", 1),
    ("csd", "`create` + `start` + `delete`", "ms", 3),
    ("csd.create", "↳ of which `create`", "ms", 1),
    ("csd.start", "↳ of which `start`", "ms", 1),
    ("csd.delete", "↳ of which `delete`", "ms", 1),
    ("exec", "`exec` /bin/true into a running container", "ms", 1),
    ("state", "`state`, 100 containers present", "ms", 1),
    ("list", "`list`, 100 containers present", "ms", 1),
    ("start100", "100 containers `run --detach`, 2 in flight", "s", 1),
    ("delete100", "100 containers `delete --force`, 2 in flight", "s", 1),
    ("rss", "peak RSS of `run` (`/usr/bin/time -f %M`)", "MiB", 1),
    ("cpu", "CPU time (user+sys) of `run`, from `wait4`", "ms", 1),
]
# Which failure-log case name a row's n/a comes from.
WARM_CASE = {"state": "many", "list": "many", "start100": "many",
             "delete100": "many"}


def load(work):
    """samples[case][rt] = list of values (None: a failed sample)."""
    samples = {}
    partial = {}  # (case, rt) -> [sum, failed, count]
    per_sample = {r[0]: r[3] for r in ROWS}
    with open(os.path.join(work, "results.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or ":" not in parts[0]:
                continue
            case, rt = parts[0].split(":", 1)
            ns, rc = int(parts[1]), int(parts[2])
            if case == "rss":
                continue
            if case == "run" and len(parts) >= 5:
                samples.setdefault("cpu", {}).setdefault(rt, []).append(
                    None if rc else int(parts[4]))
            key = (case, rt)
            acc = partial.setdefault(key, [0, False, 0])
            if case == "csd":
                part = ("create", "start", "delete")[acc[2] % 3]
                samples.setdefault("csd." + part, {}).setdefault(rt, []).append(
                    None if rc else ns)
            acc[0] += ns
            acc[1] = acc[1] or rc != 0
            acc[2] += 1
            if acc[2] == per_sample.get(case, 1):
                samples.setdefault(case, {}).setdefault(rt, []).append(
                    None if acc[1] else acc[0])
                del partial[key]
    for path in glob.glob(os.path.join(work, "rss", "*.*")):
        rt, idx = os.path.basename(path).split(".", 1)
        if not idx.isdigit():
            continue
        try:
            with open(path) as f:
                lines = [l.strip() for l in f if l.strip()]
            kb = int(lines[-1])
        except (OSError, ValueError, IndexError):
            kb = None
        samples.setdefault("rss", {}).setdefault(rt, {})[int(idx)] = kb
    if "rss" in samples:
        for rt, d in samples["rss"].items():
            samples["rss"][rt] = [d[i] for i in sorted(d)]
    return samples


def scale(v, unit):
    if unit == "ms":
        return v / 1e6
    if unit == "s":
        return v / 1e9
    if unit == "MiB":
        return v / 1024.0
    return v


def fmt(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell(vals, unit):
    ok = [scale(v, unit) for v in vals if v is not None]
    if not ok:
        return None
    s = "%s %s (%s–%s)" % (fmt(statistics.median(ok)), unit, fmt(min(ok)),
                            fmt(max(ok)))
    bad = len(vals) - len(ok)
    if bad:
        s += ", %d failed" % bad
    return s


def ratio(a, b):
    """Median (min–max) of the pair-by-pair ratios a[i]/b[i]."""
    if not a or not b:
        return None
    r = [x / y for x, y in zip(a, b) if x is not None and y]
    if not r:
        return None
    return "%.2f (%.2f–%.2f)" % (statistics.median(r), min(r), max(r))


def pair_table(name_a, a, name_b, b, name_ratio):
    """rune's two alternating cases and their pair-by-pair ratio, as table lines."""
    return ["| case | rune |", "|---|---|",
            "| %s | %s |" % (name_a, cell(a, "ms") or "n/a"),
            "| %s | %s |" % (name_b, cell(b, "ms") or "n/a"),
            "| %s | %s |" % (name_ratio, ratio(a, b) or "n/a"), ""]


def median_ratio(a, b):
    if not a or not b:
        return None
    r = [x / y for x, y in zip(a, b) if x is not None and y]
    return statistics.median(r) if r else None


# case, what, limit on the median of rune/crun
TARGETS = [
    ("run", "`run` /bin/true: rune/crun <= 0.75", 0.75),
    ("rss", "peak RSS of `run`: below crun's", 1.0),
    ("exec", "`exec`: below crun's", 1.0),
    ("csd", "`create`+`start`+`delete`: below crun's", 1.0),
    ("state", "`state`: below crun's", 1.0),
]


def target_lines(samples):
    lines = []
    for case, what, limit in TARGETS:
        per = samples.get(case, {})
        r = median_ratio(per.get("rune"), per.get("crun"))
        if r is None:
            lines.append("- %s: n/a" % what)
            continue
        ok = r <= limit if limit < 1 else r < limit
        lines.append("- %s: %.2f, %s" % (what, r, "met" if ok else "NOT met"))
    return lines


def reasons(work):
    out = {}
    try:
        with open(os.path.join(work, "failures.tsv")) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 2)
                if len(parts) == 3:
                    out.setdefault((parts[0], parts[1]), parts[2])
    except OSError:
        pass
    return out


def main():
    work = sys.argv[1]
    env = os.environ.get
    samples = load(work)
    why = reasons(work)
    out = []
    w = out.append
    w("## rune, crun and runc: benchmark")
    w("")
    w("- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    w("- machine: %s cores, %s, %s RAM, kernel %s" % (
        env("M_CORES", "?"), env("M_CPU", "?"), env("M_MEM", "?"),
        env("M_KERNEL", "?")))
    rune = env("V_RUNE") or "n/a (%s)" % env("RUNE_BIN", "")
    if env("V_TREE"):
        rune += ", source tree %s" % env("V_TREE")
    w("- rune: %s" % rune)
    w("- crun: %s" % (env("V_CRUN") or "n/a"))
    w("- runc: %s" % (env("V_RUNC") or "n/a"))
    w("- floor: `unshare --mount --pid --net --uts --ipc --fork chroot ROOTFS"
      " /bin/true` (%s)" % env("V_UNSHARE", "util-linux"))
    w("- bundle: busybox-static rootfs, `runc spec` defaults, process"
      " /bin/true; samples: N=%s (--version, run, create+start+delete, exec), K=%s x"
      " ROUNDS=%s (state, list), ROUNDS=%s (100 containers), RSS_N=%s;"
      " one sample of each runtime per round, %s; total %ss" % (
          env("N"), env("K"), env("ROUNDS"), env("ROUNDS"), env("RSS_N"),
          "in the order rune crun runc (floor) in every round"
          if env("ORDER") == "fixed" else
          "the order rotating from round to round (rune crun runc floor,"
          " crun runc floor rune, ...)",
          env("BENCH_SECONDS", "?")))
    loadline = "- load average (1, 5, 15 min): %s at the start, %s at the end" % (
        env("LOAD_START", "?"), env("LOAD_END", "?"))
    try:
        busy = float(env("LOAD_END", "0").split()[0]) > float(env("M_CORES", "1"))
    except ValueError:
        busy = False
    if busy:
        loadline += " (busier than its cores: expect noise; the pair-by-pair"
        loadline += " ratios hold up better than the absolute times)"
    w(loadline)
    try:
        with open(os.path.join(work, "notes")) as f:
            for line in f:
                if line.strip():
                    w("- " + line.strip())
    except OSError:
        pass
    w("")
    w("Cells: median (min–max). Ratios: median (min–max) of the ratios"
      " taken pair by pair, sample i of one runtime against sample i of the"
      " other in the same round; below 1 means rune is faster or smaller.")
    w("")
    w("| case | rune | crun | runc | floor | rune/crun | rune/runc |")
    w("|---|---|---|---|---|---|---|")
    for case, title, unit, _ in ROWS:
        per = samples.get(case, {})
        cells = []
        for rt in RTS:
            c = cell(per.get(rt, []), unit)
            cells.append(c if c else "n/a")
        floor = cell(per.get("floor", []), unit) if case in ("run", "cpu") else None
        cells.append(floor or "–")
        cells.append(ratio(per.get("rune"), per.get("crun")) or "n/a")
        cells.append(ratio(per.get("rune"), per.get("runc")) or "n/a")
        w("| %s | %s |" % (title, " | ".join(cells)))
    w("")
    targets = target_lines(samples)
    if targets:
        w("Issue 7's targets (medians of the pair-by-pair ratios, this run):")
        w("")
        out.extend(targets)
        w("")
    run = samples.get("run", {})
    if run.get("floor"):
        parts = []
        for rt in RTS:
            r = ratio(run.get(rt), run["floor"])
            parts.append("%s/floor %s" % (rt, r or "n/a"))
        w("`run` against the floor, pair by pair: " + "; ".join(parts) + ".")
        w("")
    enc = samples.get("enclave", {}).get("rune")
    if enc:
        ordv = samples.get("ordinary", {}).get("rune")
        w("Enclave container (skeleton PAL, `hello`, emulator unless"
          " /dev/sgx_enclave exists) against an ordinary `run` of /bin/true,"
          " alternating, rune only:")
        w("")
        out.extend(pair_table("enclave `run` (skeleton hello)", enc,
                              "ordinary `run` /bin/true", ordv, "enclave/ordinary"))
    elif ("enclave", "rune") in why:
        w("Enclave container: n/a (rune: %s)." % why[("enclave", "rune")])
        w("")
    elif os.environ.get("CASES") and "enclave" not in os.environ["CASES"].split():
        w("Enclave container: not selected (CASES=\"%s\")." % os.environ["CASES"])
        w("")
    else:
        w("Enclave container: skipped: no enclave runtime built"
          " ($BUILD/lib/liberpal-skeleton-v3.so and"
          " $BUILD/share/skeleton/encl.elf).")
        w("")
    def rune_pair(case_a, case_b, intro, name_a, name_b):
        a = samples.get(case_a, {}).get("rune")
        if a:
            w(intro)
            w("")
            out.extend(pair_table(name_a, a, name_b,
                                  samples.get(case_b, {}).get("rune"), "on/off"))
        return bool(a)

    if not rune_pair("epc-on", "epc-off",
                     "Enclave start with EPC accounting on and off (docs/epc.md), the"
                     " same skeleton `run` alternating, rune only. On: the host-wide"
                     " registry (an entry per init-runelet, reaped and summed at each"
                     " create) and a 64Mi limit; off: no registry, no limit:",
                     "enclave `run`, accounting on", "enclave `run`, accounting off") \
            and ("epc", "rune") in why:
        w("EPC accounting on/off: n/a (rune: %s)." % why[("epc", "rune")])
        w("")
    rune_pair("epc-paged-delay", "epc-paged-count",
              "Enclave start past the EPC (docs/epc.md, \"Paging past the EPC\"): an"
              " emulated EPC of 64 KiB, smaller than the skeleton's enclave, so its"
              " load pages it out; the emulator spending the modelled time"
              " (`emulator.epc_paging_delay`) or only counting it, alternating:",
              "enclave `run` past the EPC, delay on", "the same, delay off")
    notes = []
    for (case, rt), reason in sorted(why.items()):
        if case in ("enclave", "epc"):
            continue
        where = "every case" if case == "*" else "case %s" % case
        notes.append("- %s n/a in %s: %s" % (rt, where, reason))
    if notes:
        w("Why n/a:")
        w("")
        out.extend(notes)
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
