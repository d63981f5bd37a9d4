#!/usr/bin/python3
"""A fake kubelet for rune-device-plugin's test: serves Registration on
DIR/kubelet.sock (python3-grpcio), then plays the kubelet's part against the
plugin's socket and checks its answers.  Prints TAP-like lines ("ok - NAME",
"not ok - NAME: why").

  fake_kubelet.py DIR PLUGIN_PID CONFIG DEVDIR AESMD_DIR
  fake_kubelet.py allocate SOCKET N

The second form is the kubelet's Allocate alone, for an end-to-end test
(tests/clients/test-cri.sh): N device IDs ("0" .. "N-1") for one
container, whose envs are printed as KEY=VALUE lines.

DIR is the device plugin directory (the plugin runs with --plugin-dir DIR);
CONFIG is the rune config file the plugin reads the emulated EPC's size from
(16Mi at start; rewritten to 32Mi before a SIGHUP).  Every wait is bounded.
"""
import os
import queue
import signal
import socket
import sys
import threading
import time
from concurrent import futures

import grpc

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "clients"))
import protogen  # noqa: E402

pb = protogen.load("deviceplugin", os.path.join(SRC, "src", "device-plugin", "proto"))
DP = "/v1beta1.DevicePlugin/"
RESOURCE = "alibabacloud.com/sgx_epc_MiB"
WAIT = 10  # seconds, for anything the plugin should do on its own


if sys.argv[1] == "allocate":
    req = pb.AllocateRequest(container_requests=[
        pb.ContainerAllocateRequest(devices_ids=[str(i) for i in range(int(sys.argv[3]))])])
    with grpc.insecure_channel("unix://" + sys.argv[2]) as ch:
        fn = ch.unary_unary(DP + "Allocate", request_serializer=pb.AllocateRequest.SerializeToString,
                            response_deserializer=pb.AllocateResponse.FromString)
        try:
            grpc.channel_ready_future(ch).result(timeout=WAIT)
            resp = fn(req, timeout=WAIT)
        except (grpc.RpcError, grpc.FutureTimeoutError) as e:
            sys.exit("fake_kubelet.py: Allocate: %s" % e)
    for k, v in sorted(resp.container_responses[0].envs.items()):
        print("%s=%s" % (k, v))
    sys.exit(0)

DIR, PID, CONFIG, DEVDIR, AESMD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
failed = 0


def check(name, cond, why=""):
    global failed
    if cond:
        print("ok - " + name, flush=True)
    else:
        failed += 1
        print("not ok - %s: %s" % (name, why), flush=True)


class Kubelet:
    """Registration served on DIR/kubelet.sock; each Register goes to a queue."""

    def __init__(self, refuse=None):
        self.refuse = refuse  # a reason: Register fails with INVALID_ARGUMENT
        self.registered = queue.Queue()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.unary_unary_rpc_method_handler(
            self.register, request_deserializer=pb.RegisterRequest.FromString,
            response_serializer=pb.Empty.SerializeToString)
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("v1beta1.Registration", {"Register": handler}),))
        self.server.add_insecure_port("unix://" + os.path.join(DIR, "kubelet.sock"))
        self.server.start()

    def register(self, req, ctx):
        self.registered.put(req)
        if self.refuse:
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, self.refuse)
        return pb.Empty()

    def stop(self):
        self.server.stop(0).wait(5)


def plugin_channel(endpoint):
    return grpc.insecure_channel("unix://" + os.path.join(DIR, endpoint))


def call(ch, method, req, resp_cls, raw=False):
    """(response, None) or (None, grpc code)."""
    fn = ch.unary_unary(DP + method,
                        request_serializer=(lambda b: b) if raw else type(req).SerializeToString,
                        response_deserializer=resp_cls.FromString)
    try:
        return fn(req, timeout=WAIT), None
    except grpc.RpcError as e:
        return None, e.code()


def expect_register(k, name):
    try:
        req = k.registered.get(timeout=WAIT)
    except queue.Empty:
        check(name, False, "no Register within %d s" % WAIT)
        return None
    check(name, req.version == "v1beta1" and req.resource_name == RESOURCE and
          req.endpoint and "/" not in req.endpoint and
          req.options.get_preferred_allocation_available,
          "unexpected RegisterRequest %r" % req)
    return req


def wait_for(pred, secs=WAIT):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def watch(ch):
    """ListAndWatch in a thread: its messages go to a queue."""
    q = queue.Queue()
    stream = ch.unary_stream(DP + "ListAndWatch", request_serializer=pb.Empty.SerializeToString,
                             response_deserializer=pb.ListAndWatchResponse.FromString)(pb.Empty())

    def pump():
        try:
            for m in stream:
                q.put(m)
        except grpc.RpcError as e:
            q.put(e.code())
    threading.Thread(target=pump, daemon=True).start()
    return stream, q


def next_message(q):
    """The stream's next message (or its error code), None after WAIT seconds."""
    try:
        return q.get(timeout=WAIT)
    except queue.Empty:
        return None


def devices_ok(m, n):
    return (isinstance(m, pb.ListAndWatchResponse) and
            [d.ID for d in m.devices] == [str(i) for i in range(n)] and
            all(d.health == "Healthy" for d in m.devices))


def allocate_checks(ch):
    req = pb.AllocateRequest(container_requests=[
        pb.ContainerAllocateRequest(devices_ids=[str(i) for i in range(8)])])
    r, code = call(ch, "Allocate", req, pb.AllocateResponse)
    check("Allocate answers", r is not None, code)
    if r is None:
        return
    c = r.container_responses[0]
    check("Allocate: SGX_EPC_LIMIT is the number of IDs",
          len(r.container_responses) == 1 and dict(c.envs) == {"SGX_EPC_LIMIT": "8"}, c.envs)
    devs = sorted((d.container_path, d.host_path, d.permissions) for d in c.devices)
    enclave = os.path.join(DEVDIR, "sgx_enclave")
    check("Allocate: the device nodes that exist (sgx_enclave and its /dev/sgx/ alias)",
          devs == [("/dev/sgx/enclave", enclave, "rw"), ("/dev/sgx_enclave", enclave, "rw")], devs)
    mounts = [(m.container_path, m.host_path, m.read_only) for m in c.mounts]
    check("Allocate: aesmd's socket directory, read-only",
          mounts == [("/var/run/aesmd", AESMD, True)], mounts)

    two = pb.AllocateRequest(container_requests=[
        pb.ContainerAllocateRequest(devices_ids=["0"]),
        pb.ContainerAllocateRequest(devices_ids=["1", "2", "3"])])
    r, code = call(ch, "Allocate", two, pb.AllocateResponse)
    check("Allocate: one answer per container",
          r is not None and [x.envs["SGX_EPC_LIMIT"] for x in r.container_responses] == ["1", "3"],
          code or r)


def malformed_checks(ch):
    bad = [
        ("an unknown device ID", pb.AllocateRequest(container_requests=[
            pb.ContainerAllocateRequest(devices_ids=["0", "99"])]), grpc.StatusCode.INVALID_ARGUMENT),
        ("a non-canonical ID", pb.AllocateRequest(container_requests=[
            pb.ContainerAllocateRequest(devices_ids=["01"])]), grpc.StatusCode.INVALID_ARGUMENT),
        ("an ID twice", pb.AllocateRequest(container_requests=[
            pb.ContainerAllocateRequest(devices_ids=["3", "3"])]), grpc.StatusCode.INVALID_ARGUMENT),
        ("no container request", pb.AllocateRequest(), grpc.StatusCode.INVALID_ARGUMENT),
        ("a container with no device", pb.AllocateRequest(container_requests=[
            pb.ContainerAllocateRequest()]), grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for what, req, want in bad:
        r, code = call(ch, "Allocate", req, pb.AllocateResponse)
        check("Allocate refuses %s (%s)" % (what, want.name), code == want, code or r)
    r, code = call(ch, "Allocate", b"\xff\xff\xff", pb.AllocateResponse, raw=True)
    check("Allocate refuses bytes that are no message", code == grpc.StatusCode.INVALID_ARGUMENT,
          code or r)
    r, code = call(ch, "Allocate", b"\0" * (5 << 20), pb.AllocateResponse, raw=True)
    check("a request over 4 MiB is refused", code is not None and code != grpc.StatusCode.OK,
          code or r)
    r, code = call(ch, "NoSuchMethod", pb.Empty(), pb.Empty)
    check("an unknown method is UNIMPLEMENTED", code == grpc.StatusCode.UNIMPLEMENTED, code or r)
    pref = pb.PreferredAllocationRequest(container_requests=[
        pb.ContainerPreferredAllocationRequest(available_deviceIDs=["3", "4"], allocation_size=5)])
    r, code = call(ch, "GetPreferredAllocation", pref, pb.PreferredAllocationResponse)
    check("GetPreferredAllocation refuses a size beyond the devices given",
          code == grpc.StatusCode.INVALID_ARGUMENT, code or r)
    # Not HTTP/2 at all, and a connection that goes half way through a preface.
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"PRI * HTTP/2.0\r\n"):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(WAIT)
        s.connect(os.path.join(DIR, ENDPOINT))
        s.sendall(junk)
        s.close()
    r, code = call(ch, "GetDevicePluginOptions", pb.Empty(), pb.DevicePluginOptions)
    check("the plugin still answers after malformed requests", r is not None, code)


def other_calls(ch):
    r, code = call(ch, "GetDevicePluginOptions", pb.Empty(), pb.DevicePluginOptions)
    check("GetDevicePluginOptions: preferred allocation, no PreStart",
          r is not None and r.get_preferred_allocation_available and not r.pre_start_required,
          code or r)
    pref = pb.PreferredAllocationRequest(container_requests=[
        pb.ContainerPreferredAllocationRequest(available_deviceIDs=["3", "4", "5", "6"],
                                               must_include_deviceIDs=["5"], allocation_size=2)])
    r, code = call(ch, "GetPreferredAllocation", pref, pb.PreferredAllocationResponse)
    check("GetPreferredAllocation: the IDs that must be included, then the first available",
          r is not None and [list(c.deviceIDs) for c in r.container_responses] == [["5", "3"]],
          code or r)
    r, code = call(ch, "PreStartContainer", pb.PreStartContainerRequest(devices_ids=["1"]),
                   pb.PreStartContainerResponse)
    check("PreStartContainer answers", r is not None, code)


def write_config(size):
    tmp = CONFIG + ".tmp"
    with open(tmp, "w") as f:
        f.write('{"emulator": {"epc_size": "%s"}}\n' % size)
    os.chmod(tmp, 0o644)
    os.replace(tmp, CONFIG)


def sockets():
    return sorted(n for n in os.listdir(DIR) if n.endswith(".sock"))


def kubelet_gone():
    path = os.path.join(DIR, "kubelet.sock")
    if os.path.exists(path):
        os.unlink(path)


# A kubelet that refuses the registration: the plugin tries again.
k = Kubelet(refuse="version v1beta1 is not supported here")
try:
    k.registered.get(timeout=WAIT)
    again = k.registered.get(timeout=WAIT)
except queue.Empty:
    again = None
check("a refused registration is tried again", again is not None)
k.stop()
kubelet_gone()

# A kubelet that takes the connection and never answers: the plugin gives up
# after its --timeout (3 s) and hangs up.
hung = socket.socket(socket.AF_UNIX)
hung.bind(os.path.join(DIR, "kubelet.sock"))
hung.listen(4)
hung.settimeout(WAIT)
try:
    conn, _ = hung.accept()
    conn.settimeout(WAIT)
    t0 = time.monotonic()
    while conn.recv(4096):
        pass
    waited = time.monotonic() - t0
    conn.close()
except OSError as e:
    waited = e
check("a kubelet that never answers: the plugin hangs up after its --timeout",
      isinstance(waited, float) and 2 < waited < 6, waited)
hung.close()
kubelet_gone()

k = Kubelet()
req = expect_register(k, "the plugin registers v1beta1 " + RESOURCE)
ENDPOINT = req.endpoint if req else "rune-sgx-epc.sock"
ch = plugin_channel(ENDPOINT)
other_calls(ch)
stream, q = watch(ch)
first = next_message(q)
check("ListAndWatch: 16 devices (16Mi of emulated EPC), all Healthy", devices_ok(first, 16), first)
allocate_checks(ch)
malformed_checks(ch)

write_config("32Mi")
os.kill(PID, signal.SIGHUP)
second = next_message(q)
check("a change (SIGHUP, 32Mi) is pushed on the open ListAndWatch stream", devices_ok(second, 32),
      second)
stream.cancel()
ch.close()

# A kubelet restart: it goes, every socket in DIR is removed, a new one comes.
k.stop()
for n in sockets():
    os.unlink(os.path.join(DIR, n))
k = Kubelet()
req = expect_register(k, "the plugin registers again after a kubelet restart")
check("its socket is back", wait_for(lambda: ENDPOINT in sockets()), sockets())
ch = plugin_channel(ENDPOINT)
stream, q = watch(ch)
m = next_message(q)
check("the new kubelet's ListAndWatch gets the list", devices_ok(m, 32), m)
stream.cancel()
ch.close()

os.kill(PID, signal.SIGTERM)


def gone():
    try:
        os.kill(PID, 0)
        return False
    except ProcessLookupError:
        return True


# The plugin is the shell's child: it is reaped there; "gone" may see a zombie.
def exited():
    try:
        with open("/proc/%d/stat" % PID) as f:
            return f.read().split(") ")[1][0] == "Z"
    except FileNotFoundError:
        return True


check("SIGTERM: the plugin exits", wait_for(lambda: gone() or exited(), 5))
check("SIGTERM: its socket is removed", wait_for(lambda: ENDPOINT not in sockets(), 5), sockets())
k.stop()
sys.exit(1 if failed else 0)
