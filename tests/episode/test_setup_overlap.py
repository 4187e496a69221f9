"""Setting a world up: the services' host comes up while the devices start (unless the
bank must know the phone it texts first); the real phone and servers, in one process."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hostproc.ports import free_port
from rig import world_setup
from rig.config import parse_config
from rig.episode import Episode
from rig.services.stack import ServiceStack
from tasks.folder import load_task

SUITE = Path(__file__).parents[2] / "tasks" / "suite"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def adb_port(monkeypatch):
    port = free_port()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    yield port
    subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)


def _order_of_setup(task: Path, tmp_path: Path, monkeypatch) -> list[str]:
    """What happened in which order while ``task``'s world was set up fresh."""
    seen: list[str] = []
    allocate, launch, ready = world_setup.allocate, ServiceStack.launch, ServiceStack.wait_ready

    def allocating(*args, **kwargs):
        seen.append("devices start")
        world = allocate(*args, **kwargs)
        seen.append("devices up")
        return world

    def launching(self, **kwargs):
        launch(self, **kwargs)
        alive = self.process is not None and self.process.poll() is None
        seen.append("services launched" if alive else "services not running")

    def waiting(self):
        out = ready(self)
        seen.append("services ready")
        return out

    monkeypatch.setattr(world_setup, "allocate", allocating)
    monkeypatch.setattr(ServiceStack, "launch", launching)
    monkeypatch.setattr(ServiceStack, "wait_ready", waiting)
    config = parse_config({})
    episode = Episode(load_task(task), config, tmp_path / "out")
    try:
        episode.setup()
        assert episode.world is not None and set(episode.world.services) == set(
            episode.task.services
        )
    finally:
        episode.close()
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
    return seen


def test_services_come_up_while_the_devices_start(adb_port, tmp_path, monkeypatch):
    seen = _order_of_setup(SUITE / "forward-kita-excursion-to-jonas", tmp_path, monkeypatch)
    assert seen == ["services launched", "devices start", "devices up", "services ready"]


def test_the_bank_waits_for_the_phone_it_texts(adb_port, tmp_path, monkeypatch):
    task = tmp_path / "with-bank"
    shutil.copytree(SUITE / "forward-kita-excursion-to-jonas", task)
    yaml = task / "task.yaml"
    text = yaml.read_text()
    yaml.write_text(
        text.replace(
            "services: [mail, calendar, contacts]", "services: [mail, calendar, contacts, bank]"
        )
    )
    assert yaml.read_text() != text
    seen = _order_of_setup(task, tmp_path, monkeypatch)
    assert seen == ["devices start", "devices up", "services launched", "services ready"]
    assert os.environ["ANDROID_ADB_SERVER_PORT"] == str(adb_port)
