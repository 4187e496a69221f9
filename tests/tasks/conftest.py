"""Shared fixtures for the task-format and event-stream tests: one generated stream per session."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tasks.generator import GeneratorSettings, generate
from tasks.persona import BUILTIN, load_persona

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def _rig(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rig.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture(scope="session")
def rig():
    """Run the real ``rig`` CLI in a subprocess."""
    return _rig


@pytest.fixture(scope="session")
def now():
    """The frozen now the generator tests use (a Monday morning in Berlin)."""
    return NOW


@pytest.fixture(scope="session")
def fixtures():
    return FIXTURES


@pytest.fixture(scope="session")
def maya():
    return load_persona(BUILTIN / "maya.yaml")


@pytest.fixture(scope="session")
def maya_stream(maya):
    """The 92-day stream most tests read (generated once)."""
    return generate(maya, GeneratorSettings(days=92, seed=1), NOW)
