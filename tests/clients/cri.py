#!/usr/bin/python3
"""A small CRI v1 client (what the kubelet calls), for the tests: crictl is
not packaged in Debian.  Stubs come from proto/cri_v1.proto, compiled with
protoc at run time (protogen.py).

  cri.py --sock SOCK version | status
  cri.py --sock SOCK imagestatus IMAGE
  cri.py --sock SOCK runp POD.json [--handler NAME]      -> pod id
  cri.py --sock SOCK inspectp|stopp|rmp POD_ID
  cri.py --sock SOCK create POD_ID CONTAINER.json POD.json -> container id
  cri.py --sock SOCK start|rm|inspect CONTAINER_ID
  cri.py --sock SOCK stop CONTAINER_ID [--timeout SECONDS]
  cri.py --sock SOCK update CONTAINER_ID RESOURCES.json
  cri.py --sock SOCK exec CONTAINER_ID [--timeout SECONDS] CMD...
      (ExecSync: the command's stdout and stderr are written out, and its
      exit code is this program's)
  cri.py --sock SOCK podstart POD.json CONTAINER.json --handlers H1,H2 [-n N]
      (bench/shim.sh: N rounds of a pod start, RunPodSandbox +
      CreateContainer + StartContainer, with each handler in turn, the
      order swapped every round, after one untimed start each; every start's
      pod is stopped and removed, untimed, before the next; one line a
      start: "HANDLER ROUND RUNP_US CREATE_US START_US", round -1 the
      warm-up; timed inside this one process, so no client start-up cost)

*.json are the CRI messages in protobuf's JSON mapping (PodSandboxConfig,
ContainerConfig, LinuxContainerResources); a file name "-" is stdin.
Results are printed as JSON.  A failed call prints
"cri.py: METHOD: CODE: details" on stderr and exits 1 (2 for usage).
"""
import argparse
import copy
import json
import sys
import time

import grpc
from google.protobuf import json_format

import protogen

pb = protogen.load("cri_v1")
RT = "/runtime.v1.RuntimeService/"
IMG = "/runtime.v1.ImageService/"


class CallError(Exception):
    pass


class Client:
    def __init__(self, sock, timeout):
        self.ch = grpc.insecure_channel("unix://" + sock)
        self.timeout = timeout

    def call(self, path, req, resp_cls, timeout=None):
        fn = protogen.unary(self.ch, path, type(req), resp_cls)
        try:
            return fn(req, timeout=timeout or self.timeout)
        except grpc.RpcError as e:
            raise CallError("%s: %s: %s" % (path.rsplit("/", 1)[1], e.code().name, e.details()))


def load_json(name, cls):
    f = sys.stdin if name == "-" else open(name)
    with f:
        return json_format.ParseDict(json.load(f), cls())


def pod_start(c, pod, ctr, handler):
    """RunPodSandbox, CreateContainer, StartContainer: each call's ns and
    the pod id (stopped and removed by the caller)."""
    t0 = time.perf_counter_ns()
    pid = c.call(RT + "RunPodSandbox", pb.RunPodSandboxRequest(config=pod, runtime_handler=handler),
                 pb.RunPodSandboxResponse).pod_sandbox_id
    t1 = time.perf_counter_ns()
    try:
        cid = c.call(RT + "CreateContainer", pb.CreateContainerRequest(
            pod_sandbox_id=pid, config=ctr, sandbox_config=pod),
            pb.CreateContainerResponse).container_id
        t2 = time.perf_counter_ns()
        c.call(RT + "StartContainer", pb.ContainerIdRequest(container_id=cid), pb.Empty)
        t3 = time.perf_counter_ns()
    except CallError:
        pod_remove(c, pid)
        raise
    return (t1 - t0, t2 - t1, t3 - t2), pid


def pod_remove(c, pid):
    c.call(RT + "StopPodSandbox", pb.PodSandboxIdRequest(pod_sandbox_id=pid), pb.Empty)
    c.call(RT + "RemovePodSandbox", pb.PodSandboxIdRequest(pod_sandbox_id=pid), pb.Empty)


def podstart(c, pod_file, ctr_file, handlers, rounds):
    """bench/shim.sh's pod starts (see the usage): each pod's name and uid
    get the handler and the round, as pods of a node are distinct."""
    base = load_json(pod_file, pb.PodSandboxConfig)
    ctr = load_json(ctr_file, pb.ContainerConfig)
    for rnd in range(-1, rounds):
        order = handlers if rnd % 2 == 0 or rnd < 0 else handlers[::-1]
        for h in order:
            pod = copy.deepcopy(base)
            tag = "-%s-%d" % (h, rnd + 1)
            pod.metadata.name += tag
            pod.metadata.uid += tag
            times, pid = pod_start(c, pod, ctr, h)
            pod_remove(c, pid)
            print(h, rnd, *(t // 1000 for t in times), flush=True)


def show(msg):
    """msg as JSON, fields at their default value (enum 0: SANDBOX_READY,
    CONTAINER_CREATED) included."""
    print(json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                               including_default_value_fields=True),
                     indent=1, sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description="minimal CRI v1 client")
    ap.add_argument("--sock", required=True)
    ap.add_argument("--call-timeout", type=float, default=60)
    sp = ap.add_subparsers(dest="cmd", required=True)
    sp.add_parser("version")
    sp.add_parser("status")
    p = sp.add_parser("imagestatus")
    p.add_argument("image")
    p = sp.add_parser("runp")
    p.add_argument("config")
    p.add_argument("--handler", default="")
    for c in ("inspectp", "stopp", "rmp"):
        sp.add_parser(c).add_argument("pod")
    p = sp.add_parser("create")
    p.add_argument("pod")
    p.add_argument("config")
    p.add_argument("pod_config")
    for c in ("start", "rm", "inspect"):
        sp.add_parser(c).add_argument("id")
    p = sp.add_parser("stop")
    p.add_argument("id")
    p.add_argument("--timeout", type=int, default=10)
    p = sp.add_parser("update")
    p.add_argument("id")
    p.add_argument("resources")
    p = sp.add_parser("podstart")
    p.add_argument("pod_config")
    p.add_argument("config")
    p.add_argument("--handlers", required=True)
    p.add_argument("-n", type=int, default=10)
    p = sp.add_parser("exec")
    p.add_argument("id")
    p.add_argument("--timeout", type=int, default=30)
    p.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    c = Client(a.sock, a.call_timeout)

    if a.cmd == "version":
        show(c.call(RT + "Version", pb.VersionRequest(version="v1"), pb.VersionResponse))
    elif a.cmd == "status":
        show(c.call(RT + "Status", pb.StatusRequest(verbose=False), pb.StatusResponse))
    elif a.cmd == "imagestatus":
        r = c.call(IMG + "ImageStatus", pb.ImageStatusRequest(image=pb.ImageSpec(image=a.image)),
                   pb.ImageStatusResponse)
        if not r.image.id:
            print("cri.py: ImageStatus: image %s not present" % a.image, file=sys.stderr)
            return 1
        show(r)
    elif a.cmd == "runp":
        r = c.call(RT + "RunPodSandbox", pb.RunPodSandboxRequest(
            config=load_json(a.config, pb.PodSandboxConfig), runtime_handler=a.handler),
            pb.RunPodSandboxResponse)
        print(r.pod_sandbox_id)
    elif a.cmd == "inspectp":
        show(c.call(RT + "PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=a.pod),
                    pb.PodSandboxStatusResponse).status)
    elif a.cmd in ("stopp", "rmp"):
        m = "StopPodSandbox" if a.cmd == "stopp" else "RemovePodSandbox"
        c.call(RT + m, pb.PodSandboxIdRequest(pod_sandbox_id=a.pod), pb.Empty)
    elif a.cmd == "create":
        r = c.call(RT + "CreateContainer", pb.CreateContainerRequest(
            pod_sandbox_id=a.pod, config=load_json(a.config, pb.ContainerConfig),
            sandbox_config=load_json(a.pod_config, pb.PodSandboxConfig)),
            pb.CreateContainerResponse)
        print(r.container_id)
    elif a.cmd in ("start", "rm"):
        m = "StartContainer" if a.cmd == "start" else "RemoveContainer"
        c.call(RT + m, pb.ContainerIdRequest(container_id=a.id), pb.Empty)
    elif a.cmd == "inspect":
        r = c.call(RT + "ContainerStatus", pb.ContainerStatusRequest(container_id=a.id),
                   pb.ContainerStatusResponse)
        show(r.status)
    elif a.cmd == "stop":
        c.call(RT + "StopContainer", pb.StopContainerRequest(container_id=a.id, timeout=a.timeout),
               pb.Empty, timeout=a.timeout + a.call_timeout)
    elif a.cmd == "update":
        c.call(RT + "UpdateContainerResources", pb.UpdateContainerResourcesRequest(
            container_id=a.id, linux=load_json(a.resources, pb.LinuxContainerResources)),
            pb.Empty)
    elif a.cmd == "podstart":
        podstart(c, a.pod_config, a.config, a.handlers.split(","), a.n)
    elif a.cmd == "exec":
        argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
        if not argv:
            ap.error("exec: no command")
        r = c.call(RT + "ExecSync", pb.ExecSyncRequest(container_id=a.id, cmd=argv,
                                                       timeout=a.timeout),
                   pb.ExecSyncResponse, timeout=a.timeout + a.call_timeout)
        sys.stdout.buffer.write(r.stdout)
        sys.stderr.buffer.write(r.stderr)
        return r.exit_code
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CallError as e:
        print("cri.py: %s" % e, file=sys.stderr)
        sys.exit(1)
