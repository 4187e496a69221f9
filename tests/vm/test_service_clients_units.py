"""The laptop's service-client plumbing without a VM: the per-connection port map and configs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from linux_vm.qemu import SERVICE_ADDR, QemuProcess, VMSpec
from linux_vm.service_clients import GUEST_PORTS, MAP_FILE, config_files, connect

RELAY = Path(__file__).parents[2] / "linux_vm" / "relay.py"


def _relay(args: list[str], payload: bytes) -> tuple[int, bytes]:
    guest, qemu_side = socket.socketpair()
    proc = subprocess.Popen(
        [sys.executable, str(RELAY), *args], stdin=qemu_side.fileno(), stdout=qemu_side.fileno()
    )
    qemu_side.close()
    guest.sendall(payload)
    guest.shutdown(socket.SHUT_WR)
    reply = b""
    try:
        while chunk := guest.recv(100):
            reply += chunk
    except ConnectionResetError:  # closed with our bytes unread: closed all the same
        pass
    guest.close()
    return proc.wait(10), reply


def test_the_relay_looks_the_port_up_when_the_connection_opens(tmp_path: Path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())

    threading.Thread(target=serve, daemon=True).start()
    mapping = tmp_path / MAP_FILE
    # No map yet: the guest's connection is closed at once, nothing is dialled.
    assert _relay(["--map", str(mapping), "143"], b"x") == (1, b"")
    connect(tmp_path, {("mail", "imap"): server.getsockname()[1]})
    assert json.loads(mapping.read_text()) == {"143": server.getsockname()[1]}
    assert _relay(["--map", str(mapping), "143"], b"a1 noop") == (0, b"A1 NOOP")
    # A port the world has no service for stays closed.
    assert _relay(["--map", str(mapping), "587"], b"x") == (1, b"")
    server.close()


def test_connect_refuses_a_service_without_a_guest_port(tmp_path: Path):
    with pytest.raises(ValueError, match="no guest port"):
        connect(tmp_path, {("fax", "http"): 8008})


def test_every_vm_forwards_the_service_ports_through_the_map(tmp_path: Path):
    spec = VMSpec(Path("/k"), Path("/i"), Path("/d"), tmp_path / "vm, dir", forwards={8025: 9})
    net = next(a for a in QemuProcess(spec).command(2222) if a.startswith("user,"))
    for port in GUEST_PORTS.values():
        assert f"guestfwd=tcp:{SERVICE_ADDR}:{port}-cmd:" in net
    assert f"--map '{tmp_path}/vm,, dir/services.json' 143" in net  # quoted, comma doubled
    assert net.count("guestfwd=") == len(GUEST_PORTS) + 1


def test_configs_quote_what_a_persona_may_hold():
    access = {
        "mail": {"user": "maya", "password": 'p"w\\x', "address": "m@x.org", "name": 'Maya "M"'},
        "calendar": {"user": "maya", "password": "p", "path": "/maya/calendar/"},
    }
    files = config_files(access, "Europe/Berlin")
    assert 'set imap_pass = "p\\"w\\\\x"' in files[".config/neomutt/neomuttrc"]
    assert 'set real_name = "Maya \\"M\\""' in files[".config/neomutt/neomuttrc"]
    assert "local_timezone = Europe/Berlin" in files[".config/khal/config"]
    assert ".config/khard/khard.conf" not in files  # no contacts service, no khard config
    assert "[pair calendar]" in files[".config/vdirsyncer/config"]
    assert "[pair contacts]" not in files[".config/vdirsyncer/config"]


def test_web_files_keep_logins_in_netrc_and_name_each_service():
    from linux_vm.service_clients import web_files

    files = web_files({"bank": {"user": "maya", "password": "pw-$x_9"}, "shop": {"user": "maya",
                       "password": "x"}})  # fmt: skip
    assert files[".netrc"].splitlines() == [
        "machine bank.clawrig.world login maya password pw-$x_9",
        "machine shop.clawrig.world login maya password x",
    ]
    assert "http://bank.clawrig.world:8081" in files["docs/bank.md"]
    assert "http://shop.clawrig.world:8082" in files["docs/shop.md"]
    assert "docs/parcels.md" not in files
