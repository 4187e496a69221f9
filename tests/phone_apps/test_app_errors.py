"""The phone's web apps when their server is not there: an error screen or a red line over
what they showed, never a crash; and they start like every app (launcher icon, ``am start``,
``monkey``)."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from emulator.sim.accounts import ACCOUNTS_PATH
from emulator.sim.phone import Phone
from emulator.sim.shell import Shell

APPS = {
    "world.clawrig.bank": ("bank", "Bank", ".MainActivity"),
    "world.clawrig.shop": ("shop", "Shop", ".MainActivity"),
    "world.clawrig.parcels": ("parcels", "Parcels", ".MainActivity"),
    "world.clawrig.chat": ("chat", "Chat", ".features.home.HomeActivity"),
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


@pytest.fixture
def phone(tmp_path) -> Iterator[Phone]:
    with Phone(tmp_path / "phone", adb_port=0, console_port=0) as p:
        yield p


def _provision(phone: Phone, accounts: dict) -> None:
    import json

    phone.ctx.vfs.mkdir(ACCOUNTS_PATH.rsplit("/", 1)[0])
    phone.ctx.vfs.write_bytes(ACCOUNTS_PATH, json.dumps(accounts).encode())


def _nodes(phone: Phone) -> list[dict[str, str]]:
    root = ET.fromstring(phone.ctx.ui.hierarchy_xml().encode("utf-8"))
    return [dict(n.attrib) for n in root.iter("node")]


def _texts(phone: Phone) -> list[str]:
    return [n["text"] for n in _nodes(phone) if n.get("text")]


def _tap(phone: Phone, **want: str) -> None:
    for n in _nodes(phone):
        if all(
            (n.get("resource-id", "").endswith(v) if k == "rid" else n.get(k) == v)
            for k, v in want.items()
        ):
            x1, y1, x2, y2 = (int(v) for v in re.findall(r"\d+", n["bounds"]))
            phone.ctx.ui.tap((x1 + x2) // 2, (y1 + y2) // 2)
            return
    raise AssertionError(f"nothing matches {want}: {_texts(phone)}")


def test_each_app_without_a_server_shows_an_error_screen_and_retries(phone, caplog):
    port = _closed_port()
    _provision(
        phone,
        {
            kind: {"url": f"http://10.0.2.2:{port}", "user": "maya", "password": "pw"}
            for kind, _label, _activity in APPS.values()
        },
    )
    shell = Shell(phone.ctx)
    for pkg, (_kind, label, activity) in APPS.items():
        status, out, _err = shell.capture(f"am start -n {pkg}/{activity}")
        assert status == 0, out
        assert phone.ctx.ui.focus() == (pkg, pkg + activity)
        texts = _texts(phone)
        assert f"Can't load {label}" in texts, texts
        assert any("Can't reach" in t and "Connection refused" in t for t in texts), texts
        _tap(phone, text="Try again")  # still no server: the same screen, the app still up
        assert phone.ctx.ui.focus()[0] == pkg and f"Can't load {label}" in _texts(phone)
        shell.capture("input keyevent 3")
    assert "crashed" not in caplog.text


def test_the_apps_are_on_the_launcher_and_start_by_package(phone):
    shell = Shell(phone.ctx)
    labels = set(_texts(phone))
    assert {"Bank", "Shop", "Parcels", "Chat"} <= labels
    _tap(phone, text="Parcels")
    assert phone.ctx.ui.focus() == ("world.clawrig.parcels", "world.clawrig.parcels.MainActivity")
    assert "No Parcels account is set up" in _texts(phone)
    status, out, _err = shell.capture(
        "monkey -p world.clawrig.chat -c android.intent.category.LAUNCHER 1"
    )
    assert status == 0 and phone.ctx.ui.focus()[0] == "world.clawrig.chat", out
    assert b"package:world.clawrig.bank" in shell.capture("pm list packages bank")[1]


def test_a_server_gone_mid_use_leaves_what_was_shown_with_a_red_line(phone, tmp_path, caplog):
    from emulator.service_accounts import accounts_file
    from rig.service_clients import web_access
    from rig.services.stack import ServiceStack
    from tests.services.conftest import NOW, accounts
    from tests.services.test_web import STREAM, seeded

    stack = ServiceStack(["bank"], tmp_path / "svc", NOW, accounts())
    stack.start()
    try:
        seeded(stack, [e for e in STREAM if e["kind"] == "bank.transaction"])
        phone.ctx.vfs.mkdir(ACCOUNTS_PATH.rsplit("/", 1)[0])
        phone.ctx.vfs.write_bytes(ACCOUNTS_PATH, accounts_file(web_access(stack.services)))
        phone.ctx.ui.start("world.clawrig.bank")
        assert "3,064.80 EUR" in _texts(phone)
    finally:
        stack.stop()
    ui = phone.ctx.ui
    ui.swipe(540, 600, 540, 1600, 400)  # pull to refresh: the server is gone
    texts = _texts(phone)
    assert "3,064.80 EUR" in texts  # the last copy stays on screen
    assert any(t.startswith("Can't reach the bank") for t in texts), texts
    _tap(phone, text="Transfer")
    for rid, text in (("payee", "Lena"), ("iban", "DE02120300000000202051"), ("amount", "5")):
        _tap(phone, rid=rid)
        ui.text(text)
    _tap(phone, text="Send money")
    assert ui.focus()[0] == "world.clawrig.bank"
    assert any(t.startswith("Can't reach the bank") for t in _texts(phone))
    assert "crashed" not in caplog.text
