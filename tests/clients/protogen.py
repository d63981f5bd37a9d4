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


def load(name):
    global _out
    if _out is None:
        _out = tempfile.mkdtemp(prefix="rune-proto.")
        atexit.register(shutil.rmtree, _out, True)
        sys.path.insert(0, _out)
    subprocess.run(["protoc", "-I", PROTO_DIR, "--python_out=" + _out,
                    os.path.join(PROTO_DIR, name + ".proto")], check=True)
    return importlib.import_module(name + "_pb2")


def unary(channel, method, req_cls, resp_cls):
    return channel.unary_unary(method, request_serializer=req_cls.SerializeToString,
                               response_deserializer=resp_cls.FromString)
