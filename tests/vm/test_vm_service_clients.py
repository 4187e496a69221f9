"""The laptop's ordinary clients (msmtp, mbsync, khal + vdirsyncer, khard) on the world's real
services, and the phone seeing what the laptop did (and the other way round).

One restored VM, one virtual phone, one world's Dovecot/aiosmtpd/Radicale; every
step goes through the real clients and the real servers, and the audit logs show it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice
from linux_vm.service_clients import GUEST_PORTS, MAP_FILE
from rig.service_clients import connect_devices
from rig.services.stack import ServiceStack
from rig.world import World
from tests.service_clients import ui
from tests.services.conftest import NOW, accounts

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def world(fresh_vm, tmp_path: Path) -> Iterator[World]:
    from emulator.sim.phone import spawn_phone

    out = Path(tempfile.mkdtemp(prefix="clawrig-test-clients-"))
    os.chmod(out, 0o755)  # Dovecot's unprivileged user reaches the Maildirs
    server = AdbServer.private()
    proc = spawn_phone(tmp_path / "phone", size="720x1280", density=320)
    try:
        with ServiceStack(["mail", "calendar", "contacts"], out / "services", NOW, accounts()) as s:
            phone = AdbAndroidDevice(server, server.connect(proc.serial), role="phone")
            phone.set_clock(NOW, "Europe/Berlin")
            w = World(now=NOW, timezone="Europe/Berlin")
            w.add(phone)
            w.devices["laptop"] = fresh_vm
            w.services = dict(s.services)
            w.stack = s  # type: ignore[attr-defined]
            yield w
    finally:
        proc.stop()
        server.kill()
        shutil.rmtree(out, ignore_errors=True)


def _run(laptop, command: str, timeout: float = 240) -> str:
    r = laptop.exec(command, timeout=timeout)
    assert r.exit_code == 0, f"{command}: {r.stdout}{r.stderr}"
    return r.stdout


def test_laptop_and_phone_share_mail_calendar_and_contacts(world):
    laptop, phone, stack = world["laptop"], world["phone"], world.stack  # type: ignore[attr-defined]
    # Before its world says where the services are, the fixed guest ports lead nowhere.
    probe = "exec 3<>/dev/tcp/mail.clawrig.world/143 && head -c 4 <&3 || echo closed"
    assert "OK" not in laptop.exec(f"timeout 10 bash -c {shlex.quote(probe)}").stdout

    done = connect_devices(world, "Maya Fischer")
    assert done["laptop"]["synced"] and done["phone"]["synced"]
    mapped = json.loads((laptop.vm.workdir / MAP_FILE).read_text())
    assert mapped[str(GUEST_PORTS[("mail", "imap")])] == stack["mail"].imap_port
    assert _run(laptop, "stat -c %a ~/.msmtprc").strip() == "600"
    # neomutt reads its configuration and logs in to the mailboxes it names (plain IMAP).
    shown = laptop.exec("neomutt -Q imap_user", timeout=120)
    assert 'imap_user = "maya"' in shown.stdout + shown.stderr
    assert "failed" not in shown.stdout + shown.stderr

    # 1. The laptop sends with msmtp; the phone's Email app shows it.
    message = (
        "From: maya.fischer@posteo.example\nTo: maya.fischer@posteo.example\n"
        "Subject: Sent from the laptop 💻\nContent-Type: text/plain; charset=utf-8\n"
        'MIME-Version: 1.0\n\nKey box code is 4711 — "quoted" $HOME `x`\n'
    )
    _run(laptop, f"printf %s {shlex.quote(message)} | msmtp -t")
    sent = [m for m in stack["mail"].outbox() if m.subject == "Sent from the laptop 💻"]
    assert sent and sent[0].envelope_to == ["maya.fischer@posteo.example"]
    phone.launch("com.android.email")
    ui.tap(phone, contains="Sent from the laptop 💻")
    assert 'Key box code is 4711 — "quoted" $HOME `x`' in ui.texts(phone)
    # mbsync brings it into ~/Maildir, where today's Maildir tasks look.
    _run(laptop, "mbsync -a")
    assert "Sent from the laptop" in _run(
        laptop, "grep -rl 'Subject: Sent from' ~/Maildir/ | xargs cat"
    )

    # 2. An event made with khal appears in the phone's calendar after a sync.
    _run(laptop, "khal new 2026-03-17 10:00 11:00 'Laptop standup 日本' && vdirsyncer sync")
    assert (
        phone.shell("am broadcast -a android.intent.action.SYNC")
        .stdout.strip()
        .endswith("result=0")
    )
    rows = phone.read_state(
        {
            "kind": "provider",
            "uri": "content://com.android.calendar/events",
            "projection": ["title"],
        }
    )
    assert [r["title"] for r in rows] == ["Laptop standup 日本"]

    # 3. A contact added on the phone is in CardDAV, and khard lists it after a sync.
    phone.launch("com.android.contacts")
    ui.tap(phone, desc="Add contact")
    ui.tap(phone, rid="first_name")
    phone.type_text("Ilse")
    ui.tap(phone, rid="last_name")
    phone.type_text("Özdemir")
    ui.tap(phone, rid="phone")
    phone.type_text("+49 30 123456")
    ui.tap(phone, desc="Save")
    assert [c.name for c in stack["contacts"].contacts()] == ["Ilse Özdemir"]
    assert "Özdemir" in _run(laptop, "vdirsyncer sync && khard list")

    # 4. The audit logs saw each of them.
    mail_ops = {r["op"] for r in stack["mail"].audit()}
    assert {"SMTP DATA", "IMAP LOGIN", "IMAP UID FETCH"} <= mail_ops
    cal_puts = [r for r in stack["calendar"].audit() if r["op"] == "DAV PUT"]
    assert cal_puts and cal_puts[0]["user"] == "maya"
    assert any(r["op"] == "DAV PUT" for r in stack["contacts"].audit())
