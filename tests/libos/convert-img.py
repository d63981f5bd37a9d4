#!/usr/bin/python3
"""Image archives for tests/libos/test-libos-convert.sh (no network, no daemons).

  convert-img.py hostile CASE ROOTFS OUT.tar
      a docker-archive (or OCI for oci-*) of ROOTFS plus one hostile layer or
      a corrupt part, as named by CASE (see CASES below).
  convert-img.py layered ROOTFS OUT.tar
      ROOTFS and a second layer with whiteouts: /etc/gone deleted (.wh.),
      /usr/share/opq emptied (.wh..wh..opq) but for its new file "new",
      /etc/motd-link a hard link to /etc/motd.
  convert-img.py check ARCHIVE CREATED
      checks a converted archive: every blob's digest, each layer's diff_id,
      owners 0 and mtimes CREATED (epoch), and prints the config's Entrypoint
      and Env (JSON) and the format.
  convert-img.py names ARCHIVE
      prints manifest.json's RepoTags and the index entry's name annotations.
  convert-img.py top ARCHIVE DIR
      unpacks the archive's top layer (the TEE layer) into DIR.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "clients"))
import mkimage  # noqa: E402


def member(t, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def layer_of(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            member(t, *e[:2], **(e[2] if len(e) > 2 else {}))
    return buf.getvalue()


def docker_archive(out, layers, cmd, corrupt=None, outer_extra=None, names=None):
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/bin"], "Cmd": cmd},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg = json.dumps(config).encode()
    names = names or [d.split(":")[1] + "/layer.tar" for d in diff_ids]
    if corrupt == "layer":
        layers = layers[:-1] + [layers[-1][:-1024] + b"x" * 1024]
    with tarfile.open(out, "w") as t:
        member(t, hashlib.sha256(cfg).hexdigest() + ".json", cfg)
        for n, l in zip(names, layers):
            member(t, n, l)
        if corrupt != "no-manifest":
            member(t, "manifest.json", json.dumps([{
                "Config": hashlib.sha256(cfg).hexdigest() + ".json",
                "RepoTags": ["localhost/rune-convert:hostile"],
                "Layers": names}]).encode())
        for e in outer_extra or []:
            member(t, *e[:2], **(e[2] if len(e) > 2 else {}))


def oci_archive(out, layer, cmd, corrupt):
    gz = gzip.compress(layer, mtime=0)
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/bin"], "Cmd": cmd},
              "rootfs": {"type": "layers",
                         "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}
    cfg = json.dumps(config).encode()
    d = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
    man = json.dumps({"schemaVersion": 2,
                      "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": d(cfg), "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": d(gz), "size": len(gz)}]}).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": d(man), "size": len(man)}]}).encode()
    blobs = [(d(b), b) for b in (cfg, gz) + (() if corrupt == "missing-manifest" else (man,))]
    if corrupt == "blob":  # the layer's blob, under its digest, altered
        blobs[1] = (blobs[1][0], gz[:-8] + b"\0" * 8)
    with tarfile.open(out, "w") as t:
        member(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        member(t, "index.json", index)
        for dg, b in blobs:
            member(t, "blobs/sha256/" + dg.split(":")[1], b)


SYM = {"type": tarfile.SYMTYPE}
CASES = {
    # name: (hostile layer entries, what the converter must say)
    "absolute": [("/etc/evil", b"x")],
    "dotdot": [("etc/../../evil", b"x")],
    "symlink-out": [("lnk", b"", dict(type=tarfile.SYMTYPE, linkname="../../../../etc"))],
    "hardlink-out": [("hl", b"", dict(type=tarfile.LNKTYPE, linkname="../../etc/passwd"))],
    "device": [("dev/evil", b"", dict(type=tarfile.CHRTYPE, devmajor=1, devminor=1))],
}


def hostile(case, rootfs, out):
    base = mkimage.layer_tar(rootfs)
    cmd = ["/bin/true"]
    if case in CASES:
        docker_archive(out, [base, layer_of(CASES[case])], cmd)
    elif case == "symlink-in-root":  # followed inside the root, never out
        docker_archive(out, [base, layer_of([("sub", b"", dict(type=tarfile.SYMTYPE,
                                                              linkname=os.environ["OUTSIDE"]))]),
                             layer_of([("sub/pwned", b"x")])], cmd)
    elif case == "outer-dotdot":
        docker_archive(out, [base], cmd, outer_extra=[("../evil-outer", b"x")])
    elif case == "outer-symlink":  # a layer named by a symlink to a host file
        docker_archive(out, [base], cmd, names=["x/layer.tar"],
                       outer_extra=[("x/layer.tar", b"", dict(type=tarfile.SYMTYPE,
                                                              linkname="/etc/passwd"))])
    elif case == "layer-digest":
        docker_archive(out, [base], cmd, corrupt="layer")
    elif case == "no-manifest":
        docker_archive(out, [base], cmd, corrupt="no-manifest")
    elif case in ("blob", "missing-manifest"):
        oci_archive(out, base, cmd, case)
    elif case == "bomb":  # 64 MiB of zeros, a few KiB gzip'ed
        docker_archive(out, [base, layer_of([("zeros", b"\0" * (64 << 20))])], cmd)
    elif case == "not-tar":
        with open(out, "wb") as f:
            f.write(os.urandom(4096))
    elif case == "no-entrypoint":
        docker_archive(out, [base], [])
    else:
        raise SystemExit("unknown case " + case)


def layered(rootfs, out):
    base = mkimage.layer_tar(rootfs)
    top = layer_of([("etc/.wh.gone", b""), ("usr/share/opq/.wh..wh..opq", b""),
                    ("usr/share/opq/new", b"new\n"),
                    ("etc/motd-link", b"", dict(type=tarfile.LNKTYPE, linkname="etc/motd"))])
    docker_archive(out, [base, top], ["/bin/true"])


def read_members(path):
    t = tarfile.open(path)
    return t, {m.name.rstrip("/"): m for m in t.getmembers()}


def check(path, created):
    t, ms = read_members(path)
    for m in ms.values():
        assert m.uid == 0 and m.gid == 0, "owner of %s" % m.name
        assert m.mtime == created, "mtime of %s: %d" % (m.name, m.mtime)
    blob = lambda n: t.extractfile(ms[n]).read()
    for n in ms:
        if n.startswith("blobs/sha256/") and ms[n].isfile():
            assert hashlib.sha256(blob(n)).hexdigest() == n.split("/")[-1], "blob " + n
    fmt = []
    if "index.json" in ms:
        fmt.append("oci")
        idx = json.loads(blob("index.json"))
        assert len(idx["manifests"]) == 1
        man = json.loads(blob("blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
        cfg_name = "blobs/sha256/" + man["config"]["digest"][7:]
        layers = ["blobs/sha256/" + l["digest"][7:] for l in man["layers"]]
    if "manifest.json" in ms:
        fmt.append("docker")
        dm = json.loads(blob("manifest.json"))
        assert len(dm) == 1
        if "index.json" in ms:
            assert dm[0]["Config"] == cfg_name and dm[0]["Layers"] == layers
        cfg_name, layers = dm[0]["Config"], dm[0]["Layers"]
    cfg = json.loads(blob(cfg_name))
    diff = [hashlib.sha256(gzip.decompress(blob(l)) if blob(l)[:2] == b"\x1f\x8b"
                           else blob(l)).hexdigest() for l in layers]
    assert ["sha256:" + d for d in diff] == cfg["rootfs"]["diff_ids"], "diff_ids"
    print("+".join(fmt))
    print(json.dumps(cfg["config"].get("Entrypoint")))
    print(json.dumps(cfg["config"].get("Env")))
    return t, ms, layers


def top(path, d):
    t, ms = read_members(path)
    dm = [m for m in ms if m == "manifest.json"]
    if dm:
        name = json.loads(t.extractfile(ms["manifest.json"]).read())[0]["Layers"][-1]
    else:
        idx = json.loads(t.extractfile(ms["index.json"]).read())
        man = json.loads(t.extractfile(ms["blobs/sha256/" + idx["manifests"][0]["digest"][7:]]).read())
        name = "blobs/sha256/" + man["layers"][-1]["digest"][7:]
    data = t.extractfile(ms[name]).read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as lt:
        for m in lt.getmembers():
            assert not m.name.startswith("/") and ".." not in m.name.split("/")
            assert m.name.startswith(".rune")
        lt.extractall(d)


def names(path):
    t, ms = read_members(path)
    dm = json.loads(t.extractfile(ms["manifest.json"]).read())
    ann = json.loads(t.extractfile(ms["index.json"]).read())["manifests"][0]["annotations"]
    print(" ".join(dm[0]["RepoTags"]), ann["io.containerd.image.name"],
          ann["org.opencontainers.image.ref.name"])


def main():
    cmd = sys.argv[1]
    if cmd == "hostile":
        hostile(*sys.argv[2:5])
    elif cmd == "layered":
        layered(*sys.argv[2:4])
    elif cmd == "check":
        check(sys.argv[2], int(sys.argv[3]))
    elif cmd == "names":
        names(sys.argv[2])
    elif cmd == "top":
        top(*sys.argv[2:4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
