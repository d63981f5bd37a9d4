#!/usr/bin/python3
"""OCI config.json generator and editor for the integration tests (stdlib only).

Written independently of `rune spec` so the tests don't trust the code they
test.  The generated config is runc 1.1's `runc spec` default, except that
process.terminal is false (CI has no TTY) and args are the caller's.

usage:
  ocicfg.py gen FILE [ARGS_JSON]      write the default config
  ocicfg.py set FILE PATH JSON        set a value (creates missing objects)
  ocicfg.py del FILE PATH             delete a key / list element
  ocicfg.py append FILE PATH JSON     append to a list (created if missing)
  ocicfg.py get FILE|- PATH           print a value: strings raw, others JSON;
                                      exit 1 when the path is missing
  ocicfg.py py FILE CODE              exec CODE with `c` bound to the config
  ocicfg.py keys FILE|-               print every key path (structure), sorted
PATH looks like .process.args, .linux.namespaces[0].type, .a["dotted.key"]
"""
import json
import re
import sys

CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def default_config(args):
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": list(CAPS),
                "effective": list(CAPS),
                "permitted": list(CAPS),
                "ambient": list(CAPS),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    }


TOKEN = re.compile(r'\.([A-Za-z0-9_]+)|\[(-?\d+)\]|\["([^"]*)"\]')


def parse_path(path):
    keys, pos = [], 0
    while pos < len(path):
        m = TOKEN.match(path, pos)
        if not m:
            sys.exit("ocicfg: bad path %r at %d" % (path, pos))
        if m.group(1) is not None:
            keys.append(m.group(1))
        elif m.group(2) is not None:
            keys.append(int(m.group(2)))
        else:
            keys.append(m.group(3))
        pos = m.end()
    return keys


def walk(obj, keys, create):
    for k in keys:
        if isinstance(k, str) and isinstance(obj, dict) and k not in obj and create:
            obj[k] = {}
        obj = obj[k]
    return obj


def load(fname):
    if fname == "-":
        return json.load(sys.stdin)
    with open(fname) as f:
        return json.load(f)


def save(fname, c):
    with open(fname, "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")


def key_paths(obj, prefix=""):
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(prefix + "." + k)
            out.extend(key_paths(v, prefix + "." + k))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(key_paths(v, prefix + "[]"))
    return out


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, fname = argv[1], argv[2]
    if cmd == "gen":
        args = json.loads(argv[3]) if len(argv) > 3 else ["sh"]
        save(fname, default_config(args))
        return 0
    if cmd == "keys":
        print("\n".join(sorted(set(key_paths(load(fname))))))
        return 0
    c = load(fname)
    if cmd == "get":
        try:
            v = walk(c, parse_path(argv[3]), False)
        except (KeyError, IndexError, TypeError):
            return 1
        print(v if isinstance(v, str) else json.dumps(v))
        return 0
    if cmd == "py":
        exec(argv[3], {"c": c, "json": json})
        save(fname, c)
        return 0
    keys = parse_path(argv[3])
    parent = walk(c, keys[:-1], True)
    last = keys[-1]
    if cmd == "set":
        parent[last] = json.loads(argv[4])
    elif cmd == "del":
        try:
            del parent[last]
        except (KeyError, IndexError):
            pass
    elif cmd == "append":
        if isinstance(parent, dict):
            parent.setdefault(last, [])
        parent[last].append(json.loads(argv[4]))
    else:
        sys.exit("ocicfg: unknown command " + cmd)
    save(fname, c)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
