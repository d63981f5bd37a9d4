#!/usr/bin/python3
"""ctrd_update.py SOCKET NAMESPACE CONTAINER RESOURCES_JSON

containerd Tasks.Update (what dockerd and the CRI plugin call for a resource
update; ctr has no such command): RESOURCES_JSON is an OCI LinuxResources
object, sent as containerd's typeurl does for runtime-spec types (JSON in an
Any).  The runc v2 shim then runs `RUNTIME update --resources - ID`."""
import sys

import grpc

import protogen


def main():
    sock, ns, cid, res = sys.argv[1:5]
    pb = protogen.load("containerd_tasks")
    ch = grpc.insecure_channel("unix://" + sock)
    update = protogen.unary(ch, "/containerd.services.tasks.v1.Tasks/Update",
                            pb.UpdateTaskRequest, pb.Empty)
    req = pb.UpdateTaskRequest(container_id=cid, resources=pb.Any(
        type_url="types.containerd.io/opencontainers/runtime-spec/1/LinuxResources",
        value=res.encode()))
    try:
        update(req, metadata=[("containerd-namespace", ns)], timeout=30)
    except grpc.RpcError as e:
        print("update: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
