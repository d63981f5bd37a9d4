"""Compile a .proto of tests/clients/proto/ with protoc into a temp dir and
import its _pb2 module (Debian's protobuf-compiler + python3-protobuf).
No grpc stubs are generated: callers use grpc's generic unary calls."""
import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "proto")
_out = None


def load(name, proto_dir=PROTO_DIR):
    """RUNE_PROTO_CACHE=DIR keeps the generated modules there across calls
    (the tests set it inside their temp dir); otherwise a temp dir is used
    and removed at exit.  proto_dir: where NAME.proto is (another
    component's, e.g. src/device-plugin/proto)."""
    global _out
    src = os.path.join(proto_dir, name + ".proto")
    if _out is None:
        _out = os.environ.get("RUNE_PROTO_CACHE")
        if _out:
            os.makedirs(_out, exist_ok=True)
        else:
            _out = tempfile.mkdtemp(prefix="rune-proto.")
            atexit.register(shutil.rmtree, _out, True)
        sys.path.insert(0, _out)
    gen = os.path.join(_out, name + "_pb2.py")
    if not os.path.exists(gen) or os.path.getmtime(gen) < os.path.getmtime(src):
        tmp = tempfile.mkdtemp(dir=_out)
        subprocess.run(["protoc", "-I", proto_dir, "--python_out=" + tmp, src], check=True)
        os.replace(os.path.join(tmp, name + "_pb2.py"), gen)
        os.rmdir(tmp)
    return importlib.import_module(name + "_pb2")


def unary(channel, method, req_cls, resp_cls):
    return channel.unary_unary(method, request_serializer=req_cls.SerializeToString,
                               response_deserializer=resp_cls.FromString)
