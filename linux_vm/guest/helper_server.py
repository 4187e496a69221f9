"""Guest: the rig's root helper, one ``python3`` that runs the rig's programs in turn.

Run with no arguments it serves its stdin/stdout (started per SSH session with
sudo); with ``--listen PORT TOKEN_FILE`` it is the image's resident root helper
on the guest's loopback, started at boot, so a restored VM has it already
running and warm. A client first sends the token; then each request is a
length-prefixed JSON frame ``{"program", "input"}`` (input in base64) and each
answer ``{"stdout", "stderr", "code"}``. Programs run one at a time, as
``__main__``, with ``sys.stdin`` / ``sys.stdout`` swapped for the request's.
The modules programs import are loaded here once, so none pays for it again.
"""

import base64
import email  # noqa: F401  (preloaded for the programs)
import grp  # noqa: F401
import hashlib  # noqa: F401
import hmac
import io
import json
import os
import pwd  # noqa: F401
import socket
import sqlite3  # noqa: F401
import struct
import subprocess  # noqa: F401
import sys
import tarfile  # noqa: F401
import threading
import time  # noqa: F401
import traceback
import urllib.parse  # noqa: F401

RUN = threading.Lock()
# What a program keeps for the next ones (``import __main__; __main__.KEPT``): the clock
# keeper's reference and thread (set_clock.py). Only a long-lived helper has it.
KEPT = {}


class Closed(Exception):
    pass


def read(src, n):
    buf = b""
    while len(buf) < n:
        chunk = src.read(n - len(buf))
        if not chunk:
            raise Closed()
        buf += chunk
    return buf


def frame(src):
    return read(src, struct.unpack(">Q", read(src, 8))[0])


def run(program, given):
    """Run one program on ``given`` stdin bytes: ``(stdout, stderr, exit code)``."""
    out, err, code = io.StringIO(), "", 0
    with RUN:
        saved = sys.stdin, sys.stdout
        sys.stdin = io.TextIOWrapper(io.BytesIO(given), encoding="utf-8")
        sys.stdout = out
        try:
            exec(compile(program, "<clawrig>", "exec"), {"__name__": "__main__"})
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            err, code = traceback.format_exc(), 1
        finally:
            sys.stdin, sys.stdout = saved
    return out.getvalue(), err, code


def serve(src, dst):
    while True:
        req = json.loads(frame(src))
        out, err, code = run(req["program"], base64.b64decode(req["input"]))
        blob = json.dumps({"stdout": out, "stderr": err, "code": code}).encode()
        dst.write(struct.pack(">Q", len(blob)) + blob)
        dst.flush()


def client(conn, token):
    with conn, conn.makefile("rb") as src, conn.makefile("wb") as dst:
        try:
            if hmac.compare_digest(frame(src), token):
                serve(src, dst)
        except (Closed, OSError, ValueError):
            pass


def listen(port, token_file):
    os.chdir("/")
    os.environ.update(HOME="/root", LANG="C.UTF-8", PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    with open(token_file, "rb") as f:
        token = f.read().strip()
    lsock = socket.create_server(("127.0.0.1", port))
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=client, args=(conn, token), daemon=True).start()


def main():
    if sys.argv[1:2] == ["--listen"]:
        listen(int(sys.argv[2]), sys.argv[3])
    else:
        try:
            serve(sys.stdin.buffer, sys.stdout.buffer)
        except Closed:
            pass


if __name__ == "__main__":
    main()
