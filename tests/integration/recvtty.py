#!/usr/bin/python3
"""Tiny --console-socket receiver (like runc's contrib/cmd/recvtty).

usage: recvtty.py SOCKET OUTFILE [INPUT]
Listens on the unix socket SOCKET, touches SOCKET.ready once listening,
accepts one connection, receives the pty master over SCM_RIGHTS, writes
INPUT (if given) to it, then copies everything the container prints to
OUTFILE until the pty closes (EIO/EOF) or 20 s pass.  OUTFILE.info gets
one JSON line: the message name sent with the fd, whether the fd is a tty,
and the window size (rows, cols) seen on the master.
"""
import array
import fcntl
import json
import os
import select
import socket
import struct
import sys
import termios
import time


def main():
    path, outfile = sys.argv[1], sys.argv[2]
    data = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    with open(path + ".ready", "w") as f:
        f.write("ready\n")
    srv.settimeout(30)
    conn, _ = srv.accept()
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(16 * fds.itemsize))
    for level, typ, cdata in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
    info = {"name": msg.decode(errors="replace"), "nfds": len(fds)}
    if not fds:
        json.dump(info, open(outfile + ".info", "w"))
        open(outfile, "w").close()
        return 1
    master = fds[0]
    for extra in fds[1:]:
        os.close(extra)
    info["isatty"] = os.isatty(master)
    try:
        ws = fcntl.ioctl(master, termios.TIOCGWINSZ, b"\0" * 8)
        info["rows"], info["cols"] = struct.unpack("HHHH", ws)[:2]
    except OSError as e:
        info["winsz_error"] = str(e)
    with open(outfile + ".info", "w") as f:
        json.dump(info, f)
    if data:
        os.write(master, data)
    out = b""
    deadline = time.time() + 20
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every slave fd closed
            break
        if not chunk:
            break
        out += chunk
        with open(outfile, "wb") as f:
            f.write(out)
    with open(outfile, "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
