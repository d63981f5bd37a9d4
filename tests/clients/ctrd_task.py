#!/usr/bin/python3
"""ctrd_task.py SOCKET NAMESPACE CONTAINER [--binary-name B] [--root R]
                [--config-path P | --config-body JSON]

Runs the task of an existing container (`ctr container create`) with task
options that ctr cannot send to a runtime other than runc's:
containerd.runc.v1.Options (--binary-name, --root) or
runtimeoptions.v1.Options (--config-path, --config-body), as a CRI runtime
handler's options table does. Tasks.Create (the rootfs from the
snapshotter's Mounts of the container's key), Start, Wait, Delete, no
stdio. Prints the exit status; a failing call prints one line
"METHOD: CODE: details" on stderr and exits 1."""
import argparse
import sys

import grpc

import protogen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sock")
    ap.add_argument("ns")
    ap.add_argument("id")
    ap.add_argument("--binary-name", default="")
    ap.add_argument("--root", default="")
    ap.add_argument("--config-path", default="")
    ap.add_argument("--config-body", default="")
    ap.add_argument("--snapshotter", default="overlayfs")
    a = ap.parse_args()
    pb = protogen.load("containerd_tasks")
    ch = grpc.insecure_channel("unix://" + a.sock)
    md = [("containerd-namespace", a.ns)]
    t = "/containerd.services.tasks.v1.Tasks/"

    def call(name, path, req, resp, timeout=60):
        try:
            return protogen.unary(ch, path, type(req), resp)(req, metadata=md, timeout=timeout)
        except grpc.RpcError as e:
            print("%s: %s: %s" % (name, e.code().name, e.details()), file=sys.stderr)
            sys.exit(1)

    if a.config_path or a.config_body:
        opts = pb.Any(type_url="runtimeoptions.v1.Options", value=pb.RuntimeOptions(
            config_path=a.config_path, config_body=a.config_body.encode()).SerializeToString())
    else:
        opts = pb.Any(type_url="containerd.runc.v1.Options", value=pb.RuncOptions(
            binary_name=a.binary_name, root=a.root).SerializeToString())
    mounts = call("Mounts", "/containerd.services.snapshots.v1.Snapshots/Mounts",
                  pb.MountsRequest(snapshotter=a.snapshotter, key=a.id), pb.MountsResponse)
    call("Create", t + "Create", pb.CreateTaskRequest(container_id=a.id, rootfs=mounts.mounts,
                                                       options=opts), pb.CreateTaskResponse)
    call("Start", t + "Start", pb.StartRequest(container_id=a.id), pb.StartResponse)
    w = call("Wait", t + "Wait", pb.StartRequest(container_id=a.id), pb.WaitResponse)
    call("Delete", t + "Delete", pb.DeleteTaskRequest(container_id=a.id), pb.DeleteResponse)
    print(w.exit_status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
