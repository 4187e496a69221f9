"""Fixtures that start a world's real services (Dovecot, aiosmtpd, Radicale) on loopback."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rig.services.base import Account
from rig.services.stack import ServiceStack

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def out_dir() -> Iterator[Path]:
    """An episode-like folder another uid can traverse (as a real run's out folder is)."""
    path = Path(tempfile.mkdtemp(prefix="clawrig-test-svc-"))
    os.chmod(path, 0o755)
    yield path / "services"
    shutil.rmtree(path, ignore_errors=True)


def accounts() -> list[Account]:
    return [
        Account("maya", ("maya.fischer@posteo.example",)),
        Account("jonas", ("jonas.fischer@mailbox.example",)),
    ]


@pytest.fixture
def stack(out_dir: Path) -> Iterator[ServiceStack]:
    with ServiceStack(["mail", "calendar", "contacts"], out_dir, NOW, accounts()) as s:
        yield s
