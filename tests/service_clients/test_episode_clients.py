"""An episode of a task with services: after seeding, the phone's own apps show the seeded
mail, event and contact (the accounts were handed over like a person sets a phone up)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rig.config import RigConfig
from rig.episode import Episode
from tasks.folder import load_task
from tests.service_clients import ui

FIXTURE = Path(__file__).parents[1] / "services" / "fixtures" / "mail-world"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(autouse=True)
def private_adb(monkeypatch):
    from emulator.adb import AdbServer

    server = AdbServer.private()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    yield
    server.kill()


def test_the_phone_shows_what_was_seeded_into_the_services(tmp_path):
    out = tmp_path / "ep"
    episode = Episode(load_task(FIXTURE), RigConfig(), out)
    try:
        episode.setup()
        phone = episode.world["phone"]
        password = episode.world.services["mail"].account.password
        phone.launch("com.android.email")
        ui.tap(phone, contains="Ihr Termin: Physio am Donnerstag 😀")
        assert "Guten Tag,\nIhr Termin ist am Donnerstag um 08:15." in ui.texts(phone)
        events = phone.read_state(
            {
                "kind": "provider",
                "uri": "content://com.android.calendar/events",
                "projection": ["title", "rrule", "eventTimezone"],
            }
        )
        assert [(e["title"], e["rrule"]) for e in events] == [("Physio", "FREQ=WEEKLY;COUNT=4")]
        assert [c.name for c in phone.read_state({"kind": "contacts"})] == ["Praxis Brandt"]
        clients = json.loads((out / "seed" / "service-clients.json").read_text())
        assert clients["phone"]["synced"] is True
    finally:
        episode.close()
    # The phone's copy of its accounts file is in the record, its password masked.
    copies = list((out / "devices").rglob("accounts.json"))
    assert copies and all(password not in p.read_text() for p in copies)
