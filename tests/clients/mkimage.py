#!/usr/bin/python3
"""Build small container images offline, for the client tests.

  mkimage.py rootfs DIR [--enclave SRC_DIR]
      a busybox-static rootfs in DIR (applet symlinks, /etc/passwd, /etc/group);
      with --enclave, SRC_DIR/encl.elf and encl.ss are copied to DIR/enclave.
  mkimage.py tar DIR OUT.tar
      DIR as a tar (for `podman import`, `docker import`).
  mkimage.py oci DIR OUT.tar NAME [--env K=V]... [--cmd JSON] [--workdir D]
      an image archive with both an OCI layout (oci-layout, index.json,
      blobs/sha256/...) and a docker-save manifest.json, so that
      `ctr images import`, `docker load` and `podman load` all take it.
      NAME is a full reference (docker.io/library/busybox:rune).
      --format docker: only what `docker save` writes (HEX.json, ID/layer.tar
      uncompressed, manifest.json); --format oci: only the OCI layout, as
      `podman save --format oci-archive` writes it; --created DATE sets the
      config's created.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

BUSYBOX = os.environ.get("BUSYBOX", "/bin/busybox")


def make_rootfs(d, enclave=None):
    for sub in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys",
                "dev", "tmp", "root", "var", "run", "mnt", "home"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    shutil.copy(BUSYBOX, os.path.join(d, "bin/busybox"))
    os.chmod(os.path.join(d, "bin/busybox"), 0o755)
    applets = subprocess.run([BUSYBOX, "--list"], check=True,
                             capture_output=True, text=True).stdout.split()
    for a in applets:
        p = os.path.join(d, "bin", a)
        if not os.path.lexists(p):
            os.symlink("busybox", p)
    with open(os.path.join(d, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(d, "etc/group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")
    os.chmod(os.path.join(d, "tmp"), 0o1777)
    if enclave:
        e = os.path.join(d, "enclave")
        os.makedirs(e, exist_ok=True)
        for n in ("encl.elf", "encl.ss"):
            shutil.copy(os.path.join(enclave, n), os.path.join(e, n))
        # The same enclave with one byte of its SIGSTRUCT's signature flipped:
        # EINIT refuses it, and the reason must reach the client's user.
        t = os.path.join(d, "enclave-tampered")
        os.makedirs(t, exist_ok=True)
        shutil.copy(os.path.join(enclave, "encl.elf"), os.path.join(t, "encl.elf"))
        with open(os.path.join(enclave, "encl.ss"), "rb") as f:
            ss = bytearray(f.read())
        ss[600] ^= 0xff
        with open(os.path.join(t, "encl.ss"), "wb") as f:
            f.write(ss)


def _reset(ti):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = 0
    return ti


def layer_tar(d):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(d)):
            t.add(os.path.join(d, name), arcname=name, filter=_reset)
    return buf.getvalue()


def add_bytes(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    t.addfile(ti, io.BytesIO(data))


def oci(d, out, name, env, cmd, workdir, fmt="both", created=None):
    layer = layer_tar(d)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    gz = gzip.compress(layer, mtime=0)
    gz_digest = "sha256:" + hashlib.sha256(gz).hexdigest()
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + env,
                   "Cmd": cmd, "WorkingDir": workdir or ""},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "rune tests/clients/mkimage.py"}],
    }
    if created:
        config["created"] = created
    cfg = json.dumps(config, sort_keys=True).encode()
    cfg_digest = "sha256:" + hashlib.sha256(cfg).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cfg_digest, "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": gz_digest, "size": len(gz)}],
    }
    man = json.dumps(manifest, sort_keys=True).encode()
    man_digest = "sha256:" + hashlib.sha256(man).hexdigest()
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "latest"
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": man_digest, "size": len(man),
        "annotations": {"io.containerd.image.name": name,
                        "org.opencontainers.image.ref.name": tag}}]}
    blob = lambda dg: "blobs/sha256/" + dg.split(":")[1]
    docker_manifest = [{"Config": blob(cfg_digest), "RepoTags": [name],
                        "Layers": [blob(gz_digest)]}]
    if fmt == "docker":
        lid = hashlib.sha256(layer).hexdigest()
        with tarfile.open(out, "w") as t:
            add_bytes(t, cfg_digest.split(":")[1] + ".json", cfg)
            add_bytes(t, lid + "/layer.tar", layer)
            add_bytes(t, "manifest.json", json.dumps([{
                "Config": cfg_digest.split(":")[1] + ".json", "RepoTags": [name],
                "Layers": [lid + "/layer.tar"]}]).encode())
        return
    with tarfile.open(out, "w") as t:
        for dn in ("blobs", "blobs/sha256"):
            ti = tarfile.TarInfo(dn)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            t.addfile(ti)
        add_bytes(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(t, "index.json", json.dumps(index).encode())
        if fmt == "both":
            add_bytes(t, "manifest.json", json.dumps(docker_manifest).encode())
        add_bytes(t, blob(cfg_digest), cfg)
        add_bytes(t, blob(man_digest), man)
        add_bytes(t, blob(gz_digest), gz)


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    r = sp.add_parser("rootfs")
    r.add_argument("dir")
    r.add_argument("--enclave")
    t = sp.add_parser("tar")
    t.add_argument("dir")
    t.add_argument("out")
    o = sp.add_parser("oci")
    o.add_argument("dir")
    o.add_argument("out")
    o.add_argument("name")
    o.add_argument("--env", action="append", default=[])
    o.add_argument("--cmd", default='["sh"]')
    o.add_argument("--workdir")
    o.add_argument("--format", choices=("both", "docker", "oci"), default="both")
    o.add_argument("--created")
    a = ap.parse_args()
    if a.cmd == "rootfs":
        make_rootfs(a.dir, a.enclave)
    elif a.cmd == "tar":
        with open(a.out, "wb") as f:
            f.write(layer_tar(a.dir))
    else:
        oci(a.dir, a.out, a.name, a.env, json.loads(a.cmd), a.workdir,
            a.format, a.created)


if __name__ == "__main__":
    sys.exit(main())
