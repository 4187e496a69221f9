"""``rig world up``: one JSON object with working endpoints, torn down on SIGTERM, exit 0."""

from __future__ import annotations

import http.client
import imaplib
import json
import os
import signal
import subprocess
import sys
from base64 import b64encode
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from linux_vm.qemu import labelled_processes
from rig.services.stack import LABEL

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "mail-world"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def adb_port():
    from emulator.adb import AdbServer

    server = AdbServer.private()
    yield server.port
    server.kill()


def test_world_up_hands_out_endpoints_and_tears_down(tmp_path, adb_port):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ANDROID_ADB_SERVER_PORT": str(adb_port)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rig.cli",
            "world",
            "up",
            str(FIXTURE),
            "--out",
            str(tmp_path / "w"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        world = json.loads(proc.stdout.readline())
        assert world["task"] == "services-mail-world"
        assert world["devices"]["phone"]["serial"]
        mail = world["services"]["mail"]
        host, port = mail["imap"].split(":")
        conn = imaplib.IMAP4(host, int(port))
        conn.login(mail["user"], mail["password"])
        assert conn.select("INBOX")[1] == [b"1"]  # the seeded mail
        conn.logout()
        cal = world["services"]["calendar"]
        url = urlsplit(cal["url"])
        http_conn = http.client.HTTPConnection(url.hostname, url.port)
        token = b64encode(f"{cal['user']}:{cal['password']}".encode()).decode()
        http_conn.request(
            "PROPFIND", url.path, headers={"Authorization": f"Basic {token}", "Depth": "1"}
        )
        assert http_conn.getresponse().status == 207
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert [h for h in labelled_processes(LABEL) if h.owner_pid == proc.pid] == []
    assert (tmp_path / "w" / "services" / "mail" / "audit.jsonl").is_file()
