"""A task that declares services: the episode starts, seeds, records and stops them."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from hostproc.labels import labelled_processes
from rig.agents.noop import NoopAgent
from rig.config import RigConfig
from rig.episode import Episode, run_episode
from rig.services.stack import LABEL
from tasks.folder import load_task

FIXTURE = Path(__file__).parent / "fixtures" / "mail-world"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(autouse=True)
def private_adb(monkeypatch):
    from emulator.adb import AdbServer

    server = AdbServer.private()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    yield
    server.kill()


def _my_hosts() -> list[int]:
    return [h.pid for h in labelled_processes(LABEL) if h.owner_pid == os.getpid()]


def test_episode_seeds_records_and_stops_its_services(tmp_path):
    out = tmp_path / "ep"
    result = run_episode(load_task(FIXTURE), NoopAgent(), RigConfig(), out)
    assert result.ran and not result.passed, result.infra_error or result.error
    services = json.loads((out / "services.json").read_text())
    assert set(services) == {"mail", "calendar", "contacts"}
    assert "password" not in json.dumps(services)
    mail = json.loads((out / "seed" / "service-mail-digest.json").read_text())
    assert mail["messages"] == 1
    cal = json.loads((out / "seed" / "service-calendar-digest.json").read_text())
    assert cal["objects"] == 1 and cal["round_trips"] == 2
    plan = json.loads((out / "seed" / "service-mail-plan.json").read_text())
    assert plan["messages"][0]["message_id"] == "<physio-1@praxis.example>"
    assert "RRULE:FREQ=WEEKLY;COUNT=4" in (out / "seed" / "service-calendar-plan.ics").read_text()
    assert "Praxis Brandt" in (out / "seed" / "service-contacts-plan.vcf").read_text()
    skipped = json.loads((out / "seed" / "skipped.json").read_text())
    assert skipped["skipped"] == {}
    for name in ("mail", "calendar", "contacts"):
        assert (out / "services" / name / "audit.jsonl").stat().st_size > 0
    # The phone's first sync came in on the phone's own port: the audit names the role.
    audit = (out / "services" / "calendar" / "audit.jsonl").read_text().splitlines()
    assert any(json.loads(line)["client"] == "phone" for line in audit)
    inbox = out / "services" / "mail" / "maildir" / "user" / "INBOX" / "new"
    assert len(list(inbox.iterdir())) == 1  # the state stays in the record
    assert _my_hosts() == []


def test_a_service_killed_mid_episode_ends_it_as_infra_error(tmp_path):
    episode = Episode(load_task(FIXTURE), RigConfig(), tmp_path / "ep")
    try:
        env = episode.setup()
        env.step({"action": "answer", "text": "Praxis Brandt"})
        os.kill(episode.world.services["mail"].stack.ports["mail"]["dovecot_pid"], signal.SIGKILL)
        result = episode.finish()
    except Exception as exc:
        result = episode.fail(exc)
    finally:
        episode.close()
    assert result.infra_error and "service mail" in result.infra_error
    assert not result.passed
    assert _my_hosts() == []


def test_episode_with_web_services_seeds_scores_and_records_them(tmp_path):
    out = tmp_path / "ep"
    task = load_task(Path(__file__).parent / "fixtures" / "bank-world")
    result = run_episode(task, NoopAgent(), RigConfig(), out)
    assert result.ran and not result.passed, result.infra_error or result.error
    services = json.loads((out / "services.json").read_text())
    assert set(services) == {"bank", "shop", "parcels", "chat"}
    assert "password" not in json.dumps(services)
    chat = json.loads((out / "seed" / "service-chat-digest.json").read_text())
    assert chat["messages"] == 1 and chat["rooms"] == 1
    plan = json.loads((out / "seed" / "service-chat-plan.json").read_text())
    assert plan["messages"][0]["body"] == 'Hat der Klempner "endlich" geschickt? 🔧'
    bank = json.loads((out / "seed" / "service-bank-digest.json").read_text())
    assert bank["rows"] == {"accounts": 1, "transactions": 1, "payees": 1}
    assert bank["round_trips"] == 2
    skipped = json.loads((out / "seed" / "skipped.json").read_text())
    assert skipped["skipped"] == {}
    checks = {c["kind"]: c["passed"] for c in result.checks}
    assert checks == {"message": False, "service_rows": True}  # the noop agent said nothing
    assert all(s["passed"] for s in result.safety), result.safety
    for name in ("bank", "shop", "parcels"):
        assert (out / "services" / name / f"{name}.sqlite3").stat().st_size > 0
